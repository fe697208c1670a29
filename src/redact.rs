//! Redaction of personal data from pasted text, before anything is stored or logged.
//!
//! People paste whole screens: card numbers, phone numbers, e-mail addresses, member numbers.
//! Everything kotae keeps (unmatched pastes, debug logs) goes through [`redact`] first. Error
//! codes, dates, times, amounts and order numbers must survive, or maintainers cannot see what
//! to add.
//!
//! The rule (docs/operations.md states it for operators; the property tests generate it):
//!
//! - The text is NFKC-normalized first, so full-width digits, spaces, hyphens, dots, `＋` and
//!   `＠` count as their ASCII forms.
//! - A **digit chain** is a run of ASCII digits, or several runs joined by separators: white
//!   space (a line break too), a hyphen or dash of any kind (`-`, `‐`, `–`, `—`, `−`, `ー`), a
//!   dot (`.`, `・`), at most three separator characters between two runs. Slashes, commas,
//!   colons, parentheses and letters do not join runs, so `2025/12/28`, `10:30`, `20,000円`
//!   and `(MW1M01AJ0004)` are several short chains; parentheses join runs only inside a phone
//!   number (`(03)1234-5678`, `+81 (0)90 …`).
//! - A chain with **13 or more digits** becomes `[card]`, whether or not it passes the Luhn
//!   check (a card number mistyped by one digit still identifies the card) and whatever
//!   surrounds it (letters, kana, other text). Longer chains are redacted whole, so a card
//!   number glued to its expiry or security code does not leak either.
//! - A chain that starts with `+81` (9 or 10 digits after it, a `(0)` allowed), or that has 10
//!   or 11 digits and starts with `0`, becomes `[phone]`. An order number of 10 or 11 digits
//!   that starts with 0 is therefore redacted too: a false redaction the rule accepts.
//! - E-mail addresses, also with spaces around `@` and the dots, or `[at]` / `(at)` /
//!   `アットマーク` for `@`, become `[email]`.
//! - A number after a label that names a member or customer number becomes `[member-no]`.
//!
//! Everything else stays, in particular chains of 12 digits or fewer that do not look like a
//! phone number: error codes, order numbers, dates, times and amounts.

use std::sync::LazyLock;

use regex::{Captures, Regex};
use unicode_normalization::UnicodeNormalization;

pub const CARD: &str = "[card]";
pub const PHONE: &str = "[phone]";
pub const EMAIL: &str = "[email]";
pub const MEMBER: &str = "[member-no]";

/// Digits in a chain from which it is a card number (the shortest card numbers have 13).
pub const CARD_MIN_DIGITS: usize = 13;
/// The most separator characters between two digit runs of one chain (" - " is three).
const MAX_SEPARATORS: usize = 3;

static EMAIL_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)[a-z0-9._%+\-]+ ?(?:@|\[at\]|\(at\)|アットマーク) ?[a-z0-9\-]+(?: ?\. ?[a-z0-9\-]+)* ?\. ?[a-z]{2,}",
    )
    .unwrap()
});

/// A number after a label that says it is a member or customer number.
static MEMBER_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)((?:会員番号|お客様番号|お客さま番号|マイレージ番号|jmb番号|amc番号|会員id|member(?:ship)?\s*(?:no\.?|number|id)|customer\s*(?:no\.?|number|id))\s*[:：は]?\s*)([0-9][0-9\- ]{3,19}[0-9])",
    )
    .unwrap()
});

/// Returns true if the digits pass the Luhn check that every payment card number passes.
/// Redaction does not rely on it (a mistyped number still identifies the card); the checks
/// that tell real card numbers from others do.
pub fn luhn(digits: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d);
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    !digits.is_empty() && sum % 10 == 0
}

/// Characters that join two digit runs into one chain (after NFKC); parentheses only when
/// `parens` (a phone number is being tried).
fn is_separator(c: char, parens: bool) -> bool {
    c.is_whitespace()
        || (parens && matches!(c, '(' | ')'))
        || matches!(
            c,
            '-' | '.' | '\u{2010}'
                ..='\u{2015}' // hyphen, non-breaking hyphen, figure dash, dashes
                | '\u{2212}' // minus sign
                | '\u{30FC}' // ー, typed as a hyphen with a Japanese keyboard
                | '\u{30FB}' // ・
                | '\u{FF70}' // ｰ (NFKC maps it to ー; kept for clarity)
        )
}

/// What a digit chain is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chain {
    Card,
    Phone,
    Keep,
}

/// Classifies the chain whose digits are `digits`; `plus` says a `+` stands right before it.
fn classify(digits: &[u8], plus: bool) -> Chain {
    if plus && digits.starts_with(b"81") {
        // +81 (0)90 1234 5678: the domestic number without its leading 0 follows.
        let rest = &digits[2..];
        let rest = rest.strip_prefix(b"0").unwrap_or(rest);
        if (9..=10).contains(&rest.len()) {
            return Chain::Phone;
        }
    }
    if digits.len() >= CARD_MIN_DIGITS {
        Chain::Card
    } else if (10..=11).contains(&digits.len()) && digits[0] == b'0' {
        Chain::Phone
    } else {
        Chain::Keep
    }
}

/// The digit chain that starts at byte `start` (a digit) of `text`: where it ends, and its
/// digits.
fn chain(text: &str, start: usize, parens: bool) -> (usize, Vec<u8>) {
    let bytes = text.as_bytes();
    let mut digits = Vec::new();
    let mut i = start;
    loop {
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            digits.push(bytes[i]);
            i += 1;
        }
        let end = i;
        // Separators, then another digit?
        let mut j = i;
        let mut seps = 0;
        while let Some(c) = text[j..].chars().next() {
            if seps == MAX_SEPARATORS || !is_separator(c, parens) {
                break;
            }
            j += c.len_utf8();
            seps += 1;
        }
        if seps > 0 && j < bytes.len() && bytes[j].is_ascii_digit() {
            i = j;
        } else {
            return (end, digits);
        }
    }
}

/// Replaces card and phone numbers (see the module doc for the rule) in NFKC text.
fn redact_numbers(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut copied = 0; // bytes of `text` already in `out`
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        // A chain starts at `i`: first as a phone number (parentheses join), else without.
        let start = i;
        let before = &text[copied..start];
        let plus = before.ends_with('+') || before.ends_with("+(") || before.ends_with("(+");
        let (mut end, digits) = chain(text, start, true);
        let mut kind = classify(&digits, plus);
        if kind != Chain::Phone {
            let (e, digits) = chain(text, start, false);
            end = e;
            kind = classify(&digits, plus);
        }
        i = end;
        let label = match kind {
            Chain::Card => CARD,
            Chain::Phone => PHONE,
            Chain::Keep => continue,
        };
        let mut span_start = start;
        for prefix in ["(+", "+(", "+", "("] {
            if before.ends_with(prefix) {
                span_start = start - prefix.len();
                break;
            }
        }
        out.push_str(&text[copied..span_start]);
        out.push_str(label);
        copied = end;
        // A `)` that closed a `(` taken above goes too.
        if text[span_start..start].contains('(') && text[end..].starts_with(')') {
            copied += 1;
        }
        i = copied.max(i);
    }
    out.push_str(&text[copied..]);
    out
}

/// Replaces personal data with `[card]`, `[phone]`, `[email]`, `[member-no]` by the rule in
/// the module doc. The result is NFKC-normalized.
pub fn redact(text: &str) -> String {
    let text: String = text.nfkc().collect();
    let text = EMAIL_RE.replace_all(&text, EMAIL);
    let text = MEMBER_RE.replace_all(&text, |c: &Captures| format!("{}{MEMBER}", &c[1]));
    redact_numbers(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits_of(s: &str) -> Vec<u8> {
        s.bytes()
            .filter(u8::is_ascii_digit)
            .map(|b| b - b'0')
            .collect()
    }

    #[test]
    fn luhn_check() {
        assert!(luhn(&digits_of("4111111111111111")));
        assert!(luhn(&digits_of("5555 5555 5555 4444")));
        assert!(!luhn(&digits_of("4111111111111112")));
    }

    #[test]
    fn card_numbers_in_every_layout() {
        for card in [
            "4111111111111111",
            "4111 1111 1111 1111",
            "4111-1111-1111-1111",
            "4111.1111.1111.1111",
            "4111 - 1111 - 1111 - 1111",
            "４１１１ー１１１１ー１１１１ー１１１１",
            "４１１１１１１１１１１１１１１１",
            "41111111111111112", // one digit too many: fails Luhn, still a card
            "4111111111111112",  // fails Luhn
            "378282246310005",   // Amex, 15 digits
            "3530111333300000",  // JCB
            "6011 0009 9013 9424",
            "4111 1111 1111 1111 12 28 123", // with expiry and security code
        ] {
            let out = redact(&format!("カード {card} で失敗"));
            assert_eq!(out, format!("カード {CARD} で失敗"), "{card}");
        }
    }

    #[test]
    fn glued_to_text() {
        assert_eq!(redact("card4111111111111111exp"), format!("card{CARD}exp"));
        assert_eq!(
            redact("No.4111.1111.1111.1111です"),
            format!("No.{CARD}です")
        );
        assert_eq!(
            redact("番号は4111111111111111。"),
            format!("番号は{CARD}。")
        );
    }

    #[test]
    fn numbers_that_are_not_cards_are_kept() {
        for keep in [
            "注文番号 123456789012",
            "MW1M01AJ0004",
            "2025年12月28日",
            "2025/12/28 10:30",
            "¥1,234,567,890,123",
            "20,000円",
            "受付番号 1234-5678-9012",
        ] {
            assert_eq!(redact(keep), keep.nfkc().collect::<String>(), "{keep}");
        }
    }

    #[test]
    fn emails() {
        for email in [
            "taro.yamada+jal@example.co.jp",
            "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ",
            "taro @ example.jp",
            "taro[at]example.jp",
            "taro(at)example . co . jp",
        ] {
            assert_eq!(
                redact(&format!("連絡は {email} まで")),
                format!("連絡は {EMAIL} まで"),
                "{email}"
            );
        }
    }

    #[test]
    fn phone_numbers() {
        for phone in [
            "090-1234-5678",
            "09012345678",
            "03-1234-5678",
            "0120-123-456",
            "+81 90 1234 5678",
            "+81-90-1234-5678",
            "+819012345678",
            "+81 (0)90 1234 5678",
            "＋８１ ９０ １２３４ ５６７８",
            "０９０ー１２３４ー５６７８",
            "090 1234 5678",
            "(03)1234-5678",
            "03(1234)5678",
            "050-3172-3050",
        ] {
            assert_eq!(
                redact(&format!("電話 {phone} です")),
                format!("電話 {PHONE} です"),
                "{phone}"
            );
        }
    }

    #[test]
    fn member_numbers() {
        assert_eq!(
            redact("会員番号: 1234567890"),
            format!("会員番号: {MEMBER}")
        );
        assert_eq!(
            redact("お客様番号は 12345678"),
            format!("お客様番号は {MEMBER}")
        );
        assert_eq!(
            redact("Member No. 9876-5432"),
            format!("Member No. {MEMBER}")
        );
    }

    #[test]
    fn error_text_survives() {
        let t = "本人認証に不正が検知しました。(MW1M01AJ0004) 20,000円";
        assert_eq!(redact(t), t);
    }
}
