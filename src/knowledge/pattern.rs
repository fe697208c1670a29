//! Knowledge patterns: how a pattern of the pack is validated and whether it is matched as a
//! literal or a regex. Decided here, with the pack, so loading a pack needs no matcher.

use unicode_normalization::UnicodeNormalization;

use crate::normalize::compact;

/// The compiled size one knowledge regex may take; a pattern that needs more is a mistake.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;
/// The longest pattern source accepted.
pub const MAX_PATTERN_CHARS: usize = 1000;

/// A pattern as the index stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prepared {
    /// No regex syntax: matched by the automaton, in compact form.
    Literal(String),
    /// A real regex, NFKC-normalized, matched case-insensitively on the compact text.
    Regex(String),
}

/// Decides how a pattern is matched, without compiling it. Only for patterns that
/// [`prepare_pattern`] accepted.
pub fn classify_pattern(p: &str) -> Prepared {
    // Most patterns are NFKC already: the quick check skips decomposing them again (a
    // 10,000-entry pack classifies 20,000 patterns while it is built).
    let nf: String = if crate::normalize::is_nfkc(p) {
        p.to_string()
    } else {
        p.nfkc().collect()
    };
    if nf.chars().any(regex_syntax::is_meta_character) {
        Prepared::Regex(nf)
    } else {
        Prepared::Literal(compact(&nf))
    }
}

/// Validates a pattern from the knowledge pack and decides how it is matched. The error is
/// the end of a sentence that starts with "pattern `…`".
pub fn prepare_pattern(p: &str) -> Result<Prepared, String> {
    if p.trim().is_empty() {
        return Err("is empty; it would match every message".into());
    }
    if p.chars().count() > MAX_PATTERN_CHARS {
        return Err(format!("is longer than {MAX_PATTERN_CHARS} characters"));
    }
    let nf = match classify_pattern(p) {
        literal @ Prepared::Literal(_) => return Ok(literal),
        Prepared::Regex(nf) => nf,
    };
    if nf.chars().any(char::is_whitespace) || nf.contains("\\s") {
        return Err(
            "contains white space, but messages are matched with all white space removed; \
             drop it (write `MW1M01AJ\\d{4}`, not `MW1M01AJ \\d{4}`)"
                .into(),
        );
    }
    if nf.contains("\\b") || nf.contains("\\B") {
        return Err(
            "uses `\\b`, which cannot work here: white space is removed before matching \
             and Japanese text has no word boundaries; drop it"
                .into(),
        );
    }
    check_regex(&nf)?;
    Ok(Prepared::Regex(nf))
}

/// Checks what `kotae check` needs of a regex (it parses, fits the size limit, cannot match
/// empty text) by building only a Thompson NFA: a full `Regex` costs several times more, and
/// a 10,000-entry pack is validated on every start and reload.
fn check_regex(source: &str) -> Result<(), String> {
    use regex_automata::nfa::thompson::{self, pikevm::PikeVM, WhichCaptures};
    use regex_automata::util::syntax;
    let nfa = thompson::Compiler::new()
        .syntax(syntax::Config::new().case_insensitive(true))
        .configure(
            thompson::Config::new()
                .nfa_size_limit(Some(REGEX_SIZE_LIMIT))
                .shrink(false)
                .which_captures(WhichCaptures::None),
        )
        .build(source)
        .map_err(|e| match e.size_limit() {
            Some(limit) => format!("is too large once compiled (over {limit} bytes); simplify it"),
            None => format!(
                "does not compile: {}",
                e.to_string()
                    .lines()
                    .map(str::trim)
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        })?;
    let vm = PikeVM::new_from_nfa(nfa).map_err(|e| format!("does not compile: {e}"))?;
    let mut cache = vm.create_cache();
    if vm.is_match(&mut cache, "") {
        return Err("matches empty text, so it would fire on every message".into());
    }
    Ok(())
}
