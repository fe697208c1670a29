//! What a screenshot said, as the matcher should see it: the detected lines in reading order,
//! the app's background (balances, menus, tab bars, the status bar) marked so that it decides
//! neither the answer nor the amount, and OCR look-alikes folded back where that cannot make
//! a digit out of a letter.

use serde::{Deserialize, Serialize};

/// Whether a line may speak for the screenshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LineRole {
    /// The dialog or message the user photographed: matched.
    Message,
    /// The app around it (balance, menu, tab bar, status bar, buttons): shown, never matched,
    /// so an "残高 12,345円" behind the dialog is not read as the amount being charged.
    Background,
}

/// One detected text box.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OcrLine {
    pub text: String,
    /// Box in the original image, pixels.
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
    /// Mean recognition confidence, 0..1.
    pub score: f32,
    pub role: LineRole,
}

/// The text of one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OcrText {
    pub width: u32,
    pub height: u32,
    /// Reading order: top to bottom, left to right within a row.
    pub lines: Vec<OcrLine>,
    /// Milliseconds the worker spent (decode, detection, recognition).
    pub millis: u64,
}

impl OcrText {
    /// Puts the lines in reading order and marks the background.
    pub fn new(width: u32, height: u32, mut lines: Vec<OcrLine>, millis: u64) -> Self {
        order(&mut lines);
        let roles = classify_all(&lines, height);
        for (line, role) in lines.iter_mut().zip(roles) {
            line.role = role;
        }
        OcrText {
            width,
            height,
            lines,
            millis,
        }
    }

    /// What the matcher reads: the message lines, folded, one per line. The matcher drops
    /// white space, so a title wrapped over two boxes is whole again.
    pub fn matcher_text(&self) -> String {
        self.lines
            .iter()
            .filter(|l| l.role == LineRole::Message)
            .map(|l| fold_lookalikes(&l.text))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Every line as read (no folding), for showing the user what kotae saw.
    pub fn raw_text(&self) -> String {
        self.lines
            .iter()
            .map(|l| l.text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// Rows first (boxes whose vertical centres fall within one another's height), then left to
/// right; a dialog's two columns of buttons stay on one row.
fn order(lines: &mut [OcrLine]) {
    lines.sort_by_key(|l| (l.y + l.h / 2, l.x));
    let mut rows: Vec<Vec<OcrLine>> = Vec::new();
    for line in lines.iter() {
        let centre = line.y + line.h / 2;
        match rows.last_mut() {
            Some(row)
                if row.iter().any(|r| {
                    let rc = r.y + r.h / 2;
                    centre.abs_diff(rc) * 2 < r.h.min(line.h)
                }) =>
            {
                row.push(line.clone())
            }
            _ => rows.push(vec![line.clone()]),
        }
    }
    let mut i = 0;
    for mut row in rows {
        row.sort_by_key(|l| l.x);
        for l in row {
            lines[i] = l;
            i += 1;
        }
    }
}

/// Words that make a line part of an error message rather than the app's furniture.
const MESSAGE_CUES: &[&str] = &[
    "エラー",
    "失敗",
    "できません",
    "できない",
    "不正",
    "検知",
    "制限",
    "タイムアウト",
    "無効",
    "再度",
    "お試し",
    "発生",
    "達しました",
    "しました",
    "ください",
    "認証",
    "ありません",
    "されました",
    "ません",
    "error",
    "failed",
];

/// Words that mark the app's own screen: balances, points, campaign banners.
const BACKGROUND_CUES: &[&str] = &["残高", "ポイント", "利用可能", "キャンペーン", "還元"];

fn has_code(text: &str) -> bool {
    // An error code: 6+ ASCII letters and digits with at least two of each (MW1M01AJ0004).
    text.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| {
        w.len() >= 6
            && w.chars().filter(char::is_ascii_digit).count() >= 2
            && w.chars().filter(char::is_ascii_alphabetic).count() >= 2
    })
}

fn compact(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

fn has_cue(text: &str) -> bool {
    let lower = compact(text).to_lowercase();
    MESSAGE_CUES.iter().any(|c| lower.contains(c)) || has_code(&lower.to_uppercase())
}

/// The status bar (clock, battery) and the tab bar: the top 6% and bottom 10% of a phone
/// screen, whatever they say.
fn in_bars(line: &OcrLine, image_height: u32) -> bool {
    let centre = u64::from(line.y) + u64::from(line.h) / 2;
    let height = u64::from(image_height.max(1));
    centre * 100 < height * 6 || centre * 100 > height * 90
}

/// The message is the block of lines around those that sound like an error (a cue word or a
/// code): lines above or below one another, overlapping sideways, with gaps under 3/4 of a
/// line height (detected boxes are padded, so a dialog's lines nearly touch; a list's rows
/// and a dialog's button row do not). Everything outside
/// that block is the app behind the dialog. With no cue anywhere (an unusual wording), each
/// line is judged alone: amounts, balances and short labels are background.
fn classify_all(lines: &[OcrLine], image_height: u32) -> Vec<LineRole> {
    let bars: Vec<bool> = lines.iter().map(|l| in_bars(l, image_height)).collect();
    let cues: Vec<bool> = lines
        .iter()
        .zip(&bars)
        .map(|(l, &bar)| !bar && has_cue(&l.text))
        .collect();
    if !cues.contains(&true) {
        return lines
            .iter()
            .zip(&bars)
            .map(|(l, &bar)| {
                if bar {
                    LineRole::Background
                } else {
                    classify_alone(l)
                }
            })
            .collect();
    }
    let mut in_block = cues.clone();
    // Grow the blocks up and down (lines are in reading order) until a wide gap.
    loop {
        let mut grew = false;
        for i in 0..lines.len() {
            if in_block[i] || bars[i] {
                continue;
            }
            let near = |j: usize| {
                let (a, b) = (&lines[i], &lines[j]);
                let unit = a.h.min(b.h).max(1);
                let gap = if a.y >= b.y + b.h {
                    a.y - (b.y + b.h)
                } else {
                    b.y.saturating_sub(a.y + a.h)
                };
                let overlap = a.x < b.x + b.w && b.x < a.x + a.w;
                overlap && gap * 4 < unit * 3
            };
            if (0..lines.len()).any(|j| in_block[j] && near(j)) {
                in_block[i] = true;
                grew = true;
            }
        }
        if !grew {
            break;
        }
    }
    in_block
        .into_iter()
        .map(|b| {
            if b {
                LineRole::Message
            } else {
                LineRole::Background
            }
        })
        .collect()
}

fn classify_alone(line: &OcrLine) -> LineRole {
    let text = compact(&line.text);
    let money = text
        .chars()
        .any(|c| c.is_ascii_digit() || ('０'..='９').contains(&c))
        && (text.contains('円') || text.contains('¥') || text.contains('￥'));
    if money || BACKGROUND_CUES.iter().any(|c| text.contains(c)) {
        return LineRole::Background;
    }
    // Menu items, tab labels and buttons ("チャージ", "送金", "OK", "閉じる") are short; a
    // message sentence is not.
    if text.chars().count() <= 8 {
        return LineRole::Background;
    }
    LineRole::Message
}

fn is_katakana(c: char) -> bool {
    matches!(c, '\u{30A1}'..='\u{30FA}' | 'ー' | 'ｦ'..='ﾟ')
}

/// Kanji the recognizer reads for the katakana they resemble. Each maps to a non-digit, so
/// folding never hands the amount reader a number it did not see (一 and 二 are numerals to
/// it; ー and ニ are not).
const KANA_LOOKALIKES: &[(char, char)] = &[
    ('口', 'ロ'),
    ('工', 'エ'),
    ('力', 'カ'),
    ('夕', 'タ'),
    ('卜', 'ト'),
    ('二', 'ニ'),
    ('八', 'ハ'),
    ('一', 'ー'),
];

/// Words of payment-app dialogs as the recognizer misreads them: a dakuten dropped, a small
/// kana read large, ン read as ソ. Applied until none applies.
const WORD_REPAIRS: &[(&str, &str)] = &[
    ("クレシットカード", "クレジットカード"),
    ("クレジットカート", "クレジットカード"),
    ("セツシヨン", "セッション"),
    ("セッシヨン", "セッション"),
    ("セツション", "セッション"),
    ("タイムアウド", "タイムアウト"),
    ("パスワート", "パスワード"),
    ("クレシット", "クレジット"),
    ("チャーシ", "チャージ"),
    ("ブラウサ", "ブラウザ"),
    ("ログイソ", "ログイン"),
    ("クツキー", "クッキー"),
];

/// Folds OCR look-alikes back to what a dialog says. A kanji becomes katakana only next to
/// katakana (一 only after it and not before 万, 千, 百, 十 or 円, so "チャージ一万円" keeps
/// its amount); letters are never turned into digits (the matcher already reads O/0 and I/1
/// inside error codes).
pub fn fold_lookalikes(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).map(|p| chars[p]);
        let next = chars.get(i + 1).copied();
        let folded = KANA_LOOKALIKES
            .iter()
            .find(|(k, _)| *k == c)
            .and_then(|&(k, kana)| {
                let after_kana = prev.is_some_and(is_katakana);
                let ok = if k == '一' {
                    after_kana && !matches!(next, Some('万' | '千' | '百' | '十' | '円'))
                } else {
                    after_kana || next.is_some_and(is_katakana)
                };
                ok.then_some(kana)
            });
        out.push(folded.unwrap_or(c));
    }
    // Until nothing changes: one repair can expose another (クレシットカート).
    for _ in 0..WORD_REPAIRS.len() {
        let mut changed = false;
        for (wrong, right) in WORD_REPAIRS {
            if out.contains(wrong) {
                out = out.replace(wrong, right);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str, x: u32, y: u32, w: u32, h: u32) -> OcrLine {
        OcrLine {
            text: text.into(),
            x,
            y,
            w,
            h,
            score: 0.9,
            role: LineRole::Message,
        }
    }

    #[test]
    fn reading_order_rows_then_columns() {
        let t = OcrText::new(
            750,
            1334,
            vec![
                line("4)", 100, 640, 40, 30),
                line("閉じる", 420, 800, 80, 30),
                line(
                    "本人認証に不正が検知しました。(MW1M01AJ000",
                    100,
                    600,
                    500,
                    30,
                ),
                line("キャンセル", 120, 805, 80, 30),
            ],
            0,
        );
        let texts: Vec<&str> = t.lines.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "本人認証に不正が検知しました。(MW1M01AJ000",
                "4)",
                "キャンセル",
                "閉じる"
            ]
        );
    }

    #[test]
    fn background_is_kept_from_the_matcher() {
        let t = OcrText::new(
            750,
            1334,
            vec![
                line("9:41", 30, 10, 60, 24),
                line("残高 12,345円", 100, 200, 300, 40),
                line("チャージ", 100, 300, 120, 30),
                line("最大5,000円分プレゼント", 100, 350, 400, 30),
                line("処理に失敗しました", 200, 560, 300, 36),
                line("本人認証に不正が検知しました。", 100, 610, 500, 30),
                line("(MW1M01AJ0004)", 100, 650, 300, 30),
                line("OK", 350, 760, 50, 30),
                line("ホーム", 60, 1260, 90, 30),
            ],
            0,
        );
        assert_eq!(
            t.matcher_text(),
            "処理に失敗しました\n本人認証に不正が検知しました。\n(MW1M01AJ0004)"
        );
        assert!(t.raw_text().contains("残高 12,345円"));
    }

    #[test]
    fn an_amount_inside_the_message_is_kept() {
        let t = OcrText::new(
            750,
            1334,
            vec![line(
                "20,000円以下のチャージはできません",
                100,
                600,
                500,
                30,
            )],
            0,
        );
        assert!(t.matcher_text().contains("20,000円"));
    }

    #[test]
    fn lookalikes_fold_without_making_digits() {
        assert_eq!(
            fold_lookalikes("セッションタイムアウ卜"),
            "セッションタイムアウト"
        );
        assert_eq!(fold_lookalikes("ク口ーズ"), "クローズ");
        assert_eq!(fold_lookalikes("工ラ一が発生"), "エラーが発生");
        assert_eq!(
            fold_lookalikes("クレシットカート登録"),
            "クレジットカード登録"
        );
        // Numerals stay numerals where they are numbers.
        assert_eq!(fold_lookalikes("チャージ一万円"), "チャージ一万円");
        assert_eq!(fold_lookalikes("一回"), "一回");
        assert_eq!(fold_lookalikes("人口"), "人口");
        // Letters are never turned into digits.
        assert_eq!(fold_lookalikes("MW1M01AJOOO4"), "MW1M01AJOOO4");
        for s in ["工ラ一", "ク口ーズ", "チャージ一万", "二千円", "口座"] {
            let digits = |t: &str| {
                t.chars()
                    .filter(|c| "0123456789一二三四五六七八九十".contains(*c))
                    .count()
            };
            assert!(digits(&fold_lookalikes(s)) <= digits(s), "{s}");
        }
    }
}
