//! Auto-replies and questions to kotae: dedup -> gate -> match -> cooldown -> record, in
//! that one order for every platform (Discord, Slack, the shell).
//!
//! The order matters: a message kotae already acted on is recognised before the cooldown is
//! consulted, because consulting it starts it again. Deciding first and deduplicating after
//! (Discord did until issue 13) let an edit of an answered message, after a restart, restart
//! the cooldown without posting, so the next real paste got 🔁 instead of an answer.

use std::time::Instant;

use crate::bot::{Bot, Decision};
use crate::knowledge::Lang;
use crate::matcher::Mode;
use crate::policy::{gate, looks_like_error, Cooldown, Gate, Incoming};
use crate::reply::{Answer, Labels, Reply};

use super::screenshots::{self, Screenshots};

/// How a message is recognised when it comes again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dedup<'a> {
    /// Nothing to recognise (the shell: every line is new).
    None,
    /// One delivery of an event (Slack's `event_id`): acted on once, whatever kotae said,
    /// so a retry never posts anything twice.
    Delivery(&'a str),
    /// A message that may be edited (Discord's message id). Recorded only once kotae answered
    /// it or pointed at an answer: a message that got nothing, or only the no-match hint,
    /// stays open, so an edit that now matches is answered. `edited` is true for the edit.
    Message { id: &'a str, edited: bool },
}

/// A chat message, as every adapter hands it to the feature.
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    /// `discord`, `slack`, `shell`: the store's platform and the metrics label.
    pub platform: &'a str,
    pub incoming: Incoming<'a>,
    /// The text, already without a leading mention of kotae and platform escapes.
    pub text: &'a str,
    pub lang: Lang,
    pub dedup: Dedup<'a>,
    /// Who sent it (the platform's user id; empty when the platform has none, the shell):
    /// the key of the per-user limit on mentions and DMs.
    pub user: &'a str,
}

/// What kotae says to `m`, deduplicated. The adapter renders the reply and, for an answer,
/// calls [`posted`] with the id of the message it posted.
pub fn respond(bot: &Bot, m: &Message) -> Reply {
    respond_read(bot, m, None)
}

/// [`respond`] for a message whose images were read ([`super::screenshots::respond`]):
/// their text is matched with the typed text, the typed amount winning, and an answer that
/// used it says so first.
pub fn respond_read(bot: &Bot, m: &Message, shots: Option<&Screenshots>) -> Reply {
    let key = |id: &str| format!("{}:{id}", m.platform);
    // With a store shared by replicas, a message is claimed before the decision: two
    // processes running the same shard (a rolling deploy) both see it, and checking then
    // recording after acting would let both answer. The claim is released when nothing was
    // done, so an edit can still be answered.
    let mut claimed = false;
    let edited = match m.dedup {
        Dedup::None => false,
        Dedup::Delivery(id) => {
            if !bot.first_time(&key(id)) {
                tracing::debug!(event = id, "re-delivered; not answered again");
                return Reply::Nothing("re-delivery");
            }
            false
        }
        Dedup::Message { id, edited } if bot.store_blocks() => {
            if !bot.first_time(&key(id)) {
                tracing::debug!(message = id, edited, "claimed before; left alone");
                return Reply::Nothing("already acted on");
            }
            claimed = true;
            edited
        }
        Dedup::Message { id, edited } => {
            if bot.seen(&key(id)) {
                tracing::debug!(message = id, edited, "acted on before; left alone");
                return Reply::Nothing("already acted on");
            }
            edited
        }
    };
    // One person asking again and again (mentions, DMs) is held to a per-user rate; a
    // support channel's pastes have the per-channel cooldown instead.
    let asked = crate::policy::gate(&m.incoming) == crate::policy::Gate::Ask;
    let decision = if asked && !m.user.is_empty() && !bot.user_may_ask(m.platform, m.user) {
        tracing::debug!(
            platform = m.platform,
            "per-user ask limit reached; not answered"
        );
        // Left to the dedup bookkeeping below like any reply that did nothing.
        Decision::Silent("user rate limit")
    } else {
        bot.handle_read(m.platform, &m.incoming, m.text, shots, m.lang)
    };
    let reply = match decision {
        Decision::Silent(why) => Reply::Nothing(why),
        // An edit of a question that still matches nothing gets no second hint.
        Decision::NoMatch if edited => Reply::Nothing("edit still matches nothing"),
        // Asked with an image kotae did not read (too large, too many, busy): say why,
        // rather than "nothing matched" about text it never saw.
        Decision::NoMatch => match shots.filter(|s| !s.has_text()).and_then(|s| s.problem) {
            Some(problem) => Reply::notice(problem.notice(m.lang)),
            None => Reply::notice(Labels::get(m.lang).no_match),
        },
        Decision::Answer(a) => Reply::Answer(a),
        Decision::Repeat { entry_id, ago } => Reply::Repeat { entry_id, ago },
    };
    if let Dedup::Message { id, .. } = m.dedup {
        if claimed && !reply.acted() {
            bot.release(&key(id));
        } else if reply.acted()
            && (claimed || bot.first_time(&key(id)))
            && !matches!(reply, Reply::Answer(_))
        {
            bot.settle(&key(id));
        }
    }
    if let Dedup::Delivery(id) = m.dedup {
        // An answer's claim is settled once it is posted ([`posted`]); until then another
        // replica may take it over if this one dies.
        if !matches!(reply, Reply::Answer(_)) {
            bot.settle(&key(id));
        }
    }
    reply
}

/// [`respond`] for the adapters, on an async worker: with a store whose checks wait for the
/// network (PostgreSQL) it runs on tokio's blocking pool, so a slow database never holds
/// up acks, `/healthz` or other events; with SQLite (checks in memory) it runs in place.
pub async fn respond_off_worker(bot: &std::sync::Arc<Bot>, m: &Message<'_>) -> Reply {
    respond_read_off_worker(bot, m, None).await
}

/// [`respond_read`] on the blocking pool when the store waits for the network, like
/// [`respond_off_worker`].
pub async fn respond_read_off_worker(
    bot: &std::sync::Arc<Bot>,
    m: &Message<'_>,
    shots: Option<&Screenshots>,
) -> Reply {
    if !bot.store_blocks() {
        return respond_read(bot, m, shots);
    }
    let bot = bot.clone();
    let (platform, channel, text, user) = (
        m.platform.to_string(),
        m.incoming.channel.to_string(),
        m.text.to_string(),
        m.user.to_string(),
    );
    let (delivery, message, edited) = match m.dedup {
        Dedup::None => (None, None, false),
        Dedup::Delivery(id) => (Some(id.to_string()), None, false),
        Dedup::Message { id, edited } => (None, Some(id.to_string()), edited),
    };
    let (i, lang) = (m.incoming, m.lang);
    let shots = shots.cloned();
    let flags = (
        i.from_bot,
        i.from_self,
        i.is_dm,
        i.mentions_kotae,
        i.support_channel,
    );
    tokio::task::spawn_blocking(move || {
        let (from_bot, from_self, is_dm, mentions_kotae, support_channel) = flags;
        let m = Message {
            platform: &platform,
            incoming: Incoming {
                channel: &channel,
                from_bot,
                from_self,
                is_dm,
                mentions_kotae,
                support_channel,
            },
            text: &text,
            lang,
            dedup: match (&delivery, &message) {
                (Some(id), _) => Dedup::Delivery(id),
                (_, Some(id)) => Dedup::Message { id, edited },
                _ => Dedup::None,
            },
            user: &user,
        };
        respond_read(&bot, &m, shots.as_ref())
    })
    .await
    .unwrap_or_else(|e| {
        tracing::error!(error = %e, "the answer task failed");
        Reply::Nothing("the answer task failed")
    })
}

/// Records an answer the adapter posted as `reply_id` (empty when the platform gave no id),
/// so votes on it are counted; false without a store. Settles the message's claim.
pub fn posted(bot: &Bot, m: &Message, reply_id: &str, answer: &Answer) -> bool {
    match m.dedup {
        Dedup::Delivery(id) | Dedup::Message { id, .. } => {
            bot.settle(&format!("{}:{id}", m.platform));
        }
        Dedup::None => {}
    }
    bot.record_answer(
        m.platform,
        m.incoming.channel,
        reply_id,
        answer,
        answer.mode,
    )
}

impl Bot {
    /// Gate -> match -> cooldown for `text` (already stripped of a leading mention of kotae)
    /// from `platform`, without dedup (that is [`respond`]'s first step). An unmatched paste
    /// in a support channel that looks like an error is kept (redacted) as a knowledge gap.
    pub fn handle(&self, platform: &str, incoming: &Incoming, text: &str, lang: Lang) -> Decision {
        self.handle_read(platform, incoming, text, None, lang)
    }

    /// [`Bot::handle`] for a message whose images were read: their text is matched with the
    /// typed text ([`screenshots::query`]), and an answer that used it says so first.
    pub fn handle_read(
        &self,
        platform: &str,
        incoming: &Incoming,
        text: &str,
        shots: Option<&Screenshots>,
        lang: Lang,
    ) -> Decision {
        let span = tracing::info_span!(
            "message",
            platform,
            channel = incoming.channel,
            outcome = tracing::field::Empty
        );
        let _enter = span.enter();
        if tracing::enabled!(tracing::Level::DEBUG) {
            tracing::debug!(text = %crate::redact::redact(text), "message text (redacted)");
        }
        let decision = self.decide(platform, incoming, text, shots, lang);
        let outcome = match &decision {
            Decision::Silent(why) => *why,
            Decision::Answer(_) => "answered",
            Decision::Repeat { .. } => "repeat",
            Decision::NoMatch => "no match",
        };
        span.record("outcome", outcome);
        tracing::debug!(outcome, "handled");
        decision
    }

    fn decide(
        &self,
        platform: &str,
        incoming: &Incoming,
        text: &str,
        shots: Option<&Screenshots>,
        lang: Lang,
    ) -> Decision {
        match gate(incoming) {
            Gate::Ignore(why) => Decision::Silent(why),
            Gate::Ask => self.lookup_read(text, shots, lang),
            Gate::Auto => {
                let pack = self.pack();
                let started = Instant::now();
                let read = shots.map_or("", |s| s.text.as_str());
                let outcome = screenshots::query(&pack, text, read, Mode::Auto);
                self.metrics().matched(started.elapsed());
                let Some(m) = outcome.answer() else {
                    // The gap is kept with what was read too; the store redacts it like
                    // any pasted text.
                    let seen = if read.is_empty() {
                        text.to_string()
                    } else {
                        format!("{text}\n{read}")
                    };
                    if looks_like_error(&seen) {
                        self.record_gap(platform, incoming.channel, &seen);
                    }
                    return Decision::Silent("no confident match");
                };
                match self.cooldown(incoming.channel, &m.id) {
                    Cooldown::Repeat { ago } => Decision::Repeat {
                        entry_id: m.id.clone(),
                        ago,
                    },
                    Cooldown::Answer => Answer::build(&pack, &outcome, 0, lang).map_or(
                        Decision::Silent("entry vanished"),
                        |a| {
                            Decision::Answer(Box::new(Answer {
                                mode: Mode::Auto,
                                screenshot: screenshot_note(shots, lang),
                                ..a
                            }))
                        },
                    ),
                }
            }
        }
    }
}

/// The note that opens an answer when text read off a screenshot went into its match.
pub(crate) fn screenshot_note(shots: Option<&Screenshots>, lang: Lang) -> Option<String> {
    shots
        .filter(|s| s.has_text())
        .map(|_| crate::ocr::screenshot_note(lang).to_string())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    use super::super::test_bot as bot;

    fn support(channel: &str) -> Incoming<'_> {
        Incoming {
            channel,
            support_channel: true,
            ..Incoming::default()
        }
    }

    const PASTE: &str = "本人認証に不正が検知しました。(MW1M01AJ0004)";

    /// Issue 14, item 6: one user's mentions and DMs past the per-minute limit get no
    /// answer and are counted; another user, and pastes in a support channel, are not held.
    #[test]
    fn one_user_past_the_ask_limit_is_not_answered_and_is_counted() {
        let bot = bot().with_user_asks_per_minute(3);
        let dm = |user: &'static str, id: &'static str| Message {
            platform: "test",
            incoming: Incoming {
                channel: "D1",
                is_dm: true,
                ..Incoming::default()
            },
            text: PASTE,
            lang: Lang::Ja,
            dedup: Dedup::Delivery(id),
            user,
        };
        for id in ["e1", "e2", "e3"] {
            assert!(matches!(respond(&bot, &dm("U1", id)), Reply::Answer(_)));
        }
        assert!(matches!(
            respond(&bot, &dm("U1", "e4")),
            Reply::Nothing("user rate limit")
        ));
        assert!(matches!(respond(&bot, &dm("U2", "e5")), Reply::Answer(_)));
        let mut paste = message("c9", PASTE, Dedup::Delivery("e6"));
        paste.user = "U1";
        assert!(matches!(respond(&bot, &paste), Reply::Answer(_)));
        assert!(bot
            .metrics()
            .render()
            .contains("kotae_user_rate_limited_total{platform=\"test\"} 1"));
    }

    #[test]
    fn a_pasted_error_is_answered_once_per_channel() {
        let bot = bot();
        assert!(
            matches!(bot.handle("test", &support("c1"), PASTE, Lang::Ja), Decision::Answer(a) if a.id == "jalpay-to-anapay-charge-20000" && a.mode == Mode::Auto)
        );
        assert!(matches!(
            bot.handle("test", &support("c1"), PASTE, Lang::Ja),
            Decision::Repeat { .. }
        ));
        assert!(matches!(
            bot.handle("test", &support("c2"), PASTE, Lang::Ja),
            Decision::Answer(_)
        ));
    }

    #[test]
    fn chatter_is_silent_but_a_direct_question_gets_an_answer_or_no_match() {
        let bot = bot();
        assert!(matches!(
            bot.handle("test", &support("c"), "おはようございます", Lang::Ja),
            Decision::Silent(_)
        ));
        let dm = Incoming {
            channel: "dm",
            is_dm: true,
            ..Incoming::default()
        };
        assert!(matches!(
            bot.handle("test", &dm, "おはようございます", Lang::Ja),
            Decision::NoMatch
        ));
        assert!(
            matches!(bot.handle("test", &dm, "楽天カード 3Dセキュア", Lang::Ja), Decision::Answer(a) if a.id == "3ds2-registration" && a.mode == Mode::Lookup)
        );
    }

    fn message<'a>(channel: &'a str, text: &'a str, dedup: Dedup<'a>) -> Message<'a> {
        Message {
            platform: "test",
            incoming: support(channel),
            text,
            lang: Lang::Ja,
            dedup,
            user: "U1",
        }
    }

    /// Issue 13: with the store's cooldown, after a restart, an edit of an answered message
    /// once the cooldown had passed restarted the cooldown without posting, so the next real
    /// paste got 🔁. The edit must be recognised before the cooldown is consulted.
    #[test]
    fn an_edit_of_an_answered_message_after_a_restart_does_not_take_the_cooldown() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("kotae.db");
        let open = || {
            let store: Arc<dyn crate::store::Store> =
                Arc::new(crate::store::SqliteStore::open(&db).unwrap());
            Bot::new(
                crate::builtin_pack().unwrap(),
                Duration::from_secs(1),
                Lang::Ja,
            )
            .with_store(store)
        };
        {
            let bot = open();
            let first = message(
                "c",
                PASTE,
                Dedup::Message {
                    id: "m1",
                    edited: false,
                },
            );
            assert!(matches!(respond(&bot, &first), Reply::Answer(_)));
            bot.store().unwrap().flush().unwrap();
        }
        std::thread::sleep(Duration::from_millis(2100));
        let bot = open();
        let edit = message(
            "c",
            PASTE,
            Dedup::Message {
                id: "m1",
                edited: true,
            },
        );
        assert!(matches!(respond(&bot, &edit), Reply::Nothing(_)));
        let again = message(
            "c",
            PASTE,
            Dedup::Message {
                id: "m2",
                edited: false,
            },
        );
        assert!(
            matches!(respond(&bot, &again), Reply::Answer(_)),
            "the next paste is answered, not pointed at an answer that was never posted"
        );
    }

    #[test]
    fn a_message_that_got_nothing_stays_open_for_an_edit_and_a_delivery_is_handled_once() {
        let bot = bot();
        let chatter = message(
            "c",
            "おはようございます",
            Dedup::Message {
                id: "m",
                edited: false,
            },
        );
        assert!(matches!(respond(&bot, &chatter), Reply::Nothing(_)));
        let edit = message(
            "c",
            PASTE,
            Dedup::Message {
                id: "m",
                edited: true,
            },
        );
        assert!(matches!(respond(&bot, &edit), Reply::Answer(_)));
        assert!(matches!(
            respond(&bot, &edit),
            Reply::Nothing("already acted on")
        ));

        let event = message("c2", PASTE, Dedup::Delivery("e1"));
        assert!(matches!(respond(&bot, &event), Reply::Answer(_)));
        assert!(matches!(
            respond(&bot, &event),
            Reply::Nothing("re-delivery")
        ));

        let dm = Message {
            incoming: Incoming {
                channel: "d",
                is_dm: true,
                ..Incoming::default()
            },
            ..message(
                "d",
                "おはようございます",
                Dedup::Message {
                    id: "q",
                    edited: false,
                },
            )
        };
        assert!(matches!(respond(&bot, &dm), Reply::Notice { .. }));
        let dm_edit = Message {
            dedup: Dedup::Message {
                id: "q",
                edited: true,
            },
            ..dm
        };
        assert!(
            matches!(respond(&bot, &dm_edit), Reply::Nothing(_)),
            "no second hint for an edit"
        );
    }
}
