//! Hot reload of the knowledge pack: watch the folder, validate a new pack exactly as
//! `kotae check` does, and swap it in whole; a broken pack is refused and the old one keeps
//! answering.
//!
//! Watching polls file names, sizes and modification times (once a second by default)
//! rather than using inotify: it needs no extra dependency, works on network and container
//! file systems, and an editor's save-as-rename is seen like any other change.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::bot::Knowledge;
use crate::knowledge::{KnowledgeError, Pack};

/// Counts of reload attempts, for `/metrics`.
#[derive(Debug, Default)]
pub struct ReloadStats {
    pub ok: AtomicU64,
    pub failed: AtomicU64,
}

/// What one reload did.
#[derive(Debug)]
pub enum Reloaded {
    /// The new pack is serving; it has this many entries.
    Swapped(usize),
    /// The new pack was refused; the old one keeps serving.
    Refused(KnowledgeError),
}

/// Loads and self-tests the pack at `path`; swaps it in only if everything passes.
pub fn reload(knowledge: &Knowledge, path: &Path, stats: &ReloadStats) -> Reloaded {
    match Pack::load_checked(path) {
        Ok(pack) => {
            let n = pack.entries().len();
            knowledge.replace(pack);
            stats.ok.fetch_add(1, Ordering::Relaxed);
            tracing::info!(entries = n, path = %path.display(), "knowledge reloaded");
            Reloaded::Swapped(n)
        }
        Err(e) => {
            stats.failed.fetch_add(1, Ordering::Relaxed);
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
pub async fn watch(
    knowledge: std::sync::Arc<crate::bot::Bot>,
    path: PathBuf,
    interval: Duration,
    stats: std::sync::Arc<ReloadStats>,
    shutdown: CancellationToken,
    on_result: impl Fn(&Reloaded) + Send + 'static,
) {
    let mut last = fingerprint(&path);
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
        let (bot, p, s) = (knowledge.clone(), path.clone(), stats.clone());
        // Parsing and self-testing a large pack is CPU work: keep it off the async workers.
        let result = tokio::task::spawn_blocking(move || reload(&bot.knowledge, &p, &s)).await;
        match result {
            Ok(r) => on_result(&r),
            Err(e) => tracing::error!(error = %e, "knowledge reload task failed"),
        }
    }
}
