//! A warning that may come thousands of times a second (a flood of badly signed requests,
//! events shed under overload, connections refused) is logged at most once per interval,
//! with how many were left out, so an attacker or a burst cannot fill the disk with logs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often each throttled warning may appear: often enough to see an attack start and end,
/// rarely enough that a flood costs a few lines a minute.
pub const LOG_EVERY: Duration = Duration::from_secs(10);

/// One throttled warning.
#[derive(Debug)]
pub struct LogEvery {
    every: Duration,
    /// When the last line was let through; None before the first.
    last: Mutex<Option<Instant>>,
    /// Occurrences since that line, not logged.
    skipped: AtomicU64,
}

impl Default for LogEvery {
    fn default() -> Self {
        LogEvery::new(LOG_EVERY)
    }
}

impl LogEvery {
    pub fn new(every: Duration) -> LogEvery {
        LogEvery {
            every,
            last: Mutex::new(None),
            skipped: AtomicU64::new(0),
        }
    }

    /// Counts one occurrence. `Some(n)` when this one should be logged, `n` being how many
    /// were left out since the last line; `None` when it should not.
    pub fn hit(&self) -> Option<u64> {
        let now = Instant::now();
        // try_lock: under a flood, the threads that lose the race are the ones not logged.
        let Ok(mut last) = self.last.try_lock() else {
            self.skipped.fetch_add(1, Ordering::Relaxed);
            return None;
        };
        match *last {
            Some(t) if now.duration_since(t) < self.every => {
                self.skipped.fetch_add(1, Ordering::Relaxed);
                None
            }
            _ => {
                *last = Some(now);
                Some(self.skipped.swap(0, Ordering::Relaxed))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_gives_one_line_then_one_per_interval_with_the_count_left_out() {
        let t = LogEvery::new(Duration::from_millis(200));
        assert_eq!(t.hit(), Some(0));
        for _ in 0..1000 {
            assert_eq!(t.hit(), None);
        }
        std::thread::sleep(Duration::from_millis(250));
        assert_eq!(t.hit(), Some(1000));
        assert_eq!(t.hit(), None);
    }
}
