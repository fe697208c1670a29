//! The pack's self-test: every example must answer with its own entry, every query must
//! rank it first, every counter-example must stay silent for it, and no two entries may
//! claim the same example. This is what `kotae check` adds to loading.

use std::collections::HashMap;

use super::Pack;
use crate::knowledge::Problem;
use crate::matcher::Mode;
use crate::normalize::compact;

/// Which test text a problem is about, to point at its line.
#[derive(Clone, Copy)]
enum At {
    Example(usize),
    Query(usize),
    Counter(usize),
}

fn problem(pack: &Pack, entry: usize, at: At, message: String) -> Problem {
    let e = &pack.entries()[entry];
    let l = &e.example_locations;
    let location = match at {
        At::Example(i) => l.examples.get(i),
        At::Query(i) => l.queries.get(i),
        At::Counter(i) => l.counter_examples.get(i),
    };
    Problem {
        location: location.unwrap_or(&e.location).clone(),
        entry: Some(e.id.clone()),
        message,
    }
}

fn short(text: &str) -> String {
    let mut s: String = text.chars().take(40).collect();
    if s.len() < text.len() {
        s.push('…');
    }
    s.replace('\n', " ")
}

/// Runs the examples of every entry; returns the problems (empty when the pack is sound).
pub fn self_test(pack: &Pack) -> Vec<Problem> {
    let mut problems = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (ei, e) in pack.entries().iter().enumerate() {
        for (xi, ex) in e.examples.iter().enumerate() {
            let key = compact(ex);
            if let Some(&other) = seen.get(&key) {
                if other != ei {
                    problems.push(problem(
                        pack,
                        ei,
                        At::Example(xi),
                        format!(
                            "example \"{}\" is also an example of entry {}; two entries cannot both be the answer",
                            short(ex),
                            pack.entries()[other].id
                        ),
                    ));
                }
            } else {
                seen.insert(key, ei);
            }
            let out = pack.query(ex, Mode::Auto);
            match out.answer() {
                Some(m) if m.entry == ei => {}
                Some(m) => problems.push(problem(
                    pack,
                    ei,
                    At::Example(xi),
                    format!(
                        "example \"{}\" answers with entry {} instead (score {} vs this entry's {}); make this entry's patterns more specific or move the example",
                        short(ex),
                        m.id,
                        m.score,
                        out.matches.iter().find(|x| x.entry == ei).map_or(0.0, |x| x.score)
                    ),
                )),
                None => problems.push(problem(
                    pack,
                    ei,
                    At::Example(xi),
                    format!(
                        "example \"{}\" gets no answer in auto mode; add a code or pattern it contains, or list it under `queries` if it is a lookup",
                        short(ex)
                    ),
                )),
            }
        }
        for (qi, q) in e.queries.iter().enumerate() {
            let out = pack.query(q, Mode::Lookup);
            match out.matches.first() {
                Some(m) if m.entry == ei => {}
                Some(m) => problems.push(problem(
                    pack,
                    ei,
                    At::Query(qi),
                    format!(
                        "query \"{}\" ranks entry {} first (score {}); add keywords so this entry ranks first",
                        short(q),
                        m.id,
                        m.score
                    ),
                )),
                None => problems.push(problem(
                    pack,
                    ei,
                    At::Query(qi),
                    format!("query \"{}\" finds nothing; add keywords it contains", short(q)),
                )),
            }
        }
        for (ci, ce) in e.counter_examples.iter().enumerate() {
            let out = pack.query(ce, Mode::Auto);
            if let Some(m) = out.answer().filter(|m| m.entry == ei) {
                let why: Vec<String> = m.evidence.iter().map(ToString::to_string).collect();
                problems.push(problem(
                    pack,
                    ei,
                    At::Counter(ci),
                    format!(
                        "counter-example \"{}\" would get an auto-reply from this entry ({}); narrow the patterns or raise min_keywords",
                        short(ce),
                        why.join("; ")
                    ),
                ));
            }
        }
    }
    problems
}
