//! The decision every chat adapter makes for a message, in one place: gate -> match ->
//! cooldown -> answer. Adapters translate platform events in and render the [`Decision`] out.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::knowledge::{Lang, Pack};
use crate::matcher::Mode;
use crate::policy::{gate, Cooldown, Gate, Incoming, Policy};
use crate::reply::Answer;

/// The pack currently answering. Readers take an `Arc` snapshot, so a reload swaps the whole
/// pack at once and a lookup in flight keeps the pack it started with.
#[derive(Debug)]
pub struct Knowledge {
    current: RwLock<Arc<Pack>>,
}

impl Knowledge {
    pub fn new(pack: Pack) -> Knowledge {
        Knowledge {
            current: RwLock::new(Arc::new(pack)),
        }
    }

    pub fn get(&self) -> Arc<Pack> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Swaps in a new, already validated pack.
    pub fn replace(&self, pack: Pack) {
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(pack);
    }
}

/// What an adapter should do with a message.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Say nothing. The reason is for debug logs.
    Silent(&'static str),
    /// Post this answer.
    Answer(Box<Answer>),
    /// The same entry was answered in this channel `ago`; react or point to it, do not repeat.
    Repeat { entry_id: String, ago: Duration },
    /// Someone asked directly and nothing matched: say so, with a hint.
    NoMatch,
}

/// State shared by every adapter of one `kotae serve`.
#[derive(Debug)]
pub struct Bot {
    pub knowledge: Knowledge,
    pub policy: Policy,
    /// The language when the platform tells nothing better.
    pub default_lang: Lang,
}

impl Bot {
    pub fn new(pack: Pack, cooldown: Duration, default_lang: Lang) -> Bot {
        Bot {
            knowledge: Knowledge::new(pack),
            policy: Policy::new(cooldown),
            default_lang,
        }
    }

    /// Decides what to do with `text` (already stripped of a leading mention of kotae).
    pub fn on_message(&self, incoming: &Incoming, text: &str, lang: Lang) -> Decision {
        let pack = self.knowledge.get();
        match gate(incoming) {
            Gate::Ignore(why) => Decision::Silent(why),
            Gate::Auto => {
                let outcome = pack.query(text, Mode::Auto);
                let Some(m) = outcome.answer() else {
                    return Decision::Silent("no confident match");
                };
                match self.policy.cooldown(incoming.channel, &m.id) {
                    Cooldown::Repeat { ago } => Decision::Repeat {
                        entry_id: m.id.clone(),
                        ago,
                    },
                    Cooldown::Answer => Answer::build(&pack, &outcome, 0, lang)
                        .map_or(Decision::Silent("entry vanished"), |a| {
                            Decision::Answer(Box::new(a))
                        }),
                }
            }
            Gate::Ask => self.lookup(text, lang),
        }
    }

    /// A direct question (slash command, mention, DM): the best candidate or [`Decision::NoMatch`].
    pub fn lookup(&self, text: &str, lang: Lang) -> Decision {
        let pack = self.knowledge.get();
        let outcome = pack.query(text, Mode::Lookup);
        match Answer::build(&pack, &outcome, 0, lang) {
            Some(a) => Decision::Answer(Box::new(a)),
            None => Decision::NoMatch,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bot() -> Bot {
        Bot::new(
            crate::builtin_pack().unwrap(),
            Duration::from_secs(600),
            Lang::Ja,
        )
    }

    fn support(channel: &str) -> Incoming<'_> {
        Incoming {
            channel,
            support_channel: true,
            ..Incoming::default()
        }
    }

    #[test]
    fn a_pasted_error_is_answered_once_per_channel() {
        let bot = bot();
        let text = "本人認証に不正が検知しました。(MW1M01AJ0004)";
        assert!(
            matches!(bot.on_message(&support("c1"), text, Lang::Ja), Decision::Answer(a) if a.id == "jalpay-to-anapay-charge-20000")
        );
        assert!(matches!(
            bot.on_message(&support("c1"), text, Lang::Ja),
            Decision::Repeat { .. }
        ));
        assert!(matches!(
            bot.on_message(&support("c2"), text, Lang::Ja),
            Decision::Answer(_)
        ));
    }

    #[test]
    fn chatter_is_silent_but_a_direct_question_gets_an_answer_or_no_match() {
        let bot = bot();
        assert!(matches!(
            bot.on_message(&support("c"), "おはようございます", Lang::Ja),
            Decision::Silent(_)
        ));
        let dm = Incoming {
            channel: "dm",
            is_dm: true,
            ..Incoming::default()
        };
        assert!(matches!(
            bot.on_message(&dm, "おはようございます", Lang::Ja),
            Decision::NoMatch
        ));
        assert!(
            matches!(bot.on_message(&dm, "楽天カード 3Dセキュア", Lang::Ja), Decision::Answer(a) if a.id == "3ds2-registration")
        );
    }
}
