//! Hot reload of the knowledge pack: watch the folder, validate a new pack exactly as
//! `kotae check` does, and swap it in whole; a broken pack is refused and the old one keeps
//! answering.
//!
//! Watching polls file names, sizes and modification times (once a second by default)
//! rather than using inotify: it needs no extra dependency, works on network and container
//! file systems, and an editor's save-as-rename is seen like any other change.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::bot::Bot;
use crate::knowledge::{KnowledgeError, Pack};

/// What one reload did.
#[derive(Debug)]
pub enum Reloaded {
    /// The new pack is serving; it has this many entries.
    Swapped(usize),
    /// The new pack was refused; the old one keeps serving.
    Refused(KnowledgeError),
}

/// Loads and self-tests the pack at `path`; swaps it in only if everything passes.
pub fn reload(bot: &Bot, path: &Path) -> Reloaded {
    match Pack::load_checked(path) {
        Ok(pack) => {
            let n = pack.entries().len();
            bot.knowledge.replace(pack);
            bot.metrics.reload_ok.fetch_add(1, Ordering::Relaxed);
            tracing::info!(entries = n, path = %path.display(), "knowledge reloaded");
            Reloaded::Swapped(n)
        }
        Err(e) => {
            bot.metrics.reload_failed.fetch_add(1, Ordering::Relaxed);
            for line in e.to_string().lines() {
                tracing::error!(path = %path.display(), "knowledge reload refused, the old pack keeps serving: {line}");
            }
            Reloaded::Refused(e)
        }
    }
}

/// What identifies the state of the pack's files: name, size and modification time of each
/// `*.toml`.
pub fn fingerprint(path: &Path) -> Vec<(PathBuf, u64, Option<SystemTime>)> {
    let mut files: Vec<PathBuf> = match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => std::fs::read_dir(path)
            .map(|rd| {
                rd.filter_map(|e| e.ok().map(|e| e.path()))
                    .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                    .collect()
            })
            .unwrap_or_default(),
        Ok(_) => vec![path.to_path_buf()],
        Err(_) => Vec::new(),
    };
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let meta = std::fs::metadata(&f).ok();
            let len = meta.as_ref().map_or(0, |m| m.len());
            let modified = meta.and_then(|m| m.modified().ok());
            (f, len, modified)
        })
        .collect()
}

/// Polls `path` every `interval` until `shutdown`; reloads when the files change, and calls
/// `on_result` with each outcome (the adapters post refusals to an admin channel).
///
/// The baseline is read when `watch` is called, not when the future first runs, so an edit
/// made between spawning the watcher and its first poll is still seen as a change.
pub fn watch(
    bot: Arc<Bot>,
    path: PathBuf,
    interval: Duration,
    shutdown: CancellationToken,
    on_result: impl Fn(&Reloaded) + Send + 'static,
) -> impl std::future::Future<Output = ()> + Send {
    let last = fingerprint(&path);
    watch_from(bot, path, interval, shutdown, on_result, last)
}

async fn watch_from(
    bot: Arc<Bot>,
    path: PathBuf,
    interval: Duration,
    shutdown: CancellationToken,
    on_result: impl Fn(&Reloaded) + Send + 'static,
    mut last: Vec<(PathBuf, u64, Option<SystemTime>)>,
) {
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let now = fingerprint(&path);
        if now == last {
            continue;
        }
        last = now;
        let (b, p) = (bot.clone(), path.clone());
        // Parsing and self-testing a large pack is CPU work: keep it off the async workers.
        let result = tokio::task::spawn_blocking(move || reload(&b, &p)).await;
        match result {
            Ok(r) => on_result(&r),
            Err(e) => tracing::error!(error = %e, "knowledge reload task failed"),
        }
    }
}
