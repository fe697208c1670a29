//! Integration tests of the core: the shipped pack, the checker, the matcher and the CLI.
//! One test binary (as ripgrep does) so the crate is linked once.

mod check;
mod cli;
mod matcher;
mod ops;
mod pack;
mod redact;
mod reload;
mod store;

use std::path::PathBuf;

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}
