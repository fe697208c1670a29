//! A fake Slack for the integration tests: the Web API methods kotae calls (`auth.test`,
//! `chat.postMessage`, `apps.connections.open`), a `response_url` endpoint, and a Socket Mode
//! WebSocket server. It records every call, can be slow or rate limit on request, and hands
//! each WebSocket connection to the test to drive.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

pub const BOT_TOKEN: &str = "xoxb-fake-bot-token";
pub const APP_TOKEN: &str = "xapp-fake-app-token";
pub const KOTAE_USER: &str = "UKOTAE0001";
pub const KOTAE_BOT: &str = "BKOTAE0001";

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct Call {
    /// `chat.postMessage`, `auth.test`, `apps.connections.open`, or `response_url`.
    pub method: String,
    pub at: Instant,
    pub authorization: Option<String>,
    pub content_type: Option<String>,
    /// The arguments of a Web API call (from a form, or from a JSON body: see `arguments`).
    pub form: Vec<(String, String)>,
    /// The JSON body of a `response_url` post or of a Web API call sent as JSON.
    pub json: Option<Value>,
    /// What the fake answered.
    pub status: u16,
}

impl Call {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `blocks` argument, parsed.
    pub fn blocks(&self) -> Value {
        serde_json::from_str(self.field("blocks").unwrap_or("null")).unwrap()
    }
}

#[derive(Default)]
struct Shared {
    calls: Mutex<Vec<Call>>,
    post_delay_ms: AtomicU64,
    rate_limit_next: AtomicU32,
    tickets: AtomicU32,
    ws_addr: Mutex<Option<SocketAddr>>,
    /// A listener that accepts and never answers; see [`FakeSlack::stall_next_sockets`].
    silent_addr: Mutex<Option<SocketAddr>>,
    stall_next: AtomicU32,
    sockets: Mutex<Option<mpsc::UnboundedSender<Socket>>>,
    /// Files served at `/files/{id}` to the bot token only, with their MIME type.
    files: Mutex<std::collections::HashMap<String, (String, Vec<u8>)>>,
    next_file: AtomicU32,
}

/// The test's end of one Socket Mode connection.
pub struct Socket {
    to_client: mpsc::UnboundedSender<Message>,
    from_client: mpsc::UnboundedReceiver<String>,
}

impl Socket {
    pub fn send(&self, v: &Value) {
        self.to_client
            .send(Message::Text(v.to_string()))
            .expect("socket pump gone");
    }

    /// The next text frame kotae sent, parsed, within `timeout`; None when the connection
    /// closed or nothing came.
    pub async fn recv(&mut self, timeout: Duration) -> Option<Value> {
        let text = tokio::time::timeout(timeout, self.from_client.recv())
            .await
            .ok()??;
        serde_json::from_str(&text).ok()
    }

    /// True once kotae has closed the connection, within `timeout`.
    pub async fn closed(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            match tokio::time::timeout(Duration::from_millis(50), self.from_client.recv()).await {
                Ok(None) => return true,
                _ => continue,
            }
        }
        false
    }
}

pub struct FakeSlack {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    sockets: tokio::sync::Mutex<mpsc::UnboundedReceiver<Socket>>,
}

impl FakeSlack {
    pub async fn start() -> FakeSlack {
        let shared = Arc::new(Shared::default());
        let (tx, rx) = mpsc::unbounded_channel();
        *shared.sockets.lock().unwrap() = Some(tx);

        let ws = TcpListener::bind("127.0.0.1:0").await.unwrap();
        *shared.ws_addr.lock().unwrap() = Some(ws.local_addr().unwrap());
        tokio::spawn(accept_sockets(ws, shared.clone()));
        let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
        *shared.silent_addr.lock().unwrap() = Some(silent.local_addr().unwrap());
        tokio::spawn(async move {
            // Held, never answered: a WebSocket handshake to here never finishes.
            let mut held = Vec::new();
            while let Ok((tcp, _)) = silent.accept().await {
                held.push(tcp);
            }
        });

        let app = Router::new()
            .route("/api/auth.test", post(auth_test))
            .route("/api/chat.postMessage", post(post_message))
            .route("/api/apps.connections.open", post(connections_open))
            .route("/hooks/{*id}", post(response_url))
            .route("/files/{id}", axum::routing::get(download_file))
            .with_state(shared.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        FakeSlack {
            addr,
            shared,
            sockets: tokio::sync::Mutex::new(rx),
        }
    }

    pub fn api_base(&self) -> String {
        format!("http://{}/api/", self.addr)
    }

    pub fn response_url(&self, id: &str) -> String {
        format!("http://{}/hooks/{id}", self.addr)
    }

    /// Serves `bytes` as a shared file and returns the file object of a `file_share` event
    /// (`size` is `stated_size`, or the real one); downloading it needs the bot token, as
    /// `url_private_download` does on Slack (scope `files:read`).
    pub fn add_file(
        &self,
        name: &str,
        mimetype: &str,
        bytes: Vec<u8>,
        stated_size: Option<u64>,
    ) -> Value {
        let id = format!(
            "F0FAKE{:04}",
            self.shared.next_file.fetch_add(1, Ordering::SeqCst)
        );
        let size = stated_size.unwrap_or(bytes.len() as u64);
        self.shared
            .files
            .lock()
            .unwrap()
            .insert(id.clone(), (mimetype.to_string(), bytes));
        let url = format!("http://{}/files/{id}", self.addr);
        json!({
            "id": id, "name": name, "title": name, "mimetype": mimetype,
            "filetype": mimetype.rsplit('/').next().unwrap_or(""), "size": size,
            "url_private": url, "url_private_download": url, "mode": "hosted",
            "is_external": false,
        })
    }

    /// Every `chat.postMessage` answers only after `delay`.
    pub fn set_post_delay(&self, delay: Duration) {
        self.shared
            .post_delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// The next `n` `apps.connections.open` calls hand out the URL of a host that accepts
    /// the connection and never answers the handshake.
    pub fn stall_next_sockets(&self, n: u32) {
        self.shared.stall_next.store(n, Ordering::SeqCst);
    }

    /// The next `n` `chat.postMessage` calls get 429 with `Retry-After: 1`.
    pub fn rate_limit_next(&self, n: u32) {
        self.shared.rate_limit_next.store(n, Ordering::SeqCst);
    }

    pub fn calls(&self, method: &str) -> Vec<Call> {
        self.shared
            .calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    /// Waits until at least `n` calls of `method` were received, at most `timeout`, and
    /// returns them all.
    pub async fn wait_for(&self, method: &str, n: usize, timeout: Duration) -> Vec<Call> {
        let deadline = Instant::now() + timeout;
        loop {
            let calls = self.calls(method);
            if calls.len() >= n || Instant::now() >= deadline {
                return calls;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The next Socket Mode connection kotae opens, within `timeout`.
    pub async fn next_socket(&self, timeout: Duration) -> Option<Socket> {
        let mut rx = self.sockets.lock().await;
        tokio::time::timeout(timeout, rx.recv()).await.ok()?
    }
}

fn record(
    shared: &Shared,
    method: &str,
    headers: &HeaderMap,
    form: Vec<(String, String)>,
    json: Option<Value>,
    status: u16,
) {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    shared.calls.lock().unwrap().push(Call {
        method: method.to_string(),
        at: Instant::now(),
        authorization: header("authorization"),
        content_type: header("content-type"),
        form,
        json,
        status,
    });
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::to_string)
}

async fn auth_test(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Json<Value> {
    let (form, json) = arguments(&headers, &body);
    record(&s, "auth.test", &headers, form, json, 200);
    if bearer(&headers).as_deref() != Some(BOT_TOKEN) {
        return Json(json!({"ok": false, "error": "invalid_auth"}));
    }
    Json(json!({
        "ok": true, "url": "https://fake.slack.com/", "team": "Fake Team", "user": "kotae",
        "team_id": "T0FAKE", "user_id": KOTAE_USER, "bot_id": KOTAE_BOT
    }))
}

/// A Web API call's arguments, from either body Slack accepts: a form, or (with
/// `application/json`) a JSON object, whose values are listed as a form would carry them
/// (strings as they are, anything else as JSON text) so tests read both the same way.
fn arguments(headers: &HeaderMap, body: &[u8]) -> (Vec<(String, String)>, Option<Value>) {
    let json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("application/json"));
    if !json {
        return (serde_urlencoded::from_bytes(body).unwrap_or_default(), None);
    }
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let form = v
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
            (k.clone(), text)
        })
        .collect();
    (form, Some(v))
}

async fn post_message(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let (form, json) = arguments(&headers, &body);
    let delay = s.post_delay_ms.load(Ordering::SeqCst);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let limited = s
        .rate_limit_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if limited {
        record(&s, "chat.postMessage", &headers, form, json, 429);
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [("retry-after", "1")],
            Json(json!({"ok": false, "error": "ratelimited"})),
        )
            .into_response();
    }
    let channel = form
        .iter()
        .find(|(k, _)| k == "channel")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    record(&s, "chat.postMessage", &headers, form, json, 200);
    if bearer(&headers).as_deref() != Some(BOT_TOKEN) {
        return Json(json!({"ok": false, "error": "invalid_auth"})).into_response();
    }
    Json(json!({"ok": true, "channel": channel, "ts": "1700000000.000100", "message": {"type": "message"}})).into_response()
}

/// A shared file, to the bot token only: 401 without it, as `url_private_download` refuses
/// a request without a token that has `files:read`.
async fn download_file(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let authorized = bearer(&headers).as_deref() == Some(BOT_TOKEN);
    let file = s.files.lock().unwrap().get(&id).cloned();
    let (status, response) = match (authorized, file) {
        (false, _) => (401, StatusCode::UNAUTHORIZED.into_response()),
        (true, None) => (404, StatusCode::NOT_FOUND.into_response()),
        (true, Some((mime, bytes))) => (
            200,
            ([(axum::http::header::CONTENT_TYPE, mime)], bytes).into_response(),
        ),
    };
    record(&s, "files.download", &headers, Vec::new(), None, status);
    response
}

async fn connections_open(
    State(s): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Json<Value> {
    let (form, json) = arguments(&headers, &body);
    record(&s, "apps.connections.open", &headers, form, json, 200);
    if bearer(&headers).as_deref() != Some(APP_TOKEN) {
        return Json(json!({"ok": false, "error": "invalid_auth"}));
    }
    let ticket = s.tickets.fetch_add(1, Ordering::SeqCst);
    let stalled = s
        .stall_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let addr = if stalled {
        s.silent_addr.lock().unwrap().unwrap()
    } else {
        s.ws_addr.lock().unwrap().unwrap()
    };
    Json(json!({"ok": true, "url": format!("ws://{addr}/link/?ticket={ticket}")}))
}

async fn response_url(
    State(s): State<Arc<Shared>>,
    Path(_id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> StatusCode {
    record(&s, "response_url", &headers, Vec::new(), Some(body), 200);
    StatusCode::OK
}

async fn accept_sockets(listener: TcpListener, shared: Arc<Shared>) {
    while let Ok((tcp, _)) = listener.accept().await {
        let Ok(ws) = tokio_tungstenite::accept_async(tcp).await else {
            continue;
        };
        let (to_client, mut outgoing) = mpsc::unbounded_channel::<Message>();
        let (incoming, from_client) = mpsc::unbounded_channel::<String>();
        let Some(tx) = shared.sockets.lock().unwrap().clone() else {
            return;
        };
        if tx
            .send(Socket {
                to_client,
                from_client,
            })
            .is_err()
        {
            return;
        }
        tokio::spawn(async move {
            let (mut sink, mut stream) = ws.split();
            loop {
                tokio::select! {
                    out = outgoing.recv() => match out {
                        Some(m) => if sink.send(m).await.is_err() { break },
                        None => { let _ = sink.close().await; break }
                    },
                    frame = stream.next() => match frame {
                        Some(Ok(Message::Text(t))) => { let _ = incoming.send(t); }
                        Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                        Some(Ok(_)) => {}
                    },
                }
            }
            // Dropping `incoming` tells the test the connection ended.
        });
    }
}
