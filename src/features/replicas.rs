//! What replicas sharing one database check about each other: that they serve the same
//! knowledge (issue 16). Each replica writes its pack's content hash to the store every
//! [`HEARTBEAT_EVERY`] and reads those of the replicas alive; a difference that lasts past
//! [`GRACE_SECS`] is logged and told to the admins once, so a rolling deploy (old and new
//! pack side by side for a few minutes) alarms no one. The same tick probes the store, so
//! `/metrics` shows a lost database even when nobody asks `/healthz`.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::bot::{unix_now, Bot};
use crate::metrics::Health;

pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(30);
/// A replica not heard of for this long is gone (three missed heartbeats).
pub const LIVE_SECS: i64 = 90;
/// How long replicas may disagree before the admins hear of it: longer than a rolling
/// deploy takes.
pub const GRACE_SECS: i64 = 600;

/// Whether the packs disagree, and since when.
#[derive(Debug, Default)]
pub struct PackWatch {
    since: Option<i64>,
    told: bool,
}

impl PackWatch {
    /// Takes the (replica, hash) pairs of a heartbeat; returns the admin notice once the
    /// packs have differed for `grace` seconds (once per disagreement).
    pub fn observe(
        &mut self,
        mine: &str,
        replicas: &[(String, String)],
        now: i64,
        grace: i64,
    ) -> Option<String> {
        let others: Vec<String> = replicas
            .iter()
            .filter(|(_, h)| h != mine)
            .map(|(id, h)| format!("{id} ({h})"))
            .collect();
        if others.is_empty() {
            self.since = None;
            self.told = false;
            return None;
        }
        let since = *self.since.get_or_insert_with(|| {
            tracing::warn!(mine, others = ?others, grace_secs = grace, "another replica serves a different knowledge pack");
            now
        });
        if self.told || now - since < grace {
            return None;
        }
        self.told = true;
        tracing::warn!(mine, others = ?others, "replicas still serve different knowledge packs; telling the admins");
        Some(format!(
            "Replicas serve different knowledge for {} min: this one {mine}, others {}. Deploy the same pack to every replica.",
            (now - since) / 60,
            others.join(", ")
        ))
    }
}

/// The heartbeat loop of `kotae serve`, until `stop`.
pub async fn watch(bot: Arc<Bot>, stop: CancellationToken) {
    let Some(store) = bot.store().cloned() else {
        return;
    };
    let mut packs = PackWatch::default();
    let mut tick = tokio::time::interval(HEARTBEAT_EVERY);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let mine = bot.pack().content_hash().to_string();
        let (s, hash, now) = (store.clone(), mine.clone(), unix_now());
        let beat = tokio::task::spawn_blocking(move || {
            let ping = s.ping();
            (ping, s.heartbeat(&hash, now, LIVE_SECS))
        })
        .await;
        let Ok((ping, replicas)) = beat else { continue };
        bot.metrics().set_health(
            "store",
            match ping {
                Ok(()) => Health::Up,
                Err(e) => Health::Down(e.to_string()),
            },
        );
        if let Ok(replicas) = replicas {
            if let Some(text) = packs.observe(&mine, &replicas, now, GRACE_SECS) {
                bot.notify_admins(text);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn a_different_pack_is_told_once_after_the_grace_period() {
        let mut w = PackWatch::default();
        let same = r(&[("a", "h1"), ("b", "h1")]);
        let differ = r(&[("a", "h1"), ("b", "h2")]);
        assert_eq!(w.observe("h1", &same, 0, 600), None);
        assert_eq!(w.observe("h1", &differ, 100, 600), None, "rolling deploy");
        assert_eq!(w.observe("h1", &differ, 699, 600), None);
        let told = w.observe("h1", &differ, 700, 600).expect("told");
        assert!(told.contains("b (h2)") && told.contains("10 min"), "{told}");
        assert_eq!(w.observe("h1", &differ, 800, 600), None, "once");
        // Agreement resets; a new difference waits for the grace again.
        assert_eq!(w.observe("h1", &same, 900, 600), None);
        assert_eq!(w.observe("h1", &differ, 1000, 600), None);
        assert!(w.observe("h1", &differ, 1600, 600).is_some());
    }
}
