//! The SQLite schema: the checks on open (a database, undamaged, writable, not newer than
//! this build) and the migrations, applied in order and counted in `PRAGMA user_version`.

use rusqlite::{params, Connection};

use super::queries::gap_key;
use crate::store::{Redacted, StoreError};

/// One schema version: SQL, or Rust for what SQL cannot do (redaction).
pub(super) enum Migration {
    Sql(&'static str),
    Code(fn(&rusqlite::Transaction) -> rusqlite::Result<()>),
}

/// Schema versions, applied in order; `PRAGMA user_version` says how many ran.
pub(super) const MIGRATIONS: &[Migration] = &[
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

/// Migration 2: every stored gap text through [`Redacted::new`] again, its grouping
/// key recomputed.
fn redact_stored_gaps(tx: &rusqlite::Transaction) -> rusqlite::Result<()> {
    let rows: Vec<(i64, String)> = tx
        .prepare("SELECT id, text FROM unmatched")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut update = tx.prepare("UPDATE unmatched SET text = ?2, key = ?3 WHERE id = ?1")?;
    for (id, text) in rows {
        let clean = Redacted::new(&text);
        if clean.as_str() != text {
            update.execute(params![id, clean.as_str(), gap_key(&clean)])?;
        }
    }
    Ok(())
}

/// Checks the database `conn` (named `name` in errors) and migrates it to this build's
/// schema.
pub(super) fn prepare(conn: &Connection, name: &str) -> Result<(), StoreError> {
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
    Ok(())
}

/// Turns SQLite's codes into the errors an operator can act on.
pub(super) fn classify(path: &str, e: rusqlite::Error) -> StoreError {
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
