//! Facts read out of a pasted message: for now the yen amount someone tried to charge.
//!
//! Works on [`Normalized::spaced`](super::normalize::Normalized), so full-width digits and
//! commas are already ASCII. Understands `15,000円`, `20000円`, `¥20,000`, `1万円`,
//! `2万5千円`, `1.5万円`, `5千円` and kanji digits (`二万円`).

use serde::Serialize;

/// What was found; every field is optional because most messages state nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Facts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount_jpy: Option<u64>,
}

impl Facts {
    pub fn extract(spaced: &str) -> Facts {
        Facts {
            amount_jpy: amount_jpy(spaced),
        }
    }
}

/// Amounts above this are not charges anyone pastes; treat them as noise (an order number
/// followed by 円 in a table, say) rather than overflow.
const MAX_PLAUSIBLE_JPY: u64 = 100_000_000_000;

fn digit_value(c: char) -> Option<u64> {
    match c {
        '0'..='9' => Some(c as u64 - '0' as u64),
        '〇' | '零' => Some(0),
        '一' => Some(1),
        '二' => Some(2),
        '三' => Some(3),
        '四' => Some(4),
        '五' => Some(5),
        '六' => Some(6),
        '七' => Some(7),
        '八' => Some(8),
        '九' => Some(9),
        _ => None,
    }
}

fn unit_value(c: char) -> Option<u64> {
    match c {
        '十' => Some(10),
        '百' => Some(100),
        '千' => Some(1_000),
        '万' => Some(10_000),
        '億' => Some(100_000_000),
        _ => None,
    }
}

fn is_amount_char(c: char) -> bool {
    digit_value(c).is_some() || unit_value(c).is_some() || c == ',' || c == '.'
}

/// Parses a run such as `2万5千`, `15,000`, `1.5万` or `二万`. Returns None when the run is not
/// a well-formed amount.
fn parse_amount(run: &[char]) -> Option<u64> {
    // Value in thousandths so `1.5万` stays exact.
    let mut total: u128 = 0; // completed 万/億 groups
    let mut section: u128 = 0; // below 万
    let mut number: u128 = 0; // digits being read, in thousandths
    let mut have_number = false;
    let mut frac_digits: Option<u32> = None;
    let mut saw_any = false;
    for &c in run {
        if c == ',' {
            if frac_digits.is_some() || !have_number {
                return None;
            }
            continue;
        }
        if c == '.' {
            if frac_digits.is_some() || !have_number {
                return None;
            }
            frac_digits = Some(0);
            continue;
        }
        if let Some(d) = digit_value(c) {
            match frac_digits {
                None => number = number * 10 + u128::from(d) * 1000,
                Some(n) if n < 3 => {
                    number += u128::from(d) * 10u128.pow(2 - n);
                    frac_digits = Some(n + 1);
                }
                Some(_) => {}
            }
            have_number = true;
            saw_any = true;
            if number > u128::from(MAX_PLAUSIBLE_JPY) * 1000 {
                return None;
            }
            continue;
        }
        let unit = u128::from(unit_value(c)?);
        saw_any = true;
        let n = if have_number { number } else { 1000 };
        if unit >= 10_000 {
            total += (section + n) * unit;
            section = 0;
        } else {
            section += n * unit;
        }
        number = 0;
        have_number = false;
        frac_digits = None;
    }
    if !saw_any {
        return None;
    }
    let thousandths = total + section + number;
    let yen = thousandths / 1000;
    (yen > 0 && yen <= u128::from(MAX_PLAUSIBLE_JPY)).then_some(yen as u64)
}

/// The first yen amount in the text, or None.
pub fn amount_jpy(spaced: &str) -> Option<u64> {
    // Every amount hangs on one of these; most messages have none, and the scan below
    // first copies the whole text into a `Vec<char>`.
    // Three single-char searches, each a `memchr`, beat one search for any of the three.
    if !(spaced.contains('円') || spaced.contains('¥') || spaced.contains('\\')) {
        return None;
    }
    let chars: Vec<char> = spaced.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        // `¥20,000` / `￥20,000` (NFKC keeps ¥ and maps ￥ to ¥).
        if c == '¥' || c == '\\' {
            let mut j = i + 1;
            if chars.get(j) == Some(&' ') {
                j += 1;
            }
            let start = j;
            while j < chars.len() && is_amount_char(chars[j]) {
                j += 1;
            }
            if let Some(v) = parse_amount(&chars[start..j]) {
                return Some(v);
            }
            i = j.max(i + 1);
            continue;
        }
        if c == '円' {
            let mut end = i;
            if end > 0 && chars[end - 1] == ' ' {
                end -= 1;
            }
            let mut start = end;
            while start > 0 && is_amount_char(chars[start - 1]) {
                start -= 1;
            }
            // A run that starts with a separator is the tail of something else.
            while start < end && matches!(chars[start], ',' | '.') {
                start += 1;
            }
            if let Some(v) = parse_amount(&chars[start..end]) {
                return Some(v);
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matcher::normalize::normalize;

    fn amount(text: &str) -> Option<u64> {
        amount_jpy(&normalize(text).spaced)
    }

    #[test]
    fn the_forms_people_write() {
        assert_eq!(amount("1万円をチャージ"), Some(10_000));
        assert_eq!(amount("15,000円で失敗"), Some(15_000));
        assert_eq!(amount("２０，０００円"), Some(20_000));
        assert_eq!(amount("5千円"), Some(5_000));
        assert_eq!(amount("20001円ならOK"), Some(20_001));
        assert_eq!(amount("2万5千円"), Some(25_000));
        assert_eq!(amount("1.5万円"), Some(15_000));
        assert_eq!(amount("¥20,000"), Some(20_000));
        assert_eq!(amount("￥３０，０００"), Some(30_000));
        assert_eq!(amount("二万円"), Some(20_000));
        assert_eq!(amount("三千五百円"), Some(3_500));
        assert_eq!(amount("10000 円"), Some(10_000));
    }

    #[test]
    fn first_amount_wins() {
        assert_eq!(amount("1万円はだめで3万円はOK"), Some(10_000));
    }

    #[test]
    fn no_amount_is_none() {
        assert_eq!(amount("MW1M01AJ0004"), None);
        assert_eq!(amount("円"), None);
        assert_eq!(amount("円安"), None);
        assert_eq!(amount(",円"), None);
        assert_eq!(amount("0円"), None);
    }

    #[test]
    fn absurd_amounts_do_not_overflow() {
        assert_eq!(amount(&format!("{}円", "9".repeat(60))), None);
        assert_eq!(amount("9999億9999万円"), None);
    }
}
