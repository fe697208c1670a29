//! Benchmark helper for the peer comparison and for instruction counts (`bench/`).
//!
//! `peer_export export --entries N --bytes 1024,10240 --out pack.json` writes a generated pack
//! translated for the peers (`synthetic::peer_rules`), the message mix normalized the way
//! kotae normalizes it (the peers do no NFKC), the entries kotae answers with for each message,
//! and kotae's own throughput on the same (raw) messages, timed in this process.
//!
//! `peer_export repeat --entries N --bytes 1024 --rounds R` builds the pack, matches the mix
//! once to warm up, then R times through `Pack::query`, for `bench/callgrind.sh`.

use std::time::{Duration, Instant};

use kotae::matcher::normalize;
use kotae::synthetic;
use kotae::{Mode, Pack};
use serde_json::json;

fn usage() -> ! {
    eprintln!(
        "usage: peer_export export --entries N --bytes B[,B…] --out FILE\n       \
         peer_export repeat --entries N --bytes B --rounds R"
    );
    std::process::exit(2)
}

struct Args {
    entries: usize,
    bytes: Vec<usize>,
    out: Option<String>,
    rounds: usize,
}

fn parse(mut it: impl Iterator<Item = String>) -> Args {
    let mut a = Args {
        entries: 1000,
        bytes: vec![1024],
        out: None,
        rounds: 1,
    };
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--entries" => a.entries = value.parse().unwrap_or_else(|_| usage()),
            "--bytes" => {
                a.bytes = value
                    .split(',')
                    .map(|b| b.parse().unwrap_or_else(|_| usage()))
                    .collect()
            }
            "--out" => a.out = Some(value),
            "--rounds" => a.rounds = value.parse().unwrap_or_else(|_| usage()),
            _ => usage(),
        }
    }
    a
}

/// Messages per second for kotae on `texts`, auto mode, over about one second.
fn kotae_throughput(pack: &Pack, texts: &[String]) -> f64 {
    let mut done = 0usize;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(1) {
        for t in texts {
            std::hint::black_box(pack.query(std::hint::black_box(t), Mode::Auto));
        }
        done += texts.len();
    }
    done as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_else(|| usage());
    let a = parse(args);
    let pack = synthetic::pack(a.entries);
    match command.as_str() {
        "repeat" => {
            let mix = synthetic::mix(a.entries, a.bytes[0]);
            // Warm up (regex caches, lazy DFA states) through `query_normalized`, which
            // `callgrind --toggle-collect='*Pack>::query'` does not count.
            for (_, text) in &mix {
                pack.query_normalized(&normalize(text), Mode::Auto);
            }
            for _ in 0..a.rounds {
                for (_, text) in &mix {
                    std::hint::black_box(pack.query(std::hint::black_box(text), Mode::Auto));
                }
            }
            println!("{} messages matched", a.rounds * mix.len());
        }
        "export" => {
            let out = a.out.unwrap_or_else(|| usage());
            let rules: Vec<_> = pack
                .entries()
                .iter()
                .map(|e| {
                    let r = synthetic::peer_rules(e).expect("generated entries translate");
                    json!({
                        "id": r.id,
                        "strong": r.strong,
                        "keyword_groups": r.keyword_groups,
                        "min_keywords": r.min_keywords,
                    })
                })
                .collect();
            let sets: Vec<_> = a
                .bytes
                .iter()
                .map(|&bytes| {
                    let mix = synthetic::mix(a.entries, bytes);
                    let texts: Vec<String> = mix.iter().map(|(_, t)| t.clone()).collect();
                    let messages: Vec<_> = mix
                        .iter()
                        .map(|(kind, text)| {
                            let ids = synthetic::answered_ids(&pack, text);
                            json!({
                                "kind": kind,
                                "text": normalize(text).compact,
                                "expected": ids,
                            })
                        })
                        .collect();
                    let per_s = kotae_throughput(&pack, &texts);
                    eprintln!(
                        "kotae: {} entries, {bytes} B: {per_s:.0} messages/s",
                        a.entries
                    );
                    json!({ "bytes": bytes, "messages": messages, "kotae_per_s": per_s })
                })
                .collect();
            let doc = json!({ "entries": rules, "sets": sets });
            std::fs::write(&out, serde_json::to_vec(&doc).expect("json")).unwrap_or_else(|e| {
                eprintln!("cannot write {out}: {e}");
                std::process::exit(2)
            });
        }
        _ => usage(),
    }
}
