//! Helpers shared by the running-bot load drivers (`slack_load`, `discord_load`): when each
//! event was due and the open-loop pacing that sends it then, free ports, `/proc` readers for
//! a process's CPU time and resident memory, the load average, percentiles.

// Each driver uses a different part.
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The most events one driver run sends in all.
pub const MAX_EVENTS: usize = 2_000_000;

/// When each event was due, shared by a driver's sender and its fake platform, which sees the
/// answer and works out the latency from the event's sequence number.
pub struct Timeline {
    start: Instant,
    /// Nanoseconds after `start` at which event `seq` was due (0: not sent).
    due: Vec<AtomicU64>,
}

pub fn timeline() -> &'static Timeline {
    static T: OnceLock<Timeline> = OnceLock::new();
    T.get_or_init(|| Timeline {
        start: Instant::now(),
        due: (0..MAX_EVENTS).map(|_| AtomicU64::new(0)).collect(),
    })
}

impl Timeline {
    /// Nanoseconds since the driver started.
    pub fn nanos(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }

    /// Notes that event `seq` was due at `due` (nanoseconds from [`Timeline::nanos`]).
    pub fn set_due(&self, seq: usize, due: u64) {
        self.due[seq].store(due.max(1), Ordering::Relaxed);
    }

    /// Notes that event `seq` is due now.
    pub fn due_now(&self, seq: usize) {
        self.set_due(seq, self.nanos());
    }

    /// Nanoseconds from when event `seq` was due until `now`; None for an event not sent.
    pub fn since_due(&self, seq: usize, now: u64) -> Option<u64> {
        let due = self.due.get(seq)?.load(Ordering::Relaxed);
        (due > 0).then(|| now.saturating_sub(due))
    }
}

/// Calls `send(i, due)` for `i` in `0..count` at `rate` per second, open loop (each when it
/// is due, from a 0.5 ms tick, however the earlier ones fared), so a queue in front of the bot
/// shows up in the latencies. Returns how long sending took.
pub async fn paced(rate: f64, count: usize, mut send: impl FnMut(usize, u64)) -> Duration {
    let t = timeline();
    let start = t.nanos();
    let period = 1e9 / rate;
    let mut tick = tokio::time::interval(Duration::from_micros(500));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut sent = 0usize;
    while sent < count {
        tick.tick().await;
        let due_count = (((t.nanos() - start) as f64 / period) as usize + 1).min(count);
        while sent < due_count {
            send(sent, start + (sent as f64 * period) as u64);
            sent += 1;
        }
    }
    Duration::from_nanos(t.nanos() - start)
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `(VmRSS, VmHWM)` in KiB.
pub fn rss(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// User + system CPU seconds used so far by `pid`.
pub fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which ends with the last ')'): utime is the 12th, stime the 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .skip(11)
        .take(2)
        .filter_map(|v| v.parse().ok())
        .collect();
    f.iter().sum::<u64>() as f64 / 100.0
}

pub fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `p` quantile (0..=1) of sorted nanoseconds, in milliseconds (NaN when empty).
pub fn pct(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1e6
}

/// Stops the child with SIGTERM and reaps it when dropped.
pub struct Killer(pub std::process::Child);
impl Drop for Killer {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}
