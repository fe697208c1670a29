//! One bound on the events a process works on at once, shared by every platform: past it,
//! new events are shed (dropped after the platform's ack) instead of queued.
//!
//! Past ~2,500 Discord messages a second the process grew to hundreds of MiB while events
//! waited, and Slack spawned a task per event without limit. Shedding keeps memory flat and
//! the process responsive (`/healthz`, acks); what is shed is counted in `/metrics`
//! (`kotae_events_shed_total{platform}`) and logged at most once per interval.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::metrics::Metrics;
use crate::throttle::LogEvery;

/// Far more than a support workspace sends at once, few enough that shedding starts while
/// memory is still small (each event in flight holds its text and a pending REST call).
pub const DEFAULT_MAX_IN_FLIGHT: usize = 256;

/// The process's slots for events in flight.
#[derive(Debug)]
pub struct InFlight {
    slots: Arc<Semaphore>,
    limit: usize,
    shed_log: LogEvery,
}

impl InFlight {
    pub fn new(limit: usize) -> InFlight {
        let limit = limit.max(1);
        InFlight {
            slots: Arc::new(Semaphore::new(limit)),
            limit,
            shed_log: LogEvery::default(),
        }
    }

    /// Events being worked on now.
    pub fn in_use(&self) -> usize {
        self.limit.saturating_sub(self.slots.available_permits())
    }
}

impl Default for InFlight {
    fn default() -> Self {
        InFlight::new(DEFAULT_MAX_IN_FLIGHT)
    }
}

/// One event's slot, held while its work runs (match, store, the platform's REST call).
#[derive(Debug)]
pub struct Admitted(#[allow(dead_code)] OwnedSemaphorePermit);

impl InFlight {
    /// A slot for one more event from `platform`, or None when the process is at its bound:
    /// the caller drops the event (after acking it), and the shed is counted in `metrics`
    /// and logged.
    pub fn admit(&self, metrics: &Metrics, platform: &str) -> Option<Admitted> {
        match self.slots.clone().try_acquire_owned() {
            Ok(permit) => Some(Admitted(permit)),
            Err(_) => {
                metrics.shed(platform);
                if let Some(skipped) = self.shed_log.hit() {
                    tracing::warn!(
                        platform,
                        limit = self.limit,
                        skipped,
                        "overloaded: events beyond max_events_in_flight are dropped"
                    );
                }
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::bot::Bot;
    use std::time::Duration;

    #[test]
    fn past_the_bound_events_are_shed_and_counted_until_a_slot_is_free() {
        let bot = Bot::new(
            crate::builtin_pack().unwrap(),
            Duration::from_secs(1),
            crate::Lang::Ja,
        )
        .with_max_in_flight(2);
        let a = bot.admit("slack").expect("first");
        let _b = bot.admit("discord").expect("second");
        assert!(bot.admit("slack").is_none());
        assert!(bot.admit("discord").is_none());
        drop(a);
        assert!(bot.admit("slack").is_some());
        let text = bot.metrics().render();
        assert!(
            text.contains("kotae_events_shed_total{platform=\"slack\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("kotae_events_shed_total{platform=\"discord\"} 1"),
            "{text}"
        );
    }
}
