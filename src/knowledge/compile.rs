//! From TOML text to validated [`Entry`] values, collecting every problem with its location.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use super::schema::{self, EntryRaw, FileRaw, LinkRaw, TextRaw, FORMAT_VERSION};
use super::{
    AmountRule, Entry, ExampleLocations, KnowledgeError, Link, Location, Problem, Source, Text,
};
use crate::matcher::index::prepare_pattern;
use crate::matcher::normalize::compact;

/// Byte offset to line and column (both 1-based; the column counts characters).
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, starts }
    }

    pub(crate) fn locate(&self, file: &Path, offset: usize) -> Location {
        let offset = offset.min(self.text.len());
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts[line - 1];
        let col = self
            .text
            .get(start..offset)
            .map_or(1, |s| s.chars().count() + 1);
        Location {
            file: file.to_path_buf(),
            line,
            col,
        }
    }
}

/// Finds the `id = "..."` of the `[[entry]]` table that contains `offset`, for parse errors
/// that serde reports before any entry exists as a value.
fn entry_id_near(text: &str, offset: usize) -> Option<String> {
    // Include a header that starts exactly at `offset` (serde points missing fields there).
    let before = text.get(..(offset + "[[entry]]".len()).min(text.len()))?;
    let header = before.rfind("[[entry]]")?;
    let rest = &text[header..];
    let end = rest[9..].find("[[entry]]").map_or(rest.len(), |i| i + 9);
    rest[..end].lines().find_map(|line| {
        let line = line.trim();
        let value = line
            .strip_prefix("id")?
            .trim_start()
            .strip_prefix('=')?
            .trim();
        let value = value.strip_prefix('"')?;
        Some(value[..value.find('"')?].to_string())
    })
}

struct FileCtx<'a> {
    name: &'a Path,
    lines: LineIndex<'a>,
    problems: &'a mut Vec<Problem>,
}

impl FileCtx<'_> {
    fn report(&mut self, span: Range<usize>, entry: Option<&str>, message: impl Into<String>) {
        self.problems.push(Problem {
            location: self.lines.locate(self.name, span.start),
            entry: entry.map(str::to_string),
            message: message.into(),
        });
    }
}

/// Compiles every source, or returns every problem found in all of them.
pub(super) fn compile(sources: &[Source]) -> Result<Vec<Entry>, KnowledgeError> {
    let mut problems = Vec::new();
    let mut entries = Vec::new();
    for source in sources {
        compile_file(source, &mut entries, &mut problems);
    }
    cross_entry_checks(&entries, &mut problems);
    if problems.is_empty() {
        Ok(entries)
    } else {
        Err(KnowledgeError::Invalid(problems))
    }
}

fn compile_file(source: &Source, entries: &mut Vec<Entry>, problems: &mut Vec<Problem>) {
    let text = match std::str::from_utf8(&source.bytes) {
        Ok(t) => t,
        Err(e) => {
            let good = std::str::from_utf8(&source.bytes[..e.valid_up_to()]).unwrap_or("");
            let location = LineIndex::new(good).locate(&source.name, good.len());
            problems.push(Problem {
                location,
                entry: None,
                message: format!(
                    "the file is not valid UTF-8 (bad byte at offset {}); save it as UTF-8",
                    e.valid_up_to()
                ),
            });
            return;
        }
    };
    let mut ctx = FileCtx {
        name: &source.name,
        lines: LineIndex::new(text),
        problems,
    };
    let raw: FileRaw = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let span = e.span().unwrap_or(0..0);
            let id = entry_id_near(text, span.start);
            let message = e.message().trim().replace('\n', " ");
            let hint = if message.starts_with("unknown field") {
                "; see knowledge/README.md for the keys an entry takes"
            } else if message.starts_with("missing field") {
                "; add it (see knowledge/README.md)"
            } else {
                ""
            };
            ctx.report(span, id.as_deref(), format!("{message}{hint}"));
            return;
        }
    };
    if *raw.format_version.get_ref() != FORMAT_VERSION {
        ctx.report(
            raw.format_version.span(),
            None,
            format!(
                "format_version {} is not supported by this kotae (it reads {FORMAT_VERSION})",
                raw.format_version.get_ref()
            ),
        );
        return;
    }
    if raw.entries.is_empty() {
        ctx.report(0..0, None, "the file has no [[entry]] tables");
    }
    for spanned in raw.entries {
        let span = spanned.span();
        if let Some(entry) = compile_entry(&mut ctx, span, spanned.into_inner()) {
            entries.push(entry);
        }
    }
}

fn text(ctx: &mut FileCtx, span: &Range<usize>, id: &str, what: &str, raw: TextRaw) -> Text {
    if raw.ja.trim().is_empty() {
        ctx.report(
            span.clone(),
            Some(id),
            format!("{what}: `ja` is empty; Japanese text is required"),
        );
    }
    let en = raw.en.filter(|e| !e.trim().is_empty());
    Text { ja: raw.ja, en }
}

fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id.split('-').all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Returns why `url` is not an acceptable link, or None.
pub(crate) fn url_problem(url: &str) -> Option<String> {
    let Some(rest) = url.strip_prefix("https://") else {
        return Some(format!(
            "link `{url}` is not https: official links must start with https://"
        ));
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || !host.contains('.') {
        return Some(format!("link `{url}` has no host name"));
    }
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some(format!(
            "link `{url}` contains white space; percent-encode it"
        ));
    }
    None
}

fn compile_entry(ctx: &mut FileCtx, span: Range<usize>, raw: EntryRaw) -> Option<Entry> {
    let id = raw.id.get_ref().clone();
    let id_span = raw.id.span();
    if !is_valid_id(&id) {
        ctx.report(
            id_span.clone(),
            Some(&id),
            "the id must be lowercase letters and digits joined by single hyphens (at most 64), e.g. `jalpay-session-timeout`",
        );
    }
    let title = text(ctx, &span, &id, "title", raw.title);
    let cause = text(ctx, &span, &id, "cause", raw.cause);
    let steps: Vec<Text> = raw
        .steps
        .into_iter()
        .map(|t| text(ctx, &span, &id, "a step", t))
        .collect();
    let notes: Vec<Text> = raw
        .notes
        .into_iter()
        .map(|t| text(ctx, &span, &id, "a note", t))
        .collect();
    if raw.services.is_empty() {
        ctx.report(
            span.clone(),
            Some(&id),
            "`services` is empty; name at least one service",
        );
    }

    let mut codes = Vec::new();
    for code in &raw.codes {
        let c = code.get_ref().trim();
        let folded = compact(c);
        if folded.is_empty()
            || !folded
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            ctx.report(
                code.span(),
                Some(&id),
                format!("code `{c}` must be letters, digits, `-` or `_` (a code, not a phrase: put phrases in `patterns`)"),
            );
        }
        codes.push(c.to_string());
    }

    let mut patterns = Vec::new();
    for p in &raw.patterns {
        if let Err(why) = prepare_pattern(p.get_ref()) {
            ctx.report(
                p.span(),
                Some(&id),
                format!("pattern `{}` {why}", p.get_ref()),
            );
        }
        patterns.push(p.get_ref().clone());
    }
    let mut family_patterns = Vec::new();
    for p in &raw.family_patterns {
        if let Err(why) = prepare_pattern(p.get_ref()) {
            ctx.report(
                p.span(),
                Some(&id),
                format!("family pattern `{}` {why}", p.get_ref()),
            );
        }
        family_patterns.push(p.get_ref().clone());
    }

    let mut keywords = Vec::new();
    for k in &raw.keywords {
        let group: Vec<String> = k
            .get_ref()
            .split('|')
            .map(compact)
            .filter(|s| !s.is_empty())
            .collect();
        if group.is_empty() {
            ctx.report(
                k.span(),
                Some(&id),
                "an empty keyword; write words separated by `|`, e.g. \"jalpay|jalペイ\"",
            );
            continue;
        }
        if let Some(bad) = group
            .iter()
            .find(|w| w.starts_with('@') && *w != crate::matcher::index::FAILURE_GROUP)
        {
            ctx.report(
                k.span(),
                Some(&id),
                format!(
                    "unknown shared keyword `{bad}`; the one there is is `{}` (every failure word: エラー, 失敗, できない and their forms)",
                    crate::matcher::index::FAILURE_GROUP
                ),
            );
            continue;
        }
        keywords.push(group);
    }

    let mut links = Vec::new();
    for l in raw.links {
        let lspan = l.span();
        let LinkRaw {
            title,
            url,
            where_,
            aliases,
        } = l.into_inner();
        let title = text(ctx, &lspan, &id, "a link title", title);
        let url = url.map(|u| {
            if let Some(why) = url_problem(u.get_ref()) {
                ctx.report(u.span(), Some(&id), why);
            }
            u.into_inner()
        });
        let where_ = where_.map(|w| text(ctx, &lspan, &id, "a link's `where`", w));
        if url.is_none() && where_.is_none() {
            ctx.report(
                lspan.clone(),
                Some(&id),
                format!(
                    "link \"{}\" has neither `url` nor `where`; give the URL, or say where the page lives if the source gives none",
                    title.ja
                ),
            );
        }
        let aliases: Vec<String> = aliases
            .iter()
            .map(|a| compact(a))
            .filter(|a| !a.is_empty())
            .collect();
        links.push(Link {
            title,
            url,
            where_,
            aliases,
        });
    }

    let has_aliases = links.iter().any(|l| !l.aliases.is_empty());
    let groups = keywords.len() + usize::from(has_aliases);
    let min_keywords = match &raw.min_keywords {
        Some(m) => {
            let n = *m.get_ref() as usize;
            if n == 0 || n > groups.max(1) {
                ctx.report(
                    m.span(),
                    Some(&id),
                    format!("min_keywords = {n} but the entry has {groups} keyword group(s); use 1 to {}", groups.max(1)),
                );
            }
            n.max(1)
        }
        None => 2.min(groups.max(1)),
    };

    if codes.is_empty() && patterns.is_empty() && family_patterns.is_empty() && groups == 0 {
        ctx.report(
            span.clone(),
            Some(&id),
            "the entry has nothing to match: add `codes`, `patterns` or `keywords`",
        );
    }

    let amount_rule = raw.amount_rule.map(|r: schema::AmountRuleRaw| AmountRule {
        threshold_jpy: r.threshold_jpy,
        at_or_under: text(ctx, &span, &id, "amount_rule.at_or_under", r.at_or_under),
        above: text(ctx, &span, &id, "amount_rule.above", r.above),
    });

    let verified = raw.verified.get_ref();
    let verified_text = match (&verified.date, &verified.time) {
        (Some(d), None) => d.to_string(),
        _ => {
            ctx.report(
                raw.verified.span(),
                Some(&id),
                "`verified` must be a plain date such as 2025-12-28 (no time, no quotes)",
            );
            verified.to_string()
        }
    };
    if raw.sources.iter().all(|s| s.trim().is_empty()) {
        ctx.report(
            span.clone(),
            Some(&id),
            "`sources` is empty; say which document the facts come from",
        );
    }
    if raw.examples.is_empty() && raw.queries.is_empty() {
        ctx.report(
            span.clone(),
            Some(&id),
            "the entry has no `examples` or `queries`; add a pasted text that must answer with it",
        );
    }

    let location = ctx.lines.locate(ctx.name, span.start);
    let locate_all = |v: &[toml::Spanned<String>]| -> Vec<Location> {
        v.iter()
            .map(|s| ctx.lines.locate(ctx.name, s.span().start))
            .collect()
    };
    let example_locations = ExampleLocations {
        examples: locate_all(&raw.examples),
        queries: locate_all(&raw.queries),
        counter_examples: locate_all(&raw.counter_examples),
    };
    Some(Entry {
        id,
        title,
        services: raw.services,
        codes,
        patterns,
        family_patterns,
        keywords,
        min_keywords,
        cause,
        steps,
        notes,
        links,
        amount_rule,
        examples: raw.examples.into_iter().map(|s| s.into_inner()).collect(),
        queries: raw.queries.into_iter().map(|s| s.into_inner()).collect(),
        counter_examples: raw
            .counter_examples
            .into_iter()
            .map(|s| s.into_inner())
            .collect(),
        verified: verified_text,
        sources: raw.sources,
        location,
        example_locations,
    })
}

/// Checks that need every entry: duplicate ids and codes claimed twice.
fn cross_entry_checks(entries: &[Entry], problems: &mut Vec<Problem>) {
    let mut ids: HashMap<&str, &Entry> = HashMap::new();
    let mut codes: HashMap<String, &Entry> = HashMap::new();
    for e in entries {
        if let Some(first) = ids.insert(&e.id, e) {
            problems.push(Problem {
                location: e.location.clone(),
                entry: Some(e.id.clone()),
                message: format!(
                    "duplicate id: already used at {}; ids must be unique across all files",
                    first.location
                ),
            });
            continue;
        }
        for c in &e.codes {
            if let Some(other) = codes.insert(compact(c), e) {
                if other.id != e.id {
                    problems.push(Problem {
                        location: e.location.clone(),
                        entry: Some(e.id.clone()),
                        message: format!(
                            "code `{c}` is also listed by entry {}; a code must belong to one entry",
                            other.id
                        ),
                    });
                }
            }
        }
    }
}

/// Validation for entries built in code (no file, no spans): the checks that keep the index
/// sound.
pub(super) fn validate_entries(entries: &[Entry]) -> Result<(), KnowledgeError> {
    let mut problems = Vec::new();
    for e in entries {
        for p in e.patterns.iter().chain(&e.family_patterns) {
            if let Err(why) = prepare_pattern(p) {
                problems.push(Problem {
                    location: e.location.clone(),
                    entry: Some(e.id.clone()),
                    message: format!("pattern `{p}` {why}"),
                });
            }
        }
    }
    cross_entry_checks(entries, &mut problems);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(KnowledgeError::Invalid(problems))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let text = "a\nあいう = x\n";
        let li = LineIndex::new(text);
        let off = text.find('=').unwrap();
        let loc = li.locate(Path::new("f.toml"), off);
        assert_eq!((loc.line, loc.col), (2, 5));
        assert_eq!(li.locate(Path::new("f.toml"), 0).line, 1);
    }

    #[test]
    fn entry_id_is_found_for_a_parse_error() {
        let text = "format_version = 1\n[[entry]]\nid = \"a\"\n[[entry]]\nid = \"b-c\"\nbad = 1\n";
        let at = |needle: &str| text.find(needle).unwrap();
        assert_eq!(entry_id_near(text, at("bad")).as_deref(), Some("b-c"));
        assert_eq!(entry_id_near(text, 0).as_deref(), None);
        // serde points a missing field at the header itself.
        assert_eq!(entry_id_near(text, at("[[entry]]")).as_deref(), Some("a"));
    }

    #[test]
    fn ids_are_kebab_case() {
        assert!(is_valid_id("3ds2-auth-failed"));
        assert!(!is_valid_id("3ds2--auth"));
        assert!(!is_valid_id("Upper"));
        assert!(!is_valid_id(""));
    }

    #[test]
    fn urls_must_be_https_with_a_host() {
        assert!(url_problem("https://www.jal.co.jp/x").is_none());
        assert!(url_problem("http://www.jal.co.jp/x").is_some());
        assert!(url_problem("https:///x").is_some());
        assert!(url_problem("https://a.jp/x y").is_some());
    }
}
