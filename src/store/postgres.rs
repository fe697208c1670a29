//! The PostgreSQL store: several `kotae serve` replicas share one database (issue 16,
//! docs/deploy.md), so a paste is answered once whichever replica gets it.
//!
//! What must hold across replicas is one statement each, atomic in the database: the first
//! claim of an event or message id wins (`INSERT … ON CONFLICT … WHERE … RETURNING`), a
//! claim not settled within [`CLAIM_TIMEOUT_SECS`] (its replica died before answering) can
//! be claimed again, the per-channel cooldown is claimed the same way, a vote is one upsert
//! per user and answer, and an answer is stored once per posted message.
//!
//! The client (tokio-postgres with a deadpool pool) runs on a small runtime of the store's
//! own, so the [`Store`] methods can be called from any thread, with or without a runtime
//! (`kotae report`, tests). They wait for the network, so the bot calls the checks on
//! tokio's blocking pool ([`Store::blocking`]); writes nobody waits for (answers, gaps,
//! settled claims, prunes) go through one ordered queue and are retried while the database
//! is away. Each statement has a short timeout: during an outage a check fails fast and the
//! bot answers anyway (a double answer is better than none).
//!
//! The password comes from the URL or `PGPASSWORD`, and is never logged: errors name the
//! database as `user@host/db` only. TLS is used as the URL's `sslmode` and `sslrootcert` ask
//! ([`super::pg_tls`]).

use std::future::Future;
use std::sync::atomic::{AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio::sync::mpsc;
use tokio_postgres::config::Host;

use super::sqlite::gap_key;
use super::{AnswerRecord, EntryStats, GapStats, Report, Store, StoreError, Unmatched, Vote};

/// How long a check waits for the database before the bot goes on without it.
pub const STATEMENT_TIMEOUT: Duration = Duration::from_secs(2);
/// A claim not settled within this long may be taken over: Slack retries an event after a
/// minute and after five, so a replica that died mid-answer is covered by the next retry.
pub const CLAIM_TIMEOUT_SECS: i64 = 60;
/// The advisory lock the migrations run under ("kotae" in ASCII).
const MIGRATION_LOCK: i64 = 0x6b_6f74_6165;
/// Writes waiting while the database is away; past this they are dropped (and logged).
const MAX_QUEUED: usize = 100_000;
const PRUNE_EVERY_SECS: i64 = 60;
/// Writes saved in one transaction.
const WRITE_BATCH: usize = 512;
/// The longest a batch may take before it counts as the database being away.
const BATCH_TIMEOUT: Duration = Duration::from_secs(10);
/// The "dropping writes" error is logged at most this often (with the count since).
const DROP_LOG_EVERY_SECS: i64 = 10;
const GAP_PRUNE_EVERY_SECS: i64 = 3600;

/// Schema versions, applied in order under [`MIGRATION_LOCK`]; `kotae_schema` says how
/// many ran. Unlike SQLite's, the first one already stores redacted gaps only.
const MIGRATIONS: &[&str] = &[
    // 1: the first schema.
    "CREATE TABLE answers (
         id BIGSERIAL PRIMARY KEY,
         at BIGINT NOT NULL,
         platform TEXT NOT NULL,
         channel TEXT NOT NULL,
         message TEXT NOT NULL,
         entry_id TEXT NOT NULL,
         mode TEXT NOT NULL,
         score DOUBLE PRECISION NOT NULL
     );
     CREATE INDEX answers_at ON answers(at);
     CREATE INDEX answers_message ON answers(platform, message);
     CREATE UNIQUE INDEX answers_once ON answers(platform, message) WHERE message <> '';
     CREATE TABLE votes (
         answer BIGINT NOT NULL REFERENCES answers(id),
         voter TEXT NOT NULL,
         helpful BOOLEAN NOT NULL,
         at BIGINT NOT NULL,
         PRIMARY KEY (answer, voter)
     );
     CREATE TABLE unmatched (
         id BIGSERIAL PRIMARY KEY,
         at BIGINT NOT NULL,
         platform TEXT NOT NULL,
         channel TEXT NOT NULL,
         text TEXT NOT NULL,
         key TEXT NOT NULL
     );
     CREATE INDEX unmatched_at ON unmatched(at);
     CREATE TABLE cooldowns (
         channel TEXT NOT NULL,
         entry_id TEXT NOT NULL,
         at BIGINT NOT NULL,
         PRIMARY KEY (channel, entry_id)
     );
     CREATE TABLE claims (
         key TEXT PRIMARY KEY,
         at BIGINT NOT NULL,
         owner TEXT NOT NULL,
         done BOOLEAN NOT NULL
     );
     CREATE INDEX claims_at ON claims(at);
     CREATE TABLE replicas (
         id TEXT PRIMARY KEY,
         pack_hash TEXT NOT NULL,
         seen_at BIGINT NOT NULL
     );",
];

/// A write nobody waits for, in the order it was made.
enum Job {
    Answer(AnswerRecord),
    /// (at, platform, channel, redacted text, grouping key)
    Unmatched(i64, String, String, String, String),
    /// The claim of this key is answered (or needs no answer): no takeover.
    Settle(String),
    /// The claim of this key is given up: nothing was done with the message.
    Release(String),
    PruneClaims(i64),
    PruneGaps(i64),
    /// Everything queued before it is saved (or given up).
    Barrier(std::sync::mpsc::Sender<()>),
}

/// A [`Store`] in a PostgreSQL database shared by replicas.
pub struct PostgresStore {
    runtime: Option<tokio::runtime::Runtime>,
    pool: Pool,
    jobs: mpsc::UnboundedSender<Job>,
    queued: Arc<AtomicUsize>,
    /// Why the last statement failed on the connection (None once one works again).
    failing: Arc<Mutex<Option<String>>>,
    /// This replica's name in claims and in the replicas table.
    owner: String,
    /// `user@host/db`, for messages: never the password.
    name: String,
    gap_retention: Option<i64>,
    claims_pruned_at: AtomicI64,
    gaps_pruned_at: AtomicI64,
    /// Writes dropped since the last log line about it, and when that was.
    dropped: AtomicUsize,
    drop_logged_at: AtomicI64,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PostgresStore({})", self.name)
    }
}

/// `user@host:port/db` of a parsed URL, for messages.
fn describe(c: &tokio_postgres::Config) -> String {
    let host = match c.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        #[cfg(unix)]
        Some(Host::Unix(p)) => p.display().to_string(),
        None => "localhost".into(),
    };
    let port = c.get_ports().first().copied().unwrap_or(5432);
    format!(
        "postgres://{}@{host}:{port}/{}",
        c.get_user().unwrap_or("?"),
        c.get_dbname().unwrap_or("")
    )
}

fn pg_err(e: tokio_postgres::Error) -> StoreError {
    // tokio-postgres' messages never hold the password; the server's detail is the useful part.
    match e.as_db_error() {
        Some(db) => StoreError::Postgres(format!("{} ({})", db.message(), db.code().code())),
        None => StoreError::Unavailable(e.to_string()),
    }
}

fn pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => pg_err(e),
        other => StoreError::Unavailable(other.to_string()),
    }
}

impl PostgresStore {
    /// Connects to `url`, checks the schema and migrates it (under an advisory lock, so
    /// replicas starting together take turns).
    pub fn open(url: &str) -> Result<PostgresStore, StoreError> {
        // `sslmode` (verify-ca, verify-full) and `sslrootcert` are ours to read: the client
        // library refuses them.
        let (url, tls_settings) = super::pg_tls::split_url(url)?;
        let mut config: tokio_postgres::Config =
            url.parse()
                .map_err(|e: tokio_postgres::Error| StoreError::Open {
                    // The parser's message names the bad part, not the URL.
                    path: "the PostgreSQL URL".into(),
                    message: e.to_string(),
                })?;
        if config.get_password().is_none() {
            if let Ok(p) = std::env::var("PGPASSWORD") {
                config.password(p);
            }
        }
        if config.get_user().is_none() {
            if let Some(user) = ["PGUSER", "USER"]
                .iter()
                .find_map(|v| std::env::var(v).ok())
            {
                config.user(user);
            }
        }
        if config.get_hosts().is_empty() {
            config.host(std::env::var("PGHOST").as_deref().unwrap_or("localhost"));
        }
        let name = describe(&config);
        let host = match config.get_hosts().first() {
            Some(Host::Tcp(h)) => h.clone(),
            _ => String::new(),
        };
        let tls = super::pg_tls::connector(&tls_settings)?;
        config.ssl_mode(tls_settings.mode.for_client());
        config.connect_timeout(STATEMENT_TIMEOUT);
        config.application_name("kotae");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("kotae-pg")
            .enable_all()
            .build()
            .map_err(|e| StoreError::Open {
                path: name.clone(),
                message: format!("cannot start the database threads: {e}"),
            })?;
        // One connection first, so a TLS failure is told as one (which setting, what to
        // change) instead of as the pool's "unavailable".
        {
            let (config, tls) = (config.clone(), tls.clone());
            let (tx, rx) = std::sync::mpsc::channel();
            // Spawned and awaited from this thread: `open` may be called inside a runtime.
            runtime.spawn(async move {
                let r = tokio::time::timeout(STATEMENT_TIMEOUT * 2, config.connect(tls)).await;
                let _ = tx.send(r.map(|r| r.map(|_| ())));
            });
            if let Ok(Ok(Err(e))) = rx.recv() {
                if let Some(tls_error) = super::pg_tls::classify(&e, &tls_settings, &name, &host) {
                    return Err(tls_error);
                }
            }
        }
        let manager = Manager::from_config(
            config,
            tls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(16)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(STATEMENT_TIMEOUT))
            .create_timeout(Some(STATEMENT_TIMEOUT))
            .recycle_timeout(Some(STATEMENT_TIMEOUT))
            .build()
            .map_err(|e| StoreError::Open {
                path: name.clone(),
                message: e.to_string(),
            })?;
        let (jobs, rx) = mpsc::unbounded_channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let failing = Arc::new(Mutex::new(None));
        let owner = owner_id();
        runtime.spawn(run_writer(
            pool.clone(),
            rx,
            queued.clone(),
            failing.clone(),
            owner.clone(),
        ));
        let store = PostgresStore {
            runtime: Some(runtime),
            pool,
            jobs,
            queued,
            failing,
            owner,
            name,
            gap_retention: None,
            claims_pruned_at: AtomicI64::new(0),
            gaps_pruned_at: AtomicI64::new(i64::MIN),
            dropped: AtomicUsize::new(0),
            drop_logged_at: AtomicI64::new(0),
        };
        let pool = store.pool.clone();
        store
            .call(Duration::from_secs(60), migrate(pool))
            .map_err(|e| StoreError::Open {
                path: store.name.clone(),
                message: e.to_string(),
            })?;
        Ok(store)
    }

    /// Keeps knowledge gaps for `days` (0: stores none); see
    /// [`crate::store::SqliteStore::with_gap_retention`].
    pub fn with_gap_retention(mut self, days: u32) -> PostgresStore {
        self.gap_retention = Some(i64::from(days) * 86_400);
        self
    }

    /// This replica's id in the database (host, process, start time).
    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// Runs `f` on the store's runtime and waits for it (at most `limit`), from any thread.
    fn call<T: Send + 'static>(
        &self,
        limit: Duration,
        f: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (tx, rx) = std::sync::mpsc::channel();
        let Some(rt) = &self.runtime else {
            return Err(StoreError::Unavailable("the store is closed".into()));
        };
        rt.spawn(async move {
            let r = tokio::time::timeout(limit, f)
                .await
                .unwrap_or_else(|_| Err(StoreError::Unavailable("timed out".into())));
            let _ = tx.send(r);
        });
        let r = rx
            .recv()
            .unwrap_or_else(|_| Err(StoreError::Unavailable("the store is closed".into())));
        note(&self.failing, &r);
        r
    }

    fn query<T: Send + 'static>(
        &self,
        f: impl Future<Output = Result<T, StoreError>> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.call(STATEMENT_TIMEOUT, f)
    }

    fn enqueue(&self, job: Job) {
        if self.queued.load(Ordering::Relaxed) >= MAX_QUEUED {
            // Counted, and logged once per interval: a flood of lines helps nobody.
            let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            let now = super::sqlite::unix_now();
            let last = self.drop_logged_at.load(Ordering::Relaxed);
            if now - last >= DROP_LOG_EVERY_SECS
                && self
                    .drop_logged_at
                    .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                self.dropped.store(0, Ordering::Relaxed);
                tracing::error!(
                    queued = MAX_QUEUED,
                    dropped,
                    "the database is not taking writes fast enough; dropping new ones"
                );
            }
            return;
        }
        self.queued.fetch_add(1, Ordering::Relaxed);
        if self.jobs.send(job).is_err() {
            self.queued.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// `column` of the newest answer posted as `message` on `platform`. This replica's own
    /// answer may still be queued (so its writes are awaited first); another's is saved.
    fn latest_answer<T>(
        &self,
        column: &'static str,
        platform: &str,
        message: &str,
    ) -> Result<Option<T>, StoreError>
    where
        T: for<'a> tokio_postgres::types::FromSql<'a> + Send + 'static,
    {
        let _ = self.barrier(STATEMENT_TIMEOUT);
        let (pool, p, m) = (self.pool.clone(), platform.to_string(), message.to_string());
        self.query(async move {
            let c = pool.get().await.map_err(pool_err)?;
            let sql = format!(
                "SELECT {column} FROM answers WHERE platform = $1 AND message = $2 ORDER BY id DESC LIMIT 1"
            );
            let row = c.query_opt(&sql, &[&p, &m]).await.map_err(pg_err)?;
            Ok(row.map(|r| r.get(0)))
        })
    }

    /// Waits (at most `limit`) until this replica's queued writes are saved.
    fn barrier(&self, limit: Duration) -> Result<(), StoreError> {
        let (tx, rx) = std::sync::mpsc::channel();
        self.enqueue(Job::Barrier(tx));
        rx.recv_timeout(limit).map_err(|_| {
            StoreError::Unsaved(format!(
                "{} writes wait for the database",
                self.queued.load(Ordering::Relaxed)
            ))
        })
    }
}

/// A name for this store that no other has: host, process id, start time, and a count
/// (tests open several stores in one process, and each must claim for itself).
fn owner_id() -> String {
    static COUNT: AtomicUsize = AtomicUsize::new(0);
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "host".into());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = COUNT.fetch_add(1, Ordering::Relaxed);
    format!("{host}-{}-{nanos:x}-{n}", std::process::id())
}

/// Keeps the last connection-level failure for `ping`; a server-side error (a constraint,
/// say) says nothing about the connection.
fn note<T>(failing: &Mutex<Option<String>>, r: &Result<T, StoreError>) {
    let mut f = failing.lock().unwrap_or_else(|p| p.into_inner());
    match r {
        Ok(_) | Err(StoreError::Postgres(_)) => *f = None,
        Err(e) => *f = Some(e.to_string()),
    }
}

async fn migrate(pool: Pool) -> Result<(), StoreError> {
    let mut c = pool.get().await.map_err(pool_err)?;
    let tx = c.transaction().await.map_err(pg_err)?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await
        .map_err(pg_err)?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS kotae_schema (version INTEGER NOT NULL)")
        .await
        .map_err(pg_err)?;
    let version: i32 = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM kotae_schema", &[])
        .await
        .map_err(pg_err)?
        .get(0);
    let known = MIGRATIONS.len() as i32;
    if version > known {
        return Err(StoreError::TooNew {
            path: "the PostgreSQL database".into(),
            found: version.into(),
            known: known.into(),
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.batch_execute(sql).await.map_err(pg_err)?;
        tx.execute(
            "INSERT INTO kotae_schema (version) VALUES ($1)",
            &[&(i as i32 + 1)],
        )
        .await
        .map_err(pg_err)?;
        tracing::info!(version = i + 1, "database migrated");
    }
    tx.commit().await.map_err(pg_err)?;
    Ok(())
}

/// Saves the queued writes in order, up to [`WRITE_BATCH`] in one transaction (one
/// statement per write was ~2,000 writes/s on this machine: a burst of events outran it).
/// A batch the server refuses is saved write by write, so only the refused write is
/// dropped (and logged); one that cannot reach the server is retried every second.
async fn run_writer(
    pool: Pool,
    mut rx: mpsc::UnboundedReceiver<Job>,
    queued: Arc<AtomicUsize>,
    failing: Arc<Mutex<Option<String>>>,
    owner: String,
) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        while batch.len() < WRITE_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        loop {
            let r = save(&pool, &batch, &owner).await;
            note(&failing, &r);
            match r {
                Err(StoreError::Unavailable(why)) => {
                    tracing::warn!(error = %why, queued = queued.load(Ordering::Relaxed), "cannot save to the database; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(_) => {
                    for job in &batch {
                        if let Err(e) = save(&pool, std::slice::from_ref(job), &owner).await {
                            tracing::error!(error = %e, "the database refused a write; dropped");
                        }
                    }
                    break;
                }
                Ok(()) => break,
            }
        }
        for job in &batch {
            if let Job::Barrier(done) = job {
                let _ = done.send(());
            }
        }
        queued.fetch_sub(batch.len(), Ordering::Relaxed);
    }
}

/// Saves `jobs` in one transaction, each statement prepared once per connection.
async fn save(pool: &Pool, jobs: &[Job], owner: &str) -> Result<(), StoreError> {
    if jobs.iter().all(|j| matches!(j, Job::Barrier(_))) {
        return Ok(());
    }
    let run = async {
        let mut c = pool.get().await.map_err(pool_err)?;
        let tx = c.transaction().await.map_err(pg_err)?;
        for job in jobs {
            let (sql, params): (&str, Vec<&(dyn tokio_postgres::types::ToSql + Sync)>) =
                match job {
                    Job::Answer(a) => (
                        "INSERT INTO answers (at, platform, channel, message, entry_id, mode, score)
                         VALUES ($1, $2, $3, $4, $5, $6, $7)
                         ON CONFLICT (platform, message) WHERE message <> '' DO NOTHING",
                        vec![
                            &a.at,
                            &a.platform,
                            &a.channel,
                            &a.message,
                            &a.entry_id,
                            &a.mode,
                            &a.score,
                        ],
                    ),
                    Job::Unmatched(at, platform, channel, text, key) => (
                        "INSERT INTO unmatched (at, platform, channel, text, key) VALUES ($1, $2, $3, $4, $5)",
                        vec![at, platform, channel, text, key],
                    ),
                    Job::Settle(key) => (
                        "UPDATE claims SET done = TRUE WHERE key = $1 AND owner = $2",
                        vec![key, &owner],
                    ),
                    Job::Release(key) => (
                        "DELETE FROM claims WHERE key = $1 AND owner = $2 AND NOT done",
                        vec![key, &owner],
                    ),
                    Job::PruneClaims(before) => ("DELETE FROM claims WHERE at < $1", vec![before]),
                    Job::PruneGaps(before) => ("DELETE FROM unmatched WHERE at < $1", vec![before]),
                    Job::Barrier(_) => continue,
                };
            let stmt = tx.prepare_cached(sql).await.map_err(pg_err)?;
            tx.execute(&stmt, &params).await.map_err(pg_err)?;
        }
        tx.commit().await.map_err(pg_err)
    };
    tokio::time::timeout(BATCH_TIMEOUT, run)
        .await
        .map_err(|_| StoreError::Unavailable("timed out".into()))?
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        if self.queued.load(Ordering::Relaxed) > 0 {
            let _ = self.barrier(Duration::from_secs(5));
        }
        // Allowed on any thread, also inside another runtime.
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl Store for PostgresStore {
    fn blocking(&self) -> bool {
        true
    }

    fn ping(&self) -> Result<(), StoreError> {
        let pool = self.pool.clone();
        self.query(async move {
            let c = pool.get().await.map_err(pool_err)?;
            c.simple_query("SELECT 1").await.map_err(pg_err)?;
            Ok(())
        })
        .map_err(|e| match e {
            StoreError::Postgres(m) => StoreError::Unavailable(m),
            e => e,
        })
    }

    fn flush(&self) -> Result<(), StoreError> {
        self.barrier(Duration::from_secs(5))
    }

    fn record_answer(&self, a: &AnswerRecord) -> Result<(), StoreError> {
        self.enqueue(Job::Answer(a.clone()));
        Ok(())
    }

    fn answer_by_message(&self, platform: &str, message: &str) -> Result<Option<i64>, StoreError> {
        self.latest_answer("id", platform, message)
    }

    fn answer_entry(&self, platform: &str, message: &str) -> Result<Option<String>, StoreError> {
        self.latest_answer("entry_id", platform, message)
    }

    fn record_vote(
        &self,
        answer: i64,
        user: &str,
        helpful: bool,
        at: i64,
    ) -> Result<Vote, StoreError> {
        let (pool, user) = (self.pool.clone(), user.to_string());
        self.query(async move {
            let c = pool.get().await.map_err(pool_err)?;
            // One statement: the old vote (as the statement began) and whether this one
            // inserted; two replicas taking the same user's first vote at once count it once.
            let row = c
                .query_one(
                    "WITH old AS (SELECT helpful FROM votes WHERE answer = $1 AND voter = $2)
                     INSERT INTO votes (answer, voter, helpful, at) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (answer, voter) DO UPDATE SET helpful = excluded.helpful, at = excluded.at
                     RETURNING (xmax = 0), (SELECT helpful FROM old)",
                    &[&answer, &user, &helpful, &at],
                )
                .await
                .map_err(pg_err)?;
            let (inserted, before): (bool, Option<bool>) = (row.get(0), row.get(1));
            Ok(match before {
                _ if inserted => Vote::New,
                Some(b) if b != helpful => Vote::Changed,
                _ => Vote::Same,
            })
        })
    }

    fn record_unmatched(&self, u: &Unmatched) -> Result<(), StoreError> {
        if self.gap_retention == Some(0) {
            return Ok(());
        }
        if let Some(keep) = self.gap_retention {
            let last = self.gaps_pruned_at.load(Ordering::Relaxed);
            if u.at.saturating_sub(last) >= GAP_PRUNE_EVERY_SECS || u.at < last {
                self.gaps_pruned_at.store(u.at, Ordering::Relaxed);
                self.enqueue(Job::PruneGaps(u.at - keep));
            }
        }
        self.enqueue(Job::Unmatched(
            u.at,
            u.platform.clone(),
            u.channel.clone(),
            u.text.as_str().to_string(),
            gap_key(&u.text),
        ));
        Ok(())
    }

    fn cooldown(
        &self,
        channel: &str,
        entry_id: &str,
        now: i64,
        window: i64,
    ) -> Result<Option<i64>, StoreError> {
        let (pool, ch, e) = (self.pool.clone(), channel.to_string(), entry_id.to_string());
        self.query(async move {
            let c = pool.get().await.map_err(pool_err)?;
            // Claimed when absent or outside the window; otherwise the time it was claimed.
            let row = c
                .query_one(
                    "WITH up AS (
                         INSERT INTO cooldowns (channel, entry_id, at) VALUES ($1, $2, $3)
                         ON CONFLICT (channel, entry_id) DO UPDATE SET at = excluded.at
                         WHERE cooldowns.at <= $3 - $4 OR cooldowns.at > $3
                         RETURNING at)
                     SELECT (SELECT at FROM up),
                            (SELECT at FROM cooldowns WHERE channel = $1 AND entry_id = $2)",
                    &[&ch, &e, &now, &window],
                )
                .await
                .map_err(pg_err)?;
            let (claimed, before): (Option<i64>, Option<i64>) = (row.get(0), row.get(1));
            Ok(match claimed {
                Some(_) => None,
                // Another replica claimed it in the same instant.
                None => Some(before.map_or(0, |at| (now - at).max(0))),
            })
        })
    }

    fn first_time(&self, key: &str, now: i64, keep: i64) -> Result<bool, StoreError> {
        let last = self.claims_pruned_at.load(Ordering::Relaxed);
        if now - last >= PRUNE_EVERY_SECS || now < last {
            self.claims_pruned_at.store(now, Ordering::Relaxed);
            self.enqueue(Job::PruneClaims(now - keep));
        }
        let (pool, key, owner) = (self.pool.clone(), key.to_string(), self.owner.clone());
        self.query(async move {
            let c = pool.get().await.map_err(pool_err)?;
            let row = c
                .query_opt(
                    "INSERT INTO claims (key, at, owner, done) VALUES ($1, $2, $3, FALSE)
                     ON CONFLICT (key) DO UPDATE
                         SET at = excluded.at, owner = excluded.owner, done = FALSE
                         WHERE claims.at < $2 - $4
                            OR (NOT claims.done AND claims.at < $2 - $5)
                     RETURNING 1",
                    &[&key, &now, &owner, &keep, &CLAIM_TIMEOUT_SECS],
                )
                .await
                .map_err(pg_err)?;
            Ok(row.is_some())
        })
    }

    fn settle(&self, key: &str) -> Result<(), StoreError> {
        self.enqueue(Job::Settle(key.to_string()));
        Ok(())
    }

    fn release(&self, key: &str) -> Result<(), StoreError> {
        self.enqueue(Job::Release(key.to_string()));
        Ok(())
    }

    fn seen(&self, key: &str, now: i64, keep: i64) -> Result<bool, StoreError> {
        let (pool, key) = (self.pool.clone(), key.to_string());
        self.query(async move {
            let c = pool.get().await.map_err(pool_err)?;
            let row = c
                .query_opt("SELECT at FROM claims WHERE key = $1", &[&key])
                .await
                .map_err(pg_err)?;
            Ok(row.is_some_and(|r| r.get::<_, i64>(0) >= now - keep))
        })
    }

    fn heartbeat(
        &self,
        pack_hash: &str,
        now: i64,
        live: i64,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let (pool, owner, hash) = (self.pool.clone(), self.owner.clone(), pack_hash.to_string());
        self.query(async move {
            let c = pool.get().await.map_err(pool_err)?;
            c.execute(
                "INSERT INTO replicas (id, pack_hash, seen_at) VALUES ($1, $2, $3)
                 ON CONFLICT (id) DO UPDATE SET pack_hash = excluded.pack_hash, seen_at = excluded.seen_at",
                &[&owner, &hash, &now],
            )
            .await
            .map_err(pg_err)?;
            c.execute("DELETE FROM replicas WHERE seen_at < $1", &[&(now - 10 * live)])
                .await
                .map_err(pg_err)?;
            let rows = c
                .query(
                    "SELECT id, pack_hash FROM replicas WHERE seen_at >= $1 ORDER BY id",
                    &[&(now - live)],
                )
                .await
                .map_err(pg_err)?;
            Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
        })
    }

    fn report(&self, since: i64, top_unmatched: usize) -> Result<Report, StoreError> {
        let _ = self.barrier(STATEMENT_TIMEOUT);
        let pool = self.pool.clone();
        self.call(Duration::from_secs(60), async move {
            let c = pool.get().await.map_err(pool_err)?;
            let entries = c
                .query(
                    "SELECT a.entry_id,
                            COUNT(DISTINCT a.id),
                            COUNT(v.answer) FILTER (WHERE v.helpful),
                            COUNT(v.answer) FILTER (WHERE NOT v.helpful)
                     FROM answers a LEFT JOIN votes v ON v.answer = a.id
                     WHERE a.at >= $1
                     GROUP BY a.entry_id
                     ORDER BY COUNT(DISTINCT a.id) DESC, a.entry_id",
                    &[&since],
                )
                .await
                .map_err(pg_err)?
                .iter()
                .map(|r| {
                    let (helpful, not_helpful): (i64, i64) = (r.get(2), r.get(3));
                    let votes = helpful + not_helpful;
                    EntryStats {
                        entry_id: r.get(0),
                        answers: r.get::<_, i64>(1) as u64,
                        helpful: helpful as u64,
                        not_helpful: not_helpful as u64,
                        helpful_pct: (votes > 0)
                            .then(|| (helpful as f64 * 1000.0 / votes as f64).round() / 10.0),
                    }
                })
                .collect();
            let unmatched = c
                .query(
                    "SELECT MAX(text), COUNT(*), MAX(at) FROM unmatched WHERE at >= $1
                     GROUP BY key ORDER BY COUNT(*) DESC, MAX(at) DESC LIMIT $2",
                    &[&since, &(top_unmatched as i64)],
                )
                .await
                .map_err(pg_err)?
                .iter()
                .map(|r| GapStats {
                    text: r.get(0),
                    count: r.get::<_, i64>(1) as u64,
                    last_seen: r.get(2),
                })
                .collect();
            Ok(Report {
                since,
                entries,
                unmatched,
            })
        })
    }
}
