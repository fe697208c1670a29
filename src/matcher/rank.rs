//! Ranking: turns raw hits into scored, explained candidates.
//!
//! Evidence weighs exact code > strong pattern > near-miss code > family pattern > keywords >
//! text similarity. The weights are chosen so one exact code always outranks any number of
//! weaker hits on another entry, which keeps family patterns from ever outranking the exact
//! entry.

use std::collections::HashMap;

use super::index::Index;
use super::index::{bigrams, EntryHits};
use super::{Evidence, Match, Mode, Normalized, MAX_CANDIDATES};
use crate::knowledge::{Entry, Issuer, CARD_KEYWORD};

const CODE: f64 = 100.0;
const PATTERN: f64 = 60.0;
const EXTRA_PATTERN: f64 = 5.0;
const NEAR_CODE: f64 = 45.0;
const FAMILY: f64 = 25.0;
const KEYWORD: f64 = 8.0;
const SIMILAR: f64 = 20.0;
/// Below this share of the query's bigrams, similarity is noise.
const MIN_SIMILAR: f64 = 0.4;

#[derive(Default)]
struct Acc {
    evidence: Vec<Evidence>,
    score: f64,
    strong: bool,
    family: bool,
    /// Only the tail of a listed code was found.
    partial: bool,
    keyword_groups: usize,
    /// Which keyword groups were found (indexes into the entry's `keywords`).
    keyword_hits: Vec<u16>,
    near: bool,
}

/// Alphanumeric tokens that look like an error code (letters and digits, 6 to 24 long).
fn code_like_tokens(spaced: &str) -> impl Iterator<Item = &str> {
    spaced
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| {
            (6..=24).contains(&t.len())
                && t.bytes().any(|b| b.is_ascii_digit())
                && t.bytes().any(|b| b.is_ascii_alphabetic())
        })
        .take(16)
}

/// `cards` are the issuers the text names (indexes into [`Pack::issuers`]), shown as the
/// keyword found for a `@card` group.
pub(super) fn rank(
    entries: &[Entry],
    issuers: &[Issuer],
    index: &Index,
    hits: Vec<EntryHits>,
    cards: &[u16],
    n: &Normalized,
    mode: Mode,
) -> Vec<Match> {
    let mut accs: HashMap<u32, Acc> = HashMap::new();
    let mut order: Vec<u32> = Vec::new();

    for h in hits {
        let e = &entries[h.entry as usize];
        let acc = accs.entry(h.entry).or_default();
        if !order.contains(&h.entry) {
            order.push(h.entry);
        }
        for (i, &c) in h.codes.iter().enumerate() {
            acc.evidence
                .push(Evidence::Code(e.codes[c as usize].clone()));
            acc.score += if i == 0 { CODE } else { EXTRA_PATTERN };
            acc.strong = true;
        }
        for (i, &p) in h.patterns.iter().enumerate() {
            acc.evidence
                .push(Evidence::Pattern(e.patterns[p as usize].clone()));
            acc.score += if i == 0 { PATTERN } else { EXTRA_PATTERN };
            acc.strong = true;
        }
        if h.codes.is_empty() {
            // The tail of a known code says which entry, but alone ("AJ0004のタグ") it is a
            // note about the code as often as a report: it needs one keyword group too.
            if let Some(&c) = h.partial.first() {
                acc.evidence
                    .push(Evidence::PartialCode(e.codes[c as usize].clone()));
                acc.score += FAMILY;
                acc.partial = true;
            }
            for (i, (p, found)) in h.families.iter().enumerate() {
                acc.evidence.push(Evidence::Family {
                    pattern: e.family_patterns[*p as usize].clone(),
                    found: found.clone(),
                });
                if i == 0 {
                    acc.score += FAMILY;
                }
                acc.family = true;
            }
        }
        let card_name = cards
            .first()
            .and_then(|&c| issuers.get(c as usize))
            .map(|i| i.name.ja.clone());
        let found: Vec<String> = h
            .keywords
            .iter()
            .map(|&g| {
                let group = &e.keywords[g as usize];
                match &card_name {
                    Some(name) if group.iter().any(|k| k == CARD_KEYWORD) => name.clone(),
                    _ => group[0].clone(),
                }
            })
            .collect();
        if !found.is_empty() {
            acc.keyword_groups = found.len();
            acc.keyword_hits.clone_from(&h.keywords);
            // A word only this entry uses counts 1.5x, one shared by many about 0.5x.
            acc.score += h
                .keyword_df
                .iter()
                .map(|&df| KEYWORD * (0.5 + 1.0 / f64::from(df.max(1))))
                .sum::<f64>();
            acc.evidence.push(Evidence::Keywords {
                found,
                needed: e.min_keywords,
            });
        }
    }

    if mode == Mode::Lookup {
        for token in code_like_tokens(&n.spaced) {
            if index.is_known_code(token) {
                continue;
            }
            for (entry, code, distance) in index.near_codes(token) {
                let acc = accs.entry(entry).or_default();
                if !order.contains(&entry) {
                    order.push(entry);
                }
                if acc.near || acc.strong {
                    continue;
                }
                acc.near = true;
                acc.score += NEAR_CODE - 10.0 * distance as f64;
                acc.evidence.push(Evidence::NearCode {
                    typed: token.to_string(),
                    code: entries[entry as usize].codes[code as usize].clone(),
                    distance,
                });
            }
        }
        let grams = bigrams(&n.compact);
        if grams.len() >= 2 {
            let mut sims: Vec<(u32, f64)> = index.similar(&grams).into_iter().collect();
            sims.sort_by_key(|&(e, _)| e);
            for (entry, share) in sims {
                if share < MIN_SIMILAR {
                    continue;
                }
                let acc = accs.entry(entry).or_default();
                if !order.contains(&entry) {
                    order.push(entry);
                }
                acc.score += SIMILAR * share;
                acc.evidence.push(Evidence::Similar { share });
            }
        }
    }

    let mut matches: Vec<Match> = order
        .into_iter()
        .filter_map(|ei| {
            let acc = accs.remove(&ei)?;
            let e = &entries[ei as usize];
            let keywords_enough = acc.keyword_groups >= e.min_keywords
                && e.required_keywords
                    .iter()
                    .all(|&g| acc.keyword_hits.contains(&(g as u16)));
            let confident = acc.strong
                || keywords_enough
                || ((acc.family || acc.partial) && acc.keyword_groups >= 1);
            Some(Match {
                entry: ei as usize,
                id: e.id.clone(),
                title: e.title.ja.clone(),
                score: (acc.score * 100.0).round() / 100.0,
                evidence: acc.evidence,
                confident,
                unverified: !acc.strong && (acc.family || acc.near),
                // Only an entry that has its evidence says more than it needs.
                surplus: if keywords_enough {
                    acc.keyword_groups as i32 - e.min_keywords as i32
                } else {
                    0
                },
            })
        })
        .collect();
    // An entry whose evidence is enough comes before one that only scores higher on shared
    // words (JAL Pay + 登録 scores high for several entries; ロック makes it one of them).
    // Stable: equal scores keep pack order, so answers do not flicker between runs.
    matches.sort_by(|a, b| {
        b.confident
            .cmp(&a.confident)
            .then(b.score.total_cmp(&a.score))
            .then(b.surplus.cmp(&a.surplus))
            .then(a.entry.cmp(&b.entry))
    });
    // An entry that has its evidence goes before the confident ones it prefers over.
    let mut i = 1;
    while i < matches.len() {
        let m = &matches[i];
        let jump = m.confident.then(|| {
            matches[..i]
                .iter()
                .position(|earlier| earlier.confident && prefers(entries, m, earlier))
        });
        if let Some(Some(at)) = jump {
            let m = matches.remove(i);
            matches.insert(at, m);
        }
        i += 1;
    }
    matches.truncate(MAX_CANDIDATES);
    matches
}

/// Whether `m` has the pasted code or a pattern: stronger than any keyword or preference.
fn strong(m: &Match) -> bool {
    m.evidence
        .iter()
        .any(|e| matches!(e, Evidence::Code(_) | Evidence::Pattern(_)))
}

/// Whether `m`'s entry names `other`'s in `prefer_over` (the narrower problem answers), and
/// `other` has no pasted code or pattern, which no preference outranks.
fn prefers(entries: &[Entry], m: &Match, other: &Match) -> bool {
    entries[m.entry].prefer_over.contains(&other.id) && !strong(other)
}

/// Whether the best confident match is clearly the one: strong evidence, or a higher score
/// than the runner-up (or the same score with more keyword groups than it needs). Two
/// keyword-only entries tied on both means auto mode stays silent. An entry first by its
/// `prefer_over` is the one.
pub(super) fn decisive(entries: &[Entry], matches: &[Match]) -> bool {
    let Some(best) = matches.first() else {
        return false;
    };
    strong(best)
        || matches.get(1).is_none_or(|second| {
            !second.confident
                || prefers(entries, best, second)
                || best.score > second.score
                || (best.score == second.score && best.surplus > second.surplus)
        })
}
