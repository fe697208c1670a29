//! The knowledge pack: loading `knowledge/*.toml`, validating it, and the entries it holds.
//!
//! A [`Pack`] can only be obtained through [`Pack::load`] or [`Pack::from_sources`], which
//! validate everything once (as ripgrep's builders do), so code holding a `Pack` never meets
//! an entry with a broken regex or a missing Japanese text.

mod compile;
mod load;
pub mod pattern;
pub mod schema;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use compile::{compile, validate_entries};
pub use load::{read_sources, Source, CHATTER_MODEL_FILE};

/// The language an answer is rendered in. Japanese is the source of truth; English falls back
/// to Japanese where an entry has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Ja,
    En,
}

impl Lang {
    /// Maps a platform locale such as `en-US`, `en-GB` or `ja` to the language kotae answers
    /// in; anything that is not English gets Japanese.
    pub fn from_locale(locale: &str) -> Lang {
        if locale.to_ascii_lowercase().starts_with("en") {
            Lang::En
        } else {
            Lang::Ja
        }
    }
}

/// A text in Japanese and, optionally, English.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    pub ja: String,
    pub en: Option<String>,
}

impl Text {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => self.en.as_deref().unwrap_or(&self.ja),
            Lang::Ja => &self.ja,
        }
    }
}

/// An official page, with or without an address.
#[derive(Debug, Clone)]
pub struct Link {
    pub title: Text,
    pub url: Option<String>,
    /// Where to find a page the sources name without a URL.
    pub where_: Option<Text>,
}

/// Whether an [`Issuer`] is a card company or an international brand. A message naming a
/// company says more than one naming a brand (楽天カード's Visa is still 楽天カード).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IssuerKind {
    Issuer,
    Brand,
}

/// A card company or brand from the pack's `[[issuer]]` table: the card fact read from a
/// message is one of these ids, and its page is what a failure report gets first.
#[derive(Debug, Clone)]
pub struct Issuer {
    pub id: String,
    pub kind: IssuerKind,
    pub name: Text,
    /// Compact (normalized) aliases.
    pub aliases: Vec<String>,
    /// Compact phrases in which an alias does not name this card.
    pub not_in: Vec<String>,
    /// Its 3-D Secure page, when the sources give one.
    pub page: Option<Link>,
    pub location: Location,
}

/// The keyword alternative that stands for "any card in the issuer table".
pub const CARD_KEYWORD: &str = "@card";

/// The keyword alternative that stands for every failure word the matcher knows
/// (`matcher::intent::FAILURE`) and their forms.
pub const FAILURE_GROUP: &str = "@failure";

/// The keyword alternative `@over:N`: the amount the message is about is above N yen
/// ("ANA Payに3万チャージできない" is about the ¥20,000 cap without saying "上限").
pub const AMOUNT_OVER: &str = "@over:";

/// The N of an `@over:N` alternative; None for anything else (or a bad N).
pub fn amount_over(alt: &str) -> Option<u64> {
    alt.strip_prefix(AMOUNT_OVER)?.parse().ok()
}

/// Which issuer pages an entry's answer lists besides its own links.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CardPages {
    /// None.
    #[default]
    None,
    /// The pages of the cards the message names, first.
    Named,
    /// The named ones first, then every brand's page.
    Brands,
    /// The named ones first, then every issuer's and brand's page, in table order.
    All,
}

/// Texts written for some cards only, and what replaces them for any other card.
#[derive(Debug, Clone)]
pub struct CardRule {
    /// Issuer ids the entry's own cause, steps and amount rule are written for.
    pub cards: Vec<String>,
    pub other: CardVariant,
}

/// The cause and steps (and optionally title and notes) for a card a [`CardRule`] does not
/// list.
#[derive(Debug, Clone)]
pub struct CardVariant {
    pub title: Option<Text>,
    pub cause: Text,
    pub steps: Vec<Text>,
    pub notes: Option<Vec<Text>>,
}

/// A yen threshold and the explanation for each side of it.
#[derive(Debug, Clone)]
pub struct AmountRule {
    pub threshold_jpy: u64,
    pub at_or_under: Text,
    pub above: Text,
}

/// One validated knowledge entry.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: String,
    pub title: Text,
    pub services: Vec<String>,
    pub codes: Vec<String>,
    pub patterns: Vec<String>,
    pub family_patterns: Vec<String>,
    /// Keyword groups; each holds literal alternatives (`"jalpay|jalペイ"` is one group).
    pub keywords: Vec<Vec<String>>,
    pub min_keywords: usize,
    /// Groups (indexes into `keywords`) that must be among those found, written with a
    /// leading `!`: the words that make the entry this entry, not just its product.
    pub required_keywords: Vec<usize>,
    pub cause: Text,
    pub steps: Vec<Text>,
    pub notes: Vec<Text>,
    pub links: Vec<Link>,
    pub amount_rule: Option<AmountRule>,
    pub card_rule: Option<CardRule>,
    pub card_pages: CardPages,
    /// Issuer ids that name the app of this entry rather than the card used in it: in "JAL
    /// Payに楽天カードを登録", the card is 楽天カード.
    pub not_the_card: Vec<String>,
    /// Entry ids this entry answers before when both have their evidence: the narrower
    /// problem first ("ワンタイムパスワードが来ない" is about the one-time password, though the
    /// payment failed too).
    pub prefer_over: Vec<String>,
    pub examples: Vec<String>,
    pub queries: Vec<String>,
    pub counter_examples: Vec<String>,
    /// The source's own date (`YYYY-MM-DD`), or `undated` when the source gives none.
    pub reported: String,
    /// When the entry was last checked against its sources (`YYYY-MM-DD`).
    pub checked: String,
    pub sources: Vec<String>,
    /// Where the entry was read from, for messages.
    pub location: Location,
    /// Where each example, query and counter-example stands, so `kotae check` points at the
    /// failing line. Empty for entries made in code.
    pub example_locations: ExampleLocations,
}

/// Locations of an entry's test texts, index for index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExampleLocations {
    pub examples: Vec<Location>,
    pub queries: Vec<Location>,
    pub counter_examples: Vec<Location>,
}

/// A place in a knowledge file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.col)
    }
}

/// One thing wrong with a knowledge pack, worded for the person who has to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub location: Location,
    pub entry: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.location)?;
        match &self.entry {
            // Problems of the issuer table name it as `issuer <id>`.
            Some(id) if id.starts_with("issuer ") => write!(f, "{id}: ")?,
            Some(id) => write!(f, "entry {id}: ")?,
            None => {}
        }
        f.write_str(&self.message)
    }
}

/// A pack that could not be loaded: every problem found, not just the first.
#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    #[error("cannot read knowledge at {path}: {error}")]
    Io {
        path: PathBuf,
        // Shown in the message, so not also chained as a source (`{:#}` would repeat it).
        error: std::io::Error,
    },
    #[error("no knowledge files (*.toml) in {0}")]
    Empty(PathBuf),
    #[error("{}", render_problems(.0))]
    Invalid(Vec<Problem>),
}

fn render_problems(problems: &[Problem]) -> String {
    let mut out = String::new();
    for (i, p) in problems.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&p.to_string());
    }
    out
}

impl KnowledgeError {
    pub fn problems(&self) -> &[Problem] {
        match self {
            KnowledgeError::Invalid(p) => p,
            _ => &[],
        }
    }
}

/// The line and column of a byte offset in `text` (for config files and other TOML).
pub fn locate(text: &str, file: &Path, offset: usize) -> Location {
    compile::LineIndex::new(text).locate(file, offset)
}
