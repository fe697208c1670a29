//! Screenshots end to end, with the real ONNX Runtime and PP-OCRv5 models that
//! `.ci/ocr-setup.sh` installs: the generated phone dialogs (tests/ocr/make_images.py) must
//! answer with their entry and take no amount from the app behind the dialog; unrelated
//! screens stay silent; a decompression bomb is refused before decoding; a worker killed
//! mid-image is replaced and the next image is answered; caps, shedding and the timeout.
//!
//! Without the runtime these tests fail, saying how to install it. `KOTAE_SKIP_OCR_TESTS=1`
//! turns them into a printed skip, except under `CI=true`, where a missing runtime fails.
#![cfg(feature = "ocr")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use kotae::ocr::service::WorkerCommand;
use kotae::ocr::{ModelPaths, OcrConfig, OcrError, OcrService};
use kotae::Mode;

#[path = "support/ocr_models.rs"]
mod ocr_models;
use ocr_models::ocr_models as models;

const KOTAE: &str = env!("CARGO_BIN_EXE_kotae");

fn image(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/ocr/images")
        .join(name)
}

fn kotae(args: &[&str]) -> Output {
    Command::new(KOTAE)
        .args(args)
        .env_remove("KOTAE_KNOWLEDGE")
        .output()
        .expect("run kotae")
}

/// The standard output of a run that must have exited 0 (else both outputs, in the panic).
fn succeeded(o: &Output) -> String {
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    })
}

fn service(paths: &ModelPaths, config: OcrConfig) -> OcrService {
    OcrService::start(
        config,
        paths,
        WorkerCommand::kotae(PathBuf::from(KOTAE), paths),
    )
    .expect("start the OCR service")
}

/// Every seed dialog, light, dark, blurred (photo of a screen), half size at JPEG q50 and as
/// WebP, read through one worker: a support channel answers the full-size ones with their
/// entry, the half-size ones are at least the top lookup candidate, and no image lends the
/// answer an amount (the screens show ¥12,345, 5,000円, -1,280円 and +30,000円 behind the
/// dialog; +30,000円 would turn the MW1M01AJ0004 answer into the "over ¥20,000" one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_seed_dialog_answers_with_its_entry_and_no_background_amount() {
    let Some(paths) = models() else { return };
    let ocr = service(&paths, OcrConfig::default());
    let pack = kotae::builtin_pack().unwrap();
    let cases = [
        (
            "mw1m01aj0004",
            "jalpay-to-anapay-charge-20000",
            "MW1M01AJ0004",
        ),
        (
            "session_timeout",
            "jalpay-card-register-session-timeout",
            "セッションタイムアウトが発生しました",
        ),
        (
            "attempt_limit",
            "jalpay-card-register-attempt-limit",
            "回数制限",
        ),
    ];
    let mut failures = Vec::new();
    for (stem, entry, phrase) in cases {
        for (variant, auto) in [
            ("light.png", true),
            ("dark.png", true),
            ("dark_blur.jpg", true),
            ("light.webp", true),
            ("small_q50.jpg", false),
        ] {
            let name = format!("{stem}_{variant}");
            let path = image(&name);
            if !path.exists() {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            // Each image from its own user: the per-user cap is not what is tested here.
            let text = ocr.read(bytes, &name).await.expect(&name);
            let matcher_text = text.matcher_text();
            let mode = if auto { Mode::Auto } else { Mode::Lookup };
            let outcome = pack.query(&matcher_text, mode);
            let top = outcome.matches.first().map(|m| m.id.as_str());
            if top != Some(entry) || (auto && !outcome.reply) {
                failures.push(format!(
                    "{name}: {top:?} (reply {}) from {matcher_text:?}",
                    outcome.reply
                ));
            }
            if outcome.facts.amount_jpy.is_some() {
                failures.push(format!(
                    "{name}: amount {:?} taken from {matcher_text:?}",
                    outcome.facts.amount_jpy
                ));
            }
            if auto && !matcher_text.replace('\n', "").contains(phrase) {
                failures.push(format!("{name}: {phrase:?} not read: {matcher_text:?}"));
            }
            // The background was read, but kept from the matcher.
            assert!(
                text.raw_text().contains("12,345"),
                "{name}: {}",
                text.raw_text()
            );
            assert!(!matcher_text.contains("12,345"), "{name}: {matcher_text}");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(ocr.stats().worker_starts, 1, "one worker read every image");
}

#[test]
fn ask_image_prints_the_answer_and_what_was_read() {
    if models().is_none() {
        return;
    }
    let path = image("mw1m01aj0004_dark.png");
    let o = kotae(&["ask", "--image", path.to_str().unwrap()]);
    let out = succeeded(&o);
    assert!(
        out.contains("スクリーンショット"),
        "says it read a screenshot: {out}"
    );
    assert!(out.contains("jalpay-to-anapay-charge-20000"), "{out}");
    assert!(out.contains("(MW1M01AJ0004)"), "what was read: {out}");
    assert!(out.contains("background, not matched"), "{out}");
}

#[test]
fn ask_image_json_has_the_ocr_text_and_the_matching_lines() {
    if models().is_none() {
        return;
    }
    let a = image("session_timeout_light.webp");
    let b = image("attempt_limit_dark_blur.jpg");
    let o = kotae(&[
        "ask",
        "--mode",
        "auto",
        "--json",
        "--image",
        a.to_str().unwrap(),
        "--image",
        b.to_str().unwrap(),
    ]);
    let v = json(&o);
    assert_eq!(v["reply"], true, "{v:#}");
    let ocr = v["ocr"].as_array().unwrap();
    assert_eq!(ocr.len(), 2);
    assert!(ocr[0]["text"]
        .as_str()
        .unwrap()
        .contains("セッションタイムアウト"));
    let top = v["matches"][0]["id"].as_str().unwrap();
    // Two screenshots, two dialogs: the answer is one of them, and the line that points at it
    // is marked.
    assert!(
        [
            "jalpay-card-register-session-timeout",
            "jalpay-card-register-attempt-limit"
        ]
        .contains(&top),
        "{v:#}"
    );
    let matched: Vec<&str> = ocr
        .iter()
        .flat_map(|i| i["lines"].as_array().unwrap())
        .filter(|l| l["matched"] == true)
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert!(!matched.is_empty(), "{v:#}");
    let roles: Vec<&str> = ocr[0]["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["role"].as_str().unwrap())
        .collect();
    assert!(
        roles.contains(&"background") && roles.contains(&"message"),
        "{roles:?}"
    );
}

#[test]
fn unrelated_screens_stay_silent_in_a_support_channel() {
    if models().is_none() {
        return;
    }
    for name in [
        "home_light.png",
        "unrelated_dialog_light.png",
        "unrelated_dialog_dark.png",
    ] {
        let path = image(name);
        let o = kotae(&[
            "ask",
            "--mode",
            "auto",
            "--json",
            "--image",
            path.to_str().unwrap(),
        ]);
        let v = json(&o);
        assert_eq!(v["reply"], false, "{name}: {v:#}");
        assert_eq!(o.status.code(), Some(1), "{name}");
        assert!(v["facts"].get("amount_jpy").is_none(), "{name}: {v:#}");
        assert!(
            !v["ocr"][0]["text"].as_str().unwrap().is_empty(),
            "{name}: something was read"
        );
    }
}

#[test]
fn the_typed_amount_wins_over_the_screenshot() {
    if models().is_none() {
        return;
    }
    let path = image("mw1m01aj0004_light.png");
    let o = kotae(&[
        "ask",
        "--json",
        "--image",
        path.to_str().unwrap(),
        "JAL Payから1万円チャージしたらこれが出ました",
    ]);
    let v = json(&o);
    assert_eq!(
        v["matches"][0]["id"], "jalpay-to-anapay-charge-20000",
        "{v:#}"
    );
    assert_eq!(v["facts"]["amount_jpy"], 10_000, "{v:#}");
}

#[test]
fn a_decompression_bomb_is_refused_before_decoding() {
    // No runtime needed: the header is read in the bot, before a worker is involved.
    let path = image("bomb.png");
    assert!(
        std::fs::metadata(&path).unwrap().len() < 200_000,
        "a small file"
    );
    let err = kotae::ocr::Limits::default()
        .check(&std::fs::read(&path).unwrap())
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, OcrError::Refused(_)), "{msg}");
    assert!(
        msg.contains("30000×30000") && msg.contains("decompression bomb"),
        "{msg}"
    );

    if models().is_none() {
        return;
    }
    let o = kotae(&["ask", "--image", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("bomb.png") && stderr.contains("decompression bomb"),
        "{stderr}"
    );
}

#[tokio::test]
async fn the_service_refuses_a_bomb_without_starting_a_worker() {
    let Some(paths) = models() else { return };
    let ocr = service(&paths, OcrConfig::default());
    let bomb = std::fs::read(image("bomb.png")).unwrap();
    assert!(matches!(
        ocr.read(bomb, "u").await,
        Err(OcrError::Refused(_))
    ));
    let not_an_image = b"GIF89a....".to_vec();
    assert!(matches!(
        ocr.read(not_an_image, "u").await,
        Err(OcrError::Refused(_))
    ));
    let s = ocr.stats();
    assert_eq!((s.refused, s.worker_starts, s.ok), (2, 0, 0), "{s:?}");
}

/// `kill -9` on the worker while it reads (it is loading the models, which takes far longer
/// than finding its pid): that image fails with `WorkerDied`, the next one is read by a new
/// worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_image_is_replaced_and_the_next_image_is_answered() {
    let Some(paths) = models() else { return };
    let ocr = service(&paths, OcrConfig::default());
    let bytes = std::fs::read(image("session_timeout_light.png")).unwrap();
    let first = tokio::spawn({
        let ocr = ocr.clone();
        let bytes = bytes.clone();
        async move { ocr.read(bytes, "u1").await }
    });
    let pid = loop {
        if let Some(&pid) = ocr.worker_pids().first() {
            break pid;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let killed = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let err = first.await.unwrap().unwrap_err();
    assert!(matches!(err, OcrError::WorkerDied(_)), "{err}");
    assert!(err.to_string().contains("signal: 9"), "{err}");

    let text = ocr.read(bytes, "u1").await.expect("the next image is read");
    assert!(
        text.matcher_text().contains("セッションタイムアウト"),
        "{text:?}"
    );
    let s = ocr.stats();
    assert_eq!(
        (s.ok, s.failed, s.worker_deaths, s.worker_starts),
        (1, 1, 1, 2),
        "{s:?}"
    );
    assert_ne!(ocr.worker_pids(), vec![pid]);
}

/// The per-user cap, then the bounded queue: on a single-threaded runtime the worker task
/// cannot take a job while three are submitted, so the queue of one holds the first and the
/// other two are shed.
#[tokio::test]
async fn per_user_cap_and_a_full_queue_are_counted() {
    let Some(paths) = models() else { return };
    let config = OcrConfig {
        per_user_per_minute: 1,
        queue: 1,
        ..OcrConfig::default()
    };
    let ocr = service(&paths, config);
    let bytes = std::fs::read(image("mw1m01aj0004_small_q50.jpg")).unwrap();
    let (a, b, c) = tokio::join!(
        ocr.read(bytes.clone(), "a"),
        ocr.read(bytes.clone(), "b"),
        ocr.read(bytes.clone(), "c"),
    );
    assert!(a.is_ok(), "{a:?}");
    assert_eq!(
        (b.unwrap_err(), c.unwrap_err()),
        (OcrError::Shed, OcrError::Shed)
    );
    assert_eq!(
        ocr.read(bytes.clone(), "a").await.unwrap_err(),
        OcrError::RateLimited
    );
    let s = ocr.stats();
    assert_eq!(
        (s.ok, s.shed, s.rate_limited, s.refused),
        (1, 2, 1, 1),
        "{s:?}"
    );
}

/// A worker that never answers is stopped at the timeout, and the caller told so.
#[tokio::test]
async fn a_stuck_worker_times_out() {
    let Some(paths) = models() else { return };
    let config = OcrConfig {
        timeout_secs: 1,
        ..OcrConfig::default()
    };
    let stuck = WorkerCommand {
        program: PathBuf::from("sleep"),
        args: vec!["60".into()],
    };
    let ocr = OcrService::start(config, &paths, stuck).unwrap();
    let bytes = std::fs::read(image("mw1m01aj0004_small_q50.jpg")).unwrap();
    let started = std::time::Instant::now();
    assert_eq!(
        ocr.read(bytes, "u").await.unwrap_err(),
        OcrError::Timeout(1)
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let s = ocr.stats();
    assert_eq!((s.timeouts, s.failed), (1, 1), "{s:?}");
}

#[test]
fn without_the_runtime_ask_says_how_to_install_it() {
    let path = image("mw1m01aj0004_light.png");
    let o = Command::new(KOTAE)
        .args(["ask", "--image", path.to_str().unwrap()])
        .env("KOTAE_OCR_DIR", "/nonexistent/kotae-ocr")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("screenshots are off"), "{stderr}");
    assert!(stderr.contains(".ci/ocr-setup.sh"), "{stderr}");
    assert!(
        stderr.contains("/nonexistent/kotae-ocr/onnxruntime/libonnxruntime.so"),
        "{stderr}"
    );
}

/// A worker killed between images (the OOM killer, an operator) costs no image: the next one
/// goes to a new worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_while_idle_is_replaced_without_losing_an_image() {
    let Some(paths) = models() else { return };
    let ocr = service(&paths, OcrConfig::default());
    let bytes = std::fs::read(image("attempt_limit_small_q50.jpg")).unwrap();
    ocr.read(bytes.clone(), "u").await.expect("first image");
    let pid = ocr.worker_pids()[0];
    assert!(Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap()
        .success());
    tokio::time::sleep(Duration::from_millis(200)).await;
    ocr.read(bytes, "u").await.expect("second image");
    let s = ocr.stats();
    assert_eq!((s.ok, s.failed, s.worker_starts), (2, 0, 2), "{s:?}");
}

/// An idle worker is stopped (its memory freed) and a new one starts with the next image.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_worker_is_stopped_and_started_again_on_demand() {
    let Some(paths) = models() else { return };
    let config = OcrConfig {
        idle_secs: 1,
        ..OcrConfig::default()
    };
    let ocr = service(&paths, config);
    let bytes = std::fs::read(image("mw1m01aj0004_small_q50.jpg")).unwrap();
    ocr.read(bytes.clone(), "u").await.unwrap();
    let pid = ocr.worker_pids()[0];
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !ocr.worker_pids().is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "still running after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "the process is gone, not just forgotten"
    );
    ocr.read(bytes, "u").await.unwrap();
    assert_eq!(ocr.stats().worker_starts, 2);
}

/// `kotae shell`'s `/image PATH [TEXT]`: the screenshot answered as in a support channel (the
/// OCR worker started on the first image), then a typed line in the same session; an image
/// that cannot be read is one line and the session goes on.
#[test]
fn shell_image_answers_a_screenshot_and_the_session_goes_on() {
    if models().is_none() {
        return;
    }
    use std::io::Write;
    let path = image("mw1m01aj0004_dark.png");
    let mut child = Command::new(KOTAE)
        .arg("shell")
        .env_remove("KOTAE_KNOWLEDGE")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let input = format!(
        "/image {}\n/image /nonexistent/shot.png\nセッションタイムアウトが発生しました JAL Payでカード登録\n",
        path.display()
    );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    let out = succeeded(&o);
    let charge = out.find("jalpay-to-anapay-charge-20000").expect(&out);
    let unread = out
        .find("could not read /nonexistent/shot.png")
        .expect(&out);
    let timeout = out
        .find("jalpay-card-register-session-timeout")
        .expect(&out);
    assert!(charge < unread && unread < timeout, "{out}");
    assert!(
        out.contains("スクリーンショット"),
        "says it read a screenshot: {out}"
    );
}
