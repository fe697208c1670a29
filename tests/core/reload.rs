//! Hot reload: a valid edit is picked up within 2 s without dropping concurrent lookups; a
//! broken edit leaves the old pack answering and reports the error; reloads share one thread.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kotae::bot::{Bot, Decision};
use kotae::reload::{self, Reloaded};
use kotae::{Lang, Pack};
use tokio_util::sync::CancellationToken;

fn copy_pack() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    crate::copy_entries(dir.path());
    dir
}

const NEW_ENTRY: &str = r#"

[[entry]]
id = "demo-new-error"
services = ["demo"]
title = { ja = "新しいエラー" }
codes = ["NEW0001"]
cause = { ja = "新しい原因" }
examples = ["NEW0001"]
reported = 2025-12-28
checked = 2026-11-29
sources = ["test"]
"#;

/// Writes `text` to `path` in one step (a sibling file renamed over it), as editors save, so
/// the watcher polling meanwhile never reads a half-written file.
fn write_whole(path: &std::path::Path, text: &str) {
    let part = path.with_extension("toml.part");
    std::fs::write(&part, text).unwrap();
    std::fs::rename(&part, path).unwrap();
}

fn answer_id(bot: &Bot, text: &str) -> Option<String> {
    match bot.lookup(text, Lang::Ja) {
        Decision::Answer(a) => Some(a.id),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn valid_edit_is_picked_up_and_broken_edit_is_refused() {
    let dir = copy_pack();
    let pack = Pack::load_checked(dir.path()).unwrap();
    let bot = Arc::new(Bot::new(pack, Duration::from_secs(600), Lang::Ja));
    let stop = CancellationToken::new();
    let results: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = results.clone();
    tokio::spawn(reload::watch(
        bot.clone(),
        dir.path().to_path_buf(),
        Duration::from_millis(100),
        stop.clone(),
        move |r| {
            sink.lock().unwrap().push(match r {
                Reloaded::Swapped(n) => format!("swapped {n}"),
                Reloaded::Refused(e) => format!("refused {e}"),
            })
        },
    ));

    // Lookups run all the time on other threads; none may fail during the swaps.
    let running = Arc::new(AtomicBool::new(true));
    let served = Arc::new(AtomicUsize::new(0));
    let mut lookers = Vec::new();
    for _ in 0..2 {
        let (bot, running, served) = (bot.clone(), running.clone(), served.clone());
        lookers.push(std::thread::spawn(move || {
            while running.load(Ordering::Relaxed) {
                assert_eq!(
                    answer_id(&bot, "MW1M01AJ0004").as_deref(),
                    Some("jalpay-to-anapay-charge-20000"),
                    "a lookup during reload failed"
                );
                served.fetch_add(1, Ordering::Relaxed);
                // Steady traffic, not a busy loop that starves the watcher on a 2-core box.
                std::thread::sleep(Duration::from_millis(1));
            }
        }));
    }

    assert_ne!(
        answer_id(&bot, "NEW0001").as_deref(),
        Some("demo-new-error")
    );
    let file = dir.path().join("jalpay.toml");
    let original = std::fs::read_to_string(&file).unwrap();
    write_whole(&file, &format!("{original}{NEW_ENTRY}"));
    let start = Instant::now();
    // The counter is bumped just after the swap: wait for both, not only the new answer.
    while answer_id(&bot, "NEW0001").as_deref() != Some("demo-new-error")
        || bot.metrics().reload_ok.load(Ordering::Relaxed) == 0
    {
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "the edit was not picked up within 2 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(bot.metrics().reload_ok.load(Ordering::Relaxed), 1);

    // A broken edit: a regex that does not compile.
    write_whole(
        &file,
        &format!(
            "{original}{}",
            NEW_ENTRY.replace("codes = [\"NEW0001\"]", "patterns = [\"(\"]")
        ),
    );
    // The counter is bumped inside the reload, the outcome is reported after it: wait for
    // the report, which comes last.
    let start = Instant::now();
    let refused = || {
        results
            .lock()
            .unwrap()
            .iter()
            .any(|l| l.starts_with("refused"))
    };
    while !refused() {
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "the broken edit was not noticed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(bot.metrics().reload_failed.load(Ordering::Relaxed), 1);
    // The old (last good) pack still answers, including the entry added before.
    assert_eq!(
        answer_id(&bot, "NEW0001").as_deref(),
        Some("demo-new-error")
    );
    let log = results.lock().unwrap().join("\n");
    assert!(
        log.contains("refused") && log.contains("jalpay.toml:") && log.contains("does not compile"),
        "{log}"
    );

    running.store(false, Ordering::Relaxed);
    for l in lookers {
        l.join().expect("no lookup failed");
    }
    assert!(served.load(Ordering::Relaxed) > 0);
    stop.cancel();
}

#[test]
fn a_file_that_fails_its_own_examples_is_refused() {
    let dir = copy_pack();
    let bot = Bot::new(
        Pack::load(dir.path()).unwrap(),
        Duration::from_secs(1),
        Lang::Ja,
    );
    let file = dir.path().join("3ds2.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    // A counter-example that the entry's own pattern answers.
    let broken = text.replacen(
        "\"3Dセキュアって何？\",",
        "\"本人認証サービスで認証失敗しました。\",",
        1,
    );
    assert_ne!(broken, text);
    std::fs::write(&file, broken).unwrap();
    match reload::reload(&bot, dir.path()) {
        Reloaded::Refused(e) => assert!(e.to_string().contains("would get an auto-reply"), "{e}"),
        Reloaded::Swapped(_) => panic!("a pack failing its counter-examples was accepted"),
    }
    assert_eq!(bot.metrics().reload_failed.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn every_reload_runs_on_the_one_reload_thread_which_outlives_a_panic() {
    let on = || std::thread::current().id();
    let first = reload::on_reload_thread(on).await.unwrap();
    assert_ne!(first, on(), "the reload ran on the caller's thread");
    assert!(reload::on_reload_thread(|| panic!("a reload bug"))
        .await
        .is_err());
    assert_eq!(reload::on_reload_thread(on).await.unwrap(), first);
}

/// A folder that cannot be read for a moment (a network file system, a deploy that swaps
/// it by rename) is not an edit: nothing is reloaded, nothing refused, no admin notified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_folder_that_cannot_be_read_for_a_moment_is_not_a_change() {
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("knowledge");
    let aside = parent.path().join("aside");
    std::fs::rename(copy_pack().keep(), &dir).unwrap();
    let bot = Arc::new(Bot::new(
        Pack::load_checked(&dir).unwrap(),
        Duration::from_secs(600),
        Lang::Ja,
    ));
    let stop = CancellationToken::new();
    let results: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = results.clone();
    tokio::spawn(reload::watch(
        bot.clone(),
        dir.clone(),
        Duration::from_millis(50),
        stop.clone(),
        move |r| sink.lock().unwrap().push(format!("{r:?}")),
    ));
    std::fs::rename(&dir, &aside).unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    std::fs::rename(&aside, &dir).unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        (
            bot.metrics().reload_ok.load(Ordering::Relaxed),
            bot.metrics().reload_failed.load(Ordering::Relaxed)
        ),
        (0, 0),
        "{:?}",
        results.lock().unwrap()
    );
    // The watcher still sees a real edit afterwards.
    let file = dir.join("jalpay.toml");
    let original = std::fs::read_to_string(&file).unwrap();
    write_whole(&file, &format!("{original}{NEW_ENTRY}"));
    let start = Instant::now();
    while bot.metrics().reload_ok.load(Ordering::Relaxed) == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the edit after the outage was not picked up"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.cancel();
    std::fs::remove_dir_all(&dir).unwrap();
}
