//! Slack: Events API and Socket Mode, the /kotae command, answers in threads.
//!
//! Not built yet: issue 4.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::bot::Bot;
use crate::config::{Secrets, SlackConfig};

/// Why the Slack adapter stopped.
#[derive(Debug, thiserror::Error)]
pub enum SlackError {
    #[error("the Slack adapter is not implemented yet")]
    NotImplemented,
}

/// Runs the Slack bot until `shutdown` is cancelled.
pub async fn run(
    _bot: Arc<Bot>,
    _config: SlackConfig,
    _secrets: Secrets,
    _shutdown: CancellationToken,
) -> Result<(), SlackError> {
    Err(SlackError::NotImplemented)
}
