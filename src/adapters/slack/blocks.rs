//! Block Kit rendering of an [`Answer`]: header, cause, numbered steps, links, a context line,
//! the 👍 / 👎 feedback buttons, and a plain `text` fallback, within Slack's limits.
//!
//! Every string kotae sends, knowledge text included, is escaped (`& < >`), so a pasted
//! `<!channel>` or a typo in the pack can never become a mention or a broken link.
//! Limits are counted in characters (Slack counts characters, not bytes), and truncation never
//! cuts an escape sequence in half.

use serde_json::{json, Value};

use crate::reply::{Answer, Labels, LinkView, Reply};
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

/// The `action_id` of the 👍 button; its `value` is the entry id.
pub const VOTE_UP: &str = "kotae_vote_up";
/// The `action_id` of the 👎 button; its `value` is the entry id.
pub const VOTE_DOWN: &str = "kotae_vote_down";
/// Slack's limit on a button's `value`.
const MAX_BUTTON_VALUE: usize = 2000;

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
    // Most text has nothing to escape and fits: one scan and one copy.
    if !s.bytes().any(|b| matches!(b, b'&' | b'<' | b'>'))
        && (s.len() <= max || s.chars().count() <= max)
    {
        return s.to_owned();
    }
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

/// `links` as mrkdwn sections under the (already escaped) `heading`: `<url|title>`, or the
/// title and where to find a page without a URL.
fn link_sections(heading: &str, links: &[LinkView], l: &Labels) -> Vec<Value> {
    let lines = links.iter().map(|link| {
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
    });
    // Links are already escaped; list_sections would escape them twice.
    let mut out = Vec::new();
    let mut current = heading.to_string();
    for line in lines {
        let line = format!("\n• {line}");
        if current.chars().count() + line.chars().count() > MAX_SECTION {
            out.push(section(std::mem::take(&mut current)));
            current = line.trim_start_matches('\n').to_string();
        } else {
            current.push_str(&line);
        }
    }
    out.push(section(current));
    out
}

/// The answer as Block Kit, without buttons: for `/kotae` answers, which are not recorded
/// (Slack gives no message id for a `response_url` reply, so a vote could not be matched).
pub fn render(a: &Answer) -> Message {
    render_inner(a, false)
}

/// The answer as Block Kit with the 👍 / 👎 buttons: for answers posted with
/// `chat.postMessage`, which are recorded under their `ts` so a click can be counted.
pub fn render_with_feedback(a: &Answer) -> Message {
    render_inner(a, true)
}

/// The 👍 / 👎 buttons; each carries the entry id so the click says what it was about.
fn feedback_buttons(entry_id: &str, lang: Lang) -> Value {
    let l = Labels::get(lang);
    let (up, down) = (l.vote_up, l.vote_down);
    let value: String = entry_id.chars().take(MAX_BUTTON_VALUE).collect();
    json!({
        "type": "actions",
        "block_id": "kotae_feedback",
        "elements": [
            {"type": "button", "action_id": VOTE_UP, "value": value,
             "text": {"type": "plain_text", "text": up, "emoji": true}},
            {"type": "button", "action_id": VOTE_DOWN, "value": value,
             "text": {"type": "plain_text", "text": down, "emoji": true}},
        ]
    })
}

fn render_inner(a: &Answer, feedback: bool) -> Message {
    let l = Labels::get(a.lang);
    let mut blocks = Vec::new();
    if let Some(s) = &a.screenshot {
        blocks.push(context(escape(s)));
    }
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
    if let Some(card) = &a.card {
        blocks.push(context(format!("{}: {}", escape(l.card), escape(card))));
    }
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
        blocks.extend(link_sections(
            &format!("*{}*", escape(l.links)),
            &a.links,
            l,
        ));
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
        "{}: {} · {}: {} · id: `{}` · {}",
        escape(l.reported),
        escape(&a.reported),
        escape(l.checked),
        escape(&a.checked),
        escape(&a.id),
        escape(l.more)
    ));
    // The footer (and the buttons) always survive the block cap: the body is cut instead.
    let mut tail = vec![footer];
    if feedback {
        tail.push(feedback_buttons(&a.id, a.lang));
    }
    blocks.truncate(MAX_BLOCKS - tail.len());
    blocks.extend(tail);
    let text = match &a.screenshot {
        Some(s) => format!("{s} {}: {}", a.title, a.cause),
        None => format!("{}: {}", a.title, a.cause),
    };
    let text = escape_within(&text, MAX_FALLBACK);
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
    notice(l.usage).with_hint(l.no_match)
}

/// `reply` as one Slack message; None for [`Reply::Nothing`] and [`Reply::Repeat`] (in
/// Slack kotae stays quiet about a repeat). Answers come without the feedback buttons: an
/// answer posted with `chat.postMessage` is rendered by [`render_with_feedback`] instead.
pub fn reply(r: &Reply) -> Option<Message> {
    Some(match r {
        Reply::Nothing(_) | Reply::Repeat { .. } => return None,
        Reply::Answer(a) => render(a),
        Reply::Notice { text, hint } => match hint {
            Some(h) => notice(text).with_hint(h),
            None => notice(text),
        },
        Reply::Preformatted { title, body } => preformatted(title, body),
        Reply::VoteDown { lang, links } => vote_down_reply(links, *lang),
        Reply::List(page) => {
            let lines: Vec<String> = page
                .items
                .iter()
                .map(|i| {
                    if i.codes.is_empty() {
                        format!("• {}", escape(&i.title))
                    } else {
                        format!(
                            "• {} (`{}`)",
                            escape(&i.title),
                            escape(&i.codes.join("`, `"))
                        )
                    }
                })
                .collect();
            Message {
                text: escape_within(&page.title, MAX_FALLBACK),
                blocks: vec![
                    section(format!("*{}*", escape(&page.title))),
                    section(cut(lines.join("\n"), MAX_SECTION)),
                ],
            }
            .with_hint(&page.footer)
        }
    })
}

/// The reply in the thread after a 👎: the entry's official pages and the promise that a
/// person will look at it.
pub fn vote_down_reply(links: &[LinkView], lang: Lang) -> Message {
    let l = Labels::get(lang);
    let promise = l.vote_down_thanks;
    let mut blocks = vec![section(escape(promise))];
    if !links.is_empty() {
        blocks.extend(link_sections(&format!("*{}*", escape(l.links)), links, l));
    }
    blocks.truncate(MAX_BLOCKS);
    Message {
        text: escape_within(promise, MAX_FALLBACK),
        blocks,
    }
}

/// Text shown as-is (admin answers and notices): escaped, in code blocks, split at line ends
/// into sections within [`MAX_SECTION`], at most [`MAX_BLOCKS`] of them.
pub fn preformatted(title: &str, body: &str) -> Message {
    // "```\n" and "\n```" around each chunk.
    const FENCE: usize = 8;
    // A fence inside the text would end the code block early.
    let body = body.replace("```", "` ` `");
    let mut chunks: Vec<String> = Vec::new();
    let mut current = String::new();
    for line in body.lines() {
        let line = escape_within(line, MAX_SECTION - FENCE);
        let n = line.chars().count() + 1;
        if !current.is_empty() && current.chars().count() + n > MAX_SECTION - FENCE {
            chunks.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push('\n');
        }
        current.push_str(&line);
    }
    if !current.is_empty() || chunks.is_empty() {
        chunks.push(current);
    }
    let room = MAX_BLOCKS - 1;
    if chunks.len() > room {
        chunks.truncate(room);
        if let Some(last) = chunks.last_mut() {
            *last = "…".into();
        }
    }
    let mut blocks = vec![section(format!("*{}*", escape(title)))];
    blocks.extend(
        chunks
            .into_iter()
            .map(|c| section(format!("```\n{c}\n```"))),
    );
    Message {
        text: escape_within(&format!("{title}\n{body}"), MAX_FALLBACK),
        blocks,
    }
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
            card: None,
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
            reported: "2025-05-01".into(),
            checked: "2026-11-29".into(),
            unverified: None,
            screenshot: None,
            see_also: vec![],
            score: 100.0,
            lang: Lang::Ja,
            mode: crate::matcher::Mode::Lookup,
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
                    // Context elements are text objects; buttons carry one in `text`.
                    let t = e["text"].as_str().or(e["text"]["text"].as_str());
                    out.push((kind.clone(), t.unwrap().to_string()));
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
        // With the buttons: still 50 blocks, and the footer and the buttons are both kept.
        let f = render_with_feedback(&a);
        assert_eq!(f.blocks.len(), MAX_BLOCKS);
        let n = f.blocks.len();
        assert!(f.blocks[n - 2]["elements"][0]["text"]
            .as_str()
            .unwrap()
            .contains("id: `e1`"));
        assert_eq!(f.blocks[n - 1]["type"], "actions");
    }

    #[test]
    fn feedback_buttons_carry_the_entry_id_and_only_posted_answers_have_them() {
        let m = render_with_feedback(&answer());
        let actions: Vec<&Value> = m.blocks.iter().filter(|b| b["type"] == "actions").collect();
        assert_eq!(actions.len(), 1);
        let buttons = actions[0]["elements"].as_array().unwrap();
        let ids: Vec<&str> = buttons
            .iter()
            .map(|b| b["action_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [VOTE_UP, VOTE_DOWN]);
        assert!(buttons
            .iter()
            .all(|b| b["value"] == "e1" && b["type"] == "button"));
        assert!(buttons[0]["text"]["text"]
            .as_str()
            .unwrap()
            .starts_with('👍'));
        assert!(!render(&answer())
            .blocks
            .iter()
            .any(|b| b["type"] == "actions"));
    }

    #[test]
    fn the_vote_down_reply_promises_a_person_and_lists_the_links() {
        let a = answer();
        let ja = vote_down_reply(&a.links, Lang::Ja);
        let all = all_text(&ja);
        assert!(all.contains("担当者が確認します"), "{all}");
        assert!(all.contains("<https://example.com/a?b=1&amp;c=2%7Cx|JAL &lt;notice&gt;>"));
        assert!(all.contains("Settings &gt; Help"));
        let en = all_text(&vote_down_reply(&[], Lang::En));
        assert!(en.contains("A person will look at this"), "{en}");
    }

    #[test]
    fn preformatted_text_is_escaped_fenced_and_within_the_limits() {
        let m = preformatted("stats", "a <!here> & ``` b\nline2");
        let all = all_text(&m);
        assert!(
            !all.contains("<!here>") && all.contains("&lt;!here&gt; &amp;"),
            "{all}"
        );
        assert_eq!(
            m.blocks[1]["text"]["text"]
                .as_str()
                .unwrap()
                .matches("```")
                .count(),
            2
        );
        let long: String = (0..5000)
            .map(|i| format!("line {i} {}\n", "x<".repeat(40)))
            .collect();
        let m = preformatted("t", &long);
        assert!(m.blocks.len() <= MAX_BLOCKS);
        for (_, t) in texts(&m) {
            assert!(
                t.chars().count() <= MAX_SECTION,
                "{} chars",
                t.chars().count()
            );
        }
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
        let pack = bot.pack();
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
