//! `kotae serve` as a real process: the built binary, a config file, signals, restarts, and
//! the start-up failures an operator meets. The chat platforms are the test fakes.
#![cfg(all(feature = "slack", feature = "discord"))]

mod support;

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;
use support::fake_discord::{user, FakeDiscord, Faults, GUILD_ID};
use support::fake_slack::{FakeSlack, BOT_TOKEN};

const SIGNING_SECRET: &str = "serve-test-signing-secret";
const SUPPORT: &str = "C0SUPPORT1";
const PASTE: &str = "本人認証に不正が検知しました。(MW1M01AJ0004)";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `kotae serve --config <config>` with only the given secrets in its environment.
fn spawn(config: &Path, env: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kotae"));
    cmd.args(["serve", "--config"]).arg(config);
    spawn_cmd(cmd, env)
}

/// As [`spawn`], with the soft limit on open files lowered to `nofile` first (by the shell's
/// `ulimit`, which `exec`s kotae in its place, so the child's pid is kotae's).
fn spawn_with_file_limit(config: &Path, env: &[(&str, &str)], nofile: u32) -> Child {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!(
            "ulimit -Sn {nofile} && exec \"$0\" serve --config \"$1\""
        ))
        .arg(env!("CARGO_BIN_EXE_kotae"))
        .arg(config);
    spawn_cmd(cmd, env)
}

fn spawn_cmd(mut cmd: Command, env: &[(&str, &str)]) -> Child {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for var in [
        "DISCORD_TOKEN",
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "KOTAE_CONFIG",
        "KOTAE_KNOWLEDGE",
        "KOTAE_LOG",
    ] {
        cmd.env_remove(var);
    }
    for o in kotae::config::ENV_OVERRIDES {
        cmd.env_remove(o.var);
    }
    cmd.env("KOTAE_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("kotae starts")
}

/// Everything the (exited) process wrote to stderr.
fn stderr_of(child: &mut Child) -> String {
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    err
}

/// Waits for the process to end and fails the test unless it exited 0, showing its stderr;
/// returns the stderr for checks of what it logged.
fn exits_cleanly(child: &mut Child, limit: Duration) -> String {
    let (status, stderr) = wait_exit(child, limit);
    assert!(status.success(), "{stderr}");
    stderr
}

/// SIGTERM, then [`exits_cleanly`]: a graceful stop that must exit 0.
fn stop_cleanly(child: &mut Child, limit: Duration) -> String {
    sigterm(child);
    exits_cleanly(child, limit)
}

/// Waits for the process to end, up to `limit`; kills it and fails the test otherwise.
fn wait_exit(child: &mut Child, limit: Duration) -> (ExitStatus, String) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status, stderr_of(child));
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("kotae serve did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn sigterm(child: &Child) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -TERM works");
}

/// Waits until something accepts connections on `port`.
async fn wait_listening(port: u16, child: &mut Child) {
    let start = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("kotae serve exited early ({status}): {}", stderr_of(child));
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "kotae serve never listened on {port}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// A fake Slack, a temp folder and a free port, and a config for `kotae serve` on them
/// (`extra` appended to its `[slack]` table): what every Slack test through the binary starts
/// with. Keep `dir` alive as long as the process.
struct SlackRig {
    fake: FakeSlack,
    dir: tempfile::TempDir,
    port: u16,
    config: std::path::PathBuf,
}

async fn slack_rig(extra: &str) -> SlackRig {
    let fake = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = slack_config_with(dir.path(), &fake.api_base(), port, extra);
    SlackRig {
        fake,
        dir,
        port,
        config,
    }
}

fn slack_config(dir: &Path, api_base: &str, listen_port: u16) -> std::path::PathBuf {
    slack_config_with(dir, api_base, listen_port, "")
}

/// The Slack config with `extra` lines added to `[slack]`.
fn slack_config_with(
    dir: &Path,
    api_base: &str,
    listen_port: u16,
    extra: &str,
) -> std::path::PathBuf {
    let path = dir.join("kotae.toml");
    std::fs::write(
        &path,
        format!(
            "database = \"kotae.db\"\n[slack]\nmode = \"http\"\nlisten = \"127.0.0.1:{listen_port}\"\nsupport_channels = [\"{SUPPORT}\"]\napi_base_url = \"{api_base}\"\n{extra}"
        ),
    )
    .unwrap();
    path
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn post_event(port: u16, event_id: &str, ts: &str, retry: bool) -> u16 {
    post_text(port, event_id, ts, retry, PASTE).await
}

async fn post_text(port: u16, event_id: &str, ts: &str, retry: bool, text: &str) -> u16 {
    let body = json!({
        "token": "t", "team_id": "T0FAKE", "api_app_id": "A0KOTAE", "type": "event_callback",
        "event_id": event_id, "event_time": now(),
        "event": {"type": "message", "channel": SUPPORT, "channel_type": "channel", "user": "U0PERSON1", "text": text, "ts": ts},
    })
    .to_string()
    .into_bytes();
    let stamp = now().to_string();
    let sig = kotae::adapters::slack::signature::sign(SIGNING_SECRET.as_bytes(), &stamp, &body);
    let mut req = reqwest::Client::new()
        .post(format!("http://127.0.0.1:{port}/slack/events"))
        .header("content-type", "application/json")
        .header("x-slack-request-timestamp", stamp)
        .header("x-slack-signature", sig)
        .body(body);
    if retry {
        req = req
            .header("x-slack-retry-num", "1")
            .header("x-slack-retry-reason", "http_timeout");
    }
    req.send().await.unwrap().status().as_u16()
}

const SECRETS: &[(&str, &str)] = &[
    ("SLACK_BOT_TOKEN", BOT_TOKEN),
    ("SLACK_SIGNING_SECRET", SIGNING_SECRET),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_paste_through_the_binary_sigterm_and_restart() {
    let SlackRig {
        fake,
        dir,
        port,
        config,
    } = slack_rig("").await;

    let mut child = spawn(&config, SECRETS);
    wait_listening(port, &mut child).await;
    assert_eq!(
        post_event(port, "EvServe1", "1700000100.000100", false).await,
        200
    );
    let posts = fake
        .wait_for("chat.postMessage", 1, Duration::from_secs(10))
        .await;
    assert_eq!(posts[0].field("channel"), Some(SUPPORT));
    assert_eq!(posts[0].field("thread_ts"), Some("1700000100.000100"));
    assert!(posts[0]
        .field("blocks")
        .unwrap_or("")
        .contains("20250430_charge"));

    let stopping = Instant::now();
    sigterm(&child);
    let (status, stderr) = wait_exit(&mut child, Duration::from_secs(5));
    assert!(status.success(), "SIGTERM exits 0; stderr: {stderr}");
    assert!(stopping.elapsed() < Duration::from_secs(5));
    assert!(
        dir.path().join("kotae.db").exists(),
        "the database is next to the config"
    );

    // Restarted on the same database: Slack re-delivers the first event and the same paste
    // comes again in the same channel. Neither is answered twice.
    let mut child = spawn(&config, SECRETS);
    wait_listening(port, &mut child).await;
    assert_eq!(
        post_event(port, "EvServe1", "1700000100.000100", true).await,
        200
    );
    assert_eq!(
        post_event(port, "EvServe2", "1700000101.000100", false).await,
        200
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    let posts = fake.calls("chat.postMessage");
    assert_eq!(
        posts.len(),
        1,
        "nothing is posted twice across a restart: {posts:?}"
    );
    stop_cleanly(&mut child, Duration::from_secs(5));
}

/// A crash (SIGKILL, as an OOM kill or a power cut would be) a second after an answer loses
/// nothing: the answer, the handled event ids and the (redacted) knowledge gap are in the
/// file, and after a restart Slack's re-deliveries get no second answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_sigkill_a_second_after_answering_loses_nothing() {
    let SlackRig {
        fake,
        dir,
        port,
        config,
    } = slack_rig("").await;
    // A paste no entry answers, with a card number the old redaction let through.
    let gap = "エラー XQ9999 が出ました。カード 4111.1111.1111.1111 で";

    let mut child = spawn(&config, SECRETS);
    wait_listening(port, &mut child).await;
    // As in a bot that has run a while: the store's writer waits for work when the first
    // event comes (an event within its first 20 ms would be saved with the start-up batch).
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        post_event(port, "EvKill1", "1700000200.000100", false).await,
        200
    );
    assert_eq!(
        post_text(port, "EvKill2", "1700000201.000100", false, gap).await,
        200
    );
    fake.wait_for("chat.postMessage", 1, Duration::from_secs(10))
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    child.kill().unwrap(); // SIGKILL
    let status = child.wait().unwrap();
    assert!(!status.success(), "killed, not exited: {status}");

    let db = rusqlite::Connection::open(dir.path().join("kotae.db")).unwrap();
    let count = |sql: &str| -> i64 { db.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        count("SELECT COUNT(*) FROM answers WHERE entry_id = 'jalpay-to-anapay-charge-20000' AND platform = 'slack'"),
        1,
        "the answer is in the file"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM seen WHERE key IN ('slack:EvKill1', 'slack:EvKill2')"),
        2,
        "both handled event ids are in the file"
    );
    let gaps: Vec<String> = db
        .prepare("SELECT text FROM unmatched")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(gaps.len(), 1, "the knowledge gap is in the file: {gaps:?}");
    assert!(
        gaps[0].contains("XQ9999") && gaps[0].contains("[card]") && !gaps[0].contains("1111"),
        "kept redacted: {}",
        gaps[0]
    );
    drop(db);

    // Restarted: Slack re-delivers both events (as it does when an ack was lost).
    let mut child = spawn(&config, SECRETS);
    wait_listening(port, &mut child).await;
    assert_eq!(
        post_event(port, "EvKill1", "1700000200.000100", true).await,
        200
    );
    assert_eq!(
        post_text(port, "EvKill2", "1700000201.000100", true, gap).await,
        200
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        fake.calls("chat.postMessage").len(),
        1,
        "no second answer after the restart"
    );
    stop_cleanly(&mut child, Duration::from_secs(5));
    let db = rusqlite::Connection::open(dir.path().join("kotae.db")).unwrap();
    let gaps: i64 = db
        .query_row("SELECT COUNT(*) FROM unmatched", [], |r| r.get(0))
        .unwrap();
    assert_eq!(gaps, 1, "the re-delivered gap is not recorded twice");
}

/// Runs serve expecting a start-up failure; returns the last stderr line.
fn fails_fast(config: &Path, env: &[(&str, &str)]) -> String {
    let started = Instant::now();
    let mut child = spawn(config, env);
    let (status, stderr) = wait_exit(&mut child, Duration::from_secs(10));
    assert!(!status.success(), "must exit non-zero; stderr: {stderr}");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(!stderr.contains("panicked"), "{stderr}");
    let last = stderr.lines().last().unwrap_or("").to_string();
    assert!(
        last.starts_with("kotae: "),
        "one clear last line, got: {stderr}"
    );
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_start_up_failures_are_one_clear_line() {
    let fake = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let config = slack_config(dir.path(), &fake.api_base(), free_port());

    let line = fails_fast(&config, &[("SLACK_SIGNING_SECRET", SIGNING_SECRET)]);
    assert!(line.contains("SLACK_BOT_TOKEN"), "no token: {line}");

    let line = fails_fast(
        &config,
        &[
            ("SLACK_BOT_TOKEN", "xoxb-wrong"),
            ("SLACK_SIGNING_SECRET", SIGNING_SECRET),
        ],
    );
    assert!(
        line.contains("SLACK_BOT_TOKEN") && line.contains("invalid_auth"),
        "wrong token: {line}"
    );
    assert!(
        !line.contains("xoxb-wrong"),
        "the token is never printed: {line}"
    );

    let unreachable = slack_config(
        dir.path(),
        &format!("http://127.0.0.1:{}/api/", free_port()),
        free_port(),
    );
    let line = fails_fast(&unreachable, SECRETS);
    assert!(
        line.contains("auth.test") || line.contains("reach"),
        "unreachable API: {line}"
    );

    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        "[slack]\nmode = \"http\"\napi_base_url = \"slack.com/api\"\n",
    )
    .unwrap();
    let line = fails_fast(&bad, SECRETS);
    assert!(line.contains("bad.toml:3:1: slack.api_base_url"), "{line}");

    let unknown = dir.path().join("unknown.toml");
    std::fs::write(&unknown, "[slack]\nsuport_channels = []\n").unwrap();
    let line = fails_fast(&unknown, SECRETS);
    assert!(
        line.contains("unknown.toml:2:1: unknown field `suport_channels`"),
        "{line}"
    );
}

const DISCORD_SUPPORT: u64 = 100_000_000_000_000_001;
const DISCORD_DM: u64 = 100_000_000_000_000_003;
const JAL_NOTICE: &str = "https://www.jal.co.jp/jp/ja/jmb/jalpay/pay/notice/20250430_charge";

fn discord_config(dir: &Path, rest_proxy: &str) -> std::path::PathBuf {
    let path = dir.join("kotae.toml");
    std::fs::write(
        &path,
        format!(
            "database = \"kotae.db\"\n[discord]\nsupport_channels = [\"{DISCORD_SUPPORT}\"]\nshards = 1\nrest_proxy = \"{rest_proxy}\"\n"
        ),
    )
    .unwrap();
    path
}

/// Posts kotae made to `channel` as replies to `message`.
fn discord_replies_to(fake: &FakeDiscord, channel: u64, message: &str) -> usize {
    fake.requests()
        .iter()
        .filter(|r| {
            r.method == "POST"
                && r.path == format!("/api/v10/channels/{channel}/messages")
                && r.body
                    .as_ref()
                    .is_some_and(|b| b["message_reference"]["message_id"] == json!(message))
        })
        .count()
}

fn discord_posts(fake: &FakeDiscord) -> usize {
    fake.requests()
        .iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/messages"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_paste_through_the_binary_via_rest_proxy_sigterm_and_restart() {
    let fake = FakeDiscord::start(Faults::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let config = discord_config(dir.path(), &fake.rest_url);
    let env = [("DISCORD_TOKEN", "fake-token")];

    let mut child = spawn(&config, &env);
    // Every REST call went through rest_proxy (the fake): it handed out its own gateway URL,
    // and the client identified there.
    let identify = fake.wait_frame(2, 1).await;
    assert_eq!(identify["d"]["token"], json!("Bot fake-token"));
    let paste = fake.message(
        DISCORD_SUPPORT,
        Some(GUILD_ID),
        user(200, "someone", false),
        PASTE,
    );
    let id = paste["id"].as_str().unwrap().to_string();
    fake.dispatch("MESSAGE_CREATE", paste.clone());
    let reply = fake
        .wait_request(0, "the reply", |r| {
            r.method == "POST"
                && r.body
                    .as_ref()
                    .is_some_and(|b| b["message_reference"]["message_id"] == json!(id))
        })
        .await;
    assert_eq!(
        reply.path,
        format!("/api/v10/channels/{DISCORD_SUPPORT}/messages")
    );
    assert!(reply.body.unwrap().to_string().contains(JAL_NOTICE));

    let stopping = Instant::now();
    sigterm(&child);
    let (status, stderr) = wait_exit(&mut child, Duration::from_secs(5));
    assert!(status.success(), "SIGTERM exits 0; stderr: {stderr}");
    assert!(stopping.elapsed() < Duration::from_secs(5));

    // Restarted on the same database; Discord delivers the same message again. A new paste in
    // a DM is the barrier: once it is answered, the re-delivery would have been too.
    let mut child = spawn(&config, &env);
    fake.wait_frame(2, 2).await;
    fake.dispatch("MESSAGE_CREATE", paste);
    let barrier = fake.message(DISCORD_DM, None, user(200, "someone", false), PASTE);
    let barrier_id = barrier["id"].as_str().unwrap().to_string();
    fake.dispatch("MESSAGE_CREATE", barrier);
    fake.wait_request(0, "the barrier reply", |r| {
        r.method == "POST"
            && r.body
                .as_ref()
                .is_some_and(|b| b["message_reference"]["message_id"] == json!(barrier_id))
    })
    .await;
    assert_eq!(
        discord_replies_to(&fake, DISCORD_SUPPORT, &id),
        1,
        "nothing is posted twice across a restart"
    );
    assert_eq!(discord_posts(&fake), 2);
    stop_cleanly(&mut child, Duration::from_secs(5));
    fake.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_start_up_failures_are_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeDiscord::start(Faults::default()).await;
    let config = discord_config(dir.path(), &fake.rest_url);

    let line = fails_fast(&config, &[]);
    assert!(line.contains("DISCORD_TOKEN"), "no token: {line}");

    let rejecting = FakeDiscord::start(Faults {
        reject_token: true,
        ..Faults::default()
    })
    .await;
    let config = discord_config(dir.path(), &rejecting.rest_url);
    let line = fails_fast(&config, &[("DISCORD_TOKEN", "wrong-token")]);
    assert!(line.to_lowercase().contains("token"), "wrong token: {line}");
    assert!(
        !line.contains("wrong-token"),
        "the token is never printed: {line}"
    );

    let config = discord_config(dir.path(), &format!("http://127.0.0.1:{}", free_port()));
    let line = fails_fast(&config, &[("DISCORD_TOKEN", "fake-token")]);
    assert!(
        line.contains("rest_proxy") || line.contains("reach"),
        "unreachable proxy: {line}"
    );

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[discord]\nsupport_channels = [\"general\"]\n").unwrap();
    let line = fails_fast(&bad, &[("DISCORD_TOKEN", "fake-token")]);
    assert!(
        line.contains("bad.toml:2:") && line.contains("not a number"),
        "{line}"
    );
}

/// A signed event with a client that gives up after 10 s; the status, or why none came.
async fn post_event_within(port: u16, event_id: &str, ts: &str) -> Result<u16, String> {
    let body = json!({
        "token": "t", "team_id": "T0FAKE", "api_app_id": "A0KOTAE", "type": "event_callback",
        "event_id": event_id, "event_time": now(),
        "event": {"type": "message", "channel": SUPPORT, "channel_type": "channel", "user": "U0PERSON1", "text": PASTE, "ts": ts},
    })
    .to_string()
    .into_bytes();
    let stamp = now().to_string();
    let sig = kotae::adapters::slack::signature::sign(SIGNING_SECRET.as_bytes(), &stamp, &body);
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
        .post(format!("http://127.0.0.1:{port}/slack/events"))
        .header("content-type", "application/json")
        .header("x-slack-request-timestamp", stamp)
        .header("x-slack-signature", sig)
        .body(body)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .map_err(|e| e.to_string())
}

/// Connects and sends `head` (a request cut short), then waits up to `limit` for the
/// receiver to answer or close; what it answered (maybe nothing), or None if it held on.
async fn held_for(port: u16, head: &str, limit: Duration) -> Option<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    tcp.write_all(head.as_bytes()).await.unwrap();
    let mut got = Vec::new();
    match tokio::time::timeout(limit, tcp.read_to_end(&mut got)).await {
        Ok(_) => Some(String::from_utf8_lossy(&got).into_owned()),
        Err(_) => None,
    }
}

/// The soft and hard "Max open files" of a running process.
fn open_file_limits(pid: u32) -> (String, String) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .unwrap()
        .to_string();
    let mut f = line["Max open files".len()..].split_whitespace();
    (f.next().unwrap().into(), f.next().unwrap().into())
}

/// A request cut short in its headers or in its body, and a connection that sends nothing,
/// are closed within the timeouts (5 s each), not held for ever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_receiver_cuts_off_headers_and_bodies_that_never_finish() {
    let SlackRig {
        fake: _fake,
        dir: _dir,
        port,
        config,
    } = slack_rig("").await;
    let mut child = spawn(&config, SECRETS);
    wait_listening(port, &mut child).await;
    let limit = Duration::from_secs(15);
    let (idle, headers, body) = tokio::join!(
        held_for(port, "", limit),
        held_for(port, "POST /slack/events HTTP/1.1\r\nHost: kotae\r\nX-Slack-Sig", limit),
        held_for(
            port,
            "POST /slack/events HTTP/1.1\r\nHost: kotae\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"type\":",
            limit
        ),
    );
    assert!(idle.is_some(), "a connection sending nothing was held open");
    assert!(
        headers.is_some(),
        "unfinished headers were waited on for ever"
    );
    let body = body.expect("an unfinished body was waited on for ever");
    assert!(
        body.is_empty() || body.starts_with("HTTP/1.1 408"),
        "{body}"
    );
    stop_cleanly(&mut child, Duration::from_secs(10));
}

/// SIGTERM while a client is half-way through a request: the process exits 0 within a few
/// seconds (10 here, for a busy machine), and the answer given just before is in the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_a_half_sent_request_exits_in_seconds_and_keeps_the_last_answer() {
    use tokio::io::AsyncWriteExt;
    let SlackRig {
        fake,
        dir,
        port,
        config,
    } = slack_rig("").await;
    let mut child = spawn(&config, SECRETS);
    wait_listening(port, &mut child).await;
    // Half a request, kept open: headers done, 10 of 1,000 body bytes sent.
    let mut half = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    half.write_all(b"POST /slack/events HTTP/1.1\r\nHost: kotae\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"type\":\"e")
        .await
        .unwrap();
    assert_eq!(
        post_event(port, "EvTerm1", "1700000300.000100", false).await,
        200
    );
    fake.wait_for("chat.postMessage", 1, Duration::from_secs(10))
        .await;
    let stopping = Instant::now();
    sigterm(&child);
    let (status, stderr) = wait_exit(&mut child, Duration::from_secs(10));
    assert!(status.success(), "SIGTERM exits 0; stderr: {stderr}");
    assert!(stopping.elapsed() < Duration::from_secs(10));
    drop(half);
    let db = rusqlite::Connection::open(dir.path().join("kotae.db")).unwrap();
    let answers: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM answers WHERE platform = 'slack'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(answers, 1, "the last answer was saved before the exit");
}

/// kotae started with a soft limit of 128 open files raises it to the hard limit; 200 slow
/// clients (more than 128, fewer than the 256 connection slots) trickling their headers a
/// byte at a time do not keep real signed events from being acked within Slack's 3 s.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_do_not_keep_real_events_from_being_acked_within_3_s() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use tokio::io::AsyncWriteExt;
    let SlackRig {
        fake: _fake,
        dir: _dir,
        port,
        config,
    } = slack_rig("").await;
    let mut child = spawn_with_file_limit(&config, SECRETS, 128);
    wait_listening(port, &mut child).await;
    let (soft, hard) = open_file_limits(child.id());
    assert_eq!(
        soft, hard,
        "the soft open-file limit is raised to the hard one"
    );

    let running = Arc::new(AtomicBool::new(true));
    let mut slow = Vec::new();
    for _ in 0..200 {
        let running = running.clone();
        slow.push(tokio::spawn(async move {
            // Reconnects when cut off, so the pressure lasts the whole test.
            while running.load(Ordering::Relaxed) {
                let Ok(mut tcp) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await else {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                };
                let _ = tcp.write_all(b"POST /slack/events HTTP/1.1\r\n").await;
                while running.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    if tcp.write_all(b"X").await.is_err() {
                        break;
                    }
                }
            }
        }));
    }
    // Let the slow clients connect (and, on a kotae without the fixes, use up its files).
    tokio::time::sleep(Duration::from_secs(2)).await;
    for i in 0..8 {
        let started = Instant::now();
        let got =
            post_event_within(port, &format!("EvSlow{i}"), &format!("1700000400.00010{i}")).await;
        let took = started.elapsed();
        assert_eq!(got, Ok(200), "event {i} was not acked");
        assert!(
            took < Duration::from_secs(3),
            "event {i} acked after {took:?}"
        );
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    running.store(false, Ordering::Relaxed);
    for s in slow {
        s.abort();
    }
    stop_cleanly(&mut child, Duration::from_secs(10));
}

/// With every slot taken (slack.max_connections = 8), the next connection is answered 503 at
/// once, not queued; once the slots are free, events are acked again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_max_connections_are_refused_at_once() {
    let SlackRig {
        fake: _fake,
        dir: _dir,
        port,
        config,
    } = slack_rig("max_connections = 8\n").await;
    let mut child = spawn(&config, SECRETS);
    wait_listening(port, &mut child).await;
    // wait_listening's probe may hold a slot for a moment; give it time to be freed.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut idle = Vec::new();
    for _ in 0..8 {
        idle.push(
            tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .unwrap(),
        );
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let refused = held_for(port, "", Duration::from_secs(5))
        .await
        .expect("the ninth connection was held, not refused");
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused:?}");
    drop(idle);
    let start = Instant::now();
    loop {
        match post_event_within(port, "EvCap1", "1700000500.000100").await {
            Ok(200) => break,
            other => assert!(
                start.elapsed() < Duration::from_secs(10),
                "slots were not freed: {other:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop_cleanly(&mut child, Duration::from_secs(10));
}

/// Anyone can send badly signed requests: 50 of them give one warning line, not 50.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_bad_signatures_is_logged_once_per_interval() {
    let SlackRig {
        fake: _fake,
        dir: _dir,
        port,
        config,
    } = slack_rig("").await;
    let mut child = spawn(&config, SECRETS);
    wait_listening(port, &mut child).await;
    let http = reqwest::Client::new();
    for _ in 0..50 {
        let status = http
            .post(format!("http://127.0.0.1:{port}/slack/events"))
            .header("x-slack-request-timestamp", now().to_string())
            .header("x-slack-signature", format!("v0={}", "0".repeat(64)))
            .body("{}")
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 401);
    }
    let stderr = stop_cleanly(&mut child, Duration::from_secs(10));
    let lines = stderr.matches("bad Slack signature").count();
    assert!((1..=2).contains(&lines), "{lines} lines:\n{stderr}");
}

/// A fresh database on the test PostgreSQL (`KOTAE_TEST_POSTGRES`, started by `.ci/run`);
/// None after a loud message outside CI, a failure under `CI=true`.
#[cfg(feature = "postgres")]
async fn fresh_postgres() -> Option<String> {
    let base = match std::env::var("KOTAE_TEST_POSTGRES") {
        Ok(u) if !u.is_empty() => u,
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but KOTAE_TEST_POSTGRES is not set: .ci/run must start PostgreSQL")
        }
        _ => {
            eprintln!("SKIPPED: needs KOTAE_TEST_POSTGRES=postgres://… (.ci/run starts a server)");
            return None;
        }
    };
    // The count: tests running at once start within the same second.
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let name = format!(
        "kotae_serve_{}_{}_{}",
        std::process::id(),
        now(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let (client, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .expect("the test server answers");
    tokio::spawn(conn);
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let root = base.split('?').next().unwrap().rsplit_once('/').unwrap().0;
    Some(format!("{root}/{name}"))
}

/// A signed paste in `channel`, for the replica listening on `port`, as event `event_id`
/// (its message `ts` is `1700000300.{event_id}`, the thread kotae answers in). None when the
/// replica cannot be reached (killed).
#[cfg(feature = "postgres")]
async fn post_in(
    client: &reqwest::Client,
    port: u16,
    channel: &str,
    event_id: &str,
    retry: bool,
) -> Option<u16> {
    let body = json!({
        "token": "t", "team_id": "T0FAKE", "api_app_id": "A0KOTAE", "type": "event_callback",
        "event_id": event_id, "event_time": now(),
        "event": {"type": "message", "channel": channel, "channel_type": "channel", "user": "U0PERSON1", "text": PASTE, "ts": format!("1700000300.{event_id}")},
    })
    .to_string()
    .into_bytes();
    let stamp = now().to_string();
    let sig = kotae::adapters::slack::signature::sign(SIGNING_SECRET.as_bytes(), &stamp, &body);
    let mut req = client
        .post(format!("http://127.0.0.1:{port}/slack/events"))
        .header("content-type", "application/json")
        .header("x-slack-request-timestamp", stamp)
        .header("x-slack-signature", sig)
        .body(body);
    if retry {
        req = req
            .header("x-slack-retry-num", "1")
            .header("x-slack-retry-reason", "http_timeout");
    }
    match req.send().await {
        Ok(resp) => Some(resp.status().as_u16()),
        Err(e) => {
            // Printed (shown on failure) so a refused delivery says why: reset, refused, timeout.
            eprintln!("delivery of {event_id} to port {port} failed: {e:?}");
            None
        }
    }
}

/// How many deliveries came back with each status (None: not reached), for a failure message.
#[cfg(feature = "postgres")]
fn tally(statuses: &[Option<u16>]) -> std::collections::BTreeMap<Option<u16>, usize> {
    let mut n = std::collections::BTreeMap::new();
    for s in statuses {
        *n.entry(*s).or_insert(0) += 1;
    }
    n
}

/// Delivers events `range` (ids `{prefix}{i}`, event i in `channels[i]`) as a load balancer
/// in front of the replicas on `ports` would in the worst case: each event to every replica
/// at once, and again as a retry, at most `in_flight` events at a time; `done` counts the
/// events whose deliveries all came back. Returns every delivery's status (None: that
/// replica could not be reached).
#[cfg(feature = "postgres")]
async fn deliver_to_all(
    client: &reqwest::Client,
    ports: &[u16],
    channels: &[String],
    range: std::ops::Range<usize>,
    prefix: &str,
    in_flight: usize,
    done: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> Vec<Option<u16>> {
    let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(in_flight));
    let mut tasks = tokio::task::JoinSet::new();
    for i in range {
        let permit = gate.clone().acquire_owned().await.unwrap();
        let (client, ports, done) = (client.clone(), ports.to_vec(), done.clone());
        let (channel, id) = (channels[i].clone(), format!("{prefix}{i}"));
        tasks.spawn(async move {
            let sends = [false, true].into_iter().flat_map(|retry| {
                ports
                    .iter()
                    .map(move |port| (*port, retry))
                    .collect::<Vec<_>>()
            });
            let sends: Vec<_> = sends
                .map(|(port, retry)| {
                    let (client, channel, id) = (client.clone(), channel.clone(), id.clone());
                    async move { post_in(&client, port, &channel, &id, retry).await }
                })
                .collect();
            let statuses = futures_util::future::join_all(sends).await;
            done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(permit);
            statuses
        });
    }
    let mut statuses = Vec::new();
    while let Some(r) = tasks.join_next().await {
        statuses.extend(r.unwrap());
    }
    statuses
}

/// How many answers the fake Slack got in each thread (an event's `ts`).
#[cfg(feature = "postgres")]
fn answers_per_thread(fake: &FakeSlack) -> std::collections::HashMap<String, usize> {
    let mut n = std::collections::HashMap::new();
    for c in fake.calls("chat.postMessage") {
        let ts = c
            .field("thread_ts")
            .map(str::to_string)
            .or_else(|| {
                c.json
                    .as_ref()
                    .and_then(|j| j["thread_ts"].as_str().map(str::to_string))
            })
            .unwrap_or_default();
        *n.entry(ts).or_insert(0) += 1;
    }
    n
}

/// `n` Slack HTTP replicas on the database `url`, each with `channels` as support channels.
/// Returns (folder, port, config, process) of each.
#[cfg(feature = "postgres")]
async fn start_slack_replicas(
    n: usize,
    url: &str,
    fake: &FakeSlack,
    channels: &[String],
) -> Vec<(tempfile::TempDir, u16, std::path::PathBuf, Child)> {
    let quoted: Vec<String> = channels.iter().map(|c| format!("\"{c}\"")).collect();
    let mut replicas = Vec::new();
    for _ in 0..n {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let config = dir.path().join("kotae.toml");
        std::fs::write(
            &config,
            format!(
                // Deliveries at once to each replica: more connections than the default cap
                // of 256 (issue 14), which would refuse the rest with 503 before reading them.
                "[slack]\nmode = \"http\"\nlisten = \"127.0.0.1:{port}\"\nmax_connections = 1024\nsupport_channels = [{}]\napi_base_url = \"{}\"\n",
                quoted.join(", "),
                fake.api_base()
            ),
        )
        .unwrap();
        let mut child = spawn(&config, &slack_env(url));
        wait_listening(port, &mut child).await;
        replicas.push((dir, port, config, child));
    }
    replicas
}

#[cfg(feature = "postgres")]
fn slack_env(url: &str) -> Vec<(&str, &str)> {
    let mut env = SECRETS.to_vec();
    env.push(("KOTAE_DATABASE", url));
    env
}

/// Issue 16: two `kotae serve` processes on one PostgreSQL database behind a "load
/// balancer" that delivers every event to both at once, and again as a retry: 1,000 events,
/// exactly 1,000 answers, one per paste; the same paste in one channel within the cooldown,
/// sent to the other replica, is not answered again; one replica killed (SIGKILL) between
/// two runs, the other keeps answering, and after the restart nothing is answered twice.
#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_slack_replicas_on_one_postgres_answer_each_paste_once() {
    let Some(url) = fresh_postgres().await else {
        return;
    };
    const EVENTS: usize = 1000;
    let fake = FakeSlack::start().await;
    let channels: Vec<String> = (0..EVENTS + 10).map(|i| format!("C0REP{i:04}")).collect();
    let mut replicas = start_slack_replicas(2, &url, &fake, &channels).await;
    let ports = [replicas[0].1, replicas[1].1];
    let client = support::receiver_client();
    let statuses = deliver_to_all(
        &client,
        &ports,
        &channels,
        0..EVENTS,
        "EvRep",
        128,
        Default::default(),
    )
    .await;
    assert_eq!(statuses.len(), 4 * EVENTS);
    assert!(
        statuses.iter().all(|s| *s == Some(200)),
        "every delivery acked: {:?}",
        tally(&statuses)
    );
    fake.wait_for("chat.postMessage", EVENTS, Duration::from_secs(60))
        .await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    let per_thread = answers_per_thread(&fake);
    assert_eq!(
        fake.calls("chat.postMessage").len(),
        EVENTS,
        "1,000 events, 1,000 answers"
    );
    assert_eq!(
        per_thread.len(),
        EVENTS,
        "one answer in each event's thread"
    );
    // The same paste again in channel 0, a new event id, to the other replica: cooldown.
    assert_eq!(
        post_in(&client, ports[1], &channels[0], "EvAgain", false).await,
        Some(200)
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.calls("chat.postMessage").len(), EVENTS, "cooldown");

    // Replica 0 killed: replica 1 answers new pastes alone.
    replicas[0].3.kill().unwrap();
    replicas[0].3.wait().unwrap();
    for (i, channel) in channels.iter().enumerate().skip(EVENTS).take(5) {
        assert_eq!(
            post_in(&client, ports[1], channel, &format!("EvAfter{i}"), false).await,
            Some(200)
        );
    }
    fake.wait_for("chat.postMessage", EVENTS + 5, Duration::from_secs(10))
        .await;
    // Restarted: Slack re-delivers old events to it; nothing is answered twice.
    let mut child = spawn(&replicas[0].2, &slack_env(&url));
    wait_listening(ports[0], &mut child).await;
    for i in [0, 1, EVENTS, EVENTS + 1] {
        let id = if i < EVENTS {
            format!("EvRep{i}")
        } else {
            format!("EvAfter{i}")
        };
        assert_eq!(
            post_in(&client, ports[0], &channels[i], &id, true).await,
            Some(200)
        );
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(fake.calls("chat.postMessage").len(), EVENTS + 5);
    for c in [&child, &replicas[1].3] {
        sigterm(c);
    }
    exits_cleanly(&mut child, Duration::from_secs(5));
    exits_cleanly(&mut replicas[1].3, Duration::from_secs(5));
    drop_postgres(&url).await;
}

/// Issue 16: one of two replicas killed (SIGKILL) while events are being delivered to both.
/// The other keeps answering: every event sent after the kill is answered exactly once. An
/// event in flight at the kill is answered at most once (one the dead replica had claimed
/// but not answered waits for the claim timeout, which Slack's later retries cover). After
/// the killed replica restarts, every event re-delivered to both gets no second answer.
#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slack_replica_killed_mid_run_leaves_the_other_answering_and_nothing_twice() {
    let Some(url) = fresh_postgres().await else {
        return;
    };
    const EVENTS: usize = 400;
    let fake = FakeSlack::start().await;
    let channels: Vec<String> = (0..EVENTS).map(|i| format!("C0KIL{i:04}")).collect();
    let mut replicas = start_slack_replicas(2, &url, &fake, &channels).await;
    let ports = [replicas[0].1, replicas[1].1];
    let client = support::receiver_client();

    // The first half, with replica 0 killed after a quarter of it was delivered (16 events
    // in flight, three quarters still to send).
    let done = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let first = {
        let (client, channels, done) = (client.clone(), channels.clone(), done.clone());
        tokio::spawn(async move {
            deliver_to_all(
                &client,
                &ports,
                &channels,
                0..EVENTS / 2,
                "EvKill",
                16,
                done,
            )
            .await
        })
    };
    let start = Instant::now();
    while done.load(std::sync::atomic::Ordering::SeqCst) < EVENTS / 8 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "deliveries stalled"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    replicas[0].3.kill().unwrap();
    replicas[0].3.wait().unwrap();
    let statuses = first.await.unwrap();
    assert!(
        statuses.contains(&None),
        "the kill came while events were still being delivered"
    );
    // The second half: replica 0 is gone, replica 1 answers each event once.
    let statuses = deliver_to_all(
        &client,
        &ports,
        &channels,
        EVENTS / 2..EVENTS,
        "EvKill",
        16,
        Default::default(),
    )
    .await;
    assert!(statuses.iter().all(|s| matches!(s, None | Some(200))));
    let thread = |i: usize| format!("1700000300.EvKill{i}");
    let start = Instant::now();
    while (EVENTS / 2..EVENTS).any(|i| !answers_per_thread(&fake).contains_key(&thread(i)))
        && start.elapsed() < Duration::from_secs(30)
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Restarted, and every event re-delivered to both as a retry.
    let mut child = spawn(&replicas[0].2, &slack_env(&url));
    wait_listening(ports[0], &mut child).await;
    let statuses = deliver_to_all(
        &client,
        &ports,
        &channels,
        0..EVENTS,
        "EvKill",
        16,
        Default::default(),
    )
    .await;
    assert!(
        statuses.iter().all(|s| *s == Some(200)),
        "both ack: {:?}",
        tally(&statuses)
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let per_thread = answers_per_thread(&fake);
    for i in 0..EVENTS {
        let n = per_thread.get(&thread(i)).copied().unwrap_or(0);
        if i >= EVENTS / 2 {
            assert_eq!(n, 1, "event {i}, sent after the kill: answered once");
        } else {
            assert!(n <= 1, "event {i}: answered {n} times");
        }
    }
    assert_eq!(
        per_thread.values().sum::<usize>(),
        per_thread.len(),
        "nothing answered twice"
    );
    for c in [&child, &replicas[1].3] {
        sigterm(c);
    }
    exits_cleanly(&mut child, Duration::from_secs(5));
    exits_cleanly(&mut replicas[1].3, Duration::from_secs(5));
    drop_postgres(&url).await;
}

/// Drops a database made by [`fresh_postgres`], so no copy of the template stays behind on
/// the test server.
#[cfg(feature = "postgres")]
async fn drop_postgres(url: &str) {
    let base = std::env::var("KOTAE_TEST_POSTGRES").unwrap();
    let (client, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let name = url.rsplit_once('/').unwrap().1;
    client
        .batch_execute(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .unwrap();
}

/// A guild id that Discord routes to `shard` of `total` (`(guild_id >> 22) % total`).
#[cfg(feature = "postgres")]
fn guild_on_shard(shard: u64, total: u64) -> u64 {
    (0..)
        .map(|k: u64| GUILD_ID + (k << 22))
        .find(|g| (g >> 22) % total == shard)
        .unwrap()
}

/// A Discord replica's config: `channels` are support channels, `shards` in all, this
/// process running `range` (all when None); the store comes from `KOTAE_DATABASE`.
#[cfg(feature = "postgres")]
fn discord_replica_config(
    dir: &Path,
    rest_proxy: &str,
    channels: &[u64],
    shards: u32,
    range: Option<[u32; 2]>,
) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("kotae.toml");
    let quoted: Vec<String> = channels.iter().map(|c| format!("\"{c}\"")).collect();
    let range = range.map_or(String::new(), |[a, b]| {
        format!("shard_range = [{a}, {b}]\n")
    });
    std::fs::write(
        &path,
        format!(
            "[discord]\nsupport_channels = [{}]\nshards = {shards}\n{range}rest_proxy = \"{rest_proxy}\"\n",
            quoted.join(", ")
        ),
    )
    .unwrap();
    path
}

/// Waits for kotae's reply to `message`.
#[cfg(feature = "postgres")]
async fn discord_reply(fake: &FakeDiscord, message: &str) {
    let id = json!(message);
    fake.wait_request(0, &format!("the reply to {message}"), |r| {
        r.method == "POST"
            && r.body
                .as_ref()
                .is_some_and(|b| b["message_reference"]["message_id"] == id)
    })
    .await;
}

/// The id of kotae's answer in `channel`, read off the 👍 kotae puts under it.
#[cfg(feature = "postgres")]
async fn discord_answer_in(fake: &FakeDiscord, channel: u64) -> String {
    let prefix = format!("/api/v10/channels/{channel}/messages/");
    let put = fake
        .wait_request(0, &format!("the 👍 under the answer in {channel}"), |r| {
            r.method == "PUT" && r.path.starts_with(&prefix) && r.path.contains("/reactions/")
        })
        .await;
    put.path[prefix.len()..]
        .split('/')
        .next()
        .unwrap()
        .to_string()
}

/// (answers, 👍, 👎) of the JAL entry in `kotae report --db URL --format json`, once they
/// reach `want` (or after 20 s, whatever they are).
#[cfg(feature = "postgres")]
async fn report_once_at(url: &str, want: (u64, u64, u64)) -> (u64, u64, u64) {
    let start = Instant::now();
    loop {
        let out = Command::new(env!("CARGO_BIN_EXE_kotae"))
            .args(["report", "--db", url, "--format", "json"])
            .env_remove("KOTAE_DATABASE")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let got = report["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["entry_id"] == json!("jalpay-to-anapay-charge-20000"))
            .map_or((0, 0, 0), |e| {
                (
                    e["answers"].as_u64().unwrap(),
                    e["helpful"].as_u64().unwrap(),
                    e["not_helpful"].as_u64().unwrap(),
                )
            });
        if got == want || start.elapsed() > Duration::from_secs(20) {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Issue 16: two `kotae serve` processes, each with half the shards (`shard_range`), one
/// `rest_proxy` (the fake) and one PostgreSQL database. The fake gateway sees each process
/// identify only its own shard; each shard's pastes are answered by its process; votes
/// given in both processes are counted in one `kotae report`.
#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_shard_ranges_in_two_processes_share_one_database_and_one_report() {
    let Some(url) = fresh_postgres().await else {
        return;
    };
    const PER_SHARD: u64 = 4;
    let fake = FakeDiscord::start(Faults::default()).await;
    let guilds = [guild_on_shard(0, 2), guild_on_shard(1, 2)];
    // One support channel per paste: the cooldown is per channel.
    let channel = |shard: u64, i: u64| 100_000_000_000_100_000 + shard * 1000 + i;
    let all: Vec<u64> = (0..2)
        .flat_map(|s| (0..PER_SHARD).map(move |i| channel(s, i)))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("DISCORD_TOKEN", "fake-token"),
        ("KOTAE_DATABASE", url.as_str()),
    ];
    let mut procs = Vec::new();
    for (n, range) in [[0, 0], [1, 1]].into_iter().enumerate() {
        let config = discord_replica_config(
            &dir.path().join(format!("p{n}")),
            &fake.rest_url,
            &all,
            2,
            Some(range),
        );
        procs.push(spawn(&config, &env));
        // Started one after the other: the IDENTIFY that arrives now is this process's.
        fake.wait_frame(2, n + 1).await;
    }
    assert_eq!(
        fake.identified_shards(),
        vec![json!([0, 2]), json!([1, 2])],
        "each process identifies its own shard only"
    );

    let mut answers = Vec::new();
    for shard in 0..2 {
        for i in 0..PER_SHARD {
            let paste = fake.message(
                channel(shard, i),
                Some(guilds[shard as usize]),
                user(200 + i, "someone", false),
                PASTE,
            );
            let id = paste["id"].as_str().unwrap().to_string();
            assert_eq!(fake.dispatch_to_shard(shard, "MESSAGE_CREATE", paste), 1);
            discord_reply(&fake, &id).await;
            answers.push((
                shard,
                channel(shard, i),
                discord_answer_in(&fake, channel(shard, i)).await,
            ));
        }
    }
    // 👍 on every answer, through the process of its shard; 👎 from a second person on the
    // first answer of each shard.
    for (i, (shard, ch, answer)) in answers.iter().enumerate() {
        let guild = guilds[*shard as usize];
        fake.react_on_shard(
            *shard,
            *ch,
            guild,
            answer,
            support::fake_discord::BOT_ID,
            user(300, "voter", false),
            "👍",
        );
        if i as u64 % PER_SHARD == 0 {
            fake.react_on_shard(
                *shard,
                *ch,
                guild,
                answer,
                support::fake_discord::BOT_ID,
                user(301, "critic", false),
                "👎",
            );
        }
    }
    let n = 2 * PER_SHARD;
    assert_eq!(
        report_once_at(&url, (n, n, 2)).await,
        (n, n, 2),
        "answers and votes from both processes in one report"
    );

    assert_eq!(
        fake.identified_shards().len(),
        2,
        "no process took another shard"
    );
    for shard in 0..2 {
        assert_eq!(fake.connections_on_shard(shard), 1);
    }
    for p in &procs {
        sigterm(p);
    }
    for p in &mut procs {
        exits_cleanly(p, Duration::from_secs(10));
    }
    fake.assert_no_violations();
    drop_postgres(&url).await;
}

/// Issue 16, a rolling deploy: two processes briefly run the same shard, and Discord
/// delivers every event to both. Each paste is answered once, and a vote delivered to both
/// is counted once.
#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discord_two_processes_on_one_shard_answer_each_paste_once() {
    let Some(url) = fresh_postgres().await else {
        return;
    };
    const PASTES: u64 = 20;
    let fake = FakeDiscord::start(Faults::default()).await;
    let channel = |i: u64| 100_000_000_000_200_000 + i;
    let all: Vec<u64> = (0..PASTES).map(channel).collect();
    let dir = tempfile::tempdir().unwrap();
    let env = [
        ("DISCORD_TOKEN", "fake-token"),
        ("KOTAE_DATABASE", url.as_str()),
    ];
    let mut procs = Vec::new();
    for n in 0..2 {
        let config = discord_replica_config(
            &dir.path().join(format!("p{n}")),
            &fake.rest_url,
            &all,
            1,
            None,
        );
        procs.push(spawn(&config, &env));
        fake.wait_frame(2, n + 1).await;
    }
    assert_eq!(fake.identified_shards(), vec![json!([0, 1]), json!([0, 1])]);
    assert_eq!(fake.connections_on_shard(0), 2);

    let mut ids = Vec::new();
    for i in 0..PASTES {
        let paste = fake.message(
            channel(i),
            Some(GUILD_ID),
            user(200 + i, "someone", false),
            PASTE,
        );
        ids.push(paste["id"].as_str().unwrap().to_string());
        assert_eq!(
            fake.dispatch_to_shard(0, "MESSAGE_CREATE", paste),
            2,
            "both processes get it"
        );
    }
    for id in &ids {
        discord_reply(&fake, id).await;
    }
    let answer = discord_answer_in(&fake, channel(0)).await;
    fake.react_on_shard(
        0,
        channel(0),
        GUILD_ID,
        &answer,
        support::fake_discord::BOT_ID,
        user(300, "voter", false),
        "👍",
    );
    // A DM delivered to both last: once it is answered, a second answer to any paste
    // would have had its time.
    let sentinel = fake.message(DISCORD_DM, None, user(200, "someone", false), PASTE);
    let sentinel_id = sentinel["id"].as_str().unwrap().to_string();
    assert_eq!(fake.dispatch_to_shard(0, "MESSAGE_CREATE", sentinel), 2);
    discord_reply(&fake, &sentinel_id).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(
            discord_replies_to(&fake, channel(i as u64), id),
            1,
            "paste {i} answered once"
        );
    }
    assert_eq!(
        discord_posts(&fake),
        PASTES as usize + 1,
        "nothing else posted"
    );
    assert_eq!(
        report_once_at(&url, (PASTES + 1, 1, 0)).await,
        (PASTES + 1, 1, 0),
        "one answer per paste and the DM in the report, the vote once"
    );
    for p in &procs {
        sigterm(p);
    }
    for p in &mut procs {
        exits_cleanly(p, Duration::from_secs(10));
    }
    fake.assert_no_violations();
    drop_postgres(&url).await;
}
