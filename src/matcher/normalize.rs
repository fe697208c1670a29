//! Text normalization: the one place that decides what "the same text" means.
//!
//! Pasted errors arrive full-width (`ＭＷ１Ｍ０１ＡＪ０００４`), half-width (`ｾｯｼｮﾝﾀｲﾑｱｳﾄ`),
//! with zero-width characters from copy and paste, and broken over lines by chat clients.
//! Both the knowledge patterns and the pasted text go through the same steps, so an author
//! writes a pattern once and it matches every variant.

use unicode_normalization::UnicodeNormalization;

/// The most bytes of a message that are matched. Longer pastes are cut (at a character
/// boundary) before normalization: an error message is short, and a 5 MB paste must not
/// cost more than a 64 KiB one.
pub const MAX_INPUT_BYTES: usize = 64 * 1024;

/// A message in the two forms the matcher reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    /// NFKC, lowercase, no zero-width characters, every run of white space one ASCII space,
    /// trimmed. Used where word boundaries matter (amounts, near-miss codes).
    pub spaced: String,
    /// `spaced` with every space removed. Codes, patterns and keywords are matched here, so
    /// `MW1M01AJ 0004` and a phrase broken over two lines still match.
    pub compact: String,
    /// Whether the input was longer than [`MAX_INPUT_BYTES`] and was cut.
    pub truncated: bool,
}

/// Returns true for characters that copy and paste leaves behind but nobody sees.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// Cuts `text` to at most `max` bytes without splitting a character.
pub fn cap(text: &str, max: usize) -> (&str, bool) {
    if text.len() <= max {
        return (text, false);
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    (&text[..end], true)
}

/// Normalizes a pasted message (or a pattern, keyword or code from the knowledge pack).
pub fn normalize(text: &str) -> Normalized {
    let (text, truncated) = cap(text, MAX_INPUT_BYTES);
    let mut spaced = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfkc() {
        if is_invisible(c) {
            continue;
        }
        if c.is_whitespace() || c.is_control() {
            pending_space = !spaced.is_empty();
            continue;
        }
        if pending_space {
            spaced.push(' ');
            pending_space = false;
        }
        if c.is_ascii() {
            spaced.push(c.to_ascii_lowercase());
        } else {
            spaced.extend(c.to_lowercase());
        }
    }
    let compact = spaced.chars().filter(|&c| c != ' ').collect();
    Normalized {
        spaced,
        compact,
        truncated,
    }
}

/// The compact form alone, for knowledge literals (codes, keywords, aliases).
pub fn compact(text: &str) -> String {
    normalize(text).compact
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_code_becomes_ascii_lowercase() {
        assert_eq!(compact("ＭＷ１Ｍ０１ＡＪ０００４"), "mw1m01aj0004");
    }

    #[test]
    fn half_width_katakana_becomes_full_width() {
        assert_eq!(compact("ｾｯｼｮﾝﾀｲﾑｱｳﾄ"), "セッションタイムアウト");
    }

    #[test]
    fn half_width_voiced_marks_compose() {
        // ｸﾞ is two half-width characters; NFKC composes them into one グ.
        assert_eq!(compact("ﾌﾞﾗｳｻﾞ"), "ブラウザ");
    }

    #[test]
    fn case_is_folded() {
        assert_eq!(compact("Mw1M01aJ0004 JAL Pay"), "mw1m01aj0004jalpay");
    }

    #[test]
    fn zero_width_characters_are_removed() {
        assert_eq!(
            compact("MW1M\u{200B}01AJ\u{FEFF}0004\u{200D}"),
            "mw1m01aj0004"
        );
        assert_eq!(
            compact("セッション\u{2060}タイムアウト"),
            "セッションタイムアウト"
        );
    }

    #[test]
    fn space_inside_a_code_is_tolerated() {
        assert_eq!(compact("MW1M01AJ 0004"), "mw1m01aj0004");
        assert_eq!(compact("MW1M01AJ\u{3000}0004"), "mw1m01aj0004");
    }

    #[test]
    fn line_breaks_inside_a_message_are_tolerated() {
        let n = normalize("セッションタイムアウトが発生\r\nしました。\n  もしくは");
        assert_eq!(n.compact, "セッションタイムアウトが発生しました。もしくは");
        assert_eq!(n.spaced, "セッションタイムアウトが発生 しました。 もしくは");
    }

    #[test]
    fn spaced_form_collapses_and_trims_white_space() {
        assert_eq!(normalize("  a \t\n b  ").spaced, "a b");
    }

    #[test]
    fn full_width_digits_and_comma_in_amounts() {
        assert_eq!(normalize("２０，０００円").spaced, "20,000円");
    }

    #[test]
    fn long_input_is_capped_at_a_char_boundary() {
        let text = "あ".repeat(MAX_INPUT_BYTES); // 3 bytes each
        let n = normalize(&text);
        assert!(n.truncated);
        assert!(n.spaced.len() <= MAX_INPUT_BYTES);
        assert_eq!(n.spaced.chars().count(), MAX_INPUT_BYTES / 3);
    }

    #[test]
    fn cap_never_splits_a_character() {
        let (s, cut) = cap("aあ", 2);
        assert_eq!(s, "a");
        assert!(cut);
    }
}
