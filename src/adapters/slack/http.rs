//! The Events API receiver: `POST /slack/events`, `POST /slack/commands` and the
//! interactivity request URL `POST /slack/actions` (button clicks), with axum.
//!
//! Order per request: cap the body (413), check the signature on the raw bytes (401), then
//! parse, ack at once and do the work in a spawned task, because Slack retries anything not
//! acked within 3 seconds.
//!
//! The receiver faces the internet unauthenticated, so it runs its own accept loop on
//! hyper rather than `axum::serve`, which has neither a header read timeout nor a connection
//! limit: hundreds of sockets sending slowly once held half a gigabyte and used up the
//! process's files. Here every connection has a slot ([`crate::config::SlackConfig::max_connections`];
//! none free: 503 at once, not a queue), the headers must arrive within [`HEADER_TIMEOUT`]
//! (also between requests of a kept-alive connection), the body within [`BODY_TIMEOUT`] and
//! under [`MAX_BODY`], and on shutdown connections get [`SHUTDOWN_GRACE`] and are then cut.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::events::{Handler, SlashCommand};
use super::signature;
use crate::throttle::LogEvery;

/// The largest body read. Slack's biggest payloads are a message of 40,000 characters
/// (Slack's limit; up to 120 KB of UTF-8 in Japanese) carried twice, as `text` and in its
/// rich-text `blocks`, or a button click carrying kotae's whole answer, form-encoded: 512 KiB
/// keeps both with room, and bounds what each connection may hold.
pub const MAX_BODY: usize = 512 * 1024;
/// The request line and headers must arrive within this, counted from the connection (or
/// from the previous response, for a kept-alive one). Slack sends them at once.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// The body must arrive within this after the headers. Slack's 3 s for the ack include it.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(5);
/// How long connections may finish on shutdown before they are cut.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);
/// Headers larger than this close the connection; Slack's are under 2 KiB.
const MAX_HEADER_BUFFER: usize = 64 * 1024;
/// How often an idle receiver hands freed memory back to the system.
const TRIM_EVERY: Duration = Duration::from_secs(5);

/// What a refused connection reads, written without waiting (the client may not read).
const BUSY: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\nretry-after: 1\r\n\r\n";

#[derive(Clone)]
struct AppState {
    handler: Arc<Handler>,
    signing_secret: Arc<[u8]>,
    /// A flood of badly signed requests would otherwise write a log line each.
    bad_signature: Arc<LogEvery>,
}

/// Serves the receiver on `listener` until `shutdown` is cancelled, holding at most
/// `max_connections` connections.
pub async fn serve(
    listener: TcpListener,
    handler: Arc<Handler>,
    signing_secret: &str,
    max_connections: usize,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let bot = handler.bot.clone();
    let state = AppState {
        handler,
        signing_secret: Arc::from(signing_secret.as_bytes()),
        bad_signature: Arc::default(),
    };
    let app = Router::new()
        .route("/slack/events", post(events))
        .route("/slack/commands", post(commands))
        .route("/slack/actions", post(actions))
        .with_state(state);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(MAX_HEADER_BUFFER);
    let slots = Arc::new(Semaphore::new(max_connections.max(1)));
    let mut connections = JoinSet::new();
    let refused = LogEvery::default();
    let accept_failed = LogEvery::default();
    // Set by each connection as it ends; the trim tick releases memory once all are gone.
    let went_idle = Arc::new(AtomicBool::new(false));
    let mut trim = tokio::time::interval(TRIM_EVERY);
    trim.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        let stream = tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = trim.tick() => {
                if slots.available_permits() == max_connections.max(1)
                    && went_idle.swap(false, Ordering::Relaxed)
                {
                    tokio::task::spawn_blocking(crate::reload::release_freed_memory);
                }
                continue;
            }
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // Out of files (EMFILE) or a connection reset before accept: pause
                    // rather than spin on an error that repeats at once.
                    if let Some(skipped) = accept_failed.hit() {
                        tracing::warn!(error = %e, skipped, "Slack receiver: accept failed");
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        while connections.try_join_next().is_some() {}
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            bot.metrics().connection_refused();
            if let Some(skipped) = refused.hit() {
                tracing::warn!(
                    max_connections,
                    skipped,
                    "Slack receiver: all connection slots busy; refusing new connections"
                );
            }
            refuse(stream);
            continue;
        };
        let connection =
            http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let (stop, went_idle) = (shutdown.clone(), went_idle.clone());
        connections.spawn(async move {
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = stop.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(SHUTDOWN_GRACE, connection).await;
                }
            }
            drop(slot);
            went_idle.store(true, Ordering::Relaxed);
        });
    }
    // Each connection has SHUTDOWN_GRACE from the cancel; whatever is left after that (a
    // task that has not run yet) is cut, so a half-sent request cannot hold up the exit.
    let drained = async { while connections.join_next().await.is_some() {} };
    let _ = tokio::time::timeout(SHUTDOWN_GRACE + Duration::from_millis(500), drained).await;
    connections.abort_all();
    Ok(())
}

/// Answers 503 without waiting for the client and closes.
fn refuse(stream: tokio::net::TcpStream) {
    use std::io::Write;
    // The std socket is non-blocking: a client that does not read loses the answer, and
    // the receiver never waits on it.
    if let Ok(mut s) = stream.into_std() {
        let _ = s.write(BUSY);
    }
}

fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Reads at most [`MAX_BODY`] bytes and checks the signature; the response is the refusal.
async fn authenticated_body(state: &AppState, req: Request) -> Result<Bytes, Response> {
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return Err(StatusCode::PAYLOAD_TOO_LARGE.into_response());
    }
    let (parts, body): (_, Body) = req.into_parts();
    let bytes = match tokio::time::timeout(BODY_TIMEOUT, to_bytes(body, MAX_BODY)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => return Err(StatusCode::PAYLOAD_TOO_LARGE.into_response()),
        Err(_) => return Err(StatusCode::REQUEST_TIMEOUT.into_response()),
    };
    let header = |h: &HeaderMap, name: &str| {
        h.get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let ts = header(&parts.headers, "x-slack-request-timestamp");
    let sig = header(&parts.headers, "x-slack-signature");
    if let Err(e) = signature::verify(
        &state.signing_secret,
        ts.as_deref(),
        sig.as_deref(),
        &bytes,
        now_unix(),
    ) {
        // At most one line per interval: anyone on the internet can send these.
        match state.bad_signature.hit() {
            Some(skipped) => tracing::warn!(
                reason = %e,
                skipped,
                "refused a request with a bad Slack signature (more are logged at most every {} s)",
                crate::throttle::LOG_EVERY.as_secs()
            ),
            None => tracing::debug!(reason = %e, "refused a request with a bad Slack signature"),
        }
        return Err(StatusCode::UNAUTHORIZED.into_response());
    }
    Ok(bytes)
}

async fn events(State(state): State<AppState>, req: Request) -> Response {
    let retry = req
        .headers()
        .get("x-slack-retry-num")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = match authenticated_body(&state, req).await {
        Ok(b) => b,
        Err(refusal) => return refusal,
    };
    let Ok(payload) = serde_json::from_slice::<Value>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    match payload["type"].as_str() {
        Some("url_verification") => {
            let challenge = payload["challenge"].as_str().unwrap_or_default();
            Json(json!({ "challenge": challenge })).into_response()
        }
        Some("event_callback") => {
            // A retry is recognised by its event_id in the answer feature, after the ack.
            if let Some(retry) = retry.as_deref() {
                tracing::debug!(retry, "Slack retried an event");
            }
            state
                .handler
                .spawn(move |h| async move { h.on_event_callback(&payload).await });
            StatusCode::OK.into_response()
        }
        other => {
            tracing::debug!(kind = other.unwrap_or("-"), "unhandled Events API payload");
            StatusCode::OK.into_response()
        }
    }
}

async fn commands(State(state): State<AppState>, req: Request) -> Response {
    let body = match authenticated_body(&state, req).await {
        Ok(b) => b,
        Err(refusal) => return refusal,
    };
    let Ok(cmd) = serde_urlencoded::from_bytes::<SlashCommand>(&body) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    state
        .handler
        .spawn(move |h| async move { h.on_command(&cmd).await });
    // An empty 200 acks without posting anything; the answer follows on response_url.
    StatusCode::OK.into_response()
}

/// The form Slack posts to the interactivity request URL: one field, `payload`, holding JSON.
#[derive(serde::Deserialize)]
struct InteractionForm {
    payload: String,
}

async fn actions(State(state): State<AppState>, req: Request) -> Response {
    let body = match authenticated_body(&state, req).await {
        Ok(b) => b,
        Err(refusal) => return refusal,
    };
    let Some(payload) = serde_urlencoded::from_bytes::<InteractionForm>(&body)
        .ok()
        .and_then(|f| serde_json::from_str::<Value>(&f.payload).ok())
    else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    state
        .handler
        .spawn(move |h| async move { h.on_block_actions(&payload).await });
    // An empty 200 acks the click; the message is left as it is.
    StatusCode::OK.into_response()
}
