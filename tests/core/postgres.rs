//! The store contract on both backends (one test body, SQLite and PostgreSQL), and what
//! replicas sharing one PostgreSQL database must get right (issue 16): one claim wins, a
//! dead replica's claim is taken over, cooldowns and votes across replicas, migrations
//! racing at start, an outage and the reconnect.
//!
//! PostgreSQL comes from `KOTAE_TEST_POSTGRES` (a URL to a server where the user may create
//! databases; `.ci/run` starts a throwaway cluster). Each test makes a database of its own.
//! Without the URL these tests fail under `CI=true` and say loudly that they skipped
//! elsewhere.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use kotae::features::answer::{self, Dedup, Message};
use kotae::policy::Incoming;
use kotae::reply::Reply;
use kotae::store::{AnswerRecord, PostgresStore, Redacted, SqliteStore, Store, Unmatched, Vote};
use kotae::Lang;

const PASTE: &str = "本人認証に不正が検知しました。(MW1M01AJ0004)";

/// A test's own database, dropped when the test ends (pass or fail), so a long run does
/// not fill the disk with copies of the template.
struct Db {
    url: String,
    base: String,
    name: String,
}

impl Drop for Db {
    fn drop(&mut self) {
        let (base, name) = (self.base.clone(), self.name.clone());
        // Its own thread: the test may hold a runtime of its own.
        let _ = std::thread::spawn(move || {
            admin(
                &base,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        })
        .join();
    }
}

/// Runs one statement on the test server's maintenance database.
fn admin(base: &str, sql: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(base, tokio_postgres::NoTls)
            .await
            .expect("the test server answers");
        tokio::spawn(conn);
        client.batch_execute(sql).await.unwrap();
    });
}

/// A fresh, empty database on the test server; None (after a loud message) when there is
/// no server outside CI.
fn fresh_db() -> Option<Db> {
    let base = match std::env::var("KOTAE_TEST_POSTGRES") {
        Ok(u) if !u.is_empty() => u,
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but KOTAE_TEST_POSTGRES is not set: .ci/run must start PostgreSQL")
        }
        _ => {
            eprintln!(
                "SKIPPED: PostgreSQL tests need KOTAE_TEST_POSTGRES=postgres://… (.ci/run starts a server)"
            );
            return None;
        }
    };
    static N: AtomicUsize = AtomicUsize::new(0);
    let name = format!(
        "kotae_t_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    admin(&base, &format!("CREATE DATABASE {name}"));
    // Replace the database name (the last path segment, before any query).
    let (head, query) = base
        .split_once('?')
        .map_or((base.as_str(), ""), |(h, q)| (h, q));
    let root = head.rsplit_once('/').map_or(head, |(r, _)| r);
    let url = format!("{root}/{name}");
    let url = if query.is_empty() {
        url
    } else {
        format!("{url}?{query}")
    };
    Some(Db { url, base, name })
}

fn answer(entry: &str, message: &str, at: i64) -> AnswerRecord {
    AnswerRecord {
        at,
        platform: "slack".into(),
        channel: "C1".into(),
        message: message.into(),
        entry_id: entry.into(),
        mode: "auto".into(),
        score: 100.0,
    }
}

/// The contract every store keeps, whatever the backend.
fn contract(s: &dyn Store) {
    s.ping().unwrap();
    // Keys: new once, forgotten after `keep`; looking does not record.
    assert!(!s.seen("ev1", 100, 3600).unwrap());
    assert!(s.first_time("ev1", 100, 3600).unwrap());
    // Answered: with replicas, no one may take the claim over later.
    s.settle("ev1").unwrap();
    s.flush().unwrap();
    assert!(!s.first_time("ev1", 200, 3600).unwrap());
    assert!(s.seen("ev1", 200, 3600).unwrap());
    assert!(s.first_time("ev1", 100 + 3601, 3600).unwrap(), "expired");
    // Cooldown: claimed, then the time since, then free after the window.
    assert_eq!(s.cooldown("c", "e", 1000, 600).unwrap(), None);
    assert_eq!(s.cooldown("c", "e", 1100, 600).unwrap(), Some(100));
    assert_eq!(s.cooldown("c2", "e", 1100, 600).unwrap(), None);
    assert_eq!(s.cooldown("c", "e", 1600, 600).unwrap(), None);
    // Answers and votes: once per user and answer.
    s.record_answer(&answer("e1", "m1", 10)).unwrap();
    let id = s.answer_by_message("slack", "m1").unwrap().expect("found");
    assert_eq!(
        s.answer_entry("slack", "m1").unwrap().as_deref(),
        Some("e1")
    );
    assert_eq!(s.answer_by_message("discord", "m1").unwrap(), None);
    assert_eq!(s.record_vote(id, "u1", true, 11).unwrap(), Vote::New);
    assert_eq!(s.record_vote(id, "u1", true, 12).unwrap(), Vote::Same);
    assert_eq!(s.record_vote(id, "u2", false, 12).unwrap(), Vote::New);
    assert_eq!(s.record_vote(id, "u2", true, 13).unwrap(), Vote::Changed);
    // Gaps: redacted before the store, grouped by their key.
    for amount in ["1000", "2000"] {
        s.record_unmatched(&Unmatched {
            at: 20,
            platform: "slack".into(),
            channel: "C1".into(),
            text: Redacted::new(&format!("エラー XY{amount} カード 4111 1111 1111 1111")),
        })
        .unwrap();
    }
    s.flush().unwrap();
    let r = s.report(0, 10).unwrap();
    assert_eq!(r.entries.len(), 1);
    assert_eq!((r.entries[0].answers, r.entries[0].helpful), (1, 2));
    assert_eq!(r.entries[0].not_helpful, 0);
    assert_eq!(r.unmatched.len(), 1);
    assert_eq!(r.unmatched[0].count, 2);
    assert!(!r.unmatched[0].text.contains("4111"));
    assert!(s.report(15, 10).unwrap().entries.is_empty(), "since");
}

#[test]
fn the_store_contract_holds_on_sqlite() {
    contract(&SqliteStore::in_memory().unwrap());
    let dir = tempfile::tempdir().unwrap();
    contract(&SqliteStore::open(&dir.path().join("k.db")).unwrap());
}

#[test]
fn the_store_contract_holds_on_postgres() {
    let Some(db) = fresh_db() else { return };
    let url = db.url.clone();
    contract(&PostgresStore::open(&url).unwrap());
    // And through `store::open`, as `kotae serve` and `kotae report` pick it.
    let s = kotae::store::open(&url, None).unwrap();
    assert!(s.blocking());
    assert_eq!(s.report(0, 10).unwrap().entries.len(), 1, "the same data");
}

#[test]
fn replicas_claim_each_key_once_and_share_cooldowns_and_votes() {
    let Some(db) = fresh_db() else { return };
    let url = db.url.clone();
    let stores: Vec<Arc<PostgresStore>> = (0..2)
        .map(|_| Arc::new(PostgresStore::open(&url).unwrap()))
        .collect();
    // 4 threads on each replica ask for the same 300 keys at once.
    let start = Arc::new(Barrier::new(8));
    let firsts: usize = (0..8)
        .map(|t| {
            let (s, start) = (stores[t % 2].clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                (0..300)
                    .filter(|i| s.first_time(&format!("slack:Ev{i}"), 1000, 3600).unwrap())
                    .count()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .sum();
    assert_eq!(firsts, 300, "each key claimed by exactly one");
    let cooldowns = (0..8)
        .map(|t| {
            let s = stores[t % 2].clone();
            std::thread::spawn(move || s.cooldown("C1", "e", 1000, 600).unwrap().is_none())
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| usize::from(t.join().unwrap()))
        .sum::<usize>();
    assert_eq!(cooldowns, 1, "one answer per channel and window");
    // An answer posted by one replica, voted on through both.
    stores[0].record_answer(&answer("e1", "ts1", 10)).unwrap();
    stores[0].flush().unwrap();
    let id = stores[1]
        .answer_by_message("slack", "ts1")
        .unwrap()
        .expect("seen by the other replica");
    let votes: Vec<Vote> = (0..8)
        .map(|t| {
            let s = stores[t % 2].clone();
            std::thread::spawn(move || s.record_vote(id, "u1", true, 11).unwrap())
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    assert_eq!(
        votes.iter().filter(|v| **v == Vote::New).count(),
        1,
        "{votes:?}"
    );
    let r = stores[1].report(0, 10).unwrap();
    assert_eq!((r.entries[0].answers, r.entries[0].helpful), (1, 1));
    // The same answer recorded twice (a retry) is stored once.
    stores[1].record_answer(&answer("e1", "ts1", 12)).unwrap();
    stores[1].flush().unwrap();
    assert_eq!(stores[0].report(0, 10).unwrap().entries[0].answers, 1);
}

#[test]
fn a_claim_of_a_dead_replica_is_taken_over_and_a_settled_one_is_not() {
    let Some(db) = fresh_db() else { return };
    let url = db.url.clone();
    let b = PostgresStore::open(&url).unwrap();
    {
        // Replica A claims two events and dies after settling only one of them.
        let a = PostgresStore::open(&url).unwrap();
        assert!(a.first_time("slack:EvDied", 1000, 3600).unwrap());
        assert!(a.first_time("slack:EvDone", 1000, 3600).unwrap());
        a.settle("slack:EvDone").unwrap();
        a.flush().unwrap();
    }
    // Within the claim timeout A may still be answering: B stays out.
    assert!(!b.first_time("slack:EvDied", 1030, 3600).unwrap());
    // After it, B takes the unsettled claim over, once; the settled one stays A's.
    let late = 1000 + kotae::store::postgres::CLAIM_TIMEOUT_SECS + 1;
    assert!(b.first_time("slack:EvDied", late, 3600).unwrap());
    assert!(!b.first_time("slack:EvDied", late + 1, 3600).unwrap());
    assert!(!b.first_time("slack:EvDone", late, 3600).unwrap());
}

#[test]
fn replicas_starting_together_migrate_once() {
    let Some(db) = fresh_db() else { return };
    let url = db.url.clone();
    let start = Arc::new(Barrier::new(6));
    let opened: Vec<_> = (0..6)
        .map(|_| {
            let (url, start) = (url.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                PostgresStore::open(&url).map(drop)
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    for r in &opened {
        assert!(r.is_ok(), "{r:?}");
    }
    let s = PostgresStore::open(&url).unwrap();
    assert!(s.first_time("k", 1, 10).unwrap());
}

/// Two bots (two replicas) on one database get every event at once, and again as a retry:
/// each paste is answered exactly once.
#[test]
fn two_bots_on_one_database_answer_each_event_once() {
    two_bots_answer_once(false);
}

/// The same for Discord message ids, as when two processes briefly run the same shard
/// during a rolling deploy; and an edit of a message that got nothing is still answered.
#[test]
fn two_bots_on_one_database_answer_each_discord_message_once() {
    two_bots_answer_once(true);
}

fn two_bots_answer_once(messages: bool) {
    let Some(db) = fresh_db() else { return };
    let url = db.url.clone();
    let bots: Vec<Arc<kotae::bot::Bot>> = (0..2)
        .map(|_| {
            Arc::new(
                kotae::bot::Bot::new(
                    kotae::builtin_pack().unwrap(),
                    // No cooldown: every event is a paste of its own channel.
                    Duration::from_secs(600),
                    Lang::Ja,
                )
                .with_store(kotae::store::open(&url, Some(90)).unwrap()),
            )
        })
        .collect();
    const EVENTS: usize = 200;
    let answered = Arc::new(AtomicUsize::new(0));
    let start = Arc::new(Barrier::new(4));
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let (bot, answered, start) = (bots[t % 2].clone(), answered.clone(), start.clone());
            std::thread::spawn(move || {
                start.wait();
                for i in 0..EVENTS {
                    let (channel, id) = (format!("C{i}"), format!("Ev{i}"));
                    let m = Message {
                        platform: "slack",
                        incoming: Incoming {
                            channel: &channel,
                            support_channel: true,
                            ..Incoming::default()
                        },
                        text: PASTE,
                        lang: Lang::Ja,
                        dedup: if messages {
                            Dedup::Message {
                                id: &id,
                                edited: false,
                            }
                        } else {
                            Dedup::Delivery(&id)
                        },
                        user: "U1",
                    };
                    if let Reply::Answer(a) = answer::respond(&bot, &m) {
                        answered.fetch_add(1, Ordering::Relaxed);
                        answer::posted(&bot, &m, &format!("ts{i}"), &a);
                    }
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(answered.load(Ordering::Relaxed), EVENTS);
    for b in &bots {
        b.store().unwrap().flush().unwrap();
    }
    let r = bots[0].store().unwrap().report(0, 10).unwrap();
    assert_eq!(
        r.entries.iter().map(|e| e.answers).sum::<u64>(),
        EVENTS as u64
    );
}

/// A TCP relay between the store and the server, which the test can cut and restore: the
/// database going away under a running replica.
struct Relay {
    port: u16,
    stop: tokio_util::sync::CancellationToken,
    rt: tokio::runtime::Runtime,
    target: String,
}

impl Relay {
    fn start(target: String, port: u16) -> Relay {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let stop = tokio_util::sync::CancellationToken::new();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind(("127.0.0.1", port)))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let (t, st) = (target.clone(), stop.clone());
        rt.spawn(async move {
            loop {
                let (mut inbound, _) = tokio::select! {
                    _ = st.cancelled() => return,
                    a = listener.accept() => a.unwrap(),
                };
                let (t, st) = (t.clone(), st.clone());
                tokio::spawn(async move {
                    let Ok(mut out) = tokio::net::TcpStream::connect(&t).await else {
                        return;
                    };
                    tokio::select! {
                        _ = st.cancelled() => {}
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut out) => {}
                    }
                });
            }
        });
        Relay {
            port,
            stop,
            rt,
            target,
        }
    }

    /// Cuts every connection and refuses new ones, then serves again on the same port.
    fn cut(self) -> (u16, String) {
        self.stop.cancel();
        self.rt.shutdown_timeout(Duration::from_secs(1));
        (self.port, self.target)
    }
}

#[test]
fn a_replica_that_loses_the_database_keeps_answering_and_reconnects() {
    let Some(db) = fresh_db() else { return };
    let url = db.url.clone();
    let parsed: tokio_postgres::Config = url.parse().unwrap();
    let host = "127.0.0.1";
    let port = parsed.get_ports().first().copied().unwrap_or(5432);
    let relay = Relay::start(format!("{host}:{port}"), 0);
    let via = url.replacen(
        &format!("{host}:{port}"),
        &format!("{host}:{}", relay.port),
        1,
    );
    assert_ne!(via, url, "the test URL names 127.0.0.1:port");
    let bot = kotae::bot::Bot::new(
        kotae::builtin_pack().unwrap(),
        Duration::from_secs(600),
        Lang::Ja,
    )
    .with_store(kotae::store::open(&via, Some(90)).unwrap());
    let store = bot.store().unwrap().clone();
    store.ping().unwrap();
    assert!(bot.first_time("slack:Ev1"));
    let (relay_port, target) = relay.cut();
    // Down: the checks fail fast, the bot answers anyway, /healthz's probe says so.
    let t = Instant::now();
    assert!(bot.first_time("slack:Ev2"), "answered during the outage");
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "waited {:?}",
        t.elapsed()
    );
    let err = store.ping().unwrap_err().to_string();
    assert!(err.contains("unavailable"), "{err}");
    assert!(!err.contains("kotae@"), "no URL in errors: {err}");
    store
        .record_answer(&answer("e1", "during-outage", 5))
        .unwrap();
    // Back on the same address: the pool reconnects, the queued answer is saved.
    let _relay = Relay::start(target, relay_port);
    let deadline = Instant::now() + Duration::from_secs(20);
    while store.ping().is_err() {
        assert!(Instant::now() < deadline, "never reconnected");
        std::thread::sleep(Duration::from_millis(200));
    }
    store.flush().unwrap();
    assert!(store
        .answer_by_message("slack", "during-outage")
        .unwrap()
        .is_some());
    assert!(!bot.first_time("slack:Ev1"), "the record is shared again");
}

/// Needs no server: the connection is refused, and nothing the user sees repeats the
/// password of the URL.
#[test]
fn kotae_report_on_postgres_never_prints_the_password() {
    let out = crate::run_kotae(
        &[
            "report",
            "--db",
            "postgres://kotae:s3cret-pw@127.0.0.1:1/kotae",
        ],
        None,
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{text}");
    assert!(!text.contains("s3cret-pw"), "{text}");
    assert!(text.contains("127.0.0.1:1"), "says which database: {text}");
}

/// `kotae report --db postgres://…` prints what replicas recorded.
#[test]
fn kotae_report_reads_a_postgres_database() {
    let Some(db) = fresh_db() else { return };
    let url = db.url.clone();
    {
        let s = PostgresStore::open(&url).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        s.record_answer(&answer("jalpay-to-anapay-charge-20000", "ts9", now))
            .unwrap();
        s.flush().unwrap();
    }
    let out = crate::run_kotae(&["report", "--db", &url, "--format", "json"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("jalpay-to-anapay-charge-20000"), "{text}");
}

/// The test cluster's CA (`KOTAE_TEST_POSTGRES_CA`) and one that signed nothing
/// (`KOTAE_TEST_POSTGRES_OTHER_CA`), both made by `.ci/postgres.sh`; None after a loud
/// message outside CI when the server was started some other way.
fn test_cas() -> Option<(String, String)> {
    match (
        std::env::var("KOTAE_TEST_POSTGRES_CA"),
        std::env::var("KOTAE_TEST_POSTGRES_OTHER_CA"),
    ) {
        (Ok(ca), Ok(other)) if !ca.is_empty() && !other.is_empty() => Some((ca, other)),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but KOTAE_TEST_POSTGRES_CA is not set: .ci/postgres.sh makes it")
        }
        _ => {
            eprintln!(
                "SKIPPED: the TLS tests need KOTAE_TEST_POSTGRES_CA and KOTAE_TEST_POSTGRES_OTHER_CA (.ci/postgres.sh)"
            );
            None
        }
    }
}

/// The test database's URL with another host (the server's certificate names `localhost`
/// only) and `query` (`sslmode=…&sslrootcert=…`).
fn tls_url(db: &Db, host: &str, query: &str) -> String {
    assert!(
        db.url.contains("@127.0.0.1:"),
        "the test server is on 127.0.0.1: {}",
        db.url
    );
    let url = db.url.replacen("@127.0.0.1:", &format!("@{host}:"), 1);
    format!("{url}?{query}")
}

/// Whether kotae's connections to the test database use TLS, as the server sees them.
fn kotae_sessions_use_tls(db: &Db) -> Vec<bool> {
    let (base, name) = (db.base.clone(), db.name.clone());
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let (client, conn) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
                .await
                .unwrap();
            tokio::spawn(conn);
            client
                .query(
                    "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a ON a.pid = s.pid
                     WHERE a.datname = $1 AND a.application_name = 'kotae'",
                    &[&name],
                )
                .await
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect()
        })
    })
    .join()
    .unwrap()
}

/// `sslmode=verify-full` with the CA that signed the server's certificate: connected over
/// TLS, and a claim works.
#[test]
fn verify_full_with_the_servers_ca_connects_over_tls_and_claims() {
    let (Some(db), Some((ca, _))) = (fresh_db(), test_cas()) else {
        return;
    };
    let url = tls_url(
        &db,
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    );
    let s = PostgresStore::open(&url).unwrap();
    assert!(s.first_time("slack:EvTls", 1000, 3600).unwrap());
    assert!(!s.first_time("slack:EvTls", 1001, 3600).unwrap());
    let tls = kotae_sessions_use_tls(&db);
    assert!(!tls.is_empty() && tls.iter().all(|t| *t), "{tls:?}");
}

/// The wrong CA, or a host the certificate does not name, stops `open` with an error that
/// names the setting and the cause, and never the password.
#[test]
fn verify_full_with_another_ca_or_host_is_refused_naming_the_setting() {
    let (Some(db), Some((ca, other))) = (fresh_db(), test_cas()) else {
        return;
    };
    let with_password = |url: String| url.replacen("://kotae@", "://kotae:s3cret-pw@", 1);
    let url = with_password(tls_url(
        &db,
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={other}"),
    ));
    let e = PostgresStore::open(&url).expect_err("another CA is refused");
    let text = e.to_string();
    assert!(matches!(e, kotae::store::StoreError::Tls { .. }), "{e:?}");
    assert!(text.contains("sslmode=verify-full"), "{text}");
    assert!(text.contains(&format!("sslrootcert={other}")), "{text}");
    assert!(text.contains("not signed by a CA"), "{text}");
    assert!(!text.contains("s3cret-pw"), "{text}");

    // The certificate names localhost, not 127.0.0.1: verify-full refuses, verify-ca does not.
    let url = tls_url(
        &db,
        "127.0.0.1",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    );
    let e = PostgresStore::open(&url).expect_err("another host name is refused");
    assert!(e.to_string().contains("not for the host 127.0.0.1"), "{e}");
    let url = tls_url(
        &db,
        "127.0.0.1",
        &format!("sslmode=verify-ca&sslrootcert={ca}"),
    );
    PostgresStore::open(&url).expect("verify-ca checks the chain, not the name");

    // As libpq: require with sslrootcert checks the chain.
    let url = tls_url(
        &db,
        "localhost",
        &format!("sslmode=require&sslrootcert={other}"),
    );
    let e = PostgresStore::open(&url).expect_err("require with sslrootcert checks the chain");
    assert!(e.to_string().contains("sslmode=require"), "{e}");

    let url = tls_url(
        &db,
        "localhost",
        "sslmode=verify-full&sslrootcert=/nonexistent/kotae-ca.pem",
    );
    let e = PostgresStore::open(&url).expect_err("a missing CA file is refused");
    assert!(
        matches!(e, kotae::store::StoreError::TlsRootCert { .. }),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .contains("sslrootcert=/nonexistent/kotae-ca.pem"),
        "{e}"
    );
}

/// `sslmode=require` encrypts without a CA (libpq's meaning); `sslmode=disable` stays plain.
#[test]
fn require_encrypts_without_a_ca_and_disable_stays_plain() {
    let (Some(db), Some(_)) = (fresh_db(), test_cas()) else {
        return;
    };
    {
        let s = PostgresStore::open(&tls_url(&db, "127.0.0.1", "sslmode=require")).unwrap();
        assert!(s.first_time("slack:EvReq", 1000, 3600).unwrap());
        let tls = kotae_sessions_use_tls(&db);
        assert!(!tls.is_empty() && tls.iter().all(|t| *t), "{tls:?}");
    }
    // Another database, so sessions of the store above that the server has not yet
    // cleared are not counted.
    let db = fresh_db().unwrap();
    let s = PostgresStore::open(&tls_url(&db, "127.0.0.1", "sslmode=disable")).unwrap();
    assert!(s.first_time("slack:EvReq", 1001, 3600).unwrap());
    let tls = kotae_sessions_use_tls(&db);
    assert!(!tls.is_empty() && tls.iter().all(|t| !*t), "{tls:?}");
}

/// `sslcert` / `sslkey`: the role `kotae_cert` may log in only with a client certificate
/// (`.ci/postgres.sh` sets pg_hba to `cert`). With the pair signed by the server's CA kotae
/// connects and claims; without it the server refuses, and the error names the setting; a
/// pair whose key is missing stops the start naming that file.
#[test]
fn a_client_certificate_logs_in_where_the_server_asks_for_one() {
    let (Some(db), Some((ca, _))) = (fresh_db(), test_cas()) else {
        return;
    };
    let (cert, key) = match (
        std::env::var("KOTAE_TEST_POSTGRES_CLIENT_CERT"),
        std::env::var("KOTAE_TEST_POSTGRES_CLIENT_KEY"),
    ) {
        (Ok(c), Ok(k)) if !c.is_empty() && !k.is_empty() => (c, k),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!(
                "CI=true but KOTAE_TEST_POSTGRES_CLIENT_CERT is not set: .ci/postgres.sh makes it"
            )
        }
        _ => {
            eprintln!("SKIPPED: needs KOTAE_TEST_POSTGRES_CLIENT_CERT and _KEY (.ci/postgres.sh)");
            return;
        }
    };
    let as_cert_role = |url: String| url.replacen("://kotae@", "://kotae_cert@", 1);
    let url = as_cert_role(tls_url(
        &db,
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}&sslcert={cert}&sslkey={key}"),
    ));
    let s = PostgresStore::open(&url).expect("the client certificate logs in");
    assert!(s.first_time("slack:EvCert", 1000, 3600).unwrap());
    assert!(!s.first_time("slack:EvCert", 1001, 3600).unwrap());

    let url = as_cert_role(tls_url(
        &db,
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}"),
    ));
    let e = PostgresStore::open(&url).expect_err("no certificate, no login");
    assert!(e.to_string().contains("certificate"), "{e}");

    let url = as_cert_role(tls_url(
        &db,
        "localhost",
        &format!("sslmode=verify-full&sslrootcert={ca}&sslcert={cert}&sslkey=/nonexistent/k.pem"),
    ));
    let e = PostgresStore::open(&url).expect_err("a missing key file stops the start");
    assert!(
        e.to_string()
            .starts_with("sslkey=/nonexistent/k.pem: cannot read"),
        "{e}"
    );
}
