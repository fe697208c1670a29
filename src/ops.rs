//! The operations endpoint: `/healthz` (store and platform connections) and `/metrics`
//! (Prometheus text), on a local address of its own, never on the public Slack receiver.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::bot::Bot;
use crate::metrics::Health;

/// The routes, for tests that serve them on their own listener.
pub fn router(bot: Arc<Bot>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(bot)
}

/// Serves `/healthz` and `/metrics` on `listener` until `shutdown`.
pub async fn serve(listener: TcpListener, bot: Arc<Bot>, shutdown: CancellationToken) {
    let app = router(bot);
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "the health and metrics server stopped");
    }
}

async fn healthz(State(bot): State<Arc<Bot>>) -> impl IntoResponse {
    if let Some(store) = bot.store().cloned() {
        // On the blocking pool and bounded: a server database may not answer at all.
        let ping = tokio::task::spawn_blocking(move || store.ping());
        let h = match tokio::time::timeout(std::time::Duration::from_secs(3), ping).await {
            Ok(Ok(Ok(()))) => Health::Up,
            Ok(Ok(Err(e))) => Health::Down(e.to_string()),
            Ok(Err(e)) => Health::Down(format!("the health check failed: {e}")),
            Err(_) => Health::Down("the database did not answer within 3 s".into()),
        };
        bot.metrics().set_health("store", h);
    }
    let (ok, components) = bot.metrics().health();
    let body: serde_json::Map<String, serde_json::Value> = components
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                Health::Up => serde_json::json!({"status": "up"}),
                Health::Connecting => serde_json::json!({"status": "connecting"}),
                Health::Down(why) => serde_json::json!({"status": "down", "error": why}),
            };
            (k, v)
        })
        .collect();
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let json = serde_json::json!({
        "status": if ok { "ok" } else { "down" },
        "components": body,
        "knowledge": {"hash": bot.pack().content_hash()},
    });
    (status, axum::Json(json))
}

async fn metrics(State(bot): State<Arc<Bot>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics_text(&bot),
    )
}

/// The bot's counters, then the screenshot reader's (shed and refused images among them)
/// when screenshots are on.
pub fn metrics_text(bot: &Bot) -> String {
    let mut text = bot.metrics().render();
    if let Some(ocr) = bot.ocr() {
        text.push_str(&ocr.stats().render_prometheus());
    }
    text
}
