//! Hot reload of the knowledge pack: watch the folder, validate a new pack exactly as
//! `kotae check` does, and swap it in whole; a broken pack is refused and the old one keeps
//! answering.
//!
//! Watching polls file names, sizes and modification times (once a second by default)
//! rather than using inotify: it needs no extra dependency, works on network and container
//! file systems, and an editor's save-as-rename is seen like any other change.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc, OnceLock};
use std::time::{Duration, SystemTime};

use tokio_util::sync::CancellationToken;

use crate::bot::Bot;
use crate::knowledge::KnowledgeError;
use crate::pack::Pack;

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
    let outcome = load_and_swap(bot, path);
    release_freed_memory();
    outcome
}

fn load_and_swap(bot: &Bot, path: &Path) -> Reloaded {
    match Pack::load_checked(path) {
        Ok(pack) => {
            let n = pack.entries().len();
            bot.replace_pack(pack);
            bot.metrics().reload_ok.fetch_add(1, Ordering::Relaxed);
            tracing::info!(entries = n, path = %path.display(), "knowledge reloaded");
            Reloaded::Swapped(n)
        }
        Err(e) => {
            bot.metrics().reload_failed.fetch_add(1, Ordering::Relaxed);
            for line in e.to_string().lines() {
                tracing::error!(path = %path.display(), "knowledge reload refused, the old pack keeps serving: {line}");
            }
            Reloaded::Refused(e)
        }
    }
}

/// Hands the pages of the pack just dropped (the old one, or a refused one) back to the
/// system. glibc gives freed memory back only from the top of a heap, so the dropped packs
/// stayed resident: a 10,000-entry pack reloaded 7 times left 331 MB in glibc's arenas with
/// 69 MB in use (bench/README.md).
///
/// The Slack receiver calls it too once its connections are gone: the buffers of hundreds of
/// slow clients otherwise stayed resident after they left.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub(crate) fn release_freed_memory() {
    // SAFETY: malloc_trim has no preconditions; it only walks the allocator's free lists.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub(crate) fn release_freed_memory() {}

/// The reload thread stopped (a reload panicked, or the thread could not be started).
#[derive(Debug, thiserror::Error)]
#[error("the reload did not finish (it panicked, or the reload thread could not start)")]
pub struct ReloadLost;

type Job = Box<dyn FnOnce() + Send>;

/// Runs `job` (a reload) on the one thread that runs every reload, and waits for its result
/// without blocking the runtime.
///
/// One long-lived thread rather than tokio's blocking pool: glibc gives threads their own
/// malloc arenas, and reloads that ran on whichever pool thread was free spread the packs
/// built and dropped over several arenas, each keeping its free memory. One thread also
/// means one reload at a time, so a SIGHUP and the watcher seeing the same edit do not build
/// two packs at once.
pub async fn on_reload_thread<T: Send + 'static>(
    job: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ReloadLost> {
    static JOBS: OnceLock<Option<mpsc::Sender<Job>>> = OnceLock::new();
    let jobs = JOBS.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<Job>();
        let started = std::thread::Builder::new()
            .name("kotae-reload".into())
            .spawn(move || {
                for job in rx {
                    // A panic drops the job's result sender, which its caller sees as
                    // ReloadLost; the thread stays for the next reload.
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                }
            });
        match started {
            Ok(_) => Some(tx),
            Err(e) => {
                tracing::error!(error = %e, "cannot start the reload thread");
                None
            }
        }
    });
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = tx.send(job());
    });
    jobs.as_ref()
        .ok_or(ReloadLost)?
        .send(job)
        .map_err(|_| ReloadLost)?;
    rx.await.map_err(|_| ReloadLost)
}

/// The state of the pack's files, as [`fingerprint`] sees it.
pub type Fingerprint = Vec<(PathBuf, u64, Option<SystemTime>)>;

/// What identifies the state of the pack's files: name, size and modification time of each
/// `*.toml`. An error when the folder or a file in it cannot be read: that says nothing
/// about an edit, and taking it for one reloaded (and refused, and told the admins) on every
/// hiccup of a network file system.
pub fn fingerprint(path: &Path) -> std::io::Result<Fingerprint> {
    let mut files: Vec<PathBuf> = if std::fs::metadata(path)?.is_dir() {
        let mut v = Vec::new();
        for e in std::fs::read_dir(path)? {
            let p = e?.path();
            if p.extension().is_some_and(|x| x == "toml") {
                v.push(p);
            }
        }
        v
    } else {
        vec![path.to_path_buf()]
    };
    files.sort();
    files
        .into_iter()
        .map(|f| {
            let meta = std::fs::metadata(&f)?;
            Ok((f, meta.len(), meta.modified().ok()))
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
    let last = fingerprint(&path).unwrap_or_default();
    watch_from(bot, path, interval, shutdown, on_result, last)
}

async fn watch_from(
    bot: Arc<Bot>,
    path: PathBuf,
    interval: Duration,
    shutdown: CancellationToken,
    on_result: impl Fn(&Reloaded) + Send + 'static,
    mut last: Fingerprint,
) {
    let unreadable = crate::throttle::LogEvery::default();
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let now = match fingerprint(&path) {
            Ok(now) => now,
            Err(e) => {
                if let Some(skipped) = unreadable.hit() {
                    tracing::warn!(path = %path.display(), error = %e, skipped, "cannot read the knowledge folder; the current pack keeps answering");
                }
                continue;
            }
        };
        if now == last {
            continue;
        }
        last = now;
        let (b, p) = (bot.clone(), path.clone());
        match on_reload_thread(move || reload(&b, &p)).await {
            Ok(r) => on_result(&r),
            Err(e) => tracing::error!(error = %e, "knowledge reload failed"),
        }
    }
}
