//! The SQLite store: one file, WAL mode, migrated on open.
//!
//! Opening checks what would otherwise fail mid-conversation: that the file is a database,
//! that it passes `quick_check`, that it can be written, and that its schema is not newer
//! than this build.
//!
//! Writes are queued and saved in batches by a background thread (one transaction every
//! [`FLUSH_EVERY`] or `FLUSH_BATCH` writes): a commit per event was a third of the Slack
//! receiver's CPU. The checks (`first_time`, `seen`, `cooldown`) are answered from the
//! process's own record in memory (loaded at open; one process owns a SQLite file), never
//! from the file: a vote or a report waiting on another process's write lock must not hold
//! up an ack (issue 14). The other reads save the queue first. Dropping the store or calling
//! [`Store::flush`] saves what is queued. Each batch is committed with `synchronous = FULL`
//! (an fsync per batch, at most one every [`FLUSH_EVERY`]), so a crash of the process or of
//! the machine loses at most the writes of the last [`FLUSH_EVERY`] and the batch being
//! committed at that moment.
//!
//! - [`schema`]: the checks on open and the migrations.
//! - [`writer`]: the queue and the thread that saves it in batches.
//! - [`queries`]: the reads (seen keys, the report).

mod queries;
mod schema;
mod writer;

use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};

use super::{AnswerRecord, Report, Store, StoreError, Unmatched, Vote};
use queries::key_hash;
use schema::classify;
use writer::{Queue, Shared, State, SEEN_PRUNE_EVERY_SECS};

pub(crate) use queries::gap_key;
pub use writer::FLUSH_EVERY;

/// A [`Store`] in one SQLite file.
pub struct SqliteStore {
    shared: Arc<Shared>,
    flusher: Option<std::thread::JoinHandle<()>>,
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
        Self::init(conn, &name)
    }

    /// A private in-memory database, for tests and `kotae shell`.
    pub fn in_memory() -> Result<SqliteStore, StoreError> {
        Self::init(Connection::open_in_memory()?, ":memory:")
    }

    fn init(conn: Connection, name: &str) -> Result<SqliteStore, StoreError> {
        schema::prepare(&conn, name)?;
        conn.set_prepared_statement_cache_capacity(32);
        let (seen, cooldowns) = queries::load_record(&conn).map_err(|e| classify(name, e))?;
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: Queue::default(),
                seen,
                cooldowns,
                seen_pruned_at: 0,
                gap_retention: None,
                gaps_pruned_at: 0,
                flusher_idle: false,
                failing: None,
                closing: false,
            }),
            conn: Mutex::new(conn),
            wake: Condvar::new(),
        });
        let mut store = SqliteStore {
            shared,
            flusher: None,
        };
        store.start_flusher(name)?;
        Ok(store)
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
}

pub(super) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Store for SqliteStore {
    fn ping(&self) -> Result<(), StoreError> {
        if let Some(why) = &self.state().failing {
            return Err(StoreError::Unsaved(why.clone()));
        }
        // A connection in use is alive; waiting for it could take the busy timeout.
        if let Ok(conn) = self.shared.conn.try_lock() {
            conn.query_row("SELECT 1", [], |_| Ok(()))?;
        }
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
            .prepare_cached(
                "SELECT id FROM answers WHERE platform = ?1 AND message = ?2 ORDER BY id DESC LIMIT 1",
            )?
            .query_row(params![platform, message], |r| r.get(0))
            .optional()?)
    }

    fn answer_entry(&self, platform: &str, message: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .saved()?
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
        let conn = self.saved()?;
        let before: Option<bool> = conn
            .prepare_cached("SELECT helpful FROM votes WHERE answer = ?1 AND user = ?2")?
            .query_row(params![answer, user], |r| r.get(0))
            .optional()?;
        conn.prepare_cached(
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
        // The key before the lock: the other writers need not wait for it.
        let key = gap_key(&u.text);
        let text = u.text.as_str().to_string();
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
        // Check and set under one lock, in the process's own record (loaded at open).
        let mut st = self.state();
        let key = (channel.to_string(), entry_id.to_string());
        if let Some(&at) = st.cooldowns.get(&key) {
            let ago = now - at;
            if (0..window).contains(&ago) {
                return Ok(Some(ago));
            }
        }
        st.cooldowns.insert(key.clone(), now);
        self.enqueue(&mut st, |q| {
            q.cooldowns.insert(key, now);
        });
        Ok(None)
    }

    fn seen(&self, key: &str, now: i64, keep: i64) -> Result<bool, StoreError> {
        let st = self.state();
        Ok(st
            .seen
            .get(&key_hash(key))
            .is_some_and(|&at| at >= now - keep))
    }

    fn first_time(&self, key: &str, now: i64, keep: i64) -> Result<bool, StoreError> {
        let hash = key_hash(key);
        let mut st = self.state();
        // A key older than `keep` counts as new even before the prune removes it.
        if st.seen.get(&hash).is_some_and(|&at| at >= now - keep) {
            return Ok(false);
        }
        st.seen.insert(hash, now);
        // Old rows go once a minute, with the next save, not with every event.
        let prune = now - st.seen_pruned_at >= SEEN_PRUNE_EVERY_SECS || now < st.seen_pruned_at;
        if prune {
            st.seen_pruned_at = now;
            st.seen.retain(|_, at| *at >= now - keep);
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
        queries::report(&*self.saved()?, since, top_unmatched)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::schema::{Migration, MIGRATIONS};
    use super::*;
    use crate::store::Redacted;

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

    /// Issue 14, item 3: another process holds the write lock, a vote waits on the 5 s busy
    /// timeout, and meanwhile the checks before an ack, the queued writes and the health
    /// probe still answer at once.
    #[test]
    fn checks_do_not_wait_behind_a_vote_stuck_on_a_locked_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("k.db");
        let s = Arc::new(SqliteStore::open(&db).unwrap());
        s.record_answer(&answer("e", 10)).unwrap();
        let id = s.answer_by_message("discord", "m-e-10").unwrap().unwrap();
        let other = Connection::open(&db).unwrap();
        other.execute_batch("BEGIN IMMEDIATE").unwrap();
        let voter = {
            let s = s.clone();
            std::thread::spawn(move || {
                // Queued writes first: the vote's save then waits for the lock.
                s.record_answer(&answer("e", 11)).unwrap();
                let t = Instant::now();
                let r = s.record_vote(id, "u1", true, 12);
                (t.elapsed(), r.is_ok())
            })
        };
        std::thread::sleep(Duration::from_millis(300));
        for i in 0..200 {
            let t = Instant::now();
            assert!(s.first_time(&format!("ev{i}"), 20, 3600).unwrap());
            assert!(!s.first_time(&format!("ev{i}"), 20, 3600).unwrap());
            assert!(s.seen(&format!("ev{i}"), 20, 3600).unwrap());
            assert_eq!(s.cooldown(&format!("c{i}"), "e", 20, 600).unwrap(), None);
            s.record_answer(&answer("e", 20 + i)).unwrap();
            let _ = s.ping();
            assert!(
                t.elapsed() < Duration::from_millis(200),
                "a check waited {:?} behind the locked file",
                t.elapsed()
            );
        }
        std::thread::sleep(Duration::from_millis(500));
        other.execute_batch("COMMIT").unwrap();
        let (waited, _) = voter.join().unwrap();
        assert!(
            waited >= Duration::from_millis(700),
            "the vote did not wait for the lock ({waited:?}): the test proved nothing"
        );
    }

    #[test]
    fn the_record_of_keys_and_cooldowns_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("k.db");
        {
            let s = SqliteStore::open(&db).unwrap();
            assert!(s.first_time("ev", 100, 3600).unwrap());
            assert_eq!(s.cooldown("c", "e", 100, 600).unwrap(), None);
        }
        let s = SqliteStore::open(&db).unwrap();
        assert!(!s.first_time("ev", 200, 3600).unwrap());
        assert!(s.seen("ev", 200, 3600).unwrap());
        assert_eq!(s.cooldown("c", "e", 200, 600).unwrap(), Some(100));
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
                text: Redacted::new(&format!(
                    "エラー XY{amount} が出た。カード 4111 1111 1111 1111"
                )),
            })
            .unwrap();
        }
        s.record_unmatched(&Unmatched {
            at: 20,
            platform: "slack".into(),
            channel: "C1".into(),
            text: Redacted::new("別のエラー"),
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
            text: Redacted::new("XY0001 エラー"),
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
            text: Redacted::new(text),
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
