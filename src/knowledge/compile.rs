//! From TOML text to validated [`Entry`] values, collecting every problem with its location.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;

use super::pattern::prepare_pattern;
use super::schema::{
    self, EntryRaw, FileRaw, IssuerRaw, LinkRaw, TextRaw, VersionOnly, CHANGES, FORMAT_VERSION,
};
use super::{
    AmountRule, CardPages, CardRule, CardVariant, Entry, ExampleLocations, Issuer, IssuerKind,
    KnowledgeError, Link, Location, Problem, Source, Text, CARD_KEYWORD,
};
use crate::normalize::compact;

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
pub fn compile(sources: &[Source]) -> Result<(Vec<Entry>, Vec<Issuer>), KnowledgeError> {
    let mut problems = Vec::new();
    let mut entries = Vec::new();
    let mut issuers = Vec::new();
    for source in sources {
        compile_file(source, &mut entries, &mut issuers, &mut problems);
    }
    cross_entry_checks(&entries, &mut problems);
    issuer_checks(&entries, &issuers, &mut problems);
    if problems.is_empty() {
        Ok((entries, issuers))
    } else {
        Err(KnowledgeError::Invalid(problems))
    }
}

/// The message for a file whose `format_version` this build does not read: what changed
/// since, for an older file.
fn version_message(found: u32) -> String {
    let mut m = format!(
        "format_version {found} is not supported by this kotae (it reads {FORMAT_VERSION})"
    );
    for (old, change) in CHANGES {
        if found <= *old {
            m.push_str("; ");
            m.push_str(change);
        }
    }
    m
}

fn compile_file(
    source: &Source,
    entries: &mut Vec<Entry>,
    issuers: &mut Vec<Issuer>,
    problems: &mut Vec<Problem>,
) {
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
            // An old file fails on the keys that changed: say what changed instead.
            if let Ok(v) = toml::from_str::<VersionOnly>(text) {
                if *v.format_version.get_ref() != FORMAT_VERSION {
                    ctx.report(
                        v.format_version.span(),
                        None,
                        version_message(*v.format_version.get_ref()),
                    );
                    return;
                }
            }
            let span = e.span().unwrap_or(0..0);
            let id = entry_id_near(text, span.start);
            let message = e.message().trim().replace('\n', " ");
            let hint = if message.starts_with("unknown field `verified`") {
                "; format_version 2 replaced it by `reported` (the source's date, or \"undated\") and `checked` (see knowledge/README.md)"
            } else if message.starts_with("unknown field `aliases`") {
                "; format_version 2 moved card names to the `[[issuer]]` table (see knowledge/README.md)"
            } else if message.starts_with("unknown field") {
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
            version_message(*raw.format_version.get_ref()),
        );
        return;
    }
    if raw.entries.is_empty() && raw.issuers.is_empty() {
        ctx.report(0..0, None, "the file has no [[entry]] or [[issuer]] tables");
    }
    for spanned in raw.issuers {
        let span = spanned.span();
        if let Some(issuer) = compile_issuer(&mut ctx, span, spanned.into_inner()) {
            issuers.push(issuer);
        }
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
    let mut required_keywords = Vec::new();
    for k in &raw.keywords {
        let (required, words) = match k.get_ref().strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, k.get_ref().as_str()),
        };
        let group: Vec<String> = words
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
        if let Some(bad) = group.iter().find(|w| {
            w.starts_with('@')
                && *w != super::FAILURE_GROUP
                && *w != CARD_KEYWORD
                && super::amount_over(w).is_none()
        }) {
            ctx.report(
                k.span(),
                Some(&id),
                format!(
                    "unknown shared keyword `{bad}`; there are `{}` (every failure word: エラー, 失敗, できない and their forms), `{}` (any card of the issuer table) and `{}N` (an amount above N yen, e.g. `@over:20000`)",
                    super::FAILURE_GROUP,
                    CARD_KEYWORD,
                    super::AMOUNT_OVER
                ),
            );
            continue;
        }
        if required {
            required_keywords.push(keywords.len());
        }
        keywords.push(group);
    }

    let mut links = Vec::new();
    for l in raw.links {
        let lspan = l.span();
        links.push(link(ctx, lspan, &id, l.into_inner()));
    }

    let groups = keywords.len();
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

    let reported = match raw.reported.get_ref() {
        toml::Value::Datetime(d) if d.date.is_some() && d.time.is_none() => d.to_string(),
        toml::Value::String(s) if s == "undated" => s.clone(),
        other => {
            ctx.report(
                raw.reported.span(),
                Some(&id),
                "`reported` must be the source's own date such as 2025-12-28 (no quotes), or \"undated\" when the source gives none",
            );
            other.to_string()
        }
    };
    let checked = raw.checked.get_ref();
    let checked_text = match (&checked.date, &checked.time) {
        (Some(d), None) => d.to_string(),
        _ => {
            ctx.report(
                raw.checked.span(),
                Some(&id),
                "`checked` must be a plain date such as 2026-11-29 (no time, no quotes)",
            );
            checked.to_string()
        }
    };
    let card_pages = match raw
        .card_pages
        .as_ref()
        .map(|c| (c.get_ref().as_str(), c.span()))
    {
        None | Some(("none", _)) => CardPages::None,
        Some(("named", _)) => CardPages::Named,
        Some(("brands", _)) => CardPages::Brands,
        Some(("all", _)) => CardPages::All,
        Some((other, span)) => {
            ctx.report(
                span,
                Some(&id),
                format!("card_pages = \"{other}\" is not one of \"none\", \"named\", \"brands\", \"all\""),
            );
            CardPages::None
        }
    };
    let card_rule = raw.card_rule.map(|r| {
        let rspan = r.span();
        let r = r.into_inner();
        if r.cards.is_empty() {
            ctx.report(
                rspan.clone(),
                Some(&id),
                "card_rule.cards is empty; name the issuer ids the entry's texts are written for",
            );
        }
        let other = r.other;
        CardRule {
            cards: r.cards.into_iter().map(|c| c.into_inner()).collect(),
            other: CardVariant {
                title: other
                    .title
                    .map(|t| text(ctx, &rspan, &id, "card_rule.other.title", t)),
                cause: text(ctx, &rspan, &id, "card_rule.other.cause", other.cause),
                steps: other
                    .steps
                    .into_iter()
                    .map(|t| text(ctx, &rspan, &id, "a card_rule.other step", t))
                    .collect(),
                notes: other.notes.map(|n| {
                    n.into_iter()
                        .map(|t| text(ctx, &rspan, &id, "a card_rule.other note", t))
                        .collect()
                }),
            },
        }
    });
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
        required_keywords,
        cause,
        steps,
        notes,
        links,
        amount_rule,
        card_rule,
        card_pages,
        not_the_card: raw.not_the_card,
        prefer_over: raw.prefer_over,
        examples: raw.examples.into_iter().map(|s| s.into_inner()).collect(),
        queries: raw.queries.into_iter().map(|s| s.into_inner()).collect(),
        counter_examples: raw
            .counter_examples
            .into_iter()
            .map(|s| s.into_inner())
            .collect(),
        reported,
        checked: checked_text,
        sources: raw.sources,
        location,
        example_locations,
    })
}

/// Validates one link of an entry or of an issuer.
fn link(ctx: &mut FileCtx, lspan: Range<usize>, id: &str, raw: LinkRaw) -> Link {
    let LinkRaw { title, url, where_ } = raw;
    let title = text(ctx, &lspan, id, "a link title", title);
    let url = url.map(|u| {
        if let Some(why) = url_problem(u.get_ref()) {
            ctx.report(u.span(), Some(id), why);
        }
        u.into_inner()
    });
    let where_ = where_.map(|w| text(ctx, &lspan, id, "a link's `where`", w));
    if url.is_none() && where_.is_none() {
        ctx.report(
            lspan.clone(),
            Some(id),
            format!(
                "link \"{}\" has neither `url` nor `where`; give the URL, or say where the page lives if the source gives none",
                title.ja
            ),
        );
    }
    Link { title, url, where_ }
}

/// Why an alias cannot be used, or None. One or two ASCII letters (`d`, `uc`) occur in too
/// many words and codes to name a card on their own.
fn alias_problem(alias: &str) -> Option<String> {
    let c = compact(alias);
    if c.is_empty() {
        return Some("an empty alias".into());
    }
    if c == CARD_KEYWORD {
        return Some(format!(
            "`{CARD_KEYWORD}` is the keyword for any card, not an alias"
        ));
    }
    if c.is_ascii() && c.chars().count() <= 2 {
        return Some(format!(
            "alias `{alias}` is too short to name a card on its own; write it with the word after it (`{alias} card`, `{alias}カード`)"
        ));
    }
    None
}

fn compile_issuer(ctx: &mut FileCtx, span: Range<usize>, raw: IssuerRaw) -> Option<Issuer> {
    let id = raw.id.get_ref().clone();
    let who = format!("issuer {id}");
    if !is_valid_id(&id) {
        ctx.report(
            raw.id.span(),
            Some(&who),
            "the id must be lowercase letters and digits joined by single hyphens, e.g. `rakuten-card`",
        );
    }
    let kind = match raw.kind.get_ref().as_str() {
        "issuer" => IssuerKind::Issuer,
        "brand" => IssuerKind::Brand,
        other => {
            ctx.report(
                raw.kind.span(),
                Some(&who),
                format!("kind = \"{other}\" is not \"issuer\" (a card company) or \"brand\" (an international brand)"),
            );
            IssuerKind::Issuer
        }
    };
    let name = text(ctx, &span, &who, "name", raw.name);
    if raw.aliases.is_empty() {
        ctx.report(
            span.clone(),
            Some(&who),
            "`aliases` is empty; list the names people write for this card",
        );
    }
    let mut aliases = Vec::new();
    for a in &raw.aliases {
        if let Some(why) = alias_problem(a.get_ref()) {
            ctx.report(a.span(), Some(&who), why);
            continue;
        }
        let c = compact(a.get_ref());
        if !aliases.contains(&c) {
            aliases.push(c);
        }
    }
    let not_in = raw
        .not_in
        .iter()
        .map(|p| compact(p))
        .filter(|p| !p.is_empty())
        .collect();
    let page = raw.page.map(|p| {
        let pspan = p.span();
        link(ctx, pspan, &who, p.into_inner())
    });
    Some(Issuer {
        id,
        kind,
        name,
        aliases,
        not_in,
        page,
        location: ctx.lines.locate(ctx.name, span.start),
    })
}

/// Checks between the issuer table and the entries: unique ids and aliases, rules and
/// keywords that name the table.
fn issuer_checks(entries: &[Entry], issuers: &[Issuer], problems: &mut Vec<Problem>) {
    let mut ids: HashMap<&str, &Issuer> = HashMap::new();
    let mut aliases: HashMap<&str, &Issuer> = HashMap::new();
    for i in issuers {
        let who = Some(format!("issuer {}", i.id));
        if let Some(first) = ids.insert(&i.id, i) {
            problems.push(Problem {
                location: i.location.clone(),
                entry: who.clone(),
                message: format!("duplicate issuer id: already used at {}", first.location),
            });
        }
        for a in &i.aliases {
            if let Some(other) = aliases.insert(a, i) {
                if other.id != i.id {
                    problems.push(Problem {
                        location: i.location.clone(),
                        entry: who.clone(),
                        message: format!(
                            "alias `{a}` also names issuer {}; an alias must name one card",
                            other.id
                        ),
                    });
                }
            }
        }
    }
    for e in entries {
        let mut report = |message: String| {
            problems.push(Problem {
                location: e.location.clone(),
                entry: Some(e.id.clone()),
                message,
            })
        };
        if let Some(rule) = &e.card_rule {
            for c in &rule.cards {
                if !ids.contains_key(c.as_str()) {
                    report(format!(
                        "card_rule names `{c}`, which is not an id in the [[issuer]] table"
                    ));
                }
            }
        }
        for c in &e.not_the_card {
            if !ids.contains_key(c.as_str()) {
                report(format!(
                    "not_the_card names `{c}`, which is not an id in the [[issuer]] table"
                ));
            }
        }
        let uses_table = e.card_pages != CardPages::None
            || e.card_rule.is_some()
            || e.keywords.iter().flatten().any(|k| k == CARD_KEYWORD);
        if uses_table && issuers.is_empty() {
            report(format!(
                "the entry uses the card table (`{CARD_KEYWORD}`, card_pages or card_rule) but the pack has no [[issuer]] table"
            ));
        }
    }
}

/// Checks that need every entry: duplicate ids, codes claimed twice, `prefer_over` ids.
fn cross_entry_checks(entries: &[Entry], problems: &mut Vec<Problem>) {
    for e in entries {
        for other in &e.prefer_over {
            let message = if other == &e.id {
                Some(format!("prefer_over names the entry itself (`{other}`)"))
            } else if !entries.iter().any(|x| &x.id == other) {
                Some(format!(
                    "prefer_over names `{other}`, which is not the id of an entry of this pack"
                ))
            } else {
                None
            };
            if let Some(message) = message {
                problems.push(Problem {
                    location: e.location.clone(),
                    entry: Some(e.id.clone()),
                    message,
                });
            }
        }
    }
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
pub fn validate_entries(entries: &[Entry]) -> Result<(), KnowledgeError> {
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
