//! The store on real SQLite files in temp dirs: what must survive a restart, and the clear
//! errors for files kotae cannot use.

use std::sync::Arc;
use std::time::Duration;

use kotae::bot::{Bot, Decision};
use kotae::policy::Incoming;
use kotae::store::{SqliteStore, Store, StoreError, Vote};
use kotae::{Lang, Mode};

use crate::run_kotae;

const PASTE: &str = "本人認証に不正が検知しました。(MW1M01AJ0004)";

fn support(channel: &str) -> Incoming<'_> {
    Incoming {
        channel,
        support_channel: true,
        ..Incoming::default()
    }
}

fn bot_with(path: &std::path::Path) -> Bot {
    let store = SqliteStore::open(path).expect("store opens");
    Bot::new(
        kotae::builtin_pack().unwrap(),
        Duration::from_secs(600),
        Lang::Ja,
    )
    .with_store(Arc::new(store))
}

#[test]
fn answers_and_votes_survive_a_restart_and_a_vote_counts_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kotae.db");
    {
        let bot = bot_with(&db);
        let Decision::Answer(a) = bot.handle("discord", &support("c1"), PASTE, Lang::Ja) else {
            panic!("the paste is answered")
        };
        assert!(bot.record_answer("discord", "c1", "reply-1", &a, Mode::Auto));
        let store = bot.store().unwrap();
        let id = store
            .answer_by_message("discord", "reply-1")
            .unwrap()
            .expect("recorded");
        assert_eq!(store.record_vote(id, "u1", true, 1).unwrap(), Vote::New);
        assert_eq!(store.record_vote(id, "u1", true, 2).unwrap(), Vote::Same);
    }
    let store = SqliteStore::open(&db).unwrap();
    let id = store
        .answer_by_message("discord", "reply-1")
        .unwrap()
        .expect("answer survived");
    assert_eq!(
        store.record_vote(id, "u1", true, 3).unwrap(),
        Vote::Same,
        "vote survived"
    );
    assert_eq!(store.record_vote(id, "u2", false, 3).unwrap(), Vote::New);
    let report = store.report(0, 10).unwrap();
    let e = &report.entries[0];
    assert_eq!(
        (e.entry_id.as_str(), e.answers, e.helpful, e.not_helpful),
        ("jalpay-to-anapay-charge-20000", 1, 1, 1)
    );
    assert_eq!(e.helpful_pct, Some(50.0));
}

#[test]
fn the_cooldown_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kotae.db");
    assert!(matches!(
        bot_with(&db).handle("slack", &support("C1"), PASTE, Lang::Ja),
        Decision::Answer(_)
    ));
    // A new process, the same file: the same paste in the same channel is not answered again.
    let bot = bot_with(&db);
    assert!(matches!(
        bot.handle("slack", &support("C1"), PASTE, Lang::Ja),
        Decision::Repeat { .. }
    ));
    assert!(matches!(
        bot.handle("slack", &support("C2"), PASTE, Lang::Ja),
        Decision::Answer(_)
    ));
}

#[test]
fn handled_events_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kotae.db");
    assert!(bot_with(&db).first_time("slack:Ev123"));
    assert!(!bot_with(&db).first_time("slack:Ev123"));
}

#[test]
fn unmatched_errors_are_kept_redacted_and_chatter_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kotae.db");
    let bot = bot_with(&db);
    let paste = "エラーコード ZZ9999 が出ました。カード 4111-1111-1111-1111、電話 090-1234-5678";
    assert!(matches!(
        bot.handle("discord", &support("c"), paste, Lang::Ja),
        Decision::Silent(_)
    ));
    assert!(matches!(
        bot.handle("discord", &support("c"), "おはようございます", Lang::Ja),
        Decision::Silent(_)
    ));
    // Another connection (kotae report) sees writes once saved: within FLUSH_EVERY, or now.
    bot.store().unwrap().flush().unwrap();
    let report = SqliteStore::open(&db).unwrap().report(0, 10).unwrap();
    assert_eq!(report.unmatched.len(), 1, "{report:?}");
    let text = &report.unmatched[0].text;
    assert!(
        text.contains("ZZ9999") && text.contains("[card]") && text.contains("[phone]"),
        "{text}"
    );
    assert!(
        !text.contains("4111") && !text.contains("090-1234"),
        "{text}"
    );
}

#[test]
fn a_corrupt_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kotae.db");
    std::fs::write(
        &db,
        b"this is not a database, it is a text file that happens to be here",
    )
    .unwrap();
    let err = SqliteStore::open(&db).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { .. }), "{err:?}");
    assert!(
        err.to_string().contains("is not a usable kotae database"),
        "{err}"
    );

    // The same through the binary: one line, exit 2, no panic.
    let out = run_kotae(&["report", "--db", db.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("kotae: the database") && stderr.contains("not a usable kotae database"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"));
}

#[test]
fn a_read_only_database_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kotae.db");
    drop(SqliteStore::open(&db).unwrap());
    // Opened read-only (tests run as root, where file modes do not stop writes).
    let uri = format!("file:{}?mode=ro", db.display());
    let err = SqliteStore::open(std::path::Path::new(&uri)).unwrap_err();
    assert!(matches!(err, StoreError::ReadOnly { .. }), "{err:?}");
    assert!(err.to_string().contains("read-only"), "{err}");
}

#[test]
fn report_command_prints_text_json_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("kotae.db");
    {
        let bot = bot_with(&db);
        let Decision::Answer(a) = bot.lookup("本人認証サービスで認証失敗しました", Lang::Ja)
        else {
            panic!("answered")
        };
        assert_eq!(a.id, "3ds2-auth-failed");
        assert!(bot.record_answer("slack", "C1", "ts1", &a, Mode::Auto));
        let store = bot.store().unwrap();
        let id = store.answer_by_message("slack", "ts1").unwrap().unwrap();
        store.record_vote(id, "U1", true, 1).unwrap();
        bot.handle("slack", &support("C1"), "決済エラー E-555 が出る", Lang::Ja);
    }
    let run = |format: &str| {
        let db = db.to_str().unwrap();
        let out = run_kotae(
            &["report", "--since", "1d", "--format", format, "--db", db],
            None,
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let text = run("text");
    assert!(
        text.contains("3ds2-auth-failed") && text.contains("100% helpful"),
        "{text}"
    );
    assert!(text.contains("E-555"), "{text}");
    let json: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    assert_eq!(json["entries"][0]["entry_id"], "3ds2-auth-failed");
    assert_eq!(json["entries"][0]["helpful_pct"], 100.0);
    assert_eq!(json["unmatched"][0]["count"], 1);
    let csv = run("csv");
    assert!(
        csv.lines().any(|l| l == "entry,3ds2-auth-failed,1,1,0,100"),
        "{csv}"
    );
    assert!(
        csv.lines()
            .any(|l| l.starts_with("unmatched,") && l.contains("E-555")),
        "{csv}"
    );
}
