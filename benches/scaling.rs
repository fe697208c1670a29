//! Criterion benches of matcher scaling: generated packs of 10 to 50,000 entries × messages of
//! 100 B to 64 KB, kotae (auto mode) beside the naive per-regex loop, then a summary table.
//!
//! Each iteration matches the whole message mix of `synthetic::mix` (a code, a phrase, a
//! regex, a keyword pair, nothing); the table divides by its length to give ns per message.
//! Before timing, the naive loop must find the same entries as kotae on every message.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use criterion::{BenchmarkId, Criterion, Throughput};
use regex::{Regex, RegexBuilder};
use std::hint::black_box;

use kotae::knowledge::Entry;
use kotae::matcher::normalize;
use kotae::synthetic::{self, MIX_KINDS};
use kotae::Mode;

const ENTRIES: [usize; 5] = [10, 100, 1_000, 10_000, 50_000];
const SIZES: [(&str, usize); 4] = [
    ("100B", 100),
    ("1KB", 1024),
    ("10KB", 10 * 1024),
    ("64KB", 64 * 1024),
];
/// The naive loop is checked and timed up to this pack size, and only where entries × bytes
/// stays under `NAIVE_MAX_WORK`: at 10,000 entries × 64 KB it takes 2 s a message.
const NAIVE_MAX_ENTRIES: usize = 10_000;
const NAIVE_MAX_WORK: usize = 10_000 * 10 * 1024;

/// "What most bots do": every entry's codes, patterns and keyword groups compiled separately
/// and tried in turn, on the same normalized text.
struct Naive {
    rules: Vec<(String, Vec<Regex>, Vec<Regex>, usize)>,
}

fn compile(source: &str) -> Regex {
    RegexBuilder::new(source)
        .case_insensitive(true)
        .build()
        .unwrap_or_else(|e| panic!("naive regex {source}: {e}"))
}

impl Naive {
    fn new(entries: &[Entry]) -> Naive {
        let rules = entries
            .iter()
            .map(|e| {
                let r = synthetic::peer_rules(e).expect("generated entries translate");
                let strong = r.strong.iter().map(|s| compile(s)).collect();
                let groups = r.keyword_groups.iter().map(|s| compile(s)).collect();
                (r.id, strong, groups, r.min_keywords)
            })
            .collect();
        Naive { rules }
    }

    /// Ids of the entries that would answer (kotae's auto-mode "confident").
    fn query(&self, text: &str) -> Vec<&str> {
        let n = normalize(text);
        let text = n.compact.as_str();
        let mut out = Vec::new();
        for (id, strong, groups, min) in &self.rules {
            let hit = strong.iter().any(|r| r.is_match(text)) || {
                let found = groups.iter().filter(|r| r.is_match(text)).count();
                found > 0 && found >= *min
            };
            if hit {
                out.push(id.as_str());
            }
        }
        out
    }
}

/// The target directory, from this executable's place in `<target>/release/deps/`.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("target"))
}

fn main() {
    let started = SystemTime::now();
    let out_dir = target_dir().join("criterion");
    let mut c = Criterion::default()
        .output_directory(&out_dir)
        .sample_size(10)
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .configure_from_args();

    for &n in &ENTRIES {
        let t = std::time::Instant::now();
        let pack = synthetic::pack(n);
        eprintln!("pack of {n} entries built in {:.2?}", t.elapsed());
        let naive = (n <= NAIVE_MAX_ENTRIES).then(|| Naive::new(pack.entries()));
        for &(size, bytes) in &SIZES {
            let naive = naive.as_ref().filter(|_| n * bytes <= NAIVE_MAX_WORK);
            let mix = synthetic::mix(n, bytes);
            let texts: Vec<&str> = mix.iter().map(|(_, m)| m.as_str()).collect();
            for (kind, text) in &mix {
                let ids = synthetic::answered_ids(&pack, text);
                if *kind != "nothing" {
                    assert!(
                        !ids.is_empty(),
                        "{n} entries, {size}: kotae missed the {kind}"
                    );
                }
                if let Some(naive) = naive {
                    let mut theirs: Vec<String> =
                        naive.query(text).into_iter().map(String::from).collect();
                    theirs.sort();
                    assert_eq!(ids, theirs, "{n} entries, {size}, {kind}: naive differs");
                }
            }
            let mut g = c.benchmark_group("kotae_auto");
            g.throughput(Throughput::Elements(texts.len() as u64));
            g.bench_with_input(BenchmarkId::new(n.to_string(), size), &texts, |b, ts| {
                b.iter(|| {
                    for t in ts {
                        black_box(pack.query(black_box(t), Mode::Auto));
                    }
                })
            });
            g.finish();
            if let Some(naive) = naive {
                let mut g = c.benchmark_group("naive_loop");
                g.throughput(Throughput::Elements(texts.len() as u64));
                g.bench_with_input(BenchmarkId::new(n.to_string(), size), &texts, |b, ts| {
                    b.iter(|| {
                        for t in ts {
                            black_box(naive.query(black_box(t)));
                        }
                    })
                });
                g.finish();
            }
        }
    }
    c.final_summary();
    print_table(&out_dir, started);
}

/// Criterion's median for one bench, in ns per message, if it ran in this process.
fn median_ns(dir: &Path, group: &str, n: usize, size: &str, since: SystemTime) -> Option<f64> {
    let file = dir
        .join(group)
        .join(n.to_string())
        .join(size)
        .join("new/estimates.json");
    let fresh = std::fs::metadata(&file).ok()?.modified().ok()? >= since;
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).ok()?).ok()?;
    let ns = json["median"]["point_estimate"].as_f64()?;
    fresh.then_some(ns / MIX_KINDS.len() as f64)
}

fn fmt_ns(ns: Option<f64>) -> String {
    match ns {
        None => "-".into(),
        Some(ns) if ns >= 1e6 => format!("{:.2} ms", ns / 1e6),
        Some(ns) if ns >= 1e3 => format!("{:.2} µs", ns / 1e3),
        Some(ns) => format!("{ns:.0} ns"),
    }
}

fn print_table(dir: &Path, since: SystemTime) {
    let mut kotae: BTreeMap<(usize, &str), f64> = BTreeMap::new();
    println!("\nns per message, auto mode, median (mix of {MIX_KINDS:?})\n");
    println!("| entries | size | kotae | naive loop | naive / kotae |");
    println!("|--------:|-----:|------:|-----------:|--------------:|");
    for &n in &ENTRIES {
        for &(size, _) in &SIZES {
            let k = median_ns(dir, "kotae_auto", n, size, since);
            let v = median_ns(dir, "naive_loop", n, size, since);
            if let Some(k) = k {
                kotae.insert((n, size), k);
            }
            let ratio = match (k, v) {
                (Some(k), Some(v)) => format!("{:.1}×", v / k),
                _ => "-".into(),
            };
            println!("| {n} | {size} | {} | {} | {ratio} |", fmt_ns(k), fmt_ns(v));
        }
    }
    println!("\nTargets (issue 6):");
    let at = |n, s| kotae.get(&(n, s)).copied();
    if let Some(k) = at(10_000, "1KB") {
        let ok = if k < 20_000.0 { "met" } else { "MISSED" };
        println!(
            "- 1 KB message at 10,000 entries under 20 µs: {} ({ok})",
            fmt_ns(Some(k))
        );
    }
    if let (Some(k), Some(v)) = (
        at(1_000, "1KB"),
        median_ns(dir, "naive_loop", 1_000, "1KB", since),
    ) {
        let ok = if v / k >= 20.0 { "met" } else { "MISSED" };
        println!(
            "- at least 20× faster than the naive loop at 1,000 entries, 1 KB: {:.1}× ({ok})",
            v / k
        );
    }
    for &(size, _) in &SIZES {
        if let (Some(a), Some(b)) = (at(100, size), at(10_000, size)) {
            let ok = if b / a < 3.0 { "met" } else { "MISSED" };
            println!(
                "- cost from 100 to 10,000 entries grows by less than 3× ({size}): {:.2}× ({ok})",
                b / a
            );
        }
    }
}
