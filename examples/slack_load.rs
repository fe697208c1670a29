//! The running-bot benchmarks of issue 6: `kotae serve` as a process, driven from this one.
//!
//! `slack_load pack --entries N --out FILE` writes `synthetic::entries(N)` as a knowledge file.
//!
//! `slack_load run --kotae BIN [--entries N] [--messages M] [--rates R,R…] [--step-secs S] [--reloads N]`:
//! starts a fake Slack Web API (`auth.test`, `chat.postMessage`) in this process, writes a
//! config (`[slack] mode = "http"`, a support channel, a SQLite store, `ops_listen`) into a
//! temporary folder, and starts `BIN serve` on it, with the built-in pack (`--entries 0`, the
//! default) or a generated pack of N entries in a watched folder. It then prints:
//! the time to start (process spawned → Events receiver accepts connections → `/healthz` ok),
//! the resident memory idle, after M messages (all answered, `kotae_messages_total` checked),
//! the hot-reload time of the pack for each of `--reloads` reloads (default 2, alternately
//! file edited and file edited then SIGHUP: until an event naming a new entry gets its
//! `chat.postMessage`) with the resident memory after each, so growth and plateau show, and,
//! for each rate in `--rates`, a fixed-rate step of signed events over keep-alive
//! connections: acks per second, p50/p99 ack latency (from the time each request was due, so
//! a stalled server is not hidden), and event → `chat.postMessage` latency at the fake API.
//!
//! `--replicas N` (issue 16) starts N `kotae serve` processes on the database named by
//! `KOTAE_DATABASE` (a `postgres://` URL: each replica's own SQLite file would not be one
//! bot) and sends event `seq` to replica `seq % N`, as a load balancer would; the figures are
//! over all replicas (CPU summed; memory of the first). Only the rate steps run then.

#[path = "load_common/mod.rs"]
mod load_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::Path as UrlPath;
use axum::routing::post;
use axum::{Json, Router};
use kotae::synthetic;
use load_common::{cpu_secs, free_port, loadavg, mib, paced, pct, rss, timeline, Killer};
use serde_json::{json, Value};

const SECRET: &str = "bench-signing-secret";
const BOT_TOKEN: &str = "xoxb-bench";
const CHANNEL: &str = "C0BENCH01";
/// A paste the shipped pack answers with confidence.
const SHIPPED_PASTE: &str = "本人認証に不正が検知しました。(MW1M01AJ0004)";
/// Event `ts` are `BASE_TS.<seq>`; the reply's `thread_ts` tells which event it answers.
const BASE_TS: u64 = 1_700_000_000;

fn usage() -> ! {
    eprintln!(
        "usage: slack_load pack --entries N --out FILE\n       \
         slack_load run --kotae BIN [--entries N] [--messages M] [--rates R,R…] [--step-secs S] [--conns C] [--reloads N] [--replicas N]"
    );
    std::process::exit(2)
}

/// What the fake Web API counts.
struct Posts {
    /// Event → chat.postMessage latencies, nanoseconds.
    lat: Mutex<Vec<u64>>,
    posted: AtomicU64,
}

fn clock() -> &'static Posts {
    static C: OnceLock<Posts> = OnceLock::new();
    C.get_or_init(|| Posts {
        lat: Mutex::new(Vec::new()),
        posted: AtomicU64::new(0),
    })
}

async fn web_api(UrlPath(method): UrlPath<String>, body: Bytes) -> Json<Value> {
    match method.as_str() {
        "auth.test" => {
            Json(json!({"ok": true, "user_id": "U0KOTAE", "bot_id": "B0KOTAE", "team": "T0BENCH"}))
        }
        "chat.postMessage" => {
            let now = timeline().nanos();
            // kotae posts JSON; the answered event's sequence number is in its thread_ts.
            // Only that field is read (no tree of the whole answer): the driver shares the
            // CPU with kotae, so its own cost is kept low.
            #[derive(serde::Deserialize)]
            struct Args<'a> {
                #[serde(borrow)]
                thread_ts: Option<&'a str>,
            }
            let args: Option<Args> = serde_json::from_slice(&body).ok();
            let c = clock();
            if let Some(ts) = args.and_then(|a| a.thread_ts) {
                let seq = ts.split('.').nth(1).and_then(|s| s.parse::<usize>().ok());
                if let Some(lat) = seq.and_then(|seq| timeline().since_due(seq, now)) {
                    c.lat.lock().unwrap().push(lat);
                }
            }
            let n = c.posted.fetch_add(1, Ordering::Relaxed);
            Json(json!({"ok": true, "ts": format!("{BASE_TS}.{n:06}"), "channel": CHANNEL}))
        }
        _ => Json(json!({"ok": false, "error": "unknown_method"})),
    }
}

/// One knowledge file holding `synthetic::entries(n)` (plus `extra` entries named `extra-…`,
/// for the reload test), in the format of `knowledge/README.md`.
fn pack_toml(n: usize, extra: usize) -> String {
    use std::fmt::Write;
    let mut out = String::from("format_version = 2\n");
    let q = |s: &str| toml_str(s);
    for e in synthetic::entries(n) {
        let _ = write!(
            out,
            "\n[[entry]]\nid = {}\nservices = [{}]\ntitle = {{ ja = {} }}\ncodes = [{}]\npatterns = [{}]\n",
            q(&e.id),
            e.services.iter().map(|s| q(s)).collect::<Vec<_>>().join(", "),
            q(&e.title.ja),
            e.codes.iter().map(|s| q(s)).collect::<Vec<_>>().join(", "),
            e.patterns.iter().map(|s| q(s)).collect::<Vec<_>>().join(", "),
        );
        if !e.keywords.is_empty() {
            let groups: Vec<String> = e.keywords.iter().map(|g| q(&g.join("|"))).collect();
            let _ = writeln!(
                out,
                "keywords = [{}]\nmin_keywords = {}",
                groups.join(", "),
                e.min_keywords
            );
        }
        let _ = write!(
            out,
            "cause = {{ ja = {} }}\nsteps = [{}]\nexamples = [{}]\nreported = {}\nchecked = {}\nsources = [\"generated\"]\n",
            q(&e.cause.ja),
            e.steps.iter().map(|s| format!("{{ ja = {} }}", q(&s.ja))).collect::<Vec<_>>().join(", "),
            e.examples.iter().map(|s| q(s)).collect::<Vec<_>>().join(", "),
            e.reported,
            e.checked,
        );
    }
    for i in 0..extra {
        let _ = write!(
            out,
            "\n[[entry]]\nid = \"extra-{i}\"\nservices = [\"extra\"]\ntitle = {{ ja = \"追加 {i}\" }}\ncodes = [\"XTRA{i:08}\"]\ncause = {{ ja = \"原因\" }}\nsteps = [{{ ja = \"手順\" }}]\nexamples = [\"XTRA{i:08}\"]\nreported = 2025-12-28\nchecked = 2025-12-28\nsources = [\"generated\"]\n"
        );
    }
    out
}

fn toml_str(s: &str) -> String {
    // Basic strings: escape backslashes and quotes (the generated texts have no control characters).
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A signed `/slack/events` request: (timestamp header, signature, body).
fn signed_event(seq: usize, event_id_prefix: &str, text: &str) -> (String, String, Vec<u8>) {
    let body = json!({
        "token": "t", "team_id": "T0BENCH", "api_app_id": "A0KOTAE", "type": "event_callback",
        "event_id": format!("Ev{event_id_prefix}{seq:09}"), "event_time": unix_now(),
        "event": {"type": "message", "channel": CHANNEL, "channel_type": "channel",
                  "user": "U0PERSON1", "text": text, "ts": format!("{BASE_TS}.{seq:06}")},
    })
    .to_string()
    .into_bytes();
    let stamp = unix_now().to_string();
    let sig = kotae::adapters::slack::signature::sign(SECRET.as_bytes(), &stamp, &body);
    (stamp, sig, body)
}

struct Bench {
    client: reqwest::Client,
    /// Each replica's Events URL; event `seq` goes to `events_urls[seq % len]`.
    events_urls: Vec<String>,
    ops: String,
    next_seq: usize,
    entries: usize,
    /// Requests in flight at most, so keep-alive connections at most.
    conns: usize,
}

impl Bench {
    /// The paste for event `seq`: with a generated pack, each names a different entry so the
    /// channel cooldown does not silence it.
    fn text(&self, seq: usize) -> String {
        if self.entries == 0 {
            SHIPPED_PASTE.to_string()
        } else {
            format!("エラー GEN{:08} が出ました", seq % self.entries)
        }
    }

    async fn send(
        &self,
        seq: usize,
        req: (String, String, Vec<u8>),
    ) -> Result<u16, reqwest::Error> {
        let (stamp, sig, body) = req;
        self.client
            .post(&self.events_urls[seq % self.events_urls.len()])
            .header("content-type", "application/json")
            .header("x-slack-request-timestamp", stamp)
            .header("x-slack-signature", sig)
            .body(body)
            .send()
            .await
            .map(|r| r.status().as_u16())
    }

    async fn metric(&self, name: &str) -> f64 {
        let Ok(r) = self
            .client
            .get(format!("{}/metrics", self.ops))
            .send()
            .await
        else {
            return -1.0;
        };
        let text = r.text().await.unwrap_or_default();
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(-1.0)
    }

    /// Sends `count` events at `rate` per second (open loop over at most `conns` connections)
    /// and returns the ack latencies (ns, from when each was due), the failures and the
    /// events not sent because too many were waiting.
    async fn step(
        self: &Arc<Self>,
        rate: f64,
        count: usize,
        texts: impl Fn(usize) -> String,
    ) -> (Vec<u64>, usize, usize, Duration) {
        let first = self.next_seq;
        // Signed ahead of time so the generator's own hashing is not in the measured loop.
        let reqs: Vec<_> = (0..count)
            .map(|i| signed_event(first + i, "L", &texts(first + i)))
            .collect();
        let lat = Arc::new(Mutex::new(Vec::with_capacity(count)));
        let failed = Arc::new(AtomicU64::new(0));
        let sem = Arc::new(tokio::sync::Semaphore::new(self.conns));
        let skipped = 0;
        let mut tasks = tokio::task::JoinSet::new();
        let mut reqs = reqs.into_iter();
        let took = paced(rate, count, |i, due| {
            let req = reqs.next().expect("one request per event");
            timeline().set_due(first + i, due);
            let (me, lat, failed, sem) = (self.clone(), lat.clone(), failed.clone(), sem.clone());
            tasks.spawn(async move {
                // Waits for a free connection: queueing shows up in the latency.
                let permit = sem.acquire_owned().await.unwrap();
                let ok = matches!(me.send(first + i, req).await, Ok(200));
                let done = timeline().nanos();
                drop(permit);
                if ok {
                    lat.lock().unwrap().push(done.saturating_sub(due));
                } else {
                    failed.fetch_add(1, Ordering::Relaxed);
                }
            });
        })
        .await;
        while tasks.join_next().await.is_some() {}
        let lat = std::mem::take(&mut *lat.lock().unwrap());
        (lat, failed.load(Ordering::Relaxed) as usize, skipped, took)
    }
}

struct Args {
    kotae: Option<PathBuf>,
    entries: usize,
    messages: usize,
    rates: Vec<f64>,
    step_secs: f64,
    out: Option<PathBuf>,
    conns: usize,
    /// Hot reloads in a row, alternately by file edit and by SIGHUP.
    reloads: usize,
    /// `kotae serve` processes on one PostgreSQL database.
    replicas: usize,
}

fn parse(mut it: impl Iterator<Item = String>) -> Args {
    let mut a = Args {
        kotae: None,
        entries: 0,
        messages: 10_000,
        rates: Vec::new(),
        step_secs: 5.0,
        out: None,
        conns: 256,
        reloads: 2,
        replicas: 1,
    };
    while let Some(flag) = it.next() {
        let v = it.next().unwrap_or_else(|| usage());
        let num = |v: &str| v.parse::<f64>().unwrap_or_else(|_| usage());
        match flag.as_str() {
            "--kotae" => a.kotae = Some(v.into()),
            "--entries" => a.entries = num(&v) as usize,
            "--messages" => a.messages = num(&v) as usize,
            "--rates" => a.rates = v.split(',').filter(|s| !s.is_empty()).map(num).collect(),
            "--step-secs" => a.step_secs = num(&v),
            "--out" => a.out = Some(v.into()),
            "--conns" => a.conns = num(&v) as usize,
            "--reloads" => a.reloads = num(&v) as usize,
            "--replicas" => a.replicas = (num(&v) as usize).max(1),
            _ => usage(),
        }
    }
    a
}

fn write_config(dir: &Path, entries: usize, listen: u16, ops: u16, api: u16) -> PathBuf {
    let knowledge = if entries > 0 {
        "knowledge = \"knowledge\"\n"
    } else {
        ""
    };
    let path = dir.join("kotae.toml");
    std::fs::write(
        &path,
        format!(
            "{knowledge}cooldown_secs = 0\ndatabase = \"kotae.db\"\nops_listen = \"127.0.0.1:{ops}\"\n\
             [slack]\nmode = \"http\"\nlisten = \"127.0.0.1:{listen}\"\nsupport_channels = [\"{CHANNEL}\"]\n\
             api_base_url = \"http://127.0.0.1:{api}/api/\"\n"
        ),
    )
    .unwrap();
    path
}

async fn wait_until(what: &str, limit: Duration, mut f: impl AsyncFnMut() -> bool) -> Duration {
    let start = Instant::now();
    while !f().await {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    start.elapsed()
}

async fn run(a: Args) {
    let kotae = a.kotae.clone().unwrap_or_else(|| usage());
    println!(
        "# slack_load: {} pack, 2-core machine shared with other work; load average at start: {}",
        if a.entries == 0 {
            "built-in (shipped)".to_string()
        } else {
            format!("{}-entry generated", a.entries)
        },
        loadavg()
    );
    // The fake Web API.
    let api_port = free_port();
    let app = Router::new().route("/api/{method}", post(web_api));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", api_port))
        .await
        .unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = std::env::temp_dir().join(format!("kotae-slack-load-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("knowledge")).unwrap();
    let pack_file = dir.join("knowledge").join("generated.toml");
    if a.entries > 0 {
        std::fs::write(&pack_file, pack_toml(a.entries, 0)).unwrap();
    }
    if a.replicas > 1 {
        let db = std::env::var("KOTAE_DATABASE").unwrap_or_default();
        assert!(
            db.starts_with("postgres://") || db.starts_with("postgresql://"),
            "--replicas needs KOTAE_DATABASE=postgres://… (one database for all replicas)"
        );
        assert!(
            a.entries == 0 && a.messages == 0,
            "--replicas runs the rate steps only (--entries 0 --messages 0)"
        );
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(usize::MAX)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut pids = Vec::new();
    let mut guards = Vec::new();
    let mut events_urls = Vec::new();
    let mut ops_urls = Vec::new();
    for r in 0..a.replicas {
        let rdir = if r == 0 {
            dir.clone()
        } else {
            let d = dir.join(format!("replica{r}"));
            std::fs::create_dir_all(&d).unwrap();
            d
        };
        let (listen, ops) = (free_port(), free_port());
        let config = write_config(&rdir, a.entries, listen, ops, api_port);
        let child = Command::new(&kotae)
            .args(["serve", "--config"])
            .arg(&config)
            .env("SLACK_BOT_TOKEN", BOT_TOKEN)
            .env("SLACK_SIGNING_SECRET", SECRET)
            .env("KOTAE_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("kotae serve starts");
        pids.push(child.id());
        guards.push(Killer(child));
        let listening = wait_until(
            "the Events receiver",
            Duration::from_secs(120),
            async || {
                tokio::net::TcpStream::connect(("127.0.0.1", listen))
                    .await
                    .is_ok()
            },
        )
        .await;
        let ops_url = format!("http://127.0.0.1:{ops}");
        let healthy = {
            let c = client.clone();
            let url = format!("{ops_url}/healthz");
            wait_until(
                "/healthz",
                Duration::from_secs(120),
                async || matches!(c.get(&url).send().await, Ok(r) if r.status().is_success()),
            )
            .await
        };
        println!(
            "start{}: Events receiver listening after {:.0} ms, /healthz ok after {:.0} ms (from spawn; load {})",
            if a.replicas > 1 { format!(" of replica {r}") } else { String::new() },
            listening.as_secs_f64() * 1e3,
            (listening + healthy).as_secs_f64() * 1e3,
            loadavg()
        );
        events_urls.push(format!("http://127.0.0.1:{listen}/slack/events"));
        ops_urls.push(ops_url);
    }
    let pid = pids[0];
    let _guards = guards;
    let ops_url = ops_urls[0].clone();
    let mut bench = Bench {
        client,
        events_urls,
        ops: ops_url,
        next_seq: 1,
        entries: a.entries,
        conns: a.conns,
    };
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (idle, idle_hwm) = rss(pid);
    println!(
        "memory idle (2 s after ready): VmRSS {} (VmHWM {}); target < 30 MB with the shipped pack",
        mib(idle),
        mib(idle_hwm)
    );

    // M messages, each answered (cooldown 0), at a moderate fixed rate.
    if a.messages > 0 {
        let m = a.messages;
        let b = Arc::new(bench);
        let before = b.metric("kotae_messages_total").await.max(0.0);
        let posted_before = clock().posted.load(Ordering::Relaxed);
        let (lat, failed, skipped, took) = {
            let b2 = b.clone();
            b.step(1000.0, m, move |s| b2.text(s)).await
        };
        bench = Arc::try_unwrap(b).ok().unwrap();
        bench.next_seq += m;
        let b = &bench;
        wait_until(
            "all messages matched",
            Duration::from_secs(120),
            async || b.metric("kotae_messages_total").await >= before + m as f64,
        )
        .await;
        wait_until("all answers posted", Duration::from_secs(120), async || {
            clock().posted.load(Ordering::Relaxed) >= posted_before + m as u64
        })
        .await;
        let (after, hwm) = rss(pid);
        println!(
            "memory after {m} messages (sent at 1,000/s in {:.1} s, {} acked, {failed} failed, {skipped} not sent, all answered): VmRSS {} (VmHWM {})",
            took.as_secs_f64(),
            lat.len(),
            mib(after),
            mib(hwm)
        );
        tokio::time::sleep(Duration::from_secs(3)).await;
        let (later, hwm) = rss(pid);
        println!(
            "memory 3 s later: VmRSS {} (VmHWM {}) (load {})",
            mib(later),
            mib(hwm),
            loadavg()
        );
    }

    // Hot reload: the file watcher (polls every second), then SIGHUP.
    if a.entries > 0 {
        for round in 1..=a.reloads {
            let by_signal = round % 2 == 0;
            let how = if by_signal {
                "SIGHUP"
            } else {
                "file edit (watcher)"
            };
            let reloads = bench.metric("kotae_reloads_total{result=\"ok\"}").await;
            std::fs::write(&pack_file, pack_toml(a.entries, round)).unwrap();
            let t0 = Instant::now();
            if by_signal {
                let _ = Command::new("kill")
                    .args(["-HUP", &pid.to_string()])
                    .status();
            }
            let code = format!("XTRA{:08}", round - 1);
            let posted = clock().posted.load(Ordering::Relaxed);
            let b = &mut bench;
            // Probe with the new entry's code every 20 ms until an answer is posted.
            loop {
                let seq = b.next_seq;
                b.next_seq += 1;
                timeline().due_now(seq);
                let _ = b.send(seq, signed_event(seq, "R", &code)).await;
                tokio::time::sleep(Duration::from_millis(20)).await;
                if clock().posted.load(Ordering::Relaxed) > posted {
                    break;
                }
                assert!(
                    t0.elapsed() < Duration::from_secs(120),
                    "the reloaded pack never answered"
                );
            }
            let answered = t0.elapsed();
            let (now, hwm) = rss(pid);
            // The watcher also sees the edit behind a SIGHUP and reloads once more: let it.
            tokio::time::sleep(Duration::from_millis(2500)).await;
            let counted = bench.metric("kotae_reloads_total{result=\"ok\"}").await;
            let (settled, settled_hwm) = rss(pid);
            println!(
                "reload {round} by {how}: new entry answered {:.0} ms after the file was written; VmRSS {} (VmHWM {}); 2.5 s later (reloads ok {reloads} -> {counted}) VmRSS {} (VmHWM {}) (load {})",
                answered.as_secs_f64() * 1e3,
                mib(now),
                mib(hwm),
                mib(settled),
                mib(settled_hwm),
                loadavg()
            );
        }
    }

    // Fixed-rate steps.
    if !a.rates.is_empty() {
        println!("\n| rate offered /s | sent | acked/s | failed | not sent | ack p50 ms | ack p99 ms | ack max ms | posted | event→post p50 ms | p99 ms | load |");
        println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    }
    let b = Arc::new(bench);
    let mut seq = b.next_seq;
    for &rate in &a.rates {
        clock().lat.lock().unwrap().clear();
        let count = (rate * a.step_secs) as usize;
        let posted_before = clock().posted.load(Ordering::Relaxed);
        let cpu_before: f64 = pids.iter().map(|p| cpu_secs(*p)).sum();
        let own_before = cpu_secs(std::process::id());
        // Each step gets fresh sequence numbers (event ids and thread ts).
        let step_bench = Arc::new(Bench {
            client: b.client.clone(),
            events_urls: b.events_urls.clone(),
            ops: b.ops.clone(),
            next_seq: seq,
            entries: b.entries,
            conns: b.conns,
        });
        let sb = step_bench.clone();
        let (mut lat, failed, skipped, took) =
            step_bench.step(rate, count, move |s| sb.text(s)).await;
        seq += count;
        // Let the answers drain (at most 30 s).
        let drain = Instant::now();
        while clock().posted.load(Ordering::Relaxed) < posted_before + (count - skipped) as u64
            && drain.elapsed() < Duration::from_secs(30)
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let posted = clock().posted.load(Ordering::Relaxed) - posted_before;
        lat.sort_unstable();
        let mut posts = std::mem::take(&mut *clock().lat.lock().unwrap());
        posts.sort_unstable();
        println!(
            "| {rate:.0} | {} | {:.0} | {failed} | {skipped} | {:.2} | {:.2} | {:.2} | {posted} | {:.2} | {:.2} | {} |",
            count - skipped,
            lat.len() as f64 / took.as_secs_f64(),
            pct(&lat, 0.5),
            pct(&lat, 0.99),
            pct(&lat, 1.0),
            pct(&posts, 0.5),
            pct(&posts, 0.99),
            loadavg()
        );
        let (now, hwm) = rss(pid);
        let cpu = pids.iter().map(|p| cpu_secs(*p)).sum::<f64>() - cpu_before;
        // The driver shares the machine: its CPU is what kotae could not have.
        let own = cpu_secs(std::process::id()) - own_before;
        eprintln!(
            "  (kotae: {:.0} µs CPU per event ({cpu:.2} s for {count}), VmRSS {} VmHWM {}; \
             this driver (signing, sending, fake Web API): {:.0} µs per event)",
            cpu * 1e6 / count as f64,
            mib(now),
            mib(hwm),
            own * 1e6 / count as f64
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_else(|| usage());
    let a = parse(args);
    match command.as_str() {
        "pack" => {
            let out = a.out.clone().unwrap_or_else(|| usage());
            std::fs::write(&out, pack_toml(a.entries, 0)).expect("write the pack");
        }
        "run" => tokio::runtime::Runtime::new().unwrap().block_on(run(a)),
        _ => usage(),
    }
}
