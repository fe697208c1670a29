//! What kotae remembers across restarts: answers, votes, unmatched pastes, cooldowns and
//! handled event ids. [`Store`] is the interface; [`sqlite::SqliteStore`] keeps it in one
//! file for one process, [`postgres::PostgresStore`] in a database shared by replicas
//! (feature `postgres`); [`open`] picks one from the `database` setting.
//!
//! Nothing here holds a pasted message in full: answers keep ids and scores, unmatched pastes
//! keep a [`Redacted`] text, which only [`Redacted::new`] makes.

#[cfg(feature = "postgres")]
pub mod pg_tls;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod sqlite;

use std::sync::Arc;

use serde::Serialize;

#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Whether `database` names a PostgreSQL database (`postgres://…`) rather than a file.
pub fn is_url(database: &str) -> bool {
    database.starts_with("postgres://") || database.starts_with("postgresql://")
}

/// Whether a `postgres://` URL carries a password (`user:pw@` or `password=`): refused in a
/// config file, which is often shared or committed.
pub fn url_has_password(database: &str) -> bool {
    if !is_url(database) {
        return false;
    }
    let rest = database.split_once("://").map_or("", |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let userinfo_pw = authority
        .rsplit_once('@')
        .is_some_and(|(user, _)| user.contains(':'));
    userinfo_pw || rest.contains("password=")
}

/// Opens the store the `database` setting names: a `postgres://` URL or a SQLite file.
/// `gap_retention_days` as in the config (None: keep gaps for ever, as `kotae report`).
pub fn open(database: &str, gap_retention_days: Option<u32>) -> Result<Arc<dyn Store>, StoreError> {
    if is_url(database) {
        #[cfg(feature = "postgres")]
        {
            let s = PostgresStore::open(database)?;
            return Ok(match gap_retention_days {
                Some(d) => Arc::new(s.with_gap_retention(d)),
                None => Arc::new(s),
            });
        }
        #[cfg(not(feature = "postgres"))]
        return Err(StoreError::Open {
            path: "the PostgreSQL URL".into(),
            message: "this kotae was built without the `postgres` feature".into(),
        });
    }
    let s = SqliteStore::open(std::path::Path::new(database))?;
    Ok(match gap_retention_days {
        Some(d) => Arc::new(s.with_gap_retention(d)),
        None => Arc::new(s),
    })
}

/// Why the store failed, worded for the operator.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {path}: {message}")]
    Open { path: String, message: String },
    #[error("the database {path} is not a usable kotae database: {message}")]
    Corrupt { path: String, message: String },
    #[error("the database {path} is read-only; kotae needs to write to it (check the file's permissions)")]
    ReadOnly { path: String },
    #[error(
        "the database {path} was written by a newer kotae (schema {found}, this one knows {known})"
    )]
    TooNew {
        path: String,
        found: i64,
        known: i64,
    },
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
    /// The writer thread's last save failed; the writes wait in memory and are retried.
    #[error("recent writes are not saved yet: {0}")]
    Unsaved(String),
    /// The database server refused a statement (its message and SQLSTATE).
    #[error("PostgreSQL: {0}")]
    Postgres(String),
    /// The database server cannot be reached (or did not answer in time); the bot goes on
    /// without it and the pool reconnects.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// `sslrootcert` names no file of CA certificates kotae can use; the start stops here
    /// rather than at the first connection.
    #[error("sslrootcert={path}: {message}")]
    TlsRootCert { path: String, message: String },
    /// `sslcert` / `sslkey` (a client certificate for servers that ask for one) cannot be
    /// used: `setting` is the one at fault, as written (`sslcert=PATH`).
    #[error("{setting}: {message}")]
    TlsClientCert { setting: String, message: String },
    /// TLS to the database failed as the URL's `sslmode` asked for it (never a fallback to
    /// plain text): which setting, and what to change.
    #[error("TLS to {database} failed ({setting}): {message}")]
    Tls {
        database: String,
        setting: String,
        message: String,
    },
}

/// One posted answer.
#[derive(Debug, Clone, PartialEq)]
pub struct AnswerRecord {
    /// Unix seconds.
    pub at: i64,
    /// `discord`, `slack`, `shell`.
    pub platform: String,
    pub channel: String,
    /// The platform's id of kotae's reply message (for votes); empty when unknown.
    pub message: String,
    pub entry_id: String,
    /// `auto` or `lookup`.
    pub mode: String,
    pub score: f64,
}

/// A vote's effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Vote {
    /// The user's first vote on this answer.
    New,
    /// The user changed their vote.
    Changed,
    /// The same vote again: counted once.
    Same,
}

/// The longest unmatched text kept, in characters.
pub const MAX_UNMATCHED_CHARS: usize = 500;

/// Text with personal data taken out ([`crate::redact::redact`]) and shortened to
/// [`MAX_UNMATCHED_CHARS`]: the only kind of pasted text a [`Store`] accepts, so no backend
/// can forget to redact, and the redaction runs before the store (and its lock) is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted(String);

impl Redacted {
    pub fn new(text: &str) -> Redacted {
        Redacted(
            crate::redact::redact(text)
                .chars()
                .take(MAX_UNMATCHED_CHARS)
                .collect(),
        )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A paste that looked like an error but matched nothing.
#[derive(Debug, Clone, PartialEq)]
pub struct Unmatched {
    pub at: i64,
    pub platform: String,
    pub channel: String,
    /// The grouping key in reports is its normalized form.
    pub text: Redacted,
}

/// Per-entry figures for `kotae report`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EntryStats {
    pub entry_id: String,
    pub answers: u64,
    pub helpful: u64,
    pub not_helpful: u64,
    /// helpful / (helpful + not_helpful), in percent; None without votes.
    pub helpful_pct: Option<f64>,
}

/// An unmatched text and how often it came.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GapStats {
    pub text: String,
    pub count: u64,
    pub last_seen: i64,
}

/// Everything `kotae report` prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub since: i64,
    pub entries: Vec<EntryStats>,
    pub unmatched: Vec<GapStats>,
}

/// The store interface the bot uses.
///
/// Synchronous on purpose, so a backend may use a blocking client; what keeps the async
/// workers free is how it is called. With SQLite the calls on a message's path
/// (`first_time`, `seen`, `cooldown`, `record_answer`, `record_unmatched`, `settle`) return
/// at once: the checks are answered from the process's own record in memory and writes are
/// queued for the writer thread. A store whose checks wait for the network says so with
/// [`Store::blocking`] (PostgreSQL), and the feature layer then makes them on tokio's
/// blocking pool ([`crate::features::answer::respond_off_worker`]). The calls that wait for
/// saved data (`answer_by_message`, `answer_entry`, `record_vote`, `report`, `ping`,
/// `heartbeat`) are always made there ([`crate::features::feedback::vote_off_worker`],
/// [`crate::features::admin::run`], `/healthz`, the replicas' heartbeat).
pub trait Store: Send + Sync {
    /// True when the checks on a message's path wait for the network (a server database):
    /// the feature layer then makes them on tokio's blocking pool, not on an async worker.
    fn blocking(&self) -> bool {
        false
    }
    /// A cheap query, for `/healthz`.
    fn ping(&self) -> Result<(), StoreError>;
    /// Saves writes the store keeps back to batch them; at shutdown, before the process exits.
    fn flush(&self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Records an answer (possibly saved a moment later: every read of this store sees it).
    /// Its id for votes comes from [`Store::answer_by_message`].
    fn record_answer(&self, a: &AnswerRecord) -> Result<(), StoreError>;
    /// The answer posted as `message` on `platform`, if kotae posted it.
    fn answer_by_message(&self, platform: &str, message: &str) -> Result<Option<i64>, StoreError>;
    /// The entry id of the answer posted as `message` on `platform`: a reaction names only
    /// the message, and the reply to a 👎 needs the entry's links (also after a restart).
    fn answer_entry(&self, platform: &str, message: &str) -> Result<Option<String>, StoreError>;
    /// Records `user`'s vote on an answer, once per user and answer.
    fn record_vote(
        &self,
        answer: i64,
        user: &str,
        helpful: bool,
        at: i64,
    ) -> Result<Vote, StoreError>;
    fn record_unmatched(&self, u: &Unmatched) -> Result<(), StoreError>;
    /// Checks and records the cooldown in one step: Ok(None) = answer now (recorded);
    /// Ok(Some(ago)) = answered `ago` seconds ago, inside `window`.
    fn cooldown(
        &self,
        channel: &str,
        entry_id: &str,
        now: i64,
        window: i64,
    ) -> Result<Option<i64>, StoreError>;
    /// Returns true the first time `key` (a platform event or message id) is seen; false for
    /// a re-delivery. Keys older than `keep` seconds are forgotten.
    ///
    /// With replicas this is a claim: exactly one caller gets true, and a claim not
    /// [`Store::settle`]d in time (its replica died before answering) may be claimed again.
    fn first_time(&self, key: &str, now: i64, keep: i64) -> Result<bool, StoreError>;
    /// The claim of `key` by [`Store::first_time`] is done with (answered, or nothing to
    /// say): no other replica takes it over. Nothing to do for a store of one process.
    fn settle(&self, _key: &str) -> Result<(), StoreError> {
        Ok(())
    }
    /// Undoes this replica's claim of `key` by [`Store::first_time`]: the message got
    /// nothing, and an edit of it must be looked at again. Only called when
    /// [`Store::blocking`] (a store of one process records a message only once acted on).
    fn release(&self, _key: &str) -> Result<(), StoreError> {
        Ok(())
    }
    /// Whether `key` was recorded by [`Store::first_time`] within `keep` seconds, without
    /// recording it (a message is checked before the decision, recorded once acted on).
    fn seen(&self, key: &str, now: i64, keep: i64) -> Result<bool, StoreError>;
    fn report(&self, since: i64, top_unmatched: usize) -> Result<Report, StoreError>;
    /// Records that this replica serves the pack `pack_hash` at `now`, and returns (replica
    /// id, pack hash) of every replica seen within `live` seconds, this one included. A
    /// store of one process has no replicas to compare: empty.
    fn heartbeat(
        &self,
        _pack_hash: &str,
        _now: i64,
        _live: i64,
    ) -> Result<Vec<(String, String)>, StoreError> {
        Ok(Vec::new())
    }
}
