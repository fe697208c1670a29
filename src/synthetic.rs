//! Generated knowledge packs for benchmarks: realistic mixes at any size.
//!
//! Each generated entry gets an exact code, a literal phrase, and every third entry a true
//! regex, every fifth a keyword group pair, so the index is exercised the way a large real
//! pack would exercise it.

use crate::knowledge::{Entry, Location, Text, CARD_KEYWORD};

fn text(s: String) -> Text {
    Text { ja: s, en: None }
}

/// The pack of `entries(n)` as benchmarks measure it: with the shipped chatter model, so
/// that the veto's cost is counted on every message the rules would answer.
pub fn pack(n: usize) -> crate::Pack {
    let pack = crate::Pack::from_entries(entries(n)).expect("generated entries are valid");
    match crate::builtin_pack()
        .ok()
        .and_then(|b| b.chatter().cloned())
    {
        Some(model) => pack.with_chatter(model),
        None => pack,
    }
}

/// `n` entries with unique codes (`GEN00000042`), phrases and regexes.
pub fn entries(n: usize) -> Vec<Entry> {
    (0..n)
        .map(|i| {
            let mut patterns = vec![format!("生成エラー{i}番が発生しました")];
            if i % 3 == 0 {
                patterns.push(format!(r"ERR{i}-[0-9]{{3,5}}-X"));
            }
            let keywords = if i % 5 == 0 {
                vec![vec![format!("サービス{i}")], vec![format!("機能{i}")]]
            } else {
                Vec::new()
            };
            Entry {
                id: format!("gen-{i}"),
                title: text(format!("生成されたエントリ {i}")),
                services: vec![format!("service-{}", i % 50)],
                codes: vec![format!("GEN{i:08}")],
                patterns,
                family_patterns: Vec::new(),
                min_keywords: 2.min(keywords.len().max(1)),
                required_keywords: Vec::new(),
                keywords,
                cause: text(format!("原因 {i}")),
                steps: vec![text(format!("手順 {i}"))],
                notes: Vec::new(),
                links: Vec::new(),
                amount_rule: None,
                card_rule: None,
                card_pages: Default::default(),
                not_the_card: Vec::new(),
                prefer_over: Vec::new(),
                examples: vec![format!("GEN{i:08}")],
                queries: Vec::new(),
                counter_examples: Vec::new(),
                reported: "2025-12-28".into(),
                checked: "2025-12-28".into(),
                sources: vec!["generated".into()],
                location: Location::default(),
                example_locations: Default::default(),
            }
        })
        .collect()
}

/// A message of about `bytes` bytes of ordinary chat text with one real error in the middle.
pub fn message(bytes: usize, error: &str) -> String {
    let filler = "今日はアプリでチャージしようとしたら画面が止まってしまいました。 The app froze while I was paying. ";
    let mut out = String::with_capacity(bytes + error.len());
    while out.len() < bytes / 2 {
        out.push_str(filler);
    }
    out.push_str(error);
    let error_end = out.len();
    while out.len() < bytes {
        out.push_str(filler);
    }
    let (cut, _) = crate::normalize::cap(&out, bytes.max(error_end));
    cut.to_string()
}

/// The kinds of message in the benchmark mix, in the order [`mix`] returns them.
pub const MIX_KINDS: [&str; 5] = ["code", "phrase", "regex", "keywords", "nothing"];

/// Chooses an entry number below `n` that is `0 mod step`, counting down from `start`, whose
/// shorter decimal prefixes are not `0 mod 5`: keyword `サービス5` is a substring of
/// `サービス50`, so such an entry would also fire its prefixes.
fn pick(n: usize, start: usize, step: usize) -> usize {
    let clean = |k: usize| {
        let s = k.to_string();
        (1..s.len()).all(|l| s[..l].parse::<usize>().is_ok_and(|p| p % 5 != 0))
    };
    (0..=start.min(n - 1))
        .rev()
        .find(|&k| k % step == 0 && clean(k))
        .unwrap_or(0)
}

/// The benchmark message mix for a pack of `entries(n)`: one message of about `bytes` bytes
/// per kind in [`MIX_KINDS`] (an exact code, a literal phrase, a true regex, a keyword pair,
/// and ordinary chat with no error), each naming a different entry of the pack.
pub fn mix(n: usize, bytes: usize) -> Vec<(&'static str, String)> {
    assert!(n > 0, "a mix needs at least one entry");
    let code = pick(n, n / 2, 1);
    let phrase = pick(n, n / 3, 1);
    let regex = pick(n, 2 * n / 3, 3);
    let keywords = pick(n, n - 1, 5);
    let errors = [
        format!("エラー GEN{code:08} が出ました"),
        format!("「生成エラー{phrase}番が発生しました」と表示"),
        format!("ERR{regex}-{}-X", 1000 + n % 9000),
        format!("サービス{keywords}の機能{keywords}が使えません"),
        String::new(),
    ];
    MIX_KINDS
        .iter()
        .zip(errors)
        .map(|(&kind, error)| (kind, message(bytes, &error)))
        .collect()
}

/// An entry as a bot with one regex per rule sees it: what the naive baseline and the peer
/// bots (Hubot, …) are given. Every source is a regex in the common subset of Rust and
/// JavaScript (`u` and `i` flags) syntax, to be matched case-insensitively on the compact
/// normalized text, like kotae's index does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerRules {
    pub id: String,
    /// Codes (with their boundary rule) and patterns: one hit is enough.
    pub strong: Vec<String>,
    /// One regex per keyword group (its alternatives).
    pub keyword_groups: Vec<String>,
    /// Groups that must co-occur.
    pub min_keywords: usize,
}

/// Escapes a literal for both Rust and JavaScript (`u` flag) regexes: JavaScript rejects
/// escapes of characters that are not syntax, so `regex::escape` will not do.
fn escape_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if r"\^$.*+?()[]{}|/".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A code as a regex with kotae's boundary rule: no ASCII letter before a leading letter and
/// no digit after a trailing digit (or the reverse).
fn code_regex(code: &str) -> String {
    let class = |c: Option<char>| match c {
        Some(c) if c.is_ascii_digit() => "[^0-9]",
        Some(c) if c.is_ascii_alphabetic() => "[^a-z]",
        _ => "",
    };
    let (before, after) = (class(code.chars().next()), class(code.chars().last()));
    let mut out = String::new();
    if !before.is_empty() {
        out.push_str(&format!("(?:^|{before})"));
    }
    out.push_str(&escape_literal(code));
    if !after.is_empty() {
        out.push_str(&format!("(?:{after}|$)"));
    }
    out
}

/// Translates one of kotae's regexes (Rust syntax, NFKC-normalized) to the syntax both Rust
/// and JavaScript read the same way under the `iu` flags. Constructs whose meaning differs
/// and that have no simple equivalent are refused rather than translated loosely.
pub fn portable_regex(source: &str) -> Result<String, String> {
    if ["[:", "&&", "~~", "--"]
        .iter()
        .any(|op| source.contains(op))
    {
        return Err("class set operations and POSIX classes differ in JavaScript".into());
    }
    let mut out = String::with_capacity(source.len());
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                // Rust's \d is Unicode; JavaScript's is ASCII even with `u`.
                Some('d') => out.push_str(r"\p{Nd}"),
                Some('D') => out.push_str(r"\P{Nd}"),
                Some('A') => out.push('^'),
                Some('z') => out.push('$'),
                Some(e @ ('w' | 'W' | 'b' | 'B' | 's' | 'S' | 'Z' | 'x' | 'Q' | 'E')) => {
                    return Err(format!("`\\{e}` has no exact JavaScript equivalent here"))
                }
                Some(e) => {
                    out.push('\\');
                    out.push(e);
                }
                None => return Err("ends with a lone backslash".into()),
            },
            '(' if chars.peek() == Some(&'?') => {
                chars.next();
                match chars.peek() {
                    Some(':' | '=' | '!' | '<') => out.push_str("(?"),
                    Some('P') => {
                        chars.next();
                        out.push_str("(?");
                    }
                    _ => return Err("inline flags have no JavaScript equivalent".into()),
                }
            }
            _ => out.push(c),
        }
    }
    Ok(out)
}

/// Translates an entry for the peers. Family patterns are refused: they need a second pass
/// (is the code found unknown?) that a one-regex-per-rule bot does not have. So is the card
/// keyword (`@card`), which stands for the pack's issuer table.
pub fn peer_rules(e: &Entry) -> Result<PeerRules, String> {
    use crate::knowledge::pattern::{classify_pattern, Prepared};
    use crate::normalize::compact;
    if !e.family_patterns.is_empty() {
        return Err(format!(
            "entry {}: family patterns are not translated",
            e.id
        ));
    }
    if !e.required_keywords.is_empty() {
        return Err(format!(
            "entry {}: required keyword groups are not translated",
            e.id
        ));
    }
    let mut strong: Vec<String> = e.codes.iter().map(|c| code_regex(&compact(c))).collect();
    for p in &e.patterns {
        strong.push(match classify_pattern(p) {
            Prepared::Literal(l) => escape_literal(&l),
            Prepared::Regex(r) => portable_regex(&r).map_err(|m| format!("entry {}: {m}", e.id))?,
        });
    }
    let group = |alts: &mut dyn Iterator<Item = &String>| {
        alts.map(|a| escape_literal(&compact(a)))
            .collect::<Vec<_>>()
            .join("|")
    };
    let keyword_groups: Vec<String> = e.keywords.iter().map(|g| group(&mut g.iter())).collect();
    if e.keywords.iter().flatten().any(|k| k == CARD_KEYWORD) {
        return Err(format!(
            "entry {}: the card keyword needs the issuer table; not translated",
            e.id
        ));
    }
    Ok(PeerRules {
        id: e.id.clone(),
        strong,
        keyword_groups,
        min_keywords: e.min_keywords,
    })
}

/// The ids of every entry auto mode matches in `text`, sorted: what a peer must also find
/// before its timing means anything.
pub fn answered_ids(pack: &crate::Pack, text: &str) -> Vec<String> {
    let mut ids: Vec<String> = pack
        .query(text, crate::Mode::Auto)
        .matches
        .into_iter()
        .map(|m| m.id)
        .collect();
    ids.sort();
    ids
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Pack;
    use regex::RegexBuilder;

    /// What the naive baseline of `benches/scaling.rs` does, on the compact text.
    fn peer_ids(pack: &Pack, text: &str) -> Vec<String> {
        let compact = crate::matcher::normalize(text).compact;
        let is = |src: &str| {
            RegexBuilder::new(src)
                .case_insensitive(true)
                .build()
                .unwrap()
                .is_match(&compact)
        };
        let mut ids: Vec<String> = pack
            .entries()
            .iter()
            .map(|e| peer_rules(e).unwrap())
            .filter(|r| {
                let groups = r.keyword_groups.iter().filter(|g| is(g)).count();
                r.strong.iter().any(|s| is(s)) || (groups > 0 && groups >= r.min_keywords)
            })
            .map(|r| r.id)
            .collect();
        ids.sort();
        ids
    }

    #[test]
    fn each_mix_message_answers_with_one_entry_and_the_peers_agree() {
        for n in [10, 200] {
            let pack = Pack::from_entries(entries(n)).unwrap();
            for bytes in [100, 1024] {
                for (kind, text) in mix(n, bytes) {
                    let ids = answered_ids(&pack, &text);
                    let want = usize::from(kind != "nothing");
                    assert_eq!(ids.len(), want, "{n} entries, {bytes} B, {kind}: {ids:?}");
                    assert_eq!(peer_ids(&pack, &text), ids, "{n} entries, {kind}");
                    // Cut at a character boundary: at most 3 bytes short.
                    assert!(
                        text.len() + 3 >= bytes,
                        "{kind} message is {} B",
                        text.len()
                    );
                }
            }
        }
    }

    #[test]
    fn picked_keyword_entries_have_no_firing_prefix() {
        assert_eq!(pick(100, 99, 5), 95);
        assert_eq!(pick(10_000, 9_999, 5), 9_995);
        assert_eq!(pick(60, 59, 5), 45);
    }

    #[test]
    fn codes_keep_kotaes_boundary_rule() {
        let re = regex::Regex::new(&code_regex("mw1m01aj0004")).unwrap();
        assert!(re.is_match("(mw1m01aj0004)"));
        assert!(re.is_match("mw1m01aj0004jalpay"));
        assert!(!re.is_match("mw1m01aj00045"));
        assert!(!re.is_match("xmw1m01aj0004"));
    }

    #[test]
    fn regexes_are_translated_or_refused() {
        assert_eq!(
            portable_regex(r"MW1M01AJ\d{4}").unwrap(),
            r"MW1M01AJ\p{Nd}{4}"
        );
        assert_eq!(portable_regex(r"(?P<c>a)\.b").unwrap(), r"(?<c>a)\.b");
        assert_eq!(escape_literal("a.b(c)"), r"a\.b\(c\)");
        assert!(portable_regex(r"\w+x").is_err());
        assert!(portable_regex(r"(?i)abc").is_err());
        assert!(portable_regex(r"[[:alpha:]]x").is_err());
    }
}
