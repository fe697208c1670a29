//! The state every feature shares in one `kotae serve`: the knowledge answering now, the
//! cooldown and dedup rules, the store, the counters and the admin notices.
//!
//! `Bot` holds state and the primitive operations on it (dedup, cooldown, record); what to
//! do with a message lives in the `features` module, whose entry points are methods on `Bot`
//! defined next to each feature (an inherent `impl` may sit in any module of the crate), so
//! this module imports no feature and no platform.

use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::knowledge::Lang;
use crate::matcher::Mode;
use crate::metrics::Metrics;
use crate::pack::Pack;
use crate::policy::{Cooldown, Policy};
use crate::reply::Answer;
use crate::store::{AnswerRecord, Store, Unmatched, Vote};

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

/// What the answer feature decided for a message, before any platform renders it.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Say nothing. The reason is for debug logs.
    Silent(&'static str),
    /// Post this answer; it carries the mode the gate chose ([`Answer::mode`]), so no
    /// adapter asks the gate again.
    Answer(Box<Answer>),
    /// The same entry was answered in this channel `ago`; react or point to it, do not repeat.
    Repeat { entry_id: String, ago: Duration },
    /// Someone asked directly and nothing matched: say so, with a hint.
    NoMatch,
}

/// How long handled event ids are remembered: Slack retries for minutes, not days.
pub const SEEN_KEEP_SECS: i64 = 24 * 3600;

/// State shared by every adapter of one `kotae serve`.
pub struct Bot {
    knowledge: Knowledge,
    policy: Policy,
    /// The language when the platform tells nothing better.
    default_lang: Lang,
    /// Answers, votes, gaps, and the cooldown across restarts; in memory only when absent.
    store: Option<Arc<dyn Store>>,
    /// Counted where things happen (here, in the features, in the adapters for health).
    metrics: Metrics,
    /// Where the knowledge was loaded from; None for the built-in pack (nothing to reload).
    knowledge_path: Option<std::path::PathBuf>,
    /// Messages for the admins (a refused reload, say); each adapter subscribes and posts
    /// them to its configured admin channel.
    notices: tokio::sync::broadcast::Sender<String>,
    /// The slots every platform's events take ([`crate::overload`]).
    in_flight: crate::overload::InFlight,
    /// Mentions and DMs per user per minute ([`crate::ratelimit`]).
    asks: crate::ratelimit::PerUser,
    /// Reads screenshots; None when the OCR runtime or models are missing (screenshots off).
    ocr: Option<crate::ocr::OcrService>,
}

impl std::fmt::Debug for Bot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bot")
            .field("policy", &self.policy)
            .field("default_lang", &self.default_lang)
            .field("store", &self.store.is_some())
            .field("ocr", &self.ocr.is_some())
            .finish()
    }
}

pub(crate) fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Bot {
    pub fn new(pack: Pack, cooldown: Duration, default_lang: Lang) -> Bot {
        let metrics = Metrics::default();
        metrics.set_pack_hash(pack.content_hash());
        Bot {
            knowledge: Knowledge::new(pack),
            policy: Policy::new(cooldown),
            default_lang,
            store: None,
            metrics,
            knowledge_path: None,
            notices: tokio::sync::broadcast::channel(16).0,
            in_flight: crate::overload::InFlight::default(),
            asks: crate::ratelimit::PerUser::default(),
            ocr: None,
        }
    }

    /// Reads the images on messages with `ocr` (without it, images are ignored).
    pub fn with_ocr(mut self, ocr: crate::ocr::OcrService) -> Bot {
        self.ocr = Some(ocr);
        self
    }

    /// The screenshot reader, when screenshots are on.
    pub fn ocr(&self) -> Option<&crate::ocr::OcrService> {
        self.ocr.as_ref()
    }

    /// At most `per_minute` mentions and DMs per user are answered (0: no limit).
    pub fn with_user_asks_per_minute(mut self, per_minute: u32) -> Bot {
        self.asks = crate::ratelimit::PerUser::new(per_minute);
        self
    }

    /// Whether `user` of `platform` may ask kotae directly now; a refusal is counted.
    pub fn user_may_ask(&self, platform: &str, user: &str) -> bool {
        let ok = self
            .asks
            .allow(&format!("{platform}:{user}"), std::time::Instant::now());
        if !ok {
            self.metrics.rate_limited(platform);
        }
        ok
    }

    /// At most `limit` events (all platforms together) are worked on at once; more are shed.
    pub fn with_max_in_flight(mut self, limit: usize) -> Bot {
        self.in_flight = crate::overload::InFlight::new(limit);
        self
    }

    /// A slot for one more event from `platform` in the process's bound
    /// ([`crate::overload`]); None means shed it: it is already counted and logged.
    pub fn admit(&self, platform: &str) -> Option<crate::overload::Admitted> {
        self.in_flight.admit(&self.metrics, platform)
    }

    /// Events (all platforms) being worked on now: an operator's gauge, and how tests know
    /// a slow event (a screenshot being read) is done with.
    pub fn events_in_flight(&self) -> usize {
        self.in_flight.in_use()
    }

    /// Keeps answers, votes, gaps and cooldowns in `store`.
    pub fn with_store(mut self, store: Arc<dyn Store>) -> Bot {
        self.store = Some(store);
        self
    }

    /// Remembers where the knowledge comes from, so an admin can reload it.
    pub fn with_knowledge_path(mut self, path: std::path::PathBuf) -> Bot {
        self.knowledge_path = Some(path);
        self
    }

    /// The pack answering now (a snapshot: a reload does not change it under the caller).
    pub fn pack(&self) -> Arc<Pack> {
        self.knowledge.get()
    }

    /// Swaps in a new, already validated pack.
    pub fn replace_pack(&self, pack: Pack) {
        self.metrics.set_pack_hash(pack.content_hash());
        self.knowledge.replace(pack);
    }

    pub fn default_lang(&self) -> Lang {
        self.default_lang
    }

    pub fn knowledge_path(&self) -> Option<&std::path::Path> {
        self.knowledge_path.as_deref()
    }

    pub fn store(&self) -> Option<&Arc<dyn Store>> {
        self.store.as_ref()
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Tells the admins (every adapter with an admin channel); dropped when none listens.
    pub fn notify_admins(&self, text: impl Into<String>) {
        let _ = self.notices.send(text.into());
    }

    /// A receiver of the admin notices sent from now on.
    pub fn subscribe_notices(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.notices.subscribe()
    }

    /// Keeps an unmatched paste as a knowledge gap; the store redacts it.
    pub(crate) fn record_gap(&self, platform: &str, channel: &str, text: &str) {
        self.metrics.unmatched();
        if let Some(store) = &self.store {
            let gap = Unmatched {
                at: unix_now(),
                platform: platform.into(),
                channel: channel.into(),
                text: crate::store::Redacted::new(text),
            };
            if let Err(e) = store.record_unmatched(&gap) {
                tracing::warn!(error = %e, "could not record an unmatched paste");
            }
        }
    }

    /// The store's cooldown when there is a store (it survives restarts), else the in-memory
    /// one. A failing store never costs an answer: the in-memory rule decides then.
    pub(crate) fn cooldown(&self, channel: &str, entry_id: &str) -> Cooldown {
        if let Some(store) = &self.store {
            let window = self.policy.window().as_secs() as i64;
            match store.cooldown(channel, entry_id, unix_now(), window) {
                Ok(None) => return Cooldown::Answer,
                Ok(Some(ago)) => {
                    return Cooldown::Repeat {
                        ago: Duration::from_secs(ago.max(0) as u64),
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cooldown store failed; using memory"),
            }
        }
        self.policy.cooldown(channel, entry_id)
    }

    /// Records a posted answer (after the platform returned the reply's message id, empty
    /// when it did not); false when there is no store or it failed. Votes find the answer by
    /// its message id.
    pub fn record_answer(
        &self,
        platform: &str,
        channel: &str,
        message: &str,
        answer: &Answer,
        mode: Mode,
    ) -> bool {
        self.metrics.answered(platform, &answer.id);
        let Some(store) = self.store.as_ref() else {
            return false;
        };
        let record = AnswerRecord {
            at: unix_now(),
            platform: platform.into(),
            channel: channel.into(),
            message: message.into(),
            entry_id: answer.id.clone(),
            mode: match mode {
                Mode::Auto => "auto",
                Mode::Lookup => "lookup",
            }
            .into(),
            score: answer.score,
        };
        match store.record_answer(&record) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "could not record an answer");
                false
            }
        }
    }

    /// Records `user`'s vote on kotae's reply `message`, once per user and answer. Returns
    /// None when the message is not one of kotae's answers (or there is no store).
    pub fn record_vote(
        &self,
        platform: &str,
        message: &str,
        user: &str,
        helpful: bool,
    ) -> Option<Vote> {
        let store = self.store.as_ref()?;
        let result = store.answer_by_message(platform, message).and_then(|id| {
            id.map(|id| store.record_vote(id, user, helpful, unix_now()))
                .transpose()
        });
        match result {
            Ok(Some(vote)) => {
                if vote != Vote::Same {
                    self.metrics.voted(platform, helpful);
                }
                Some(vote)
            }
            Ok(None) => None,
            Err(e) => {
                tracing::warn!(error = %e, "could not record a vote");
                None
            }
        }
    }

    /// The entry kotae answered with in its reply `message` on `platform`; None when the
    /// message is not a recorded answer (or there is no store).
    pub fn answer_entry(&self, platform: &str, message: &str) -> Option<String> {
        let store = self.store.as_ref()?;
        store.answer_entry(platform, message).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "could not look up an answer's entry");
            None
        })
    }

    /// Returns true the first time a platform event or message id is seen (also across
    /// restarts when there is a store), and records it, so re-deliveries are answered once.
    pub fn first_time(&self, key: &str) -> bool {
        match &self.store {
            Some(store) => store
                .first_time(key, unix_now(), SEEN_KEEP_SECS)
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "event dedup store failed; answering");
                    true
                }),
            None => self.policy.first_time(key),
        }
    }

    /// Tells the store that the claim of `key` is done with (answered, or nothing to say),
    /// so no other replica takes it over.
    pub fn settle(&self, key: &str) {
        if let Some(store) = &self.store {
            if let Err(e) = store.settle(key) {
                tracing::warn!(error = %e, "could not settle an event's claim");
            }
        }
    }

    /// Gives up the claim of `key` (nothing was done with the message), so a later edit of
    /// it is looked at again.
    pub fn release(&self, key: &str) {
        if let Some(store) = &self.store {
            if let Err(e) = store.release(key) {
                tracing::warn!(error = %e, "could not release a message's claim");
            }
        }
    }

    /// Whether the store's checks wait for the network (see [`Store::blocking`]).
    pub fn store_blocks(&self) -> bool {
        self.store.as_ref().is_some_and(|s| s.blocking())
    }

    /// Whether `key` was recorded by [`Bot::first_time`], without recording it: a message
    /// that may still be edited is checked before the decision and recorded only once kotae
    /// acted on it.
    pub fn seen(&self, key: &str) -> bool {
        match &self.store {
            Some(store) => store
                .seen(key, unix_now(), SEEN_KEEP_SECS)
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "event dedup store failed; answering");
                    false
                }),
            None => self.policy.seen(key),
        }
    }
}
