//! `kotae eval`: answer quality measured on a labeled corpus, like speed is on benchmarks.
//!
//! A case is a chat message (or a `/kotae` query) and what kotae should do with it: answer
//! with an entry, or stay silent (format: `tests/corpus/README.md`). Cases are grouped into
//! sets by the folder they sit in (`dev`, `holdout`), and every figure is reported per set,
//! because a matcher tuned on one set must be judged on the other.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::matcher::Mode;
use crate::pack::Pack;

/// What went wrong reading the cases, worded for the author of the corpus.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("cannot read {path}: {message}")]
    Read { path: String, message: String },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: case {index} (line {line}): {message}")]
    Case {
        path: String,
        index: usize,
        line: usize,
        message: String,
    },
    #[error("no cases found under {0} (expected *.toml files of [[case]] tables)")]
    Empty(String),
    #[error("{0}: a holdout case; the chatter model never learns from the holdout")]
    Holdout(String),
}

/// The thresholds under which `kotae eval` fails. The defaults are the project's floor
/// (issue 12): never lower them to make a change pass.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Auto-mode recall over every positive case of a set.
    pub recall: f64,
    /// Auto-mode recall of each entry.
    pub entry_recall: f64,
    /// False auto-replies, as a share of the negative cases.
    pub false_replies: f64,
    /// Lookups whose expected entry ranks first.
    pub lookup_top1: f64,
    /// Facts (amount, card) read right, of those a case states.
    pub facts: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            recall: 0.95,
            entry_recall: 0.90,
            false_replies: 0.005,
            lookup_top1: 0.95,
            facts: 0.95,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
enum CaseMode {
    Auto,
    Lookup,
}

/// One labeled message, as written in a corpus file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    text: String,
    mode: CaseMode,
    expect: String,
    kind: String,
    why: String,
    #[serde(default)]
    amount_jpy: Option<u64>,
    #[serde(default)]
    card: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    #[serde(default)]
    case: Vec<RawCase>,
}

/// A case with where it was written.
#[derive(Debug, Clone)]
pub struct Case {
    /// The set: the name of the folder the file sits in (`dev`, `holdout`).
    pub set: String,
    /// `file:line`, for messages.
    pub at: String,
    pub text: String,
    /// True for a lookup (`/kotae` query), false for a message in a support channel.
    pub lookup: bool,
    /// An entry id, or None for "stay silent".
    pub expect: Option<String>,
    pub kind: String,
    pub why: String,
    pub amount_jpy: Option<u64>,
    pub card: Option<String>,
}

/// What `kotae train` learns the chatter veto from: every auto-mode case (a report when it
/// expects an entry, chatter when it expects silence) and every entry's examples (reports),
/// each in the normalized form the matcher scores. Refuses holdout cases: a holdout the
/// model has seen measures nothing.
pub fn training_examples(pack: &Pack, cases: &[Case]) -> Result<Vec<(String, bool)>, EvalError> {
    if let Some(c) = cases.iter().find(|c| c.set == "holdout") {
        return Err(EvalError::Holdout(c.at.clone()));
    }
    let cases = cases
        .iter()
        .filter(|c| !c.lookup)
        .map(|c| (c.text.as_str(), c.expect.is_some()));
    let examples = pack
        .entries()
        .iter()
        .flat_map(|e| e.examples.iter().map(|x| (x.as_str(), true)));
    Ok(cases
        .chain(examples)
        .map(|(text, report)| (pack.read(text).spaced, report))
        .collect())
}

/// Reads every `*.toml` case file under `paths` (files or folders, recursively, sorted).
pub fn load_cases(paths: &[PathBuf]) -> Result<Vec<Case>, EvalError> {
    let mut files = Vec::new();
    for p in paths {
        collect(p, &mut files)?;
    }
    files.sort();
    let mut cases = Vec::new();
    for file in &files {
        read_file(file, &mut cases)?;
    }
    if cases.is_empty() {
        let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
        return Err(EvalError::Empty(shown.join(", ")));
    }
    Ok(cases)
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), EvalError> {
    let read_err = |e: std::io::Error| EvalError::Read {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let meta = std::fs::metadata(path).map_err(read_err)?;
    if meta.is_dir() {
        for entry in std::fs::read_dir(path).map_err(read_err)? {
            let p = entry.map_err(read_err)?.path();
            if p.is_dir() || p.extension().is_some_and(|e| e == "toml") {
                collect(&p, out)?;
            }
        }
    } else {
        out.push(path.to_path_buf());
    }
    Ok(())
}

fn read_file(file: &Path, out: &mut Vec<Case>) -> Result<(), EvalError> {
    let name = file.display().to_string();
    let text = std::fs::read_to_string(file).map_err(|e| EvalError::Read {
        path: name.clone(),
        message: e.to_string(),
    })?;
    let parsed: CaseFile = toml::from_str(&text).map_err(|e| {
        let (line, col) = e.span().map(|s| line_col(&text, s.start)).unwrap_or((0, 0));
        EvalError::Parse {
            path: format!("{name}:{line}:{col}"),
            message: e.message().trim().to_string(),
        }
    })?;
    let set = file
        .parent()
        .and_then(|p| p.file_name())
        .map_or_else(|| "cases".to_string(), |n| n.to_string_lossy().into_owned());
    let lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == "[[case]]")
        .map(|(i, _)| i + 1)
        .collect();
    for (i, c) in parsed.case.into_iter().enumerate() {
        let line = lines.get(i).copied().unwrap_or(0);
        let bad = |message: String| EvalError::Case {
            path: name.clone(),
            index: i + 1,
            line,
            message,
        };
        let expect = match c.expect.as_str() {
            "silent" if c.mode == CaseMode::Lookup => {
                return Err(bad(
                    "expect = \"silent\" is only for mode = \"auto\"; a lookup names the entry that should rank first".into(),
                ))
            }
            "silent" => None,
            id => Some(id.to_string()),
        };
        if c.text.trim().is_empty() {
            return Err(bad("text is empty".into()));
        }
        out.push(Case {
            set: set.clone(),
            at: format!("{name}:{line}"),
            text: c.text,
            lookup: c.mode == CaseMode::Lookup,
            expect,
            kind: c.kind,
            why: c.why,
            amount_jpy: c.amount_jpy,
            card: c.card,
        });
    }
    Ok(())
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line, col)
}

/// A case kotae got wrong, with what it did instead and why.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub at: String,
    pub kind: String,
    pub text: String,
    pub expected: String,
    /// The entry kotae answered (or ranked first), or "silent".
    pub got: String,
    /// The evidence behind what kotae did.
    pub evidence: Vec<String>,
}

/// The figures of one entry in one set.
#[derive(Debug, Clone, Default, Serialize)]
pub struct EntryFigures {
    pub positives: usize,
    pub answered_right: usize,
    /// Auto replies with this entry, right or wrong.
    pub replies: usize,
    pub lookups: usize,
    pub top1: usize,
    pub top3: usize,
}

impl EntryFigures {
    pub fn recall(&self) -> Option<f64> {
        ratio(self.answered_right, self.positives)
    }
    pub fn precision(&self) -> Option<f64> {
        ratio(self.answered_right, self.replies)
    }
}

/// The figures of one set of cases.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SetReport {
    pub set: String,
    pub cases: usize,
    pub positives: usize,
    pub answered_right: usize,
    pub negatives: usize,
    pub lookups: usize,
    pub top1: usize,
    pub top3: usize,
    pub facts_stated: usize,
    pub facts_right: usize,
    pub entries: BTreeMap<String, EntryFigures>,
    /// (expected, got) -> how often, for auto answers and lookups that went elsewhere.
    pub confusion: BTreeMap<String, usize>,
    pub false_replies: Vec<Failure>,
    pub misses: Vec<Failure>,
    pub lookup_misses: Vec<Failure>,
    pub fact_misses: Vec<Failure>,
    /// Ids the cases expect that the pack does not have.
    pub unknown_ids: Vec<String>,
}

fn ratio(n: usize, d: usize) -> Option<f64> {
    (d > 0).then(|| n as f64 / d as f64)
}

impl SetReport {
    pub fn recall(&self) -> Option<f64> {
        ratio(self.answered_right, self.positives)
    }
    pub fn precision(&self) -> Option<f64> {
        let replies = self.answered_right
            + self.false_replies.len()
            + self.misses.iter().filter(|m| m.got != "silent").count();
        ratio(self.answered_right, replies)
    }
    pub fn false_reply_rate(&self) -> Option<f64> {
        ratio(self.false_replies.len(), self.negatives)
    }
    pub fn top1(&self) -> Option<f64> {
        ratio(self.top1, self.lookups)
    }
    pub fn top3(&self) -> Option<f64> {
        ratio(self.top3, self.lookups)
    }
    pub fn facts(&self) -> Option<f64> {
        ratio(self.facts_right, self.facts_stated)
    }

    /// What falls short of `t`, one line each; empty when the set passes.
    pub fn shortfalls(&self, t: &Thresholds) -> Vec<String> {
        let mut out = Vec::new();
        let pct = |x: f64| format!("{:.1}%", x * 100.0);
        if let Some(r) = self.recall().filter(|&r| r < t.recall) {
            out.push(format!(
                "{}: auto recall {} < {}",
                self.set,
                pct(r),
                pct(t.recall)
            ));
        }
        for (id, e) in &self.entries {
            if let Some(r) = e.recall().filter(|&r| r < t.entry_recall) {
                out.push(format!(
                    "{}: {id}: auto recall {} < {}",
                    self.set,
                    pct(r),
                    pct(t.entry_recall)
                ));
            }
        }
        if let Some(f) = self.false_reply_rate().filter(|&f| f > t.false_replies) {
            out.push(format!(
                "{}: false auto-replies {} > {}",
                self.set,
                pct(f),
                pct(t.false_replies)
            ));
        }
        if let Some(x) = self.top1().filter(|&x| x < t.lookup_top1) {
            out.push(format!(
                "{}: lookup top-1 {} < {}",
                self.set,
                pct(x),
                pct(t.lookup_top1)
            ));
        }
        if let Some(x) = self.facts().filter(|&x| x < t.facts) {
            out.push(format!("{}: facts {} < {}", self.set, pct(x), pct(t.facts)));
        }
        for id in &self.unknown_ids {
            out.push(format!(
                "{}: cases expect {id}, which the pack does not have",
                self.set
            ));
        }
        out
    }
}

/// Runs every case against `pack`; one report per set, in the order the sets were met.
pub fn run(pack: &Pack, cases: &[Case]) -> Vec<SetReport> {
    let mut sets: Vec<SetReport> = Vec::new();
    for case in cases {
        let i = match sets.iter().position(|s| s.set == case.set) {
            Some(i) => i,
            None => {
                sets.push(SetReport {
                    set: case.set.clone(),
                    ..SetReport::default()
                });
                sets.len() - 1
            }
        };
        score(pack, case, &mut sets[i]);
    }
    sets
}

fn evidence_of(m: &crate::matcher::Match) -> Vec<String> {
    m.evidence.iter().map(ToString::to_string).collect()
}

fn score(pack: &Pack, case: &Case, r: &mut SetReport) {
    r.cases += 1;
    if let Some(id) = &case.expect {
        if pack.entry(id).is_none() && !r.unknown_ids.contains(id) {
            r.unknown_ids.push(id.clone());
        }
    }
    let failure = |got: String, evidence: Vec<String>| Failure {
        at: case.at.clone(),
        kind: case.kind.clone(),
        text: case.text.clone(),
        expected: case.expect.clone().unwrap_or_else(|| "silent".into()),
        got,
        evidence,
    };
    if case.lookup {
        let outcome = pack.query(&case.text, Mode::Lookup);
        let expected = case.expect.clone().unwrap_or_default();
        let e = r.entries.entry(expected.clone()).or_default();
        e.lookups += 1;
        r.lookups += 1;
        let rank = outcome.matches.iter().position(|m| m.id == expected);
        if rank == Some(0) {
            e.top1 += 1;
            r.top1 += 1;
        }
        if rank.is_some_and(|k| k < 3) {
            e.top3 += 1;
            r.top3 += 1;
        }
        if rank != Some(0) {
            let (got, evidence) = outcome
                .matches
                .first()
                .map_or(("nothing".to_string(), Vec::new()), |m| {
                    (m.id.clone(), evidence_of(m))
                });
            *r.confusion
                .entry(format!("lookup {expected} -> {got}"))
                .or_default() += 1;
            r.lookup_misses.push(failure(got, evidence));
        }
        return;
    }
    let outcome = pack.query(&case.text, Mode::Auto);
    let answer = outcome.answer();
    if let Some(m) = answer {
        r.entries.entry(m.id.clone()).or_default().replies += 1;
    }
    match (&case.expect, answer) {
        (None, None) => r.negatives += 1,
        (None, Some(m)) => {
            r.negatives += 1;
            r.false_replies.push(failure(m.id.clone(), evidence_of(m)));
        }
        (Some(id), got) => {
            r.positives += 1;
            let e = r.entries.entry(id.clone()).or_default();
            e.positives += 1;
            match got {
                Some(m) if &m.id == id => {
                    e.answered_right += 1;
                    r.answered_right += 1;
                }
                Some(m) => {
                    *r.confusion
                        .entry(format!("auto {id} -> {}", m.id))
                        .or_default() += 1;
                    r.misses.push(failure(m.id.clone(), evidence_of(m)));
                }
                None => {
                    *r.confusion
                        .entry(format!("auto {id} -> silent"))
                        .or_default() += 1;
                    let lookup = pack.query(&case.text, Mode::Lookup);
                    let mut evidence: Vec<String> =
                        outcome.judgement.explain().into_iter().collect();
                    if let Some(m) = lookup.matches.first() {
                        evidence.push(format!("best lookup candidate: {}", m.id));
                        evidence.extend(evidence_of(m));
                    }
                    r.misses.push(failure("silent".into(), evidence));
                }
            }
        }
    }
    // Facts are read the same way `kotae ask --json` shows them.
    let facts = serde_json::to_value(&outcome.facts).unwrap_or_default();
    let stated = [
        ("amount_jpy", case.amount_jpy.map(serde_json::Value::from)),
        ("card", case.card.clone().map(serde_json::Value::from)),
    ];
    for (key, want) in stated {
        let Some(want) = want else { continue };
        r.facts_stated += 1;
        let got = facts.get(key).cloned().unwrap_or(serde_json::Value::Null);
        if got == want {
            r.facts_right += 1;
        } else {
            r.fact_misses.push(Failure {
                at: case.at.clone(),
                kind: case.kind.clone(),
                text: case.text.clone(),
                expected: format!("{key} = {want}"),
                got: format!("{key} = {got}"),
                evidence: Vec::new(),
            });
        }
    }
}

/// The set whose failures are not printed unless asked: reading them while tuning would
/// turn it into a second dev set.
pub const HOLDOUT: &str = "holdout";

/// The report as text: figures per set and per entry, then (except for the holdout unless
/// `show_holdout`) every false auto-reply, miss and lookup miss with its evidence.
pub fn render(sets: &[SetReport], t: &Thresholds, show_holdout: bool) -> String {
    let mut out = String::new();
    let pct = |x: Option<f64>| x.map_or("-".to_string(), |x| format!("{:.1}%", x * 100.0));
    for s in sets {
        let _ = writeln!(
            out,
            "== {}: {} cases ({} positives, {} negatives, {} lookups)",
            s.set, s.cases, s.positives, s.negatives, s.lookups
        );
        let _ = writeln!(
            out,
            "auto recall {} ({}/{})  precision {}  false auto-replies {} ({}/{})  lookup top-1 {} top-3 {}  facts {} ({}/{})",
            pct(s.recall()),
            s.answered_right,
            s.positives,
            pct(s.precision()),
            pct(s.false_reply_rate()),
            s.false_replies.len(),
            s.negatives,
            pct(s.top1()),
            pct(s.top3()),
            pct(s.facts()),
            s.facts_right,
            s.facts_stated,
        );
        let _ = writeln!(
            out,
            "  {:<40} {:>14} {:>10} {:>12} {:>7}",
            "entry", "recall", "precision", "lookup top-1", "top-3"
        );
        for (id, e) in &s.entries {
            let _ = writeln!(
                out,
                "  {:<40} {:>7} {:>6} {:>10} {:>7} {:>4} {:>7}",
                id,
                pct(e.recall()),
                format!("{}/{}", e.answered_right, e.positives),
                pct(e.precision()),
                pct(ratio(e.top1, e.lookups)),
                format!("{}/{}", e.top1, e.lookups),
                pct(ratio(e.top3, e.lookups)),
            );
        }
        if s.set == HOLDOUT && !show_holdout {
            let _ = writeln!(
                out,
                "  ({} false auto-replies, {} misses, {} lookup misses, {} fact misses: not listed for the holdout; --show-holdout lists them)",
                s.false_replies.len(),
                s.misses.len(),
                s.lookup_misses.len(),
                s.fact_misses.len()
            );
        } else {
            let lists = [
                ("false auto-replies", &s.false_replies),
                ("misses (auto)", &s.misses),
                ("lookup misses", &s.lookup_misses),
                ("fact misses", &s.fact_misses),
            ];
            for (title, list) in lists {
                if list.is_empty() {
                    continue;
                }
                let _ = writeln!(out, "  {title}:");
                for f in list {
                    let text: String = f.text.replace('\n', "⏎").chars().take(100).collect();
                    let _ = writeln!(
                        out,
                        "    {} [{}] {:?}: expected {}, got {}",
                        f.at, f.kind, text, f.expected, f.got
                    );
                    if !f.evidence.is_empty() {
                        let _ = writeln!(out, "      evidence: {}", f.evidence.join("; "));
                    }
                }
            }
            if !s.confusion.is_empty() {
                let _ = writeln!(out, "  confusion (expected -> got):");
                let mut pairs: Vec<_> = s.confusion.iter().collect();
                pairs.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
                for (pair, n) in pairs {
                    let _ = writeln!(out, "    {n:>3}  {pair}");
                }
            }
        }
        let _ = writeln!(out);
    }
    let shortfalls: Vec<String> = sets.iter().flat_map(|s| s.shortfalls(t)).collect();
    if shortfalls.is_empty() {
        let _ = writeln!(out, "eval: every set meets the thresholds");
    } else {
        let _ = writeln!(out, "eval: {} shortfall(s):", shortfalls.len());
        for s in shortfalls {
            let _ = writeln!(out, "  {s}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(set: &str, text: &str, lookup: bool, expect: Option<&str>) -> Case {
        Case {
            set: set.into(),
            at: "t.toml:1".into(),
            text: text.into(),
            lookup,
            expect: expect.map(str::to_string),
            kind: "k".into(),
            why: "w".into(),
            amount_jpy: None,
            card: None,
        }
    }

    #[test]
    fn figures_count_hits_misses_false_replies_and_lookups() {
        let pack = crate::builtin_pack().unwrap();
        let id = "jalpay-to-anapay-charge-20000";
        let mut amount = case(
            "dev",
            "JAL PayからANA Payに1万円チャージしたら MW1M01AJ0004",
            false,
            Some(id),
        );
        amount.amount_jpy = Some(10_000);
        let cases = vec![
            amount,
            case("dev", "今日はいい天気", false, Some(id)), // a miss
            case("dev", "ランチどこ行く？", false, None),   // silent, right
            case("dev", "MW1M01AJ0004", false, None),       // a false reply
            case("dev", "MW1M01AJ0004", true, Some(id)),    // lookup top-1
            case("holdout", "MW1M01AJ0004", false, Some(id)),
        ];
        let sets = run(&pack, &cases);
        assert_eq!(sets.len(), 2);
        let dev = &sets[0];
        assert_eq!((dev.positives, dev.answered_right), (2, 1));
        assert_eq!((dev.negatives, dev.false_replies.len()), (2, 1));
        assert_eq!((dev.lookups, dev.top1, dev.top3), (1, 1, 1));
        assert_eq!((dev.facts_stated, dev.facts_right), (1, 1));
        assert_eq!(dev.confusion.get(&format!("auto {id} -> silent")), Some(&1));
        assert_eq!(dev.entries[id].replies, 2);
        assert_eq!(dev.entries[id].precision(), Some(0.5));
        let short = dev.shortfalls(&Thresholds::default());
        assert!(
            short.iter().any(|s| s.contains("auto recall 50.0%")),
            "{short:?}"
        );
        assert!(
            short.iter().any(|s| s.contains("false auto-replies 50.0%")),
            "{short:?}"
        );
        assert!(sets[1].shortfalls(&Thresholds::default()).is_empty());
        let text = render(&sets, &Thresholds::default(), false);
        assert!(text.contains("今日はいい天気"), "dev misses are listed");
        assert!(text.contains("not listed for the holdout"), "{text}");
    }

    #[test]
    fn a_case_file_with_a_bad_case_names_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("dev").join("c.toml");
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(
            &f,
            "[[case]]\ntext = \"a\"\nmode = \"auto\"\nexpect = \"silent\"\nkind = \"k\"\nwhy = \"w\"\n\n[[case]]\ntext = \"b\"\nmode = \"lookup\"\nexpect = \"silent\"\nkind = \"k\"\nwhy = \"w\"\n",
        )
        .unwrap();
        let e = load_cases(&[dir.path().to_path_buf()])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("c.toml: case 2 (line 8)") && e.contains("only for mode"),
            "{e}"
        );
        std::fs::write(&f, "[[case]]\ntext = \"a\"\nmode = \"sometimes\"\n").unwrap();
        let e = load_cases(&[dir.path().to_path_buf()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("c.toml:3:"), "{e}");
        let empty = tempfile::tempdir().unwrap();
        let e = load_cases(&[empty.path().to_path_buf()])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("no cases found"), "{e}");
    }
}
