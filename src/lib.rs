//! kotae (答え): answers pasted payment-app error messages with the cause, the workaround and
//! the official links, in Discord, in Slack and in the terminal.
//!
//! # Layout
//! - [`knowledge`]: the TOML knowledge pack: schema, validation, self-test, built-in copy.
//! - [`matcher`]: normalize -> one-pass index -> rank -> facts. Pure, no I/O.
//! - [`reply`]: the platform-neutral [`reply::Answer`] and its terminal rendering.
//! - [`policy`]: who gets an auto-reply, where, and the per-channel cooldown.
//! - [`bot`]: the shared decision for a chat message (gate, match, cooldown, answer) and the
//!   swappable knowledge handle.
//! - [`config`]: `config/kotae.toml` and the secrets read from the environment.
//! - [`eval`]: `kotae eval`, answer quality on the labeled corpus (`tests/corpus`).
//! - [`serve`]: `kotae serve`, running the configured adapters until a signal.
//! - [`reload`]: hot reload of the knowledge pack (poll + SIGHUP), all or nothing.
//! - [`store`]: SQLite: answers, votes, knowledge gaps, cooldowns and seen events.
//! - [`metrics`], [`ops`]: counters, the latency histogram, `/healthz` and `/metrics`.
//! - [`report`]: `kotae report` rendering (text, JSON, CSV).
//! - [`ocr`]: screenshots: image limits, the OCR worker process and its queue, OCR text for
//!   the matcher.
//! - [`redact`]: personal data (cards, phones, e-mails, member numbers) out of stored text.
//! - [`adapters`]: platform I/O: Discord, Slack, the terminal shell.
//!
//! The flow is always adapter -> policy -> matcher -> reply -> render -> adapter.

pub mod adapters;
pub mod bot;
pub mod config;
pub mod eval;
pub mod knowledge;
pub mod matcher;
pub mod metrics;
pub mod ocr;
pub mod ops;
pub mod policy;
pub mod redact;
pub mod reload;
pub mod reply;
pub mod report;
pub mod serve;
pub mod store;

pub use knowledge::{Lang, Pack};
pub use matcher::{Mode, Outcome};

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_knowledge.rs"));
}

/// The knowledge pack compiled into this binary from `knowledge/`.
pub fn builtin_sources() -> Vec<knowledge::Source> {
    builtin::BUILTIN
        .iter()
        .map(|(name, bytes)| knowledge::Source::new(*name, *bytes))
        .collect()
}

/// Loads the built-in pack. It is checked by the test suite, so failure here means a
/// broken build, but it is still reported, not a panic.
pub fn builtin_pack() -> Result<Pack, knowledge::KnowledgeError> {
    Pack::from_sources(builtin_sources())
}
