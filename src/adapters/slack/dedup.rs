//! Remembers recently handled Slack event ids, so a retried or re-delivered event is answered
//! once. In memory, bounded, with expiry: Slack retries within minutes, not hours.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an id is remembered: Slack's last Events API retry comes about 5 minutes after
/// the first try.
pub const DEFAULT_TTL: Duration = Duration::from_secs(60 * 60);
/// How many ids are remembered at most; the oldest go first.
pub const DEFAULT_CAPACITY: usize = 10_000;

#[derive(Debug)]
pub struct Dedup {
    ttl: Duration,
    capacity: usize,
    inner: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    at: HashMap<String, Instant>,
    order: VecDeque<(String, Instant)>,
}

impl Default for Dedup {
    fn default() -> Self {
        Dedup::new(DEFAULT_TTL, DEFAULT_CAPACITY)
    }
}

impl Dedup {
    pub fn new(ttl: Duration, capacity: usize) -> Dedup {
        Dedup {
            ttl,
            capacity: capacity.max(1),
            inner: Mutex::new(Seen::default()),
        }
    }

    /// True the first time `id` is seen (within the expiry), and records it.
    pub fn first_time(&self, id: &str) -> bool {
        self.first_time_at(id, Instant::now())
    }

    fn first_time_at(&self, id: &str, now: Instant) -> bool {
        let mut s = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        while s
            .order
            .front()
            .is_some_and(|(_, t)| now.saturating_duration_since(*t) >= self.ttl)
        {
            s.pop_oldest();
        }
        if s.at.contains_key(id) {
            return false;
        }
        while s.order.len() >= self.capacity {
            s.pop_oldest();
        }
        s.at.insert(id.to_string(), now);
        s.order.push_back((id.to_string(), now));
        true
    }
}

impl Seen {
    fn pop_oldest(&mut self) {
        if let Some((old, t)) = self.order.pop_front() {
            if self.at.get(&old) == Some(&t) {
                self.at.remove(&old);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_seen_once_until_they_expire_or_are_pushed_out() {
        let d = Dedup::new(Duration::from_secs(10), 3);
        let t = Instant::now();
        assert!(d.first_time_at("a", t));
        assert!(!d.first_time_at("a", t + Duration::from_secs(9)));
        assert!(d.first_time_at("a", t + Duration::from_secs(10)));
        let d = Dedup::new(Duration::from_secs(10), 2);
        assert!(d.first_time_at("a", t));
        assert!(d.first_time_at("b", t));
        assert!(d.first_time_at("c", t));
        assert!(!d.first_time_at("c", t));
        assert!(d.first_time_at("a", t), "the oldest id was pushed out");
    }
}
