//! Test-only fakes of the chat platforms; kotae's real clients talk to them on 127.0.0.1.

pub mod fake_slack;
