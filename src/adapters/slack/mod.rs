//! Slack: auto-replies in support channels, mentions and DMs, the `/kotae` and
//! `/kotae-admin` commands, 👍 / 👎 feedback buttons and admin notices, over the Events API
//! (HTTP) or Socket Mode.
//!
//! - [`api`]: the Web API client (`auth.test`, `chat.postMessage`, `apps.connections.open`,
//!   `response_url`), 429-aware.
//! - [`blocks`]: Block Kit rendering within Slack's limits, with escaping.
//! - [`events`]: the transport-independent handling of events and commands.
//! - [`http`]: the Events API and interactivity receiver (its own accept loop: timeouts,
//!   connection cap, body cap; signature check, ack first).
//! - [`socket`]: the Socket Mode client (ack, dedup, reconnect).
//! - [`signature`]: checks `X-Slack-Signature`.

pub mod api;
pub mod blocks;
pub mod events;
pub mod http;
pub mod rendered;
pub mod signature;
pub mod socket;

use crate::metrics::Health;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::bot::Bot;
use crate::config::{Secrets, SlackConfig, SlackMode};
use api::{ApiError, WebApi};
use events::Handler;

/// Why the Slack adapter could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum SlackError {
    #[error("SLACK_BOT_TOKEN is not set; put the Bot User OAuth Token (xoxb-…) from OAuth & Permissions in the environment")]
    MissingBotToken,
    #[error("mode = \"socket\" needs SLACK_APP_TOKEN: an app-level token (xapp-…) with connections:write, from Basic Information -> App-Level Tokens")]
    MissingAppToken,
    #[error(
        "mode = \"http\" needs SLACK_SIGNING_SECRET, from Basic Information -> App Credentials"
    )]
    MissingSigningSecret,
    #[error("auth.test refused SLACK_BOT_TOKEN ({0}); check the token and that the app is installed in the workspace")]
    BadBotToken(String),
    // The causes are in the messages, not chained as sources, so `{:#}` prints each once.
    #[error("cannot reach the Slack Web API for auth.test: {0}")]
    AuthTest(ApiError),
    #[error("cannot build the HTTP client: {0}")]
    Client(ApiError),
    #[error("cannot listen on {addr}: {error}")]
    Bind { addr: String, error: std::io::Error },
    #[error("the Events API receiver stopped: {0}")]
    Serve(std::io::Error),
    #[error(transparent)]
    Socket(#[from] socket::SocketError),
}

/// Runs the Slack bot until `shutdown` is cancelled.
pub async fn run(
    bot: Arc<Bot>,
    config: SlackConfig,
    secrets: Secrets,
    shutdown: CancellationToken,
) -> Result<(), SlackError> {
    match config.mode {
        SlackMode::Socket => run_socket(bot, &config, &secrets, shutdown).await,
        SlackMode::Http => {
            // Checked before binding, so a missing secret is reported as such.
            secrets
                .slack_signing_secret
                .as_ref()
                .ok_or(SlackError::MissingSigningSecret)?;
            let listener =
                TcpListener::bind(&config.listen)
                    .await
                    .map_err(|error| SlackError::Bind {
                        addr: config.listen.clone(),
                        error,
                    })?;
            run_http(listener, bot, &config, &secrets, shutdown).await
        }
    }
}

/// Connects to the Web API and learns who kotae is; a bad token ends here.
async fn connect(
    bot: Arc<Bot>,
    config: &SlackConfig,
    secrets: &Secrets,
) -> Result<Arc<Handler>, SlackError> {
    let token = secrets
        .slack_bot_token
        .clone()
        .ok_or(SlackError::MissingBotToken)?;
    let api = WebApi::new(&config.api_base_url, token).map_err(SlackError::Client)?;
    bot.metrics().set_health("slack", Health::Connecting);
    let me = api.auth_test().await.map_err(|e| {
        bot.metrics()
            .set_health("slack", Health::Down(format!("auth.test: {e}")));
        match e {
            ApiError::Slack(code) => SlackError::BadBotToken(code),
            other => SlackError::AuthTest(other),
        }
    })?;
    tracing::info!(user_id = %me.user_id, team = me.team.as_deref().unwrap_or("-"), "Slack: signed in");
    if config.support_channels.is_empty() {
        tracing::info!(
            "Slack: no support_channels configured; answering mentions, DMs and /kotae only"
        );
    }
    Ok(Arc::new(Handler::new(
        bot,
        api,
        me,
        &config.support_channels,
        &config.admin_users,
    )))
}

/// Posts the bot's admin notices to `admin_channel`, when one is configured, until
/// `shutdown`.
fn start_notices(handler: &Arc<Handler>, config: &SlackConfig, shutdown: &CancellationToken) {
    let Some(channel) = config.admin_channel.clone().filter(|c| !c.is_empty()) else {
        return;
    };
    let notices = handler.bot.subscribe_notices();
    let (handler, shutdown) = (handler.clone(), shutdown.clone());
    tracing::info!(%channel, "Slack: admin notices go to this channel");
    tokio::spawn(async move { handler.post_notices(&channel, notices, shutdown).await });
}

/// The Events API receiver on an already bound `listener` (tests bind 127.0.0.1:0).
pub async fn run_http(
    listener: TcpListener,
    bot: Arc<Bot>,
    config: &SlackConfig,
    secrets: &Secrets,
    shutdown: CancellationToken,
) -> Result<(), SlackError> {
    let secret = secrets
        .slack_signing_secret
        .clone()
        .ok_or(SlackError::MissingSigningSecret)?;
    let handler = connect(bot, config, secrets).await?;
    start_notices(&handler, config, &shutdown);
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "Slack Events API receiver listening (/slack/events, /slack/commands, /slack/actions)");
    }
    handler.bot.metrics().set_health("slack", Health::Up);
    http::serve(listener, handler, &secret, config.max_connections, shutdown)
        .await
        .map_err(SlackError::Serve)
}

/// Socket Mode, until `shutdown` is cancelled.
pub async fn run_socket(
    bot: Arc<Bot>,
    config: &SlackConfig,
    secrets: &Secrets,
    shutdown: CancellationToken,
) -> Result<(), SlackError> {
    let app_token = secrets
        .slack_app_token
        .clone()
        .ok_or(SlackError::MissingAppToken)?;
    let handler = connect(bot, config, secrets).await?;
    start_notices(&handler, config, &shutdown);
    Ok(socket::run(handler, &app_token, shutdown).await?)
}
