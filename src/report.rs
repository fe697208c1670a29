//! `kotae report`: per entry the answers and helpful %, and the most frequent unmatched
//! pastes, as text, JSON or CSV, so the next knowledge edit is obvious.

use std::fmt::Write;

use crate::store::Report;

/// Output formats of `kotae report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Text,
    Json,
    Csv,
}

/// Why a `--since` value was not understood.
#[derive(Debug, thiserror::Error)]
#[error("--since {0:?}: use a duration such as 7d, 24h, 30m, 2w, or a date such as 2025-12-01")]
pub struct BadSince(String);

/// Parses `7d`, `24h`, `30m`, `2w` (relative to `now`, unix seconds) or `YYYY-MM-DD` (UTC).
pub fn parse_since(s: &str, now: i64) -> Result<i64, BadSince> {
    let bad = || BadSince(s.to_string());
    let s = s.trim();
    if let Some((n, unit)) = s.char_indices().last().map(|(i, c)| (&s[..i], c)) {
        if let (Ok(n), Some(mult)) = (
            n.parse::<i64>(),
            match unit {
                'm' => Some(60),
                'h' => Some(3600),
                'd' => Some(86_400),
                'w' => Some(7 * 86_400),
                _ => None,
            },
        ) {
            return n
                .checked_mul(mult)
                .map(|d| now - d)
                .filter(|_| n >= 0)
                .ok_or_else(bad);
        }
    }
    let parts: Vec<&str> = s.split('-').collect();
    if let [y, m, d] = parts[..] {
        let (y, m, d): (i64, i64, i64) = (
            y.parse().map_err(|_| bad())?,
            m.parse().map_err(|_| bad())?,
            d.parse().map_err(|_| bad())?,
        );
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
            return Err(bad());
        }
        return Ok(days_from_civil(y, m, d) * 86_400);
    }
    Err(bad())
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn render(r: &Report, format: Format) -> String {
    match format {
        Format::Json => serde_json::to_string_pretty(r).unwrap_or_default() + "\n",
        Format::Csv => {
            let mut out = String::from(
                "kind,entry_or_text,answers_or_count,helpful,not_helpful,helpful_pct\n",
            );
            for e in &r.entries {
                let pct = e.helpful_pct.map(|p| p.to_string()).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "entry,{},{},{},{},{pct}",
                    csv_field(&e.entry_id),
                    e.answers,
                    e.helpful,
                    e.not_helpful
                );
            }
            for g in &r.unmatched {
                let _ = writeln!(out, "unmatched,{},{},,,", csv_field(&g.text), g.count);
            }
            out
        }
        Format::Text => {
            let mut out = String::new();
            let _ = writeln!(out, "Answers per entry:");
            if r.entries.is_empty() {
                let _ = writeln!(out, "  (none)");
            }
            for e in &r.entries {
                let pct = e
                    .helpful_pct
                    .map_or("no votes".to_string(), |p| format!("{p}% helpful"));
                let _ = writeln!(
                    out,
                    "  {:<40} {:>6} answers  {pct} ({} 👍 / {} 👎)",
                    e.entry_id, e.answers, e.helpful, e.not_helpful
                );
            }
            let _ = writeln!(out, "\nTop unmatched pastes (redacted):");
            if r.unmatched.is_empty() {
                let _ = writeln!(out, "  (none)");
            }
            for g in &r.unmatched {
                let text: String = g
                    .text
                    .chars()
                    .take(100)
                    .collect::<String>()
                    .replace('\n', " ");
                let _ = writeln!(out, "  {:>5}×  {text}", g.count);
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_values() {
        assert_eq!(
            parse_since("7d", 1_000_000).unwrap(),
            1_000_000 - 7 * 86_400
        );
        assert_eq!(parse_since("24h", 100_000).unwrap(), 100_000 - 86_400);
        assert_eq!(parse_since("1970-01-02", 0).unwrap(), 86_400);
        assert_eq!(parse_since("2025-12-28", 0).unwrap(), 1_766_880_000);
        for bad in ["", "7x", "d", "2025-13-01", "-3d", "soon"] {
            assert!(parse_since(bad, 0).is_err(), "{bad}");
        }
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"x\""), "\"say \"\"x\"\"\"");
        assert_eq!(csv_field("plain"), "plain");
    }
}
