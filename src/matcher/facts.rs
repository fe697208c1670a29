//! Facts read out of a pasted message: the yen amount being charged and the card named.
//!
//! Works on [`Normalized::spaced`](super::normalize::Normalized), so full-width digits and
//! commas are already ASCII. Understands `15,000円`, `20000円`, `¥20,000`, `1万円`,
//! `2万5千円`, `1.5万円`, `5千円`, kanji digits (`二万円`), `5000 yen`, and an amount without
//! 円 right before the word charge (`1万チャージ`, `5000をチャージ`).
//!
//! A message often holds several amounts: the balance, an earlier charge, a limit. The fact
//! is the one being charged now, because that is what an amount rule is about: see
//! [`amount_jpy`].

use serde::Serialize;

use crate::knowledge::{Issuer, IssuerKind};
use crate::normalize::compact;

/// What was found; every field is optional because most messages state nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Facts {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount_jpy: Option<u64>,
    /// The card the message names, as an id of the pack's issuer table: the first card
    /// company named, else the first brand (楽天カードのVisa is 楽天カード).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card: Option<String>,
    /// Every card named, in order, for rules that depend on all of them.
    #[serde(skip)]
    pub cards: Vec<String>,
}

impl Facts {
    pub fn extract(spaced: &str) -> Facts {
        Facts::extract_marked(spaced, ALL_MARKERS)
    }

    /// [`Facts::extract`] when the index has found which amount markers the text holds.
    pub(crate) fn extract_marked(spaced: &str, markers: u16) -> Facts {
        Facts {
            amount_jpy: amount_jpy_marked(spaced, markers),
            ..Facts::default()
        }
    }

    /// Records the cards the index found (indexes into `issuers`, in the order named),
    /// leaving out `not_the_card` (the app of the entry answered) when another card is named.
    pub fn read_cards(&mut self, issuers: &[Issuer], named: &[u16], not_the_card: &[String]) {
        let mut named: Vec<&Issuer> = named
            .iter()
            .filter_map(|&i| issuers.get(i as usize))
            .collect();
        if named.iter().any(|i| !not_the_card.contains(&i.id)) {
            named.retain(|i| !not_the_card.contains(&i.id));
        }
        self.card = named
            .iter()
            .find(|i| i.kind == IssuerKind::Issuer)
            .or_else(|| named.first())
            .map(|i| i.id.clone());
        self.cards = named.iter().map(|i| i.id.clone()).collect();
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

/// One amount in the text: its value and where it stands (bytes of the spaced text,
/// including 円, ¥ or yen).
#[derive(Debug, Clone, Copy)]
struct Candidate {
    value: u64,
    start: usize,
    end: usize,
}

/// Words right after an amount (past a particle) that say it is being charged.
const CHARGE_AFTER: &[&str] = &["チャージ", "ちゃーじ", "入金", "charge", "top"];
/// Particles allowed between an amount and the charge word (`1万円をチャージ`).
const PARTICLES: &[&str] = &["を", "の", "分", "で", "だけ", "ほど", "くらい", "ぐらい"];
/// Words shortly before an amount that say it is being charged (`チャージ金額は1万円`).
const CHARGE_BEFORE: &[&str] = &["チャージ", "charg", "入金", "top up", "topup", "top-up"];
/// Words before an amount that make it a balance or an earlier charge, not this one.
const NOT_NOW_BEFORE: &[&str] = &[
    "残高",
    "残り",
    "balance",
    "前回",
    "昨日",
    "先月",
    "先週",
    "先日",
    "以前",
    "前は",
    "この前",
    "いつもは",
    "last time",
    "yesterday",
    "previously",
    "used to",
];
/// Words after an amount that make it a balance, a limit or a charge that worked.
const NOT_NOW_AFTER: &[&str] = &[
    "ある",
    "あります",
    "残って",
    "入って",
    "以下",
    "以上",
    "未満",
    "まで",
    "超",
    "できた",
    "できました",
    "成功",
    "通った",
    "通りました",
    "いけた",
    "いけました",
    "worked",
    "went through",
    "succeeded",
    "limit",
    "or less",
    "or more",
];
/// How many characters around an amount are read for those words.
const CONTEXT_CHARS: usize = 12;

/// The amount being charged now, or None.
///
/// Every amount is a candidate; one that the words around it mark as a balance (残高3万),
/// an earlier charge (前回1万円), a limit (2万円以下) or a charge that worked (3万円はOK) is
/// not. Of the rest, the first one marked as being charged (`1万チャージ`, `チャージ金額は
/// 1万円`) wins, else the first one left.
pub fn amount_jpy(spaced: &str) -> Option<u64> {
    amount_jpy_marked(spaced, ALL_MARKERS)
}

/// [`amount_jpy`], searching only for the markers whose bit (index in [`MARKER_WORDS`]) is
/// set in `markers`: the pack's one-pass index has already seen which ones the message
/// holds ([`marker_literals`]), so a message with none costs nothing here.
pub(crate) fn amount_jpy_marked(spaced: &str, markers: u16) -> Option<u64> {
    if markers & ALL_MARKERS == 0 {
        return None;
    }
    let cands = candidates(spaced, markers);
    let mut first_left = None;
    for (k, c) in cands.iter().enumerate() {
        let floor = if k > 0 {
            cands[k - 1].end.min(c.start)
        } else {
            0
        };
        let ceil = cands
            .get(k + 1)
            .map_or(spaced.len(), |n| n.start.max(c.end));
        let before = window_before(spaced, floor, c.start);
        let after = window_after(spaced, c.end, ceil);
        if NOT_NOW_BEFORE.iter().any(|w| before.contains(w))
            || NOT_NOW_AFTER.iter().any(|w| after.contains(w))
        {
            continue;
        }
        let rest = strip_particles(after.trim_start());
        if CHARGE_AFTER.iter().any(|w| rest.starts_with(w))
            || CHARGE_BEFORE.iter().any(|w| before.contains(w))
        {
            return Some(c.value);
        }
        first_left.get_or_insert(c.value);
    }
    first_left
}

/// Whether `c` is a digit or a number unit: another number ends an amount's context.
fn is_number_char(c: char) -> bool {
    digit_value(c).is_some() || unit_value(c).is_some()
}

/// At most [`CONTEXT_CHARS`] characters before `at`, not reaching back past `floor`, cut at
/// the last sentence break or number (so 残高 before `3万` is not read for `1万` in
/// `残高3万あるのに1万チャージ`).
fn window_before(s: &str, floor: usize, at: usize) -> &str {
    let mut lo = at;
    for (n, (i, c)) in s[floor..at].char_indices().rev().enumerate() {
        if n >= CONTEXT_CHARS || matches!(c, '。' | '!' | '?' | '\n') || is_number_char(c) {
            break;
        }
        lo = floor + i;
    }
    &s[lo..at]
}

/// At most [`CONTEXT_CHARS`] characters after `at`, not past `ceil`, cut at the first
/// clause break or number.
fn window_after(s: &str, at: usize, ceil: usize) -> &str {
    let mut hi = at;
    for (n, (i, c)) in s[at..ceil].char_indices().enumerate() {
        if n >= CONTEXT_CHARS || matches!(c, '。' | '、' | '!' | '?' | '\n') || is_number_char(c)
        {
            break;
        }
        hi = at + i + c.len_utf8();
    }
    &s[at..hi]
}

fn strip_particles(mut s: &str) -> &str {
    while let Some(p) = PARTICLES.iter().find(|p| s.starts_with(*p)) {
        s = s[p.len()..].trim_start();
    }
    s
}

/// The start of the amount run that ends at byte `end`, without leading separators.
fn run_before(s: &str, end: usize) -> usize {
    let mut start = end;
    for (i, c) in s[..end].char_indices().rev() {
        if !is_amount_char(c) {
            break;
        }
        start = i;
    }
    // A run that starts with a separator is the tail of something else.
    while start < end && matches!(s.as_bytes()[start], b',' | b'.') {
        start += 1;
    }
    start
}

/// The end of the amount run that starts at byte `start`.
fn run_after(s: &str, start: usize) -> usize {
    s[start..]
        .char_indices()
        .find(|&(_, c)| !is_amount_char(c))
        .map_or(s.len(), |(i, _)| start + i)
}

fn parse_str(run: &str) -> Option<u64> {
    let chars: Vec<char> = run.chars().collect();
    parse_amount(&chars)
}

/// What an amount hangs on: 円, ¥ (and `\\`, which some fonts show as ¥), `yen`, `jpy`, and
/// the words for charge, after which a bare number counts. They are already normalized.
pub(crate) const MARKER_WORDS: [&str; 11] = [
    "円",
    "¥",
    "\\",
    "yen",
    "jpy",
    // `2万ちょうど`, `金額は1万`, `Tried 2万 twice`: a number of 万 is money here.
    "万",
    // `15,000 gets rejected`: thousands written with a comma are money here.
    ",000",
    "チャージ",
    "ちゃーじ",
    "入金",
    "charge",
];
/// Every marker's bit.
const ALL_MARKERS: u16 = (1 << MARKER_WORDS.len()) - 1;
/// Markers from this index on are the word charge, after which a bare number counts.
const FIRST_BARE: usize = 7;
/// The characters a bare amount can end with (`5000`, `1万`, `二万`).
const NUMBER_END: &str = "0123456789〇一二三四五六七八九十百千万億";

/// The literals the pack's one-pass index looks for on our behalf, in compact form, with the
/// bit of [`MARKER_WORDS`] each one sets. A charge word counts only right after a number
/// (and a particle): `5000をチャージ` sets its bit, `アプリでチャージ` does not, so the chat
/// that mentions charging costs no search here.
pub(crate) fn marker_literals() -> Vec<(String, u8)> {
    let mut out = Vec::new();
    for (k, word) in MARKER_WORDS.iter().enumerate() {
        if k < FIRST_BARE {
            out.push((compact(word), k as u8));
            continue;
        }
        for n in NUMBER_END.chars() {
            for p in std::iter::once(&"").chain(PARTICLES) {
                out.push((compact(&format!("{n}{p}{word}")), k as u8));
            }
        }
    }
    out
}

/// Every amount written with 円, ¥ or yen, and every bare number right before the word
/// charge, in text order; overlaps are read once.
fn candidates(s: &str, markers: u16) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = Vec::new();
    let found = MARKER_WORDS
        .iter()
        .enumerate()
        .filter(|&(k, _)| markers & (1 << k) != 0)
        .flat_map(|(k, w)| s.match_indices(w).map(move |(i, m)| (k, i, i + m.len())));
    for (kind, i, end_of_marker) in found {
        let candidate = match kind {
            // `¥20,000` / `￥20,000` (NFKC keeps ¥ and maps ￥ to ¥).
            1 | 2 => {
                let mut j = end_of_marker;
                if s[j..].starts_with(' ') {
                    j += 1;
                }
                let end = run_after(s, j);
                // `¥10k`: thousands, as English speakers write them.
                let k = s[end..].starts_with('k')
                    && !s[end + 1..].starts_with(|c: char| c.is_ascii_alphanumeric());
                parse_str(&s[j..end]).map(|value| Candidate {
                    value: if k { value * 1_000 } else { value },
                    start: i,
                    end: if k { end + 1 } else { end },
                })
            }
            // `15,000円`, `5000 yen`.
            // `15,000`, `100,000`: the whole number the `,000` ends.
            6 => {
                let start = run_before(s, i);
                let end = run_after(s, i);
                let has_digit = s[start..i].chars().any(|c| digit_value(c).is_some());
                parse_str(&s[start..end])
                    .filter(|&v| has_digit && v >= 1_000)
                    .map(|value| Candidate { value, start, end })
            }
            // `2万`, `2万5千`: the number around the 万, with a digit in it (not 万が一).
            5 => {
                let start = run_before(s, i);
                let end = run_after(s, end_of_marker);
                let run = &s[start..end];
                let has_digit = s[start..i].chars().any(|c| digit_value(c).is_some());
                parse_str(run)
                    .filter(|&v| has_digit && v >= 1_000)
                    .map(|value| Candidate { value, start, end })
            }
            0 | 3 | 4 => {
                let word_end = s.as_bytes().get(end_of_marker);
                if kind != 0 && word_end.is_some_and(|b| b.is_ascii_alphanumeric()) {
                    continue;
                }
                let mut e = i;
                if s[..e].ends_with(' ') {
                    e -= 1;
                }
                // `10k yen`.
                let k = kind != 0 && s[..e].ends_with('k');
                if k {
                    e -= 1;
                }
                let start = run_before(s, e);
                parse_str(&s[start..e]).map(|value| Candidate {
                    value: if k { value * 1_000 } else { value },
                    start,
                    end: end_of_marker,
                })
            }
            // `1万チャージ`, `5000をチャージ`; `1万円をチャージ` was read from its 円.
            _ => {
                debug_assert!(kind >= FIRST_BARE);
                let mut t = &s[..i];
                loop {
                    let trimmed = t.trim_end();
                    match PARTICLES.iter().find(|p| trimmed.ends_with(*p)) {
                        Some(p) => t = &trimmed[..trimmed.len() - p.len()],
                        None => {
                            t = trimmed;
                            break;
                        }
                    }
                }
                let e = t.len();
                let start = run_before(s, e);
                let run = &s[start..e];
                // A bare `1` or `万` before チャージ is a count or a word, not an amount.
                let has_digit = run.chars().any(|c| digit_value(c).is_some());
                parse_str(run)
                    .filter(|&v| has_digit && v >= 100)
                    .map(|value| Candidate {
                        value,
                        start,
                        end: e,
                    })
            }
        };
        if let Some(c) = candidate {
            out.push(c);
        }
    }
    out.sort_by_key(|c| c.start);
    out.dedup_by(|b, a| b.start < a.end);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::normalize;

    fn amount(text: &str) -> Option<u64> {
        amount_jpy(&normalize(text).spaced)
    }

    #[test]
    fn a_number_of_man_is_money() {
        assert_eq!(amount("2万ちょうどでエラー"), Some(20_000));
        assert_eq!(amount("金額は1万"), Some(10_000));
        assert_eq!(amount("Tried 2万 twice"), Some(20_000));
        assert_eq!(amount("2万5千入れたい"), Some(25_000));
        assert_eq!(amount("万が一エラーになったら"), None);
        assert_eq!(amount("何万回やっても"), None);
        assert_eq!(amount("15,000 gets rejected"), Some(15_000));
        assert_eq!(amount("I tried 100,000 twice"), Some(100_000));
        assert_eq!(amount("moving ¥10k to ANA Pay"), Some(10_000));
        assert_eq!(amount("10k yen charge"), Some(10_000));
        assert_eq!(amount("¥10kb"), Some(10));
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
    fn the_amount_being_charged_wins_over_a_balance_or_an_earlier_charge() {
        assert_eq!(amount("残高3万あるのに1万チャージでエラー"), Some(10_000));
        assert_eq!(
            amount("残高3万円あるのに1万円チャージでエラー"),
            Some(10_000)
        );
        assert_eq!(
            amount("前回1万円チャージできたのに今回5000円でエラー"),
            Some(5_000)
        );
        assert_eq!(amount("1万円はだめで3万円はOK"), Some(10_000));
        assert_eq!(
            amount("2万円以下のチャージは止まってるらしい。1万5千円チャージで失敗"),
            Some(15_000)
        );
        assert_eq!(
            amount("I have a balance of ¥30,000 but charging ¥10,000 fails"),
            Some(10_000)
        );
        assert_eq!(amount("チャージ金額は5,000円、残高は2万円"), Some(5_000));
        // Only a balance or a charge that worked: no amount being charged.
        assert_eq!(amount("残高は3万円です"), None);
        assert_eq!(amount("3万円チャージできました！"), None);
    }

    #[test]
    fn amounts_without_yen_before_the_word_charge() {
        assert_eq!(amount("1万チャージしたらエラー"), Some(10_000));
        assert_eq!(amount("5000チャージで MW1M01AJ0004"), Some(5_000));
        assert_eq!(amount("20001をチャージしたらエラー"), Some(20_001));
        assert_eq!(amount("二万チャージ"), Some(20_000));
        assert_eq!(amount("tried to charge 5000 yen"), Some(5_000));
        // Counts and words before チャージ are not amounts.
        assert_eq!(amount("1回チャージした"), None);
        assert_eq!(amount("3DSでチャージ"), None);
        assert_eq!(amount("アプリでチャージしようとした"), None);
        assert_eq!(amount("2チャージ目"), None);
    }

    #[test]
    fn marker_literals_need_a_number_before_the_charge_word() {
        let lits = marker_literals();
        let has = |l: &str| lits.iter().any(|(x, _)| x == l);
        assert!(has("円") && has("¥") && has("yen"));
        assert!(has("0チャージ") && has("万をチャージ") && has("0charge"));
        assert!(!has("チャージ") && !has("でチャージ"));
        // A particle is never a number end, so `3dsでチャージ` has no marker.
        assert!(!lits.iter().any(|(x, _)| x.ends_with("sでチャージ")));
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
