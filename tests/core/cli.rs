//! The `kotae` binary as a user runs it: output, JSON shape, stdin, exit codes, the shell.

use std::process::Output;

use crate::{manifest_dir, run_kotae};

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn ask_prints_the_answer_with_cause_steps_and_links() {
    let o = run_kotae(
        &["ask", "本人認証に不正が検知しました。(MW1M01AJ0004)"],
        None,
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("2025年4月30日"), "{out}");
    assert!(out.contains("  1. "), "numbered steps: {out}");
    assert!(out.contains("https://www.jal.co.jp/jp/ja/jmb/jalpay/pay/notice/20250430_charge"));
    assert!(out.contains("jalpay-to-anapay-charge-20000"));
}

#[test]
fn ask_in_english() {
    let o = run_kotae(&["ask", "--lang", "en", "MW1M01AJ0004"], None);
    assert!(
        stdout(&o).contains("Since 2025-04-30 JAL Pay"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn json_has_the_documented_shape() {
    let o = run_kotae(
        &[
            "ask",
            "--json",
            "JAL Payから1万円チャージしたら MW1M01AJ0004",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON object");
    assert_eq!(v["reply"], serde_json::Value::Bool(true));
    let first = &v["matches"][0];
    assert_eq!(first["id"], "jalpay-to-anapay-charge-20000");
    assert!(first["title"].as_str().unwrap().contains("MW1M01AJ0004"));
    assert!(first["score"].is_number());
    assert!(first["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e == "code MW1M01AJ0004"));
    assert_eq!(v["facts"]["amount_jpy"], 10000);
    assert_eq!(v["facts"]["card"], "jal-pay");

    let o = run_kotae(
        &[
            "ask",
            "--json",
            "楽天カードでANA Payに残高3万あるのに1万チャージしたら MW1M01AJ0004",
        ],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("one JSON object");
    assert_eq!(
        v["facts"],
        serde_json::json!({"amount_jpy": 10000, "card": "rakuten-card"})
    );
}

#[test]
fn json_facts_are_empty_when_nothing_is_found() {
    let o = run_kotae(&["ask", "--json", "--mode", "auto", "おはよう"], None);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["reply"], false);
    assert_eq!(v["matches"], serde_json::json!([]));
    assert_eq!(v["facts"], serde_json::json!({}));
}

/// A message that names the error but is not a problem report: the match is listed, the
/// reply is not given, and `judgement` says why (issue 12).
#[test]
fn json_says_why_a_matched_message_gets_no_reply() {
    let o = run_kotae(
        &[
            "ask",
            "--json",
            "--mode",
            "auto",
            "MW1M01AJ0004出てたけど2万1千円にしたら通りました！",
        ],
        None,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["reply"], false);
    assert_eq!(v["matches"][0]["id"], "jalpay-to-anapay-charge-20000");
    assert_eq!(v["judgement"]["not_a_report"], "resolved");
    assert_eq!(v["judgement"]["cue"], "通りました");
    assert!(
        v["judgement"]["why"].as_str().unwrap().contains("solved"),
        "{v}"
    );
    let o = run_kotae(
        &["ask", "--mode", "auto", "MW1M01AJ0004は出てないです"],
        None,
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("not a problem report: it says the error did not happen"),
        "{}",
        stderr(&o)
    );
    // A report has no judgement.
    let o = run_kotae(
        &["ask", "--json", "--mode", "auto", "MW1M01AJ0004 が出ました"],
        None,
    );
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["reply"], true);
    assert!(v.get("judgement").is_none(), "{v}");
}

/// `kotae eval --json | head -c 10`: the reader leaves early; kotae must not panic.
#[test]
fn a_reader_that_leaves_early_is_no_panic() {
    use std::io::Read;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kotae"))
        // The corpus twice: more output than a pipe holds, so kotae is still writing.
        .args(["eval", "--json", "--show-holdout", "--cases"])
        .arg(manifest_dir().join("tests/corpus"))
        .arg(manifest_dir().join("tests/corpus"))
        .env_remove("KOTAE_KNOWLEDGE")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 10];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("panicked") && !err.contains("Broken pipe"),
        "{err}"
    );
}

#[test]
fn text_from_stdin() {
    for args in [&["ask"][..], &["ask", "-"][..]] {
        let o = run_kotae(
            args,
            Some("セッションタイムアウトが発生しました。".as_bytes()),
        );
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(stdout(&o).contains("jalpay-card-register-session-timeout"));
    }
}

#[test]
fn auto_mode_silence_exits_1() {
    let o = run_kotae(&["ask", "--mode", "auto", "今日はいい天気"], None);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).is_empty());
    assert!(stderr(&o).contains("stay silent"));
}

#[test]
fn lookup_with_no_candidate_exits_1() {
    let o = run_kotae(&["ask", "zzzz"], None);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn invalid_utf8_on_stdin_is_a_clear_error() {
    let o = run_kotae(&["ask"], Some(&[0x83, 0x47, 0x83, 0x89, 0x81, 0x5b]));
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.starts_with("kotae: standard input is not valid UTF-8 (bad byte at offset 0)"),
        "{err}"
    );
    assert!(!err.contains("panicked"));
}

#[test]
fn a_five_megabyte_paste_is_answered_from_its_start() {
    let mut text = b"MW1M01AJ0004\n".to_vec();
    text.extend(std::iter::repeat_n(b'a', 5 * 1024 * 1024));
    let o = run_kotae(&["ask", "--mode", "auto"], Some(&text));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("only the first 65536 bytes"));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(
        run_kotae(&["ask", "--mode", "loud", "x"], None)
            .status
            .code(),
        Some(2)
    );
    assert_eq!(run_kotae(&["frobnicate"], None).status.code(), Some(2));
}

#[test]
fn knowledge_errors_exit_2_without_a_backtrace() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("x.toml"),
        "format_version = 2\n[[entry]]\nid = 3\n",
    )
    .unwrap();
    let o = run_kotae(
        &["ask", "--knowledge", dir.path().to_str().unwrap(), "x"],
        None,
    );
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("x.toml:3:6: invalid type"), "{err}");
    assert!(
        !err.contains("backtrace") && !err.contains("panicked"),
        "{err}"
    );
}

#[test]
fn shell_answers_like_a_support_channel() {
    let session = "おはよう\nMW1M01AJ0004\n/lookup 楽天カード 3Dセキュア\n/list\n/lang en\nJAL Payでｾｯｼｮﾝﾀｲﾑｱｳﾄが発生しました\n/quit\nMW1M01AJ0004\n";
    let o = run_kotae(&["shell"], Some(session.as_bytes()));
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("kotae stays silent"), "{out}");
    assert!(out.contains("id: jalpay-to-anapay-charge-20000"), "{out}");
    assert!(out.contains("★ 楽天カード"), "{out}");
    assert!(out.contains("3ds2-one-time-password"), "/list: {out}");
    assert!(
        out.contains("Cause: As the message says, the session may have expired"),
        "/lang en: {out}"
    );
    assert_eq!(
        out.matches("id: jalpay-to-anapay-charge-20000").count(),
        1,
        "/quit stops: {out}"
    );
}

#[test]
fn shell_cooldown_and_bad_lines() {
    let mut session = b"MW1M01AJ0004\nMW1M01AJ0004\n".to_vec();
    session.extend_from_slice(&[0xff, b'\n']);
    session.extend_from_slice("/nope\n".as_bytes());
    let o = run_kotae(&["shell", "--cooldown", "600"], Some(&session));
    let out = stdout(&o);
    assert_eq!(
        out.matches("id: jalpay-to-anapay-charge-20000").count(),
        1,
        "{out}"
    );
    assert!(out.contains("🔁"), "{out}");
    assert!(out.contains("not valid UTF-8"), "{out}");
    assert!(out.contains("unknown command /nope"), "{out}");
}

/// `kotae train` writes a model the pack loads (into a knowledge folder of its own here), and
/// refuses holdout cases by name.
#[test]
fn train_writes_a_loadable_model_and_refuses_the_holdout() {
    let dir = tempfile::tempdir().unwrap();
    let dev = dir.path().join("dev");
    std::fs::create_dir(&dev).unwrap();
    let mut cases = String::new();
    for (text, expect) in [
        (
            "JAL Payのカード登録でセッションタイムアウトが出て進めない",
            "jalpay-card-register-session-timeout",
        ),
        (
            "ANA Payにカード登録できない、エラーになる",
            "anapay-card-register-failed",
        ),
        ("昨日の件、無事に登録できました！ありがとう", "silent"),
        ("今日はいい天気ですね、散歩してきます", "silent"),
    ] {
        cases.push_str(&format!(
            "[[case]]\ntext = \"{text}\"\nmode = \"auto\"\nexpect = \"{expect}\"\nkind = \"t\"\nwhy = \"t\"\n\n"
        ));
    }
    std::fs::write(dev.join("c.toml"), &cases).unwrap();
    let knowledge = dir.path().join("knowledge");
    std::fs::create_dir(&knowledge).unwrap();
    crate::copy_entries(&knowledge);
    let out = knowledge.join("chatter-model.tsv");
    let dev_s = dev.to_str().unwrap();
    let out_s = out.to_str().unwrap();
    let o = run_kotae(&["train", "--cases", dev_s, "--out", out_s], None);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("from "), "{}", stdout(&o));
    let pack = kotae::Pack::load(&knowledge).unwrap();
    assert!(pack.chatter().is_some_and(|m| !m.is_empty()));

    let holdout = dir.path().join("holdout");
    std::fs::create_dir(&holdout).unwrap();
    std::fs::write(holdout.join("c.toml"), &cases).unwrap();
    let before = std::fs::read(&out).unwrap();
    let o = run_kotae(
        &[
            "train",
            "--cases",
            holdout.to_str().unwrap(),
            "--out",
            out_s,
        ],
        None,
    );
    assert_ne!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("holdout"), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(&out).unwrap(),
        before,
        "the model is left as it was"
    );
}

/// `/image` in a shell whose OCR runtime is missing says how to install it, and the session
/// goes on; without a path it says how to use it.
#[test]
fn shell_image_without_the_runtime_says_why_and_goes_on() {
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_kotae"))
        .args(["shell", "--ocr-dir", "/nonexistent/kotae-ocr"])
        .env_remove("KOTAE_KNOWLEDGE")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            let shot = manifest_dir().join("tests/ocr/images/mw1m01aj0004_dark.png");
            let input = format!(
                "/image\n/image {}\n/help\nセッションタイムアウトが発生しました JAL Payでカード登録\n",
                shot.display()
            );
            c.stdin.take().unwrap().write_all(input.as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    assert!(out.contains("usage: /image PATH"), "{out}");
    assert!(
        out.contains("could not read") && out.contains(".ci/ocr-setup.sh"),
        "{out}"
    );
    assert!(out.contains("/image PATH [TEXT]"), "help lists it: {out}");
    assert!(
        out.contains("jalpay-card-register-session-timeout"),
        "{out}"
    );
}
