//! The features, written once for every platform (triagebot's one handler per feature):
//!
//! - [`answer`]: auto-replies and questions: dedup -> gate -> match -> cooldown -> record.
//! - [`lookup`]: the slash command, its autocomplete, the entry list.
//! - [`feedback`]: 👍 / 👎 votes and the reply to a 👎.
//! - [`admin`]: `/kotae-admin reload | test | stats`.
//! - [`notices`]: admin notices for the admin channel.
//! - [`replicas`]: replicas on one database compare their knowledge packs.
//! - [`screenshots`]: the images on a message, read by OCR into the answer's text.
//!
//! Each takes the shared [`crate::bot::Bot`] and plain values, and returns a
//! [`crate::reply::Reply`] that the adapter renders and sends. Nothing here imports a
//! platform crate; an adapter is transport and rendering only, and `kotae shell` is one.

pub mod admin;
pub mod answer;
pub mod feedback;
pub mod lookup;
pub mod notices;
pub mod replicas;
pub mod screenshots;

/// The bot the features' unit tests share: the built-in pack, a 10-minute cooldown, Japanese.
#[cfg(test)]
pub(crate) fn test_bot() -> crate::bot::Bot {
    crate::bot::Bot::new(
        crate::builtin_pack().unwrap(),
        std::time::Duration::from_secs(600),
        crate::knowledge::Lang::Ja,
    )
}
