//! Japanese typed without its kanji: the kana readings of the kanji words the pack and the
//! judgement's cues use, and a kana reading of a message typed in romaji.
//!
//! Some people type Japanese in romaji ("honnin ninshou ni fusei ga kenchi saremashita": an
//! English keyboard, a phone without a Japanese input) and some leave it all in hiragana
//! ("ほんにんにんしょう に ふせい"). Neither shares a character with `本人認証に不正`. Both
//! are met in kana: a literal whose kanji words all have a reading in [`READINGS`] gets its
//! hiragana spelling beside it when the pack is built ([`hiragana_reading`]), and a message
//! that reads as romaji is matched in hiragana ([`romaji_reading`]). Pack words spelled in
//! ASCII (`ana`, `saison`) stay ASCII, so the product names keep matching.

/// Kanji words (with a kana after them where the reading depends on it: 来な is こな) and
/// their readings. The longest key at a place wins, so compounds (本人認証, 取得) win over
/// their single kanji. A literal with a kanji not covered here gets no hiragana spelling:
/// better none than a wrong one. Verbs whose stem is one kana (起きる, 来る, 見る, 出る) are
/// left out: their kana are everyday endings (起きました is おきました, inside
/// 直しておきました; 来ません is きません, inside できません).
const READINGS: &[(&str, &str)] = &[
    ("一体", "いったい"),
    ("一回", "いっかい"),
    ("一安心", "ひとあんしん"),
    ("一度", "いちど"),
    ("一日置", "いちにちお"),
    ("一日", "いちにち"),
    ("一覧", "いちらん"),
    ("一", "いち"),
    ("丁寧", "ていねい"),
    ("万一", "まんいち"),
    ("万", "まん"),
    ("円", "えん"),
    ("以下", "いか"),
    ("以上", "いじょう"),
    ("三井住友", "みついすみとも"),
    ("信託", "しんたく"),
    ("海上", "かいじょう"),
    ("銀行", "ぎんこう"),
    ("三菱", "みつびし"),
    ("上が", "あが"),
    ("上げ", "あげ"),
    ("上限", "じょうげん"),
    ("回数", "かいすう"),
    ("回", "かい"),
    ("下限", "かげん"),
    ("不可", "ふか"),
    ("不安", "ふあん"),
    ("不正", "ふせい"),
    ("検知", "けんち"),
    ("不親切", "ふしんせつ"),
    ("乗っ取", "のっと"),
    ("取得", "しゅとく"),
    ("予定", "よてい"),
    ("二十四時間", "にじゅうよじかん"),
    ("人", "ひと"),
    ("今度", "こんど"),
    ("今月", "こんげつ"),
    ("今朝", "けさ"),
    ("今週", "こんしゅう"),
    ("今", "いま"),
    ("仕様", "しよう"),
    ("仕組", "しく"),
    ("仮", "かり"),
    ("件名", "けんめい"),
    ("件数", "けんすう"),
    ("件", "けん"),
    ("会員", "かいいん"),
    ("会社", "かいしゃ"),
    ("何で", "なんで"),
    ("何な", "なんな"),
    ("何の", "なんの"),
    ("何円", "なんえん"),
    ("何回", "なんかい"),
    ("何年", "なんねん"),
    ("何度", "なんど"),
    ("何故", "なぜ"),
    ("何", "なに"),
    ("使用", "しよう"),
    ("使", "つか"),
    ("便利", "べんり"),
    ("保険証", "ほけんしょう"),
    ("候補", "こうほ"),
    ("先週", "せんしゅう"),
    ("免除", "めんじょ"),
    ("全然", "ぜんぜん"),
    ("入金", "にゅうきん"),
    ("入れ", "いれ"),
    ("入ら", "はいら"),
    ("入る", "はいる"),
    ("出来", "でき"),
    ("公式", "こうしき"),
    ("発表", "はっぴょう"),
    ("再度", "さいど"),
    ("再発行", "さいはっこう"),
    ("分か", "わか"),
    ("期限切", "きげんぎ"),
    ("別", "べつ"),
    ("制限", "せいげん"),
    ("前", "まえ"),
    ("助", "たす"),
    ("勝手", "かって"),
    ("千", "せん"),
    ("厳", "きび"),
    ("参", "まい"),
    ("反応", "はんのう"),
    ("受信", "じゅしん"),
    ("可能性", "かのうせい"),
    ("同", "おな"),
    ("告知", "こくち"),
    ("周知", "しゅうち"),
    ("問題", "もんだい"),
    ("困", "こま"),
    ("固定", "こてい"),
    ("固", "かた"),
    ("報告", "ほうこく"),
    ("場合", "ばあい"),
    ("変", "へん"),
    ("多", "おお"),
    ("大丈夫", "だいじょうぶ"),
    ("失効", "しっこう"),
    ("失敗", "しっぱい"),
    ("嫌", "いや"),
    ("学生", "がくせい"),
    ("完了", "かんりょう"),
    ("対応", "たいおう"),
    ("導入", "どうにゅう"),
    ("少", "すこ"),
    ("届", "とど"),
    ("弾", "はじ"),
    ("心当", "こころあ"),
    ("復活", "ふっかつ"),
    ("心配", "しんぱい"),
    ("必要", "ひつよう"),
    ("必須", "ひっす"),
    ("必", "かなら"),
    ("念", "ねん"),
    ("怖", "こわ"),
    ("思", "おも"),
    ("怪", "あや"),
    ("意味", "いみ"),
    ("感謝", "かんしゃ"),
    ("成功", "せいこう"),
    ("戻", "もど"),
    ("手続", "てつづ"),
    ("手順", "てじゅん"),
    ("支払完了", "しはらいかんりょう"),
    ("支払", "しはら"),
    ("払", "はら"),
    ("拒否", "きょひ"),
    ("指紋", "しもん"),
    ("教", "おし"),
    ("文言", "もんごん"),
    ("方法", "ほうほう"),
    ("方", "ほう"),
    ("早", "はや"),
    ("明日", "あした"),
    ("時間後", "じかんご"),
    ("時間経", "じかんた"),
    ("時間", "じかん"),
    ("普通", "ふつう"),
    ("更新", "こうしん"),
    ("最低", "さいてい"),
    ("最大", "さいだい"),
    ("最高", "さいこう"),
    ("有効化", "ゆうこうか"),
    ("有効期限", "ゆうこうきげん"),
    ("有難", "ありがと"),
    ("期限", "きげん"),
    ("本人確認", "ほんにんかくにん"),
    ("本人認証", "ほんにんにんしょう"),
    ("本人", "ほんにん"),
    ("本物", "ほんもの"),
    ("来な", "こな"),
    ("来ね", "こね"),
    ("来ん", "こん"),
    ("桁", "けた"),
    ("検索", "けんさく"),
    ("楽天", "らくてん"),
    ("楽", "らく"),
    ("正常", "せいじょう"),
    ("正規", "せいき"),
    ("残高", "ざんだか"),
    ("決済", "けっさい"),
    ("治", "なお"),
    ("無事", "ぶじ"),
    ("無理", "むり"),
    ("焦", "あせ"),
    ("特", "とく"),
    ("現金", "げんきん"),
    ("生体認証", "せいたいにんしょう"),
    ("申請", "しんせい"),
    ("申込", "もうしこみ"),
    ("申", "もう"),
    ("番号", "ばんごう"),
    ("症状", "しょうじょう"),
    ("発生", "はっせい"),
    ("登録状況", "とうろくじょうきょう"),
    ("登録", "とうろく"),
    ("直", "なお"),
    ("確定申告", "かくていしんこく"),
    ("確認", "かくにん"),
    ("私", "わたし"),
    ("移", "うつ"),
    ("紐付", "ひもづ"),
    ("紐", "ひも"),
    ("紛", "まぎ"),
    ("結局", "けっきょく"),
    ("義務化", "ぎむか"),
    ("義務", "ぎむ"),
    ("考", "かんが"),
    ("自分", "じぶん"),
    ("表示", "ひょうじ"),
    ("表記", "ひょうき"),
    ("見分", "みわ"),
    ("覚", "おぼ"),
    ("解決", "かいけつ"),
    ("解除", "かいじょ"),
    ("記事", "きじ"),
    ("設定", "せってい"),
    ("詐欺", "さぎ"),
    ("試", "ため"),
    ("話題", "わだい"),
    ("詳", "くわ"),
    ("認証", "にんしょう"),
    ("画面", "がめん"),
    ("誰", "だれ"),
    ("調", "しら"),
    ("質問", "しつもん"),
    ("購入", "こうにゅう"),
    ("買い物", "かいもの"),
    ("支払い", "しはらい"),
    ("辞書", "じしょ"),
    ("迷惑", "めいわく"),
    ("追加", "ついか"),
    ("通信", "つうしん"),
    ("通知", "つうち"),
    ("通販", "つうはん"),
    ("通", "とお"),
    ("進", "すす"),
    ("遅れ", "おくれ"),
    ("遅", "おそ"),
    ("達", "たっ"),
    ("間違", "まちが"),
    ("違", "ちが"),
    ("重要", "じゅうよう"),
    ("金額", "きんがく"),
    ("限度額", "げんどがく"),
    ("限度", "げんど"),
    ("集計", "しゅうけい"),
    ("電話", "でんわ"),
    ("非対応", "ひたいおう"),
    ("面倒", "めんどう"),
    ("預", "あず"),
    ("顔認証", "かおにんしょう"),
    ("驚", "おどろ"),
    ("切り替", "きりか"),
    ("有効", "ゆうこう"),
    ("状況", "じょうきょう"),
    ("海外", "かいがい"),
    ("利用", "りよう"),
    ("日本", "にほん"),
];

/// [`READINGS`] by the first character of the key: a literal whose kanji starts no key (most
/// of a generated pack's) is given up on at once, which keeps a 10,000-entry build fast.
static READINGS_BY_FIRST: std::sync::LazyLock<
    std::collections::HashMap<char, Vec<(&'static str, &'static str)>>,
> = std::sync::LazyLock::new(|| {
    let mut by_first: std::collections::HashMap<char, Vec<(&str, &str)>> =
        std::collections::HashMap::new();
    for &(key, reading) in READINGS {
        if let Some(c) = key.chars().next() {
            by_first.entry(c).or_default().push((key, reading));
        }
    }
    by_first
});

/// Shorter readings are everyday kana ("でない" in "…でないと", "きた" in "すきだ"): a
/// hiragana spelling must have at least this many letters.
const MIN_READING: usize = 4;

/// Katakana letters in hiragana (チャージ -> ちゃーじ); everything else as it is.
pub(crate) fn katakana_to_hiragana(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{30A1}'..='\u{30F6}' => char::from_u32(c as u32 - 0x60).unwrap_or(c),
            _ => c,
        })
        .collect()
}

/// Hiragana letters in katakana, for dialogs printed in katakana only.
pub(crate) fn hiragana_to_katakana(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{3041}'..='\u{3096}' => char::from_u32(c as u32 + 0x60).unwrap_or(c),
            _ => c,
        })
        .collect()
}

pub(crate) fn is_kanji(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '々')
}

/// `lit` with every kanji word written in hiragana, when [`READINGS`] covers all of them and
/// the result is long enough to say something.
pub(crate) fn hiragana_reading(lit: &str) -> Option<String> {
    if !lit.chars().any(is_kanji) {
        return None;
    }
    let mut out = String::with_capacity(lit.len());
    let mut rest = lit;
    while let Some(c) = rest.chars().next() {
        if !is_kanji(c) {
            out.push(c);
            rest = &rest[c.len_utf8()..];
            continue;
        }
        let (key, reading) = READINGS_BY_FIRST
            .get(&c)?
            .iter()
            .filter(|(k, _)| rest.starts_with(k))
            .max_by_key(|(k, _)| k.len())?;
        out.push_str(reading);
        rest = &rest[key.len()..];
    }
    (out.chars().count() >= MIN_READING).then_some(out)
}

/// The longest message read as romaji: chat lines, not pasted English documents.
const MAX_ROMAJI_BYTES: usize = 4096;

/// English words that romaji could spell ("to", "use", "name"): a message made of them is
/// English. In a message that reads as romaji they are read as kana like the rest (`no` is
/// の there).
const ENGLISH: &[&str] = &[
    "a",
    "i",
    "o",
    "to",
    "no",
    "so",
    "do",
    "go",
    "me",
    "be",
    "he",
    "we",
    "us",
    "use",
    "one",
    "are",
    "name",
    "same",
    "make",
    "take",
    "come",
    "some",
    "home",
    "more",
    "made",
    "done",
    "gone",
    "none",
    "time",
    "nine",
    "mine",
    "fine",
    "line",
    "game",
    "came",
    "became",
    "bank",
    "here",
    "there",
    "where",
    "were",
    "sure",
    "note",
    "date",
    "rate",
    "hire",
    "fire",
    "ride",
    "side",
    "wide",
    "hide",
    "hope",
    "nope",
    "yes",
    "yen",
    "age",
    "ago",
    "image",
    "machine",
    "minute",
    "before",
    "someone",
    "anyone",
    "mobile",
    "name",
    "sake",
    "safe",
    "save",
    "site",
    "tire",
    "wire",
    "bike",
    "kiosk",
    "menu",
    "bonus",
    "anime",
    "manga",
    "sushi",
    "ramen",
    "tokyo",
    "osaka",
    "kyoto",
    "narita",
    "haneda",
    "japan",
    "okay",
    "ok",
    "ah",
    "oh",
    "uh",
    "hmm",
    "umm",
    "eh",
    "huh",
    "ha",
    "haha",
    "hahaha",
    "need",
    "see",
    "tee",
    "free",
    "tree",
    "agree",
    "degree",
    "guarantee",
    "refuse",
    "abuse",
    "excuse",
    "amuse",
    "fuse",
    "muse",
    "tame",
    "rebate",
    "debate",
    "be",
    "maybe",
    "nowhere",
    "anywhere",
    "somewhere",
    "wise",
    "gonna",
    "wanna",
    "gotta",
    "dunno",
    "mama",
    "papa",
    "nana",
    "banana",
    "tomato",
    "potato",
    "pose",
    "rose",
    "nose",
    "hose",
    "dose",
    "zone",
    "tone",
    "bone",
    "cone",
    "ozone",
    "tune",
    "june",
    "dune",
    "rune",
    "mute",
    "cute",
    "route",
    "minute",
    "kanji",
    "kana",
    "emoji",
    "emo",
    "romaji",
    "hiragana",
    "katakana",
    "yo",
    "ya",
    "yay",
    "wow",
    "sorry",
    "pin",
];

/// The kana of the romaji syllables (Hepburn, Kunrei and typing spellings).
const SYLLABLES: &[(&str, &str)] = &[
    ("a", "あ"),
    ("i", "い"),
    ("u", "う"),
    ("e", "え"),
    ("o", "お"),
    ("ka", "か"),
    ("ki", "き"),
    ("ku", "く"),
    ("ke", "け"),
    ("ko", "こ"),
    ("kya", "きゃ"),
    ("kyu", "きゅ"),
    ("kyo", "きょ"),
    ("ga", "が"),
    ("gi", "ぎ"),
    ("gu", "ぐ"),
    ("ge", "げ"),
    ("go", "ご"),
    ("gya", "ぎゃ"),
    ("gyu", "ぎゅ"),
    ("gyo", "ぎょ"),
    ("sa", "さ"),
    ("si", "し"),
    ("shi", "し"),
    ("su", "す"),
    ("se", "せ"),
    ("so", "そ"),
    ("sha", "しゃ"),
    ("shu", "しゅ"),
    ("she", "しぇ"),
    ("sho", "しょ"),
    ("sya", "しゃ"),
    ("syu", "しゅ"),
    ("syo", "しょ"),
    ("za", "ざ"),
    ("zi", "じ"),
    ("ji", "じ"),
    ("zu", "ず"),
    ("ze", "ぜ"),
    ("zo", "ぞ"),
    ("ja", "じゃ"),
    ("ju", "じゅ"),
    ("je", "じぇ"),
    ("jo", "じょ"),
    ("jya", "じゃ"),
    ("jyu", "じゅ"),
    ("jyo", "じょ"),
    ("zya", "じゃ"),
    ("zyu", "じゅ"),
    ("zyo", "じょ"),
    ("ta", "た"),
    ("ti", "ち"),
    ("chi", "ち"),
    ("tu", "つ"),
    ("tsu", "つ"),
    ("te", "て"),
    ("to", "と"),
    ("cha", "ちゃ"),
    ("chu", "ちゅ"),
    ("che", "ちぇ"),
    ("cho", "ちょ"),
    ("tya", "ちゃ"),
    ("tyu", "ちゅ"),
    ("tyo", "ちょ"),
    ("da", "だ"),
    ("di", "ぢ"),
    ("du", "づ"),
    ("de", "で"),
    ("do", "ど"),
    ("na", "な"),
    ("ni", "に"),
    ("nu", "ぬ"),
    ("ne", "ね"),
    ("no", "の"),
    ("nya", "にゃ"),
    ("nyu", "にゅ"),
    ("nyo", "にょ"),
    ("ha", "は"),
    ("hi", "ひ"),
    ("hu", "ふ"),
    ("fu", "ふ"),
    ("he", "へ"),
    ("ho", "ほ"),
    ("hya", "ひゃ"),
    ("hyu", "ひゅ"),
    ("hyo", "ひょ"),
    ("fa", "ふぁ"),
    ("fi", "ふぃ"),
    ("fe", "ふぇ"),
    ("fo", "ふぉ"),
    ("ba", "ば"),
    ("bi", "び"),
    ("bu", "ぶ"),
    ("be", "べ"),
    ("bo", "ぼ"),
    ("bya", "びゃ"),
    ("byu", "びゅ"),
    ("byo", "びょ"),
    ("pa", "ぱ"),
    ("pi", "ぴ"),
    ("pu", "ぷ"),
    ("pe", "ぺ"),
    ("po", "ぽ"),
    ("pya", "ぴゃ"),
    ("pyu", "ぴゅ"),
    ("pyo", "ぴょ"),
    ("ma", "ま"),
    ("mi", "み"),
    ("mu", "む"),
    ("me", "め"),
    ("mo", "も"),
    ("mya", "みゃ"),
    ("myu", "みゅ"),
    ("myo", "みょ"),
    ("ya", "や"),
    ("yu", "ゆ"),
    ("yo", "よ"),
    ("ra", "ら"),
    ("ri", "り"),
    ("ru", "る"),
    ("re", "れ"),
    ("ro", "ろ"),
    ("rya", "りゃ"),
    ("ryu", "りゅ"),
    ("ryo", "りょ"),
    ("wa", "わ"),
    ("wi", "うぃ"),
    ("we", "うぇ"),
    ("wo", "を"),
    ("va", "ゔぁ"),
    ("vi", "ゔぃ"),
    ("vu", "ゔ"),
    ("ve", "ゔぇ"),
    ("vo", "ゔぉ"),
    ("thi", "てぃ"),
    ("dhi", "でぃ"),
];

/// [`SYLLABLES`] as a map: an English message is parsed word by word before it is judged
/// not to be romaji, so each lookup must be cheap.
static SYLLABLE_KANA: std::sync::LazyLock<std::collections::HashMap<&'static str, &'static str>> =
    std::sync::LazyLock::new(|| SYLLABLES.iter().copied().collect());

fn is_vowel(b: u8) -> bool {
    matches!(b, b'a' | b'i' | b'u' | b'e' | b'o')
}

/// One lowercase word of ASCII letters (and `-` for a long vowel) in hiragana, or None when
/// it is not romaji. A doubled consonant is っ, `n` before a consonant or at the end is ん,
/// and a doubled `a` or `e` is the long vowel of a loanword (chaaji, meeru: チャージ, メール,
/// whose hiragana spellings the pack holds); doubled `i`, `u`, `o` stay (kaisuu, ookii).
fn word_to_kana(word: &str) -> Option<String> {
    let b = word.as_bytes();
    let mut out = String::with_capacity(word.len() * 2);
    let mut i = 0;
    let mut last_vowel = 0u8;
    while i < b.len() {
        let c = b[i];
        if c == b'-' {
            if last_vowel == 0 {
                return None;
            }
            out.push('ー');
            i += 1;
            continue;
        }
        if c == b'n' && b.get(i + 1).is_none_or(|&n| !is_vowel(n) && n != b'y') {
            // ん: "nn" is one ん when no vowel follows it (wāpuro "konnnichiha" aside).
            let double = b.get(i + 1) == Some(&b'n')
                && b.get(i + 2).is_none_or(|&n| !is_vowel(n) && n != b'y');
            out.push('ん');
            i += if double { 2 } else { 1 };
            last_vowel = 0;
            continue;
        }
        if !is_vowel(c) && c != b'n' && b.get(i + 1) == Some(&c) {
            out.push('っ');
            i += 1;
            continue;
        }
        if c == b't' && b.get(i + 1) == Some(&b'c') && b.get(i + 2) == Some(&b'h') {
            out.push('っ');
            i += 1;
            continue;
        }
        let (len, kana) = (1..=3)
            .rev()
            .filter(|&l| i + l <= b.len())
            .find_map(|l| SYLLABLE_KANA.get(&word[i..i + l]).map(|&k| (l, k)))?;
        let vowel = b[i + len - 1];
        if len == 1 && (vowel == b'a' || vowel == b'e') && last_vowel == vowel {
            out.push('ー');
        } else {
            out.push_str(kana);
        }
        last_vowel = vowel;
        i += len;
    }
    Some(out)
}

/// How a run of letters in a message reads.
enum Word {
    /// Spelled by the pack in ASCII (a product or card name): kept as typed.
    Known,
    Romaji(String),
    /// Romaji could spell it but it is an everyday English word.
    EnglishRomaji(String),
    Other,
}

/// The message with its romaji words in hiragana, when it reads as romaji: mostly words that
/// romaji spells and that are not English. `known` says whether the pack spells a word in
/// ASCII (those stay, and count for neither side). None for everything else, which is
/// matched as typed; messages with any non-ASCII character never get here.
pub fn romaji_reading(text: &str, known: impl Fn(&str) -> bool) -> Option<String> {
    if !text.is_ascii() || text.len() > MAX_ROMAJI_BYTES {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    // (start, end, reading) of each run of letters.
    let mut words: Vec<(usize, usize, Word)> = Vec::new();
    let (mut romaji, mut english) = (0usize, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        if !bytes[i].is_ascii_alphabetic() {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len()
            && (bytes[i].is_ascii_alphabetic()
                || (bytes[i] == b'-' && bytes.get(i + 1).is_some_and(u8::is_ascii_alphabetic)))
        {
            i += 1;
        }
        let w = &lower[start..i];
        let reading = if known(w) {
            Word::Known
        } else {
            match word_to_kana(w) {
                Some(k) if ENGLISH.contains(&w) => Word::EnglishRomaji(k),
                Some(k) => Word::Romaji(k),
                None => Word::Other,
            }
        };
        match reading {
            Word::Romaji(_) => romaji += 1,
            Word::EnglishRomaji(_) | Word::Other => english += 1,
            Word::Known => {}
        }
        words.push((start, i, reading));
    }
    // At least two romaji words, and twice as many as the English ones: "it says honnin
    // ninshou ni fusei" reads, "I need to use a one time password" does not.
    if romaji < 2 || romaji < 2 * english {
        return None;
    }
    let mut out = String::with_capacity(text.len() * 3);
    let mut from = 0;
    for (start, end, reading) in words {
        out.push_str(&text[from..start]);
        let after_digit = lower[..start]
            .trim_end()
            .ends_with(|c: char| c.is_ascii_digit());
        match reading {
            // "3000en", "5000 yen": the amount's unit.
            _ if after_digit && matches!(&lower[start..end], "en" | "yen") => out.push('円'),
            Word::Romaji(k) | Word::EnglishRomaji(k) => out.push_str(&k),
            Word::Known | Word::Other => out.push_str(&text[start..end]),
        }
        from = end;
    }
    out.push_str(&text[from..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kanji_words_are_read_in_hiragana_when_every_one_is_known() {
        assert_eq!(
            hiragana_reading("本人認証に不正").as_deref(),
            Some("ほんにんにんしょうにふせい")
        );
        assert_eq!(
            hiragana_reading("来ない").as_deref(),
            None,
            "こない is too short"
        );
        assert_eq!(hiragana_reading("届かない").as_deref(), Some("とどかない"));
        assert_eq!(hiragana_reading("取得").as_deref(), Some("しゅとく"));
        // A kanji without a reading: no spelling rather than a wrong one.
        assert_eq!(hiragana_reading("機能が使えない"), None);
        assert_eq!(hiragana_reading("チャージ"), None);
    }

    #[test]
    fn romaji_words_become_hiragana() {
        let k = |w: &str| word_to_kana(w);
        assert_eq!(k("honnin").as_deref(), Some("ほんにん"));
        assert_eq!(k("ninshou").as_deref(), Some("にんしょう"));
        assert_eq!(k("chaaji").as_deref(), Some("ちゃーじ"));
        assert_eq!(k("cha-ji").as_deref(), Some("ちゃーじ"));
        assert_eq!(k("kaisuu").as_deref(), Some("かいすう"));
        assert_eq!(k("sesshon").as_deref(), Some("せっしょん"));
        assert_eq!(k("tte").as_deref(), Some("って"));
        assert_eq!(k("konbini").as_deref(), Some("こんびに"));
        assert_eq!(k("kuikkupei").as_deref(), Some("くいっくぺい"));
        assert_eq!(k("matcha").as_deref(), Some("まっちゃ"));
        assert_eq!(k("charge"), None);
        assert_eq!(k("tried"), None);
    }

    #[test]
    fn a_romaji_message_is_read_in_kana_and_an_english_one_is_not() {
        let known = |w: &str| matches!(w, "jal" | "pay" | "ana");
        assert_eq!(
            romaji_reading(
                "JAL Pay kara ANA Pay ni chaaji shitara fusei ga kenchi saremashita. 3000en",
                known
            )
            .as_deref(),
            Some("JAL Pay から ANA Pay に ちゃーじ したら ふせい が けんち されました. 3000円")
        );
        assert_eq!(
            romaji_reading("I need to use a one time password from the SMS", known),
            None
        );
        assert_eq!(
            romaji_reading("my card got declined at the konbini", known),
            None
        );
        assert_eq!(romaji_reading("honnin ninshou desu ことが", known), None);
    }
}
