//! Slack end to end, without Slack: kotae's real receiver, Socket Mode client and Web API
//! client against the fake in `tests/support/fake_slack.rs`.
#![cfg(feature = "slack")]

mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use kotae::adapters::slack::{self, blocks, signature, SlackError};
use kotae::bot::{Bot, Decision};
use kotae::config::{Secrets, SlackConfig, SlackMode};
use kotae::Lang;
use support::fake_slack::{Call, FakeSlack, APP_TOKEN, BOT_TOKEN, KOTAE_BOT, KOTAE_USER};
use support::scenarios::{self, Author, Harness, Place, Seen};

const SIGNING_SECRET: &str = "test-signing-secret";
const SUPPORT: &str = "C0SUPPORT1";
const SUPPORT2: &str = "C0SUPPORT2";
const OTHER: &str = "C0GENERAL1";
/// The admin channel, where notices go.
const ADMINS: &str = "C0ADMINS01";
/// The one user in `admin_users`.
const ADMIN: &str = "U0ADMIN001";
/// A JAL Pay -> ANA Pay charge refusal: the entry with the 2025-04-30 notice.
const PASTE: &str = "本人認証に不正が検知しました。(MW1M01AJ0004)";
const NOTICE_URL: &str = "https://www.jal.co.jp/jp/ja/jmb/jalpay/pay/notice/20250430_charge";
const WAIT: Duration = Duration::from_secs(10);

fn bot() -> Arc<Bot> {
    Arc::new(Bot::new(
        kotae::builtin_pack().unwrap(),
        Duration::from_secs(600),
        Lang::Ja,
    ))
}

fn secrets() -> Secrets {
    Secrets {
        slack_bot_token: Some(BOT_TOKEN.into()),
        slack_app_token: Some(APP_TOKEN.into()),
        slack_signing_secret: Some(SIGNING_SECRET.into()),
        ..Secrets::default()
    }
}

fn config(fake: &FakeSlack, mode: SlackMode) -> SlackConfig {
    SlackConfig {
        mode,
        listen: "127.0.0.1:0".into(),
        support_channels: vec![SUPPORT.into(), SUPPORT2.into()],
        api_base_url: fake.api_base(),
        admin_users: vec![ADMIN.into()],
        admin_channel: Some(ADMINS.into()),
        ..SlackConfig::default()
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The Events API wrapper around `event`, checked against Slack's published schema so the
/// fake's inputs look like Slack's.
fn event_callback(event_id: &str, event: Value) -> Value {
    let v = json!({
        "token": "legacy-verification-token",
        "team_id": "T0FAKE",
        "api_app_id": "A0KOTAE",
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": now(),
        "authed_users": [KOTAE_USER],
    });
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/specs/slack/slack_common_event_wrapper_schema.json"
    );
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("shared/ beside the repo"))
            .unwrap();
    if let Err(e) = jsonschema::validate(&schema, &v) {
        panic!("test event does not match Slack's event wrapper schema: {e}");
    }
    v
}

fn message(channel: &str, user: &str, text: &str, ts: &str) -> Value {
    json!({
        "type": "message", "channel": channel, "user": user, "text": text, "ts": ts,
        "event_ts": ts, "channel_type": "channel"
    })
}

fn mention_event(channel: &str, text: &str, ts: &str) -> Value {
    json!({
        "type": "app_mention", "channel": channel, "user": "U0PERSON1",
        "text": format!("<@{KOTAE_USER}> {text}"), "ts": ts, "event_ts": ts
    })
}

struct Receiver {
    addr: SocketAddr,
    http: reqwest::Client,
    stop: CancellationToken,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn start_http(fake: &FakeSlack) -> Receiver {
    start_http_with(fake, bot()).await
}

async fn start_http_with(fake: &FakeSlack, bot: Arc<Bot>) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let (cfg, s, st) = (config(fake, SlackMode::Http), secrets(), stop.clone());
    tokio::spawn(async move {
        if let Err(e) = slack::run_http(listener, bot, &cfg, &s, st).await {
            panic!("receiver stopped: {e}");
        }
    });
    Receiver {
        addr,
        http: support::receiver_client(),
        stop,
    }
}

impl Receiver {
    /// Posts `body` to `path`, signed as Slack would with timestamp `ts`.
    async fn post_signed(
        &self,
        path: &str,
        body: Vec<u8>,
        ts: i64,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let sig = signature::sign(SIGNING_SECRET.as_bytes(), &ts.to_string(), &body);
        let mut req = self
            .http
            .post(format!("http://{}{path}", self.addr))
            .header("x-slack-request-timestamp", ts.to_string())
            .header("x-slack-signature", sig)
            .body(body);
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        req.send().await.unwrap()
    }

    async fn event(&self, v: &Value, extra: &[(&str, &str)]) -> reqwest::Response {
        let mut headers = vec![("content-type", "application/json")];
        headers.extend_from_slice(extra);
        self.post_signed("/slack/events", v.to_string().into_bytes(), now(), &headers)
            .await
    }

    /// Delivers `event` in an `event_callback` envelope with `event_id`, signed, no retry.
    async fn callback(&self, event_id: &str, event: Value) -> reqwest::Response {
        self.event(&event_callback(event_id, event), &[]).await
    }

    async fn command(&self, fields: &[(&str, &str)]) -> reqwest::Response {
        let body = serde_urlencoded::to_string(fields).unwrap().into_bytes();
        self.post_signed(
            "/slack/commands",
            body,
            now(),
            &[("content-type", "application/x-www-form-urlencoded")],
        )
        .await
    }
}

/// Posts `body` signed, with `Transfer-Encoding: chunked` in 64 KiB chunks, and returns the
/// response status.
async fn post_chunked(addr: SocketAddr, path: &str, body: &[u8]) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let ts = now().to_string();
    let sig = signature::sign(SIGNING_SECRET.as_bytes(), &ts, body);
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nX-Slack-Request-Timestamp: {ts}\r\nX-Slack-Signature: {sig}\r\nConnection: close\r\n\r\n"
    );
    let mut out = head.into_bytes();
    for chunk in body.chunks(64 * 1024) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    // The receiver may answer and close before reading everything; that is the point.
    let _ = tcp.write_all(&out).await;
    let mut response = Vec::new();
    let _ = tcp.read_to_end(&mut response).await;
    let text = String::from_utf8_lossy(&response);
    text.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// All the text of a Block Kit array, joined.
fn block_text(blocks: &Value) -> String {
    let mut out = String::new();
    for b in blocks.as_array().expect("blocks is an array") {
        if let Some(t) = b["text"]["text"].as_str() {
            out.push_str(t);
            out.push('\n');
        }
        for e in b["elements"].as_array().into_iter().flatten() {
            out.push_str(e["text"].as_str().unwrap_or(""));
            out.push('\n');
        }
    }
    out
}

fn expected_answer(text: &str) -> kotae::reply::Answer {
    match bot().lookup(text, Lang::Ja) {
        Decision::Answer(a) => *a,
        other => panic!("the knowledge does not answer {text:?}: {other:?}"),
    }
}

#[tokio::test]
async fn a_pasted_error_in_a_support_channel_gets_a_threaded_block_kit_reply() {
    let fake = FakeSlack::start().await;
    let rx = start_http(&fake).await;
    let resp = rx
        .callback(
            "Ev001",
            message(SUPPORT, "U0PERSON1", PASTE, "1700000001.000100"),
        )
        .await;
    assert_eq!(resp.status(), 200);
    // A paste inside an existing thread is answered in that thread.
    let mut in_thread = message(SUPPORT2, "U0PERSON2", PASTE, "1700000002.000300");
    in_thread["thread_ts"] = json!("1700000002.000200");
    assert_eq!(rx.callback("Ev002", in_thread).await.status(), 200);

    let posts = fake.wait_for("chat.postMessage", 2, WAIT).await;
    assert_eq!(posts.len(), 2, "{posts:?}");
    let first = posts
        .iter()
        .find(|p| p.field("channel") == Some(SUPPORT))
        .expect("reply in the support channel");
    assert_eq!(first.field("thread_ts"), Some("1700000001.000100"));
    let second = posts
        .iter()
        .find(|p| p.field("channel") == Some(SUPPORT2))
        .unwrap();
    assert_eq!(second.field("thread_ts"), Some("1700000002.000200"));

    let answer = expected_answer(PASTE);
    let blocks = first.blocks();
    assert_eq!(blocks[0]["type"], "header");
    let text = block_text(&blocks);
    assert!(
        text.contains(&blocks::escape(&answer.cause)),
        "cause missing: {text}"
    );
    assert!(text.contains(NOTICE_URL), "notice URL missing: {text}");
    assert!(
        text.contains(&format!("`{}`", answer.id)),
        "entry id missing: {text}"
    );
    assert!(
        !first.field("text").unwrap_or("").is_empty(),
        "no fallback text"
    );
    assert_eq!(
        first.authorization.as_deref(),
        Some(format!("Bearer {BOT_TOKEN}").as_str())
    );
}

#[tokio::test]
async fn unsigned_stale_and_oversized_requests_are_refused_and_nothing_is_posted() {
    let fake = FakeSlack::start().await;
    let rx = start_http(&fake).await;
    let body = |id: &str| {
        event_callback(
            id,
            message(SUPPORT, "U0PERSON1", PASTE, "1700000010.000100"),
        )
        .to_string()
        .into_bytes()
    };
    let url = format!("http://{}/slack/events", rx.addr);

    // Signed with another secret.
    let ts = now().to_string();
    let bad = signature::sign(b"not-the-secret", &ts, &body("EvBad1"));
    let r = rx
        .http
        .post(&url)
        .header("x-slack-request-timestamp", &ts)
        .header("x-slack-signature", bad)
        .body(body("EvBad1"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "bad signature");
    // Correctly signed, but six minutes old: a replay.
    let r = rx
        .post_signed("/slack/events", body("EvBad2"), now() - 360, &[])
        .await;
    assert_eq!(r.status(), 401, "old timestamp");
    // Headers missing.
    let good = signature::sign(SIGNING_SECRET.as_bytes(), &ts, &body("EvBad3"));
    let r = rx
        .http
        .post(&url)
        .header("x-slack-request-timestamp", &ts)
        .body(body("EvBad3"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "missing signature");
    let r = rx
        .http
        .post(&url)
        .header("x-slack-signature", good)
        .body(body("EvBad3"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "missing timestamp");
    // 2 MiB, correctly signed: refused before hashing.
    let mut big = event_callback(
        "EvBad4",
        message(SUPPORT, "U0PERSON1", PASTE, "1700000011.000100"),
    );
    big["padding"] = json!("x".repeat(2 * 1024 * 1024));
    let r = rx
        .post_signed("/slack/events", big.to_string().into_bytes(), now(), &[])
        .await;
    assert_eq!(r.status(), 413, "2 MiB body");
    // The same, chunked, so no Content-Length warns the receiver.
    let status = post_chunked(rx.addr, "/slack/events", big.to_string().as_bytes()).await;
    assert_eq!(status, 413, "2 MiB chunked body");
    let r = rx.command(&[("text", PASTE)]).await;
    assert_eq!(
        r.status(),
        400,
        "a signed command without response_url is malformed"
    );
    let r = rx
        .http
        .post(format!("http://{}/slack/commands", rx.addr))
        .body("text=x&response_url=http%3A%2F%2F127.0.0.1%3A9%2F")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "unsigned command");

    // A valid event afterwards is answered, and it is the only post.
    let ok = rx
        .callback(
            "EvGood",
            message(SUPPORT, "U0PERSON1", PASTE, "1700000012.000100"),
        )
        .await;
    assert_eq!(ok.status(), 200);
    let posts = fake.wait_for("chat.postMessage", 1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let posts_after = fake.calls("chat.postMessage");
    assert_eq!(posts.len(), 1);
    assert_eq!(
        posts_after.len(),
        1,
        "a refused request was answered: {posts_after:?}"
    );
    assert_eq!(posts_after[0].field("thread_ts"), Some("1700000012.000100"));
    assert!(fake.calls("response_url").is_empty());
}

#[tokio::test]
async fn the_ack_comes_before_a_slow_reply() {
    let fake = FakeSlack::start().await;
    fake.set_post_delay(Duration::from_secs(2));
    let rx = start_http(&fake).await;
    let started = Instant::now();
    let r = rx
        .callback(
            "EvSlow",
            message(SUPPORT, "U0PERSON1", PASTE, "1700000020.000100"),
        )
        .await;
    let acked = started.elapsed();
    assert_eq!(r.status(), 200);
    assert!(acked < Duration::from_secs(1), "ack took {acked:?}");
    let posts = fake.wait_for("chat.postMessage", 1, WAIT).await;
    assert_eq!(posts.len(), 1, "the slow reply still arrives");
}

/// With a store, the answer is recorded under the posted message's `ts`, and an event that
/// Slack re-delivers after kotae restarted is still answered only once.
#[tokio::test]
async fn answers_are_recorded_and_a_redelivery_after_a_restart_is_answered_once() {
    use kotae::store::{SqliteStore, Store};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kotae.db");
    let stored_bot = || {
        let store = Arc::new(SqliteStore::open(&db).unwrap());
        Arc::new(
            Bot::new(
                kotae::builtin_pack().unwrap(),
                Duration::from_secs(600),
                Lang::Ja,
            )
            .with_store(store),
        )
    };
    let fake = FakeSlack::start().await;
    let ev = event_callback(
        "EvPersist",
        mention_event(OTHER, PASTE, "1700000040.000100"),
    );
    {
        let bot = stored_bot();
        let rx = start_http_with(&fake, bot.clone()).await;
        assert_eq!(rx.event(&ev, &[]).await.status(), 200);
        fake.wait_for("chat.postMessage", 1, WAIT).await;
        // The record is written right after the post returns.
        let store = bot.store().cloned().unwrap();
        let deadline = Instant::now() + WAIT;
        while store
            .answer_by_message("slack", "1700000000.000100")
            .unwrap()
            .is_none()
        {
            assert!(
                Instant::now() < deadline,
                "the answer was not recorded under the posted ts"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert_eq!(
            bot.metrics()
                .render()
                .matches("kotae_answers_total{platform=\"slack\"")
                .count(),
            1
        );
    }
    // A new process on the same database; Slack retries the same event.
    let bot = stored_bot();
    let rx = start_http_with(&fake, bot.clone()).await;
    let retry = [
        ("x-slack-retry-num", "1"),
        ("x-slack-retry-reason", "http_timeout"),
    ];
    assert_eq!(rx.event(&ev, &retry).await.status(), 200);
    let barrier = event_callback(
        "EvPersist2",
        mention_event(OTHER, PASTE, "1700000041.000100"),
    );
    assert_eq!(rx.event(&barrier, &[]).await.status(), 200);
    fake.wait_for("chat.postMessage", 2, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let threads: Vec<String> = fake
        .calls("chat.postMessage")
        .iter()
        .filter_map(|p| p.field("thread_ts").map(str::to_string))
        .collect();
    assert_eq!(
        threads,
        ["1700000040.000100", "1700000041.000100"],
        "the re-delivery was answered again"
    );
    // Another connection sees what is saved: save the queue first (a stopping kotae does).
    bot.store().unwrap().flush().unwrap();
    let report = SqliteStore::open(&db).unwrap().report(0, 5).unwrap();
    assert_eq!(report.entries[0].answers, 2);
}

#[tokio::test]
async fn bots_edits_and_kotae_itself_are_ignored() {
    let fake = FakeSlack::start().await;
    let rx = start_http(&fake).await;
    let mut from_bot = message(SUPPORT, "U0OTHERBOT", PASTE, "1700000040.000100");
    from_bot["bot_id"] = json!("B0OTHER");
    let mut bot_message = message(SUPPORT, "U0OTHERBOT", PASTE, "1700000040.000200");
    bot_message["subtype"] = json!("bot_message");
    bot_message["bot_id"] = json!("B0OTHER");
    let own = message(SUPPORT, KOTAE_USER, PASTE, "1700000040.000300");
    let mut own_bot = message(SUPPORT, KOTAE_USER, PASTE, "1700000040.000400");
    own_bot["bot_id"] = json!(KOTAE_BOT);
    let changed = json!({
        "type": "message", "subtype": "message_changed", "channel": SUPPORT, "ts": "1700000040.000500",
        "event_ts": "1700000040.000500", "channel_type": "channel",
        "message": {"type": "message", "user": "U0PERSON1", "text": PASTE, "ts": "1700000039.000100"}
    });
    let deleted = json!({
        "type": "message", "subtype": "message_deleted", "channel": SUPPORT, "ts": "1700000040.000600",
        "event_ts": "1700000040.000600", "deleted_ts": "1700000039.000100", "channel_type": "channel"
    });
    // A bot mentioning kotae in a DM is still a bot.
    let mut bot_dm = message("D0BOTDM01", "U0OTHERBOT", PASTE, "1700000040.000700");
    bot_dm["channel_type"] = json!("im");
    bot_dm["bot_id"] = json!("B0OTHER");
    for (i, ev) in [
        from_bot,
        bot_message,
        own,
        own_bot,
        changed,
        deleted,
        bot_dm,
    ]
    .into_iter()
    .enumerate()
    {
        let r = rx.callback(&format!("EvIgnored{i}"), ev).await;
        assert_eq!(r.status(), 200);
    }
    // The same paste from a person in the other support channel is answered: the barrier.
    let person = message(SUPPORT2, "U0PERSON1", PASTE, "1700000041.000100");
    assert_eq!(rx.callback("EvPerson", person).await.status(), 200);
    fake.wait_for("chat.postMessage", 1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let posts = fake.calls("chat.postMessage");
    assert_eq!(posts.len(), 1, "{posts:?}");
    assert_eq!(posts[0].field("channel"), Some(SUPPORT2));
}

#[tokio::test]
async fn mentions_and_dms_are_answered_anywhere_but_chatter_elsewhere_is_not() {
    let fake = FakeSlack::start().await;
    let rx = start_http(&fake).await;
    // Chatter and even a paste outside the support channels: silent.
    let r = rx
        .callback(
            "EvChat",
            message(OTHER, "U0PERSON1", PASTE, "1700000050.000100"),
        )
        .await;
    assert_eq!(r.status(), 200);
    // A mention in a support channel arrives twice (message + app_mention); one reply.
    let mut msg_with_mention = message(
        SUPPORT,
        "U0PERSON1",
        &format!("<@{KOTAE_USER}> {PASTE}"),
        "1700000051.000100",
    );
    msg_with_mention["channel_type"] = json!("channel");
    rx.callback("EvMentionMsg", msg_with_mention).await;
    rx.callback(
        "EvMention",
        mention_event(SUPPORT, PASTE, "1700000051.000100"),
    )
    .await;
    // A DM that matches nothing gets the "no match" hint, top level.
    let mut dm = message(
        "D0PERSON01",
        "U0PERSON1",
        "こんにちは &lt;!channel&gt;",
        "1700000052.000100",
    );
    dm["channel_type"] = json!("im");
    rx.callback("EvDm", dm).await;
    fake.wait_for("chat.postMessage", 2, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let posts = fake.calls("chat.postMessage");
    assert_eq!(posts.len(), 2, "{posts:?}");
    let m = posts
        .iter()
        .find(|p| p.field("channel") == Some(SUPPORT))
        .expect("mention answered");
    assert_eq!(m.field("thread_ts"), Some("1700000051.000100"));
    assert!(block_text(&m.blocks()).contains(NOTICE_URL));
    let d = posts
        .iter()
        .find(|p| p.field("channel") == Some("D0PERSON01"))
        .expect("DM answered");
    assert_eq!(d.field("thread_ts"), None);
    let hint = kotae::reply::Labels::get(Lang::Ja).no_match;
    assert!(block_text(&d.blocks()).contains(hint));
}

#[tokio::test]
async fn url_verification_returns_the_challenge() {
    let fake = FakeSlack::start().await;
    let rx = start_http(&fake).await;
    let v = json!({"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "type": "url_verification"});
    let r = rx.event(&v, &[]).await;
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(
        body["challenge"],
        "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    );
}

#[tokio::test]
async fn the_slash_command_acks_at_once_and_answers_on_response_url() {
    let fake = FakeSlack::start().await;
    let rx = start_http(&fake).await;
    let private = fake.response_url("T0FAKE/1/private");
    let started = Instant::now();
    let r = rx
        .command(&[
            ("token", "legacy"),
            ("team_id", "T0FAKE"),
            ("channel_id", OTHER),
            ("user_id", "U0PERSON1"),
            ("command", "/kotae"),
            ("text", PASTE),
            ("response_url", &private),
            ("trigger_id", "1.2.3"),
        ])
        .await;
    assert_eq!(r.status(), 200);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "ack took {:?}",
        started.elapsed()
    );
    let shared = fake.response_url("T0FAKE/2/shared");
    let share_text = format!("share {PASTE}");
    let r = rx
        .command(&[
            ("command", "/kotae"),
            ("text", &share_text),
            ("response_url", &shared),
            ("channel_id", OTHER),
        ])
        .await;
    assert_eq!(r.status(), 200);

    let replies = fake.wait_for("response_url", 2, WAIT).await;
    assert_eq!(replies.len(), 2, "{replies:?}");
    for r in &replies {
        let body = r.json.as_ref().unwrap();
        assert!(block_text(&body["blocks"]).contains(NOTICE_URL), "{body}");
        assert!(!body["text"].as_str().unwrap_or("").is_empty());
    }
    let types: Vec<&str> = replies
        .iter()
        .map(|r| r.json.as_ref().unwrap()["response_type"].as_str().unwrap())
        .collect();
    assert!(
        types.contains(&"ephemeral") && types.contains(&"in_channel"),
        "{types:?}"
    );
    assert!(
        fake.calls("chat.postMessage").is_empty(),
        "commands answer on response_url only"
    );
}

#[tokio::test]
async fn a_429_is_retried_once_after_retry_after_and_the_answer_arrives() {
    let fake = FakeSlack::start().await;
    fake.rate_limit_next(1);
    let rx = start_http(&fake).await;
    rx.callback(
        "Ev429",
        message(SUPPORT, "U0PERSON1", PASTE, "1700000060.000100"),
    )
    .await;
    fake.wait_for("chat.postMessage", 2, WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let posts = fake.calls("chat.postMessage");
    let statuses: Vec<u16> = posts.iter().map(|p| p.status).collect();
    assert_eq!(statuses, vec![429, 200], "exactly one retry");
    let gap = posts[1].at - posts[0].at;
    assert!(
        gap >= Duration::from_millis(990),
        "retried after {gap:?}, before Retry-After"
    );
    assert_eq!(
        posts[0].form, posts[1].form,
        "the retry sends the same answer"
    );
}

#[tokio::test]
async fn socket_mode_acks_answers_reconnects_and_dedups() {
    let fake = FakeSlack::start().await;
    let stop = CancellationToken::new();
    let (cfg, s, st) = (config(&fake, SlackMode::Socket), secrets(), stop.clone());
    let client = tokio::spawn(async move { slack::run_socket(bot(), &cfg, &s, st).await });

    let mut sock = fake.next_socket(WAIT).await.expect("kotae connects");
    sock.send(&json!({"type": "hello", "num_connections": 1, "debug_info": {"host": "fake"}, "connection_info": {"app_id": "A0KOTAE"}}));
    let payload = event_callback("EvSock1", mention_event(OTHER, PASTE, "1700000070.000100"));
    let sent = Instant::now();
    sock.send(&json!({"envelope_id": "env-1", "type": "events_api", "accepts_response_payload": false, "retry_attempt": 0, "retry_reason": "", "payload": payload}));
    let ack = sock
        .recv(Duration::from_secs(3))
        .await
        .expect("ack within 3 s");
    assert_eq!(ack, json!({"envelope_id": "env-1"}));
    assert!(sent.elapsed() < Duration::from_secs(3));
    let posts = fake.wait_for("chat.postMessage", 1, WAIT).await;
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].field("thread_ts"), Some("1700000070.000100"));

    // Slack rotates the connection: kotae asks for a new URL and connects again.
    sock.send(&json!({"type": "disconnect", "reason": "refresh_requested", "debug_info": {"host": "fake"}}));
    let mut sock2 = fake.next_socket(WAIT).await.expect("kotae reconnects");
    assert_eq!(fake.calls("apps.connections.open").len(), 2);
    assert!(
        sock.closed(Duration::from_secs(3)).await,
        "the old connection is closed"
    );
    sock2.send(&json!({"type": "hello", "num_connections": 1}));

    // The first event again, re-delivered on the new connection: acked, not answered again.
    sock2.send(&json!({"envelope_id": "env-2", "type": "events_api", "accepts_response_payload": false, "retry_attempt": 1, "retry_reason": "timeout", "payload": payload}));
    assert_eq!(
        sock2.recv(Duration::from_secs(3)).await,
        Some(json!({"envelope_id": "env-2"}))
    );
    // A slash command over the socket, then a new event: the barrier.
    let cmd = json!({"command": "/kotae", "text": PASTE, "response_url": fake.response_url("sock"), "channel_id": OTHER, "user_id": "U0PERSON1"});
    sock2.send(&json!({"envelope_id": "env-3", "type": "slash_commands", "accepts_response_payload": true, "payload": cmd}));
    assert_eq!(
        sock2.recv(Duration::from_secs(3)).await,
        Some(json!({"envelope_id": "env-3"}))
    );
    let fresh = event_callback("EvSock2", mention_event(OTHER, PASTE, "1700000071.000100"));
    sock2.send(&json!({"envelope_id": "env-4", "type": "events_api", "accepts_response_payload": false, "retry_attempt": 0, "retry_reason": "", "payload": fresh}));
    assert_eq!(
        sock2.recv(Duration::from_secs(3)).await,
        Some(json!({"envelope_id": "env-4"}))
    );
    fake.wait_for("chat.postMessage", 2, WAIT).await;
    assert_eq!(fake.wait_for("response_url", 1, WAIT).await.len(), 1);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let threads: Vec<String> = fake
        .calls("chat.postMessage")
        .iter()
        .filter_map(|p| p.field("thread_ts").map(str::to_string))
        .collect();
    assert_eq!(
        threads,
        vec!["1700000070.000100", "1700000071.000100"],
        "the re-delivery was answered again"
    );

    // A dropped socket (no disconnect message) also leads to a new connection.
    drop(sock2);
    let sock3 = fake
        .next_socket(WAIT)
        .await
        .expect("kotae reconnects after a drop");
    assert_eq!(fake.calls("apps.connections.open").len(), 3);
    stop.cancel();
    let ended = tokio::time::timeout(WAIT, client)
        .await
        .expect("stops on shutdown")
        .unwrap();
    assert!(ended.is_ok(), "{ended:?}");
    drop(sock3);
}

#[tokio::test]
async fn a_bad_bot_token_stops_run_with_a_clear_error() {
    let fake = FakeSlack::start().await;
    let s = Secrets {
        slack_bot_token: Some("xoxb-wrong".into()),
        ..secrets()
    };
    let err = slack::run(
        bot(),
        config(&fake, SlackMode::Socket),
        s,
        CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, SlackError::BadBotToken(code) if code == "invalid_auth"),
        "{err}"
    );
    assert!(err.to_string().contains("SLACK_BOT_TOKEN") && !err.to_string().contains("xoxb-wrong"));
    let missing = slack::run(
        bot(),
        config(&fake, SlackMode::Socket),
        Secrets {
            slack_app_token: None,
            ..secrets()
        },
        CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(matches!(missing, SlackError::MissingAppToken), "{missing}");
}

/// Slack's worked example from "Verifying requests from Slack".
#[test]
fn the_signature_check_passes_slacks_worked_example() {
    let secret = b"8f742231b10e8888abcd99yyyzzz85a5";
    let ts = "1531420618";
    let body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    let expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
    assert_eq!(signature::sign(secret, ts, body.as_bytes()), expected);
    assert_eq!(
        signature::verify(
            secret,
            Some(ts),
            Some(expected),
            body.as_bytes(),
            1531420618 + 10
        ),
        Ok(())
    );
    let mut tampered = body.as_bytes().to_vec();
    tampered[6] = b'X';
    assert!(signature::verify(secret, Some(ts), Some(expected), &tampered, 1531420618).is_err());
}

#[tokio::test]
async fn post_message_arguments_match_slacks_openapi_spec() {
    let fake = FakeSlack::start().await;
    let rx = start_http(&fake).await;
    rx.callback(
        "EvSpec",
        message(SUPPORT, "U0PERSON1", PASTE, "1700000080.000100"),
    )
    .await;
    let posts = fake.wait_for("chat.postMessage", 1, WAIT).await;
    assert_eq!(posts.len(), 1);
    let call = &posts[0];

    check_against_openapi(call);
}

/// Checks one `chat.postMessage` call's arguments against Slack's OpenAPI description: every
/// form field is a documented parameter of the right type, and the required ones are there.
fn check_against_openapi(call: &Call) {
    assert_eq!(call.method, "chat.postMessage");
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/specs/slack/slack_web_openapi_v2.json"
    );
    let spec: Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("shared/ beside the repo"))
            .unwrap();
    let op = &spec["paths"]["/chat.postMessage"]["post"];
    let params = op["parameters"].as_array().expect("parameters");
    let consumes: Vec<&str> = op["consumes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let content_type = call.content_type.as_deref().unwrap_or("");
    assert!(
        consumes.iter().any(|c| content_type.starts_with(c)),
        "{content_type} not in {consumes:?}"
    );

    let param = |name: &str| {
        params
            .iter()
            .find(|p| p["name"] == name && p["in"] == "formData")
            .unwrap_or_else(|| panic!("chat.postMessage has no parameter {name:?}"))
    };
    if let Some(body) = &call.json {
        // A JSON body: Slack wants the charset said, and each argument as a JSON value of the
        // documented type; `blocks` (in a form "a JSON-based array ... presented as a
        // URL-encoded string") is the array itself.
        assert_eq!(content_type, "application/json; charset=utf-8");
        for (name, value) in body.as_object().expect("a JSON object") {
            let ok = match (name.as_str(), param(name)["type"].as_str().unwrap()) {
                ("blocks" | "attachments", _) => value.is_array(),
                (_, "string") => value.is_string(),
                (_, "boolean") => value.is_boolean(),
                (_, "integer") => value.is_i64(),
                (_, "number") => value.is_number(),
                (_, other) => panic!("{name}: unexpected type {other}"),
            };
            assert!(ok, "{name}={value} is not of the documented type");
        }
    } else {
        for (name, value) in &call.form {
            match param(name)["type"].as_str().unwrap() {
                "string" => {}
                "boolean" => assert!(
                    value == "true" || value == "false",
                    "{name}={value} is not a boolean"
                ),
                "integer" => assert!(
                    value.parse::<i64>().is_ok(),
                    "{name}={value} is not an integer"
                ),
                "number" => assert!(
                    value.parse::<f64>().is_ok(),
                    "{name}={value} is not a number"
                ),
                other => panic!("{name}: unexpected type {other}"),
            }
        }
    }
    for p in params.iter().filter(|p| p["required"] == true) {
        let name = p["name"].as_str().unwrap();
        match p["in"].as_str().unwrap() {
            "formData" => assert!(call.field(name).is_some(), "required {name} missing"),
            // The token goes in the Authorization header, as Slack recommends.
            "header" if name == "token" => assert!(call
                .authorization
                .as_deref()
                .is_some_and(|a| a.starts_with("Bearer xoxb-"))),
            other => panic!("unexpected required parameter {name} in {other}"),
        }
    }
    assert!(call.blocks().is_array());
}

#[test]
fn the_committed_manifest_asks_for_what_kotae_uses() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/slack-manifest.yaml"
    ))
    .unwrap();
    let items: Vec<&str> = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- "))
        .collect();
    for needed in [
        "app_mentions:read",
        "channels:history",
        "groups:history",
        "im:history",
        "chat:write",
        "commands",
        "files:read",
        "app_mention",
        "message.channels",
        "message.groups",
        "message.im",
        "command: /kotae",
        "command: /kotae-admin",
    ] {
        assert!(items.contains(&needed), "manifest lacks {needed}");
    }
    assert!(text.contains("socket_mode_enabled: true"));
    // The feedback buttons need interactivity turned on.
    assert!(
        text.contains("interactivity:\n    is_enabled: true"),
        "interactivity is off"
    );
}

/// The `ts` the fake gives every posted message: kotae records its answers under it.
const POSTED_TS: &str = "1700000000.000100";

fn stored_bot() -> Arc<Bot> {
    let store = Arc::new(kotae::store::SqliteStore::in_memory().unwrap());
    Arc::new(
        Bot::new(
            kotae::builtin_pack().unwrap(),
            Duration::from_secs(600),
            Lang::Ja,
        )
        .with_store(store),
    )
}

/// Waits until the answer posted as [`POSTED_TS`] is in the store.
async fn wait_recorded(bot: &Bot) {
    let store = bot.store().cloned().unwrap();
    let deadline = Instant::now() + WAIT;
    while store
        .answer_by_message("slack", POSTED_TS)
        .unwrap()
        .is_none()
    {
        assert!(Instant::now() < deadline, "the answer was not recorded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until `check` holds for the votes on `entry`, then a little more, and returns them.
async fn settled_votes(bot: &Bot, entry: &str, check: impl Fn((u64, u64)) -> bool) -> (u64, u64) {
    let deadline = Instant::now() + WAIT;
    while !check(support::votes(bot, entry)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    support::votes(bot, entry)
}

/// The button with `action_id` in a posted answer's blocks: the test clicks what kotae sent.
fn button(blocks: &Value, action_id: &str) -> Value {
    blocks
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["type"] == "actions")
        .flat_map(|b| b["elements"].as_array().unwrap().iter())
        .find(|e| e["action_id"] == action_id)
        .unwrap_or_else(|| panic!("no {action_id} button in {blocks}"))
        .clone()
}

/// A `block_actions` payload as Slack sends it when `user` clicks `button` on kotae's message
/// `POSTED_TS` in `channel`, posted in the thread `thread_ts`.
fn click(user: &str, button: &Value, channel: &str, thread_ts: &str) -> Value {
    let mut action = button.clone();
    action["block_id"] = json!("kotae_feedback");
    action["action_ts"] = json!(format!("{}.000200", now()));
    json!({
        "type": "block_actions",
        "user": {"id": user, "username": "person", "name": "person", "team_id": "T0FAKE"},
        "api_app_id": "A0KOTAE",
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": POSTED_TS, "channel_id": channel, "is_ephemeral": false},
        "trigger_id": "1.2.3",
        "team": {"id": "T0FAKE", "domain": "fake"},
        "enterprise": null,
        "is_enterprise_install": false,
        "channel": {"id": channel, "name": "support"},
        "message": {"type": "message", "user": KOTAE_USER, "bot_id": KOTAE_BOT, "text": "answer", "ts": POSTED_TS, "thread_ts": thread_ts},
        "state": {"values": {}},
        "response_url": "http://127.0.0.1:9/actions/T0FAKE/1/x",
        "actions": [action]
    })
}

impl Receiver {
    /// Posts a click to `/slack/actions`, form-encoded and signed as Slack does.
    async fn action(&self, payload: &Value) -> reqwest::Response {
        let body = serde_urlencoded::to_string([("payload", payload.to_string())])
            .unwrap()
            .into_bytes();
        self.post_signed(
            "/slack/actions",
            body,
            now(),
            &[("content-type", "application/x-www-form-urlencoded")],
        )
        .await
    }
}

#[tokio::test]
async fn feedback_buttons_count_once_per_user_and_a_thumbs_down_gets_the_official_links() {
    let fake = FakeSlack::start().await;
    let bot = stored_bot();
    let rx = start_http_with(&fake, bot.clone()).await;
    let paste_ts = "1700000090.000100";
    rx.callback("EvVote", message(SUPPORT, "U0PERSON1", PASTE, paste_ts))
        .await;
    let posts = fake.wait_for("chat.postMessage", 1, WAIT).await;
    assert_eq!(posts.len(), 1);
    wait_recorded(&bot).await;
    let entry = expected_answer(PASTE).id;
    let (up, down) = (
        button(&posts[0].blocks(), "kotae_vote_up"),
        button(&posts[0].blocks(), "kotae_vote_down"),
    );
    assert_eq!(up["value"], entry.as_str());

    // 👍 twice by the same person, then once by someone else: two helpful votes, not three.
    for user in ["U0PERSON1", "U0PERSON1", "U0PERSON2"] {
        let r = rx.action(&click(user, &up, SUPPORT, paste_ts)).await;
        assert_eq!(r.status(), 200);
    }
    assert_eq!(settled_votes(&bot, &entry, |v| v.0 >= 2).await, (2, 0));
    assert_eq!(
        fake.calls("chat.postMessage").len(),
        1,
        "a 👍 posts nothing"
    );

    // The first person changes their mind: 👎, twice. One reply in the answer's thread.
    for _ in 0..2 {
        let r = rx
            .action(&click("U0PERSON1", &down, SUPPORT, paste_ts))
            .await;
        assert_eq!(r.status(), 200);
    }
    assert_eq!(settled_votes(&bot, &entry, |v| v.1 >= 1).await, (1, 1));
    let posts = fake.wait_for("chat.postMessage", 2, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let posts_after = fake.calls("chat.postMessage");
    assert_eq!(posts.len(), 2);
    assert_eq!(
        posts_after.len(),
        2,
        "one reply per 👎 vote: {posts_after:?}"
    );
    posts_after.iter().for_each(check_against_openapi);
    let reply = &posts_after[1];
    assert_eq!(reply.field("channel"), Some(SUPPORT));
    assert_eq!(reply.field("thread_ts"), Some(paste_ts));
    let text = block_text(&reply.blocks());
    assert!(text.contains(NOTICE_URL), "official link missing: {text}");
    assert!(text.contains("担当者が確認します"), "{text}");
    assert!(
        !reply.blocks().to_string().contains("kotae_vote"),
        "the reply is not an answer to vote on"
    );
    let metrics = bot.metrics().render();
    // Counted votes: two 👍 and the change to 👎; the repeats are not.
    for line in [
        "kotae_feedback_total{platform=\"slack\",verdict=\"helpful\"} 2",
        "kotae_feedback_total{platform=\"slack\",verdict=\"not_helpful\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} missing: {metrics}");
    }

    // Unsigned and wrongly signed clicks: 401, nothing recorded, nothing posted.
    let payload = click("U0PERSON3", &down, SUPPORT, paste_ts);
    let body = serde_urlencoded::to_string([("payload", payload.to_string())]).unwrap();
    let url = format!("http://{}/slack/actions", rx.addr);
    let r = rx.http.post(&url).body(body.clone()).send().await.unwrap();
    assert_eq!(r.status(), 401, "unsigned click");
    let ts = now().to_string();
    let r = rx
        .http
        .post(&url)
        .header("x-slack-request-timestamp", &ts)
        .header(
            "x-slack-signature",
            signature::sign(b"not-the-secret", &ts, body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "wrongly signed click");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        support::votes(&bot, &entry),
        (1, 1),
        "a refused click was counted"
    );
    assert_eq!(fake.calls("chat.postMessage").len(), 2);
}

#[tokio::test]
async fn socket_mode_interactive_envelopes_record_votes() {
    let fake = FakeSlack::start().await;
    let bot = stored_bot();
    let stop = CancellationToken::new();
    let (cfg, s, st, b) = (
        config(&fake, SlackMode::Socket),
        secrets(),
        stop.clone(),
        bot.clone(),
    );
    tokio::spawn(async move { slack::run_socket(b, &cfg, &s, st).await });
    let mut sock = fake.next_socket(WAIT).await.expect("kotae connects");
    sock.send(&json!({"type": "hello", "num_connections": 1}));
    let ask_ts = "1700000095.000100";
    let payload = event_callback("EvSockVote", mention_event(OTHER, PASTE, ask_ts));
    sock.send(&json!({"envelope_id": "env-v1", "type": "events_api", "accepts_response_payload": false, "retry_attempt": 0, "retry_reason": "", "payload": payload}));
    assert_eq!(
        sock.recv(Duration::from_secs(3)).await,
        Some(json!({"envelope_id": "env-v1"}))
    );
    let posts = fake.wait_for("chat.postMessage", 1, WAIT).await;
    assert_eq!(posts.len(), 1);
    wait_recorded(&bot).await;
    let entry = expected_answer(PASTE).id;
    let down = button(&posts[0].blocks(), "kotae_vote_down");
    sock.send(&json!({"envelope_id": "env-v2", "type": "interactive", "accepts_response_payload": false, "payload": click("U0PERSON1", &down, OTHER, ask_ts)}));
    assert_eq!(
        sock.recv(Duration::from_secs(3)).await,
        Some(json!({"envelope_id": "env-v2"})),
        "the click is acked"
    );
    assert_eq!(settled_votes(&bot, &entry, |v| v.1 >= 1).await, (0, 1));
    let posts = fake.wait_for("chat.postMessage", 2, WAIT).await;
    assert_eq!(posts.len(), 2);
    posts.iter().for_each(check_against_openapi);
    assert_eq!(posts[1].field("thread_ts"), Some(ask_ts));
    assert!(block_text(&posts[1].blocks()).contains(NOTICE_URL));
    stop.cancel();
}

/// Runs `/kotae-admin <text>` as `user` and returns the one response_url body.
async fn admin(fake: &FakeSlack, rx: &Receiver, user: &str, text: &str, hook: &str) -> Value {
    let before = fake.calls("response_url").len();
    let url = fake.response_url(hook);
    let r = rx
        .command(&[
            ("command", "/kotae-admin"),
            ("text", text),
            ("user_id", user),
            ("channel_id", OTHER),
            ("response_url", &url),
        ])
        .await;
    assert_eq!(r.status(), 200);
    let replies = fake.wait_for("response_url", before + 1, WAIT).await;
    assert_eq!(
        replies.len(),
        before + 1,
        "no answer to /kotae-admin {text}"
    );
    replies[before].json.clone().unwrap()
}

#[tokio::test]
async fn kotae_admin_test_explains_for_admins_and_refuses_others() {
    let fake = FakeSlack::start().await;
    let rx = start_http(&fake).await;
    let body = admin(&fake, &rx, ADMIN, "test MW1M01AJ0004", "admin/1").await;
    assert_eq!(body["response_type"], "ephemeral");
    let text = block_text(&body["blocks"]);
    assert!(
        text.contains("auto mode: would reply with jalpay-to-anapay-charge-20000"),
        "{text}"
    );
    assert!(
        text.contains("code MW1M01AJ0004"),
        "evidence missing: {text}"
    );
    assert!(text.contains("```"), "not a code block: {text}");

    let body = admin(&fake, &rx, "U0PERSON1", "test MW1M01AJ0004", "admin/2").await;
    assert_eq!(body["response_type"], "ephemeral");
    let text = block_text(&body["blocks"]);
    assert!(text.contains("slack.admin_users"), "{text}");
    assert!(
        !text.contains("auto mode"),
        "a non-admin got the answer: {text}"
    );

    // Echoed text is escaped, and stats answer too.
    let body = admin(&fake, &rx, ADMIN, "test <!channel> MW1M01AJ0004", "admin/3").await;
    let all = body.to_string();
    assert!(!all.contains("<!channel>"), "{all}");
    let body = admin(&fake, &rx, ADMIN, "stats", "admin/4").await;
    assert!(block_text(&body["blocks"]).contains("no database configured"));
    assert!(fake.calls("chat.postMessage").is_empty());
}

#[tokio::test]
async fn kotae_admin_reload_reports_a_broken_pack_and_the_old_one_keeps_answering() {
    let (dir, bot) = support::reloadable_bot();
    let fake = FakeSlack::start().await;
    let rx = start_http_with(&fake, bot.clone()).await;
    let ok = admin(&fake, &rx, ADMIN, "reload", "reload/1").await;
    assert!(
        block_text(&ok["blocks"]).contains("reloaded"),
        "{}",
        block_text(&ok["blocks"])
    );

    // A broken edit: a line that is not TOML at the end of a file.
    let file = dir.path().join("jalpay.toml");
    let mut text = std::fs::read_to_string(&file).unwrap();
    let broken_line = text.lines().count() + 2;
    text.push_str("\nthis is = = not toml\n");
    std::fs::write(&file, text).unwrap();
    let refused = admin(&fake, &rx, ADMIN, "reload", "reload/2").await;
    let shown = block_text(&refused["blocks"]);
    assert!(shown.contains("refused"), "{shown}");
    assert!(
        shown.contains(&format!("jalpay.toml:{broken_line}")),
        "no file:line in {shown}"
    );
    // The old pack keeps answering.
    rx.callback(
        "EvAfterReload",
        mention_event(OTHER, PASTE, "1700000099.000100"),
    )
    .await;
    let posts = fake.wait_for("chat.postMessage", 1, WAIT).await;
    assert_eq!(posts.len(), 1);
    check_against_openapi(&posts[0]);
    assert!(block_text(&posts[0].blocks()).contains(NOTICE_URL));
}

#[tokio::test]
async fn admin_notices_are_posted_to_the_admin_channel_escaped() {
    let fake = FakeSlack::start().await;
    let bot = bot();
    let rx = start_http_with(&fake, bot.clone()).await;
    // Any answered request means the receiver, and so the notice listener, is running.
    let v = json!({"token": "legacy", "challenge": "c", "type": "url_verification"});
    assert_eq!(rx.event(&v, &[]).await.status(), 200);
    bot.notify_admins(
        "knowledge reload refused; the previous knowledge keeps answering:\njalpay.toml:12: <!channel> bad regex",
    );
    let posts = fake.wait_for("chat.postMessage", 1, WAIT).await;
    assert_eq!(posts.len(), 1, "the notice was not posted");
    let post = &posts[0];
    check_against_openapi(post);
    assert_eq!(post.field("channel"), Some(ADMINS));
    assert_eq!(post.field("thread_ts"), None);
    let text = block_text(&post.blocks());
    assert!(
        text.contains("jalpay.toml:12: &lt;!channel&gt; bad regex"),
        "{text}"
    );
    assert!(!post.form.iter().any(|(_, v)| v.contains("<!channel>")));
}

// ---- the scenario table (tests/support/scenarios.rs) on Slack ----

/// A DM channel of the scenario table, and the one its sentinel questions go to.
const SCENARIO_DM: &str = "D0DIRECT01";
const SENTINEL_DM: &str = "D0SENTINL1";

/// The scenario table's harness: the Events API receiver with a database in a temporary
/// folder, against a fresh fake Slack; restarts keep the database and the fake.
struct SlackHarness {
    fake: FakeSlack,
    dir: tempfile::TempDir,
    cooldown: Duration,
    bot: Arc<Bot>,
    rx: Option<Receiver>,
    /// Each message sent, by its ts: the event id, the event, its channel.
    messages: std::collections::HashMap<String, (String, Value, String)>,
    /// `chat.postMessage` calls before the latest send, edit or re-delivery of each message.
    marks: std::collections::HashMap<String, usize>,
    n: u32,
}

impl SlackHarness {
    fn bot(dir: &std::path::Path, cooldown: Duration) -> Arc<Bot> {
        let store = kotae::store::SqliteStore::open(&dir.join("kotae.db")).unwrap();
        Arc::new(
            Bot::new(kotae::builtin_pack().unwrap(), cooldown, Lang::Ja)
                .with_store(Arc::new(store)),
        )
    }

    fn rx(&self) -> &Receiver {
        self.rx.as_ref().unwrap()
    }

    fn next(&mut self) -> (String, String) {
        self.n += 1;
        (
            format!("EvScenario{:04}", self.n),
            format!("1700001{:03}.000100", self.n),
        )
    }

    /// kotae's posts in `channel` (in the thread of `ts` outside DMs) since index `mark`.
    fn posts_about(&self, channel: &str, ts: &str, mark: usize) -> Vec<support::fake_slack::Call> {
        self.fake
            .calls("chat.postMessage")
            .into_iter()
            .skip(mark)
            .filter(|c| {
                c.field("channel") == Some(channel)
                    && (channel.starts_with('D') || c.field("thread_ts") == Some(ts))
            })
            .collect()
    }

    fn found(&self, ts: &str) -> Option<Seen> {
        let (_, _, channel) = &self.messages[ts];
        let post = self
            .posts_about(channel, ts, self.marks[ts])
            .into_iter()
            .next()?;
        let blocks = post.blocks();
        if blocks.to_string().contains("kotae_vote_up") {
            let entry = button(&blocks, "kotae_vote_up")["value"]
                .as_str()
                .unwrap()
                .to_string();
            return Some(Seen::Answer {
                entry,
                reply: ts.to_string(),
            });
        }
        let text = block_text(&blocks);
        assert!(
            text.contains("該当する案内が見つかりませんでした"),
            "{text}"
        );
        Some(Seen::NoMatch)
    }
}

impl Harness for SlackHarness {
    const NAME: &'static str = "slack";
    const SHOWS_REPEATS: bool = false;
    const SEES_EDITS: bool = false;

    async fn start(cooldown: Duration) -> Self {
        let fake = FakeSlack::start().await;
        let dir = tempfile::tempdir().unwrap();
        let bot = Self::bot(dir.path(), cooldown);
        let rx = start_http_with(&fake, bot.clone()).await;
        SlackHarness {
            fake,
            dir,
            cooldown,
            bot,
            rx: Some(rx),
            messages: Default::default(),
            marks: Default::default(),
            n: 0,
        }
    }

    async fn send(&mut self, place: Place, author: Author, mention: bool, text: &str) -> String {
        let (event_id, ts) = self.next();
        let channel = match place {
            Place::Support => SUPPORT,
            Place::Elsewhere => OTHER,
            Place::Dm => SCENARIO_DM,
        };
        let mut event = if mention {
            mention_event(channel, text, &ts)
        } else {
            message(channel, "U0PERSON1", text, &ts)
        };
        if place == Place::Dm {
            event["channel_type"] = json!("im");
        }
        match author {
            Author::Person => {}
            Author::AnotherPerson => event["user"] = json!("U0PERSON2"),
            Author::OtherBot => {
                event["user"] = json!("U0OTHERBOT");
                event["bot_id"] = json!("B0OTHERBOT");
            }
        }
        self.marks
            .insert(ts.clone(), self.fake.calls("chat.postMessage").len());
        let r = self.rx().callback(&event_id, event.clone()).await;
        assert_eq!(r.status(), 200);
        self.messages
            .insert(ts.clone(), (event_id, event, channel.to_string()));
        ts
    }

    async fn edit(&mut self, ts: &str, text: &str) {
        let (event_id, _) = self.next();
        let (_, original, channel) = self.messages[ts].clone();
        let mut edited = original.clone();
        edited["text"] = json!(text);
        edited["edited"] = json!({"user": "U0PERSON1", "ts": format!("{}.000200", now())});
        let event = json!({
            "type": "message", "subtype": "message_changed", "hidden": true,
            "channel": channel, "message": edited, "previous_message": original,
            "ts": format!("{}.000300", now()), "event_ts": format!("{}.000300", now()),
        });
        self.marks
            .insert(ts.to_string(), self.fake.calls("chat.postMessage").len());
        let r = self.rx().callback(&event_id, event).await;
        assert_eq!(r.status(), 200);
    }

    async fn redeliver(&mut self, ts: &str) {
        let (event_id, event, _) = self.messages[ts].clone();
        self.marks
            .insert(ts.to_string(), self.fake.calls("chat.postMessage").len());
        let retry = [
            ("x-slack-retry-num", "1"),
            ("x-slack-retry-reason", "http_timeout"),
        ];
        let r = self
            .rx()
            .event(&event_callback(&event_id, event), &retry)
            .await;
        assert_eq!(r.status(), 200);
    }

    async fn seen(&mut self, ts: &str) -> Seen {
        let deadline = Instant::now() + Duration::from_millis(200);
        while Instant::now() < deadline {
            if let Some(s) = self.found(ts) {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Nothing yet: once a later question is answered, this one was handled too.
        let (event_id, sentinel_ts) = self.next();
        let before = self.posts_about(SENTINEL_DM, "", 0).len();
        let mut event = message(SENTINEL_DM, "U0PERSON1", PASTE, &sentinel_ts);
        event["channel_type"] = json!("im");
        self.rx().callback(&event_id, event).await;
        let deadline = Instant::now() + WAIT;
        while self.posts_about(SENTINEL_DM, "", 0).len() == before {
            assert!(Instant::now() < deadline, "the sentinel was not answered");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.found(ts).unwrap_or(Seen::Nothing)
    }

    async fn restart(&mut self) {
        self.bot.store().unwrap().flush().unwrap();
        drop(self.rx.take());
        self.bot = Self::bot(self.dir.path(), self.cooldown);
        self.rx = Some(start_http_with(&self.fake, self.bot.clone()).await);
    }

    async fn posts(&mut self, place: Place) -> usize {
        let channel = match place {
            Place::Support => SUPPORT,
            Place::Elsewhere => OTHER,
            Place::Dm => SCENARIO_DM,
        };
        self.fake
            .calls("chat.postMessage")
            .iter()
            .filter(|c| c.field("channel") == Some(channel))
            .count()
    }

    async fn vote(&mut self, ts: &str, _reply: &str, voter: u8, helpful: bool) {
        let (_, _, channel) = self.messages[ts].clone();
        let answer = self
            .posts_about(&channel, ts, 0)
            .into_iter()
            .find(|c| c.blocks().to_string().contains("kotae_vote_up"))
            .expect("the answer");
        let id = if helpful {
            "kotae_vote_up"
        } else {
            "kotae_vote_down"
        };
        let b = button(&answer.blocks(), id);
        let r = self
            .rx()
            .action(&click(&format!("U0VOTER{voter:03}"), &b, &channel, ts))
            .await;
        assert_eq!(r.status(), 200);
    }

    async fn settled_votes(&mut self, want: (u64, u64)) -> (u64, u64) {
        settled_votes(&self.bot, scenarios::ENTRY, |v| v == want).await
    }

    async fn vote_replies(&mut self, ts: &str) -> Vec<String> {
        let (_, _, channel) = self.messages[ts].clone();
        self.posts_about(&channel, ts, 0)
            .into_iter()
            .filter(|c| !c.blocks().to_string().contains("kotae_vote"))
            .map(|c| block_text(&c.blocks()))
            .collect()
    }

    async fn admin(&mut self, is_admin: bool, command: &str) -> String {
        let user = if is_admin { ADMIN } else { "U0NOBODY01" };
        self.n += 1;
        let hook = format!("scenario/{}", self.n);
        let body = admin(&self.fake, self.rx(), user, command, &hook).await;
        block_text(&body["blocks"])
    }

    async fn finish(mut self) {
        drop(self.rx.take());
        self.fake
            .calls("chat.postMessage")
            .iter()
            .for_each(check_against_openapi);
    }
}

#[tokio::test]
async fn the_scenario_table_on_slack() {
    scenarios::run_all::<SlackHarness>().await;
}

/// A burst beyond max_events_in_flight (4 here, each held by a 6 s chat.postMessage) is
/// acked, shed and counted in /metrics, while /healthz keeps answering at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_beyond_the_bound_is_shed_and_counted_while_healthz_answers() {
    let fake = FakeSlack::start().await;
    fake.set_post_delay(Duration::from_secs(6));
    let bot = Arc::new(
        Bot::new(
            kotae::builtin_pack().unwrap(),
            Duration::from_secs(600),
            Lang::Ja,
        )
        .with_max_in_flight(4),
    );
    let ops = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ops_addr = ops.local_addr().unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(kotae::ops::serve(ops, bot.clone(), stop.clone()));
    let rx = start_http_with(&fake, bot.clone()).await;
    let started = Instant::now();
    // Mentions in 20 channels: each would be answered (no cooldown between channels).
    for i in 0..20 {
        let channel = format!("C0BURST{i:03}");
        let ts = format!("1700000600.{i:06}");
        let r = rx
            .callback(&format!("EvBurst{i}"), mention_event(&channel, PASTE, &ts))
            .await;
        assert_eq!(r.status(), 200, "every event is acked, shed or not");
    }
    let health = reqwest::Client::new()
        .get(format!("http://{ops_addr}/healthz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect("/healthz answers during the burst");
    assert_eq!(health.status(), 200);
    let metrics = reqwest::get(format!("http://{ops_addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "the burst took longer than one held event; the count below would not hold"
    );
    assert!(
        metrics.contains("kotae_events_shed_total{platform=\"slack\"} 16"),
        "{metrics}"
    );
    let posts = fake
        .wait_for("chat.postMessage", 4, Duration::from_secs(15))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.calls("chat.postMessage").len(), 4, "{posts:?}");
    stop.cancel();
}

/// Each `hello` starts the reconnection pause over: connections that worked and then
/// dropped are each followed by a quick reconnect, not by ever longer pauses (before, the
/// pause reset only on `disconnect`: 0.5, 1, 2, 4, 8 and 16 s, 31.5 s for 7 connections).
#[tokio::test]
async fn socket_mode_reconnects_quickly_after_each_connection_that_said_hello() {
    let fake = FakeSlack::start().await;
    let stop = CancellationToken::new();
    let (cfg, s, st) = (config(&fake, SlackMode::Socket), secrets(), stop.clone());
    let client = tokio::spawn(async move { slack::run_socket(bot(), &cfg, &s, st).await });
    let started = Instant::now();
    for i in 0..7 {
        let sock = fake
            .next_socket(Duration::from_secs(40))
            .await
            .unwrap_or_else(|| panic!("connection {i} never came"));
        sock.send(&json!({"type": "hello", "num_connections": 1}));
        // Dropped after the hello: the fake sends it, then closes the connection.
        drop(sock);
    }
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(15),
        "7 connections took {took:?}"
    );
    stop.cancel();
    let ended = tokio::time::timeout(WAIT, client).await.unwrap().unwrap();
    assert!(ended.is_ok(), "{ended:?}");
}

/// A Socket Mode URL whose host accepts and never answers the handshake is given up after
/// the connect timeout (10 s), and kotae asks for a new URL; before, it waited for ever.
#[tokio::test]
async fn a_socket_mode_url_that_never_answers_is_given_up_after_the_connect_timeout() {
    let fake = FakeSlack::start().await;
    fake.stall_next_sockets(1);
    let stop = CancellationToken::new();
    let (cfg, s, st) = (config(&fake, SlackMode::Socket), secrets(), stop.clone());
    let client = tokio::spawn(async move { slack::run_socket(bot(), &cfg, &s, st).await });
    let sock = fake
        .next_socket(Duration::from_secs(30))
        .await
        .expect("kotae gave up on the silent host and connected again");
    assert_eq!(fake.calls("apps.connections.open").len(), 2);
    stop.cancel();
    let ended = tokio::time::timeout(WAIT, client).await.unwrap().unwrap();
    assert!(ended.is_ok(), "{ended:?}");
    drop(sock);
}

/// Screenshots shared on Slack (`file_share`) through the fake, read by the real OCR worker
/// process (the images of tests/ocr/images). They need the runtime and models of
/// `.ci/ocr-setup.sh` (see `support::ocr_models`: a failure when missing, a loud skip with
/// `KOTAE_SKIP_OCR_TESTS=1` outside CI).
#[cfg(feature = "ocr")]
mod screenshots {
    use super::*;
    use kotae::ocr::{ModelPaths, OcrConfig};

    /// The note that opens an answer read off a screenshot (labels.rs).
    const NOTE: &str = "スクリーンショットの文字を読み取って答えています";
    /// The start of the refusal of an image kotae does not read (labels.rs).
    const REFUSED: &str = "この画像は読み取りませんでした";
    const DM: &str = "D0PERSON01";

    fn ocr_bot(paths: &ModelPaths, config: OcrConfig) -> Arc<Bot> {
        Arc::new(
            Bot::new(
                kotae::builtin_pack().unwrap(),
                Duration::from_secs(600),
                Lang::Ja,
            )
            .with_ocr(support::ocr_service(paths, config)),
        )
    }

    /// A `file_share` message event with `files`, as Slack sends a shared screenshot.
    fn file_share(channel: &str, text: &str, ts: &str, files: Vec<Value>) -> Value {
        let channel_type = if channel.starts_with('D') {
            "im"
        } else {
            "channel"
        };
        json!({
            "type": "message", "subtype": "file_share", "channel": channel,
            "user": "U0PERSON1", "text": text, "ts": ts, "event_ts": ts,
            "channel_type": channel_type, "upload": true, "display_as_bot": false,
            "files": files,
        })
    }

    /// What kotae logs at info and above from now on, for the rest of this test binary (the
    /// first caller installs the subscriber; no other Slack test installs one).
    fn captured_logs() -> Arc<std::sync::Mutex<Vec<u8>>> {
        static LOGS: std::sync::OnceLock<Arc<std::sync::Mutex<Vec<u8>>>> =
            std::sync::OnceLock::new();
        LOGS.get_or_init(|| {
            let buf = Arc::new(std::sync::Mutex::new(Vec::new()));
            let sink = buf.clone();
            tracing_subscriber::fmt()
                .with_writer(move || Capture(sink.clone()))
                .with_env_filter("kotae=info")
                .with_ansi(false)
                .try_init()
                .expect("no other subscriber in tests/slack.rs");
            buf
        })
        .clone()
    }

    struct Capture(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Capture {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn png(fake: &FakeSlack, name: &str) -> Value {
        fake.add_file(name, "image/png", support::screenshot(name), None)
    }

    /// Waits until `n` images have reached the OCR service (read, refused or failed) and no
    /// event is in flight any more: the event's task holds its slot from before the image is
    /// counted until its reply is posted.
    async fn images_done(bot: &Bot, n: u64) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            let s = bot.ocr().unwrap().stats();
            if s.ok + s.refused + s.failed + s.shed >= n && bot.events_in_flight() == 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{n} images not done: {s:?}, {} events in flight",
                bot.events_in_flight()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// A screenshot shared in a support channel: acked before it is read, downloaded once
    /// with the bot token (the fake refuses it without), answered once in the message's
    /// thread with the note first; Slack's retry of the event downloads and posts nothing.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_screenshot_shared_in_a_support_channel_is_answered_once_in_its_thread() {
        let Some(paths) = support::ocr_models() else {
            return;
        };
        let fake = FakeSlack::start().await;
        let bot = ocr_bot(&paths, OcrConfig::default());
        let rx = start_http_with(&fake, bot.clone()).await;
        let file = png(&fake, "mw1m01aj0004_dark.png");
        let url = file["url_private_download"].as_str().unwrap().to_string();
        let ts = "1700000500.000100";
        let event = file_share(SUPPORT, "", ts, vec![file]);
        let resp = rx.callback("EvShot1", event.clone()).await;
        assert_eq!(resp.status(), 200);
        // Acked while the worker is still starting and loading its models (seconds).
        assert!(fake.calls("chat.postMessage").is_empty(), "ack first");

        let posts = fake
            .wait_for("chat.postMessage", 1, Duration::from_secs(60))
            .await;
        assert_eq!(posts.len(), 1, "{posts:?}");
        let post = &posts[0];
        assert_eq!(post.field("channel"), Some(SUPPORT));
        assert_eq!(post.field("thread_ts"), Some(ts));
        let blocks = post.blocks();
        assert_eq!(blocks[0]["type"], "context", "{blocks}");
        assert!(
            block_text(&blocks).starts_with("（スクリーンショット"),
            "{blocks}"
        );
        assert!(block_text(&blocks).contains(NOTE));
        assert!(
            block_text(&blocks).contains("`jalpay-to-anapay-charge-20000`"),
            "{blocks}"
        );
        assert!(post.field("text").unwrap().contains(NOTE));
        check_against_openapi(post);

        let downloads = fake.calls("files.download");
        assert_eq!(downloads.len(), 1);
        assert_eq!(downloads[0].status, 200);
        assert_eq!(
            downloads[0].authorization.as_deref(),
            Some(format!("Bearer {BOT_TOKEN}").as_str())
        );
        // The fake's file URL is a private one: no token, no file.
        let anonymous = reqwest::get(&url).await.unwrap();
        assert_eq!(anonymous.status(), 401);

        // Slack retries the event (no ack seen in time, say): nothing more.
        let retry = rx
            .event(
                &event_callback("EvShot1", event),
                &[("x-slack-retry-num", "1")],
            )
            .await;
        assert_eq!(retry.status(), 200);
        rx.callback(
            "EvShotSentinel",
            message(DM, "U0PERSON1", PASTE, "1700000501.000100"),
        )
        .await;
        fake.wait_for("chat.postMessage", 2, WAIT).await;
        images_done(&bot, 1).await;
        assert_eq!(fake.calls("chat.postMessage").len(), 2);
        let served: Vec<Call> = fake
            .calls("files.download")
            .into_iter()
            .filter(|c| c.status == 200)
            .collect();
        assert_eq!(served.len(), 1, "the retry downloaded nothing: {served:?}");
    }

    /// `kill -9` on the worker while it reads a shared screenshot: the failure is logged
    /// and counted, nothing is posted for it (the support channel gets no wrong answer),
    /// and the next screenshot is read by a new worker and answered.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_worker_killed_mid_image_answers_nothing_and_the_next_screenshot_is_answered() {
        let Some(paths) = support::ocr_models() else {
            return;
        };
        let logs = captured_logs();
        let fake = FakeSlack::start().await;
        let bot = ocr_bot(&paths, OcrConfig::default());
        let rx = start_http_with(&fake, bot.clone()).await;
        let ocr = bot.ocr().unwrap().clone();
        let first = file_share(
            SUPPORT,
            "",
            "1700000600.000100",
            vec![png(&fake, "session_timeout_light.png")],
        );
        assert_eq!(rx.callback("EvKill1", first).await.status(), 200);
        // The worker starts with the image and loads its models first (seconds): its pid
        // shows up long before it could answer.
        let pid = loop {
            if let Some(&pid) = ocr.worker_pids().first() {
                break pid;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        };
        let killed = std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .status()
            .unwrap();
        assert!(killed.success());
        images_done(&bot, 1).await;
        let s = ocr.stats();
        assert_eq!((s.ok, s.failed, s.worker_deaths), (0, 1, 1), "{s:?}");
        assert!(fake.calls("chat.postMessage").is_empty(), "nothing said");
        let logged = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
        assert!(
            logged.contains("OCR worker stopped while reading an image")
                && logged.contains("a screenshot could not be read"),
            "the death is logged:\n{logged}"
        );

        let next = file_share(
            SUPPORT,
            "",
            "1700000601.000100",
            vec![png(&fake, "session_timeout_light.png")],
        );
        assert_eq!(rx.callback("EvKill2", next).await.status(), 200);
        let posts = fake
            .wait_for("chat.postMessage", 1, Duration::from_secs(60))
            .await;
        assert_eq!(posts.len(), 1);
        assert_eq!(posts[0].field("thread_ts"), Some("1700000601.000100"));
        assert!(block_text(&posts[0].blocks()).contains("`jalpay-card-register-session-timeout`"));
        // The operations endpoint serves them, in Prometheus text an independent parser reads.
        let ops = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ops_addr = ops.local_addr().unwrap();
        let router = kotae::ops::router(bot.clone());
        tokio::spawn(async move { axum::serve(ops, router).await });
        let metrics = reqwest::get(format!("http://{ops_addr}/metrics"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let scrape = prometheus_parse::Scrape::parse(metrics.lines().map(|l| Ok(l.to_string())))
            .expect("parses");
        let value = |name: &str, result: Option<&str>| {
            scrape
                .samples
                .iter()
                .find(|s| {
                    s.metric == name && result.is_none_or(|r| s.labels.get("result") == Some(r))
                })
                .map(|s| match s.value {
                    prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
                    _ => f64::NAN,
                })
                .unwrap_or_else(|| panic!("{name} {result:?} missing:\n{metrics}"))
        };
        assert_eq!(value("kotae_ocr_images_total", Some("ok")), 1.0);
        assert_eq!(value("kotae_ocr_images_total", Some("failed")), 1.0);
        assert_eq!(value("kotae_ocr_worker_deaths_total", None), 1.0);
        assert_eq!(value("kotae_ocr_worker_starts_total", None), 2.0);
        assert!(
            metrics.contains("kotae_answers_total"),
            "the bot's own counters too"
        );
        // What was read is never logged: neither the dialog's words nor the balance behind it.
        let logged = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
        assert!(
            !logged.contains("12,345") && !logged.contains("セッションタイムアウト"),
            "{logged}"
        );
    }

    /// A file Slack says is 50 MB is refused without a download, a decompression bomb
    /// after a download of its few bytes; a DM says why for each; a PDF is not an image
    /// and is not downloaded; `/metrics` counts the refusals.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn oversize_files_and_a_bomb_are_refused_in_a_dm_without_a_crash() {
        let Some(paths) = support::ocr_models() else {
            return;
        };
        let fake = FakeSlack::start().await;
        let bot = ocr_bot(&paths, OcrConfig::default());
        let rx = start_http_with(&fake, bot.clone()).await;
        let huge = fake.add_file("huge.png", "image/png", vec![0; 16], Some(50_000_000));
        let bomb = png(&fake, "bomb.png");
        for (n, (file, ts)) in [(huge, "1700000700.000100"), (bomb, "1700000701.000100")]
            .into_iter()
            .enumerate()
        {
            let id = format!("EvBig{n}");
            assert_eq!(
                rx.callback(&id, file_share(DM, "", ts, vec![file]))
                    .await
                    .status(),
                200
            );
            let posts = fake.wait_for("chat.postMessage", n + 1, WAIT).await;
            let text = block_text(&posts[n].blocks());
            assert!(text.starts_with(REFUSED), "{n}: {text}");
            assert_eq!(posts[n].field("channel"), Some(DM));
        }
        images_done(&bot, 2).await;
        assert_eq!(
            fake.calls("files.download").len(),
            1,
            "only the bomb's few bytes were downloaded"
        );
        let pdf = fake.add_file("doc.pdf", "application/pdf", b"%PDF-1.7".to_vec(), None);
        rx.callback(
            "EvPdf",
            file_share(SUPPORT, "", "1700000702.000100", vec![pdf]),
        )
        .await;
        rx.callback(
            "EvPdfSentinel",
            message(DM, "U0PERSON1", PASTE, "1700000703.000100"),
        )
        .await;
        fake.wait_for("chat.postMessage", 3, WAIT).await;
        assert_eq!(
            fake.calls("files.download").len(),
            1,
            "a PDF is not fetched"
        );
        let s = bot.ocr().unwrap().stats();
        assert_eq!((s.refused, s.worker_starts), (2, 0), "{s:?}");
        assert!(
            kotae::ops::metrics_text(&bot).contains("kotae_ocr_images_total{result=\"refused\"} 2")
        );
    }
}
