//! The Discord half of issue 6's running-bot load test: `kotae serve` as a process, fed
//! MESSAGE_CREATE dispatches at fixed rates through the fake Discord gateway of the tests.
//!
//! `discord_load --kotae BIN [--rates R,R…] [--step-secs S] [--channels N]`: starts the fake
//! Discord of `tests/support/fake_discord.rs` (REST + WebSocket gateway) in this process with
//! its recording and OpenAPI validation replaced by a cheap tap, writes a config
//! (`cooldown_secs = 0`, N support channels, `rest_proxy` = the fake, a SQLite store) into a
//! temporary folder, starts `BIN serve` on it and waits for one paste to be answered. Then, for
//! each rate, it dispatches MESSAGE_CREATE events (distinct message ids, a paste the shipped
//! pack answers, round-robin over the channels) for S seconds on the one gateway connection
//! and prints: events dispatched, replies received (`POST /channels/{id}/messages`), the 👍/👎
//! reactions and any other REST calls, event → reply POST latency p50/p99/max (from when each
//! event was due, so a late driver is not hidden), kotae's CPU µs per event and resident
//! memory, and this driver's own CPU µs per event (it shares the machine with kotae).

#[path = "load_common/mod.rs"]
mod load_common;
// The fake's `use super::openapi::OpenApi` resolves to this crate root.
#[allow(dead_code)]
#[path = "../tests/support/fake_discord.rs"]
mod fake_discord;
#[allow(dead_code)]
#[path = "../tests/support/openapi.rs"]
mod openapi;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use fake_discord::{user, FakeDiscord, Faults, GUILD_ID};
use load_common::{cpu_secs, loadavg, mib, paced, pct, rss, timeline, Killer, MAX_EVENTS};
use serde_json::{json, Value};

/// A paste the shipped pack answers with confidence.
const PASTE: &str = "本人認証に不正が検知しました。(MW1M01AJ0004)";
/// Support channels are `CHANNEL_BASE + i`.
const CHANNEL_BASE: u64 = 100_000_000_000_000_001;
/// Message `seq` has the id `MSG_BASE + seq`; the reply's `message_reference` tells which.
const MSG_BASE: u64 = 300_000_000_000_000_000;

fn usage() -> ! {
    eprintln!("usage: discord_load --kotae BIN [--rates R,R…] [--step-secs S] [--channels N]");
    std::process::exit(2)
}

/// What the fake's tap counts.
struct Counts {
    /// Event → reply POST latencies, nanoseconds.
    replies_lat: Mutex<Vec<u64>>,
    replies: AtomicU64,
    reactions: AtomicU64,
    other: AtomicU64,
}

fn clock() -> &'static Counts {
    static C: OnceLock<Counts> = OnceLock::new();
    C.get_or_init(|| Counts {
        replies_lat: Mutex::new(Vec::new()),
        replies: AtomicU64::new(0),
        reactions: AtomicU64::new(0),
        other: AtomicU64::new(0),
    })
}

/// Counts each REST request kotae makes; times the replies.
fn tap(method: &axum::http::Method, path: &str, body: Option<&Value>) {
    let now = timeline().nanos();
    let c = clock();
    let is_reply = method == axum::http::Method::POST
        && path.starts_with("/api/v10/channels/")
        && path.ends_with("/messages");
    if is_reply {
        let seq = body
            .and_then(|b| b["message_reference"]["message_id"].as_str())
            .and_then(|id| id.parse::<u64>().ok())
            .and_then(|id| id.checked_sub(MSG_BASE));
        if let Some(lat) = seq.and_then(|s| timeline().since_due(s as usize, now)) {
            c.replies_lat.lock().unwrap().push(lat);
        }
        c.replies.fetch_add(1, Ordering::Relaxed);
    } else if method == axum::http::Method::PUT && path.contains("/reactions/") {
        c.reactions.fetch_add(1, Ordering::Relaxed);
    } else {
        c.other.fetch_add(1, Ordering::Relaxed);
    }
}

struct Args {
    kotae: Option<PathBuf>,
    rates: Vec<f64>,
    step_secs: f64,
    channels: u64,
}

fn parse(mut it: impl Iterator<Item = String>) -> Args {
    let mut a = Args {
        kotae: None,
        rates: vec![200.0, 500.0, 1000.0, 2000.0],
        step_secs: 5.0,
        channels: 1,
    };
    while let Some(flag) = it.next() {
        let v = it.next().unwrap_or_else(|| usage());
        let num = |v: &str| v.parse::<f64>().unwrap_or_else(|_| usage());
        match flag.as_str() {
            "--kotae" => a.kotae = Some(v.into()),
            "--rates" => a.rates = v.split(',').filter(|s| !s.is_empty()).map(num).collect(),
            "--step-secs" => a.step_secs = num(&v),
            "--channels" => a.channels = (num(&v) as u64).max(1),
            _ => usage(),
        }
    }
    a
}

fn write_config(dir: &Path, channels: u64, rest: &str) -> PathBuf {
    let list: Vec<String> = (0..channels)
        .map(|i| format!("\"{}\"", CHANNEL_BASE + i))
        .collect();
    let path = dir.join("kotae.toml");
    std::fs::write(
        &path,
        format!(
            "cooldown_secs = 0\ndatabase = \"kotae.db\"\n[discord]\nsupport_channels = [{}]\nshards = 1\nrest_proxy = \"{rest}\"\n",
            list.join(", ")
        ),
    )
    .unwrap();
    path
}

/// MESSAGE_CREATE for event `seq`, as Discord dispatches it.
fn event(fake: &FakeDiscord, seq: usize, channels: u64) -> Value {
    let mut m = fake.message(
        CHANNEL_BASE + seq as u64 % channels,
        Some(GUILD_ID),
        user(200, "someone", false),
        PASTE,
    );
    m["id"] = json!((MSG_BASE + seq as u64).to_string());
    m
}

/// Waits until `n` replies in all have arrived, at most `limit`; whether they did.
async fn wait_replies(n: u64, limit: Duration) -> bool {
    let start = Instant::now();
    while clock().replies.load(Ordering::Relaxed) < n {
        if start.elapsed() > limit {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

async fn run(a: Args) {
    let kotae = a.kotae.clone().unwrap_or_else(|| usage());
    println!(
        "# discord_load: shipped pack, {} support channel(s), 2-core machine shared with other work; load average at start: {}",
        a.channels,
        loadavg()
    );
    let fake = FakeDiscord::start(Faults::default()).await;
    fake.tap(Box::new(tap));
    let dir = std::env::temp_dir().join(format!("kotae-discord-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = write_config(&dir, a.channels, &fake.rest_url);

    let spawned = Instant::now();
    let child = Command::new(&kotae)
        .args(["serve", "--config"])
        .arg(&config)
        .env("DISCORD_TOKEN", "bench-token")
        .env("KOTAE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("kotae serve starts");
    let pid = child.id();
    let _guard = Killer(child);
    fake.wait_frame(2, 1).await;
    let identified = spawned.elapsed();
    // The first paste is answered once the client has handled READY.
    let mut seq = 1usize;
    let ready = Instant::now();
    loop {
        timeline().due_now(seq);
        fake.dispatch("MESSAGE_CREATE", event(&fake, seq, a.channels));
        seq += 1;
        if wait_replies(1, Duration::from_millis(200)).await {
            break;
        }
        assert!(
            ready.elapsed() < Duration::from_secs(60),
            "kotae never answered the first paste"
        );
    }
    println!(
        "start: IDENTIFY after {:.0} ms, first paste answered after {:.0} ms (from spawn); VmRSS {} (load {})",
        identified.as_secs_f64() * 1e3,
        spawned.elapsed().as_secs_f64() * 1e3,
        mib(rss(pid).0),
        loadavg()
    );
    // Let the first answer's reactions land.
    tokio::time::sleep(Duration::from_secs(1)).await;

    println!("\n| rate offered /s | dispatched | dispatched/s | replies | reactions | other REST | event→reply p50 ms | p99 ms | max ms | kotae CPU µs/event | kotae VmRSS (HWM) | driver CPU µs/event | load |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|");
    for &rate in &a.rates {
        let count = (rate * a.step_secs) as usize;
        if seq + count >= MAX_EVENTS {
            eprintln!("more than {MAX_EVENTS} events in all; stopping");
            break;
        }
        // Built ahead of time so the dispatch loop only serializes and sends.
        let events: Vec<Value> = (0..count)
            .map(|i| event(&fake, seq + i, a.channels))
            .collect();
        let c = clock();
        c.replies_lat.lock().unwrap().clear();
        let (replies0, reactions0, other0) = (
            c.replies.load(Ordering::Relaxed),
            c.reactions.load(Ordering::Relaxed),
            c.other.load(Ordering::Relaxed),
        );
        let cpu_before = cpu_secs(pid);
        let own_before = cpu_secs(std::process::id());
        let mut events = events.into_iter();
        let took = paced(rate, count, |i, due| {
            timeline().set_due(seq + i, due);
            fake.dispatch(
                "MESSAGE_CREATE",
                events.next().expect("one event per message"),
            );
        })
        .await
        .as_secs_f64();
        seq += count;
        // Let the replies and their reactions drain (at most 30 s).
        wait_replies(replies0 + count as u64, Duration::from_secs(30)).await;
        let drain = Instant::now();
        while c.reactions.load(Ordering::Relaxed) < reactions0 + 2 * count as u64
            && drain.elapsed() < Duration::from_secs(10)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let cpu = cpu_secs(pid) - cpu_before;
        // The driver shares the machine: its CPU is what kotae could not have.
        let own = cpu_secs(std::process::id()) - own_before;
        let (now, hwm) = rss(pid);
        let mut lat = std::mem::take(&mut *c.replies_lat.lock().unwrap());
        lat.sort_unstable();
        println!(
            "| {rate:.0} | {count} | {:.0} | {} | {} | {} | {:.2} | {:.2} | {:.2} | {:.0} | {} ({}) | {:.0} | {} |",
            count as f64 / took,
            c.replies.load(Ordering::Relaxed) - replies0,
            c.reactions.load(Ordering::Relaxed) - reactions0,
            c.other.load(Ordering::Relaxed) - other0,
            pct(&lat, 0.5),
            pct(&lat, 0.99),
            pct(&lat, 1.0),
            cpu * 1e6 / count as f64,
            mib(now),
            mib(hwm),
            own * 1e6 / count as f64,
            loadavg()
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let a = parse(std::env::args().skip(1));
    tokio::runtime::Runtime::new().unwrap().block_on(run(a));
}
