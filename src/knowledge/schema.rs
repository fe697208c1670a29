//! The on-disk shape of a knowledge file, exactly as serde reads it from TOML.
//!
//! Every struct denies unknown keys: a misspelt `pattern =` must fail `kotae check`, not
//! silently leave an entry without its patterns. Fields that later checks report on are
//! wrapped in [`Spanned`] so a message can point at the line that is wrong.

use serde::Deserialize;
use toml::Spanned;

/// The schema version this build reads. Bump it when a key changes meaning.
pub const FORMAT_VERSION: u32 = 1;

/// One `knowledge/*.toml` file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileRaw {
    pub format_version: Spanned<u32>,
    #[serde(default, rename = "entry")]
    pub entries: Vec<Spanned<EntryRaw>>,
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
    pub examples: Vec<Spanned<String>>,
    #[serde(default)]
    pub queries: Vec<Spanned<String>>,
    #[serde(default)]
    pub counter_examples: Vec<Spanned<String>>,
    pub verified: Spanned<toml::value::Datetime>,
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
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// A yen threshold that decides which explanation fits, when the pasted text names an amount.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmountRuleRaw {
    pub threshold_jpy: u64,
    pub at_or_under: TextRaw,
    pub above: TextRaw,
}
