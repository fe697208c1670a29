//! [`OcrService`]: what an adapter calls with the bytes of an image and the user who sent it.
//! It refuses what is over the caps before queueing (bytes, header pixels, images per user
//! per minute), sheds what does not fit the bounded queue, and hands the rest to worker
//! processes (`kotae ocr-worker`), each reading one image at a time under a timeout. A worker
//! is started on first use, started again after it dies, stopped when idle, and recycled
//! when its memory grows past the cap. Counters for `/metrics` are in [`OcrStats`].
//!
//! `kotae serve` starts one at start when the models are found (`crate::serve`), the bot
//! holds it, and the screenshot feature (`crate::features::screenshots`) calls
//! [`OcrService::admit`] before it downloads an image and [`OcrService::read_admitted`] with
//! the bytes; `kotae ask --image` calls [`OcrService::read`]. Nobody logs what was read.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::ratelimit::PerUser;

use serde::Serialize;
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::sync::{mpsc, oneshot};

use super::protocol::{read_frame_async, write_frame_async, Reply};
use super::{ModelPaths, OcrConfig, OcrError, OcrText};

/// How the bot starts a worker: by default this very binary with `ocr-worker`.
#[derive(Debug, Clone)]
pub struct WorkerCommand {
    pub program: PathBuf,
    pub args: Vec<OsString>,
}

impl WorkerCommand {
    /// `<program> ocr-worker --ocr-dir DIR`, where `program` is normally `std::env::current_exe()`.
    pub fn kotae(program: PathBuf, paths: &ModelPaths) -> Self {
        WorkerCommand {
            program,
            args: vec![
                "ocr-worker".into(),
                "--ocr-dir".into(),
                paths.dir.clone().into_os_string(),
            ],
        }
    }
}

/// Counts since start, for `/metrics` (`kotae_ocr_images_total{result="ok"}` and so on).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OcrStats {
    /// Images read (possibly with no text on them).
    pub ok: u64,
    /// Refused before queueing: over the byte or pixel cap, not an image, undecodable, or
    /// over the user's images per minute (`rate_limited` counts those apart too).
    pub refused: u64,
    pub rate_limited: u64,
    /// Turned away because the queue was full.
    pub shed: u64,
    /// The worker failed: a timeout, a crash, a missing model, an inference error.
    pub failed: u64,
    pub timeouts: u64,
    /// Workers that ended while reading an image (crashed or killed).
    pub worker_deaths: u64,
    /// Worker processes started (the first one included).
    pub worker_starts: u64,
}

impl OcrStats {
    /// The Prometheus text for these counters, for `/metrics` to append to its own.
    pub fn render_prometheus(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP kotae_ocr_images_total Screenshots handed to OCR, by result.\n");
        out.push_str("# TYPE kotae_ocr_images_total counter\n");
        for (result, n) in [
            ("ok", self.ok),
            ("refused", self.refused),
            ("shed", self.shed),
            ("failed", self.failed),
        ] {
            out.push_str(&format!(
                "kotae_ocr_images_total{{result=\"{result}\"}} {n}\n"
            ));
        }
        for (name, help, n) in [
            (
                "kotae_ocr_rate_limited_total",
                "Screenshots over a user's images per minute (also counted as refused).",
                self.rate_limited,
            ),
            (
                "kotae_ocr_timeouts_total",
                "Screenshots that took longer than the timeout (also counted as failed).",
                self.timeouts,
            ),
            (
                "kotae_ocr_worker_deaths_total",
                "OCR worker processes that ended while reading an image.",
                self.worker_deaths,
            ),
            (
                "kotae_ocr_worker_starts_total",
                "OCR worker processes started.",
                self.worker_starts,
            ),
        ] {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {n}\n"
            ));
        }
        out
    }
}

#[derive(Default)]
struct Counters {
    ok: AtomicU64,
    refused: AtomicU64,
    rate_limited: AtomicU64,
    shed: AtomicU64,
    failed: AtomicU64,
    timeouts: AtomicU64,
    worker_deaths: AtomicU64,
    worker_starts: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

struct Job {
    bytes: Vec<u8>,
    reply: oneshot::Sender<Reply>,
}

/// What the worker tasks share with the handle; it holds no sender, so dropping every
/// [`OcrService`] closes the queue and ends the workers.
struct Shared {
    config: OcrConfig,
    command: WorkerCommand,
    counters: Counters,
    /// Images per user per minute: the same limiter as the mentions and DMs per user
    /// ([`crate::ratelimit`]), with OCR's own budget (`per_user_per_minute`).
    per_user: PerUser,
    pids: Mutex<Vec<Option<u32>>>,
}

/// The OCR front door. Cheap to clone; every clone feeds the same workers.
#[derive(Clone)]
pub struct OcrService {
    jobs: mpsc::Sender<Job>,
    shared: Arc<Shared>,
}

impl OcrService {
    /// Starts the queue and the worker tasks (no process yet: a worker starts with the first
    /// image). Must be called inside a Tokio runtime. `Unavailable` when the runtime or the
    /// models are missing, so the caller can say once that screenshots are off.
    pub fn start(
        config: OcrConfig,
        paths: &ModelPaths,
        command: WorkerCommand,
    ) -> Result<Self, OcrError> {
        paths.check()?;
        let workers = config.workers.max(1);
        let (jobs, rx) = mpsc::channel(config.queue.max(1));
        let shared = Arc::new(Shared {
            per_user: PerUser::new(config.per_user_per_minute),
            config,
            command,
            counters: Counters::default(),
            pids: Mutex::new(vec![None; workers]),
        });
        let rx = Arc::new(tokio::sync::Mutex::new(rx));
        for slot in 0..workers {
            tokio::spawn(worker_loop(shared.clone(), slot, rx.clone()));
        }
        Ok(OcrService { jobs, shared })
    }

    /// Reads the text of one image sent by `user` (any stable id: "discord:123",
    /// "slack:T1/U2", "cli"). The image stays in memory; it is never written anywhere.
    pub async fn read(&self, bytes: Vec<u8>, user: &str) -> Result<OcrText, OcrError> {
        self.admit(user)?;
        self.read_admitted(bytes).await
    }

    /// Counts one image against `user`'s images per minute; `RateLimited` (counted) when
    /// over. Chat adapters call it before downloading, so an image over the cap is never
    /// fetched; then [`OcrService::read_admitted`] with the bytes.
    pub fn admit(&self, user: &str) -> Result<(), OcrError> {
        if self.shared.per_user.allow(user, Instant::now()) {
            return Ok(());
        }
        let c = &self.shared.counters;
        bump(&c.refused);
        bump(&c.rate_limited);
        Err(OcrError::RateLimited)
    }

    /// The caps on an image before decoding (bytes, pixels), for a caller that checks a
    /// declared size or caps a download before it has the bytes.
    pub fn limits(&self) -> &super::Limits {
        &self.shared.config.limits
    }

    /// Counts an image refused before it reached [`OcrService::read_admitted`] (a download
    /// over the byte cap) and returns the error to show for it.
    pub fn refuse(&self, why: String) -> OcrError {
        bump(&self.shared.counters.refused);
        OcrError::Refused(why)
    }

    /// [`OcrService::read`] for an image already counted by [`OcrService::admit`].
    pub async fn read_admitted(&self, bytes: Vec<u8>) -> Result<OcrText, OcrError> {
        let c = &self.shared.counters;
        if let Err(e) = self.shared.config.limits.check(&bytes) {
            bump(&c.refused);
            return Err(e);
        }
        let (reply, answer) = oneshot::channel();
        if self.jobs.try_send(Job { bytes, reply }).is_err() {
            bump(&c.shed);
            return Err(OcrError::Shed);
        }
        let result = answer
            .await
            .unwrap_or_else(|_| Err(OcrError::Failed("the OCR service stopped".into())));
        match &result {
            Ok(_) => bump(&c.ok),
            Err(OcrError::Decode(_) | OcrError::Refused(_)) => bump(&c.refused),
            Err(_) => bump(&c.failed),
        }
        result
    }

    pub fn stats(&self) -> OcrStats {
        let c = &self.shared.counters;
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        OcrStats {
            ok: g(&c.ok),
            refused: g(&c.refused),
            rate_limited: g(&c.rate_limited),
            shed: g(&c.shed),
            failed: g(&c.failed),
            timeouts: g(&c.timeouts),
            worker_deaths: g(&c.worker_deaths),
            worker_starts: g(&c.worker_starts),
        }
    }

    /// The process ids of the running workers, for operators (and for tests that kill one).
    pub fn worker_pids(&self) -> Vec<u32> {
        lock(&self.shared.pids).iter().flatten().copied().collect()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

struct Running {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
    pid: u32,
}

async fn worker_loop(
    shared: Arc<Shared>,
    slot: usize,
    rx: Arc<tokio::sync::Mutex<mpsc::Receiver<Job>>>,
) {
    let idle = shared.config.idle();
    let mut running: Option<Running> = None;
    loop {
        let next = async { rx.lock().await.recv().await };
        let job = if running.is_some() {
            match tokio::time::timeout(idle, next).await {
                Ok(Some(job)) => job,
                Ok(None) => break,
                Err(_) => {
                    tracing::debug!(slot, "OCR worker idle; stopping it");
                    stop(&shared, slot, running.take()).await;
                    continue;
                }
            }
        } else {
            match next.await {
                Some(job) => job,
                None => break,
            }
        };
        if job.reply.is_closed() {
            continue;
        }
        // A worker that died while idle (the OOM killer, an operator) is replaced quietly:
        // no image was lost with it.
        if let Some(r) = running.as_mut() {
            if !matches!(r.child.try_wait(), Ok(None)) {
                tracing::info!(pid = r.pid, "OCR worker ended while idle; starting another");
                stop(&shared, slot, running.take()).await;
            }
        }
        if running.is_none() {
            match spawn(&shared, slot) {
                Ok(r) => running = Some(r),
                Err(e) => {
                    let _ = job.reply.send(Err(e));
                    continue;
                }
            }
        }
        let Some(r) = running.as_mut() else { continue };
        let reply = exchange(&shared, r, &job.bytes).await;
        let keep = match &reply {
            Ok(_) | Err(OcrError::Refused(_) | OcrError::Decode(_)) => within_memory(&shared, r),
            // A worker that timed out or broke the protocol is not trusted with another image.
            Err(_) => false,
        };
        if !keep {
            if !matches!(
                reply,
                Ok(_) | Err(OcrError::Refused(_) | OcrError::Decode(_))
            ) {
                // Hung or broken: no grace period.
                let _ = r.child.start_kill();
            }
            stop(&shared, slot, running.take()).await;
        }
        let _ = job.reply.send(reply);
    }
    stop(&shared, slot, running.take()).await;
}

fn spawn(shared: &Shared, slot: usize) -> Result<Running, OcrError> {
    let cmd = &shared.command;
    let mut child = Command::new(&cmd.program)
        .args(&cmd.args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            OcrError::Failed(format!(
                "cannot start the OCR worker {}: {e}",
                cmd.program.display()
            ))
        })?;
    let (Some(stdin), Some(stdout), Some(pid)) =
        (child.stdin.take(), child.stdout.take(), child.id())
    else {
        return Err(OcrError::Failed("the OCR worker has no pipes".into()));
    };
    bump(&shared.counters.worker_starts);
    lock(&shared.pids)[slot] = Some(pid);
    tracing::info!(slot, pid, "OCR worker started");
    Ok(Running {
        child,
        stdin,
        stdout,
        pid,
    })
}

async fn exchange(shared: &Shared, r: &mut Running, bytes: &[u8]) -> Reply {
    let timeout = shared.config.timeout();
    let talk = async {
        write_frame_async(&mut r.stdin, bytes).await?;
        read_frame_async(&mut r.stdout).await
    };
    match tokio::time::timeout(timeout, talk).await {
        Ok(Ok(frame)) => serde_json::from_slice::<Reply>(&frame).unwrap_or_else(|e| {
            Err(OcrError::Failed(format!(
                "unreadable answer from the worker: {e}"
            )))
        }),
        Ok(Err(io)) => {
            bump(&shared.counters.worker_deaths);
            // The pipe broke: the worker is gone or going; say how it ended.
            let status = tokio::time::timeout(Duration::from_secs(2), r.child.wait()).await;
            let how = match status {
                Ok(Ok(s)) => s.to_string(),
                _ => io.to_string(),
            };
            tracing::warn!(pid = r.pid, how = %how, "OCR worker stopped while reading an image; it will be started again");
            Err(OcrError::WorkerDied(how))
        }
        Err(_) => {
            bump(&shared.counters.timeouts);
            tracing::warn!(
                pid = r.pid,
                secs = timeout.as_secs(),
                "OCR worker timed out; stopping it"
            );
            Err(OcrError::Timeout(timeout.as_secs()))
        }
    }
}

/// After each image: a worker whose resident memory passed the cap is recycled, so one odd
/// image cannot leave 1 GB behind for the rest of the day.
fn within_memory(shared: &Shared, r: &Running) -> bool {
    let cap_kb = shared.config.max_worker_rss_mb.saturating_mul(1024);
    match rss_kb(r.pid) {
        Some(kb) if kb > cap_kb => {
            tracing::info!(
                pid = r.pid,
                rss_mb = kb / 1024,
                "OCR worker over its memory cap; restarting it"
            );
            false
        }
        _ => true,
    }
}

/// VmRSS of a process, in KiB (Linux); `None` elsewhere.
pub fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

async fn stop(shared: &Shared, slot: usize, running: Option<Running>) {
    if let Some(mut r) = running {
        // Closing standard input asks the worker to leave; a worker that does not is killed.
        drop(r.stdin);
        if tokio::time::timeout(Duration::from_secs(2), r.child.wait())
            .await
            .is_err()
        {
            let _ = r.child.kill().await;
        }
    }
    // Only once the process is gone (and reaped), so a listed pid is a live worker.
    lock(&shared.pids)[slot] = None;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_text_has_every_counter() {
        let s = OcrStats {
            ok: 3,
            shed: 1,
            worker_starts: 2,
            ..OcrStats::default()
        };
        let text = s.render_prometheus();
        assert!(
            text.contains("kotae_ocr_images_total{result=\"ok\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("kotae_ocr_images_total{result=\"shed\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("kotae_ocr_worker_starts_total 2\n"), "{text}");
        assert_eq!(text.matches("# TYPE").count(), 5);
    }

    #[tokio::test]
    async fn missing_models_make_the_service_unavailable() {
        let paths = ModelPaths::in_dir(PathBuf::from("/nonexistent/ocr"));
        let command = WorkerCommand::kotae(PathBuf::from("kotae"), &paths);
        let err = OcrService::start(OcrConfig::default(), &paths, command)
            .err()
            .unwrap();
        assert!(matches!(err, OcrError::Unavailable(_)), "{err}");
    }
}
