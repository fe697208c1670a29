//! `/kotae-admin reload | test <text> | stats`: one command type, parsed once from text
//! (Slack) or built from subcommands (Discord), run the same way everywhere. Who may run it
//! is the adapter's question (Discord roles, Slack user ids); the refusal's words are here.

use std::fmt::Write;
use std::sync::Arc;

use crate::bot::{unix_now, Bot};
use crate::knowledge::Lang;
use crate::matcher::Mode;
use crate::reply::{Labels, Reply, RELOAD_BUILT_IN};

/// An admin command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminCommand {
    /// Reload the knowledge from its files, like SIGHUP.
    Reload,
    /// Which entry would answer `text`, and why.
    Test(String),
    /// The last 7 days from the store, or the counters since start.
    Stats,
}

impl AdminCommand {
    /// `reload`, `test <text>` or `stats` (the verb in any case); None for anything else,
    /// `test` without text included.
    pub fn parse(text: &str) -> Option<AdminCommand> {
        let text = text.trim();
        let (verb, rest) = match text.split_once(char::is_whitespace) {
            Some((v, r)) => (v, r.trim()),
            None => (text, ""),
        };
        match verb.to_ascii_lowercase().as_str() {
            "reload" => Some(AdminCommand::Reload),
            "test" if !rest.is_empty() => Some(AdminCommand::Test(rest.to_string())),
            "stats" => Some(AdminCommand::Stats),
            _ => None,
        }
    }

    /// The name logs and titles use.
    pub fn verb(&self) -> &'static str {
        match self {
            AdminCommand::Reload => "reload",
            AdminCommand::Test(_) => "test",
            AdminCommand::Stats => "stats",
        }
    }
}

/// What an unknown or incomplete `/kotae-admin` gets.
pub fn usage(lang: Lang) -> Reply {
    Reply::notice(Labels::get(lang).admin_usage)
}

/// What someone who is not an admin gets; `setting` is the config key listing the admins.
pub fn refused(lang: Lang, setting: &str) -> Reply {
    Reply::notice(Labels::get(lang).not_admin(setting))
}

/// Runs `cmd`. Reloading and reading the store block, so they run off the async workers:
/// a reload on the one reload thread ([`crate::reload::on_reload_thread`]), the stats on
/// tokio's blocking pool.
pub async fn run(bot: Arc<Bot>, cmd: AdminCommand) -> Reply {
    let (title, body) = match cmd {
        AdminCommand::Reload => match crate::reload::on_reload_thread(move || reload(&bot)).await {
            Ok(Ok(done)) => ("reload", done),
            Ok(Err(why)) => ("reload refused", why),
            Err(e) => ("reload refused", e.to_string()),
        },
        AdminCommand::Test(text) => ("test", explain(&bot, &text)),
        AdminCommand::Stats => {
            let stats = tokio::task::spawn_blocking(move || stats(&bot))
                .await
                .unwrap_or_else(|e| format!("the stats task failed: {e}"));
            ("stats", stats)
        }
    };
    Reply::Preformatted {
        title: title.into(),
        body,
    }
}

/// `/kotae-admin test <text>`: which entry would answer and why, the evidence and score
/// of the top candidates, and whether auto mode would reply.
pub fn explain(bot: &Bot, text: &str) -> String {
    let pack = bot.pack();
    let auto = pack.query(text, Mode::Auto);
    let lookup = pack.query(text, Mode::Lookup);
    let mut out = String::new();
    match auto.answer() {
        Some(m) => {
            let _ = writeln!(
                out,
                "auto mode: would reply with {} (score {})",
                m.id, m.score
            );
        }
        None => {
            let why = match lookup.matches.first() {
                _ if auto.judgement.explain().is_some() => format!(
                    "not a problem report: {}",
                    auto.judgement.explain().unwrap_or_default()
                ),
                None => "nothing matched".to_string(),
                Some(m) if !m.confident => format!(
                    "the best candidate {} has only weak evidence (no code or pattern, too few keyword groups)",
                    m.id
                ),
                Some(_) => "two candidates tie on keywords only".to_string(),
            };
            let _ = writeln!(out, "auto mode: silent: {why}");
        }
    }
    if let Some(amount) = lookup.facts.amount_jpy {
        let _ = writeln!(out, "amount found: ¥{}", crate::reply::format_yen(amount));
    }
    if let Some(card) = &lookup.facts.card {
        let _ = writeln!(out, "card found: {card}");
    }
    for (i, m) in lookup.matches.iter().enumerate() {
        let _ = writeln!(
            out,
            "{}. {} score {}{}",
            i + 1,
            m.id,
            m.score,
            if m.confident { " (confident)" } else { "" }
        );
        for e in &m.evidence {
            let _ = writeln!(out, "   - {e}");
        }
    }
    if lookup.truncated {
        let _ = writeln!(
            out,
            "(only the first {} bytes were read)",
            crate::matcher::MAX_INPUT_BYTES
        );
    }
    out
}

/// `/kotae-admin stats`: the last 7 days from the store, or the counters since start.
/// Blocking (the store is read): [`run`] calls it on the blocking pool.
pub fn stats(bot: &Bot) -> String {
    let since = unix_now() - 7 * 86_400;
    match bot.store().map(|s| s.report(since, 5)) {
        Some(Ok(report)) => crate::report::render(&report, crate::report::Format::Text),
        Some(Err(e)) => format!("the store failed: {e}"),
        None => {
            let mut out = String::new();
            let _ = writeln!(out, "no database configured; counters since start:");
            for ((platform, entry), n) in bot.metrics().answers() {
                let _ = writeln!(out, "  answers {platform} {entry}: {n}");
            }
            let _ = writeln!(
                out,
                "  unmatched pastes: {}",
                bot.metrics().unmatched_total()
            );
            out
        }
    }
}

/// `/kotae-admin reload`: reloads the knowledge like SIGHUP does; the result in one
/// message (`file:line: problem` lines when refused). Blocking: [`run`] calls it on the
/// reload thread, like every other reload.
pub fn reload(bot: &Bot) -> Result<String, String> {
    let Some(path) = bot.knowledge_path() else {
        return Err(RELOAD_BUILT_IN.into());
    };
    match crate::reload::reload(bot, path) {
        crate::reload::Reloaded::Swapped(n) => {
            Ok(format!("reloaded {n} entries from {}", path.display()))
        }
        crate::reload::Reloaded::Refused(e) => {
            Err(format!("refused, the old knowledge keeps answering:\n{e}"))
        }
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    use super::super::test_bot as bot;

    #[test]
    fn the_command_is_parsed_once_from_text() {
        assert_eq!(AdminCommand::parse(" RELOAD "), Some(AdminCommand::Reload));
        assert_eq!(AdminCommand::parse("stats"), Some(AdminCommand::Stats));
        assert_eq!(
            AdminCommand::parse("test  MW1M01AJ0004 です"),
            Some(AdminCommand::Test("MW1M01AJ0004 です".into()))
        );
        assert_eq!(AdminCommand::parse("test"), None);
        assert_eq!(AdminCommand::parse("restart"), None);
        assert_eq!(AdminCommand::parse(""), None);
    }

    #[test]
    fn explain_says_why() {
        let bot = bot();
        let e = explain(&bot, "MW1M01AJ0004");
        assert!(
            e.starts_with("auto mode: would reply with jalpay-to-anapay-charge-20000"),
            "{e}"
        );
        assert!(e.contains("code MW1M01AJ0004"), "{e}");
        let e = explain(&bot, "JAL Pay");
        assert!(
            e.starts_with("auto mode: silent: the best candidate"),
            "{e}"
        );
        assert!(explain(&bot, "zzz").contains("nothing matched"));
        let e = explain(&bot, "MW1M01AJ0004出てたけど2万1千円にしたら通りました！");
        assert!(
            e.starts_with(
                "auto mode: silent: not a problem report: it reports that the problem is solved"
            ),
            "{e}"
        );
        let e = explain(&bot, "楽天カードで1万円チャージしたら MW1M01AJ0004");
        assert!(
            e.contains("amount found: ¥10,000\ncard found: rakuten-card"),
            "{e}"
        );
    }

    #[test]
    fn reload_needs_a_path() {
        assert!(reload(&bot()).unwrap_err().contains("built-in knowledge"));
    }

    #[test]
    fn stats_without_a_store_are_the_counters_read_directly() {
        let bot = bot();
        bot.metrics().answered("slack", "e1");
        bot.metrics().answered("slack", "e1");
        bot.metrics().unmatched();
        let s = stats(&bot);
        assert!(s.starts_with("no database configured"), "{s}");
        assert!(s.contains("answers slack e1: 2"), "{s}");
        assert!(s.contains("unmatched pastes: 1"), "{s}");
    }
}
