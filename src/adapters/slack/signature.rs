//! Slack's request signatures: `v0=` + hex(HMAC-SHA256(signing secret, "v0:{ts}:{raw body}")).
//!
//! Checked on the raw bytes before anything parses them, in constant time, with a 300 s window
//! so a captured request cannot be replayed later.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How far the request timestamp may be from our clock, either way.
pub const MAX_SKEW_SECS: i64 = 300;

/// Why a request was refused. Every variant means 401; the variants exist for debug logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing X-Slack-Request-Timestamp or X-Slack-Signature")]
    Missing,
    #[error("the request timestamp is not a number")]
    BadTimestamp,
    #[error("the request timestamp is more than 300 s from now")]
    Stale,
    #[error("the signature is not v0=<64 hex digits>")]
    Malformed,
    #[error("the signature does not match")]
    Mismatch,
}

/// The `X-Slack-Signature` value Slack would send for this timestamp and body.
pub fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> String {
    format!(
        "v0={}",
        hex::encode(mac(secret, timestamp, body).finalize().into_bytes())
    )
}

fn mac(secret: &[u8], timestamp: &str, body: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac
}

/// Checks a request's headers against its raw body, with `now` in Unix seconds.
pub fn verify(
    secret: &[u8],
    timestamp: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let (Some(timestamp), Some(signature)) = (timestamp, signature) else {
        return Err(SignatureError::Missing);
    };
    let ts: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::BadTimestamp)?;
    // abs_diff cannot overflow: `now - ts` did for a timestamp near i64::MIN (a panic in a
    // debug build, a wrapped value that passed the window in a release one).
    if now.abs_diff(ts) > MAX_SKEW_SECS.unsigned_abs() {
        return Err(SignatureError::Stale);
    }
    let expected = signature
        .strip_prefix("v0=")
        .and_then(|h| hex::decode(h).ok())
        .filter(|b| b.len() == 32)
        .ok_or(SignatureError::Malformed)?;
    mac(secret, timestamp, body)
        .verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let body = b"{\"type\":\"event_callback\"}";
        let sig = sign(b"secret", "1000", body);
        assert_eq!(
            verify(b"secret", Some("1000"), Some(&sig), body, 1000),
            Ok(())
        );
        assert_eq!(
            verify(b"secret", Some("1000"), Some(&sig), body, 1300),
            Ok(())
        );
        assert_eq!(
            verify(b"secret", Some("1000"), Some(&sig), body, 1301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(b"secret", Some("1000"), Some(&sig), body, 699),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(b"other", Some("1000"), Some(&sig), body, 1000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"secret", Some("1000"), Some(&sig), b"{}", 1000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"secret", None, Some(&sig), body, 1000),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify(b"secret", Some("1000"), None, body, 1000),
            Err(SignatureError::Missing)
        );
        assert_eq!(
            verify(b"secret", Some("x"), Some(&sig), body, 1000),
            Err(SignatureError::BadTimestamp)
        );
        assert_eq!(
            verify(b"secret", Some("1000"), Some("v1=00"), body, 1000),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(b"secret", Some("1000"), Some(&sig[..20]), body, 1000),
            Err(SignatureError::Malformed)
        );
    }

    #[test]
    fn timestamps_at_the_ends_of_i64_are_stale_not_a_panic() {
        for (ts, now) in [
            (i64::MIN, 0),
            (i64::MIN, 1_700_000_000),
            (i64::MIN, i64::MAX),
            (i64::MIN + 1, i64::MAX),
            (i64::MAX, i64::MIN),
            (i64::MAX, 0),
            (0, i64::MIN),
        ] {
            let stamp = ts.to_string();
            let sig = sign(b"secret", &stamp, b"{}");
            assert_eq!(
                verify(b"secret", Some(&stamp), Some(&sig), b"{}", now),
                Err(SignatureError::Stale),
                "ts {ts}, now {now}"
            );
        }
    }
}
