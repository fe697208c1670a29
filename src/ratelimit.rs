//! Per-user rate limits: how often one person may ask kotae directly (mentions and DMs),
//! so one user cannot make the bot flood a channel or spend its REST budget.
//!
//! A fixed one-minute window per key (`platform:user`). Keys idle for a window are pruned
//! when the table grows, so a crowd of one-time askers does not grow memory for ever.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Mentions and DMs per user per minute when the config says nothing: more than a person
/// asking questions types, fewer than a script.
pub const DEFAULT_ASKS_PER_MINUTE: u32 = 10;

const WINDOW: Duration = Duration::from_secs(60);
/// Above this many keys, the idle ones are dropped before a new one is added.
const PRUNE_ABOVE: usize = 10_000;

/// A limit of `per_minute` per key; 0 means no limit.
#[derive(Debug)]
pub struct PerUser {
    per_minute: u32,
    seen: Mutex<HashMap<String, (Instant, u32)>>,
}

impl PerUser {
    pub fn new(per_minute: u32) -> PerUser {
        PerUser {
            per_minute,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `key` may go on now; counts the attempt when it may.
    pub fn allow(&self, key: &str, now: Instant) -> bool {
        if self.per_minute == 0 {
            return true;
        }
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= PRUNE_ABOVE && !seen.contains_key(key) {
            seen.retain(|_, (start, _)| now.saturating_duration_since(*start) < WINDOW);
        }
        let slot = seen.entry(key.to_string()).or_insert((now, 0));
        if now.saturating_duration_since(slot.0) >= WINDOW {
            *slot = (now, 0);
        }
        if slot.1 < self.per_minute {
            slot.1 += 1;
            true
        } else {
            false
        }
    }
}

impl Default for PerUser {
    fn default() -> PerUser {
        PerUser::new(DEFAULT_ASKS_PER_MINUTE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_past_the_limit_waits_for_the_next_minute_and_others_do_not() {
        let limit = PerUser::new(3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limit.allow("slack:U1", t0));
        }
        assert!(!limit.allow("slack:U1", t0 + Duration::from_secs(30)));
        assert!(limit.allow("slack:U2", t0 + Duration::from_secs(30)));
        assert!(limit.allow("slack:U1", t0 + Duration::from_secs(61)));
    }

    #[test]
    fn zero_is_no_limit_and_idle_keys_are_pruned() {
        let none = PerUser::new(0);
        let t0 = Instant::now();
        assert!((0..100).all(|_| none.allow("u", t0)));
        let limit = PerUser::new(1);
        for i in 0..PRUNE_ABOVE {
            limit.allow(&format!("u{i}"), t0);
        }
        limit.allow("late", t0 + Duration::from_secs(120));
        assert_eq!(limit.seen.lock().unwrap().len(), 1);
    }
}
