//! A fake Discord on 127.0.0.1 for tests: the REST API (axum) and the gateway (a WebSocket)
//! that the real serenity client talks to through `rest_proxy`.
//!
//! Every REST request is recorded and its body validated against Discord's published OpenAPI
//! spec; tests wait for the requests they expect and assert on their bodies. The gateway
//! speaks enough of the protocol for serenity: HELLO, IDENTIFY -> READY, heartbeats, RESUME
//! -> RESUMED, RECONNECT (op 7), dispatches chosen by the test, and close codes.
//!
//! Several processes may connect, each with its own shards (`shard_range`): the fake keeps
//! every open connection under the shard it identified as, and
//! [`FakeDiscord::dispatch_to_shard`] sends an event to each connection of that shard, so a
//! test sees which process got it, and two processes on one shard (a rolling deploy) both
//! get it, as Discord does.
//!
//! For load runs (`examples/discord_load.rs`), [`FakeDiscord::tap`] replaces the recording
//! and validation of each REST request with a callback, which costs far less per request.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::openapi::OpenApi;

pub const BOT_ID: u64 = 900_000_000_000_000_001;
pub const APP_ID: u64 = 900_000_000_000_000_002;
pub const GUILD_ID: u64 = 900_000_000_000_000_003;
pub const SESSION_ID: &str = "fake-session-1";

/// How long a test waits for a request it expects before failing.
pub const WAIT: Duration = Duration::from_secs(20);

/// One REST request the bot made.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub body: Option<Value>,
}

/// How the fake misbehaves, for the error tests.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// `GET /users/@me` answers 401.
    pub reject_token: bool,
    /// The gateway closes with this code after IDENTIFY.
    pub close_on_identify: Option<u16>,
}

struct Inner {
    ws_url: String,
    faults: Faults,
    spec: OpenApi,
    requests: Mutex<Vec<Recorded>>,
    violations: Mutex<Vec<String>>,
    /// Bumped on every REST request or gateway frame, so waiters wake up.
    changed: watch::Sender<u64>,
    /// Frames the client sent on the gateway, in order.
    frames: Mutex<Vec<Value>>,
    /// The open gateway connection, to push frames to.
    conn: Mutex<Option<mpsc::UnboundedSender<WsMessage>>>,
    /// Open connections that identified, by shard id: (connection number, its sender).
    shards: Mutex<std::collections::HashMap<u64, Vec<ShardConn>>>,
    seq: Mutex<u64>,
    connections: Mutex<u32>,
    next_id: Mutex<u64>,
    /// Channels `GET /channels/{id}` knows, by id.
    channels: Mutex<std::collections::HashMap<String, Value>>,
    /// Set by [`FakeDiscord::tap`]: called for every REST request instead of recording it.
    tap: std::sync::OnceLock<Tap>,
    /// REST requests answered so far; the ids of the messages the fake says it posted are
    /// made from it (as many as `requests` holds, when not tapped).
    posted_ids: std::sync::atomic::AtomicU64,
    /// Files served at `/attachments/…` (Discord's CDN, not the REST API: neither recorded
    /// as requests nor checked against the spec), by path.
    attachments: Mutex<std::collections::HashMap<String, (String, Vec<u8>)>>,
    /// Attachment downloads served, by path.
    downloads: Mutex<Vec<String>>,
}

/// An open gateway connection that identified as a shard: its number, and its sender.
type ShardConn = (u32, mpsc::UnboundedSender<WsMessage>);

/// A callback on each REST request: method, path and body (parsed JSON, if any).
pub type Tap = Box<dyn Fn(&Method, &str, Option<&Value>) + Send + Sync>;

#[derive(Clone)]
pub struct FakeDiscord {
    inner: Arc<Inner>,
    /// The REST base URL to give kotae as `rest_proxy`.
    pub rest_url: String,
}

fn spec_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/specs/discord/openapi.json")
}

impl FakeDiscord {
    pub async fn start(faults: Faults) -> FakeDiscord {
        let rest = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let gateway = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let rest_url = format!("http://{}", rest.local_addr().unwrap());
        let ws_url = format!("ws://{}", gateway.local_addr().unwrap());
        let inner = Arc::new(Inner {
            ws_url,
            faults,
            spec: OpenApi::load(&spec_path()),
            requests: Mutex::new(Vec::new()),
            violations: Mutex::new(Vec::new()),
            changed: watch::channel(0).0,
            frames: Mutex::new(Vec::new()),
            conn: Mutex::new(None),
            shards: Mutex::new(std::collections::HashMap::new()),
            seq: Mutex::new(0),
            connections: Mutex::new(0),
            next_id: Mutex::new(800_000_000_000_000_000),
            channels: Mutex::new(std::collections::HashMap::new()),
            tap: std::sync::OnceLock::new(),
            posted_ids: std::sync::atomic::AtomicU64::new(0),
            attachments: Mutex::new(std::collections::HashMap::new()),
            downloads: Mutex::new(Vec::new()),
        });
        let app = Router::new()
            .fallback(rest_handler)
            .with_state(inner.clone());
        tokio::spawn(async move {
            let _ = axum::serve(rest, app).await;
        });
        let gw = inner.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = gateway.accept().await {
                let gw = gw.clone();
                tokio::spawn(async move {
                    if let Ok(ws) = tokio_tungstenite::accept_async(stream).await {
                        gateway_connection(gw, ws).await;
                    }
                });
            }
        });
        FakeDiscord { inner, rest_url }
    }

    fn bump(&self) {
        self.inner.changed.send_modify(|n| *n += 1);
    }

    pub fn next_id(&self) -> u64 {
        let mut id = self.inner.next_id.lock().unwrap();
        *id += 1;
        *id
    }

    /// From now on, REST requests are neither recorded nor validated (so [`Self::requests`],
    /// [`Self::violations`] and the waits on them no longer see them): each is passed to `f`,
    /// for load runs where recording everything would cost more than the bot under test.
    pub fn tap(&self, f: Tap) {
        assert!(self.inner.tap.set(f).is_ok(), "tap set twice");
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.requests.lock().unwrap().clone()
    }

    pub fn frames(&self) -> Vec<Value> {
        self.inner.frames.lock().unwrap().clone()
    }

    pub fn connections(&self) -> u32 {
        *self.inner.connections.lock().unwrap()
    }

    /// Body violations of Discord's spec seen so far.
    pub fn violations(&self) -> Vec<String> {
        self.inner.violations.lock().unwrap().clone()
    }

    pub fn assert_no_violations(&self) {
        let v = self.violations();
        assert!(
            v.is_empty(),
            "requests that Discord would reject:\n{}",
            v.join("\n")
        );
    }

    /// Waits until `pick` finds something in the recorded state, at most [`WAIT`].
    pub async fn wait_for<T>(
        &self,
        what: &str,
        mut pick: impl FnMut(&FakeDiscord) -> Option<T>,
    ) -> T {
        let mut rx = self.inner.changed.subscribe();
        let found = tokio::time::timeout(WAIT, async {
            loop {
                rx.borrow_and_update();
                if let Some(t) = pick(self) {
                    return t;
                }
                if rx.changed().await.is_err() {
                    panic!("the fake stopped");
                }
            }
        })
        .await;
        found.unwrap_or_else(|_| {
            panic!(
                "timed out waiting for {what}; requests: {:#?}",
                self.requests()
            )
        })
    }

    /// The first request after index `from` for which `pick` is true.
    pub async fn wait_request(
        &self,
        from: usize,
        what: &str,
        pick: impl Fn(&Recorded) -> bool,
    ) -> Recorded {
        self.wait_for(what, |f| {
            f.requests().into_iter().skip(from).find(|r| pick(r))
        })
        .await
    }

    /// Waits for the `n`-th (1-based) gateway frame with this op code from the client.
    pub async fn wait_frame(&self, op: u64, n: usize) -> Value {
        self.wait_for(&format!("gateway op {op} #{n}"), |f| {
            f.frames()
                .into_iter()
                .filter(|v| v["op"] == json!(op))
                .nth(n - 1)
        })
        .await
    }

    fn send_frame(&self, frame: Value) {
        let conn = self.inner.conn.lock().unwrap();
        let conn = conn.as_ref().expect("no gateway connection");
        conn.send(WsMessage::Text(frame.to_string()))
            .expect("gateway connection closed");
    }

    /// Sends a dispatch (op 0) with the next sequence number.
    pub fn dispatch(&self, t: &str, d: Value) {
        let s = {
            let mut seq = self.inner.seq.lock().unwrap();
            *seq += 1;
            *seq
        };
        self.send_frame(json!({"op": 0, "t": t, "s": s, "d": d}));
    }

    /// Sends a dispatch to every open connection that identified as `shard` (the next
    /// sequence number each); returns to how many. Panics when none has.
    pub fn dispatch_to_shard(&self, shard: u64, t: &str, d: Value) -> usize {
        let conns = self
            .inner
            .shards
            .lock()
            .unwrap()
            .get(&shard)
            .cloned()
            .unwrap_or_default();
        assert!(!conns.is_empty(), "no gateway connection on shard {shard}");
        for (_, tx) in &conns {
            let s = {
                let mut seq = self.inner.seq.lock().unwrap();
                *seq += 1;
                *seq
            };
            tx.send(WsMessage::Text(
                json!({"op": 0, "t": t, "s": s, "d": d}).to_string(),
            ))
            .expect("gateway connection closed");
        }
        conns.len()
    }

    /// The `shard` ([id, total]) of every IDENTIFY so far, in order.
    pub fn identified_shards(&self) -> Vec<Value> {
        self.frames()
            .into_iter()
            .filter(|f| f["op"] == json!(2))
            .map(|f| f["d"]["shard"].clone())
            .collect()
    }

    /// How many open connections identified as `shard`.
    pub fn connections_on_shard(&self, shard: u64) -> usize {
        self.inner
            .shards
            .lock()
            .unwrap()
            .get(&shard)
            .map_or(0, Vec::len)
    }

    /// Makes `GET /channels/{id}` answer a thread of `parent`.
    pub fn add_thread(&self, id: u64, parent: u64) {
        let thread = json!({
            "id": id.to_string(),
            "type": 11,
            "guild_id": GUILD_ID.to_string(),
            "name": "help",
            "parent_id": parent.to_string(),
            "owner_id": "200",
            "thread_metadata": {"archived": false, "auto_archive_duration": 1440,
                "archive_timestamp": "2026-11-23T10:00:00.000000+00:00", "locked": false},
        });
        self.inner
            .channels
            .lock()
            .unwrap()
            .insert(id.to_string(), thread);
    }

    /// Dispatches MESSAGE_REACTION_ADD: `user` reacted with `emoji` on `message` (written by
    /// `author`) in a guild channel, with the reacting member as Discord sends it.
    pub fn react(&self, channel: u64, message: &str, author: u64, user: Value, emoji: &str) {
        self.react_in(channel, Some(GUILD_ID), message, author, user, emoji);
    }

    /// [`FakeDiscord::react`] in a guild or, with `guild` None, in a DM (no member then).
    pub fn react_in(
        &self,
        channel: u64,
        guild: Option<u64>,
        message: &str,
        author: u64,
        user: Value,
        emoji: &str,
    ) {
        let d = reaction(channel, guild, message, author, user, emoji);
        self.dispatch("MESSAGE_REACTION_ADD", d);
    }

    /// Serves `bytes` as an attachment of `channel` and returns the attachment object a
    /// message carries (its `size` is `stated_size`, or the real one), URL on this fake.
    pub fn attachment(
        &self,
        channel: u64,
        filename: &str,
        content_type: &str,
        bytes: Vec<u8>,
        stated_size: Option<u64>,
    ) -> Value {
        let id = self.next_id();
        let path = format!("/attachments/{channel}/{id}/{filename}");
        let size = stated_size.unwrap_or(bytes.len() as u64);
        self.inner
            .attachments
            .lock()
            .unwrap()
            .insert(path.clone(), (content_type.to_string(), bytes));
        let url = format!("{}{path}", self.rest_url);
        json!({
            "id": id.to_string(),
            "filename": filename,
            "size": size,
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
            "width": 1080,
            "height": 2340,
        })
    }

    /// The attachment paths downloaded so far.
    pub fn downloads(&self) -> Vec<String> {
        self.inner.downloads.lock().unwrap().clone()
    }

    /// [`FakeDiscord::react`] in `guild`, sent to every connection of `shard`.
    #[allow(clippy::too_many_arguments)]
    pub fn react_on_shard(
        &self,
        shard: u64,
        channel: u64,
        guild: u64,
        message: &str,
        author: u64,
        user: Value,
        emoji: &str,
    ) {
        let d = reaction(channel, Some(guild), message, author, user, emoji);
        self.dispatch_to_shard(shard, "MESSAGE_REACTION_ADD", d);
    }

    /// Asks the client to reconnect (op 7).
    pub fn reconnect(&self) {
        self.send_frame(json!({"op": 7, "d": null}));
    }

    /// A user message as Discord dispatches it.
    pub fn message(&self, channel: u64, guild: Option<u64>, author: Value, content: &str) -> Value {
        let mut m = message_object(
            &self.next_id().to_string(),
            &channel.to_string(),
            author,
            json!(content),
            0,
        );
        if let Some(g) = guild {
            m["guild_id"] = json!(g.to_string());
        }
        m
    }
}

/// A MESSAGE_REACTION_ADD payload: `user` reacted with `emoji` on `message` (written by
/// `author`), with the reacting member in a guild, as Discord sends it.
fn reaction(
    channel: u64,
    guild: Option<u64>,
    message: &str,
    author: u64,
    user: Value,
    emoji: &str,
) -> Value {
    let member = json!({
        "user": user,
        "roles": [],
        "joined_at": "2026-01-01T00:00:00.000000+00:00",
        "deaf": false,
        "mute": false,
        "flags": 0,
    });
    let mut d = json!({
        "user_id": user["id"],
        "channel_id": channel.to_string(),
        "message_id": message,
        "emoji": {"id": null, "name": emoji},
        "message_author_id": author.to_string(),
        "burst": false,
        "burst_colors": [],
        "type": 0,
    });
    if let Some(g) = guild {
        d["guild_id"] = json!(g.to_string());
        d["member"] = member;
    }
    d
}

pub fn user(id: u64, name: &str, bot: bool) -> Value {
    json!({"id": id.to_string(), "username": name, "discriminator": "0", "global_name": name, "avatar": null, "bot": bot})
}

fn bot_user() -> Value {
    user(BOT_ID, "kotae", true)
}

async fn rest_handler(
    State(inner): State<Arc<Inner>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    if path.starts_with("/attachments/") {
        let file = inner.attachments.lock().unwrap().get(&path).cloned();
        inner.downloads.lock().unwrap().push(path);
        inner.changed.send_modify(|n| *n += 1);
        return match file {
            Some((content_type, bytes)) => {
                ([(axum::http::header::CONTENT_TYPE, content_type)], bytes).into_response()
            }
            None => StatusCode::NOT_FOUND.into_response(),
        };
    }
    let body: Option<Value> = if body.is_empty() {
        None
    } else {
        Some(
            serde_json::from_slice(&body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into())),
        )
    };
    if let Some(tap) = inner.tap.get() {
        tap(&method, &path, body.as_ref());
    } else {
        let problems = inner.spec.check(method.as_str(), &path, body.as_ref());
        inner.violations.lock().unwrap().extend(problems);
        inner.requests.lock().unwrap().push(Recorded {
            method: method.to_string(),
            path: path.clone(),
            body: body.clone(),
        });
        inner.changed.send_modify(|n| *n += 1);
    }
    let n = inner
        .posted_ids
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        + 1;

    let rest = path.strip_prefix("/api/v10").unwrap_or(&path);
    let parts: Vec<&str> = rest.trim_start_matches('/').split('/').collect();
    match (method.as_str(), parts.as_slice()) {
        ("GET", ["gateway"]) => Json(json!({"url": inner.ws_url})).into_response(),
        ("GET", ["gateway", "bot"]) => Json(json!({
            "url": inner.ws_url,
            "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1},
        }))
        .into_response(),
        ("GET", ["users", "@me"]) if inner.faults.reject_token => (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "401: Unauthorized", "code": 0})),
        )
            .into_response(),
        ("GET", ["users", "@me"]) => Json(bot_user()).into_response(),
        ("GET", ["oauth2", "applications", "@me"]) => Json(json!({
            "id": APP_ID.to_string(),
            "name": "kotae",
            "icon": null,
            "description": "",
            "bot_public": true,
            "bot_require_code_grant": false,
            "verify_key": "0",
            "flags": 0,
            "owner": user(1, "owner", false),
        }))
        .into_response(),
        ("GET", ["channels", id]) => match inner.channels.lock().unwrap().get(*id) {
            Some(c) => Json(c.clone()).into_response(),
            None => (
                StatusCode::NOT_FOUND,
                Json(json!({"message": "Unknown Channel", "code": 10003})),
            )
                .into_response(),
        },
        ("PUT", ["applications", _, "commands"]) => Json(json!([])).into_response(),
        ("POST", ["channels", channel, "messages"]) => {
            let mut m = posted_message(channel, 19, body.as_ref());
            m["id"] = json!(format!("7000000000000{n:05}"));
            Json(m).into_response()
        }
        ("PUT", ["channels", _, "messages", _, "reactions", _, "@me"]) => StatusCode::NO_CONTENT.into_response(),
        ("POST", ["interactions", _, _, "callback"]) => StatusCode::NO_CONTENT.into_response(),
        // A follow-up message to an interaction (after a deferred or first response).
        ("POST", ["webhooks", app, _token]) => {
            let id = format!("7100000000000{n:05}");
            let mut m = posted_message("0", 0, body.as_ref());
            m["id"] = json!(id);
            m["webhook_id"] = json!(app);
            m["application_id"] = json!(app);
            Json(m)
            .into_response()
        }
        _ => (
            StatusCode::NOT_FOUND,
            Json(json!({"message": "Unknown route in the fake", "code": 0})),
        )
            .into_response(),
    }
}

/// A message object as Discord returns it for one kotae posted (`type` 19 = reply, 0 =
/// default).
fn posted_message(channel: &str, kind: u8, body: Option<&Value>) -> Value {
    let content = body
        .and_then(|b| b.get("content").cloned())
        .unwrap_or(json!(""));
    message_object("700000000000000001", channel, bot_user(), content, kind)
}

/// A Discord message object with the fields serenity requires.
fn message_object(id: &str, channel: &str, author: Value, content: Value, kind: u8) -> Value {
    json!({
        "id": id,
        "channel_id": channel,
        "author": author,
        "content": content,
        "timestamp": "2026-11-23T10:00:00.000000+00:00",
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": false,
        "type": kind,
    })
}

async fn gateway_connection(
    inner: Arc<Inner>,
    ws: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
) {
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<WsMessage>();
    *inner.conn.lock().unwrap() = Some(tx.clone());
    let conn_no = {
        let mut n = inner.connections.lock().unwrap();
        *n += 1;
        *n
    };
    inner.changed.send_modify(|n| *n += 1);
    let writer = tokio::spawn(async move {
        while let Some(m) = rx.recv().await {
            let close = matches!(m, WsMessage::Close(_));
            if sink.send(m).await.is_err() || close {
                break;
            }
        }
    });
    let _ = tx.send(WsMessage::Text(
        json!({"op": 10, "d": {"heartbeat_interval": 41250}}).to_string(),
    ));
    while let Some(Ok(msg)) = stream.next().await {
        let text = match msg {
            WsMessage::Text(t) => t,
            WsMessage::Close(frame) => {
                forget_connection(&inner, conn_no);
                // Answer the close handshake, as Discord does.
                let _ = tx.send(WsMessage::Close(frame));
                let _ = tokio::time::timeout(Duration::from_secs(2), writer).await;
                return;
            }
            _ => continue,
        };
        let Ok(frame) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        if frame["op"] == json!(2) && inner.faults.close_on_identify.is_none() {
            // Before the frame is seen: a test that waited for this IDENTIFY may dispatch
            // to the shard at once.
            inner
                .shards
                .lock()
                .unwrap()
                .entry(shard_of(&frame).0)
                .or_default()
                .push((conn_no, tx.clone()));
        }
        inner.frames.lock().unwrap().push(frame.clone());
        inner.changed.send_modify(|n| *n += 1);
        match frame["op"].as_u64() {
            Some(1) => {
                let _ = tx.send(WsMessage::Text(json!({"op": 11}).to_string()));
            }
            Some(2) => {
                if let Some(code) = inner.faults.close_on_identify {
                    let _ = tx.send(WsMessage::Close(Some(CloseFrame {
                        code: CloseCode::from(code),
                        reason: "closed by the fake".into(),
                    })));
                    continue;
                }
                let shard = shard_of(&frame);
                let s = {
                    let mut seq = inner.seq.lock().unwrap();
                    *seq += 1;
                    *seq
                };
                let ready = json!({
                    "op": 0, "t": "READY", "s": s,
                    "d": {
                        "v": 10,
                        "user": bot_user(),
                        "guilds": [{"id": GUILD_ID.to_string(), "unavailable": true}],
                        "session_id": SESSION_ID,
                        "resume_gateway_url": inner.ws_url,
                        "shard": [shard.0, shard.1],
                        "application": {"id": APP_ID.to_string(), "flags": 0},
                    }
                });
                let _ = tx.send(WsMessage::Text(ready.to_string()));
            }
            Some(6) => {
                let s = {
                    let mut seq = inner.seq.lock().unwrap();
                    *seq += 1;
                    *seq
                };
                let _ = tx.send(WsMessage::Text(
                    json!({"op": 0, "t": "RESUMED", "s": s, "d": {}}).to_string(),
                ));
            }
            _ => {}
        }
    }
    forget_connection(&inner, conn_no);
    writer.abort();
}

/// The shard an IDENTIFY asks for: (id, total), (0, 1) when unsharded.
fn shard_of(identify: &Value) -> (u64, u64) {
    match identify["d"]["shard"].as_array().map(|a| a.as_slice()) {
        Some([id, total]) => (id.as_u64().unwrap_or(0), total.as_u64().unwrap_or(1)),
        _ => (0, 1),
    }
}

/// A closed connection gets no more shard dispatches.
fn forget_connection(inner: &Inner, conn_no: u32) {
    for conns in inner.shards.lock().unwrap().values_mut() {
        conns.retain(|(n, _)| *n != conn_no);
    }
}
