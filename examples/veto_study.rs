//! The chatter veto's study (docs/status.md): how it would have done on each corpus batch's
//! first run, learning only from the batches written before it.
//!
//! `bench/veto_study.sh` rebuilds kotae at the commit of each batch's first run (named in
//! tests/corpus/README.md) and saves what those rules answered on the batch's dev share
//! (`kotae eval --json`, one `bN.json` per batch). This program then trains the model on the
//! dev cases of earlier batches, scores the batch, and counts, per threshold, the reports the
//! rules answered that the veto would have silenced and the false replies it would have
//! removed. That is the situation of the holdout: rules tuned on other messages, new voices.
//! kotae leaves messages with a code, or mostly the pasted error, to the rules: the false
//! replies on a code are never counted as removed here; the first runs do not say which
//! reports had one, so every answered report counts as judged (an upper bound on the cost).
//!
//! `cargo run --release --example veto_study -- FIRST_RUN_DIR [tests/corpus/dev]`

use std::collections::HashSet;
use std::path::PathBuf;

use kotae::eval::{load_cases, training_examples, Case};
use kotae::matcher::chatter::{train, Training};

fn batch(case: &Case) -> u32 {
    let file = case.at.rsplit('/').next().unwrap_or_default();
    file.strip_prefix("batch")
        .and_then(|r| r.split('-').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let first_runs = PathBuf::from(args.next().expect("FIRST_RUN_DIR"));
    let dev = PathBuf::from(args.next().unwrap_or_else(|| "tests/corpus/dev".into()));
    let pack = kotae::builtin_pack()?;
    let cases = load_cases(&[dev])?;
    let thresholds = [0.1f32, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5];
    // Per threshold: reports answered, vetoed; false replies, vetoed.
    let mut tally = vec![[0usize; 4]; thresholds.len()];
    let mut batches: Vec<u32> = cases.iter().map(batch).collect();
    batches.sort_unstable();
    batches.dedup();
    for b in batches {
        let Ok(json) = std::fs::read_to_string(first_runs.join(format!("b{b}.json"))) else {
            continue;
        };
        let v: serde_json::Value = serde_json::from_str(&json)?;
        let figures = &v["sets"][0]["figures"];
        let texts = |key: &str| -> HashSet<String> {
            figures[key]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|f| f["text"].as_str().map(str::to_string))
                .collect()
        };
        let (false_replies, misses) = (texts("false_replies"), texts("misses"));
        // A false reply on a code is left to the rules (src/matcher/mod.rs): never vetoed.
        let on_codes: HashSet<String> = figures["false_replies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| {
                f["evidence"].as_array().into_iter().flatten().any(|e| {
                    let e = e.as_str().unwrap_or_default();
                    [
                        "code ",
                        "the end of code",
                        "family pattern",
                        "near-miss code",
                    ]
                    .iter()
                    .any(|k| e.starts_with(k))
                })
            })
            .filter_map(|f| f["text"].as_str().map(str::to_string))
            .collect();
        let earlier: Vec<Case> = cases.iter().filter(|c| batch(c) < b).cloned().collect();
        let model = train(&training_examples(&pack, &earlier)?, Training::default());
        let mut here = [0usize; 4];
        for c in cases.iter().filter(|c| batch(c) == b && !c.lookup) {
            let report = c.expect.is_some();
            let answered = if report {
                !misses.contains(&c.text)
            } else {
                false_replies.contains(&c.text)
            };
            if !answered {
                continue;
            }
            let p = 1.0 / (1.0 + (-model.score(&pack.read(&c.text).spaced)).exp());
            let at = if report { 0 } else { 2 };
            for (i, t) in thresholds.iter().enumerate() {
                let vetoed = usize::from(p < *t && !on_codes.contains(&c.text));
                tally[i][at] += 1;
                tally[i][at + 1] += vetoed;
                if *t == 0.25 {
                    here[at] += 1;
                    here[at + 1] += vetoed;
                }
            }
        }
        println!(
            "batch {b}: at 0.25, reports silenced {}/{}, false replies removed {}/{}",
            here[1], here[0], here[3], here[2]
        );
    }
    println!("| threshold | reports silenced | false replies removed |");
    println!("|---:|---:|---:|");
    for (t, a) in thresholds.iter().zip(&tally) {
        println!(
            "| {t} | {}/{} ({:.1}%) | {}/{} ({:.1}%) |",
            a[1],
            a[0],
            100.0 * a[1] as f64 / a[0].max(1) as f64,
            a[3],
            a[2],
            100.0 * a[3] as f64 / a[2].max(1) as f64
        );
    }
    Ok(())
}
