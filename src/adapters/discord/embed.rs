//! The Discord embed for an [`Answer`], cut to Discord's limits by characters.
//!
//! serenity checks only the 6000 total; Discord rejects a message whose title, description,
//! field or footer is over its own limit, so every piece is cut here, without splitting an
//! emoji sequence, before serenity sees it.

use std::fmt::Write;

use serenity::all::{CreateEmbed, CreateEmbedFooter};

use crate::reply::{Answer, Labels};

pub const TITLE_MAX: usize = 256;
pub const DESCRIPTION_MAX: usize = 4096;
pub const FIELD_NAME_MAX: usize = 256;
pub const FIELD_VALUE_MAX: usize = 1024;
pub const FIELDS_MAX: usize = 25;
pub const FOOTER_MAX: usize = 2048;
pub const TOTAL_MAX: usize = 6000;

/// kotae's colour (a muted blue), so answers are recognisable in a busy channel.
const COLOUR: u32 = 0x3b_82_f6;

#[derive(Debug, Clone, Copy)]
enum Piece {
    Field(usize),
    Description,
    Footer,
    Title,
}

/// One embed field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub value: String,
    pub inline: bool,
    /// Fields with a higher rank are shortened first when the embed is over the total.
    shrink_rank: u8,
}

/// An embed as plain strings, so the limits are testable without serenity.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EmbedParts {
    pub title: String,
    pub description: String,
    pub fields: Vec<Field>,
    pub footer: String,
}

impl EmbedParts {
    /// What Discord counts toward the 6000 limit.
    pub fn total_chars(&self) -> usize {
        chars(&self.title)
            + chars(&self.description)
            + chars(&self.footer)
            + self
                .fields
                .iter()
                .map(|f| chars(&f.name) + chars(&f.value))
                .sum::<usize>()
    }

    pub fn to_embed(&self) -> CreateEmbed {
        let mut e = CreateEmbed::new().colour(COLOUR).title(&self.title);
        if !self.description.is_empty() {
            e = e.description(&self.description);
        }
        for f in &self.fields {
            e = e.field(&f.name, &f.value, f.inline);
        }
        if !self.footer.is_empty() {
            e = e.footer(CreateEmbedFooter::new(&self.footer));
        }
        e
    }

    fn field(&mut self, name: &str, value: String, inline: bool, shrink_rank: u8) {
        if value.trim().is_empty() || self.fields.len() >= FIELDS_MAX {
            return;
        }
        self.fields.push(Field {
            name: truncate(name, FIELD_NAME_MAX),
            value,
            inline,
            shrink_rank,
        });
    }

    /// Brings every piece under its own limit, then the whole under [`TOTAL_MAX`], cutting
    /// the least useful fields first (other candidates, notes, steps) and the cause last.
    pub fn fit(mut self) -> EmbedParts {
        self.title = truncate(&self.title, TITLE_MAX);
        self.description = truncate(&self.description, DESCRIPTION_MAX);
        self.footer = truncate(&self.footer, FOOTER_MAX);
        self.fields.truncate(FIELDS_MAX);
        for f in &mut self.fields {
            f.name = truncate(&f.name, FIELD_NAME_MAX);
            f.value = truncate(&f.value, FIELD_VALUE_MAX);
        }
        // Shrink order: other candidates, notes, steps; then the cause; then links, amount,
        // date and id; then the footer and the title.
        let mut order: Vec<Piece> = (0..self.fields.len())
            .filter(|&i| self.fields[i].shrink_rank >= 2)
            .map(Piece::Field)
            .collect();
        order.sort_by_key(|p| match p {
            Piece::Field(i) => std::cmp::Reverse(self.fields[*i].shrink_rank),
            _ => std::cmp::Reverse(0),
        });
        order.push(Piece::Description);
        order.extend(
            (0..self.fields.len())
                .filter(|&i| self.fields[i].shrink_rank < 2)
                .map(Piece::Field),
        );
        order.extend([Piece::Footer, Piece::Title]);
        for piece in order {
            let over = self.total_chars().saturating_sub(TOTAL_MAX);
            if over == 0 {
                break;
            }
            let text = match piece {
                Piece::Field(i) => {
                    let f = &mut self.fields[i];
                    if chars(&f.value) <= over + 40 {
                        // Too little would be left to be useful: drop the whole field.
                        f.name.clear();
                        f.value.clear();
                        continue;
                    }
                    &mut f.value
                }
                Piece::Description => &mut self.description,
                Piece::Footer => &mut self.footer,
                Piece::Title => &mut self.title,
            };
            let len = chars(text);
            *text = truncate(text, len.saturating_sub(over));
        }
        self.fields.retain(|f| !f.value.is_empty());
        self
    }
}

/// The answer as an embed: title, cause (with the unverified warning), amount note, numbered
/// steps, notes, official links, other candidates, the source's date, the date kotae checked
/// it and the id, and the footer
/// telling how to look up more.
pub fn answer_embed(a: &Answer) -> EmbedParts {
    let l = Labels::get(a.lang);
    let mut p = EmbedParts {
        title: a.title.clone(),
        ..EmbedParts::default()
    };
    if let Some(s) = &a.screenshot {
        let _ = writeln!(p.description, "{s}\n");
    }
    if let Some(u) = &a.unverified {
        let _ = writeln!(p.description, "⚠ {u}\n");
    }
    let _ = write!(p.description, "**{}**: {}", l.cause, a.cause);
    if let Some(card) = &a.card {
        p.field(l.card, card.clone(), true, 1);
    }
    if let Some(note) = &a.amount_note {
        p.field(l.amount, note.clone(), false, 1);
    }
    let steps: Vec<String> = a
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{}. {s}", i + 1))
        .collect();
    p.field(l.steps, lines_within(&steps, FIELD_VALUE_MAX), false, 2);
    let links: Vec<String> = a
        .links
        .iter()
        .map(|link| {
            // The card company's page the message named comes first and is marked, as the
            // other platforms mark it.
            let mark = if link.highlighted { "★ " } else { "" };
            match (&link.url, &link.where_) {
                (Some(url), _) => {
                    format!("• {mark}[{}]({url})", escape_link_text(&link.title))
                }
                (None, Some(w)) => format!("• {mark}{} ({}: {w})", link.title, l.no_url),
                (None, None) => format!("• {mark}{}", link.title),
            }
        })
        .collect();
    p.field(l.links, lines_within(&links, FIELD_VALUE_MAX), false, 1);
    let notes: Vec<String> = a.notes.iter().map(|n| format!("• {n}")).collect();
    p.field(l.notes, lines_within(&notes, FIELD_VALUE_MAX), false, 3);
    let see_also: Vec<String> = a
        .see_also
        .iter()
        .map(|(id, title)| format!("• {title} (`{id}`)"))
        .collect();
    p.field(
        l.see_also,
        lines_within(&see_also, FIELD_VALUE_MAX),
        false,
        4,
    );
    p.field(l.reported, a.reported.clone(), true, 0);
    p.field(l.checked, a.checked.clone(), true, 0);
    p.field("id", format!("`{}`", a.id), true, 0);
    p.footer = l.more.to_string();
    p.fit()
}

/// A plain embed for lists and messages that are not answers.
pub fn simple_embed(title: &str, description: &str, footer: &str) -> EmbedParts {
    EmbedParts {
        title: title.to_string(),
        description: description.to_string(),
        fields: Vec::new(),
        footer: footer.to_string(),
    }
    .fit()
}

/// `[` and `]` in a title would end the Markdown link early.
fn escape_link_text(s: &str) -> String {
    s.replace('[', "(").replace(']', ")")
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Whole lines joined by `\n` while they fit in `max` characters; a line that does not fit
/// is cut (when it is the first) or replaced by `…`, so a URL is never cut in the middle
/// unless a single line is longer than the whole field.
pub fn lines_within(lines: &[String], max: usize) -> String {
    let mut out = String::new();
    let mut used = 0;
    for line in lines {
        let len = chars(line) + usize::from(!out.is_empty());
        if used + len <= max {
            if !out.is_empty() {
                out.push('\n');
            }
            out.push_str(line);
            used += len;
        } else if out.is_empty() {
            return truncate(line, max);
        } else {
            if used + 2 <= max {
                out.push_str("\n…");
            }
            break;
        }
    }
    out
}

/// `s` cut to at most `max` characters (Unicode scalar values, as Discord counts), ending in
/// `…` when cut, and never inside an emoji sequence (ZWJ, skin tone, variation selector,
/// keycap, tag, flag pair) or right before a combining mark.
pub fn truncate(s: &str, max: usize) -> String {
    if chars(s) <= max {
        return s.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let cs: Vec<char> = s.chars().collect();
    let mut keep = max - 1;
    while keep > 0 && !is_boundary(&cs, keep) {
        keep -= 1;
    }
    let mut out: String = cs[..keep].iter().collect();
    out.push('…');
    out
}

/// Whether cutting between `cs[i - 1]` and `cs[i]` keeps every emoji sequence whole.
fn is_boundary(cs: &[char], i: usize) -> bool {
    let (prev, next) = (cs[i - 1], cs[i]);
    if prev == '\u{200D}' || extends(next) {
        return false;
    }
    if is_regional_indicator(prev) && is_regional_indicator(next) {
        // Flags are pairs: cut only after an even run of regional indicators.
        let run = cs[..i]
            .iter()
            .rev()
            .take_while(|c| is_regional_indicator(**c))
            .count();
        return run % 2 == 0;
    }
    true
}

/// Characters that attach to the one before them.
fn extends(c: char) -> bool {
    matches!(c,
        '\u{200D}'
        | '\u{FE00}'..='\u{FE0F}'
        | '\u{1F3FB}'..='\u{1F3FF}'
        | '\u{20E3}'
        | '\u{E0020}'..='\u{E007F}'
        | '\u{0300}'..='\u{036F}'
        | '\u{3099}'..='\u{309A}')
}

fn is_regional_indicator(c: char) -> bool {
    ('\u{1F1E6}'..='\u{1F1FF}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::Lang;
    use crate::reply::LinkView;

    const FAMILY: &str = "👨\u{200D}👩\u{200D}👧\u{200D}👦";

    fn long_answer(n: usize) -> Answer {
        let long = format!("{FAMILY}原因🇯🇵{}", "長い説明😀".repeat(n));
        Answer {
            id: "long-entry".into(),
            title: long.clone(),
            cause: long.clone(),
            amount_note: Some(long.clone()),
            card: None,
            steps: vec![long.clone(); 30],
            notes: vec![long.clone(); 30],
            links: vec![
                LinkView {
                    title: "公式".into(),
                    url: Some(
                        "https://www.jal.co.jp/jp/ja/jmb/jalpay/pay/notice/20250430_charge".into()
                    ),
                    where_: None,
                    highlighted: true,
                };
                40
            ],
            reported: "2025-04-30".into(),
            checked: "2026-11-29".into(),
            unverified: None,
            screenshot: None,
            see_also: vec![("other".into(), long); 30],
            lang: Lang::Ja,
            score: 100.0,
            mode: crate::matcher::Mode::Lookup,
        }
    }

    #[test]
    fn a_highlighted_link_is_marked_as_on_the_other_platforms() {
        let mut a = long_answer(1);
        a.links.truncate(2);
        a.links[1].highlighted = false;
        let p = answer_embed(&a);
        let links = &p
            .fields
            .iter()
            .find(|f| f.name == Labels::get(Lang::Ja).links)
            .unwrap()
            .value;
        let lines: Vec<&str> = links.lines().collect();
        assert!(lines[0].starts_with("• ★ [公式]"), "{links}");
        assert!(lines[1].starts_with("• [公式]"), "{links}");
    }

    fn assert_within_limits(p: &EmbedParts) {
        assert!(chars(&p.title) <= TITLE_MAX, "title {}", chars(&p.title));
        assert!(chars(&p.description) <= DESCRIPTION_MAX);
        assert!(chars(&p.footer) <= FOOTER_MAX);
        assert!(p.fields.len() <= FIELDS_MAX);
        for f in &p.fields {
            assert!(chars(&f.name) <= FIELD_NAME_MAX && !f.name.is_empty());
            assert!(chars(&f.value) <= FIELD_VALUE_MAX && !f.value.is_empty());
        }
        assert!(p.total_chars() <= TOTAL_MAX, "total {}", p.total_chars());
    }

    /// No cut leaves half a ZWJ sequence, a lone skin tone or half a flag.
    fn assert_no_broken_emoji(s: &str) {
        let body = s.strip_suffix('…').unwrap_or(s);
        assert!(!body.ends_with('\u{200D}'), "{body:?}");
        let cs: Vec<char> = body.chars().collect();
        if let Some(&last) = cs.last() {
            if last == '👨' || last == '👩' || last == '👧' {
                // Only a whole family may end the text.
                assert!(
                    body.ends_with(FAMILY) || !body.contains(FAMILY.chars().next().unwrap()),
                    "{body:?}"
                );
            }
        }
        let ri = cs
            .iter()
            .rev()
            .take_while(|c| is_regional_indicator(**c))
            .count();
        assert_eq!(ri % 2, 0, "{body:?}");
    }

    #[test]
    fn short_texts_are_untouched() {
        assert_eq!(truncate("MW1M01AJ0004", 100), "MW1M01AJ0004");
        assert_eq!(truncate("😀😀", 2), "😀😀");
    }

    #[test]
    fn truncation_counts_characters_not_bytes() {
        let s = "本人認証".repeat(100);
        let t = truncate(&s, 256);
        assert_eq!(t.chars().count(), 256);
        assert!(t.len() > 256, "multi-byte text is cut by characters");
        assert!(t.ends_with('…'));
    }

    #[test]
    fn truncation_never_splits_an_emoji_sequence() {
        let s = format!("ab{FAMILY}{FAMILY}🇯🇵🇺🇸👍🏽1\u{FE0F}\u{20E3}x");
        for max in 1..=s.chars().count() {
            let t = truncate(&s, max);
            assert!(t.chars().count() <= max, "{max}: {t:?}");
            assert_no_broken_emoji(&t);
            assert!(
                !t.contains("\u{1F3FD}") || t.contains("👍\u{1F3FD}"),
                "{t:?}"
            );
            let body = t.strip_suffix('…').unwrap_or(&t);
            assert!(s.starts_with(body));
            let rest = &s[body.len()..];
            assert!(
                rest.is_empty() || !extends(rest.chars().next().unwrap()),
                "{max}: cut before {rest:?}"
            );
        }
    }

    #[test]
    fn a_huge_answer_fits_every_discord_limit() {
        for n in [10, 100, 1000, 5000] {
            let p = answer_embed(&long_answer(n));
            assert_within_limits(&p);
            assert_no_broken_emoji(&p.title);
            assert_no_broken_emoji(&p.description);
            for f in &p.fields {
                assert_no_broken_emoji(&f.value);
            }
            // The cause and the official link survive; low-value fields go first.
            assert!(p.description.contains("原因🇯🇵"));
            let links = p
                .fields
                .iter()
                .find(|f| f.name == "公式の案内")
                .expect("links kept");
            assert!(links
                .value
                .contains("(https://www.jal.co.jp/jp/ja/jmb/jalpay/pay/notice/20250430_charge)"));
            assert!(p.fields.iter().any(|f| f.name == "id"));
        }
    }

    #[test]
    fn fields_over_the_count_are_dropped() {
        let mut p = EmbedParts::default();
        for i in 0..40 {
            p.fields.push(Field {
                name: format!("f{i}"),
                value: "v".into(),
                inline: true,
                shrink_rank: 0,
            });
        }
        let p = p.fit();
        assert_eq!(p.fields.len(), FIELDS_MAX);
        assert_eq!(p.fields[0].name, "f0");
    }

    #[test]
    fn links_are_whole_lines() {
        let lines: Vec<String> = (0..100)
            .map(|i| format!("• [p{i}](https://example.com/{i})"))
            .collect();
        let v = lines_within(&lines, FIELD_VALUE_MAX);
        assert!(chars(&v) <= FIELD_VALUE_MAX);
        assert!(v.ends_with("\n…"));
        for line in v.lines().filter(|l| *l != "…") {
            assert!(line.ends_with(')'), "{line}");
        }
    }
}
