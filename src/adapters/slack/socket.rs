//! Socket Mode: an outgoing WebSocket to Slack, so no public URL is needed.
//!
//! Envelopes: `events_api` (messages, mentions), `slash_commands` (`/kotae`, `/kotae-admin`)
//! and `interactive` (the 👍 / 👎 buttons). Every envelope is acked before its work starts
//! (Slack re-delivers what is not acked within 3 seconds). A `disconnect` message or a
//! dropped socket leads to a fresh `apps.connections.open`: each URL Slack hands out is good
//! for one connection. The pause before reconnecting doubles up to 30 s and starts over at
//! each `hello`; the handshake must finish within [`CONNECT_TIMEOUT`].

use crate::metrics::Health;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_util::sync::CancellationToken;

use super::api::ApiError;
use super::events::{Handler, SlashCommand};

/// Why Socket Mode gave up.
#[derive(Debug, thiserror::Error)]
pub enum SocketError {
    #[error("apps.connections.open refused SLACK_APP_TOKEN ({0}); use an app-level token (xapp-…) with the connections:write scope")]
    BadAppToken(String),
}

/// How often kotae pings Slack, so a connection that died silently (a NAT timeout, a laptop
/// waking up) is noticed.
const PING_EVERY: Duration = Duration::from_secs(30);
/// No frame at all for this long, not even a pong: the connection is gone.
const SILENCE_LIMIT: Duration = Duration::from_secs(90);

/// The longest pause between reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// The first pause, and what the pause goes back to once a connection worked (`hello`):
/// a connection that ran for hours and then dropped is not a reason to wait long.
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// The WebSocket handshake (TCP, TLS, upgrade) must finish within this: a host that
/// accepts and then says nothing would otherwise hold Socket Mode for ever.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects, handles envelopes, and reconnects until `shutdown` is cancelled.
pub async fn run(
    handler: Arc<Handler>,
    app_token: &str,
    shutdown: CancellationToken,
) -> Result<(), SocketError> {
    let mut backoff = FIRST_BACKOFF;
    loop {
        if shutdown.is_cancelled() {
            return Ok(());
        }
        let url = match handler.api.connections_open(app_token).await {
            Ok(url) => url,
            Err(ApiError::Slack(code))
                if matches!(
                    code.as_str(),
                    "invalid_auth" | "not_authed" | "not_allowed_token_type"
                ) =>
            {
                return Err(SocketError::BadAppToken(code));
            }
            Err(e) => {
                tracing::warn!(error = %e, "apps.connections.open failed; retrying");
                handler
                    .bot
                    .metrics()
                    .set_health("slack", Health::Down(format!("apps.connections.open: {e}")));
                if pause(&shutdown, &mut backoff).await {
                    return Ok(());
                }
                continue;
            }
        };
        let ended = session(&handler, &url, &shutdown, &mut backoff).await;
        handler
            .bot
            .metrics()
            .set_health("slack", Health::Connecting);
        match ended {
            End::Shutdown => return Ok(()),
            End::Disconnect => {
                backoff = FIRST_BACKOFF;
                tracing::info!("Slack asked to reconnect");
            }
            End::Dropped(why) => {
                tracing::warn!(%why, "Socket Mode connection lost; reconnecting");
                if pause(&shutdown, &mut backoff).await {
                    return Ok(());
                }
            }
        }
    }
}

/// Sleeps `backoff` (then doubles it); true when shut down meanwhile.
async fn pause(shutdown: &CancellationToken, backoff: &mut Duration) -> bool {
    let wait = *backoff;
    *backoff = (*backoff * 2).min(MAX_BACKOFF);
    tokio::select! {
        _ = shutdown.cancelled() => true,
        _ = tokio::time::sleep(wait) => false,
    }
}

enum End {
    Shutdown,
    Disconnect,
    Dropped(String),
}

/// One WebSocket connection, from connect to its end; `backoff` starts over at `hello`.
async fn session(
    handler: &Arc<Handler>,
    url: &str,
    shutdown: &CancellationToken,
    backoff: &mut Duration,
) -> End {
    let connecting = tokio::time::timeout(CONNECT_TIMEOUT, tokio_tungstenite::connect_async(url));
    let (mut ws, _) = tokio::select! {
        _ = shutdown.cancelled() => return End::Shutdown,
        c = connecting => match c {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return End::Dropped(format!("connect: {e}")),
            Err(_) => {
                return End::Dropped(format!(
                    "connect: no answer within {} s",
                    CONNECT_TIMEOUT.as_secs()
                ))
            }
        },
    };
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    let mut last_frame = std::time::Instant::now();
    loop {
        let frame = tokio::select! {
            _ = shutdown.cancelled() => {
                let _ = ws.close(None).await;
                return End::Shutdown;
            }
            _ = ping.tick() => {
                if last_frame.elapsed() > SILENCE_LIMIT {
                    return End::Dropped(format!("nothing from Slack for {} s", SILENCE_LIMIT.as_secs()));
                }
                if let Err(e) = ws.send(WsMessage::Ping(Vec::new())).await {
                    return End::Dropped(format!("ping: {e}"));
                }
                continue;
            }
            frame = ws.next() => frame,
        };
        last_frame = std::time::Instant::now();
        let text = match frame {
            Some(Ok(WsMessage::Text(t))) => t,
            Some(Ok(WsMessage::Ping(p))) => {
                if let Err(e) = ws.send(WsMessage::Pong(p)).await {
                    return End::Dropped(format!("pong: {e}"));
                }
                continue;
            }
            Some(Ok(WsMessage::Close(_))) | None => return End::Dropped("closed by Slack".into()),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return End::Dropped(e.to_string()),
        };
        let Ok(envelope) = serde_json::from_str::<Value>(&text) else {
            tracing::debug!("Socket Mode frame that is not JSON; ignored");
            continue;
        };
        if let Some(id) = envelope["envelope_id"].as_str() {
            let ack = json!({ "envelope_id": id }).to_string();
            if let Err(e) = ws.send(WsMessage::Text(ack)).await {
                return End::Dropped(format!("ack: {e}"));
            }
        }
        match envelope["type"].as_str() {
            Some("hello") => {
                tracing::info!("Socket Mode connected");
                *backoff = FIRST_BACKOFF;
                handler.bot.metrics().set_health("slack", Health::Up);
            }
            Some("disconnect") => {
                tracing::debug!(
                    reason = envelope["reason"].as_str().unwrap_or("-"),
                    "disconnect requested"
                );
                let _ = ws.close(None).await;
                return End::Disconnect;
            }
            Some("events_api") => {
                // A re-delivery is recognised by its event_id in the answer feature.
                let payload = envelope["payload"].clone();
                handler.spawn(move |h| async move { h.on_event_callback(&payload).await });
            }
            Some("slash_commands") => {
                match serde_json::from_value::<SlashCommand>(envelope["payload"].clone()) {
                    Ok(cmd) => handler.spawn(move |h| async move { h.on_command(&cmd).await }),
                    Err(e) => {
                        tracing::warn!(error = %e, "slash command envelope without response_url")
                    }
                }
            }
            Some("interactive") => {
                // Button clicks (block_actions); acked above, handled in the background.
                let payload = envelope["payload"].clone();
                handler.spawn(move |h| async move { h.on_block_actions(&payload).await });
            }
            other => tracing::debug!(kind = other.unwrap_or("-"), "Socket Mode envelope ignored"),
        }
    }
}
