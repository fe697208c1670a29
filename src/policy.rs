//! Auto-reply rules shared by every chat adapter: who gets an answer, where, and how often.
//!
//! Platform-free and clock-injected: adapters translate their events into [`Incoming`] and
//! ask [`Policy`]; tests drive time by hand. Discord and Slack share this code, so "the same
//! cooldown rule" is one implementation, not two.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What an adapter knows about a message, reduced to what the rules need.
#[derive(Debug, Clone, Copy, Default)]
pub struct Incoming<'a> {
    pub channel: &'a str,
    /// Another bot, a webhook, or an app.
    pub from_bot: bool,
    /// kotae itself.
    pub from_self: bool,
    pub is_dm: bool,
    pub mentions_kotae: bool,
    /// The channel is configured for auto-replies.
    pub support_channel: bool,
}

/// What to do with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gate {
    /// Match in auto mode; answer only a confident match.
    Auto,
    /// Someone asked kotae directly (a mention or a DM): answer the best candidate, or say
    /// that nothing matched.
    Ask,
    /// Stay silent.
    Ignore(&'static str),
}

/// Decides whether a message is for kotae at all.
pub fn gate(m: &Incoming) -> Gate {
    if m.from_self {
        Gate::Ignore("own message")
    } else if m.from_bot {
        Gate::Ignore("bot or webhook")
    } else if m.is_dm || m.mentions_kotae {
        Gate::Ask
    } else if m.support_channel {
        Gate::Auto
    } else {
        Gate::Ignore("not a support channel")
    }
}

/// Whether an unmatched message looks like an error worth keeping as a knowledge gap: an
/// error-code shape, a failure word, or a quoted system message.
pub fn looks_like_error(text: &str) -> bool {
    use std::sync::LazyLock;
    static CODE: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"(?i)(^|[^a-z0-9])[a-z]{1,8}[a-z0-9]*[0-9]{3,}[a-z0-9]*").unwrap()
    });
    const WORDS: &[&str] = &[
        "エラー",
        "失敗",
        "できない",
        "できません",
        "使えない",
        "使えません",
        "お試しください",
        "error",
        "failed",
        "failure",
    ];
    let n = crate::matcher::normalize(text);
    WORDS.iter().any(|w| n.compact.contains(w))
        || CODE.is_match(&n.spaced)
        || (n.spaced.contains('「') && n.spaced.contains('」'))
}

/// A time source, so cooldown tests need not sleep.
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// The result of asking the cooldown whether an entry may be answered again in a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cooldown {
    /// Answer; the answer is now recorded.
    Answer,
    /// The same entry was answered in this channel `ago`; point to it instead of repeating.
    Repeat { ago: Duration },
}

/// Remembers, per channel and entry, when kotae last answered, so a channel pasting the same
/// error five times gets one answer.
pub struct Policy {
    window: Duration,
    clock: Box<dyn Clock>,
    last: Mutex<HashMap<(String, String), Instant>>,
    seen: Mutex<HashMap<String, Instant>>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("window", &self.window)
            .finish()
    }
}

/// The default cooldown: ten minutes.
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(600);

impl Policy {
    pub fn new(window: Duration) -> Policy {
        Policy::with_clock(window, Box::new(SystemClock))
    }

    pub fn with_clock(window: Duration, clock: Box<dyn Clock>) -> Policy {
        Policy {
            window,
            clock,
            last: Mutex::new(HashMap::new()),
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// The cooldown window.
    pub fn window(&self) -> Duration {
        self.window
    }

    /// Returns true the first time `key` is seen within a day (bounded memory).
    pub fn first_time(&self, key: &str) -> bool {
        const KEEP: Duration = Duration::from_secs(24 * 3600);
        let now = self.clock.now();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() > 50_000 {
            seen.retain(|_, t| now.saturating_duration_since(*t) < KEEP);
        }
        match seen.get(key) {
            Some(t) if now.saturating_duration_since(*t) < KEEP => false,
            _ => {
                seen.insert(key.to_string(), now);
                true
            }
        }
    }

    /// Whether `key` was recorded by [`Policy::first_time`] within a day, without recording it.
    pub fn seen(&self, key: &str) -> bool {
        const KEEP: Duration = Duration::from_secs(24 * 3600);
        let now = self.clock.now();
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.get(key)
            .is_some_and(|t| now.saturating_duration_since(*t) < KEEP)
    }

    /// Checks and, when the answer is [`Cooldown::Answer`], records in one step, so two
    /// concurrent pastes cannot both be answered.
    pub fn cooldown(&self, channel: &str, entry_id: &str) -> Cooldown {
        let now = self.clock.now();
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        if last.len() > 10_000 {
            let window = self.window;
            last.retain(|_, t| now.saturating_duration_since(*t) < window);
        }
        let key = (channel.to_string(), entry_id.to_string());
        if let Some(t) = last.get(&key) {
            let ago = now.saturating_duration_since(*t);
            if ago < self.window {
                return Cooldown::Repeat { ago };
            }
        }
        last.insert(key, now);
        Cooldown::Answer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    struct ManualClock(Arc<Mutex<Instant>>);
    impl Clock for ManualClock {
        fn now(&self) -> Instant {
            *self.0.lock().unwrap()
        }
    }

    #[test]
    fn what_looks_like_an_error() {
        for yes in [
            "XY1234 が出た",
            "チャージに失敗",
            "「処理できませんでした」と出る",
            "Payment failed",
            "ログインできない",
        ] {
            assert!(looks_like_error(yes), "{yes}");
        }
        for no in [
            "おはようございます",
            "今日は 2025年12月28日",
            "ありがとう！助かりました",
        ] {
            assert!(!looks_like_error(no), "{no}");
        }
    }

    #[test]
    fn events_are_first_seen_once() {
        let p = Policy::new(Duration::from_secs(1));
        assert!(p.first_time("e1"));
        assert!(!p.first_time("e1"));
        assert!(p.first_time("e2"));
        assert!(p.seen("e1"));
        assert!(!p.seen("e3"));
        assert!(p.first_time("e3"), "looking does not record");
    }

    #[test]
    fn gate_rules() {
        let base = Incoming {
            channel: "c",
            ..Incoming::default()
        };
        assert_eq!(
            gate(&Incoming {
                support_channel: true,
                ..base
            }),
            Gate::Auto
        );
        assert_eq!(gate(&base), Gate::Ignore("not a support channel"));
        assert_eq!(
            gate(&Incoming {
                mentions_kotae: true,
                ..base
            }),
            Gate::Ask
        );
        assert_eq!(
            gate(&Incoming {
                is_dm: true,
                ..base
            }),
            Gate::Ask
        );
        let bot = Incoming {
            from_bot: true,
            support_channel: true,
            mentions_kotae: true,
            ..base
        };
        assert!(matches!(gate(&bot), Gate::Ignore(_)));
        let me = Incoming {
            from_self: true,
            is_dm: true,
            ..base
        };
        assert!(matches!(gate(&me), Gate::Ignore(_)));
    }

    #[test]
    fn cooldown_per_channel_and_entry() {
        let t = Arc::new(Mutex::new(Instant::now()));
        let p = Policy::with_clock(Duration::from_secs(600), Box::new(ManualClock(t.clone())));
        assert_eq!(p.cooldown("c1", "e"), Cooldown::Answer);
        assert!(matches!(p.cooldown("c1", "e"), Cooldown::Repeat { .. }));
        assert_eq!(p.cooldown("c2", "e"), Cooldown::Answer);
        assert_eq!(p.cooldown("c1", "other"), Cooldown::Answer);
        *t.lock().unwrap() += Duration::from_secs(599);
        assert_eq!(
            p.cooldown("c1", "e"),
            Cooldown::Repeat {
                ago: Duration::from_secs(599)
            }
        );
        *t.lock().unwrap() += Duration::from_secs(1);
        assert_eq!(p.cooldown("c1", "e"), Cooldown::Answer);
    }
}
