//! Redaction through the public API: a realistic paste, and property tests that generate the
//! layouts of the rule in docs/operations.md (groupings, separators, widths, surroundings).

use kotae::redact::{redact, CARD, EMAIL, MEMBER, PHONE};
use proptest::prelude::*;
use unicode_normalization::UnicodeNormalization;

#[test]
fn a_realistic_paste_keeps_the_error_and_loses_the_person() {
    let paste = "JAL Payのカード ４１１１ １１１１ １１１１ １１１１ で MW1M01AJ0004。\
                 会員番号: 5550001111、連絡先 090-1234-5678 / taro@example.jp、注文番号 123456789012";
    let out = redact(paste);
    for gone in ["4111", "5550001111", "090-1234-5678", "taro@example.jp"] {
        assert!(!out.contains(gone), "{gone} survived: {out}");
    }
    for kept in ["MW1M01AJ0004", "123456789012", CARD, MEMBER, PHONE, EMAIL] {
        assert!(out.contains(kept), "{kept} missing: {out}");
    }
}

/// Separators that join digit groups, as people type them (ASCII and full-width forms).
const JOINERS: &[&str] = &[
    " ", "-", ".", "　", "－", "．", "ー", "‐", "−", " - ", "  ", "\n",
];

/// Text that may stand around a number: letters glued on, kana, punctuation that does not
/// join digits, emoji. None of it ends or starts with a digit or a joiner.
fn surrounding() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "",
        "カード",
        "カード番号は",
        "card",
        "No:",
        "番号/",
        "「",
        "」で失敗",
        "です。",
        "exp",
        "😭",
        "、",
        "(MW1M01AJ0004)",
        "JAL Payの",
        "x",
    ])
    .prop_map(str::to_string)
}

/// A digit string of `len` digits split into groups of 1 to 6, joined by one joiner each.
fn grouped(len: std::ops::RangeInclusive<usize>) -> impl Strategy<Value = (String, String)> {
    (
        prop::collection::vec(0u8..10, len),
        prop::collection::vec(1usize..=6, 1..20),
        prop::collection::vec(prop::sample::select(JOINERS), 20),
        any::<bool>(),
    )
        .prop_map(|(digits, sizes, joiners, full_width)| {
            let plain: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
            let mut out = String::new();
            let mut i = 0;
            let mut k = 0;
            while i < plain.len() {
                let n = sizes[k % sizes.len()].min(plain.len() - i);
                if i > 0 {
                    out.push_str(joiners[k % joiners.len()]);
                }
                for c in plain[i..i + n].chars() {
                    out.push(if full_width {
                        char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap()
                    } else {
                        c
                    });
                }
                i += n;
                k += 1;
            }
            (plain, out)
        })
}

fn nfkc(s: &str) -> String {
    s.nfkc().collect()
}

/// True if `text` still holds a run of `n` digits of `digits` in order, separators skipped:
/// what a reader could put back together.
fn holds_digits(text: &str, digits: &str, n: usize) -> bool {
    let kept: String = text.chars().filter(char::is_ascii_digit).collect();
    (0..=digits.len().saturating_sub(n)).any(|i| kept.contains(&digits[i..i + n]))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// 13 to 19 digits, in any grouping, separators and width, with or without a valid Luhn
    /// digit, glued to any text: one `[card]`, and the text around it unchanged.
    #[test]
    fn card_numbers_are_redacted_in_every_layout(
        (plain, number) in grouped(13..=19),
        before in surrounding(),
        after in surrounding(),
    ) {
        let out = redact(&format!("{before}{number}{after}"));
        prop_assert_eq!(&out, &format!("{}{CARD}{}", nfkc(&before), nfkc(&after)), "{}", plain);
    }

    /// Digit groups longer than a card (a card number glued to its expiry and code) and
    /// surrounded by other numbers: no 8 digits of the card can be read back.
    #[test]
    fn no_card_digits_survive_among_other_numbers(
        (plain, number) in grouped(13..=19),
        (_, extra) in grouped(1..=8),
        joiner in prop::sample::select(JOINERS),
        before in surrounding(),
    ) {
        for text in [
            format!("{before}{number}{joiner}{extra}"),
            format!("{extra}{joiner}{number}{before}"),
        ] {
            let out = redact(&text);
            prop_assert!(!holds_digits(&out, &plain, 8), "{} -> {}", text, out);
        }
    }

    /// Japanese phone numbers (mobile, landline, toll-free; domestic or +81) in the usual
    /// layouts and widths become `[phone]` (or `[card]` when glued to more digits).
    #[test]
    fn phone_numbers_are_redacted(
        kind in 0usize..4,
        rest in prop::collection::vec(0u8..10, 10),
        sep in prop::sample::select(vec!["", "-", " ", "－", "ー", "　", "."]),
        full_width in any::<bool>(),
        before in surrounding(),
        after in surrounding(),
    ) {
        let d = |r: std::ops::Range<usize>| -> String {
            rest[r].iter().map(|x| char::from(b'0' + x)).collect()
        };
        let number = match kind {
            0 => format!("090{sep}{}{sep}{}", d(0..4), d(4..8)),
            1 => format!("03{sep}{}{sep}{}", d(0..4), d(4..8)),
            2 => format!("0120{sep}{}{sep}{}", d(0..3), d(3..6)),
            _ => format!("+81{sep}90{sep}{}{sep}{}", d(0..4), d(4..8)),
        };
        let number = if full_width { number.chars().map(|c| match c {
            '0'..='9' => char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap(),
            '+' => '＋',
            c => c,
        }).collect() } else { number };
        let out = redact(&format!("電話 {before}{number}{after} まで"));
        prop_assert_eq!(&out, &format!("電話 {}{PHONE}{} まで", nfkc(&before), nfkc(&after)), "{}", number);
    }

    /// E-mail addresses, ASCII or full-width, with or without spaces around `@`.
    #[test]
    fn email_addresses_are_redacted(
        local in "[a-z][a-z0-9._+-]{0,12}[a-z0-9]",
        domain in "[a-z][a-z0-9-]{0,10}[a-z0-9]",
        tld in prop::sample::select(vec!["jp", "com", "co.jp", "ne.jp"]),
        at in prop::sample::select(vec!["@", " @ ", "＠", "[at]"]),
        full_width in any::<bool>(),
    ) {
        let email = format!("{local}{at}{domain}.{tld}");
        let email = if full_width {
            email.chars().map(|c| if c.is_ascii_graphic() {
                char::from_u32(c as u32 - 0x21 + 0xFF01).unwrap()
            } else { c }).collect()
        } else { email };
        let out = redact(&format!("連絡先: {email} です"));
        prop_assert_eq!(&out, &format!("連絡先: {EMAIL} です"), "{}", email);
    }

    /// What must survive: dates, times, amounts, error codes, order numbers of 12 digits or
    /// fewer (not a phone number), each kept apart by text that does not join digits.
    #[test]
    fn dates_times_amounts_codes_and_order_numbers_survive(
        tokens in prop::collection::vec(
            prop_oneof![
                (2000u32..2100, 1u32..13, 1u32..29).prop_map(|(y, m, d)| format!("{y}/{m}/{d}")),
                (2000u32..2100, 1u32..13, 1u32..29).prop_map(|(y, m, d)| format!("{y}年{m}月{d}日")),
                (0u32..24, 0u32..60).prop_map(|(h, m)| format!("{h}:{m:02}")),
                (1u64..10_000_000_000_000).prop_map(|n| {
                    // 1,234,567円
                    let s = n.to_string();
                    let mut out = String::new();
                    for (i, c) in s.chars().enumerate() {
                        if i > 0 && (s.len() - i) % 3 == 0 { out.push(','); }
                        out.push(c);
                    }
                    format!("{out}円")
                }),
                (0u32..10_000).prop_map(|n| format!("MW1M01AJ{n:04}")),
                (1u64..1_000_000_000_000).prop_map(|n| format!("注文番号{n}")),
            ],
            1..6,
        ),
        glue in prop::sample::select(vec!["、", "に", " / ", "。", ", "]),
    ) {
        let text = tokens.join(glue);
        prop_assert_eq!(redact(&text), nfkc(&text));
    }

    /// Any text at all: redaction never panics, and never leaves 13 joined digits.
    #[test]
    fn arbitrary_text_never_keeps_thirteen_joined_digits(text in "\\PC{0,200}") {
        let out = redact(&text);
        let mut run = 0;
        let mut seps = 0;
        for c in out.chars() {
            if c.is_ascii_digit() {
                run += 1;
                seps = 0;
            } else if (c.is_whitespace() || "-.‐‑‒–—―−ー・".contains(c)) && seps < 3 && run > 0 {
                seps += 1;
            } else {
                run = 0;
                seps = 0;
            }
            prop_assert!(run < 13, "{:?} -> {:?}", text, out);
        }
    }
}
