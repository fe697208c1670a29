//! Tests of the module layering: no cycles between the top-level modules, no platform
//! crate outside `src/adapters/`, no `clap` outside the binary. Read from the sources, so a
//! new `use` that breaks a rule fails here with the files named.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Cycles allowed between top-level modules (none: `pack` sits above `knowledge` and
/// `matcher`, so neither reads the other's side).
const KNOWN_CYCLES: &[(&str, &str)] = &[];

/// Files allowed to name `clap` besides the binary (none).
const KNOWN_CLAP: &[&str] = &[];

/// (top-level module, file, text before the unit tests) of every source file but the
/// crate roots.
fn sources() -> Vec<(String, String, String)> {
    fn walk(dir: &Path, out: &mut Vec<(String, String, String)>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let root = Path::new(env!("CARGO_MANIFEST_DIR"));
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                let top = rel
                    .trim_start_matches("src/")
                    .split('/')
                    .next()
                    .unwrap()
                    .trim_end_matches(".rs")
                    .to_string();
                let text = std::fs::read_to_string(&p).unwrap();
                let code = text.split("#[cfg(test)]").next().unwrap().to_string();
                out.push((top, rel, code));
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    out.retain(|(top, _, _)| !matches!(top.as_str(), "lib" | "main" | "layering"));
    out
}

/// Lines that are code, not comments (a doc link is no dependency).
fn code_lines(code: &str) -> impl Iterator<Item = &str> {
    code.lines().filter(|l| !l.trim_start().starts_with("//"))
}

#[test]
fn no_cycles_between_top_level_modules() {
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let modules: BTreeSet<String> = sources().into_iter().map(|(t, _, _)| t).collect();
    for (top, _, code) in sources() {
        for line in code_lines(&code) {
            for part in line.split("crate::").skip(1) {
                let name: String = part
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if name != top && modules.contains(&name) {
                    deps.entry(top.clone()).or_default().insert(name);
                }
            }
        }
    }
    fn reaches(deps: &BTreeMap<String, BTreeSet<String>>, from: &str, to: &str) -> bool {
        let mut stack = vec![from.to_string()];
        let mut seen = BTreeSet::new();
        while let Some(m) = stack.pop() {
            if m == to {
                return true;
            }
            if seen.insert(m.clone()) {
                stack.extend(deps.get(&m).into_iter().flatten().cloned());
            }
        }
        false
    }
    let mut cycles = Vec::new();
    for (a, ds) in &deps {
        for b in ds {
            let known = KNOWN_CYCLES
                .iter()
                .any(|(x, y)| (x == a && y == b) || (x == b && y == a));
            if !known && reaches(&deps, b, a) {
                cycles.push(format!("{a} <-> {b}"));
            }
        }
    }
    assert!(cycles.is_empty(), "module cycles: {cycles:?}\n{deps:#?}");
}

#[test]
fn platform_crates_stay_in_the_adapters_and_clap_in_the_binary() {
    let mut wrong = Vec::new();
    for (top, file, code) in sources() {
        for line in code_lines(&code) {
            for krate in ["serenity::", "poise::", "reqwest::", "tokio_tungstenite::"] {
                if top != "adapters" && line.contains(krate) {
                    wrong.push(format!("{file}: {krate}"));
                }
            }
            if line.contains("clap::") && !KNOWN_CLAP.contains(&file.as_str()) {
                wrong.push(format!("{file}: clap"));
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
