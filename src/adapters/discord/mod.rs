//! Discord: auto-replies in support channels and the /kotae commands (serenity + poise).
//!
//! Not built yet: issue 3.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::bot::Bot;
use crate::config::DiscordConfig;

/// Why the Discord adapter stopped.
#[derive(Debug, thiserror::Error)]
pub enum DiscordError {
    #[error("the Discord adapter is not implemented yet")]
    NotImplemented,
}

/// Runs the Discord bot until `shutdown` is cancelled.
pub async fn run(
    _bot: Arc<Bot>,
    _config: DiscordConfig,
    _token: String,
    _shutdown: CancellationToken,
) -> Result<(), DiscordError> {
    Err(DiscordError::NotImplemented)
}
