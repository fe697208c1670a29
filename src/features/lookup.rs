//! Looking an error up on request: the slash command (`/kotae`, the shell's `/lookup`), its
//! autocomplete, and the list of what kotae knows.

use crate::bot::{Bot, Decision};
use crate::knowledge::Lang;
use crate::matcher::Mode;
use crate::reply::{Answer, Labels, ListItem, ListPage, Reply};

/// An autocomplete choice: what to show and the text that looks the entry up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub entry_id: String,
    pub label: String,
    pub query: String,
}

/// Entries whose title, code or id contains `typed` (case-insensitive), at most `limit`,
/// for a command's autocomplete. Each carries a `query` that [`Bot::lookup`] answers
/// with that entry, so picking a suggestion gets the entry it showed.
pub fn suggest(bot: &Bot, typed: &str, lang: Lang, limit: usize) -> Vec<Suggestion> {
    let pack = bot.pack();
    let typed = typed.trim().to_lowercase();
    pack.entries()
        .iter()
        .filter(|e| {
            typed.is_empty()
                || e.id.contains(&typed)
                || e.title.get(lang).to_lowercase().contains(&typed)
                || e.title.ja.to_lowercase().contains(&typed)
                || e.codes.iter().any(|c| c.to_lowercase().contains(&typed))
        })
        .map(|e| {
            let title = e.title.get(lang);
            let label = match e.codes.first() {
                Some(code) if !title.contains(code.as_str()) => format!("{code} {title}"),
                _ => title.to_string(),
            };
            let query = e
                .codes
                .first()
                .or_else(|| e.queries.first())
                .or_else(|| e.examples.first())
                .cloned()
                .unwrap_or_else(|| e.title.ja.clone());
            Suggestion {
                entry_id: e.id.clone(),
                label,
                query,
            }
        })
        .take(limit)
        .collect()
}

/// `/kotae <text>`: the best candidate, the no-match hint, or the usage when `text` is empty.
pub fn command(bot: &Bot, text: &str, lang: Lang) -> Reply {
    if text.trim().is_empty() {
        let l = Labels::get(lang);
        return Reply::Notice {
            text: l.usage.into(),
            hint: Some(l.no_match.into()),
        };
    }
    if tracing::enabled!(tracing::Level::DEBUG) {
        tracing::debug!(text = %crate::redact::redact(text), "lookup (redacted)");
    }
    match bot.lookup(text, lang) {
        Decision::Answer(a) => Reply::Answer(a),
        _ => Reply::notice(Labels::get(lang).no_match),
    }
}

/// Autocomplete: entries whose title or code contains what was typed; when none does (a
/// whole error pasted into the box), the entry that text matches, keeping the typed text as
/// the query when it is at most `max_chars` long, so its facts (an amount) count. Choices
/// whose query is longer than `max_chars` are left out.
pub fn choices(
    bot: &Bot,
    partial: &str,
    lang: Lang,
    limit: usize,
    max_chars: usize,
) -> Vec<Suggestion> {
    let mut found = suggest(bot, partial, lang, limit);
    if found.is_empty() && !partial.trim().is_empty() {
        if let Decision::Answer(a) = bot.lookup(partial, lang) {
            found = suggest(bot, &a.id, lang, 1);
            let typed = partial.trim();
            if typed.chars().count() <= max_chars {
                for s in &mut found {
                    s.query = typed.to_string();
                }
            }
        }
    }
    found.retain(|s| s.query.chars().count() <= max_chars);
    found
}

/// Page `page` (from 1; past the end shows the last) of the entries, `per_page` each.
pub fn list(bot: &Bot, lang: Lang, page: usize, per_page: usize) -> ListPage {
    let pack = bot.pack();
    let entries = pack.entries();
    let per_page = per_page.max(1);
    let pages = entries.len().div_ceil(per_page).max(1);
    let page = page.clamp(1, pages);
    let l = Labels::get(lang);
    ListPage {
        title: l.list_title(entries.len()),
        items: entries
            .iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .map(|e| ListItem {
                id: e.id.clone(),
                title: e.title.get(lang).to_string(),
                codes: e.codes.clone(),
            })
            .collect(),
        footer: l.list_footer(page, pages),
    }
}

impl Bot {
    /// A direct question (slash command, mention, DM): the best candidate or [`Decision::NoMatch`].
    pub fn lookup(&self, text: &str, lang: Lang) -> Decision {
        self.lookup_read(text, None, lang)
    }

    /// [`Bot::lookup`] with the text read off the question's screenshots, if any.
    pub fn lookup_read(
        &self,
        text: &str,
        shots: Option<&super::screenshots::Screenshots>,
        lang: Lang,
    ) -> Decision {
        let pack = self.pack();
        let read = shots.map_or("", |s| s.text.as_str());
        let outcome = super::screenshots::query(&pack, text, read, Mode::Lookup);
        match Answer::build(&pack, &outcome, 0, lang) {
            Some(a) => Decision::Answer(Box::new(Answer {
                screenshot: super::answer::screenshot_note(shots, lang),
                ..a
            })),
            None => Decision::NoMatch,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{synthetic, Pack};

    use super::super::test_bot as bot;

    #[test]
    fn every_suggestion_looks_up_the_entry_it_shows() {
        let bot = bot();
        let all = suggest(&bot, "", Lang::En, 100);
        assert_eq!(all.len(), bot.pack().entries().len());
        for s in &all {
            assert!(
                matches!(bot.lookup(&s.query, Lang::Ja), Decision::Answer(a) if a.id == s.entry_id),
                "{s:?}"
            );
        }
        let typed = suggest(&bot, "mw1m01", Lang::Ja, 25);
        assert_eq!(typed.len(), 1);
        assert_eq!(typed[0].entry_id, "jalpay-to-anapay-charge-20000");
        assert!(suggest(&bot, "quicpay", Lang::Ja, 25)
            .iter()
            .any(|s| s.entry_id == "jalpay-quicpay-after-renewal"));
        assert!(suggest(&bot, "zzzz-nothing", Lang::Ja, 25).is_empty());
        assert_eq!(suggest(&bot, "", Lang::Ja, 2).len(), 2);
    }

    #[test]
    fn a_whole_pasted_error_suggests_its_entry_with_the_typed_text() {
        let bot = bot();
        let paste = "本人認証に不正が検知しました。(MW1M01AJ0004)";
        let c = choices(&bot, paste, Lang::Ja, 25, 100);
        assert_eq!(c.len(), 1, "{c:?}");
        assert!(c[0].label.contains("MW1M01AJ0004"));
        assert_eq!(c[0].query, paste);
        assert!(choices(&bot, "今日はいい天気", Lang::Ja, 25, 100).is_empty());
    }

    #[test]
    fn the_list_pages_through_every_entry() {
        let bot = Bot::new(
            Pack::from_entries(synthetic::entries(25)).unwrap(),
            Duration::from_secs(600),
            Lang::Ja,
        );
        let first = list(&bot, Lang::Ja, 1, 10);
        assert!(first.footer.starts_with("1/3"), "{}", first.footer);
        assert_eq!(first.items.len(), 10);
        let last = list(&bot, Lang::En, 99, 10);
        assert!(last.footer.starts_with("Page 3/3"), "{}", last.footer);
        assert_eq!(last.items.len(), 5);
        assert!(last
            .items
            .iter()
            .any(|i| i.codes.iter().any(|c| c == "GEN00000024")));
    }

    #[test]
    fn an_empty_command_gets_the_usage_and_chatter_the_hint() {
        let bot = bot();
        assert!(
            matches!(command(&bot, "  ", Lang::En), Reply::Notice { text, hint: Some(_) } if text.starts_with("Usage"))
        );
        assert!(
            matches!(command(&bot, "おはよう", Lang::Ja), Reply::Notice { text, hint: None } if text == Labels::get(Lang::Ja).no_match)
        );
        assert!(
            matches!(command(&bot, "MW1M01AJ0004", Lang::Ja), Reply::Answer(a) if a.mode == Mode::Lookup)
        );
    }
}
