//! Platform I/O. Nothing outside this module talks to a chat platform or a terminal.

#[cfg(feature = "discord")]
pub mod discord;
#[cfg(any(feature = "discord", feature = "slack"))]
pub mod download;
pub mod shell;
#[cfg(feature = "slack")]
pub mod slack;
