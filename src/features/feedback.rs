//! 👍 / 👎 on kotae's answers: a vote counts once per person and answer (the store enforces
//! it), and a new or changed 👎 gets a reply with the entry's official pages and the promise
//! that a person will look.

use std::sync::Arc;

use crate::bot::Bot;
use crate::knowledge::Lang;
use crate::reply::{LinkView, Reply};
use crate::store::Vote;

/// A vote as the adapter saw it.
#[derive(Debug, Clone, Copy)]
pub struct VoteOn<'a> {
    pub platform: &'a str,
    /// The platform's id of kotae's answer message.
    pub message: &'a str,
    pub user: &'a str,
    pub helpful: bool,
    /// The entry, when the platform carries it (Slack's button value); else the store's
    /// record of the answer tells it.
    pub entry: Option<&'a str>,
    pub lang: Lang,
}

/// Records the vote; the reply to send in the answer's thread, if any. Nothing for a
/// message that is not one of kotae's recorded answers, a 👍, or the same vote again.
pub fn vote(bot: &Bot, v: &VoteOn) -> Reply {
    let Some(vote) = bot.record_vote(v.platform, v.message, v.user, v.helpful) else {
        tracing::debug!(
            message = v.message,
            "vote on a message that is not a recorded answer"
        );
        return Reply::Nothing("not an answer");
    };
    let entry = match v.entry {
        Some(e) if !e.is_empty() => Some(e.to_string()),
        _ => bot.answer_entry(v.platform, v.message),
    };
    tracing::info!(
        platform = v.platform,
        entry = entry.as_deref().unwrap_or("?"),
        helpful = v.helpful,
        ?vote,
        "feedback"
    );
    if v.helpful || vote == Vote::Same {
        return Reply::Nothing("no reply to this vote");
    }
    let links = entry
        .and_then(|e| links(bot, &e, v.lang))
        .unwrap_or_default();
    Reply::VoteDown {
        lang: v.lang,
        links,
    }
}

/// [`vote`] on tokio's blocking pool, for the adapters: recording a vote reads and writes
/// the store at once (it waits for the queued writes to be saved first), which must not
/// hold up an async worker.
pub async fn vote_off_worker(bot: Arc<Bot>, v: VoteOn<'_>) -> Reply {
    let (platform, message, user) = (
        v.platform.to_string(),
        v.message.to_string(),
        v.user.to_string(),
    );
    let entry = v.entry.map(str::to_string);
    let (helpful, lang) = (v.helpful, v.lang);
    tokio::task::spawn_blocking(move || {
        vote(
            &bot,
            &VoteOn {
                platform: &platform,
                message: &message,
                user: &user,
                helpful,
                entry: entry.as_deref(),
                lang,
            },
        )
    })
    .await
    .unwrap_or_else(|e| {
        tracing::error!(error = %e, "the vote task failed");
        Reply::Nothing("the vote task failed")
    })
}

/// The official links of entry `entry_id` in the current pack, for the reply to a "not
/// helpful" vote: the person is pointed at the source while someone looks. None when the
/// entry is gone (a reload removed it).
pub fn links(bot: &Bot, entry_id: &str, lang: Lang) -> Option<Vec<LinkView>> {
    let pack = bot.pack();
    let e = pack.entry(entry_id)?;
    Some(
        e.links
            .iter()
            .map(|l| LinkView {
                title: l.title.get(lang).to_string(),
                url: l.url.clone(),
                where_: l.where_.as_ref().map(|w| w.get(lang).to_string()),
                highlighted: false,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::bot::Decision;

    use super::super::test_bot as bot;

    #[test]
    fn links_of_an_entry_are_its_official_pages() {
        let bot = bot();
        let jal = links(&bot, "jalpay-to-anapay-charge-20000", Lang::Ja).unwrap();
        assert!(jal.iter().any(|l| l.url.as_deref()
            == Some("https://www.jal.co.jp/jp/ja/jmb/jalpay/pay/notice/20250430_charge")));
        let Decision::Answer(a) = bot.lookup("MW1M01AJ0004", Lang::En) else {
            panic!("no answer")
        };
        let mut from_answer: Vec<_> = a.links.iter().map(|l| l.url.clone()).collect();
        let mut direct: Vec<_> = links(&bot, &a.id, Lang::En)
            .unwrap()
            .into_iter()
            .map(|l| l.url)
            .collect();
        from_answer.sort();
        direct.sort();
        assert_eq!(from_answer, direct);
        assert!(links(&bot, "no-such-entry", Lang::Ja).is_none());
    }

    #[test]
    fn a_thumbs_down_gets_the_links_once_and_a_thumbs_up_nothing() {
        let store: Arc<dyn crate::store::Store> =
            Arc::new(crate::store::SqliteStore::in_memory().unwrap());
        let bot = bot().with_store(store);
        let Decision::Answer(a) = bot.lookup("MW1M01AJ0004", Lang::Ja) else {
            panic!("no answer")
        };
        assert!(bot.record_answer("test", "c", "r1", &a, a.mode));
        let on = |user, helpful| VoteOn {
            platform: "test",
            message: "r1",
            user,
            helpful,
            entry: None,
            lang: Lang::Ja,
        };
        assert!(matches!(vote(&bot, &on("u1", true)), Reply::Nothing(_)));
        assert!(
            matches!(vote(&bot, &on("u1", false)), Reply::VoteDown { links, .. } if !links.is_empty())
        );
        assert!(matches!(vote(&bot, &on("u1", false)), Reply::Nothing(_)));
        let elsewhere = VoteOn {
            message: "not-an-answer",
            ..on("u2", false)
        };
        assert!(matches!(
            vote(&bot, &elsewhere),
            Reply::Nothing("not an answer")
        ));
    }
}
