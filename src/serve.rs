//! `kotae serve`: loads the config and knowledge, starts the configured adapters, and stops
//! them all on Ctrl-C or SIGTERM.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::bot::Bot;
use crate::config::{Config, Secrets};
use crate::knowledge::KnowledgeError;
use crate::pack::Pack;
use crate::reload;
use crate::store::StoreError;

/// How often the knowledge folder is checked for changes.
pub const RELOAD_POLL: Duration = Duration::from_secs(1);

/// How long the adapters get to finish after SIGTERM before they are cut off; then the
/// store is flushed and the process exits, whatever clients or platforms are doing.
pub const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(3);

/// Why `serve` could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Knowledge(#[from] KnowledgeError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot listen on {0}: {1}")]
    Bind(String, std::io::Error),
    #[error("nothing to run: the config has neither a [discord] nor a [slack] section")]
    NothingToRun,
    #[error("[discord] is configured but DISCORD_TOKEN is not set; put the bot token from the Developer Portal (Bot -> Reset Token) in the environment")]
    MissingDiscordToken,
    #[error("[{0}] is configured but this kotae was built without the `{0}` feature")]
    FeatureMissing(&'static str),
    // Not `#[from]` (here and below): that would also chain it as the source, and `{:#}`
    // would print it twice.
    #[cfg(feature = "discord")]
    #[error("discord: {0}")]
    Discord(crate::adapters::discord::DiscordError),
    #[cfg(feature = "slack")]
    // Not `#[from]`: that would also chain it as the source, and `{:#}` would print it twice.
    #[error("slack: {0}")]
    Slack(crate::adapters::slack::SlackError),
}

/// Refuses to start without the secrets the configured adapters need, before anything is
/// opened or created.
fn preflight(config: &Config, secrets: &Secrets) -> Result<(), ServeError> {
    if config.discord.is_some() && secrets.discord_token.is_none() {
        return Err(ServeError::MissingDiscordToken);
    }
    #[cfg(feature = "slack")]
    if let Some(slack) = &config.slack {
        use crate::adapters::slack::SlackError;
        use crate::config::SlackMode;
        let missing = if secrets.slack_bot_token.is_none() {
            Some(SlackError::MissingBotToken)
        } else if slack.mode == SlackMode::Socket && secrets.slack_app_token.is_none() {
            Some(SlackError::MissingAppToken)
        } else if slack.mode == SlackMode::Http && secrets.slack_signing_secret.is_none() {
            Some(SlackError::MissingSigningSecret)
        } else {
            None
        };
        if let Some(e) = missing {
            return Err(ServeError::Slack(e));
        }
    }
    Ok(())
}

/// Runs until `shutdown` is cancelled or an adapter fails; on failure the others are stopped.
pub async fn run(
    config: Config,
    secrets: Secrets,
    shutdown: CancellationToken,
) -> Result<(), ServeError> {
    if config.discord.is_none() && config.slack.is_none() {
        return Err(ServeError::NothingToRun);
    }
    preflight(&config, &secrets)?;
    raise_open_file_limit();
    let pack = match &config.knowledge {
        Some(path) => Pack::load_checked(path)?,
        None => crate::builtin_pack()?,
    };
    tracing::info!(
        entries = pack.entries().len(),
        hash = pack.content_hash(),
        "knowledge loaded"
    );
    let database = config.database.to_string_lossy().into_owned();
    // Connecting and migrating a server database waits on the network: not on a worker.
    let store = {
        let (db, days) = (database.clone(), config.gap_retention_days);
        tokio::task::spawn_blocking(move || crate::store::open(&db, Some(days)))
            .await
            .map_err(|e| {
                StoreError::Unavailable(format!("the task opening the store failed: {e}"))
            })??
    };
    tracing::info!(database = %database_name(&database), "store opened");
    let mut bot = Bot::new(pack, Duration::from_secs(config.cooldown_secs), config.lang)
        .with_store(store.clone())
        .with_max_in_flight(config.max_events_in_flight)
        .with_user_asks_per_minute(config.user_asks_per_minute);
    if let Some(ocr) = start_ocr(&config.ocr) {
        bot = bot.with_ocr(ocr);
    }
    let bot = Arc::new(bot);
    let mut tasks: JoinSet<Result<(), ServeError>> = JoinSet::new();
    if let Some(discord) = config.discord.clone() {
        #[cfg(feature = "discord")]
        {
            let token = secrets
                .discord_token
                .clone()
                .ok_or(ServeError::MissingDiscordToken)?;
            let (bot, stop) = (bot.clone(), shutdown.clone());
            tasks.spawn(async move {
                crate::adapters::discord::run(bot, discord, token, stop)
                    .await
                    .map_err(ServeError::Discord)
            });
        }
        #[cfg(not(feature = "discord"))]
        {
            let _ = discord;
            return Err(ServeError::FeatureMissing("discord"));
        }
    }
    if let Some(slack) = config.slack.clone() {
        #[cfg(feature = "slack")]
        {
            let (bot, stop, secrets) = (bot.clone(), shutdown.clone(), secrets.clone());
            tasks.spawn(async move {
                crate::adapters::slack::run(bot, slack, secrets, stop)
                    .await
                    .map_err(ServeError::Slack)
            });
        }
        #[cfg(not(feature = "slack"))]
        {
            let _ = slack;
            return Err(ServeError::FeatureMissing("slack"));
        }
    }
    if tasks.is_empty() {
        return Err(ServeError::NothingToRun);
    }
    {
        let (b, stop) = (bot.clone(), shutdown.clone());
        tasks.spawn(async move {
            crate::features::replicas::watch(b, stop).await;
            Ok(())
        });
    }
    if let Some(path) = config.knowledge.clone() {
        let (b, p, stop) = (bot.clone(), path.clone(), shutdown.clone());
        let notify = bot.clone();
        tasks.spawn(async move {
            reload::watch(b, p, RELOAD_POLL, stop, move |r| {
                if let reload::Reloaded::Refused(e) = r {
                    notify.notify_admins(format!(
                        "knowledge reload refused; the previous knowledge keeps answering:\n{e}"
                    ));
                }
            })
            .await;
            Ok(())
        });
        #[cfg(unix)]
        {
            let (b, stop) = (bot.clone(), shutdown.clone());
            tasks.spawn(async move {
                reload_on_sighup(b, path, stop).await;
                Ok(())
            });
        }
    }
    if let Some(addr) = &config.ops_listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| ServeError::Bind(addr.clone(), e))?;
        tracing::info!(address = %addr, "health and metrics on /healthz and /metrics");
        let (b, stop) = (bot.clone(), shutdown.clone());
        tasks.spawn(async move {
            crate::ops::serve(listener, b, stop).await;
            Ok(())
        });
    }
    let mut result = Ok(());
    // Until shutdown there is no deadline; from then on, SHUTDOWN_DEADLINE.
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        let joined = match deadline {
            None => tokio::select! {
                j = tasks.join_next() => j,
                _ = shutdown.cancelled() => {
                    deadline = Some(tokio::time::Instant::now() + SHUTDOWN_DEADLINE);
                    continue;
                }
            },
            Some(at) => match tokio::time::timeout_at(at, tasks.join_next()).await {
                Ok(j) => j,
                Err(_) => {
                    tracing::warn!(
                        left = tasks.len(),
                        "shutdown: tasks still running after {} s; stopping them",
                        SHUTDOWN_DEADLINE.as_secs()
                    );
                    tasks.abort_all();
                    break;
                }
            },
        };
        let Some(joined) = joined else { break };
        let outcome = joined.unwrap_or_else(|e| {
            tracing::error!(error = %e, "an adapter task panicked");
            Ok(())
        });
        if let Err(e) = outcome {
            // One adapter failing stops the process: a half-running bot is harder to notice.
            shutdown.cancel();
            if result.is_ok() {
                result = Err(e);
            }
        }
    }
    // Answers and handled event ids wait a moment to be saved in batches: save them now, so
    // a restart does not answer the same paste again.
    let flushed = tokio::task::spawn_blocking(move || store.flush()).await;
    if let Ok(Err(e)) = flushed {
        tracing::error!(error = %e, "could not save the last answers to the database");
    }
    result
}

/// The screenshot reader when the OCR runtime and models are found (no worker process yet:
/// one starts with the first image); otherwise None, said once here, and kotae answers text
/// as before.
fn start_ocr(config: &crate::ocr::OcrConfig) -> Option<crate::ocr::OcrService> {
    use crate::ocr::{service::WorkerCommand, ModelPaths, OcrService};
    let paths = ModelPaths::locate(config.dir.as_deref(), |k| std::env::var(k).ok());
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            tracing::warn!(error = %e, "screenshots are off: cannot find the kotae binary to start the OCR worker");
            return None;
        }
    };
    match OcrService::start(config.clone(), &paths, WorkerCommand::kotae(exe, &paths)) {
        Ok(ocr) => {
            tracing::info!(models = %paths.dir.display(), "screenshots on: images on messages are read by OCR");
            Some(ocr)
        }
        Err(e) => {
            tracing::info!("{e}; images on messages are ignored");
            None
        }
    }
}

/// Raises the soft limit on open files to the hard limit. The soft limit is often 1,024,
/// which ~1,100 idle sockets once used up, failing `/healthz`, real events and reloads with
/// them; the hard limit is what the system allows this process anyway.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn raise_open_file_limit() {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return;
        }
        if lim.rlim_cur < lim.rlim_max {
            let was = lim.rlim_cur;
            lim.rlim_cur = lim.rlim_max;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) == 0 {
                tracing::debug!(from = was, to = lim.rlim_max, "raised the open-file limit");
            } else {
                tracing::warn!(
                    limit = was,
                    "could not raise the open-file limit; connections may run out of files"
                );
            }
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn raise_open_file_limit() {}

/// The database for logs: a file's path, or a URL without its password.
fn database_name(database: &str) -> String {
    if !crate::store::is_url(database) {
        return database.to_string();
    }
    match database
        .split_once("://")
        .and_then(|(_, rest)| rest.rsplit_once('@'))
    {
        Some((user, host)) => {
            let user = user.split(':').next().unwrap_or("");
            let host = host.split('?').next().unwrap_or("");
            format!("postgres://{user}@{host}")
        }
        None => "a PostgreSQL URL".into(),
    }
}

/// Reloads the knowledge on SIGHUP, the usual "re-read your files" signal.
#[cfg(unix)]
async fn reload_on_sighup(bot: Arc<Bot>, path: std::path::PathBuf, stop: CancellationToken) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hup = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %e, "cannot listen for SIGHUP; reload by editing the files instead");
            return;
        }
    };
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            got = hup.recv() => if got.is_none() { return },
        }
        tracing::info!("SIGHUP: reloading knowledge");
        let (b, p) = (bot.clone(), path.clone());
        if let Ok(reload::Reloaded::Refused(e)) =
            reload::on_reload_thread(move || reload::reload(&b, &p)).await
        {
            bot.notify_admins(format!(
                "knowledge reload (SIGHUP) refused; the previous knowledge keeps answering:\n{e}"
            ));
        }
    }
}

/// Cancels `token` on Ctrl-C or SIGTERM.
pub fn cancel_on_signals(token: CancellationToken) {
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot listen for SIGTERM");
                        let _ = ctrl_c.await;
                        token.cancel();
                        return;
                    }
                };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = ctrl_c.await;
        }
        tracing::info!("shutting down");
        token.cancel();
    });
}

#[cfg(test)]
mod tests {
    /// Without the runtime and models `serve` goes on with screenshots off.
    #[tokio::test]
    async fn without_the_models_screenshots_are_off() {
        let config = crate::ocr::OcrConfig {
            dir: Some("/nonexistent/kotae-ocr".into()),
            ..crate::ocr::OcrConfig::default()
        };
        assert!(super::start_ocr(&config).is_none());
    }

    #[cfg(feature = "slack")]
    #[test]
    fn a_slack_error_is_printed_once() {
        let e = super::ServeError::Slack(crate::adapters::slack::SlackError::MissingBotToken);
        let shown = format!("{:#}", anyhow::Error::from(e));
        assert_eq!(shown.matches("SLACK_BOT_TOKEN").count(), 1, "{shown}");
    }
}
