//! Redaction of personal data from pasted text, before anything is stored or logged.
//!
//! People paste whole screens: card numbers, phone numbers, e-mail addresses, member numbers.
//! Everything kotae keeps (unmatched pastes, debug logs) goes through [`redact`] first. Error
//! codes and order numbers must survive, or maintainers cannot see what to add.

use std::sync::LazyLock;

use regex::{Captures, Regex};
use unicode_normalization::UnicodeNormalization;

pub const CARD: &str = "[card]";
pub const PHONE: &str = "[phone]";
pub const EMAIL: &str = "[email]";
pub const MEMBER: &str = "[member-no]";

static EMAIL_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}").unwrap()
});

/// 13 to 19 digits, optionally grouped by single spaces or hyphens, not touching other digits.
static CARD_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(^|[^0-9])([0-9](?:[ \-]?[0-9]){12,18})([^0-9]|$)").unwrap());

/// A number after a label that says it is a member or customer number.
static MEMBER_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)((?:会員番号|お客様番号|お客さま番号|マイレージ番号|jmb番号|amc番号|会員id|member(?:ship)?\s*(?:no\.?|number|id)|customer\s*(?:no\.?|number|id))\s*[:：は]?\s*)([0-9][0-9\- ]{3,19}[0-9])",
    )
    .unwrap()
});

/// Japanese phone numbers: 0X0-XXXX-XXXX, 0X-XXXX-XXXX, 0120-XXX-XXX, +81 X…; 10 or 11 digits.
static PHONE_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(^|[^0-9+])((?:\+81[ \-]?|0)[0-9]{1,4}[ \-]?[0-9]{1,4}[ \-]?[0-9]{3,4})([^0-9]|$)")
        .unwrap()
});

/// Returns true if the digits pass the Luhn check that every payment card number passes.
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

fn digits_of(s: &str) -> Vec<u8> {
    s.bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect()
}

/// Replaces personal data with `[card]`, `[phone]`, `[email]`, `[member-no]`. The text is
/// NFKC-normalized first so full-width digits are caught too.
pub fn redact(text: &str) -> String {
    let text: String = text.nfkc().collect();
    let text = EMAIL_RE.replace_all(&text, EMAIL);
    let text = CARD_RE.replace_all(&text, |c: &Captures| {
        let digits = digits_of(&c[2]);
        if (13..=19).contains(&digits.len()) && luhn(&digits) {
            format!("{}{CARD}{}", &c[1], &c[3])
        } else {
            c[0].to_string()
        }
    });
    let text = MEMBER_RE.replace_all(&text, |c: &Captures| format!("{}{MEMBER}", &c[1]));
    let text = PHONE_RE.replace_all(&text, |c: &Captures| {
        let m = &c[2];
        let n = digits_of(m).len();
        let international = m.starts_with("+81");
        let ok = if international {
            (11..=12).contains(&n)
        } else {
            (10..=11).contains(&n)
        };
        if ok {
            format!("{}{PHONE}{}", &c[1], &c[3])
        } else {
            c[0].to_string()
        }
    });
    text.into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

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
            "４１１１１１１１１１１１１１１１",
            "378282246310005",  // Amex, 15 digits
            "3530111333300000", // JCB
            "6011 0009 9013 9424",
        ] {
            let out = redact(&format!("カード {card} で失敗"));
            assert_eq!(out, format!("カード {CARD} で失敗"), "{card}");
        }
    }

    #[test]
    fn numbers_that_are_not_cards_are_kept() {
        // A 12-digit order number, a 16-digit number failing Luhn, an error code.
        for keep in [
            "注文番号 123456789012",
            "4111111111111112",
            "MW1M01AJ0004",
            "2025年12月28日",
        ] {
            assert_eq!(redact(keep), keep.nfkc().collect::<String>(), "{keep}");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(
            redact("連絡は taro.yamada+jal@example.co.jp まで"),
            format!("連絡は {EMAIL} まで")
        );
    }

    #[test]
    fn phone_numbers() {
        for phone in [
            "090-1234-5678",
            "09012345678",
            "03-1234-5678",
            "0120-123-456",
            "+81 90 1234 5678",
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
