//! One scenario table (paste, chatter, bot, mention, DM, repeat, edit, restart, vote, admin)
//! run against both fakes through [`Harness`]: what kotae does is decided once, in the
//! feature layer, so both platforms must show the same behaviour. Each platform's test file
//! implements the harness (how to send, edit, restart, vote and ask as an admin there, and
//! how to read what kotae did) and keeps only what is platform-specific.

use std::collections::HashMap;
use std::time::Duration;

/// A JAL Pay -> ANA Pay charge refusal: the entry with the 2025-04-30 notice.
pub const PASTE: &str = "本人認証に不正が検知しました。(MW1M01AJ0004)";
pub const ENTRY: &str = "jalpay-to-anapay-charge-20000";
/// The entry's official page, which the reply to a 👎 must carry.
pub const NOTICE_URL: &str = "https://www.jal.co.jp/jp/ja/jmb/jalpay/pay/notice/20250430_charge";
pub const CHATTER: &str = "おはようございます";

/// Where a message is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A configured support channel: auto-replies.
    Support,
    /// Any other channel: only mentions are answered.
    Elsewhere,
    Dm,
}

/// Who writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Author {
    Person,
    /// A second person in the same channel.
    AnotherPerson,
    /// Another bot or an app.
    OtherBot,
}

/// What kotae did about one message, as a harness reads it from its fake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    /// An answer with `entry`, posted as the message `reply` (votes go there).
    Answer {
        entry: String,
        reply: String,
    },
    /// The "nothing matched" hint.
    NoMatch,
    /// A visible "answered a moment ago" (Discord's 🔁).
    Repeat,
    Nothing,
}

/// What a scenario expects, in the platform-neutral terms of the feature layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Answer,
    NoMatch,
    /// The same entry again in the channel within the cooldown: pointed at, not repeated
    /// (shown where the platform shows it, see [`Harness::SHOWS_REPEATS`]).
    Repeat,
    Nothing,
    /// An edit that now matches: answered where edits reach kotae
    /// ([`Harness::SEES_EDITS`]), nothing elsewhere.
    AnswerIfEditsSeen,
}

/// One step of a scenario. Messages are named by a `key` for later steps.
#[derive(Debug, Clone, Copy)]
pub enum Step {
    Send {
        key: &'static str,
        place: Place,
        author: Author,
        mention: bool,
        text: &'static str,
        expect: Expect,
    },
    /// The message `key` edited to `text`.
    Edit {
        key: &'static str,
        text: &'static str,
        expect: Expect,
    },
    /// The platform delivers the message `key` again (a retry, a replay after a reconnect).
    Redeliver {
        key: &'static str,
        expect: Expect,
    },
    /// kotae stops and starts again on the same database.
    Restart,
    /// kotae has posted `n` messages in `place` so far (not [`Place::Dm`], where the
    /// harnesses' sentinel questions may go).
    Posts {
        place: Place,
        n: usize,
    },
    Sleep(Duration),
    /// `user` votes on kotae's answer to `key`; then the votes on the entry are `votes`
    /// (helpful, not helpful) and kotae has replied to `replies` votes in all.
    Vote {
        on: &'static str,
        user: u8,
        helpful: bool,
        votes: (u64, u64),
        replies: usize,
    },
    /// `/kotae-admin <command>` by an admin or not; the answer contains `contains` and not
    /// `lacks` (empty: no check).
    Admin {
        admin: bool,
        command: &'static str,
        contains: &'static str,
        lacks: &'static str,
    },
}

#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    pub name: &'static str,
    /// The cooldown kotae runs with.
    pub cooldown: Duration,
    pub steps: &'static [Step],
}

const LONG: Duration = Duration::from_secs(600);

const fn send(key: &'static str, place: Place, text: &'static str, expect: Expect) -> Step {
    Step::Send {
        key,
        place,
        author: Author::Person,
        mention: false,
        text,
        expect,
    }
}

/// The table. Each scenario runs on a fresh kotae and fake.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "paste",
        cooldown: LONG,
        steps: &[send("a", Place::Support, PASTE, Expect::Answer)],
    },
    Scenario {
        name: "chatter",
        cooldown: LONG,
        steps: &[
            send("a", Place::Support, CHATTER, Expect::Nothing),
            send("b", Place::Elsewhere, CHATTER, Expect::Nothing),
            send("c", Place::Elsewhere, PASTE, Expect::Nothing),
        ],
    },
    Scenario {
        name: "bot",
        cooldown: LONG,
        steps: &[
            Step::Send {
                key: "a",
                place: Place::Support,
                author: Author::OtherBot,
                mention: false,
                text: PASTE,
                expect: Expect::Nothing,
            },
            Step::Send {
                key: "b",
                place: Place::Elsewhere,
                author: Author::OtherBot,
                mention: true,
                text: PASTE,
                expect: Expect::Nothing,
            },
        ],
    },
    Scenario {
        name: "mention",
        cooldown: LONG,
        steps: &[
            Step::Send {
                key: "a",
                place: Place::Elsewhere,
                author: Author::Person,
                mention: true,
                text: PASTE,
                expect: Expect::Answer,
            },
            Step::Send {
                key: "b",
                place: Place::Elsewhere,
                author: Author::Person,
                mention: true,
                text: CHATTER,
                expect: Expect::NoMatch,
            },
            // A question is answered whenever asked, so only dedup stops a re-delivery.
            Step::Redeliver {
                key: "a",
                expect: Expect::Nothing,
            },
            Step::Posts {
                place: Place::Elsewhere,
                n: 2,
            },
        ],
    },
    Scenario {
        name: "dm",
        cooldown: LONG,
        steps: &[
            send("a", Place::Dm, PASTE, Expect::Answer),
            send("b", Place::Dm, CHATTER, Expect::NoMatch),
            // A question is answered every time: the cooldown is for channels' auto-replies.
            send("c", Place::Dm, PASTE, Expect::Answer),
        ],
    },
    Scenario {
        name: "repeat",
        cooldown: LONG,
        steps: &[
            send("a", Place::Support, PASTE, Expect::Answer),
            Step::Send {
                key: "b",
                place: Place::Support,
                author: Author::AnotherPerson,
                mention: false,
                text: PASTE,
                expect: Expect::Repeat,
            },
            Step::Redeliver {
                key: "a",
                expect: Expect::Nothing,
            },
            Step::Posts {
                place: Place::Support,
                n: 1,
            },
        ],
    },
    Scenario {
        name: "edit",
        cooldown: LONG,
        steps: &[
            send("a", Place::Support, CHATTER, Expect::Nothing),
            Step::Edit {
                key: "a",
                text: PASTE,
                expect: Expect::AnswerIfEditsSeen,
            },
            Step::Edit {
                key: "a",
                text: PASTE,
                expect: Expect::Nothing,
            },
            send("b", Place::Dm, CHATTER, Expect::NoMatch),
            Step::Edit {
                key: "b",
                text: "こんにちは",
                expect: Expect::Nothing,
            },
        ],
    },
    Scenario {
        // Issue 13: after a restart, an edit of an answered message once the cooldown has
        // passed must not take the cooldown, or the next paste gets 🔁 instead of an answer.
        name: "restart",
        cooldown: Duration::from_secs(1),
        steps: &[
            send("a", Place::Support, PASTE, Expect::Answer),
            Step::Restart,
            Step::Sleep(Duration::from_millis(2100)),
            Step::Redeliver {
                key: "a",
                expect: Expect::Nothing,
            },
            Step::Edit {
                key: "a",
                text: "本人認証に不正が検知しました。(MW1M01AJ0004) (再送)",
                expect: Expect::Nothing,
            },
            send("b", Place::Support, PASTE, Expect::Answer),
            Step::Posts {
                place: Place::Support,
                n: 2,
            },
        ],
    },
    Scenario {
        name: "vote",
        cooldown: LONG,
        steps: &[
            send("a", Place::Support, PASTE, Expect::Answer),
            Step::Vote {
                on: "a",
                user: 1,
                helpful: true,
                votes: (1, 0),
                replies: 0,
            },
            Step::Vote {
                on: "a",
                user: 1,
                helpful: true,
                votes: (1, 0),
                replies: 0,
            },
            Step::Vote {
                on: "a",
                user: 2,
                helpful: true,
                votes: (2, 0),
                replies: 0,
            },
            // A change of mind is one 👎 and one reply with the official pages.
            Step::Vote {
                on: "a",
                user: 1,
                helpful: false,
                votes: (1, 1),
                replies: 1,
            },
            Step::Vote {
                on: "a",
                user: 1,
                helpful: false,
                votes: (1, 1),
                replies: 1,
            },
        ],
    },
    Scenario {
        name: "admin",
        cooldown: LONG,
        steps: &[
            Step::Admin {
                admin: true,
                command: "test MW1M01AJ0004",
                contains: "auto mode: would reply with jalpay-to-anapay-charge-20000",
                lacks: "",
            },
            Step::Admin {
                admin: false,
                command: "test MW1M01AJ0004",
                contains: ".admin_",
                lacks: ENTRY,
            },
            send("a", Place::Support, PASTE, Expect::Answer),
            Step::Admin {
                admin: true,
                command: "stats",
                contains: ENTRY,
                lacks: ".admin_",
            },
            Step::Admin {
                admin: true,
                command: "reload",
                contains: "built-in knowledge",
                lacks: "",
            },
        ],
    },
];

/// How a scenario drives one platform through its fake.
#[allow(async_fn_in_trait)]
pub trait Harness: Sized {
    /// The platform, for messages.
    const NAME: &'static str;
    /// Whether a repeat is shown (Discord reacts 🔁) or kotae stays quiet (Slack).
    const SHOWS_REPEATS: bool;
    /// Whether edits reach kotae (Discord's MESSAGE_UPDATE) or are ignored (Slack's
    /// `message_changed`).
    const SEES_EDITS: bool;

    /// A fresh fake and kotae (built-in knowledge, a database in a temporary folder).
    async fn start(cooldown: Duration) -> Self;
    /// Sends a message and returns its id.
    async fn send(&mut self, place: Place, author: Author, mention: bool, text: &str) -> String;
    async fn edit(&mut self, id: &str, text: &str);
    async fn redeliver(&mut self, id: &str);
    /// What kotae did about message `id` since it was sent, edited or re-delivered: waits
    /// for a reply, or for a later message to be answered before it says nothing.
    async fn seen(&mut self, id: &str) -> Seen;
    async fn restart(&mut self);
    /// How many messages kotae has posted in `place` so far.
    async fn posts(&mut self, place: Place) -> usize;
    /// `user` votes on kotae's answer `reply` to the message `id`.
    async fn vote(&mut self, id: &str, reply: &str, user: u8, helpful: bool);
    /// The votes on [`ENTRY`] in the store once they reach `want` (or a timeout), after a
    /// moment for any that should not come.
    async fn settled_votes(&mut self, want: (u64, u64)) -> (u64, u64);
    /// kotae's replies to votes on `reply` so far.
    async fn vote_replies(&mut self, reply: &str) -> Vec<String>;
    /// The text of kotae's answer to `/kotae-admin <command>`.
    async fn admin(&mut self, admin: bool, command: &str) -> String;
    /// Stops kotae and checks the fake saw nothing the platform would refuse.
    async fn finish(self);
}

/// Runs every scenario of the table on `H`, each on a fresh harness.
pub async fn run_all<H: Harness>() {
    for s in SCENARIOS {
        run::<H>(s).await;
    }
}

/// Runs one scenario; panics with the platform, scenario and step that went wrong.
pub async fn run<H: Harness>(s: &Scenario) {
    let mut h = H::start(s.cooldown).await;
    let mut ids: HashMap<&str, String> = HashMap::new();
    let mut answers: HashMap<&str, String> = HashMap::new();
    for (n, step) in s.steps.iter().enumerate() {
        let at = format!("{} / {} / step {n} {step:?}", H::NAME, s.name);
        match *step {
            Step::Send {
                key,
                place,
                author,
                mention,
                text,
                expect,
            } => {
                let id = h.send(place, author, mention, text).await;
                let seen = h.seen(&id).await;
                check::<H>(&at, expect, &seen);
                if let Seen::Answer { reply, .. } = seen {
                    answers.insert(key, reply);
                }
                ids.insert(key, id);
            }
            Step::Edit { key, text, expect } => {
                let id = ids[key].clone();
                h.edit(&id, text).await;
                let seen = h.seen(&id).await;
                check::<H>(&at, expect, &seen);
            }
            Step::Redeliver { key, expect } => {
                let id = ids[key].clone();
                h.redeliver(&id).await;
                let seen = h.seen(&id).await;
                check::<H>(&at, expect, &seen);
            }
            Step::Restart => h.restart().await,
            Step::Posts { place, n } => {
                assert_ne!(place, Place::Dm, "{at}: sentinels go to DMs");
                assert_eq!(h.posts(place).await, n, "{at}");
            }
            Step::Sleep(d) => tokio::time::sleep(d).await,
            Step::Vote {
                on,
                user,
                helpful,
                votes,
                replies,
            } => {
                let reply = answers
                    .get(on)
                    .unwrap_or_else(|| panic!("{at}: {on} was not answered"))
                    .clone();
                h.vote(&ids[on], &reply, user, helpful).await;
                assert_eq!(h.settled_votes(votes).await, votes, "{at}");
                let texts = h.vote_replies(&reply).await;
                assert_eq!(texts.len(), replies, "{at}: {texts:#?}");
                for t in &texts {
                    assert!(t.contains(NOTICE_URL), "{at}: the official page in {t}");
                }
            }
            Step::Admin {
                admin,
                command,
                contains,
                lacks,
            } => {
                let text = h.admin(admin, command).await;
                assert!(text.contains(contains), "{at}: {text}");
                assert!(lacks.is_empty() || !text.contains(lacks), "{at}: {text}");
            }
        }
    }
    h.finish().await;
}

fn check<H: Harness>(at: &str, expect: Expect, seen: &Seen) {
    let ok = match expect {
        Expect::Answer => matches!(seen, Seen::Answer { entry, .. } if entry == ENTRY),
        Expect::AnswerIfEditsSeen if H::SEES_EDITS => {
            matches!(seen, Seen::Answer { entry, .. } if entry == ENTRY)
        }
        Expect::AnswerIfEditsSeen => *seen == Seen::Nothing,
        Expect::NoMatch => *seen == Seen::NoMatch,
        Expect::Repeat if H::SHOWS_REPEATS => *seen == Seen::Repeat,
        Expect::Repeat | Expect::Nothing => *seen == Seen::Nothing,
    };
    assert!(ok, "{at}: expected {expect:?}, kotae did {seen:?}");
}
