//! The one-pass index: every code, literal pattern and keyword of every entry, and every alias
//! of the issuer table, in one Aho-Corasick automaton; every true regex in a few `RegexSet`s
//! (at most 2,000 each).
//!
//! A message is scanned once by each, whatever the number of entries; only family patterns
//! that fired are run again to read the code they matched.

use std::collections::{HashMap, HashSet};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};

use super::facts::marker_literals;
use super::kana::{hiragana_to_katakana, is_kanji, katakana_to_hiragana};
use crate::knowledge::{Entry, Issuer, CARD_KEYWORD};
use crate::normalize::compact;

pub use crate::knowledge::pattern::{
    classify_pattern, prepare_pattern, Prepared, MAX_PATTERN_CHARS, REGEX_SIZE_LIMIT,
};
pub use crate::knowledge::FAILURE_GROUP;

/// The most regexes in one `RegexSet` of the index.
pub const SET_CHUNK: usize = 2000;

fn compile_regex(source: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(source)
        .case_insensitive(true)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
}

/// What one automaton literal or set regex stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    Code {
        entry: u32,
        code: u16,
    },
    Pattern {
        entry: u32,
        pattern: u16,
    },
    Family {
        entry: u32,
        pattern: u16,
    },
    /// The tail of a listed code, retyped on its own ("AJ0004", "末尾0004").
    PartialCode {
        entry: u32,
        code: u16,
    },
    Keyword {
        entry: u32,
        group: u16,
    },
    /// An alias of an issuer or brand of the table.
    Card {
        issuer: u16,
    },
    /// A phrase in which that issuer's aliases do not name it.
    CardNot {
        issuer: u16,
    },
    /// A word an amount hangs on (円, ¥, チャージ, …): bit `marker` of [`Scan::amount_markers`].
    AmountMarker {
        marker: u8,
    },
}

/// Everything one message hit, per entry, in the order first hit.
#[derive(Debug, Default, Clone)]
pub(crate) struct EntryHits {
    pub entry: u32,
    pub codes: Vec<u16>,
    pub patterns: Vec<u16>,
    /// Family pattern and the unknown code it matched (compact form).
    pub families: Vec<(u16, String)>,
    pub keywords: Vec<u16>,
    /// For each of `keywords`, how many entries share the rarest word found for it.
    pub keyword_df: Vec<u16>,
    /// Codes found only with look-alike characters folded (also listed in `codes`).
    pub retyped: Vec<u16>,
    /// Codes of which only the tail was found (not listed in `codes`).
    pub partial: Vec<u16>,
    /// Every keyword found: (group, start, end, df), before [`assign_groups`] decides which
    /// groups they count for.
    spans: Vec<(u16, usize, usize, u16)>,
}

/// The hits of `entry`, added when it has none yet.
fn slot(hits: &mut Vec<EntryHits>, entry: u32) -> usize {
    match hits.iter().position(|h| h.entry == entry) {
        Some(i) => i,
        None => {
            hits.push(EntryHits {
                entry,
                ..EntryHits::default()
            });
            hits.len() - 1
        }
    }
}

/// Counts each keyword group found, with each place in the text (the same start and end)
/// counting for one group only: "顔認証" listed in two groups of an entry, or "JAL Pay" as
/// both the app and the card, is one word, not two pieces of evidence. A word inside a
/// longer one still counts ("カード" in "カード設定": the card, and the setting of it).
/// Groups with the fewest places choose first.
fn assign_groups(h: &mut EntryHits) {
    if h.spans.is_empty() {
        return;
    }
    let mut groups: Vec<u16> = h.spans.iter().map(|s| s.0).collect();
    groups.sort_unstable();
    groups.dedup();
    groups.sort_by_key(|&g| h.spans.iter().filter(|s| s.0 == g).count());
    let mut taken: Vec<(usize, usize)> = Vec::new();
    let mut found: Vec<(u16, u16, usize)> = Vec::new();
    for g in groups {
        let free = h
            .spans
            .iter()
            .filter(|s| s.0 == g)
            .filter(|s| !taken.iter().any(|&(a, b)| s.1 == a && s.2 == b))
            .min_by_key(|s| (s.3, s.1));
        if let Some(&(_, start, end, df)) = free {
            taken.push((start, end));
            // The group's weight is its rarest word anywhere in the text.
            let df = h
                .spans
                .iter()
                .filter(|s| s.0 == g)
                .map(|s| s.3)
                .min()
                .unwrap_or(df);
            let first = h.spans.iter().position(|s| s.0 == g).unwrap_or(0);
            found.push((g, df, first));
        }
    }
    // In the order first found, as before.
    found.sort_by_key(|f| f.2);
    h.keywords = found.iter().map(|f| f.0).collect();
    h.keyword_df = found.iter().map(|f| f.1).collect();
}

/// What one pass found: the entries hit, and the cards (issuer indexes) the text names, in
/// the order first named.
#[derive(Debug, Default, Clone)]
pub(crate) struct Scan {
    pub entries: Vec<EntryHits>,
    pub cards: Vec<u16>,
    /// Which amount markers (`facts::MARKER_WORDS`) the text holds, one bit each: the amount
    /// reader searches only for those.
    pub amount_markers: u16,
}

fn push_unique<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

#[derive(Debug)]
pub struct Index {
    ac: Option<AhoCorasick>,
    ac_targets: Vec<Vec<Target>>,
    /// Per automaton literal: how many entries use it as a keyword. A word many entries share
    /// ("カード", a failure word) says less about which entry a message is about.
    ac_keyword_df: Vec<u16>,
    /// Per automaton literal: the text that, just before it, makes it part of an everyday
    /// word ([`NOT_AFTER`]); empty for most.
    ac_not_after: Vec<&'static [&'static str]>,
    /// Codes with look-alike characters folded (O->0, I/L->1, S->5, B->8) and separators
    /// dropped, for codes retyped from a screenshot; None when the pack has no codes.
    folded_codes: Option<(AhoCorasick, Vec<(u32, u16)>)>,
    /// Bytes in the shortest code, folded: shorter runs of letters and digits cannot hold one.
    shortest_code: usize,
    /// The true regexes, in sets of at most `set_chunk` ([`SET_CHUNK`]); set `k` holds
    /// global indexes `k * set_chunk ..`.
    sets: Vec<RegexSet>,
    set_chunk: usize,
    set_targets: Vec<Target>,
    /// Family regexes, by set index, for reading what they matched.
    family_regex: HashMap<usize, Regex>,
    known_codes: HashSet<String>,
    /// (compact code, entry, code index) grouped by length, for near-miss suggestions.
    codes_by_len: HashMap<usize, Vec<(String, u32, u16)>>,
    /// Character bigram -> entries whose titles/keywords contain it, for free-text lookup.
    grams: HashMap<u64, Vec<u32>>,
    /// (entry, keyword group) of the groups that hold [`CARD_KEYWORD`]: any card named in the
    /// text counts as that group.
    card_groups: Vec<(u32, u16)>,
    /// (entry, keyword group, N) of the groups that hold `@over:N`: an amount above N yen in
    /// the text counts as that group ([`Index::amount_groups`]).
    over_groups: Vec<(u32, u16, u64)>,
    /// Keyword literals with one kanji swapped for any other (本人任証, 回数性限: a
    /// conversion slip of the same reading), as one regex, and the literals it stands for;
    /// None for a pack without such literals. See [`kanji_slip_sources`].
    kanji_slips: Option<KanjiSlips>,
    /// The literals that are one ASCII word (`ana`, `saison`): a message read as romaji
    /// keeps them as typed ([`super::kana::romaji_reading`]).
    ascii_words: HashSet<String>,
}

/// Character bigrams for free-text similarity. Pairs of digits are left out: "00" or "01"
/// says nothing about which error a text is about.
/// The literal with its katakana written in hiragana, when it has at least
/// [`MIN_KANA_SPELLING`] katakana letters (shorter words in hiragana are everyday words:
/// マイル is not まいる).
/// The spellings of a word typed in a hurry, shared by the pack's literals and the
/// judgement's cues: in hiragana ([`hiragana_spelling`]) and without its apostrophe
/// ("didnt", "cant").
pub(crate) fn typed_spellings(lit: &str) -> impl Iterator<Item = String> {
    let bare = lit.contains('\'').then(|| lit.replace('\'', ""));
    // All in kana, as a romaji or hiragana typist writes it: the kanji read (本人認証エラー
    // -> ほんにんにんしょうえらー), then every katakana letter in hiragana.
    let read = super::kana::hiragana_reading(lit).map(|r| katakana_to_hiragana(&r));
    hiragana_spelling(lit).into_iter().chain(read).chain(bare)
}

fn hiragana_spelling(lit: &str) -> Option<String> {
    // The long-vowel mark counts as a letter: クッキー is as long a word as チャージ.
    let letters = katakana_letters(lit) + lit.matches('ー').count();
    (letters >= MIN_KANA_SPELLING).then(|| katakana_to_hiragana(lit))
}

/// Keywords that the text before them turns into another word: とは in ことは ("弾かれたこと
/// は一度もない" asks nothing); カード in マイナンバーカード or キャッシュカード, cards that
/// pay nothing by credit ("e-Taxでマイナンバーカード読み取ったら本人認証エラー").
const NOT_AFTER: &[(&str, &[&str])] = &[
    ("とは", &["こ"]),
    (
        "カード",
        &[
            "マイナンバー",
            "マイナ",
            "ポイント",
            "キャッシュ",
            "診察",
            "ギフト",
            "図書",
            "sim",
            "sd",
        ],
    ),
    ("card", &["sim", "gift", "number", "library"]),
];

/// See [`hiragana_spelling`].
const MIN_KANA_SPELLING: usize = 4;

/// How many katakana letters (ァ..ヶ) `lit` has: how long a katakana word it holds.
fn katakana_letters(lit: &str) -> usize {
    lit.chars()
        .filter(|c| ('\u{30A1}'..='\u{30F6}').contains(c))
        .count()
}

/// Voiced katakana and their unvoiced forms (ガ/カ …, パ/ハ too).
const DAKUTEN: &[(char, char)] = &[
    ('ガ', 'カ'),
    ('ギ', 'キ'),
    ('グ', 'ク'),
    ('ゲ', 'ケ'),
    ('ゴ', 'コ'),
    ('ザ', 'サ'),
    ('ジ', 'シ'),
    ('ズ', 'ス'),
    ('ゼ', 'セ'),
    ('ゾ', 'ソ'),
    ('ダ', 'タ'),
    ('ヂ', 'チ'),
    ('ヅ', 'ツ'),
    ('デ', 'テ'),
    ('ド', 'ト'),
    ('バ', 'ハ'),
    ('ビ', 'ヒ'),
    ('ブ', 'フ'),
    ('ベ', 'ヘ'),
    ('ボ', 'ホ'),
    ('パ', 'ハ'),
    ('ピ', 'ヒ'),
    ('プ', 'フ'),
    ('ペ', 'ヘ'),
    ('ポ', 'ホ'),
];

/// A long katakana word with one dakuten added or dropped (セッションタイムアウド, a typo
/// or a screenshot read badly). Only words of [`MIN_DAKUTEN_SLIP`] katakana or more: in a
/// short word one mark makes another word (カード, ガード).
fn dakuten_slips(lit: &str) -> Vec<String> {
    if katakana_letters(lit) < MIN_DAKUTEN_SLIP {
        return Vec::new();
    }
    let chars: Vec<char> = lit.chars().collect();
    let mut out = Vec::new();
    for (i, &c) in chars.iter().enumerate() {
        for &(voiced, plain) in DAKUTEN {
            let other = if c == voiced {
                plain
            } else if c == plain && voiced as u32 == plain as u32 + 1 {
                // Unvoiced to voiced only (ハ -> バ, not to パ): the slip people make.
                voiced
            } else {
                continue;
            };
            let mut v = chars.clone();
            v[i] = other;
            out.push(v.into_iter().collect());
        }
    }
    out
}

/// Whether `typed` is `lit` with exactly one kanji, next to another kanji, swapped for
/// another kanji.
fn one_kanji_apart(lit: &[char], typed: &[char]) -> bool {
    if lit.len() != typed.len() {
        return false;
    }
    let mut diff = lit
        .iter()
        .zip(typed)
        .enumerate()
        .filter(|(_, (a, b))| a != b);
    match (diff.next(), diff.next()) {
        (Some((i, (&a, &b))), None) => is_kanji(a) && is_kanji(b) && kanji_neighbour(lit, i),
        _ => false,
    }
}

fn kanji_neighbour(chars: &[char], i: usize) -> bool {
    (i > 0 && is_kanji(chars[i - 1])) || chars.get(i + 1).is_some_and(|&c| is_kanji(c))
}

/// The slip regex for [`Index::kanji_slips`]: every keyword literal of at least
/// [`MIN_SLIP_CHARS`] characters with at least [`MIN_SLIP_KANJI`] kanji, once per kanji
/// that has a kanji beside it, with that kanji any kanji. A conversion slip keeps the
/// reading and changes the character (有効価, 回数性限, 本人任証); shorter words with one
/// kanji changed are other words. At most [`MAX_SLIP_SOURCES`] alternatives, so a huge
/// pack pays nothing for it.
/// The slip regex and, per literal it holds, the literal's index and characters.
type KanjiSlips = (Regex, Vec<(usize, Vec<char>)>);

fn kanji_slip_sources(literals: &[String], targets: &[Vec<Target>]) -> Option<KanjiSlips> {
    let mut alternatives = Vec::new();
    let mut lits = Vec::new();
    for (li, lit) in literals.iter().enumerate() {
        // Cheap tests first: most literals of a large pack have no three kanji.
        if lit
            .chars()
            .filter(|&c| is_kanji(c))
            .nth(MIN_SLIP_KANJI - 1)
            .is_none()
            || !targets[li]
                .iter()
                .any(|t| matches!(t, Target::Keyword { .. }))
        {
            continue;
        }
        let chars: Vec<char> = lit.chars().collect();
        if chars.len() < MIN_SLIP_CHARS {
            continue;
        }
        for i in (0..chars.len()).filter(|&i| is_kanji(chars[i]) && kanji_neighbour(&chars, i)) {
            let before: String = chars[..i].iter().collect();
            let after: String = chars[i + 1..].iter().collect();
            alternatives.push(format!(
                "{}[\\x{{4E00}}-\\x{{9FFF}}]{}",
                regex::escape(&before),
                regex::escape(&after)
            ));
        }
        lits.push((li, chars));
        if alternatives.len() > MAX_SLIP_SOURCES {
            return None;
        }
    }
    if alternatives.is_empty() {
        return None;
    }
    Regex::new(&alternatives.join("|"))
        .ok()
        .map(|re| (re, lits))
}

const MIN_SLIP_CHARS: usize = 4;
const MIN_SLIP_KANJI: usize = 3;
const MAX_SLIP_SOURCES: usize = 4096;

/// From this many regexes on, the sets are compiled on a thread of their own.
const PARALLEL_SETS: usize = 256;

/// See [`Index::build_chunked`]: the regex sets, `chunk` regexes each.
fn build_sets(sources: &[String], chunk: usize) -> Result<Vec<RegexSet>, regex::Error> {
    sources
        .chunks(chunk)
        .map(|chunk| {
            RegexSetBuilder::new(chunk)
                .case_insensitive(true)
                .size_limit(
                    REGEX_SIZE_LIMIT
                        .saturating_mul(chunk.len().max(1))
                        .min(1 << 30),
                )
                .build()
        })
        .collect()
}

/// See [`dakuten_slips`].
const MIN_DAKUTEN_SLIP: usize = 6;

/// Small katakana and their full-size letters.
const SMALL_KANA: &[(char, char)] = &[
    ('ッ', 'ツ'),
    ('ャ', 'ヤ'),
    ('ュ', 'ユ'),
    ('ョ', 'ヨ'),
    ('ァ', 'ア'),
    ('ィ', 'イ'),
    ('ゥ', 'ウ'),
    ('ェ', 'エ'),
    ('ォ', 'オ'),
];

/// A long katakana word with its small ッ dropped or its small letters read full size (セションタイムアウト,
/// セツシヨンタイムアウト): what OCR makes of a dialog title, and what a hurried typist makes
/// of it. Only for words of [`MIN_DAKUTEN_SLIP`] katakana or more.
fn small_kana_slips(lit: &str) -> Vec<String> {
    if katakana_letters(lit) < MIN_DAKUTEN_SLIP
        || !lit.chars().any(|c| SMALL_KANA.iter().any(|&(s, _)| s == c))
    {
        return Vec::new();
    }
    // Only the small ッ goes missing (ション without its ョ would be シン, another sound).
    let dropped: String = lit.chars().filter(|&c| c != 'ッ').collect();
    let full: String = lit
        .chars()
        .map(|c| {
            SMALL_KANA
                .iter()
                .find(|(s, _)| *s == c)
                .map_or(c, |&(_, f)| f)
        })
        .collect();
    let mut out = vec![full];
    if dropped != lit {
        out.insert(0, dropped);
    }
    out
}

pub(crate) fn bigrams(compact: &str) -> Vec<u64> {
    let chars: Vec<char> = compact.chars().collect();
    let mut out: Vec<u64> = chars
        .windows(2)
        .filter(|w| !(w[0].is_ascii_digit() && w[1].is_ascii_digit()))
        .map(|w| (u64::from(w[0] as u32) << 32) | u64::from(w[1] as u32))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

impl Index {
    /// Builds the index. Entries must have passed validation: an invalid pattern here is
    /// skipped, never a panic.
    pub fn build(entries: &[Entry], issuers: &[Issuer]) -> Index {
        Index::build_chunked(entries, issuers, SET_CHUNK)
    }

    fn build_chunked(entries: &[Entry], issuers: &[Issuer], set_chunk: usize) -> Index {
        super::intent::prepare();
        let mut literal_ids: HashMap<String, usize> = HashMap::new();
        let mut literals: Vec<String> = Vec::new();
        let mut ac_targets: Vec<Vec<Target>> = Vec::new();
        let mut add_one = |lit: String, target: Target| {
            let id = *literal_ids.entry(lit.clone()).or_insert_with(|| {
                literals.push(lit);
                ac_targets.push(Vec::new());
                literals.len() - 1
            });
            if !ac_targets[id].contains(&target) {
                ac_targets[id].push(target);
            }
        };
        // A word written in katakana is also typed in hiragana (3Dせきゅあ, くれか,
        // くいっくぺい): the hiragana spelling is added beside it, so the message needs no
        // second folding pass.
        let mut add_literal = |lit: String, target: Target| {
            for v in typed_spellings(&lit) {
                add_one(v, target);
            }
            for v in dakuten_slips(&lit) {
                add_one(v, target);
            }
            for v in small_kana_slips(&lit) {
                add_one(v, target);
            }
            add_one(lit, target);
        };
        let mut set_sources: Vec<String> = Vec::new();
        let mut set_targets: Vec<Target> = Vec::new();
        let mut family_regex = HashMap::new();
        let mut known_codes = HashSet::new();
        let mut codes_by_len: HashMap<usize, Vec<(String, u32, u16)>> = HashMap::new();
        let mut grams: HashMap<u64, Vec<u32>> = HashMap::new();
        let mut card_groups = Vec::new();
        let mut over_groups = Vec::new();

        for (literal, marker) in marker_literals() {
            add_literal(literal, Target::AmountMarker { marker });
        }

        for (ii, issuer) in issuers.iter().enumerate() {
            for alias in &issuer.aliases {
                add_literal(alias.clone(), Target::Card { issuer: ii as u16 });
            }
            for phrase in &issuer.not_in {
                add_literal(phrase.clone(), Target::CardNot { issuer: ii as u16 });
            }
        }
        for (ei, e) in entries.iter().enumerate() {
            let entry = ei as u32;
            for (ci, code) in e.codes.iter().enumerate() {
                let c = compact(code);
                known_codes.insert(c.clone());
                codes_by_len.entry(c.chars().count()).or_default().push((
                    c.clone(),
                    entry,
                    ci as u16,
                ));
                let target = Target::Code {
                    entry,
                    code: ci as u16,
                };
                for part in partial_code_forms(&c) {
                    add_literal(
                        part,
                        Target::PartialCode {
                            entry,
                            code: ci as u16,
                        },
                    );
                }
                add_literal(c, target);
            }
            for (pi, p) in e.patterns.iter().enumerate() {
                let target = Target::Pattern {
                    entry,
                    pattern: pi as u16,
                };
                match classify_pattern(p) {
                    Prepared::Literal(l) => {
                        // A dialog shown in katakana only (ﾎﾝﾆﾝﾆﾝｼｮｳﾆﾌｾｲ), as terminals and
                        // older screens print it.
                        if let Some(k) = super::kana::hiragana_reading(&l) {
                            add_literal(hiragana_to_katakana(&k), target);
                        }
                        add_literal(l, target)
                    }
                    Prepared::Regex(r) => {
                        set_sources.push(r);
                        set_targets.push(target);
                    }
                }
            }
            for (pi, p) in e.family_patterns.iter().enumerate() {
                let source = match classify_pattern(p) {
                    Prepared::Regex(r) => r,
                    Prepared::Literal(l) => regex::escape(&l),
                };
                if let Ok(re) = compile_regex(&source) {
                    family_regex.insert(set_sources.len(), re);
                    set_sources.push(source);
                    set_targets.push(Target::Family {
                        entry,
                        pattern: pi as u16,
                    });
                }
            }
            for (gi, group) in e.keywords.iter().enumerate() {
                let target = Target::Keyword {
                    entry,
                    group: gi as u16,
                };
                for alt in group {
                    if alt == CARD_KEYWORD {
                        card_groups.push((entry, gi as u16));
                        continue;
                    }
                    if let Some(n) = crate::knowledge::amount_over(alt) {
                        over_groups.push((entry, gi as u16, n));
                        continue;
                    }
                    if alt == FAILURE_GROUP {
                        for w in super::intent::FAILURE {
                            let w = compact(w);
                            for form in super::intent::inflections(&w) {
                                add_literal(form, target);
                            }
                            add_literal(w, target);
                        }
                        continue;
                    }
                    for form in super::intent::inflections(alt) {
                        add_literal(form, target);
                    }
                    add_literal(alt.clone(), target);
                }
            }
            // Free-text vocabulary: what a person would type to find this entry.
            let mut vocab = String::new();
            vocab.push_str(&e.title.ja);
            if let Some(en) = &e.title.en {
                vocab.push(' ');
                vocab.push_str(en);
            }
            for s in e.services.iter().chain(&e.codes) {
                vocab.push(' ');
                vocab.push_str(s);
            }
            let mut g = bigrams(&compact(&vocab));
            for alt in e.keywords.iter().flatten() {
                if alt == CARD_KEYWORD {
                    // The card names are this entry's vocabulary too (楽天カード 3Dセキュア).
                    for alias in issuers.iter().flat_map(|i| &i.aliases) {
                        g.extend(bigrams(alias));
                    }
                } else {
                    // Not its kana spellings: hiragana bigrams (にち, しょ) are in every
                    // greeting, and "こんにちは" in a DM found an entry by them.
                    g.extend(bigrams(alt));
                }
            }
            g.sort_unstable();
            g.dedup();
            for gram in g {
                grams.entry(gram).or_default().push(entry);
            }
        }

        // Several sets of at most `set_chunk` regexes, not one: with tens of thousands of
        // regexes one set's lazy DFA outgrows its cache and the search falls back to the
        // PikeVM (50,000 entries: ~260 ms a message instead of ~0.1 ms; see bench/README.md),
        // and one huge set takes several times longer to build. Each set scans the text once,
        // so the chunk is as large as stays clear of that cliff. All or nothing, as before.
        // Compiling them is most of a large pack's build: it runs on a second thread while
        // this one builds the automata (a 10,000-entry build on 2 cores: about a fifth less).
        let (sets_thread, sets_here) = if set_sources.len() >= PARALLEL_SETS {
            let thread = std::thread::spawn(move || build_sets(&set_sources, set_chunk));
            (Some(thread), None)
        } else {
            (None, Some(build_sets(&set_sources, set_chunk)))
        };
        let ac_keyword_df = ac_targets
            .iter()
            .map(|targets| {
                let mut entries: Vec<u32> = targets
                    .iter()
                    .filter_map(|t| match t {
                        Target::Keyword { entry, .. } => Some(*entry),
                        _ => None,
                    })
                    .collect();
                entries.sort_unstable();
                entries.dedup();
                entries.len().clamp(1, usize::from(u16::MAX)) as u16
            })
            .collect();
        let mut folded: Vec<String> = Vec::new();
        let mut folded_targets = Vec::new();
        for (ei, e) in entries.iter().enumerate() {
            for (ci, code) in e.codes.iter().enumerate() {
                folded.push(fold_code(&compact(code)).0);
                folded_targets.push((ei as u32, ci as u16));
            }
        }
        let shortest_code = folded.iter().map(String::len).min().unwrap_or(0);
        let folded_codes = (!folded.is_empty()).then(|| {
            let ac = AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .build(&folded)
                .expect("code automaton within size limits");
            (ac, folded_targets)
        });
        let ac = (!literals.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .match_kind(MatchKind::Standard)
                .build(&literals)
                .expect("literal automaton within size limits")
        });
        let sets = match (sets_thread, sets_here) {
            (Some(thread), _) => thread.join().unwrap_or_else(|_| {
                tracing::error!("the regex set builder panicked; regex patterns are off");
                Ok(Vec::new())
            }),
            (None, Some(sets)) => sets,
            (None, None) => Ok(Vec::new()),
        };
        let sets = match sets {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "the regex set could not be built; regex patterns are off");
                Vec::new()
            }
        };
        let kanji_slips = kanji_slip_sources(&literals, &ac_targets);
        let ascii_words = literals
            .iter()
            .filter(|l| l.bytes().all(|b| b.is_ascii_lowercase()))
            .cloned()
            .collect();
        let ac_not_after = literals
            .iter()
            .map(|l| {
                NOT_AFTER
                    .iter()
                    .find(|(w, _)| w == l)
                    .map_or(&[][..], |&(_, before)| before)
            })
            .collect();
        Index {
            ac,
            ac_targets,
            ac_keyword_df,
            ac_not_after,
            folded_codes,
            shortest_code,
            sets,
            set_chunk,
            set_targets,
            family_regex,
            known_codes,
            codes_by_len,
            grams,
            card_groups,
            over_groups,
            kanji_slips,
            ascii_words,
        }
    }

    /// Whether the pack spells `word` (lowercase ASCII letters) as one of its literals.
    pub(crate) fn knows_ascii_word(&self, word: &str) -> bool {
        self.ascii_words.contains(word)
    }

    /// Adds the `@over:N` groups that `amount` (the amount the message is about) satisfies
    /// to the hits of a scan, once the amount is known.
    pub(crate) fn amount_groups(&self, hits: &mut Vec<EntryHits>, amount: Option<u64>) {
        let Some(amount) = amount else {
            return;
        };
        let df = self.over_groups.len().clamp(1, usize::from(u16::MAX)) as u16;
        for &(entry, group, n) in &self.over_groups {
            if amount > n {
                let i = slot(hits, entry);
                if !hits[i].keywords.contains(&group) {
                    hits[i].keywords.push(group);
                    hits[i].keyword_df.push(df);
                }
            }
        }
    }

    /// One pass over the compact text: every entry with any hit, and the cards named.
    pub(crate) fn scan(&self, compact: &str, spaced: &str) -> Scan {
        let mut hits: Vec<EntryHits> = Vec::new();
        // (issuer, start, end) in the compact text; kept apart until the `not_in` phrases
        // are known. Both stay empty for a pack without an issuer table.
        let mut card_spans: Vec<(u16, usize, usize)> = Vec::new();
        let mut not_spans: Vec<(u16, usize, usize)> = Vec::new();
        let mut amount_markers = 0u16;

        // Compact offsets where the spaced text had a space: word boundaries the compact form
        // hides. Computed on the first ASCII literal that needs them.
        let mut gaps: Option<Vec<usize>> = None;
        let mut any_code = false;
        if let Some(ac) = &self.ac {
            let bytes = compact.as_bytes();
            for m in ac.find_overlapping_iter(compact) {
                // An ASCII end of a literal must stand on a word boundary ("charge" is not in
                // "recharge"); the gaps are computed only for such literals.
                let ascii_edge = bytes[m.start()].is_ascii_alphanumeric()
                    || bytes[m.end() - 1].is_ascii_alphanumeric();
                let mut word_ok = |endings: bool| {
                    !ascii_edge || {
                        let gaps = gaps.get_or_insert_with(|| space_gaps(spaced));
                        ascii_word_ok(bytes, gaps, m.start(), m.end(), endings)
                    }
                };
                for &t in &self.ac_targets[m.pattern().as_usize()] {
                    let words = matches!(t, Target::Pattern { .. } | Target::Keyword { .. });
                    if words && !word_ok(true) {
                        continue;
                    }
                    match t {
                        Target::Code { entry, code } => {
                            let ok = code_boundary_ok(bytes, m.start(), m.end())
                                || occurs_as_code(spaced, &compact[m.start()..m.end()]);
                            if ok {
                                any_code = true;
                                let i = slot(&mut hits, entry);
                                push_unique(&mut hits[i].codes, code);
                            }
                        }
                        Target::Pattern { entry, pattern } => {
                            let i = slot(&mut hits, entry);
                            push_unique(&mut hits[i].patterns, pattern);
                        }
                        // A whole word: "MW1M02AJ0004" is a sibling code, not this tail.
                        Target::PartialCode { entry, code } => {
                            if word_ok(false) {
                                let i = slot(&mut hits, entry);
                                push_unique(&mut hits[i].partial, code);
                            }
                        }
                        Target::Keyword { entry, group } => {
                            let before = self.ac_not_after[m.pattern().as_usize()];
                            if before.iter().any(|b| compact[..m.start()].ends_with(b)) {
                                continue;
                            }
                            let i = slot(&mut hits, entry);
                            let df = self.ac_keyword_df[m.pattern().as_usize()];
                            let span = (group, m.start(), m.end(), df);
                            if !hits[i].spans.contains(&span) {
                                hits[i].spans.push(span);
                            }
                        }
                        Target::Card { issuer } => {
                            if word_ok(false) {
                                card_spans.push((issuer, m.start(), m.end()));
                            }
                        }
                        Target::CardNot { issuer } => not_spans.push((issuer, m.start(), m.end())),
                        Target::AmountMarker { marker } => amount_markers |= 1 << marker,
                        Target::Family { .. } => {}
                    }
                }
            }
        }
        // A keyword typed with one kanji of the same reading (本人任証): counted as the
        // keyword. Only text with a kanji run long enough can hold one.
        if let Some((re, lits)) = &self.kanji_slips {
            for m in re.find_iter(compact) {
                let typed: Vec<char> = m.as_str().chars().collect();
                let Some(&(lit, _)) = lits.iter().find(|(_, l)| one_kanji_apart(l, &typed)) else {
                    continue;
                };
                for &t in &self.ac_targets[lit] {
                    if let Target::Keyword { entry, group } = t {
                        let i = slot(&mut hits, entry);
                        let span = (group, m.start(), m.end(), self.ac_keyword_df[lit]);
                        if !hits[i].spans.contains(&span) {
                            hits[i].spans.push(span);
                        }
                    }
                }
            }
        }
        // A code retyped from a screenshot (O for 0, a hyphen inside): only when no code was
        // found as typed, and only in text with a digit, so chat without codes pays nothing.
        if let Some((fac, targets)) = &self.folded_codes {
            if !any_code && has_code_like_run(compact.as_bytes(), self.shortest_code) {
                let (folded, origin) = fold_code(compact);
                let fb = folded.as_bytes();
                let gaps = gaps.get_or_insert_with(|| space_gaps(spaced));
                for m in fac.find_overlapping_iter(&folded) {
                    // On its own: not glued to more letters or digits, unless a space was there.
                    let start = origin[m.start()];
                    let end = origin[m.end() - 1] + 1;
                    let ok = (m.start() == 0
                        || !fb[m.start() - 1].is_ascii_alphanumeric()
                        || gaps.binary_search(&start).is_ok())
                        && (m.end() == fb.len()
                            || !fb[m.end()].is_ascii_alphanumeric()
                            || gaps.binary_search(&end).is_ok());
                    if ok {
                        let (entry, code) = targets[m.pattern().as_usize()];
                        let i = slot(&mut hits, entry);
                        push_unique(&mut hits[i].codes, code);
                        push_unique(&mut hits[i].retyped, code);
                    }
                }
            }
        }
        for (k, set) in self.sets.iter().enumerate() {
            let matched = set.matches(compact);
            // Iterating the matches walks a flag per regex of the set: skip that when none hit.
            if !matched.matched_any() {
                continue;
            }
            for si in matched.iter().map(|i| k * self.set_chunk + i) {
                match self.set_targets[si] {
                    Target::Pattern { entry, pattern } => {
                        let i = slot(&mut hits, entry);
                        push_unique(&mut hits[i].patterns, pattern);
                    }
                    Target::Family { entry, pattern } => {
                        let Some(re) = self.family_regex.get(&si) else {
                            continue;
                        };
                        for m in re.find_iter(compact) {
                            let found = m.as_str().to_string();
                            if !self.known_codes.contains(&found) {
                                let i = slot(&mut hits, entry);
                                if !hits[i]
                                    .families
                                    .iter()
                                    .any(|(p, f)| *p == pattern && *f == found)
                                {
                                    hits[i].families.push((pattern, found));
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        let cards = named_cards(card_spans.clone(), &not_spans);
        if !cards.is_empty() {
            let df = self.card_groups.len().clamp(1, usize::from(u16::MAX)) as u16;
            for &(entry, group) in &self.card_groups {
                let i = slot(&mut hits, entry);
                for &(issuer, start, end) in &card_spans {
                    if cards.contains(&issuer) {
                        hits[i].spans.push((group, start, end, df));
                    }
                }
            }
        }
        for h in &mut hits {
            assign_groups(h);
        }
        Scan {
            entries: hits,
            cards,
            amount_markers,
        }
    }

    /// Known codes within a small edit distance of `token` (compact form): (entry, code, distance).
    pub(crate) fn near_codes(&self, token: &str) -> Vec<(u32, u16, usize)> {
        let len = token.chars().count();
        let max = if len >= 10 { 2 } else { 1 };
        let mut out = Vec::new();
        for l in len.saturating_sub(max)..=len + max {
            let Some(codes) = self.codes_by_len.get(&l) else {
                continue;
            };
            for (code, entry, ci) in codes {
                if let Some(d) = bounded_levenshtein(token, code, max) {
                    if d > 0 {
                        out.push((*entry, *ci, d));
                    }
                }
            }
        }
        out
    }

    pub(crate) fn is_known_code(&self, compact: &str) -> bool {
        self.known_codes.contains(compact)
    }

    /// For each entry sharing bigrams with the query, the share of the query's bigrams it has.
    pub(crate) fn similar(&self, query_grams: &[u64]) -> HashMap<u32, f64> {
        let mut counts: HashMap<u32, u32> = HashMap::new();
        for g in query_grams {
            if let Some(entries) = self.grams.get(g) {
                for &e in entries {
                    *counts.entry(e).or_default() += 1;
                }
            }
        }
        let total = query_grams.len().max(1) as f64;
        counts
            .into_iter()
            .map(|(e, c)| (e, f64::from(c) / total))
            .collect()
    }
}

/// The compact byte offsets where `spaced` had a space (sorted).
pub(crate) fn space_gaps(spaced: &str) -> Vec<usize> {
    // A dropped bracket is a boundary too: "[charge]" holds the word "charge". Read as bytes:
    // the dropped characters are ASCII or three-byte 「」『』“”, and decoding every character
    // of a long paste cost more than the rest of the judgement (bench/callgrind.sh).
    let b = spaced.as_bytes();
    let mut gaps = Vec::new();
    let mut removed = 0;
    let mut i = 0;
    while i < b.len() {
        let width = match b[i] {
            b' ' | b'[' | b']' | b'"' => 1,
            // 「」『』 (U+300C..U+300F) and “” (U+201C, U+201D).
            0xE3 if b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0x8C..=0x8F)) => 3,
            0xE2 if b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0x9C | 0x9D)) => 3,
            _ => 0,
        };
        if width == 0 {
            i += 1;
            continue;
        }
        if gaps.last() != Some(&(i - removed)) {
            gaps.push(i - removed);
        }
        removed += width;
        i += width;
    }
    debug_assert!(spaced
        .chars()
        .filter(|&c| super::normalize::dropped(c))
        .all(|c| c.is_ascii() || c.len_utf8() == 3));
    gaps
}

/// English endings a word may take after an ASCII keyword ("charge" in "charged", "fail"
/// in "failing"); any other letters after it make it part of another word ("3ds" in
/// "3dsmax").
const SUFFIXES: &[&[u8]] = &[b"s", b"es", b"d", b"ed", b"ing", b"er", b"ers"];

/// Whether an ASCII word that ends at compact offset `end` ends there or goes on only with
/// an English ending.
fn ascii_word_end(compact: &[u8], end: usize, gaps: &[usize]) -> bool {
    if ascii_boundary(compact, end, gaps) {
        return true;
    }
    let mut stop = end;
    while stop < compact.len()
        && compact[stop].is_ascii_alphanumeric()
        && (stop == end || gaps.binary_search(&stop).is_err())
    {
        stop += 1;
    }
    SUFFIXES.contains(&&compact[end..stop])
}

/// Whether compact offset `at` is an ASCII word boundary: no ASCII letter or digit on one
/// side of it, or a space there before the spaces were removed.
fn ascii_boundary(compact: &[u8], at: usize, gaps: &[usize]) -> bool {
    at == 0
        || at >= compact.len()
        || !compact[at - 1].is_ascii_alphanumeric()
        || !compact[at].is_ascii_alphanumeric()
        || gaps.binary_search(&at).is_ok()
}

/// Whether `compact` has a run of ASCII letters, digits and code separators at least `min`
/// long with a digit in it: only then can a retyped code be there, so most chat skips the
/// folding.
fn has_code_like_run(compact: &[u8], min: usize) -> bool {
    let mut run = 0;
    let mut digit = false;
    for &b in compact {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_') {
            run += 1;
            digit |= b.is_ascii_digit();
            if run >= min && digit {
                return true;
            }
        } else {
            run = 0;
            digit = false;
        }
    }
    false
}

/// Folds characters people mistake for one another when they retype a code from a
/// screenshot (O->0, I and L->1, S->5, B->8) and drops hyphens, dots and underscores.
/// Returns the folded text and, for each of its bytes, the offset of the byte it came from.
pub(crate) fn fold_code(compact: &str) -> (String, Vec<usize>) {
    let mut out = String::with_capacity(compact.len());
    let mut origin = Vec::with_capacity(compact.len());
    for (i, c) in compact.char_indices() {
        let f = match c {
            'o' => '0',
            'i' | 'l' => '1',
            's' => '5',
            'b' => '8',
            '-' | '.' | '_' | '\u{2010}'..='\u{2015}' | '\u{2212}' | 'ー' => continue,
            // Codes are ASCII: any other character only ends one, and one byte does that
            // (three bytes of kanji made the folded copy of a Japanese message 3x longer).
            c if !c.is_ascii() => '\0',
            c => c,
        };
        let start = out.len();
        out.push(f);
        origin.extend(std::iter::repeat_n(i, out.len() - start));
    }
    (out, origin)
}

/// The issuers named, in the order first named, leaving out an alias that lies inside one of
/// that issuer's `not_in` phrases (楽天 inside 楽天市場).
fn named_cards(mut spans: Vec<(u16, usize, usize)>, not: &[(u16, usize, usize)]) -> Vec<u16> {
    spans.sort_by_key(|&(_, start, end)| (start, std::cmp::Reverse(end)));
    let mut out = Vec::new();
    for (issuer, start, end) in spans {
        let excluded = not
            .iter()
            .any(|&(i, s, e)| i == issuer && s <= start && end <= e);
        if !excluded && !out.contains(&issuer) {
            out.push(issuer);
        }
    }
    out
}

/// Whether a match that starts or ends with an ASCII letter or digit stands as a word there,
/// judged on the text before white space was removed (`gaps`, from [`space_gaps`]): `visa`
/// in `my visa card`, not `jcb` in `jcbx` or `amex` in `examexam`. Japanese on either side
/// is a boundary (`JCBで`). With `endings`, an English ending may follow (`charged`).
pub(crate) fn ascii_word_ok(
    compact: &[u8],
    gaps: &[usize],
    start: usize,
    end: usize,
    endings: bool,
) -> bool {
    let word = &compact[start..end];
    let check_start = word.first().is_some_and(u8::is_ascii_alphanumeric);
    let check_end = word.last().is_some_and(u8::is_ascii_alphanumeric);
    (!check_start || ascii_boundary(compact, start, gaps))
        && (!check_end
            || if endings {
                ascii_word_end(compact, end, gaps)
            } else {
                ascii_boundary(compact, end, gaps)
            })
}

/// How people retype part of a long code: its last letters and digits ("AJ0004" of
/// "MW1M01AJ0004"), or its last digits said to be its end ("末尾0004", "ending in 0004").
/// Only for codes of 10 or more characters, and only a tail with a letter in it or named as
/// the end, so a bare "0004" (an amount, a PIN) is never a code.
fn partial_code_forms(code: &str) -> Vec<String> {
    let bytes = code.as_bytes();
    if bytes.len() < 10 || !code.is_ascii() {
        return Vec::new();
    }
    let digits = bytes
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits < 3 {
        return Vec::new();
    }
    let letters = bytes[..bytes.len() - digits]
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    let tail_digits = &code[code.len() - digits..];
    let mut out = Vec::new();
    let tail = &code[code.len() - digits - letters..];
    if letters > 0 && tail.len() >= 6 && tail.len() < code.len() {
        out.push(tail.to_string());
    }
    for lead in ["末尾", "末尾が", "最後が", "endingin", "endsin", "endswith"] {
        out.push(format!("{lead}{tail_digits}"));
    }
    out.push(format!("下{digits}桁{tail_digits}"));
    out.push(format!("下{digits}桁が{tail_digits}"));
    out
}

/// A code must not be the middle of a longer code: `MW1M01AJ00045` is not `MW1M01AJ0004`.
/// Spaces are gone in the compact text, so only a digit after a trailing digit (or a letter
/// before a leading letter) counts as "longer"; `MW1M01AJ0004JAL Pay` still matches.
fn code_boundary_ok(text: &[u8], start: usize, end: usize) -> bool {
    let same_class = |a: u8, b: u8| {
        (a.is_ascii_digit() && b.is_ascii_digit())
            || (a.is_ascii_alphabetic() && b.is_ascii_alphabetic())
    };
    let before_ok = start == 0 || !same_class(text[start - 1], text[start]);
    let after_ok = end >= text.len() || !same_class(text[end - 1], text[end]);
    before_ok && after_ok
}

/// Whether `code` stands on its own somewhere in the spaced text, for a code that the
/// compact text glued to a neighbour (`MW1M01AJ0004 2025年` is `…00042025年` compacted).
fn occurs_as_code(spaced: &str, code: &str) -> bool {
    let bytes = spaced.as_bytes();
    spaced
        .match_indices(code)
        .any(|(i, m)| code_boundary_ok(bytes, i, i + m.len()))
}

/// Levenshtein distance if it is at most `max`.
fn bounded_levenshtein(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            row_min = row_min.min(cur[j]);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    (prev[b.len()] <= max).then_some(prev[b.len()])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_regexes_are_told_apart() {
        assert_eq!(
            prepare_pattern("本人認証に不正"),
            Ok(Prepared::Literal("本人認証に不正".into()))
        );
        assert_eq!(
            prepare_pattern("ｾｯｼｮﾝ"),
            Ok(Prepared::Literal("セッション".into()))
        );
        assert!(matches!(
            prepare_pattern(r"MW1M01AJ\d{4}"),
            Ok(Prepared::Regex(_))
        ));
    }

    #[test]
    fn bad_patterns_say_why() {
        assert!(prepare_pattern("(")
            .unwrap_err()
            .contains("does not compile"));
        assert!(prepare_pattern(".*").unwrap_err().contains("empty text"));
        assert!(prepare_pattern(r"a\sb")
            .unwrap_err()
            .contains("white space"));
        assert!(prepare_pattern(r"\bjal").unwrap_err().contains("\\b"));
        assert!(prepare_pattern("  ").unwrap_err().contains("empty"));
        assert!(prepare_pattern(r"\w{1000}{1000}")
            .unwrap_err()
            .contains("too large"));
    }

    #[test]
    fn regexes_past_the_first_set_are_found() {
        // Sets of 100 regexes: entry 303's regex is the 102nd, in the second set.
        let entries = crate::synthetic::entries(310);
        let index = Index::build_chunked(&entries, &[], 100);
        assert_eq!(index.sets.len(), 2);
        let text = "err303-1234-x";
        let hits = index.scan(text, text).entries;
        let entries: Vec<(u32, Vec<u16>)> =
            hits.iter().map(|h| (h.entry, h.patterns.clone())).collect();
        assert_eq!(entries, vec![(303, vec![1])]);
        let text = "err3-1234-x";
        let hits = index.scan(text, text).entries;
        assert_eq!(hits.iter().map(|h| h.entry).collect::<Vec<_>>(), vec![3]);
    }

    #[test]
    fn space_gaps_read_as_bytes_agree_with_the_characters() {
        let by_chars = |spaced: &str| {
            let mut gaps = Vec::new();
            let mut removed = 0;
            for (i, c) in spaced.char_indices() {
                if crate::normalize::dropped(c) {
                    if gaps.last() != Some(&(i - removed)) {
                        gaps.push(i - removed);
                    }
                    removed += c.len_utf8();
                }
            }
            gaps
        };
        for text in [
            "jal pay で 「本人認証に[不正]が検知」 “charge” failed",
            "『カード有効化完了』 のお知らせ",
            "「」『』“” ",
            "no gaps here",
            "\u{3001}、。・ー〜 (not dropped)",
            "",
        ] {
            let spaced = crate::matcher::normalize(text).spaced;
            assert_eq!(space_gaps(&spaced), by_chars(&spaced), "{text:?}");
        }
    }

    #[test]
    fn code_boundaries() {
        let t = b"xmw1m01aj00045";
        assert!(!code_boundary_ok(t, 1, 13));
        let t = b"mw1m01aj0004jalpay";
        assert!(code_boundary_ok(t, 0, 12));
        let t = b"(mw1m01aj0004)";
        assert!(code_boundary_ok(t, 1, 13));
    }

    /// What one generated entry, changed by `edit`, hits in each text: `pick` reads the
    /// part of the hits a test is about.
    fn one_entry_hits(
        edit: impl FnOnce(&mut Entry),
        pick: impl Fn(&EntryHits) -> Vec<u16>,
    ) -> impl Fn(&str) -> Vec<u16> {
        let mut e = crate::synthetic::entries(1).remove(0);
        edit(&mut e);
        let index = Index::build(std::slice::from_ref(&e), &[]);
        move |text: &str| {
            let n = crate::matcher::normalize(text);
            index
                .scan(&n.compact, &n.spaced)
                .entries
                .first()
                .map_or(Vec::new(), &pick)
        }
    }

    #[test]
    fn ascii_keywords_match_whole_words_only() {
        let hit = one_entry_hits(
            |e| e.keywords = vec![vec!["charge".into()], vec!["jalpay".into()]],
            |h| h.keywords.clone(),
        );
        assert_eq!(hit("I want to recharge it"), Vec::<u16>::new());
        assert_eq!(
            hit("charged twice"),
            vec![0],
            "an English ending is the same word"
        );
        assert_eq!(hit("chargeback"), Vec::<u16>::new());
        assert_eq!(hit("the charge failed"), vec![0]);
        assert_eq!(hit("I use JAL Pay"), vec![1]);
        assert_eq!(hit("JAL Payでchargeできない"), vec![1, 0]);
        assert_eq!(hit("myjalpay"), Vec::<u16>::new());
    }

    #[test]
    fn one_word_counts_for_one_group_only() {
        let hit = one_entry_hits(
            |e| {
                e.keywords = vec![
                    vec!["顔認証".into(), "sms".into()],
                    vec!["本人認証".into()],
                    vec!["届かない".into(), "顔認証".into()],
                ]
            },
            |h| {
                let mut k = h.keywords.clone();
                k.sort_unstable();
                k
            },
        );
        // 顔認証 is in groups 0 and 2: once in the text, it is one of them.
        assert_eq!(hit("本人認証って顔認証のこと？").len(), 2);
        // Twice in the text, or with another word of the other group: both.
        assert_eq!(hit("本人認証の顔認証、顔認証が反応しない"), vec![0, 1, 2]);
        assert_eq!(hit("本人認証のSMS、顔認証も"), vec![0, 1, 2]);
        // The group with fewer places chooses first, so SMS + 顔認証 fill 0 and 2.
        assert_eq!(hit("SMSも顔認証も"), vec![0, 2]);
        // A word inside a longer word of another group still counts for its own group.
        let hit = one_entry_hits(
            |e| e.keywords = vec![vec!["カード".into()], vec!["カード設定".into()]],
            |h| h.keywords.clone(),
        );
        assert_eq!(hit("カード設定で失敗"), vec![0, 1]);
    }

    #[test]
    fn codes_retyped_from_a_screenshot_are_found() {
        let codes = one_entry_hits(
            |e| e.codes = vec!["MW1M01AJ0004".into()],
            |h| h.codes.clone(),
        );
        for typed in [
            "MWIMOIAJOOO4",
            "MW1M0lAJ0004",
            "MW1M01AJ-0004",
            "mw1m01aj 0004",
            "エラーMW-1M01-AJ0004です",
        ] {
            assert_eq!(codes(typed), vec![0], "{typed}");
        }
        // A real digit differs: not this code.
        for other in ["MW1M01AJ0005", "MW1M01AJ00045", "XMW1M01AJ0004"] {
            assert_eq!(codes(other), Vec::<u16>::new(), "{other}");
        }
    }

    #[test]
    fn ascii_aliases_match_whole_words_only() {
        let n = |t: &str| crate::normalize::normalize(t);
        let ok = |text: &str, alias: &str| {
            let t = n(text);
            let start = t.compact.find(alias).expect("alias in text");
            let gaps = space_gaps(&t.spaced);
            ascii_word_ok(
                t.compact.as_bytes(),
                &gaps,
                start,
                start + alias.len(),
                false,
            )
        };
        assert!(ok("my visa card", "visa"));
        assert!(ok("VISAで払えない", "visa"));
        assert!(!ok("jcbx", "jcb"));
        assert!(!ok("examex am", "amex"));
        assert!(ok("rakuten card", "rakutencard"));
        assert!(!ok("and カード", "dカード"));
        assert!(ok("dカード", "dカード"));
        assert!(ok("楽天カード", "楽天カード"));
    }

    #[test]
    fn not_in_phrases_hide_an_alias() {
        // 楽天 (0..6) inside 楽天市場 (0..12) is not the card; a later 楽天 is.
        assert_eq!(
            named_cards(vec![(3, 0, 6)], &[(3, 0, 12)]),
            Vec::<u16>::new()
        );
        assert_eq!(
            named_cards(vec![(3, 0, 6), (3, 20, 26)], &[(3, 0, 12)]),
            vec![3]
        );
        assert_eq!(named_cards(vec![(5, 9, 12), (3, 0, 6)], &[]), vec![3, 5]);
    }

    #[test]
    fn levenshtein_is_bounded() {
        assert_eq!(
            bounded_levenshtein("mw1m01aj004", "mw1m01aj0004", 2),
            Some(1)
        );
        assert_eq!(bounded_levenshtein("abc", "abc", 1), Some(0));
        assert_eq!(bounded_levenshtein("abcdef", "uvwxyz", 2), None);
    }

    /// How many of the keyword groups `groups` (one word each) a text is found to hold.
    fn keyword_groups(groups: &[&str]) -> impl Fn(&str) -> usize {
        let mut e = crate::synthetic::entries(1).remove(0);
        e.keywords = groups.iter().map(|g| vec![g.to_string()]).collect();
        let index = Index::build(&[e], &[]);
        move |text| {
            let n = crate::matcher::normalize(text);
            index
                .scan(&n.compact, &n.spaced)
                .entries
                .first()
                .map_or(0, |h| h.keywords.len())
        }
    }

    #[test]
    fn katakana_words_are_found_in_hiragana_too() {
        assert_eq!(
            hiragana_spelling("3dセキュア").as_deref(),
            Some("3dせきゅあ")
        );
        assert_eq!(
            hiragana_spelling("セッションタイムアウト").as_deref(),
            Some("せっしょんたいむあうと")
        );
        // Short words in hiragana are everyday words; kanji and ASCII are left alone.
        assert_eq!(hiragana_spelling("マイル"), None);
        assert_eq!(hiragana_spelling("本人認証"), None);
        let hits = keyword_groups(&["セッションタイムアウト", "登録"]);
        assert_eq!(hits("せっしょんたいむあうとで登録できない"), 2);
        assert_eq!(hits("セッションタイムアウトで登録できない"), 2);
        assert_eq!(hits("たいむで登録"), 1);
    }

    #[test]
    fn a_keyword_inside_an_everyday_word_is_not_the_keyword() {
        let groups = keyword_groups(&["3dセキュア", "とは"]);
        assert_eq!(groups("3Dセキュアとは"), 2);
        assert_eq!(groups("3Dセキュアで弾かれたことは一度もない"), 1);
    }

    #[test]
    fn a_kanji_word_is_found_with_one_conversion_slip() {
        let found = keyword_groups(&["回数制限", "本人認証サービス", "登録"]);
        assert_eq!(found("回数性限で登録できない"), 2);
        assert_eq!(found("本人任証サービスに登録"), 2);
        // Two kanji changed is another text; a two-kanji word has no slips (登録 vs 登山).
        assert_eq!(found("回数性現で登山"), 0);
        // A kanji only at the edge of kana is not swapped (サービス stays).
        assert_eq!(found("本人認証サービ"), 0);
    }

    #[test]
    fn a_long_katakana_word_is_found_with_one_dakuten_slip() {
        let slips = dakuten_slips("セッションタイムアウト");
        assert!(slips.contains(&"セッションタイムアウド".to_string()));
        assert!(slips.contains(&"ゼッションタイムアウト".to_string()));
        assert!(!slips.iter().any(|s| s == "セッションタイムアウト"));
        // Short words have none: カード is not ガード.
        assert!(dakuten_slips("カード").is_empty());
        assert!(dakuten_slips("本人認証に不正").is_empty());
    }

    #[test]
    fn a_long_katakana_word_is_found_with_its_small_letters_misread() {
        assert_eq!(
            small_kana_slips("セッションタイムアウト"),
            ["セションタイムアウト", "セツシヨンタイムアウト"]
        );
        // Short words, and words without small letters, have none.
        assert!(small_kana_slips("チャージ").is_empty());
        assert!(small_kana_slips("ワンタイムパスワード").is_empty());
        let groups = keyword_groups(&["セッションタイムアウト"]);
        assert_eq!(groups("セションタイムアウトが出た"), 1);
    }
}
