//! Counters and a latency histogram for `/metrics`, in the Prometheus text format, plus the
//! component health behind `/healthz`.
//!
//! Hand-written rather than a metrics crate: kotae exports a handful of series, and the text
//! format is simple enough that owning it keeps the dependency list short.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds (seconds) of the match latency histogram buckets.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.005, 0.01, 0.05,
];

/// A component's state, as `/healthz` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    Up,
    /// Starting or reconnecting: not an error yet.
    Connecting,
    Down(String),
}

#[derive(Debug, Default)]
struct Histogram {
    buckets: Vec<u64>,
    count: u64,
    sum: f64,
}

/// Everything `/metrics` exports.
#[derive(Debug, Default)]
pub struct Metrics {
    /// (platform, entry) -> answers posted.
    answers: Mutex<BTreeMap<(String, String), u64>>,
    /// (platform, helpful) -> votes.
    feedback: Mutex<BTreeMap<(String, bool), u64>>,
    unmatched: AtomicU64,
    messages: AtomicU64,
    pub reload_ok: AtomicU64,
    pub reload_failed: AtomicU64,
    /// platform -> events shed under overload.
    shed: Mutex<BTreeMap<String, u64>>,
    /// platform -> mentions and DMs refused by the per-user limit.
    rate_limited: Mutex<BTreeMap<String, u64>>,
    /// Connections the Slack receiver refused because every slot was taken.
    connections_refused: AtomicU64,
    latency: Mutex<Histogram>,
    health: Mutex<BTreeMap<String, Health>>,
    /// The content hash of the pack answering now.
    pack_hash: Mutex<String>,
}

fn bump<K: Ord>(map: &Mutex<BTreeMap<K, u64>>, key: K) {
    *map.lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(key)
        .or_default() += 1;
}

/// Escapes a label value as the text format requires.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    pub fn answered(&self, platform: &str, entry_id: &str) {
        bump(&self.answers, (platform.to_string(), entry_id.to_string()));
    }

    pub fn voted(&self, platform: &str, helpful: bool) {
        bump(&self.feedback, (platform.to_string(), helpful));
    }

    pub fn shed(&self, platform: &str) {
        bump(&self.shed, platform.to_string());
    }

    pub fn rate_limited(&self, platform: &str) {
        bump(&self.rate_limited, platform.to_string());
    }

    pub fn connection_refused(&self) {
        self.connections_refused.fetch_add(1, Ordering::Relaxed);
    }

    pub fn unmatched(&self) {
        self.unmatched.fetch_add(1, Ordering::Relaxed);
    }

    /// Answers posted since start, by (platform, entry): for `/kotae-admin stats` without a
    /// database, read here rather than parsed back from [`Metrics::render`].
    pub fn answers(&self) -> Vec<((String, String), u64)> {
        self.answers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(k, n)| (k.clone(), *n))
            .collect()
    }

    /// Unmatched pastes that looked like errors, since start.
    pub fn unmatched_total(&self) -> u64 {
        self.unmatched.load(Ordering::Relaxed)
    }

    /// One message matched, taking `took`.
    pub fn matched(&self, took: Duration) {
        self.messages.fetch_add(1, Ordering::Relaxed);
        let secs = took.as_secs_f64();
        let mut h = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        if h.buckets.is_empty() {
            h.buckets = vec![0; LATENCY_BUCKETS.len()];
        }
        if let Some(i) = LATENCY_BUCKETS.iter().position(|&b| secs <= b) {
            h.buckets[i] += 1;
        }
        h.count += 1;
        h.sum += secs;
    }

    /// Sets a component's health (`store`, `discord`, `slack`).
    pub fn set_health(&self, component: &str, health: Health) {
        self.health
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(component.to_string(), health);
    }

    pub fn set_pack_hash(&self, hash: &str) {
        *self.pack_hash.lock().unwrap_or_else(|p| p.into_inner()) = hash.to_string();
    }

    pub fn pack_hash(&self) -> String {
        self.pack_hash
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Every component and its state; healthy when none is down.
    pub fn health(&self) -> (bool, BTreeMap<String, Health>) {
        let h = self
            .health
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        (!h.values().any(|v| matches!(v, Health::Down(_))), h)
    }

    /// The Prometheus text exposition of every series.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP kotae_knowledge_info The knowledge pack answering now, by content hash (replicas must agree)."
        );
        let _ = writeln!(out, "# TYPE kotae_knowledge_info gauge");
        let _ = writeln!(
            out,
            "kotae_knowledge_info{{hash=\"{}\"}} 1",
            label(&self.pack_hash())
        );
        let _ = writeln!(
            out,
            "# HELP kotae_answers_total Answers posted, by platform and knowledge entry."
        );
        let _ = writeln!(out, "# TYPE kotae_answers_total counter");
        for ((platform, entry), n) in self
            .answers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "kotae_answers_total{{platform=\"{}\",entry=\"{}\"}} {n}",
                label(platform),
                label(entry)
            );
        }
        let _ = writeln!(
            out,
            "# HELP kotae_feedback_total Votes on answers, by platform and verdict."
        );
        let _ = writeln!(out, "# TYPE kotae_feedback_total counter");
        for ((platform, helpful), n) in self
            .feedback
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let verdict = if *helpful { "helpful" } else { "not_helpful" };
            let _ = writeln!(
                out,
                "kotae_feedback_total{{platform=\"{}\",verdict=\"{verdict}\"}} {n}",
                label(platform)
            );
        }
        let _ = writeln!(out, "# HELP kotae_unmatched_total Pastes in support channels that looked like an error but matched nothing.");
        let _ = writeln!(out, "# TYPE kotae_unmatched_total counter");
        let _ = writeln!(
            out,
            "kotae_unmatched_total {}",
            self.unmatched.load(Ordering::Relaxed)
        );
        let _ = writeln!(out, "# HELP kotae_messages_total Messages matched.");
        let _ = writeln!(out, "# TYPE kotae_messages_total counter");
        let _ = writeln!(
            out,
            "kotae_messages_total {}",
            self.messages.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP kotae_reloads_total Knowledge reloads, by result."
        );
        let _ = writeln!(out, "# TYPE kotae_reloads_total counter");
        let _ = writeln!(
            out,
            "kotae_reloads_total{{result=\"ok\"}} {}",
            self.reload_ok.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "kotae_reloads_total{{result=\"failed\"}} {}",
            self.reload_failed.load(Ordering::Relaxed)
        );
        let _ = writeln!(
            out,
            "# HELP kotae_events_shed_total Events dropped (after the ack) because max_events_in_flight were being worked on, by platform."
        );
        let _ = writeln!(out, "# TYPE kotae_events_shed_total counter");
        for (platform, n) in self.shed.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            let _ = writeln!(
                out,
                "kotae_events_shed_total{{platform=\"{}\"}} {n}",
                label(platform)
            );
        }
        let _ = writeln!(
            out,
            "# HELP kotae_user_rate_limited_total Mentions and DMs not answered because their user passed user_asks_per_minute, by platform."
        );
        let _ = writeln!(out, "# TYPE kotae_user_rate_limited_total counter");
        for (platform, n) in self
            .rate_limited
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
        {
            let _ = writeln!(
                out,
                "kotae_user_rate_limited_total{{platform=\"{}\"}} {n}",
                label(platform)
            );
        }
        let _ = writeln!(
            out,
            "# HELP kotae_connections_refused_total Connections the Slack receiver refused (503) because all its slots were taken."
        );
        let _ = writeln!(out, "# TYPE kotae_connections_refused_total counter");
        let _ = writeln!(
            out,
            "kotae_connections_refused_total {}",
            self.connections_refused.load(Ordering::Relaxed)
        );
        let _ = writeln!(out, "# HELP kotae_match_seconds Time to match one message.");
        let _ = writeln!(out, "# TYPE kotae_match_seconds histogram");
        let h = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        let mut cumulative = 0;
        for (i, bound) in LATENCY_BUCKETS.iter().enumerate() {
            cumulative += h.buckets.get(i).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "kotae_match_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        let _ = writeln!(out, "kotae_match_seconds_bucket{{le=\"+Inf\"}} {}", h.count);
        let _ = writeln!(out, "kotae_match_seconds_sum {}", h.sum);
        let _ = writeln!(out, "kotae_match_seconds_count {}", h.count);
        drop(h);
        let _ = writeln!(
            out,
            "# HELP kotae_up Whether a component is up (1), connecting (0.5) or down (0)."
        );
        let _ = writeln!(out, "# TYPE kotae_up gauge");
        for (component, health) in self.health().1 {
            let v = match health {
                Health::Up => "1",
                Health::Connecting => "0.5",
                Health::Down(_) => "0",
            };
            let _ = writeln!(out, "kotae_up{{component=\"{}\"}} {v}", label(&component));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative() {
        let m = Metrics::default();
        m.matched(Duration::from_micros(5));
        m.matched(Duration::from_micros(30));
        m.matched(Duration::from_secs(1));
        let text = m.render();
        assert!(
            text.contains("kotae_match_seconds_bucket{le=\"0.00001\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("kotae_match_seconds_bucket{le=\"0.00005\"} 2"),
            "{text}"
        );
        assert!(
            text.contains("kotae_match_seconds_bucket{le=\"+Inf\"} 3"),
            "{text}"
        );
        assert!(text.contains("kotae_match_seconds_count 3"));
    }

    #[test]
    fn labels_are_escaped() {
        let m = Metrics::default();
        m.answered("dis\"cord", "a\\b");
        assert!(m
            .render()
            .contains("platform=\"dis\\\"cord\",entry=\"a\\\\b\""));
    }

    #[test]
    fn health_is_down_when_any_component_is() {
        let m = Metrics::default();
        m.set_health("store", Health::Up);
        m.set_health("slack", Health::Connecting);
        assert!(m.health().0);
        m.set_health("discord", Health::Down("gateway closed".into()));
        assert!(!m.health().0);
    }
}
