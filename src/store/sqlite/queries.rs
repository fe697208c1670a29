//! The reads that answer questions: whether a key was seen, and the report.

use std::collections::HashMap;

use rusqlite::{params, Connection};

use crate::normalize::normalize;
use crate::store::{EntryStats, GapStats, Redacted, Report, StoreError, MAX_UNMATCHED_CHARS};

/// The grouping key of an unmatched text: normalized, digits folded, so the same error with
/// different amounts or times groups together.
pub(crate) fn gap_key(text: &Redacted) -> String {
    normalize(text.as_str())
        .spaced
        .chars()
        .map(|c| if c.is_ascii_digit() { '0' } else { c })
        .take(MAX_UNMATCHED_CHARS)
        .collect()
}

/// The in-memory record's key for a seen key: SipHash with fixed keys
/// (`DefaultHasher::new`), so the same key maps to the same number within a build.
pub(super) fn key_hash(key: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::hash::DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

/// The process's own record at open: the seen keys (hashed) and the cooldowns.
pub(super) type Record = (HashMap<u64, i64>, HashMap<(String, String), i64>);

pub(super) fn load_record(conn: &Connection) -> rusqlite::Result<Record> {
    let seen = conn
        .prepare("SELECT key, at FROM seen")?
        .query_map([], |r| Ok((key_hash(&r.get::<_, String>(0)?), r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let cooldowns = conn
        .prepare("SELECT channel, entry_id, at FROM cooldowns")?
        .query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))?
        .collect::<Result<_, _>>()?;
    Ok((seen, cooldowns))
}

/// `kotae report`'s figures since `since`, with the `top_unmatched` most frequent gaps.
pub(super) fn report(
    conn: &Connection,
    since: i64,
    top_unmatched: usize,
) -> Result<Report, StoreError> {
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
