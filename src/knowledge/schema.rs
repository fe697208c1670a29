//! The on-disk shape of a knowledge file, exactly as serde reads it from TOML.
//!
//! Every struct denies unknown keys: a misspelt `pattern =` must fail `kotae check`, not
//! silently leave an entry without its patterns. Fields that later checks report on are
//! wrapped in [`Spanned`] so a message can point at the line that is wrong.

use serde::Deserialize;
use toml::Spanned;

/// The schema version this build reads. Bump it when a key changes meaning.
pub const FORMAT_VERSION: u32 = 2;

/// What changed from each older version, for `kotae check` to explain an old file instead of
/// only refusing it.
pub const CHANGES: &[(u32, &str)] = &[(
    1,
    "in version 2 `verified` became two keys: `reported` (the source's own date, or \"undated\") \
     and `checked` (the date the entry was last checked against its sources); link `aliases` \
     are gone: card companies and brands live in one `[[issuer]]` table whose names every \
     entry shares (see knowledge/README.md); rename the keys and set format_version = 2",
)];

/// One `knowledge/*.toml` file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRaw {
    pub format_version: Spanned<u32>,
    #[serde(default, rename = "entry")]
    pub entries: Vec<Spanned<EntryRaw>>,
    #[serde(default, rename = "issuer")]
    pub issuers: Vec<Spanned<IssuerRaw>>,
}

/// Only the version, read when a file does not parse, to explain an old schema.
#[derive(Debug, Deserialize)]
pub struct VersionOnly {
    pub format_version: Spanned<u32>,
}

/// Text shown to people: Japanese is required, English is optional and falls back to Japanese.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct TextRaw {
    pub ja: String,
    #[serde(default)]
    pub en: Option<String>,
}

/// One `[[entry]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntryRaw {
    pub id: Spanned<String>,
    pub title: TextRaw,
    pub services: Vec<String>,
    #[serde(default)]
    pub codes: Vec<Spanned<String>>,
    #[serde(default)]
    pub patterns: Vec<Spanned<String>>,
    #[serde(default)]
    pub family_patterns: Vec<Spanned<String>>,
    #[serde(default)]
    pub keywords: Vec<Spanned<String>>,
    #[serde(default)]
    pub min_keywords: Option<Spanned<u32>>,
    pub cause: TextRaw,
    #[serde(default)]
    pub steps: Vec<TextRaw>,
    #[serde(default)]
    pub notes: Vec<TextRaw>,
    #[serde(default)]
    pub links: Vec<Spanned<LinkRaw>>,
    #[serde(default)]
    pub amount_rule: Option<AmountRuleRaw>,
    #[serde(default)]
    pub card_rule: Option<Spanned<CardRuleRaw>>,
    /// Which card companies' 3-D Secure pages the answer lists: `none` (the default),
    /// `named` (those the message names), `brands`, `all`.
    #[serde(default)]
    pub card_pages: Option<Spanned<String>>,
    /// Issuer ids that are the app of this entry, not the card used in it.
    #[serde(default)]
    pub not_the_card: Vec<String>,
    /// Entry ids this entry answers before, when both have their evidence.
    #[serde(default)]
    pub prefer_over: Vec<String>,
    #[serde(default)]
    pub examples: Vec<Spanned<String>>,
    #[serde(default)]
    pub queries: Vec<Spanned<String>>,
    #[serde(default)]
    pub counter_examples: Vec<Spanned<String>>,
    /// The source's own date, or the string "undated".
    pub reported: Spanned<toml::Value>,
    /// When the entry was last checked against its sources.
    pub checked: Spanned<toml::value::Datetime>,
    pub sources: Vec<String>,
}

/// An official page. `url` is absent when the source names the page but gives no address;
/// `where` then tells the reader where to find it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkRaw {
    pub title: TextRaw,
    #[serde(default)]
    pub url: Option<Spanned<String>>,
    #[serde(default, rename = "where")]
    pub where_: Option<TextRaw>,
}

/// A yen threshold that decides which explanation fits, when the pasted text names an amount.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmountRuleRaw {
    pub threshold_jpy: u64,
    pub at_or_under: TextRaw,
    pub above: TextRaw,
}

/// An entry whose cause and steps are written for some cards only (`jal-pay`, say): when the
/// message names another card, `other` replaces them and the amount rule is not applied.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardRuleRaw {
    /// Issuer or brand ids (from `[[issuer]]`) the entry's own texts are written for.
    pub cards: Vec<Spanned<String>>,
    pub other: CardVariantRaw,
}

/// What an entry says when the message names a card its texts are not written for.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardVariantRaw {
    #[serde(default)]
    pub title: Option<TextRaw>,
    pub cause: TextRaw,
    pub steps: Vec<TextRaw>,
    /// Replace the entry's notes when given; otherwise the entry's notes are kept.
    #[serde(default)]
    pub notes: Option<Vec<TextRaw>>,
}

/// One card company (`kind = "issuer"`) or international brand (`kind = "brand"`): the names
/// people write for it and its 3-D Secure page.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssuerRaw {
    pub id: Spanned<String>,
    pub kind: Spanned<String>,
    pub name: TextRaw,
    pub aliases: Vec<Spanned<String>>,
    /// Phrases in which an alias does not name this card (楽天市場 is a shop, not 楽天カード).
    #[serde(default)]
    pub not_in: Vec<String>,
    #[serde(default)]
    pub page: Option<Spanned<LinkRaw>>,
}
