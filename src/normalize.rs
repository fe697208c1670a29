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
    /// Byte ranges of `compact` that come from quoted lines (`> …`, Discord and Slack
    /// markdown): a reply that quotes an old error is judged on what it says itself.
    pub quoted: Vec<(usize, usize)>,
    /// The text holds `<`, `[`, `]`, `"` or `~`: chat markup (mentions, links, strikes) may be in it, which
    /// `matcher::markup` reads; other text pays nothing for that check.
    pub markup: bool,
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

/// Characters that NFKC leaves alone whatever surrounds them (quick check "Yes", combining
/// class 0) and that have no lowercase form: ASCII aside, the bulk of Japanese chat text
/// (CJK ideographs, hiragana, katakana, 、。「」『』). Matching them here skips the Unicode
/// table lookups that dominated the cost of a message (see `bench/README.md`).
fn is_plain_cjk(c: char) -> bool {
    matches!(
        c,
        '\u{3001}'..='\u{3002}'
            | '\u{300C}'..='\u{300F}'
            | '\u{3041}'..='\u{3096}'
            | '\u{30A1}'..='\u{30FC}'
            | '\u{4E00}'..='\u{9FFF}'
    )
}

/// Whether `text` is already NFKC. The same answer as the quick check of
/// `unicode_normalization` where that says "Yes"; without the table lookups when every
/// character is ASCII or [`is_plain_cjk`].
pub(crate) fn is_nfkc(text: &str) -> bool {
    text.chars().all(|c| c.is_ascii() || is_plain_cjk(c))
        || matches!(
            unicode_normalization::is_nfkc_quick(text.chars()),
            unicode_normalization::IsNormalized::Yes
        )
}

/// Normalizes a pasted message (or a pattern, keyword or code from the knowledge pack).
pub fn normalize(text: &str) -> Normalized {
    let (text, truncated) = cap(text, MAX_INPUT_BYTES);
    // Most pasted text is already NFKC (kanji, full-width kana, ASCII): the quick check
    // avoids decomposing and recomposing every character of it.
    // Folding plain text (ASCII and plain Japanese, which NFKC leaves alone) first saves a
    // separate pass to check that; the first other character sends it the long way.
    let folded = fold::<true>(text.len(), text.chars())
        .or_else(|| {
            if is_nfkc(text) {
                fold::<false>(text.len(), text.chars())
            } else {
                fold::<false>(text.len(), text.nfkc())
            }
        })
        .expect("only a plain fold gives up");
    let (spaced, compact, markup) = folded;
    // Most messages quote nothing: one byte search decides, and only a quoting message pays
    // for finding its lines.
    let quoted = if text.contains('>') || text.contains('＞') {
        quoted_ranges(text)
    } else {
        Vec::new()
    };
    Normalized {
        spaced,
        compact,
        truncated,
        quoted,
        markup,
    }
}

/// The compact byte ranges of the lines that start with `>` (after white space).
fn quoted_ranges(text: &str) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    // A line break is white space, which the compact form drops and normalization never
    // joins across, so the compact form of the text is that of its lines end to end.
    let mut from = 0;
    for line in text.split_inclusive('\n') {
        let to = from + fold::<false>(line.len(), line.nfkc()).map_or(0, |f| f.1.len());
        let t = line.trim_start();
        if t.starts_with('>') || t.starts_with('＞') {
            match out.last_mut() {
                Some(last) if last.1 == from => last.1 = to,
                _ if to > from => out.push((from, to)),
                _ => {}
            }
        }
        from = to;
    }
    out
}

/// Lowercases, drops invisible characters and folds white space: the spaced form, then the
/// compact one (copied in runs between spaces). Generic so the common already-NFKC case
/// iterates `str::chars` directly.
/// `PLAIN`: give up (None) at the first character that is neither ASCII nor plain Japanese.
fn fold<const PLAIN: bool>(
    len: usize,
    chars: impl Iterator<Item = char>,
) -> Option<(String, String, bool)> {
    let mut spaced = String::with_capacity(len);
    let mut pending_space = false;
    let mut bracket = false;
    for c in chars {
        // ASCII and plain Japanese first: no Unicode tables needed for them.
        let plain = if c.is_ascii() {
            if c <= ' ' || c == '\x7f' {
                // White space or control (`is_whitespace || is_control` for ASCII).
                pending_space = !spaced.is_empty();
                continue;
            }
            bracket |= matches!(c, '[' | ']' | '"' | '<' | '~');
            Some(c.to_ascii_lowercase())
        } else if is_plain_cjk(c) {
            bracket |= ('\u{300C}'..='\u{300F}').contains(&c);
            Some(c)
        } else if PLAIN {
            return None;
        } else {
            bracket |= matches!(c, '“' | '”');
            None
        };
        if plain.is_none() {
            if is_invisible(c) {
                continue;
            }
            if c.is_whitespace() || c.is_control() {
                pending_space = !spaced.is_empty();
                continue;
            }
        }
        if pending_space {
            spaced.push(' ');
            pending_space = false;
        }
        match plain {
            Some(c) => spaced.push(c),
            // A phone keyboard's apostrophe ("didn’t") is the ASCII one.
            None if matches!(c, '\u{2018}' | '\u{2019}') => spaced.push('\''),
            None => spaced.extend(c.to_lowercase()),
        }
    }
    // Spaces go, and so do brackets and quotes someone put around a word of the dialog
    // (「本人認証に[不正]が検知」): a pattern reads through them. Most messages have none,
    // and copying the runs between spaces is several times cheaper than decoding every
    // character again (and than `replace`, which grows its string as it goes).
    let compact = if bracket {
        spaced.chars().filter(|&c| !dropped(c)).collect()
    } else {
        let mut compact = String::with_capacity(spaced.len());
        for run in spaced.split(' ') {
            compact.push_str(run);
        }
        compact
    };
    Some((spaced, compact, bracket))
}

/// Brackets and quotes people put around a word of a dialog they retype; the compact form
/// leaves them out. (【】 stay: they frame announcements, not words.)
pub(crate) fn is_inserted_bracket(c: char) -> bool {
    matches!(c, '[' | ']' | '「' | '」' | '『' | '』' | '"' | '“' | '”')
}

/// What the compact form leaves out of the spaced one.
pub(crate) fn dropped(c: char) -> bool {
    c == ' ' || is_inserted_bracket(c)
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
    fn curly_apostrophes_are_ascii() {
        assert_eq!(compact("Didn’t ‘arrive’"), "didn't'arrive'");
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
    fn plain_cjk_characters_are_stable_under_nfkc_and_lowercase() {
        use unicode_normalization::{is_nfkc_quick, IsNormalized};
        let ranges = [
            '\u{3001}'..='\u{3002}',
            '\u{300C}'..='\u{300F}',
            '\u{3041}'..='\u{3096}',
            '\u{30A1}'..='\u{30FC}',
            '\u{4E00}'..='\u{9FFF}',
        ];
        let mut seen = 0;
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32) {
            if !is_plain_cjk(c) {
                continue;
            }
            seen += 1;
            assert!(ranges.iter().any(|r| r.contains(&c)));
            assert_eq!(
                is_nfkc_quick(std::iter::once(c)),
                IsNormalized::Yes,
                "{c:?}"
            );
            assert_eq!(unicode_normalization::char::canonical_combining_class(c), 0);
            assert_eq!(c.nfkc().collect::<String>(), c.to_string(), "{c:?}");
            assert_eq!(c.to_lowercase().collect::<String>(), c.to_string(), "{c:?}");
            assert!(!c.is_whitespace() && !is_invisible(c));
        }
        assert_eq!(seen, 2 + 4 + 86 + 92 + 0x5200);
    }

    #[test]
    fn the_fast_path_agrees_with_the_full_normalization() {
        for text in [
            "今日はアプリでチャージしようとしたら「エラー」が出ました。 MW1M01AJ0004",
            "ＭＷ１Ｍ０１ＡＪ０００４ と ｾｯｼｮﾝ",
            "か\u{3099}き",
            "ヿゟ゛ Ǆ ΣΑΣ",
            "a\u{0B}b\u{7F}c\u{85}d\u{3000}e\u{200B}f\tg",
        ] {
            let n = normalize(text);
            let slow: String = text
                .nfkc()
                .filter(|c| !is_invisible(*c) && !c.is_whitespace() && !c.is_control())
                .flat_map(char::to_lowercase)
                .filter(|&c| !is_inserted_bracket(c))
                .collect();
            assert_eq!(n.compact, slow, "{text}");
            let kept: String = n.spaced.chars().filter(|&c| !dropped(c)).collect();
            assert_eq!(kept, n.compact, "{text}");
        }
    }

    #[test]
    fn cap_never_splits_a_character() {
        let (s, cut) = cap("aあ", 2);
        assert_eq!(s, "a");
        assert!(cut);
    }

    #[test]
    fn quoted_lines_are_marked_in_compact_form() {
        let n = normalize("> QUICPayだけ使えない\n再発行して直りました");
        assert_eq!(n.quoted.len(), 1);
        let (a, b) = n.quoted[0];
        assert_eq!(&n.compact[a..b], ">quicpayだけ使えない");
        let n = normalize("前置き\n  ＞ 引用1\n> 引用2\n本文 > 比較");
        assert_eq!(n.quoted.len(), 1);
        let (a, b) = n.quoted[0];
        assert_eq!(&n.compact[a..b], ">引用1>引用2");
        assert!(normalize("3 > 2 です").quoted.is_empty());
    }
}
