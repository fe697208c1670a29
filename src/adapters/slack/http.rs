//! The Events API receiver: `POST /slack/events`, `POST /slack/commands` and the
//! interactivity request URL `POST /slack/actions` (button clicks), with axum.
//!
//! Order per request: cap the body (413), check the signature on the raw bytes (401), then
//! parse, ack at once and do the work in a spawned task, because Slack retries anything not
//! acked within 3 seconds.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::events::{Handler, SlashCommand};
use super::signature;

/// The largest body read; Slack's events are a few KiB. Larger bodies are refused before any
/// hashing, so a flood of huge posts costs no CPU.
pub const MAX_BODY: usize = 1024 * 1024;

#[derive(Clone)]
struct AppState {
    handler: Arc<Handler>,
    signing_secret: Arc<[u8]>,
}

/// Serves the receiver on `listener` until `shutdown` is cancelled.
pub async fn serve(
    listener: TcpListener,
    handler: Arc<Handler>,
    signing_secret: &str,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let state = AppState {
        handler,
        signing_secret: Arc::from(signing_secret.as_bytes()),
    };
    let app = Router::new()
        .route("/slack/events", post(events))
        .route("/slack/commands", post(commands))
        .route("/slack/actions", post(actions))
        .with_state(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await
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
    let bytes = to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| StatusCode::PAYLOAD_TOO_LARGE.into_response())?;
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
        tracing::warn!(reason = %e, "refused a request with a bad Slack signature");
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
            let handler = state.handler.clone();
            tokio::spawn(async move { handler.on_event_callback(&payload).await });
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
    let handler = state.handler.clone();
    tokio::spawn(async move { handler.on_command(&cmd).await });
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
    let handler = state.handler.clone();
    tokio::spawn(async move { handler.on_block_actions(&payload).await });
    // An empty 200 acks the click; the message is left as it is.
    StatusCode::OK.into_response()
}
