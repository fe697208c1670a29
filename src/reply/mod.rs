//! What kotae says, platform-neutral: the [`Answer`] built from a match, the [`Reply`] every
//! feature returns, and every word shown to people ([`Labels`]).
//!
//! Adapters render a `Reply`; none of them reaches back into the knowledge pack or words a
//! text of its own, so every platform says the same thing.

mod answer;
mod labels;
pub mod render_text;

use std::time::Duration;

pub use answer::{format_yen, Answer, LinkView, MAX_UNVERIFIED_CODES};
pub use labels::{notices_dropped, shell, Labels, NOTICE_TITLE, RELOAD_BUILT_IN};

use crate::knowledge::Lang;

/// One line of the entry list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListItem {
    pub id: String,
    pub title: String,
    pub codes: Vec<String>,
}

/// One page of the entry list, its words already in the asker's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListPage {
    pub title: String,
    pub items: Vec<ListItem>,
    pub footer: String,
}

/// What a feature asks an adapter to show. The adapter only renders and sends it.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Say nothing; the reason is for debug logs.
    Nothing(&'static str),
    /// An answer. Posted as a message of its own it gets the 👍 / 👎 votes.
    Answer(Box<Answer>),
    /// The same entry was answered in this channel `ago`: point at it, do not repeat it
    /// (Discord reacts 🔁, Slack stays quiet, the shell says so).
    Repeat { entry_id: String, ago: Duration },
    /// A short text (nothing matched, usage, a refusal), with an optional smaller hint.
    Notice { text: String, hint: Option<String> },
    /// Text shown as-is in code blocks: admin answers and notices.
    Preformatted { title: String, body: String },
    /// The reply to a 👎: thanks, a person will look, and the entry's official pages.
    VoteDown { lang: Lang, links: Vec<LinkView> },
    /// A page of the entry list.
    List(ListPage),
}

impl Reply {
    /// A notice without a hint.
    pub fn notice(text: impl Into<String>) -> Reply {
        Reply::Notice {
            text: text.into(),
            hint: None,
        }
    }

    /// Whether kotae acted on the message (answered it or pointed at the answer), so a later
    /// edit or re-delivery of it must get nothing more.
    pub fn acted(&self) -> bool {
        matches!(self, Reply::Answer(_) | Reply::Repeat { .. })
    }
}
