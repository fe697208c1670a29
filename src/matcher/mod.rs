//! Matching pasted text against a pack: normalize, scan once, rank, extract facts. Pure: no
//! I/O, no clock, no platform types, so every adapter and test calls the same code.

pub mod chatter;
pub mod facts;
pub mod index;
pub mod intent;
pub mod kana;
pub mod markup;
mod rank;

pub use crate::normalize;

use std::fmt;

use serde::Serialize;

pub use facts::Facts;
pub use intent::{Judgement, NotAReport};
pub use normalize::{normalize, Normalized, MAX_INPUT_BYTES};

use crate::knowledge::{Entry, Issuer};

/// How sure kotae must be before it speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// A support channel: answer only a confident match, otherwise stay silent.
    Auto,
    /// A slash command or a question: always return the best candidates, fuzzy ones included.
    #[default]
    Lookup,
}

/// The most candidates a lookup returns.
pub const MAX_CANDIDATES: usize = 5;

/// Why an entry is a candidate. Rendered in `--json` output and in admin answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Evidence {
    /// An exact error code listed by the entry.
    Code(String),
    /// A strong pattern (regex or phrase).
    Pattern(String),
    /// The tail of a listed code typed on its own ("AJ0004", "末尾0004").
    PartialCode(String),
    /// A family pattern matched a code the pack does not list.
    Family { pattern: String, found: String },
    /// Keyword groups that co-occur, and how many the entry needs.
    Keywords { found: Vec<String>, needed: usize },
    /// A code typed almost like a known one.
    NearCode {
        typed: String,
        code: String,
        distance: usize,
    },
    /// The query's characters overlap the entry's title and keywords.
    Similar { share: f64 },
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Evidence::Code(c) => write!(f, "code {c}"),
            Evidence::Pattern(p) => write!(f, "pattern {p}"),
            Evidence::PartialCode(c) => write!(f, "the end of code {c}"),
            Evidence::Family { pattern, found } => write!(
                f,
                "family pattern {pattern} matched {}, a code not in the pack (unverified)",
                found.to_uppercase()
            ),
            Evidence::Keywords { found, needed } => write!(
                f,
                "keywords {} ({} of {needed} needed)",
                found.join(", "),
                found.len()
            ),
            Evidence::NearCode {
                typed,
                code,
                distance,
            } => write!(
                f,
                "near-miss code {} ≈ {code} (edit distance {distance})",
                typed.to_uppercase()
            ),
            Evidence::Similar { share } => {
                write!(
                    f,
                    "text similar to the title and keywords ({:.0}%)",
                    share * 100.0
                )
            }
        }
    }
}

impl Serialize for Evidence {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One candidate entry.
#[derive(Debug, Clone, Serialize)]
pub struct Match {
    /// Position in [`Pack::entries`].
    #[serde(skip)]
    pub entry: usize,
    pub id: String,
    pub title: String,
    pub score: f64,
    pub evidence: Vec<Evidence>,
    /// Whether auto mode could answer with this entry on its own evidence.
    pub confident: bool,
    /// Only a family pattern (or a near-miss code) points here: the exact code is unknown.
    pub unverified: bool,
    /// Keyword groups found beyond the entry's `min_keywords`: between two entries that
    /// score alike, the one the message says more about ("ワンタイムパス来ない" is more about
    /// the one-time password than about a failed payment).
    #[serde(skip)]
    pub surplus: i32,
}

/// The result of matching one message.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    /// Whether auto mode would post an answer (the first match).
    pub reply: bool,
    /// Best first; in auto mode only confident ones.
    pub matches: Vec<Match>,
    pub facts: Facts,
    /// In auto mode, why the message is not a problem report (then kotae stays silent).
    #[serde(skip_serializing_if = "Judgement::allows_reply")]
    pub judgement: Judgement,
    /// The message was longer than [`MAX_INPUT_BYTES`]; only its start was read.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub truncated: bool,
}

impl Outcome {
    /// The match auto mode would answer with.
    pub fn answer(&self) -> Option<&Match> {
        if self.reply {
            self.matches.first()
        } else {
            None
        }
    }
}

/// How many bytes of `compact` the match's codes and dialog patterns cover (each counted
/// once): how much of the message is the pasted error itself.
fn pasted_bytes(m: &Match, compact: &str) -> usize {
    // The pack's own text stands for what it matched (its length is what matters, and
    // normalizing it again per message would cost more than the judgement). A regex
    // pattern's match is not measured: compiling it per message would cost more still.
    let mut covered = 0;
    for e in &m.evidence {
        covered += match e {
            Evidence::Code(c) => c.len(),
            Evidence::Pattern(p) if !p.chars().any(regex_syntax::is_meta_character) => p.len(),
            _ => 0,
        };
    }
    covered.min(compact.len())
}

/// Normalizes a message for matching. Chat markup is reduced to what people read
/// ([`markup::plain`]); a message typed in romaji is read in hiragana
/// ([`kana::romaji_reading`]), the spelling the pack's kana and kanji words also have.
pub fn read(index: &index::Index, text: &str) -> Normalized {
    // Cut first: a 5 MB paste costs no more than its first 64 KiB.
    let (text, truncated) = normalize::cap(text, MAX_INPUT_BYTES);
    let mut n = normalize(text);
    // Mentions, emoji tokens and link markup out: what a person reads is matched. Only a
    // message whose normalization saw `<` or a bracket is looked at again.
    let plain = if n.markup {
        markup::plain(text)
    } else {
        std::borrow::Cow::Borrowed(text)
    };
    if let Some(reading) = kana::romaji_reading(&plain, |w| index.knows_ascii_word(w)) {
        n = normalize(&reading);
    } else if let std::borrow::Cow::Owned(plain) = &plain {
        n = normalize(plain);
    }
    n.truncated |= truncated;
    n
}

/// Matches a normalized message against a pack's entries, issuer table and index (the
/// parts of [`crate::Pack`], which owns them and calls this).
pub fn run(
    entries: &[Entry],
    issuers: &[Issuer],
    index: &index::Index,
    chatter: Option<&chatter::Model>,
    n: &Normalized,
    mode: Mode,
) -> Outcome {
    let mut scan = index.scan(&n.compact, &n.spaced);
    let mut facts = Facts::extract_marked(&n.spaced, scan.amount_markers);
    index.amount_groups(&mut scan.entries, facts.amount_jpy);
    let matches = rank::rank(entries, issuers, index, scan.entries, &scan.cards, n, mode);
    // Only an entry the message is surely about says which named card is its app.
    let not_the_card = matches
        .first()
        .filter(|m| m.confident)
        .map_or(&[][..], |m| &entries[m.entry].not_the_card[..]);
    facts.read_cards(issuers, &scan.cards, not_the_card);
    let mut reply =
        matches.first().is_some_and(|m| m.confident) && rank::decisive(entries, &matches);
    // Only a message with something to answer is judged: chat without hits costs nothing.
    let pasted = if mode == Mode::Auto && reply {
        pasted_bytes(&matches[0], &n.compact)
    } else {
        0
    };
    let mut judgement = if mode == Mode::Auto && reply {
        intent::judge(n, pasted)
    } else {
        Judgement::default()
    };
    // What the rules would answer, the learned model may still silence (never the reverse).
    // A code typed out, or a message that is mostly the pasted error, is left to the rules:
    // a code's letters and digits are n-grams the model has rarely seen, which pull any
    // message toward the prior ("エラー(MW1M01AJ0004)が出た" would read as chat).
    let code = |e: &Evidence| {
        matches!(
            e,
            Evidence::Code(_)
                | Evidence::PartialCode(_)
                | Evidence::NearCode { .. }
                | Evidence::Family { .. }
        )
    };
    if mode == Mode::Auto
        && reply
        && judgement.allows_reply()
        && pasted * 2 < n.compact.len()
        && !matches[0].evidence.iter().any(code)
    {
        if let Some(why) = chatter.and_then(|c| c.veto(&n.spaced)) {
            judgement = Judgement {
                not_a_report: Some(intent::NotAReport::ReadsAsChatter),
                cue: Some(why),
            };
        }
    }
    reply &= judgement.allows_reply();
    let matches = match mode {
        Mode::Auto => matches.into_iter().filter(|m| m.confident).collect(),
        Mode::Lookup => matches,
    };
    Outcome {
        reply,
        matches,
        facts,
        judgement,
        truncated: n.truncated,
    }
}
