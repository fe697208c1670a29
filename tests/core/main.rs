//! Integration tests of the core: the shipped pack, the checker, the matcher and the CLI.
//! One test binary (as ripgrep does) so the crate is linked once.

mod answers;
mod check;
mod cli;
mod matcher;
#[cfg(feature = "ops")]
mod ops;
mod pack;
#[cfg(feature = "postgres")]
mod postgres;
mod redact;
mod reload;
mod store;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies the shipped pack's entry files (`knowledge/*.toml`, not its chatter model) into
/// `to`, for tests that edit a pack or need one without the model.
pub fn copy_entries(to: &Path) {
    for f in std::fs::read_dir(manifest_dir().join("knowledge")).unwrap() {
        let p = f.unwrap().path();
        if p.extension().is_some_and(|x| x == "toml") {
            std::fs::copy(&p, to.join(p.file_name().unwrap())).unwrap();
        }
    }
}

/// Runs the built `kotae` with `args` (and `stdin`), without the environment overrides a
/// developer may have set.
pub fn run_kotae(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_kotae"))
        .args(args)
        .env_remove("KOTAE_KNOWLEDGE")
        .env_remove("KOTAE_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kotae starts");
    let mut pipe = child.stdin.take().unwrap();
    if let Some(bytes) = stdin {
        // The child may exit before reading everything; that is fine.
        let _ = pipe.write_all(bytes);
    }
    drop(pipe);
    child.wait_with_output().unwrap()
}
