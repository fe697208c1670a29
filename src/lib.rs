//! kotae (答え): answers pasted payment-app error messages with the cause, the workaround and
//! the official links, in Discord, in Slack and in the terminal.
//!
//! # Layout
//! - [`knowledge`]: the TOML knowledge pack: schema, validation, self-test, built-in copy.
//! - [`matcher`]: normalize -> one-pass index -> rank -> facts. Pure, no I/O.
//! - [`reply`]: the platform-neutral [`reply::Reply`] and [`reply::Answer`], every word
//!   shown to people ([`reply::Labels`]), and the terminal rendering.
//! - [`policy`]: who gets an auto-reply, where, and the per-channel cooldown.
//! - [`bot`]: the state the features share (knowledge, dedup, cooldown, store, counters).
//! - [`features`]: answer, lookup, feedback, admin, notices, once for every platform.
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
//! - [`overload`]: one bound on events in flight per process; past it events are shed.
//! - [`throttle`]: warnings that a flood could repeat, logged once per interval.
//! - [`adapters`]: transport and rendering: Discord, Slack, the terminal shell.
//!
//! The flow is always adapter -> feature -> (policy, matcher, store) -> [`reply::Reply`] ->
//! the adapter renders and sends it.

pub mod adapters;
pub mod bot;
pub mod config;
pub mod eval;
pub mod features;
pub mod knowledge;
pub mod matcher;
pub mod metrics;
pub mod normalize;
// Always built: the config's `[ocr]` table, the limits, the service and the text handling
// need no OCR crate; only the engine and the worker loop are behind the `ocr` feature
// (src/ocr/mod.rs), and without it the service says screenshots are off.
pub mod ocr;
#[cfg(feature = "ops")]
pub mod ops;
pub mod overload;
pub mod pack;
pub mod policy;
pub mod ratelimit;
pub mod redact;
pub mod reload;
pub mod reply;
pub mod report;
#[cfg(feature = "ops")]
pub mod serve;
pub mod store;
pub mod synthetic;
pub mod throttle;

#[cfg(test)]
mod layering;

pub use knowledge::Lang;
pub use matcher::{Mode, Outcome};
pub use pack::Pack;

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
