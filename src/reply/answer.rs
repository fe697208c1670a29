//! The platform-neutral answer, built from a match in the asker's language.

use serde::Serialize;

use super::Labels;

use crate::knowledge::{CardPages, CardRule, Issuer, IssuerKind, Lang, Link};
use crate::matcher::{Match, Mode, Outcome};
use crate::pack::Pack;

/// A link as shown to people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkView {
    pub title: String,
    pub url: Option<String>,
    /// Where to find a page that has no URL in the sources.
    pub where_: Option<String>,
    /// The page of a card company or brand the message names.
    pub highlighted: bool,
}

/// What every platform shows for one matched entry.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    pub id: String,
    pub title: String,
    pub cause: String,
    /// What the amount in the message means for this entry, when both exist.
    pub amount_note: Option<String>,
    /// The name of the card read from the message, when one was.
    pub card: Option<String>,
    pub steps: Vec<String>,
    pub notes: Vec<String>,
    pub links: Vec<LinkView>,
    /// The source's own date, or the label for an undated source.
    pub reported: String,
    /// When the entry was last checked against its sources.
    pub checked: String,
    /// Set when only a family pattern or near-miss code led here.
    pub unverified: Option<String>,
    /// Shown first when text read off a screenshot went into the match
    /// ([`Labels::screenshot`]), so people know where the answer came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub screenshot: Option<String>,
    /// (id, title) of the other candidates.
    pub see_also: Vec<(String, String)>,
    /// The match's score, kept with the answer in the store.
    pub score: f64,
    #[serde(skip)]
    pub lang: Lang,
    /// How it was found: a paste answered on its own (auto) or a question to kotae
    /// (lookup). Decided once, by the gate, and stored with the answer, so no adapter asks
    /// the gate again. [`Answer::build`] gives `Lookup`; the auto-reply path sets `Auto`.
    #[serde(skip)]
    pub mode: Mode,
}

/// How many codes from a paste the unverified warning repeats. A few show which codes were
/// meant; a paste of hundreds of code-shaped strings must not come back as a wall of them.
pub const MAX_UNVERIFIED_CODES: usize = 3;

/// `20000` -> `20,000`.
pub fn format_yen(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Whether an entry's texts do not fit the cards named: some card company it is not written
/// for is named, or cards are named and none is one it is written for (a brand alone). With
/// no card named the entry's own texts stand.
fn other_card(rule: &CardRule, named: &[&Issuer]) -> bool {
    if named.is_empty() {
        return false;
    }
    let listed = |i: &&&Issuer| rule.cards.contains(&i.id);
    let unlisted_company = named
        .iter()
        .any(|i| i.kind == IssuerKind::Issuer && !listed(&i));
    unlisted_company || !named.iter().any(|i| listed(&i))
}

fn link_view(l: &Link, lang: Lang, highlighted: bool) -> LinkView {
    LinkView {
        title: l.title.get(lang).to_string(),
        url: l.url.clone(),
        where_: l.where_.as_ref().map(|w| w.get(lang).to_string()),
        highlighted,
    }
}

impl Answer {
    /// The answer for `outcome.matches[which]`, with the other matches as "see also".
    pub fn build(pack: &Pack, outcome: &Outcome, which: usize, lang: Lang) -> Option<Answer> {
        let m: &Match = outcome.matches.get(which)?;
        let e = pack.entries().get(m.entry)?;
        let labels = Labels::get(lang);
        let named: Vec<&Issuer> = outcome
            .facts
            .cards
            .iter()
            .filter_map(|id| pack.issuer(id))
            .collect();
        let variant = e
            .card_rule
            .as_ref()
            .filter(|r| other_card(r, &named))
            .map(|r| &r.other);
        // The amount rule is written for the cards of the card rule.
        let amount_rule = if variant.is_some() {
            None
        } else {
            e.amount_rule.as_ref()
        };
        let amount_note = match (outcome.facts.amount_jpy, amount_rule) {
            (Some(amount), Some(rule)) => {
                let under = amount <= rule.threshold_jpy;
                let (a, t) = (format_yen(amount), format_yen(rule.threshold_jpy));
                let text = if under {
                    &rule.at_or_under
                } else {
                    &rule.above
                };
                Some(match (lang, under) {
                    (Lang::Ja, true) => format!("{a}円は{t}円以下です。{}", text.get(lang)),
                    (Lang::Ja, false) => format!("{a}円は{t}円を超えています。{}", text.get(lang)),
                    (Lang::En, true) => format!("¥{a} is at or under ¥{t}. {}", text.get(lang)),
                    (Lang::En, false) => format!("¥{a} is above ¥{t}. {}", text.get(lang)),
                })
            }
            _ => None,
        };
        // The pages of the cards named first, then the table's pages the entry asks for
        // (the list is what such an entry is for), then its own links; a page is listed once.
        let mut links: Vec<LinkView> = Vec::new();
        let mut push = |view: LinkView| {
            let dup = view.url.is_some() && links.iter().any(|l| l.url == view.url);
            if !dup {
                links.push(view);
            }
        };
        if e.card_pages != CardPages::None {
            for i in &named {
                if let Some(page) = &i.page {
                    push(link_view(page, lang, true));
                }
            }
        }
        for i in pack.issuers() {
            let wanted = match e.card_pages {
                CardPages::All => true,
                CardPages::Brands => i.kind == IssuerKind::Brand,
                CardPages::None | CardPages::Named => false,
            };
            if let Some(page) = i.page.as_ref().filter(|_| wanted) {
                push(link_view(page, lang, false));
            }
        }
        for l in &e.links {
            push(link_view(l, lang, false));
        }
        let card = outcome
            .facts
            .card
            .as_deref()
            .and_then(|id| pack.issuer(id))
            .map(|i| i.name.get(lang).to_string());
        let unverified = m.unverified.then(|| {
            let mut found: Vec<String> = Vec::new();
            let mut more = false;
            for ev in &m.evidence {
                let code = match ev {
                    crate::matcher::Evidence::Family { found, .. } => found.to_uppercase(),
                    crate::matcher::Evidence::NearCode { typed, .. } => typed.to_uppercase(),
                    _ => continue,
                };
                if found.contains(&code) {
                    continue;
                }
                if found.len() == MAX_UNVERIFIED_CODES {
                    more = true;
                    break;
                }
                found.push(code);
            }
            if found.is_empty() {
                labels.unverified.to_string()
            } else {
                let more = if more { ", …" } else { "" };
                format!("{} ({}{more})", labels.unverified, found.join(", "))
            }
        });
        let title = variant.and_then(|v| v.title.as_ref()).unwrap_or(&e.title);
        let cause = variant.map_or(&e.cause, |v| &v.cause);
        let steps = variant.map_or(&e.steps, |v| &v.steps);
        let notes = variant.and_then(|v| v.notes.as_ref()).unwrap_or(&e.notes);
        Some(Answer {
            id: e.id.clone(),
            title: title.get(lang).to_string(),
            cause: cause.get(lang).to_string(),
            amount_note,
            card,
            steps: steps.iter().map(|s| s.get(lang).to_string()).collect(),
            notes: notes.iter().map(|s| s.get(lang).to_string()).collect(),
            links,
            reported: if e.reported == "undated" {
                labels.undated.to_string()
            } else {
                e.reported.clone()
            },
            checked: e.checked.clone(),
            unverified,
            screenshot: None,
            see_also: outcome
                .matches
                .iter()
                .enumerate()
                .filter(|(i, o)| *i != which && (o.confident || o.score >= m.score * 0.5))
                .filter_map(|(_, o)| {
                    let oe = pack.entries().get(o.entry)?;
                    Some((oe.id.clone(), oe.title.get(lang).to_string()))
                })
                .collect(),
            score: m.score,
            lang,
            mode: Mode::Lookup,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::format_yen;

    #[test]
    fn yen_is_grouped_by_thousands() {
        assert_eq!(format_yen(0), "0");
        assert_eq!(format_yen(999), "999");
        assert_eq!(format_yen(20_000), "20,000");
        assert_eq!(format_yen(1_234_567), "1,234,567");
    }
}
