//! Test-only fakes of the chat platforms; kotae's real clients talk to them on 127.0.0.1.

// Each test binary uses a different part of the fakes.
#![allow(dead_code)]

pub mod fake_discord;
pub mod fake_slack;
pub mod openapi;
