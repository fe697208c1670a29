//! Test-only fakes of the chat platforms; kotae's real clients talk to them on 127.0.0.1.

// Each test binary uses a different part of the fakes.
#![allow(dead_code)]

mod ocr_models;
#[allow(unused_imports)] // Only the screenshot tests use it.
pub use ocr_models::ocr_models;

pub mod fake_discord;
pub mod fake_slack;
pub mod openapi;
pub mod scenarios;

/// A temporary copy of the shipped `knowledge/` folder (entries and chatter model), for
/// tests that break it.
pub fn copy_knowledge() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/knowledge")).unwrap() {
        let p = f.unwrap().path();
        let model = p
            .file_name()
            .is_some_and(|n| n == kotae::knowledge::CHATTER_MODEL_FILE);
        if model || p.extension().is_some_and(|x| x == "toml") {
            std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
        }
    }
    dir
}

/// A bot answering from a temporary copy of `knowledge/` that `/kotae-admin reload` reloads;
/// keep the folder alive as long as the bot.
pub fn reloadable_bot() -> (tempfile::TempDir, std::sync::Arc<kotae::bot::Bot>) {
    let dir = copy_knowledge();
    let bot = kotae::bot::Bot::new(
        kotae::Pack::load(dir.path()).unwrap(),
        std::time::Duration::from_secs(600),
        kotae::Lang::Ja,
    )
    .with_knowledge_path(dir.path().to_path_buf());
    (dir, std::sync::Arc::new(bot))
}

/// (helpful, not helpful) votes on `entry` in the bot's store.
pub fn votes(bot: &kotae::bot::Bot, entry: &str) -> (u64, u64) {
    let report = bot.store().unwrap().report(0, 5).unwrap();
    report
        .entries
        .iter()
        .find(|e| e.entry_id == entry)
        .map_or((0, 0), |e| (e.helpful, e.not_helpful))
}

/// An OCR service on the built `kotae ocr-worker`, like `kotae serve` starts.
pub fn ocr_service(
    paths: &kotae::ocr::ModelPaths,
    config: kotae::ocr::OcrConfig,
) -> kotae::ocr::OcrService {
    kotae::ocr::OcrService::start(
        config,
        paths,
        kotae::ocr::service::WorkerCommand::kotae(
            std::path::PathBuf::from(env!("CARGO_BIN_EXE_kotae")),
            paths,
        ),
    )
    .expect("start the OCR service")
}

/// A committed test screenshot (tests/ocr/make_images.py).
pub fn screenshot(name: &str) -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/ocr/images")
            .join(name),
    )
    .unwrap()
}

/// A client for kotae's Slack receiver. The receiver closes a kept-alive connection left idle
/// for its header timeout (5 s); a client reusing one just as it closes gets a reset (hyper's
/// IncompleteMessage), which on a loaded 2-core machine hit one delivery in 4,000. Like any
/// client of a server with a keep-alive timeout, this one gives idle connections up well
/// before it.
pub fn receiver_client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_idle_timeout(std::time::Duration::from_secs(1))
        .build()
        .unwrap()
}
