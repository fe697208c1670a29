//! Plain-text rendering for the terminal (`kotae ask`, `kotae shell`).

use std::fmt::Write;

use super::{Answer, Labels};

/// The answer as the terminal shows it: title, cause, numbered steps, links, and the source's
/// date beside the date kotae checked it.
pub fn render(a: &Answer) -> String {
    let l = Labels::get(a.lang);
    let mut out = String::new();
    if let Some(s) = &a.screenshot {
        let _ = writeln!(out, "{s}\n");
    }
    let _ = writeln!(out, "■ {}", a.title);
    if let Some(u) = &a.unverified {
        let _ = writeln!(out, "⚠ {u}");
    }
    let _ = writeln!(out, "\n{}: {}", l.cause, a.cause);
    if let Some(card) = &a.card {
        let _ = writeln!(out, "\n{}: {card}", l.card);
    }
    if let Some(note) = &a.amount_note {
        let _ = writeln!(out, "\n{}: {note}", l.amount);
    }
    if !a.steps.is_empty() {
        let _ = writeln!(out, "\n{}:", l.steps);
        for (i, s) in a.steps.iter().enumerate() {
            let _ = writeln!(out, "  {}. {s}", i + 1);
        }
    }
    if !a.notes.is_empty() {
        let _ = writeln!(out, "\n{}:", l.notes);
        for n in &a.notes {
            let _ = writeln!(out, "  - {n}");
        }
    }
    if !a.links.is_empty() {
        let _ = writeln!(out, "\n{}:", l.links);
        for link in &a.links {
            let mark = if link.highlighted { "★ " } else { "" };
            match (&link.url, &link.where_) {
                (Some(url), _) => {
                    let _ = writeln!(out, "  - {mark}{}\n    {url}", link.title);
                }
                (None, Some(w)) => {
                    let _ = writeln!(out, "  - {mark}{} ({}: {w})", link.title, l.no_url);
                }
                (None, None) => {
                    let _ = writeln!(out, "  - {mark}{}", link.title);
                }
            }
        }
    }
    let _ = writeln!(
        out,
        "\n{}: {} · {}: {} · id: {}",
        l.reported, a.reported, l.checked, a.checked, a.id
    );
    if !a.see_also.is_empty() {
        let _ = writeln!(out, "{}:", l.see_also);
        for (id, title) in &a.see_also {
            let _ = writeln!(out, "  - {title} ({id})");
        }
    }
    out
}
