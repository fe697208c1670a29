//! The decision every chat adapter makes for a message, in one place: gate -> match ->
//! cooldown -> answer. Adapters translate platform events in and render the [`Decision`] out.

use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::knowledge::{Lang, Pack};
use crate::matcher::Mode;
use crate::metrics::Metrics;
use crate::policy::{gate, looks_like_error, Cooldown, Gate, Incoming, Policy};
use crate::reply::{Answer, LinkView};
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

/// What an adapter should do with a message.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Say nothing. The reason is for debug logs.
    Silent(&'static str),
    /// Post this answer.
    Answer(Box<Answer>),
    /// The same entry was answered in this channel `ago`; react or point to it, do not repeat.
    Repeat { entry_id: String, ago: Duration },
    /// Someone asked directly and nothing matched: say so, with a hint.
    NoMatch,
}

/// How long handled event ids are remembered: Slack retries for minutes, not days.
pub const SEEN_KEEP_SECS: i64 = 24 * 3600;

/// An autocomplete choice: what to show and the text that looks the entry up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    pub entry_id: String,
    pub label: String,
    pub query: String,
}

/// State shared by every adapter of one `kotae serve`.
pub struct Bot {
    pub knowledge: Knowledge,
    pub policy: Policy,
    /// The language when the platform tells nothing better.
    pub default_lang: Lang,
    /// Answers, votes, gaps, and the cooldown across restarts; in memory only when absent.
    pub store: Option<Arc<dyn Store>>,
    pub metrics: Metrics,
    /// Where the knowledge was loaded from; None for the built-in pack (nothing to reload).
    pub knowledge_path: Option<std::path::PathBuf>,
    /// Messages for the admins (a refused reload, say); each adapter subscribes and posts
    /// them to its configured admin channel.
    pub notices: tokio::sync::broadcast::Sender<String>,
}

impl std::fmt::Debug for Bot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bot")
            .field("policy", &self.policy)
            .field("default_lang", &self.default_lang)
            .field("store", &self.store.is_some())
            .finish()
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Bot {
    pub fn new(pack: Pack, cooldown: Duration, default_lang: Lang) -> Bot {
        Bot {
            knowledge: Knowledge::new(pack),
            policy: Policy::new(cooldown),
            default_lang,
            store: None,
            metrics: Metrics::default(),
            knowledge_path: None,
            notices: tokio::sync::broadcast::channel(16).0,
        }
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

    /// Tells the admins (every adapter with an admin channel); dropped when none listens.
    pub fn notify_admins(&self, text: impl Into<String>) {
        let _ = self.notices.send(text.into());
    }

    /// [`Bot::handle`] for callers that do not say their platform.
    pub fn on_message(&self, incoming: &Incoming, text: &str, lang: Lang) -> Decision {
        self.handle("chat", incoming, text, lang)
    }

    /// Decides what to do with `text` (already stripped of a leading mention of kotae) that
    /// arrived on `platform` (`discord`, `slack`). An unmatched paste in a support channel
    /// that looks like an error is kept (redacted) as a knowledge gap.
    pub fn handle(&self, platform: &str, incoming: &Incoming, text: &str, lang: Lang) -> Decision {
        let span = tracing::info_span!(
            "message",
            platform,
            channel = incoming.channel,
            outcome = tracing::field::Empty
        );
        let _enter = span.enter();
        if tracing::enabled!(tracing::Level::DEBUG) {
            tracing::debug!(text = %crate::redact::redact(text), "message text (redacted)");
        }
        let decision = self.decide(platform, incoming, text, lang);
        let outcome = match &decision {
            Decision::Silent(why) => *why,
            Decision::Answer(_) => "answered",
            Decision::Repeat { .. } => "repeat",
            Decision::NoMatch => "no match",
        };
        span.record("outcome", outcome);
        tracing::debug!(outcome, "handled");
        decision
    }

    fn decide(&self, platform: &str, incoming: &Incoming, text: &str, lang: Lang) -> Decision {
        let pack = self.knowledge.get();
        match gate(incoming) {
            Gate::Ignore(why) => Decision::Silent(why),
            Gate::Auto => {
                let started = std::time::Instant::now();
                let outcome = pack.query(text, Mode::Auto);
                self.metrics.matched(started.elapsed());
                let Some(m) = outcome.answer() else {
                    if looks_like_error(text) {
                        self.metrics.unmatched();
                        if let Some(store) = &self.store {
                            let gap = Unmatched {
                                at: unix_now(),
                                platform: platform.into(),
                                channel: incoming.channel.into(),
                                text: text.into(),
                            };
                            if let Err(e) = store.record_unmatched(&gap) {
                                tracing::warn!(error = %e, "could not record an unmatched paste");
                            }
                        }
                    }
                    return Decision::Silent("no confident match");
                };
                match self.cooldown(incoming.channel, &m.id) {
                    Cooldown::Repeat { ago } => Decision::Repeat {
                        entry_id: m.id.clone(),
                        ago,
                    },
                    Cooldown::Answer => Answer::build(&pack, &outcome, 0, lang)
                        .map_or(Decision::Silent("entry vanished"), |a| {
                            Decision::Answer(Box::new(a))
                        }),
                }
            }
            Gate::Ask => self.lookup(text, lang),
        }
    }

    /// The store's cooldown when there is a store (it survives restarts), else the in-memory
    /// one. A failing store never costs an answer: the in-memory rule decides then.
    fn cooldown(&self, channel: &str, entry_id: &str) -> Cooldown {
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
    /// restarts when there is a store), so re-deliveries are answered once.
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

    /// `/kotae-admin test <text>`: which entry would answer and why, the evidence and score
    /// of the top candidates, and whether auto mode would reply.
    pub fn explain(&self, text: &str) -> String {
        use std::fmt::Write;
        let pack = self.knowledge.get();
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
    pub fn stats(&self) -> String {
        use std::fmt::Write;
        let since = unix_now() - 7 * 86_400;
        match self.store.as_ref().map(|s| s.report(since, 5)) {
            Some(Ok(report)) => crate::report::render(&report, crate::report::Format::Text),
            Some(Err(e)) => format!("the store failed: {e}"),
            None => {
                let mut out = String::new();
                let _ = writeln!(out, "no database configured; counters since start:");
                for line in self.metrics.render().lines().filter(|l| {
                    l.starts_with("kotae_answers_total") || l.starts_with("kotae_unmatched_total")
                }) {
                    let _ = writeln!(out, "  {line}");
                }
                out
            }
        }
    }

    /// `/kotae-admin reload`: reloads the knowledge like SIGHUP does; the result in one
    /// message (`file:line: problem` lines when refused). Blocking: the adapters run it
    /// through [`crate::reload::on_reload_thread`], like every other reload.
    pub fn reload(&self) -> Result<String, String> {
        let Some(path) = &self.knowledge_path else {
            return Err("kotae runs on its built-in knowledge; set `knowledge` in the config to reload from files".into());
        };
        match crate::reload::reload(self, path) {
            crate::reload::Reloaded::Swapped(n) => {
                Ok(format!("reloaded {n} entries from {}", path.display()))
            }
            crate::reload::Reloaded::Refused(e) => {
                Err(format!("refused, the old knowledge keeps answering:\n{e}"))
            }
        }
    }

    /// The official links of entry `entry_id` in the current pack, for the reply to a "not
    /// helpful" vote: the person is pointed at the source while someone looks. None when the
    /// entry is gone (a reload removed it).
    pub fn links(&self, entry_id: &str, lang: Lang) -> Option<Vec<LinkView>> {
        let pack = self.knowledge.get();
        let e = pack.entry(entry_id)?;
        Some(
            e.links
                .iter()
                .map(|l| LinkView {
                    title: l.title.get(lang).to_string(),
                    url: l.url.clone(),
                    where_: l.where_.as_ref().map(|w| w.get(lang).to_string()),
                    highlighted: false,
                })
                .collect(),
        )
    }

    /// Entries whose title, code or id contains `typed` (case-insensitive), at most `limit`,
    /// for a command's autocomplete. Each carries a `query` that [`Bot::lookup`] answers
    /// with that entry, so picking a suggestion gets the entry it showed.
    pub fn suggest(&self, typed: &str, lang: Lang, limit: usize) -> Vec<Suggestion> {
        let pack = self.knowledge.get();
        let typed = typed.trim().to_lowercase();
        pack.entries()
            .iter()
            .filter(|e| {
                typed.is_empty()
                    || e.id.contains(&typed)
                    || e.title.get(lang).to_lowercase().contains(&typed)
                    || e.title.ja.to_lowercase().contains(&typed)
                    || e.codes.iter().any(|c| c.to_lowercase().contains(&typed))
            })
            .map(|e| {
                let title = e.title.get(lang);
                let label = match e.codes.first() {
                    Some(code) if !title.contains(code.as_str()) => format!("{code} {title}"),
                    _ => title.to_string(),
                };
                let query = e
                    .codes
                    .first()
                    .or_else(|| e.queries.first())
                    .or_else(|| e.examples.first())
                    .cloned()
                    .unwrap_or_else(|| e.title.ja.clone());
                Suggestion {
                    entry_id: e.id.clone(),
                    label,
                    query,
                }
            })
            .take(limit)
            .collect()
    }

    /// A direct question (slash command, mention, DM): the best candidate or [`Decision::NoMatch`].
    pub fn lookup(&self, text: &str, lang: Lang) -> Decision {
        let pack = self.knowledge.get();
        let outcome = pack.query(text, Mode::Lookup);
        match Answer::build(&pack, &outcome, 0, lang) {
            Some(a) => Decision::Answer(Box::new(a)),
            None => Decision::NoMatch,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bot() -> Bot {
        Bot::new(
            crate::builtin_pack().unwrap(),
            Duration::from_secs(600),
            Lang::Ja,
        )
    }

    fn support(channel: &str) -> Incoming<'_> {
        Incoming {
            channel,
            support_channel: true,
            ..Incoming::default()
        }
    }

    #[test]
    fn a_pasted_error_is_answered_once_per_channel() {
        let bot = bot();
        let text = "本人認証に不正が検知しました。(MW1M01AJ0004)";
        assert!(
            matches!(bot.on_message(&support("c1"), text, Lang::Ja), Decision::Answer(a) if a.id == "jalpay-to-anapay-charge-20000")
        );
        assert!(matches!(
            bot.on_message(&support("c1"), text, Lang::Ja),
            Decision::Repeat { .. }
        ));
        assert!(matches!(
            bot.on_message(&support("c2"), text, Lang::Ja),
            Decision::Answer(_)
        ));
    }

    #[test]
    fn explain_says_why() {
        let bot = bot();
        let e = bot.explain("MW1M01AJ0004");
        assert!(
            e.starts_with("auto mode: would reply with jalpay-to-anapay-charge-20000"),
            "{e}"
        );
        assert!(e.contains("code MW1M01AJ0004"), "{e}");
        let e = bot.explain("JAL Pay");
        assert!(
            e.starts_with("auto mode: silent: the best candidate"),
            "{e}"
        );
        assert!(bot.explain("zzz").contains("nothing matched"));
        let e = bot.explain("MW1M01AJ0004出てたけど2万1千円にしたら通りました！");
        assert!(
            e.starts_with(
                "auto mode: silent: not a problem report: it reports that the problem is solved"
            ),
            "{e}"
        );
        let e = bot.explain("楽天カードで1万円チャージしたら MW1M01AJ0004");
        assert!(
            e.contains("amount found: ¥10,000\ncard found: rakuten-card"),
            "{e}"
        );
    }

    #[test]
    fn links_of_an_entry_are_its_official_pages() {
        let bot = bot();
        let links = bot
            .links("jalpay-to-anapay-charge-20000", Lang::Ja)
            .unwrap();
        assert!(links.iter().any(|l| l.url.as_deref()
            == Some("https://www.jal.co.jp/jp/ja/jmb/jalpay/pay/notice/20250430_charge")));
        let Decision::Answer(a) = bot.lookup("MW1M01AJ0004", Lang::En) else {
            panic!("no answer")
        };
        let mut from_answer: Vec<_> = a.links.iter().map(|l| l.url.clone()).collect();
        let mut direct: Vec<_> = bot
            .links(&a.id, Lang::En)
            .unwrap()
            .into_iter()
            .map(|l| l.url)
            .collect();
        from_answer.sort();
        direct.sort();
        assert_eq!(from_answer, direct);
        assert!(bot.links("no-such-entry", Lang::Ja).is_none());
    }

    #[test]
    fn reload_needs_a_path() {
        assert!(bot().reload().unwrap_err().contains("built-in knowledge"));
    }

    #[test]
    fn every_suggestion_looks_up_the_entry_it_shows() {
        let bot = bot();
        let all = bot.suggest("", Lang::En, 100);
        assert_eq!(all.len(), bot.knowledge.get().entries().len());
        for s in &all {
            assert!(
                matches!(bot.lookup(&s.query, Lang::Ja), Decision::Answer(a) if a.id == s.entry_id),
                "{s:?}"
            );
        }
        let typed = bot.suggest("mw1m01", Lang::Ja, 25);
        assert_eq!(typed.len(), 1);
        assert_eq!(typed[0].entry_id, "jalpay-to-anapay-charge-20000");
        assert!(bot
            .suggest("quicpay", Lang::Ja, 25)
            .iter()
            .any(|s| s.entry_id == "jalpay-quicpay-after-renewal"));
        assert!(bot.suggest("zzzz-nothing", Lang::Ja, 25).is_empty());
        assert_eq!(bot.suggest("", Lang::Ja, 2).len(), 2);
    }

    #[test]
    fn chatter_is_silent_but_a_direct_question_gets_an_answer_or_no_match() {
        let bot = bot();
        assert!(matches!(
            bot.on_message(&support("c"), "おはようございます", Lang::Ja),
            Decision::Silent(_)
        ));
        let dm = Incoming {
            channel: "dm",
            is_dm: true,
            ..Incoming::default()
        };
        assert!(matches!(
            bot.on_message(&dm, "おはようございます", Lang::Ja),
            Decision::NoMatch
        ));
        assert!(
            matches!(bot.on_message(&dm, "楽天カード 3Dセキュア", Lang::Ja), Decision::Answer(a) if a.id == "3ds2-registration")
        );
    }
}
