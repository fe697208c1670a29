//! The batching writer: writes are queued and saved in one transaction by a thread of
//! their own (on its own connection for a file), so no caller waits for a commit, and every
//! check looks in the queue before the file.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::{params, Connection};

use super::SqliteStore;
use crate::store::{AnswerRecord, StoreError};

/// How often old `seen` rows are deleted.
pub(super) const SEEN_PRUNE_EVERY_SECS: i64 = 60;
/// How often gaps older than the retention are deleted (also once at open).
const GAP_PRUNE_EVERY_SECS: i64 = 3600;
/// The longest a write waits in the queue.
pub const FLUSH_EVERY: Duration = Duration::from_millis(20);
/// A queue this long is saved at once.
const FLUSH_BATCH: usize = 512;
/// While the database refuses writes, at most this many wait; newer ones are dropped (and
/// logged) rather than growing without bound.
const MAX_QUEUED: usize = 100_000;

pub(super) struct Shared {
    /// The queue and the process's own record of keys and cooldowns: held only for
    /// in-memory work, never across a database call, so the checks before an ack never
    /// wait for SQLite (issue 14, item 3).
    pub(super) state: Mutex<State>,
    /// The one connection. Whoever holds it may wait on SQLite's busy timeout: the writer
    /// thread, and the reads that must see every write (votes, reports), which run on
    /// tokio's blocking pool. Lock order: `conn`, then `state`.
    pub(super) conn: Mutex<Connection>,
    /// Wakes the flusher: the queue got its first write, got long, or the store is closing.
    pub(super) wake: Condvar,
}

pub(super) struct State {
    pub(super) queue: Queue,
    /// Every key recorded within the keep window, by a 64-bit hash of it (16 bytes a key
    /// instead of the key's text; a collision needs billions of keys): loaded at open, kept
    /// in step with the file, so a dedup check is a lookup in memory.
    pub(super) seen: HashMap<u64, i64>,
    /// (channel, entry id) -> when last answered, loaded at open.
    pub(super) cooldowns: HashMap<(String, String), i64>,
    /// When `seen` was last pruned (unix seconds).
    pub(super) seen_pruned_at: i64,
    /// How long gaps are kept, in seconds: None = for ever, Some(0) = not stored at all.
    pub(super) gap_retention: Option<i64>,
    /// When gaps were last pruned (unix seconds).
    pub(super) gaps_pruned_at: i64,
    /// The writer thread waits for a first write: a write that makes the queue non-empty
    /// must wake it, however the queue became non-empty.
    pub(super) flusher_idle: bool,
    /// Why the last save failed; cleared by the next one that works. `ping` reports it.
    pub(super) failing: Option<String>,
    pub(super) closing: bool,
}

/// Writes not yet saved.
#[derive(Default, Clone)]
pub(super) struct Queue {
    pub(super) answers: Vec<AnswerRecord>,
    /// (at, platform, channel, redacted text, grouping key)
    pub(super) unmatched: Vec<(i64, String, String, String, String)>,
    /// key -> when seen
    pub(super) seen: HashMap<String, i64>,
    /// (channel, entry id) -> when answered
    pub(super) cooldowns: HashMap<(String, String), i64>,
    /// Delete `seen` rows older than this.
    pub(super) prune_seen_before: Option<i64>,
    /// Delete gaps older than this.
    pub(super) prune_gaps_before: Option<i64>,
}

impl Queue {
    fn len(&self) -> usize {
        self.answers.len() + self.unmatched.len() + self.seen.len() + self.cooldowns.len()
    }

    fn is_empty(&self) -> bool {
        self.len() == 0 && self.prune_seen_before.is_none() && self.prune_gaps_before.is_none()
    }

    /// Appends `newer` (queued after `self`); where both set a key, the newer value wins.
    fn absorb(&mut self, newer: Queue) {
        self.answers.extend(newer.answers);
        self.unmatched.extend(newer.unmatched);
        self.seen.extend(newer.seen);
        self.cooldowns.extend(newer.cooldowns);
        self.prune_seen_before = newer.prune_seen_before.or(self.prune_seen_before);
        self.prune_gaps_before = newer.prune_gaps_before.or(self.prune_gaps_before);
    }
}

impl SqliteStore {
    pub(super) fn start_flusher(&mut self, name: &str) -> Result<(), StoreError> {
        let s = self.shared.clone();
        let flusher = std::thread::Builder::new()
            .name("kotae-store".into())
            .spawn(move || s.run_flusher())
            .map_err(|e| StoreError::Open {
                path: name.into(),
                message: format!("cannot start the writer thread: {e}"),
            })?;
        self.flusher = Some(flusher);
        Ok(())
    }

    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        self.shared.lock()
    }

    /// The connection with the queue saved, for reads that must see every write. It may
    /// wait on the busy timeout: never call it on an async worker.
    pub(super) fn saved(&self) -> Result<MutexGuard<'_, Connection>, StoreError> {
        let mut conn = self.shared.conn();
        self.shared.save(&mut conn)?;
        Ok(conn)
    }

    /// Queues the deletion of gaps past the retention, at most once an hour.
    pub(super) fn prune_gaps(&self, st: &mut State, now: i64) {
        let Some(keep) = st.gap_retention else {
            return;
        };
        if now.saturating_sub(st.gaps_pruned_at) < GAP_PRUNE_EVERY_SECS && now >= st.gaps_pruned_at
        {
            return;
        }
        st.gaps_pruned_at = now;
        self.enqueue(st, |q| q.prune_gaps_before = Some(now - keep));
    }

    /// Queues a write (done by `push`) under the lock `st`, and wakes the flusher when it
    /// waits for a first write or a batch is full.
    pub(super) fn enqueue(&self, st: &mut State, push: impl FnOnce(&mut Queue)) {
        if st.queue.len() >= MAX_QUEUED {
            tracing::error!(
                queued = MAX_QUEUED,
                reason = st.failing.as_deref().unwrap_or("-"),
                "the database is not taking writes; dropping one"
            );
            return;
        }
        push(&mut st.queue);
        if (st.flusher_idle && !st.queue.is_empty()) || st.queue.len() >= FLUSH_BATCH {
            st.flusher_idle = false;
            self.shared.wake.notify_one();
        }
    }

    /// [`Self::enqueue`] for writes that read nothing first.
    pub(super) fn queue(&self, push: impl FnOnce(&mut Queue)) {
        let mut st = self.state();
        self.enqueue(&mut st, push);
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        self.state().closing = true;
        self.shared.wake.notify_one();
        if let Some(t) = self.flusher.take() {
            let _ = t.join();
        }
    }
}

impl Shared {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The writer thread: waits for a first queued write, lets more gather for up to
    /// [`FLUSH_EVERY`], saves them in one transaction; saves the rest when closing.
    fn run_flusher(&self) {
        let mut st = self.lock();
        loop {
            while st.queue.is_empty() && !st.closing {
                st.flusher_idle = true;
                st = self.wake.wait(st).unwrap_or_else(|p| p.into_inner());
            }
            st.flusher_idle = false;
            let deadline = Instant::now() + FLUSH_EVERY;
            while !st.closing && st.queue.len() < FLUSH_BATCH {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                st = self
                    .wake
                    .wait_timeout(st, left)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            let closing = st.closing;
            drop(st);
            let saved = self.save(&mut self.conn());
            st = self.lock();
            if let Err(e) = saved {
                if closing {
                    tracing::error!(error = %e, lost = st.queue.len(), "closing: queued writes could not be saved");
                    return;
                }
                tracing::warn!(error = %e, queued = st.queue.len(), "cannot save to the database; retrying");
                // Retry later, not in a tight loop.
                st = self
                    .wake
                    .wait_timeout(st, Duration::from_secs(1))
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            } else if closing && st.queue.is_empty() {
                return;
            }
        }
    }

    /// Moves the queue out (a moment under the state lock), saves it on `conn`, and on
    /// failure puts it back in front of what queued meanwhile.
    pub(super) fn save(&self, conn: &mut Connection) -> Result<(), StoreError> {
        let batch = std::mem::take(&mut self.lock().queue);
        if batch.is_empty() {
            return Ok(());
        }
        let result = State::write(conn, &batch);
        let mut st = self.lock();
        match &result {
            Ok(()) => st.failing = None,
            Err(e) => {
                st.failing = Some(e.to_string());
                let newer = std::mem::take(&mut st.queue);
                let mut older = batch;
                older.absorb(newer);
                st.queue = older;
            }
        }
        result
    }
}

impl State {
    fn write(conn: &mut Connection, q: &Queue) -> Result<(), StoreError> {
        let tx = conn.transaction()?;
        if let Some(before) = q.prune_seen_before {
            tx.prepare_cached("DELETE FROM seen WHERE at < ?1")?
                .execute(params![before])?;
        }
        if let Some(before) = q.prune_gaps_before {
            tx.prepare_cached("DELETE FROM unmatched WHERE at < ?1")?
                .execute(params![before])?;
        }
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO seen (key, at) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET at = excluded.at",
            )?;
            for (key, at) in &q.seen {
                stmt.execute(params![key, at])?;
            }
            let mut stmt = tx.prepare_cached(
                "INSERT INTO cooldowns (channel, entry_id, at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (channel, entry_id) DO UPDATE SET at = excluded.at",
            )?;
            for ((channel, entry_id), at) in &q.cooldowns {
                stmt.execute(params![channel, entry_id, at])?;
            }
            let mut stmt = tx.prepare_cached(
                "INSERT INTO answers (at, platform, channel, message, entry_id, mode, score)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for a in &q.answers {
                stmt.execute(params![
                    a.at, a.platform, a.channel, a.message, a.entry_id, a.mode, a.score
                ])?;
            }
            let mut stmt = tx.prepare_cached(
                "INSERT INTO unmatched (at, platform, channel, text, key) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for (at, platform, channel, text, key) in &q.unmatched {
                stmt.execute(params![at, platform, channel, text, key])?;
            }
        }
        tx.commit()?;
        Ok(())
    }
}
