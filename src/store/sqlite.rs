//! The SQLite store: one file, WAL mode, migrated on open.
//!
//! Opening checks what would otherwise fail mid-conversation: that the file is a database,
//! that it passes `quick_check`, that it can be written, and that its schema is not newer
//! than this build.
//!
//! Writes are queued and saved in batches by a background thread (one transaction every
//! [`FLUSH_EVERY`] or [`FLUSH_BATCH`] writes): a commit per event was a third of the Slack
//! receiver's CPU. Every read sees the queue: the checks (`first_time`, `cooldown`) look in
//! it before the database, and the other reads save it first. Dropping the store or calling
//! [`Store::flush`] saves what is queued. Each batch is committed with `synchronous = FULL`
//! (an fsync per batch, at most one every [`FLUSH_EVERY`]), so a crash of the process or of
//! the machine loses at most the writes of the last [`FLUSH_EVERY`] and the batch being
//! committed at that moment.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::{AnswerRecord, EntryStats, GapStats, Report, Store, StoreError, Unmatched, Vote};
use crate::matcher::normalize::normalize;

/// One schema version: SQL, or Rust for what SQL cannot do (redaction).
enum Migration {
    Sql(&'static str),
    Code(fn(&rusqlite::Transaction) -> rusqlite::Result<()>),
}

/// Schema versions, applied in order; `PRAGMA user_version` says how many ran.
const MIGRATIONS: &[Migration] = &[
    // 1: the first schema.
    Migration::Sql(
        "CREATE TABLE answers (
         id INTEGER PRIMARY KEY,
         at INTEGER NOT NULL,
         platform TEXT NOT NULL,
         channel TEXT NOT NULL,
         message TEXT NOT NULL,
         entry_id TEXT NOT NULL,
         mode TEXT NOT NULL,
         score REAL NOT NULL
     );
     CREATE INDEX answers_at ON answers(at);
     CREATE INDEX answers_message ON answers(platform, message);
     CREATE TABLE votes (
         answer INTEGER NOT NULL REFERENCES answers(id),
         user TEXT NOT NULL,
         helpful INTEGER NOT NULL,
         at INTEGER NOT NULL,
         PRIMARY KEY (answer, user)
     );
     CREATE TABLE unmatched (
         id INTEGER PRIMARY KEY,
         at INTEGER NOT NULL,
         platform TEXT NOT NULL,
         channel TEXT NOT NULL,
         text TEXT NOT NULL,
         key TEXT NOT NULL
     );
     CREATE INDEX unmatched_at ON unmatched(at);
     CREATE TABLE cooldowns (
         channel TEXT NOT NULL,
         entry_id TEXT NOT NULL,
         at INTEGER NOT NULL,
         PRIMARY KEY (channel, entry_id)
     );
     CREATE TABLE seen (
         key TEXT PRIMARY KEY,
         at INTEGER NOT NULL
     );
     CREATE INDEX seen_at ON seen(at);",
    ),
    // 2: gaps stored before the redaction rule of docs/operations.md kept card numbers with
    // dots, or with a digit too many; redact them again by today's rule.
    Migration::Code(redact_stored_gaps),
];

/// Migration 2: every stored gap text through [`crate::redact::redact`] again, its grouping
/// key recomputed.
fn redact_stored_gaps(tx: &rusqlite::Transaction) -> rusqlite::Result<()> {
    let rows: Vec<(i64, String)> = tx
        .prepare("SELECT id, text FROM unmatched")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut update = tx.prepare("UPDATE unmatched SET text = ?2, key = ?3 WHERE id = ?1")?;
    for (id, text) in rows {
        let clean = redact_for_store(&text);
        if clean != text {
            update.execute(params![id, clean, gap_key(&clean)])?;
        }
    }
    Ok(())
}

/// The text kept for a gap: redacted, then shortened.
fn redact_for_store(text: &str) -> String {
    crate::redact::redact(text)
        .chars()
        .take(MAX_UNMATCHED_CHARS)
        .collect()
}

/// The longest unmatched text kept, in characters.
pub const MAX_UNMATCHED_CHARS: usize = 500;

/// A [`Store`] in one SQLite file.
pub struct SqliteStore {
    shared: Arc<Shared>,
    flusher: Option<std::thread::JoinHandle<()>>,
}

/// How often old `seen` rows are deleted.
const SEEN_PRUNE_EVERY_SECS: i64 = 60;
/// How often gaps older than the retention are deleted (also once at open).
const GAP_PRUNE_EVERY_SECS: i64 = 3600;
/// The longest a write waits in the queue.
pub const FLUSH_EVERY: Duration = Duration::from_millis(20);
/// A queue this long is saved at once.
const FLUSH_BATCH: usize = 512;
/// While the database refuses writes, at most this many wait; newer ones are dropped (and
/// logged) rather than growing without bound.
const MAX_QUEUED: usize = 100_000;

struct Shared {
    state: Mutex<State>,
    /// Wakes the flusher: the queue got its first write, got long, or the store is closing.
    wake: Condvar,
    /// The batch being saved outside the lock is saved (or back in the queue).
    batch_done: Condvar,
}

struct State {
    /// Reads, votes, and saves made by readers that must see everything.
    conn: Connection,
    queue: Queue,
    /// The batch the writer thread is saving on its own connection, outside the lock; the
    /// checks look here too.
    saving: Option<Arc<Queue>>,
    /// When `seen` was last pruned (unix seconds).
    seen_pruned_at: i64,
    /// How long gaps are kept, in seconds: None = for ever, Some(0) = not stored at all.
    gap_retention: Option<i64>,
    /// When gaps were last pruned (unix seconds).
    gaps_pruned_at: i64,
    /// The writer thread waits for a first write: a write that makes the queue non-empty
    /// must wake it, however the queue became non-empty.
    flusher_idle: bool,
    /// Why the last save failed; cleared by the next one that works. `ping` reports it.
    failing: Option<String>,
    closing: bool,
}

/// Writes not yet saved.
#[derive(Default, Clone)]
struct Queue {
    answers: Vec<AnswerRecord>,
    /// (at, platform, channel, redacted text, grouping key)
    unmatched: Vec<(i64, String, String, String, String)>,
    /// key -> when seen
    seen: HashMap<String, i64>,
    /// (channel, entry id) -> when answered
    cooldowns: HashMap<(String, String), i64>,
    /// Delete `seen` rows older than this.
    prune_seen_before: Option<i64>,
    /// Delete gaps older than this.
    prune_gaps_before: Option<i64>,
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

impl State {
    /// What the unsaved writes (queued, then being saved) say about `f`, newest first.
    fn unsaved<T>(&self, f: impl Fn(&Queue) -> Option<T>) -> Option<T> {
        f(&self.queue).or_else(|| self.saving.as_deref().and_then(f))
    }
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SqliteStore")
    }
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let name = path.display().to_string();
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(|e| classify(&name, e))?;
        let mut store = Self::init(conn, &name)?;
        // The writer thread's own connection, opened after the migrations: it saves batches
        // (and runs WAL checkpoints) without holding the lock the checks need.
        let writer = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI,
        )
        .map_err(|e| classify(&name, e))?;
        writer.busy_timeout(Duration::from_secs(5))?;
        writer
            .execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")
            .map_err(|e| classify(&name, e))?;
        store.start_flusher(Some(writer), &name)?;
        Ok(store)
    }

    /// A private in-memory database, for tests and `kotae shell`. Its batches are saved under
    /// the lock: a second connection would see another, empty database.
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        let mut store = Self::init(Connection::open_in_memory()?, ":memory:")?;
        store.start_flusher(None, ":memory:")?;
        Ok(store)
    }

    fn init(conn: Connection, name: &str) -> Result<SqliteStore, StoreError> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| classify(name, e))?;
        if check != "ok" {
            return Err(StoreError::Corrupt {
                path: name.into(),
                message: check,
            });
        }
        if conn.is_readonly(rusqlite::MAIN_DB)? {
            return Err(StoreError::ReadOnly { path: name.into() });
        }
        if name != ":memory:" {
            let mode: String = conn
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
                .map_err(|e| classify(name, e))?;
            tracing::debug!(journal_mode = %mode, "database opened");
        }
        conn.execute_batch("PRAGMA foreign_keys = ON; PRAGMA synchronous = FULL;")
            .map_err(|e| classify(name, e))?;
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let known = MIGRATIONS.len() as i64;
        if version > known {
            return Err(StoreError::TooNew {
                path: name.into(),
                found: version,
                known,
            });
        }
        for (i, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let tx = conn
                .unchecked_transaction()
                .map_err(|e| classify(name, e))?;
            match migration {
                Migration::Sql(sql) => tx.execute_batch(sql),
                Migration::Code(run) => run(&tx),
            }
            .map_err(|e| classify(name, e))?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tx.commit().map_err(|e| classify(name, e))?;
        }
        conn.set_prepared_statement_cache_capacity(32);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                conn,
                queue: Queue::default(),
                saving: None,
                seen_pruned_at: 0,
                gap_retention: None,
                gaps_pruned_at: 0,
                flusher_idle: false,
                failing: None,
                closing: false,
            }),
            wake: Condvar::new(),
            batch_done: Condvar::new(),
        });
        Ok(SqliteStore {
            shared,
            flusher: None,
        })
    }

    fn start_flusher(&mut self, writer: Option<Connection>, name: &str) -> Result<(), StoreError> {
        let s = self.shared.clone();
        let flusher = std::thread::Builder::new()
            .name("kotae-store".into())
            .spawn(move || s.run_flusher(writer))
            .map_err(|e| StoreError::Open {
                path: name.into(),
                message: format!("cannot start the writer thread: {e}"),
            })?;
        self.flusher = Some(flusher);
        Ok(())
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.shared.lock()
    }

    /// The state with the queue saved, for reads that must see every write.
    fn saved(&self) -> Result<MutexGuard<'_, State>, StoreError> {
        let mut st = self.state();
        while st.saving.is_some() {
            st = self
                .shared
                .batch_done
                .wait(st)
                .unwrap_or_else(|p| p.into_inner());
        }
        st.save()?;
        Ok(st)
    }

    /// Keeps knowledge gaps for `days` (0: stores none), deleting older ones now and then
    /// once an hour. Without it gaps are kept for ever (what `kotae report` wants: it must
    /// not delete what a running bot keeps).
    pub fn with_gap_retention(self, days: u32) -> SqliteStore {
        {
            let mut st = self.state();
            st.gap_retention = Some(i64::from(days) * 86_400);
            st.gaps_pruned_at = i64::MIN;
            self.prune_gaps(&mut st, unix_now());
        }
        self
    }

    /// Queues the deletion of gaps past the retention, at most once an hour.
    fn prune_gaps(&self, st: &mut State, now: i64) {
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
    fn enqueue(&self, st: &mut State, push: impl FnOnce(&mut Queue)) {
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
    fn queue(&self, push: impl FnOnce(&mut Queue)) {
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
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The writer thread: waits for a first queued write, lets more gather for up to
    /// [`FLUSH_EVERY`], saves them in one transaction; saves the rest when closing. With its
    /// own connection (`writer`) it saves outside the lock.
    fn run_flusher(&self, mut writer: Option<Connection>) {
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
            let saved = match writer.as_mut() {
                Some(w) => {
                    let (guard, r) = self.save_unlocked(st, w);
                    st = guard;
                    r
                }
                None => st.save(),
            };
            if let Err(e) = saved {
                tracing::warn!(error = %e, queued = st.queue.len(), "cannot save to the database; retrying");
                // Retry later, not in a tight loop.
                st = self
                    .wake
                    .wait_timeout(st, Duration::from_secs(1))
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
            if st.closing {
                if let Err(e) = st.save() {
                    tracing::error!(error = %e, lost = st.queue.len(), "closing: queued writes could not be saved");
                }
                return;
            }
        }
    }

    /// Moves the queue out, saves it on `writer` without the lock, and takes the lock back;
    /// on failure the batch goes back in front of what queued meanwhile.
    fn save_unlocked<'a>(
        &'a self,
        mut st: MutexGuard<'a, State>,
        writer: &mut Connection,
    ) -> (MutexGuard<'a, State>, Result<(), StoreError>) {
        if st.queue.is_empty() {
            return (st, Ok(()));
        }
        let batch = Arc::new(std::mem::take(&mut st.queue));
        st.saving = Some(batch.clone());
        drop(st);
        let result = State::write(writer, &batch);
        let mut st = self.lock();
        st.saving = None;
        match &result {
            Ok(()) => st.failing = None,
            Err(e) => {
                st.failing = Some(e.to_string());
                let newer = std::mem::take(&mut st.queue);
                let mut older = Arc::try_unwrap(batch).unwrap_or_else(|b| b.as_ref().clone());
                older.absorb(newer);
                st.queue = older;
            }
        }
        self.batch_done.notify_all();
        (st, result)
    }
}

impl State {
    /// Saves the queue in one transaction; on failure the queue is kept for the next try.
    fn save(&mut self) -> Result<(), StoreError> {
        if self.queue.is_empty() {
            return Ok(());
        }
        let result = Self::write(&mut self.conn, &self.queue);
        match &result {
            Ok(()) => {
                self.queue = Queue::default();
                self.failing = None;
            }
            Err(e) => self.failing = Some(e.to_string()),
        }
        result
    }

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

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Turns SQLite's codes into the errors an operator can act on.
fn classify(path: &str, e: rusqlite::Error) -> StoreError {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StoreError::Corrupt {
            path: path.into(),
            message: "the file is not a SQLite database or is damaged; move it away and kotae starts a new one".into(),
        },
        Some(ErrorCode::ReadOnly) => StoreError::ReadOnly { path: path.into() },
        Some(ErrorCode::CannotOpen | ErrorCode::PermissionDenied) => StoreError::Open {
            path: path.into(),
            message: e.to_string(),
        },
        _ => StoreError::Sql(e),
    }
}

/// The grouping key of an unmatched text: normalized, digits folded, so the same error with
/// different amounts or times groups together.
fn gap_key(text: &str) -> String {
    normalize(text)
        .spaced
        .chars()
        .map(|c| if c.is_ascii_digit() { '0' } else { c })
        .take(MAX_UNMATCHED_CHARS)
        .collect()
}

/// When `key` was first seen: in the writes not yet saved, else in the file.
fn seen_at(st: &State, key: &str) -> Result<Option<i64>, StoreError> {
    match st.unsaved(|q| q.seen.get(key).copied()) {
        Some(at) => Ok(Some(at)),
        None => Ok(st
            .conn
            .prepare_cached("SELECT at FROM seen WHERE key = ?1")?
            .query_row(params![key], |r| r.get(0))
            .optional()?),
    }
}

impl Store for SqliteStore {
    fn ping(&self) -> Result<(), StoreError> {
        let st = self.state();
        if let Some(why) = &st.failing {
            return Err(StoreError::Unsaved(why.clone()));
        }
        st.conn.query_row("SELECT 1", [], |_| Ok(()))?;
        Ok(())
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.saved().map(drop)
    }

    fn record_answer(&self, a: &AnswerRecord) -> Result<(), StoreError> {
        self.queue(|q| q.answers.push(a.clone()));
        Ok(())
    }

    fn answer_by_message(&self, platform: &str, message: &str) -> Result<Option<i64>, StoreError> {
        Ok(self
            .saved()?
            .conn
            .prepare_cached(
                "SELECT id FROM answers WHERE platform = ?1 AND message = ?2 ORDER BY id DESC LIMIT 1",
            )?
            .query_row(params![platform, message], |r| r.get(0))
            .optional()?)
    }

    fn answer_entry(&self, platform: &str, message: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .saved()?
            .conn
            .prepare_cached(
                "SELECT entry_id FROM answers WHERE platform = ?1 AND message = ?2 ORDER BY id DESC LIMIT 1",
            )?
            .query_row(params![platform, message], |r| r.get(0))
            .optional()?)
    }

    fn record_vote(
        &self,
        answer: i64,
        user: &str,
        helpful: bool,
        at: i64,
    ) -> Result<Vote, StoreError> {
        // Votes are rare and read-modify-write: saved at once, not queued.
        let st = self.saved()?;
        let before: Option<bool> = st
            .conn
            .prepare_cached("SELECT helpful FROM votes WHERE answer = ?1 AND user = ?2")?
            .query_row(params![answer, user], |r| r.get(0))
            .optional()?;
        st.conn
            .prepare_cached(
                "INSERT INTO votes (answer, user, helpful, at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (answer, user) DO UPDATE SET helpful = excluded.helpful, at = excluded.at",
            )?
            .execute(params![answer, user, helpful, at])?;
        Ok(match before {
            None => Vote::New,
            Some(b) if b == helpful => Vote::Same,
            Some(_) => Vote::Changed,
        })
    }

    fn record_unmatched(&self, u: &Unmatched) -> Result<(), StoreError> {
        // Redacted before the lock: the other writers need not wait for it.
        let text = redact_for_store(&u.text);
        let key = gap_key(&text);
        let mut st = self.state();
        if st.gap_retention == Some(0) {
            return Ok(());
        }
        self.prune_gaps(&mut st, unix_now());
        let row = (u.at, u.platform.clone(), u.channel.clone(), text, key);
        self.enqueue(&mut st, |q| q.unmatched.push(row));
        Ok(())
    }

    fn cooldown(
        &self,
        channel: &str,
        entry_id: &str,
        now: i64,
        window: i64,
    ) -> Result<Option<i64>, StoreError> {
        // Check and set under one lock: the queue holds the newest time of anything answered
        // since the last save, the database the rest.
        let mut st = self.state();
        let key = (channel.to_string(), entry_id.to_string());
        let last = match st.unsaved(|q| q.cooldowns.get(&key).copied()) {
            Some(at) => Some(at),
            None => st
                .conn
                .prepare_cached("SELECT at FROM cooldowns WHERE channel = ?1 AND entry_id = ?2")?
                .query_row(params![channel, entry_id], |r| r.get(0))
                .optional()?,
        };
        if let Some(at) = last {
            let ago = now - at;
            if (0..window).contains(&ago) {
                return Ok(Some(ago));
            }
        }
        self.enqueue(&mut st, |q| {
            q.cooldowns.insert(key, now);
        });
        Ok(None)
    }

    fn seen(&self, key: &str, now: i64, keep: i64) -> Result<bool, StoreError> {
        let st = self.state();
        Ok(seen_at(&st, key)?.is_some_and(|at| at >= now - keep))
    }

    fn first_time(&self, key: &str, now: i64, keep: i64) -> Result<bool, StoreError> {
        let mut st = self.state();
        // A key older than `keep` counts as new even before the prune removes it.
        if seen_at(&st, key)?.is_some_and(|at| at >= now - keep) {
            return Ok(false);
        }
        // Old rows go once a minute, with the next save, not with every event.
        let prune = now - st.seen_pruned_at >= SEEN_PRUNE_EVERY_SECS || now < st.seen_pruned_at;
        if prune {
            st.seen_pruned_at = now;
        }
        self.enqueue(&mut st, |q| {
            if prune {
                q.prune_seen_before = Some(now - keep);
            }
            q.seen.insert(key.to_string(), now);
        });
        Ok(true)
    }

    fn report(&self, since: i64, top_unmatched: usize) -> Result<Report, StoreError> {
        let st = self.saved()?;
        let conn = &st.conn;
        let mut stmt = conn.prepare(
            "SELECT a.entry_id,
                    COUNT(DISTINCT a.id),
                    COALESCE(SUM(v.helpful = 1), 0),
                    COALESCE(SUM(v.helpful = 0), 0)
             FROM answers a LEFT JOIN votes v ON v.answer = a.id
             WHERE a.at >= ?1
             GROUP BY a.entry_id
             ORDER BY COUNT(DISTINCT a.id) DESC, a.entry_id",
        )?;
        let entries = stmt
            .query_map(params![since], |r| {
                let (helpful, not_helpful): (i64, i64) = (r.get(2)?, r.get(3)?);
                let votes = helpful + not_helpful;
                Ok(EntryStats {
                    entry_id: r.get(0)?,
                    answers: r.get::<_, i64>(1)? as u64,
                    helpful: helpful as u64,
                    not_helpful: not_helpful as u64,
                    helpful_pct: (votes > 0)
                        .then(|| (helpful as f64 * 1000.0 / votes as f64).round() / 10.0),
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut stmt = conn.prepare(
            "SELECT MAX(text), COUNT(*), MAX(at) FROM unmatched WHERE at >= ?1
             GROUP BY key ORDER BY COUNT(*) DESC, MAX(at) DESC LIMIT ?2",
        )?;
        let unmatched = stmt
            .query_map(params![since, top_unmatched as i64], |r| {
                Ok(GapStats {
                    text: r.get(0)?,
                    count: r.get::<_, i64>(1)? as u64,
                    last_seen: r.get(2)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Report {
            since,
            entries,
            unmatched,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(entry: &str, at: i64) -> AnswerRecord {
        AnswerRecord {
            at,
            platform: "discord".into(),
            channel: "c1".into(),
            message: format!("m-{entry}-{at}"),
            entry_id: entry.into(),
            mode: "auto".into(),
            score: 100.0,
        }
    }

    #[test]
    fn votes_count_once_per_user_and_answer() {
        let s = SqliteStore::in_memory().unwrap();
        s.record_answer(&answer("e", 10)).unwrap();
        let a = s.answer_by_message("discord", "m-e-10").unwrap().unwrap();
        assert_eq!(s.record_vote(a, "u1", true, 11).unwrap(), Vote::New);
        assert_eq!(s.record_vote(a, "u1", true, 12).unwrap(), Vote::Same);
        assert_eq!(s.record_vote(a, "u2", false, 12).unwrap(), Vote::New);
        assert_eq!(s.record_vote(a, "u2", true, 13).unwrap(), Vote::Changed);
        let r = s.report(0, 10).unwrap();
        assert_eq!(r.entries[0].helpful, 2);
        assert_eq!(r.entries[0].not_helpful, 0);
        assert_eq!(r.entries[0].helpful_pct, Some(100.0));
    }

    #[test]
    fn an_answers_entry_is_found_by_its_message() {
        let s = SqliteStore::in_memory().unwrap();
        s.record_answer(&answer("e1", 10)).unwrap();
        assert_eq!(
            s.answer_entry("discord", "m-e1-10").unwrap().as_deref(),
            Some("e1")
        );
        assert_eq!(s.answer_entry("slack", "m-e1-10").unwrap(), None);
        assert_eq!(s.answer_entry("discord", "m-e2-10").unwrap(), None);
    }

    #[test]
    fn cooldown_window() {
        let s = SqliteStore::in_memory().unwrap();
        assert_eq!(s.cooldown("c", "e", 1000, 600).unwrap(), None);
        assert_eq!(s.cooldown("c", "e", 1100, 600).unwrap(), Some(100));
        assert_eq!(s.cooldown("c2", "e", 1100, 600).unwrap(), None);
        assert_eq!(s.cooldown("c", "e", 1600, 600).unwrap(), None);
    }

    #[test]
    fn events_are_seen_once_and_forgotten_later() {
        let s = SqliteStore::in_memory().unwrap();
        assert!(s.first_time("ev1", 100, 3600).unwrap());
        assert!(!s.first_time("ev1", 200, 3600).unwrap());
        assert!(s.first_time("ev1", 100 + 3601 + 3600, 3600).unwrap());
        assert!(s.seen("ev1", 100 + 3601 + 3600, 3600).unwrap());
        assert!(!s.seen("ev2", 100, 3600).unwrap());
        assert!(
            s.first_time("ev2", 100, 3600).unwrap(),
            "looking does not record"
        );
    }

    #[test]
    fn old_seen_keys_are_pruned_at_most_once_a_minute() {
        let s = SqliteStore::in_memory().unwrap();
        let rows = |s: &SqliteStore| -> i64 {
            s.saved()
                .unwrap()
                .conn
                .query_row("SELECT COUNT(*) FROM seen", [], |r| r.get(0))
                .unwrap()
        };
        // The first call prunes (nothing yet) and starts the minute.
        for i in 0..10 {
            assert!(s.first_time(&format!("old{i}"), 1000, 30).unwrap());
        }
        // 40 s later the keys have expired, but the last prune was under a minute ago: the
        // rows stay, and an expired key still counts as new.
        assert!(s.first_time("new0", 1040, 30).unwrap());
        assert!(
            s.first_time("old0", 1040, 30).unwrap(),
            "an expired key is new"
        );
        assert!(!s.first_time("old0", 1041, 30).unwrap());
        assert_eq!(rows(&s), 11);
        // Over a minute after the last prune, every expired row goes.
        assert!(s
            .first_time("new1", 1100 + SEEN_PRUNE_EVERY_SECS, 30)
            .unwrap());
        assert_eq!(rows(&s), 1, "only new1 is left");
    }

    #[test]
    fn queued_writes_reach_the_file_without_a_flush() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("k.db");
        let s = SqliteStore::open(&db).unwrap();
        s.record_answer(&answer("e", 10)).unwrap();
        assert!(s.first_time("ev", 10, 100).unwrap());
        // A second connection, as `kotae report` would be: the writer thread saves the
        // queue within FLUSH_EVERY; allow a slow machine much longer.
        let other = Connection::open(&db).unwrap();
        let count = |sql: &str| -> i64 { other.query_row(sql, [], |r| r.get(0)).unwrap() };
        let deadline = Instant::now() + Duration::from_secs(5);
        while count("SELECT COUNT(*) FROM answers") + count("SELECT COUNT(*) FROM seen") < 2 {
            assert!(Instant::now() < deadline, "the queue was never saved");
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(s);
    }

    #[test]
    fn a_failing_save_is_reported_and_retried_without_losing_writes() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("k.db");
        let s = SqliteStore::open(&db).unwrap();
        let other = Connection::open(&db).unwrap();
        let wait = |what: &str, ok: &dyn Fn() -> bool| {
            let deadline = Instant::now() + Duration::from_secs(10);
            while !ok() {
                assert!(Instant::now() < deadline, "{what}");
                std::thread::sleep(Duration::from_millis(10));
            }
        };
        // Saves fail while the table is away.
        other
            .execute_batch("ALTER TABLE answers RENAME TO answers_away")
            .unwrap();
        s.record_answer(&answer("e", 10)).unwrap();
        wait("the failing save was never reported", &|| s.ping().is_err());
        let err = s.ping().unwrap_err().to_string();
        assert!(
            err.contains("not saved") && err.contains("answers"),
            "{err}"
        );
        other
            .execute_batch("ALTER TABLE answers_away RENAME TO answers")
            .unwrap();
        wait("the save was not retried", &|| s.ping().is_ok());
        let saved: i64 = other
            .query_row("SELECT COUNT(*) FROM answers", [], |r| r.get(0))
            .unwrap();
        assert_eq!(saved, 1, "the queued answer was kept and saved");
    }

    /// Eight threads ask about the same keys and cooldown while batches are being saved (on
    /// the writer's own connection for a file): each key is new once, one answer per window.
    fn new_once_under_threads(s: Arc<SqliteStore>) {
        let firsts: usize = (0..8)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || {
                    (0..3000)
                        .filter(|i| {
                            if i % 500 == 0 {
                                // Let a batch or two be saved meanwhile.
                                std::thread::sleep(FLUSH_EVERY);
                            }
                            s.first_time(&format!("k{i}"), 10, 100).unwrap()
                        })
                        .count()
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| t.join().unwrap())
            .sum();
        assert_eq!(firsts, 3000);
        let cooldowns: usize = (0..8)
            .map(|_| {
                let s = s.clone();
                std::thread::spawn(move || s.cooldown("c", "e", 10, 600).unwrap().is_none())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|t| usize::from(t.join().unwrap()))
            .sum();
        assert_eq!(cooldowns, 1, "one answer per cooldown window");
    }

    #[test]
    fn keys_in_a_batch_being_saved_are_still_known() {
        let dir = tempfile::tempdir().unwrap();
        let s = SqliteStore::open(&dir.path().join("k.db")).unwrap();
        // Each new key is followed by a check of one from a few hundred before, which is in
        // the queue, in the batch the writer is saving, or saved.
        for i in 0..20_000 {
            assert!(s.first_time(&format!("k{i}"), 10, 100).unwrap());
            for back in [100, 300, 600, 1200] {
                if i >= back {
                    let old = format!("k{}", i - back);
                    assert!(!s.first_time(&old, 10, 100).unwrap(), "{old} was new again");
                }
            }
        }
    }

    #[test]
    fn one_key_is_new_once_however_many_threads_ask() {
        new_once_under_threads(Arc::new(SqliteStore::in_memory().unwrap()));
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("k.db");
        new_once_under_threads(Arc::new(SqliteStore::open(&db).unwrap()));
        // And all of it reached the file.
        let saved: i64 = Connection::open(&db)
            .unwrap()
            .query_row("SELECT COUNT(*) FROM seen", [], |r| r.get(0))
            .unwrap();
        assert_eq!(saved, 3000);
    }

    #[test]
    fn unmatched_pastes_are_redacted_and_grouped() {
        let s = SqliteStore::in_memory().unwrap();
        for (i, amount) in ["1000", "2000", "3000"].iter().enumerate() {
            s.record_unmatched(&Unmatched {
                at: 10 + i as i64,
                platform: "slack".into(),
                channel: "C1".into(),
                text: format!("エラー XY{amount} が出た。カード 4111 1111 1111 1111"),
            })
            .unwrap();
        }
        s.record_unmatched(&Unmatched {
            at: 20,
            platform: "slack".into(),
            channel: "C1".into(),
            text: "別のエラー".into(),
        })
        .unwrap();
        let r = s.report(0, 10).unwrap();
        assert_eq!(r.unmatched.len(), 2);
        assert_eq!(r.unmatched[0].count, 3);
        assert!(
            !r.unmatched[0].text.contains("4111"),
            "{}",
            r.unmatched[0].text
        );
        assert!(r.unmatched[0].text.contains("[card]"));
    }

    fn wait_until_idle(s: &SqliteStore) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !s.state().flusher_idle {
            assert!(Instant::now() < deadline, "the writer never went idle");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// The bug of issue 10: the first `first_time` of a minute queued the prune of `seen`
    /// without waking the writer, and later writes then never woke it either, so nothing
    /// reached the file before shutdown.
    #[test]
    fn writes_after_a_first_event_check_reach_the_file_without_a_flush() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("k.db");
        // A real clock: the first check of a minute queues the prune of old keys.
        const T: i64 = 1_700_000_000;
        let s = SqliteStore::open(&db).unwrap();
        // As in a running bot: the writer waits for work before the first event comes.
        wait_until_idle(&s);
        assert!(s.first_time("ev", T, 100).unwrap());
        s.record_answer(&answer("e", T)).unwrap();
        s.record_unmatched(&Unmatched {
            at: T,
            platform: "slack".into(),
            channel: "C1".into(),
            text: "XY0001 エラー".into(),
        })
        .unwrap();
        let other = Connection::open(&db).unwrap();
        let count = |sql: &str| -> i64 { other.query_row(sql, [], |r| r.get(0)).unwrap() };
        let deadline = Instant::now() + Duration::from_secs(5);
        while count("SELECT COUNT(*) FROM answers")
            + count("SELECT COUNT(*) FROM seen")
            + count("SELECT COUNT(*) FROM unmatched")
            < 3
        {
            assert!(Instant::now() < deadline, "the queue was never saved");
            std::thread::sleep(Duration::from_millis(5));
        }
        // And a second burst after the writer went back to waiting.
        wait_until_idle(&s);
        assert!(s.first_time("ev2", T + 1, 100).unwrap());
        let deadline = Instant::now() + Duration::from_secs(5);
        while count("SELECT COUNT(*) FROM seen") < 2 {
            assert!(
                Instant::now() < deadline,
                "the second write was never saved"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(s);
    }

    #[test]
    fn gaps_stored_before_the_redaction_rule_are_redacted_by_the_migration() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("k.db");
        {
            let conn = Connection::open(&db).unwrap();
            let Migration::Sql(v1) = &MIGRATIONS[0] else {
                unreachable!()
            };
            conn.execute_batch(v1).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            // What the old rule let through: dots between the groups, a digit too many.
            for text in [
                "カード 4111.1111.1111.1111 で MW1M01AJ0004",
                "カード 41111111111111112 で MW1M01AJ0004",
            ] {
                conn.execute(
                    "INSERT INTO unmatched (at, platform, channel, text, key) VALUES (1, 'slack', 'C1', ?1, ?1)",
                    params![text],
                )
                .unwrap();
            }
        }
        let s = SqliteStore::open(&db).unwrap();
        let r = s.report(0, 10).unwrap();
        assert_eq!(r.unmatched.len(), 1, "both now group together: {r:?}");
        assert_eq!(r.unmatched[0].count, 2);
        assert_eq!(r.unmatched[0].text, "カード [card] で MW1M01AJ0004");
        drop(s);
        let version: i64 = Connection::open(&db)
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, MIGRATIONS.len() as i64);
    }

    #[test]
    fn gaps_are_kept_for_the_retention_and_none_with_zero() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("k.db");
        let gap = |at: i64, text: &str| Unmatched {
            at,
            platform: "slack".into(),
            channel: "C1".into(),
            text: text.into(),
        };
        let now = unix_now();
        {
            let s = SqliteStore::open(&db).unwrap().with_gap_retention(7);
            s.record_unmatched(&gap(now - 8 * 86_400, "old XY0001"))
                .unwrap();
            s.record_unmatched(&gap(now - 86_400, "recent XY0002"))
                .unwrap();
        }
        // Without a retention (as `kotae report` opens it) nothing is deleted.
        assert_eq!(
            SqliteStore::open(&db)
                .unwrap()
                .report(0, 10)
                .unwrap()
                .unmatched
                .len(),
            2
        );
        // A bot with a 7-day retention deletes the old one when it opens the store.
        let s = SqliteStore::open(&db).unwrap().with_gap_retention(7);
        let texts: Vec<String> = s
            .report(0, 10)
            .unwrap()
            .unmatched
            .into_iter()
            .map(|g| g.text)
            .collect();
        assert_eq!(texts, ["recent XY0002"]);
        drop(s);
        let s = SqliteStore::open(&db).unwrap().with_gap_retention(0);
        s.record_unmatched(&gap(now, "kept? XY0003")).unwrap();
        assert!(
            s.report(0, 10).unwrap().unmatched.is_empty(),
            "0 days keeps none"
        );
    }

    #[test]
    fn report_respects_since() {
        let s = SqliteStore::in_memory().unwrap();
        s.record_answer(&answer("old", 5)).unwrap();
        s.record_answer(&answer("new", 50)).unwrap();
        let r = s.report(10, 10).unwrap();
        assert_eq!(
            r.entries
                .iter()
                .map(|e| e.entry_id.as_str())
                .collect::<Vec<_>>(),
            ["new"]
        );
    }
}
