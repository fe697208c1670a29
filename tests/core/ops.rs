//! `/healthz` and `/metrics` served on a real socket and scraped; the metrics text is parsed
//! by an independent parser and checked line by line against the exposition grammar.

use std::sync::Arc;
use std::time::Duration;

use kotae::bot::Bot;
use kotae::metrics::Health;
use kotae::policy::Incoming;
use kotae::store::SqliteStore;
use kotae::{Lang, Mode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_util::sync::CancellationToken;

/// A minimal HTTP/1.1 GET over a real TCP connection; returns (status, body).
async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .await
        .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8(buf).unwrap();
    let status = text[9..12].parse().unwrap();
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// Checks the text exposition format strictly: HELP/TYPE before samples, sample syntax.
fn assert_valid_exposition(text: &str) {
    let sample = regex::Regex::new(
        r#"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*")*)?\})? (-?[0-9.eE+-]+|\+Inf|-Inf|NaN)$"#,
    )
    .unwrap();
    let mut typed = std::collections::HashSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split(' ');
            let name = parts.next().unwrap();
            let kind = parts.next().unwrap();
            assert!(
                ["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind),
                "{line}"
            );
            assert!(typed.insert(name.to_string()), "TYPE twice: {line}");
        } else if line.starts_with("# HELP ") || line.is_empty() {
        } else {
            let caps = sample
                .captures(line)
                .unwrap_or_else(|| panic!("not a valid sample line: {line:?}"));
            let name = &caps[1];
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s).filter(|f| typed.contains(*f)))
                .unwrap_or(name);
            assert!(typed.contains(family), "sample before its TYPE: {line}");
        }
    }
}

#[tokio::test]
async fn metrics_and_health_over_http() {
    let store = Arc::new(SqliteStore::in_memory().unwrap());
    let bot = Arc::new(
        Bot::new(
            kotae::builtin_pack().unwrap(),
            Duration::from_secs(600),
            Lang::Ja,
        )
        .with_store(store),
    );
    let support = Incoming {
        channel: "c",
        support_channel: true,
        ..Incoming::default()
    };
    let kotae::bot::Decision::Answer(answer) =
        bot.handle("slack", &support, "MW1M01AJ0004", Lang::Ja)
    else {
        panic!("answered")
    };
    bot.handle("slack", &support, "エラー XX123 が出た", Lang::Ja);
    bot.record_answer("slack", "c", "ts-1", &answer, Mode::Auto);
    bot.record_vote("slack", "ts-1", "U1", true);
    bot.metrics().set_health("slack", Health::Up);

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let server = tokio::spawn(kotae::ops::serve(listener, bot.clone(), stop.clone()));

    let (status, body) = get(addr, "/metrics").await;
    assert_eq!(status, 200);
    assert_valid_exposition(&body);
    let lines: Vec<std::io::Result<String>> = body.lines().map(|l| Ok(l.to_string())).collect();
    let scrape = prometheus_parse::Scrape::parse(lines.into_iter()).expect("parses");
    let value = |name: &str, label: Option<(&str, &str)>| -> f64 {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == name && label.is_none_or(|(k, v)| s.labels.get(k) == Some(v)))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => f64::NAN,
            })
            .unwrap_or_else(|| panic!("{name} missing:\n{body}"))
    };
    assert_eq!(
        value(
            "kotae_answers_total",
            Some(("entry", "jalpay-to-anapay-charge-20000"))
        ),
        1.0
    );
    assert_eq!(
        value("kotae_feedback_total", Some(("verdict", "helpful"))),
        1.0
    );
    assert_eq!(value("kotae_unmatched_total", None), 1.0);
    assert_eq!(value("kotae_messages_total", None), 2.0);
    assert_eq!(value("kotae_up", Some(("component", "slack"))), 1.0);
    let hist = scrape
        .samples
        .iter()
        .find(|s| s.metric == "kotae_match_seconds")
        .expect("histogram");
    match &hist.value {
        prometheus_parse::Value::Histogram(buckets) => {
            let counts: Vec<f64> = buckets.iter().map(|b| b.count).collect();
            assert!(
                counts.windows(2).all(|w| w[0] <= w[1]),
                "cumulative: {counts:?}"
            );
            assert_eq!(counts.last().copied(), Some(2.0));
        }
        other => panic!("not a histogram: {other:?}"),
    }

    let (status, body) = get(addr, "/healthz").await;
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["components"]["store"]["status"], "up");
    assert_eq!(v["components"]["slack"]["status"], "up");

    bot.metrics()
        .set_health("discord", Health::Down("gateway closed with 4014".into()));
    let (status, body) = get(addr, "/healthz").await;
    assert_eq!(status, 503);
    assert!(body.contains("4014"), "{body}");

    stop.cancel();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("server stops")
        .unwrap();
}

/// Issue 14, item 3: another process holds the SQLite write lock and a vote waits on the
/// 5 s busy timeout; meanwhile `/healthz` and the dedup check that comes before a Slack
/// ack answer well under a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_the_dedup_check_do_not_wait_behind_a_locked_database() {
    use kotae::features::{answer, feedback};
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("k.db");
    let bot = Arc::new(
        Bot::new(
            kotae::builtin_pack().unwrap(),
            Duration::from_secs(600),
            Lang::Ja,
        )
        .with_store(Arc::new(SqliteStore::open(&db).unwrap())),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    tokio::spawn(kotae::ops::serve(listener, bot.clone(), stop.clone()));
    let (status, body) = get(addr, "/healthz").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains(bot.pack().content_hash()),
        "the pack's hash: {body}"
    );
    let (_, metrics) = get(addr, "/metrics").await;
    assert!(metrics.contains(&format!(
        "kotae_knowledge_info{{hash=\"{}\"}} 1",
        bot.pack().content_hash()
    )));
    let other = rusqlite::Connection::open(&db).unwrap();
    other.execute_batch("BEGIN IMMEDIATE").unwrap();
    let kotae::bot::Decision::Answer(a) = bot.lookup("MW1M01AJ0004", Lang::Ja) else {
        panic!("an answer")
    };
    // Queued: the vote must save it first, and waits for the lock.
    assert!(bot.record_answer("slack", "C1", "ts-1", &a, Mode::Auto));
    let voting = {
        let bot = bot.clone();
        tokio::spawn(async move {
            let t = std::time::Instant::now();
            feedback::vote_off_worker(
                bot,
                feedback::VoteOn {
                    platform: "slack",
                    message: "ts-1",
                    user: "U1",
                    helpful: true,
                    entry: None,
                    lang: Lang::Ja,
                },
            )
            .await;
            t.elapsed()
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    for i in 0..5 {
        let t = std::time::Instant::now();
        let (status, body) = get(addr, "/healthz").await;
        assert_eq!(status, 200, "{body}");
        let id = format!("Ev{i}");
        let m = answer::Message {
            platform: "slack",
            incoming: Incoming {
                channel: "C2",
                support_channel: true,
                ..Incoming::default()
            },
            text: "おはよう",
            lang: Lang::Ja,
            dedup: answer::Dedup::Delivery(&id),
            user: "U1",
        };
        answer::respond_off_worker(&bot, &m).await;
        assert!(
            t.elapsed() < Duration::from_secs(1),
            "waited {:?} behind the lock",
            t.elapsed()
        );
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    other.execute_batch("COMMIT").unwrap();
    let waited = voting.await.unwrap();
    assert!(
        waited >= Duration::from_secs(1),
        "the vote did not wait for the lock ({waited:?}): the test proved nothing"
    );
    stop.cancel();
}
