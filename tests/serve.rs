//! `kotae serve` as a real process: the built binary, a config file, signals, restarts, and
//! the start-up failures an operator meets. The chat platforms are the test fakes.
#![cfg(feature = "slack")]

mod support;

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;
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
    cmd.args(["serve", "--config"])
        .arg(config)
        .stdin(Stdio::null())
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
    for (k, _) in kotae::config::ENV_OVERRIDES {
        cmd.env_remove(k);
    }
    cmd.env("KOTAE_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("kotae starts")
}

/// Waits for the process to end, up to `limit`; kills it and fails the test otherwise.
fn wait_exit(child: &mut Child, limit: Duration) -> (ExitStatus, String) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            return (status, err);
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
            let mut err = String::new();
            child
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .unwrap();
            panic!("kotae serve exited early ({status}): {err}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "kotae serve never listened on {port}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

fn slack_config(dir: &Path, api_base: &str, listen_port: u16) -> std::path::PathBuf {
    let path = dir.join("kotae.toml");
    std::fs::write(
        &path,
        format!(
            "database = \"kotae.db\"\n[slack]\nmode = \"http\"\nlisten = \"127.0.0.1:{listen_port}\"\nsupport_channels = [\"{SUPPORT}\"]\napi_base_url = \"{api_base}\"\n"
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
    let body = json!({
        "token": "t", "team_id": "T0FAKE", "api_app_id": "A0KOTAE", "type": "event_callback",
        "event_id": event_id, "event_time": now(),
        "event": {"type": "message", "channel": SUPPORT, "channel_type": "channel", "user": "U0PERSON1", "text": PASTE, "ts": ts},
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
    let fake = FakeSlack::start().await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = slack_config(dir.path(), &fake.api_base(), port);

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
    sigterm(&child);
    let (status, stderr) = wait_exit(&mut child, Duration::from_secs(5));
    assert!(status.success(), "{stderr}");
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
