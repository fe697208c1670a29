//! Block Kit rendering of an [`Answer`]: header, cause, numbered steps, links, a context line,
//! and a plain `text` fallback, within Slack's limits.
//!
//! Every string kotae sends, knowledge text included, is escaped (`& < >`), so a pasted
//! `<!channel>` or a typo in the pack can never become a mention or a broken link.
//! Limits are counted in characters (Slack counts characters, not bytes), and truncation never
//! cuts an escape sequence in half.

use serde_json::{json, Value};

use crate::reply::{Answer, Labels};
use crate::Lang;

/// Slack's limit on a header block's text.
pub const MAX_HEADER: usize = 150;
/// Slack's limit on a section block's text.
pub const MAX_SECTION: usize = 3000;
/// Slack's limit on one context element's text.
pub const MAX_CONTEXT: usize = 2000;
/// Slack's limit on blocks in one message.
pub const MAX_BLOCKS: usize = 50;
/// The notification fallback; Slack allows far more, but a notification shows a line or two.
pub const MAX_FALLBACK: usize = 3000;

/// A message ready for `chat.postMessage` or a `response_url`.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The fallback shown in notifications and by clients without Block Kit (mrkdwn, escaped).
    pub text: String,
    pub blocks: Vec<Value>,
}

/// Escapes the three characters Slack treats as markup.
pub fn escape(s: &str) -> String {
    escape_within(s, usize::MAX)
}

/// Escapes `s` and keeps the result within `max` characters, ending with `…` when cut.
pub fn escape_within(s: &str, max: usize) -> String {
    let full_len: usize = s.chars().map(escaped_len).sum();
    let budget = if full_len <= max {
        max
    } else {
        max.saturating_sub(1)
    };
    let mut out = String::with_capacity(s.len().min(max.saturating_mul(4)));
    let mut used = 0;
    for c in s.chars() {
        let n = escaped_len(c);
        if used + n > budget {
            out.push('…');
            return out;
        }
        used += n;
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

fn escaped_len(c: char) -> usize {
    match c {
        '&' => 5,
        '<' | '>' => 4,
        _ => 1,
    }
}

/// Cuts already-escaped mrkdwn to `max` characters at a line end when one is near, else
/// at a character; never inside an `&…;` entity.
fn cut(text: String, max: usize) -> String {
    if text.chars().count() <= max {
        return text;
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    if let Some(amp) = out.rfind('&') {
        if !out[amp..].contains(';') {
            out.truncate(amp);
        }
    }
    out.push('…');
    out
}

fn section(text: String) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": cut(text, MAX_SECTION)}})
}

fn context(text: String) -> Value {
    json!({"type": "context", "elements": [{"type": "mrkdwn", "text": cut(text, MAX_CONTEXT)}]})
}

/// Sections for a titled list, split so each stays within [`MAX_SECTION`]; an item too long on
/// its own is cut.
fn list_sections(label: &str, items: &[String], bullet: impl Fn(usize) -> String) -> Vec<Value> {
    let mut out = Vec::new();
    let mut current = format!("*{}*", escape(label));
    for (i, item) in items.iter().enumerate() {
        let line = format!("\n{}{}", bullet(i), escape(item));
        if current.chars().count() + line.chars().count() > MAX_SECTION && !current.is_empty() {
            out.push(section(std::mem::take(&mut current)));
            current = line.trim_start_matches('\n').to_string();
        } else {
            current.push_str(&line);
        }
    }
    if !current.is_empty() {
        out.push(section(current));
    }
    out
}

/// A URL inside `<url|title>`: escaped like text, with `|` percent-encoded so it cannot end
/// the URL early.
fn link_url(url: &str) -> String {
    escape(url).replace('|', "%7C")
}

/// The answer as Block Kit.
pub fn render(a: &Answer) -> Message {
    let l = Labels::get(a.lang);
    let mut blocks = Vec::new();
    blocks.push(json!({
        "type": "header",
        "text": {"type": "plain_text", "text": escape_within(&a.title, MAX_HEADER), "emoji": true}
    }));
    if let Some(u) = &a.unverified {
        blocks.push(context(format!(":warning: {}", escape(u))));
    }
    blocks.push(section(format!(
        "*{}*\n{}",
        escape(l.cause),
        escape(&a.cause)
    )));
    if let Some(note) = &a.amount_note {
        blocks.push(section(format!("*{}*\n{}", escape(l.amount), escape(note))));
    }
    if !a.steps.is_empty() {
        blocks.extend(list_sections(l.steps, &a.steps, |i| format!("{}. ", i + 1)));
    }
    if !a.notes.is_empty() {
        blocks.extend(list_sections(l.notes, &a.notes, |_| "• ".into()));
    }
    if !a.links.is_empty() {
        let lines: Vec<String> = a
            .links
            .iter()
            .map(|link| {
                let mark = if link.highlighted { ":star: " } else { "" };
                match (&link.url, &link.where_) {
                    (Some(url), _) => format!("{mark}<{}|{}>", link_url(url), escape(&link.title)),
                    (None, Some(w)) => {
                        format!(
                            "{mark}{} ({}: {})",
                            escape(&link.title),
                            escape(l.no_url),
                            escape(w)
                        )
                    }
                    (None, None) => format!("{mark}{}", escape(&link.title)),
                }
            })
            .collect();
        // Links are already escaped; list_sections would escape them twice.
        let mut current = format!("*{}*", escape(l.links));
        for line in lines {
            let line = format!("\n• {line}");
            if current.chars().count() + line.chars().count() > MAX_SECTION {
                blocks.push(section(std::mem::take(&mut current)));
                current = line.trim_start_matches('\n').to_string();
            } else {
                current.push_str(&line);
            }
        }
        blocks.push(section(current));
    }
    if !a.see_also.is_empty() {
        let others: Vec<String> = a
            .see_also
            .iter()
            .map(|(id, title)| format!("{} (`{}`)", escape(title), escape(id)))
            .collect();
        blocks.push(context(format!(
            "{}: {}",
            escape(l.see_also),
            others.join(" / ")
        )));
    }
    let footer = context(format!(
        "{}: {} · id: `{}` · {}",
        escape(l.verified),
        escape(&a.verified),
        escape(&a.id),
        escape(l.more)
    ));
    if blocks.len() >= MAX_BLOCKS {
        blocks.truncate(MAX_BLOCKS - 1);
    }
    blocks.push(footer);
    let text = escape_within(&format!("{}: {}", a.title, a.cause), MAX_FALLBACK);
    Message { text, blocks }
}

/// A one-section message, for "nothing matched" and usage hints.
pub fn notice(text: &str) -> Message {
    Message {
        text: escape_within(text, MAX_FALLBACK),
        blocks: vec![section(escape(text))],
    }
}

/// What `/kotae` with no text says.
pub fn usage(lang: Lang) -> Message {
    let l = Labels::get(lang);
    notice(match lang {
        Lang::Ja => "使い方: /kotae <エラーコードや文言> (自分だけに表示) / /kotae share <エラー> (チャンネルに表示)",
        Lang::En => "Usage: /kotae <error code or message> (only you see it) / /kotae share <error> (posted in the channel)",
    })
    .with_hint(l.no_match)
}

impl Message {
    fn with_hint(mut self, hint: &str) -> Message {
        self.blocks.push(context(escape(hint)));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::LinkView;

    fn answer() -> Answer {
        Answer {
            id: "e1".into(),
            title: "JAL Pay <!channel> & ANA Pay".into(),
            cause: "cause <@U123>".into(),
            amount_note: None,
            steps: vec!["one".into(), "two".into()],
            notes: vec![],
            links: vec![
                LinkView {
                    title: "JAL <notice>".into(),
                    url: Some("https://example.com/a?b=1&c=2|x".into()),
                    where_: None,
                    highlighted: true,
                },
                LinkView {
                    title: "App".into(),
                    url: None,
                    where_: Some("Settings > Help".into()),
                    highlighted: false,
                },
            ],
            verified: "2025-05-01".into(),
            unverified: None,
            see_also: vec![],
            score: 100.0,
            lang: Lang::Ja,
        }
    }

    fn all_text(m: &Message) -> String {
        format!("{} {}", m.text, serde_json::to_string(&m.blocks).unwrap())
    }

    fn texts(m: &Message) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for b in &m.blocks {
            let kind = b["type"].as_str().unwrap().to_string();
            if let Some(t) = b["text"]["text"].as_str() {
                out.push((kind.clone(), t.to_string()));
            }
            if let Some(els) = b["elements"].as_array() {
                for e in els {
                    out.push((kind.clone(), e["text"].as_str().unwrap().to_string()));
                }
            }
        }
        out
    }

    #[test]
    fn mentions_in_any_text_are_escaped() {
        let m = render(&answer());
        let all = all_text(&m);
        assert!(
            !all.contains("<!channel>") && !all.contains("<@U123>"),
            "{all}"
        );
        assert!(all.contains("&lt;!channel&gt;") && all.contains("&amp; ANA"));
        assert!(
            all.contains("<https://example.com/a?b=1&amp;c=2%7Cx|JAL &lt;notice&gt;>"),
            "{all}"
        );
        assert!(all.contains("Settings &gt; Help"));
        assert!(all.contains(r"1. one\n2. two"), "{all}");
    }

    #[test]
    fn long_texts_are_cut_to_the_limits_by_characters() {
        let mut a = answer();
        a.title = "😀".repeat(400);
        a.cause = "あ".repeat(5000);
        a.steps = (0..200)
            .map(|i| format!("{i} {}", "手順<>".repeat(100)))
            .collect();
        a.notes = vec!["&".repeat(4000)];
        let m = render(&a);
        assert!(m.blocks.len() <= MAX_BLOCKS, "{} blocks", m.blocks.len());
        let header = m.blocks[0]["text"]["text"].as_str().unwrap();
        assert_eq!(header.chars().count(), MAX_HEADER);
        assert!(header.ends_with('…'));
        for (kind, t) in texts(&m) {
            let limit = match kind.as_str() {
                "header" => MAX_HEADER,
                "context" => MAX_CONTEXT,
                _ => MAX_SECTION,
            };
            assert!(
                t.chars().count() <= limit,
                "{kind}: {} chars",
                t.chars().count()
            );
            // No half entity at a cut.
            for (i, _) in t.match_indices('&') {
                let rest = &t[i..];
                assert!(
                    rest.starts_with("&amp;")
                        || rest.starts_with("&lt;")
                        || rest.starts_with("&gt;"),
                    "{rest:.10}"
                );
            }
        }
        // The footer survives the block cap.
        assert!(m.blocks.last().unwrap()["elements"][0]["text"]
            .as_str()
            .unwrap()
            .contains("id: `e1`"));
        assert!(m.text.chars().count() <= MAX_FALLBACK);
    }

    #[test]
    fn escape_within_counts_escapes_and_emoji() {
        assert_eq!(escape_within("a<b", 10), "a&lt;b");
        assert_eq!(escape_within("a<b", 4), "a…");
        assert_eq!(escape_within("👍👍👍", 3), "👍👍👍");
        assert_eq!(escape_within("👍👍👍👍", 3), "👍👍…");
        assert_eq!(cut("ab&amp;cd".into(), 5), "ab…");
    }

    #[test]
    fn every_built_in_entry_renders_within_the_limits_in_both_languages() {
        let bot = crate::bot::Bot::new(
            crate::builtin_pack().unwrap(),
            std::time::Duration::ZERO,
            Lang::Ja,
        );
        let pack = bot.knowledge.get();
        let mut rendered = 0;
        for e in pack.entries() {
            for text in e.examples.iter().chain(&e.queries).chain(&e.codes) {
                for lang in [Lang::Ja, Lang::En] {
                    let crate::bot::Decision::Answer(a) = bot.lookup(text, lang) else {
                        continue;
                    };
                    let m = render(&a);
                    rendered += 1;
                    assert!(m.blocks.len() <= MAX_BLOCKS);
                    assert_eq!(m.blocks[0]["type"], "header");
                    for (kind, t) in texts(&m) {
                        let limit = if kind == "header" {
                            MAX_HEADER
                        } else {
                            MAX_SECTION
                        };
                        assert!(t.chars().count() <= limit, "{}: {kind} too long", a.id);
                    }
                    for link in a.links.iter().filter_map(|l| l.url.as_deref()) {
                        assert!(
                            all_text(&m).contains(&link_url(link)),
                            "{}: link {link} missing",
                            a.id
                        );
                    }
                }
            }
        }
        assert!(rendered > 0, "nothing in the built-in pack was answered");
    }

    #[test]
    fn no_match_and_usage_are_escaped_sections() {
        let m = notice("<!here> nothing");
        assert_eq!(m.blocks.len(), 1);
        assert!(!all_text(&m).contains("<!here>"));
        assert!(all_text(&usage(Lang::En)).contains("/kotae share"));
    }
}
