//! `kotae check` on broken fixtures: one per kind of error, asserting the message and line.

use std::process::Command;

use crate::{manifest_dir, run_kotae};

/// Runs `kotae check --knowledge <path>` from the fixtures folder; returns (exit code, stderr).
fn check(path: &str) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kotae"))
        .args(["check", "--knowledge", path])
        .current_dir(manifest_dir().join("tests/fixtures/check"))
        .env_remove("KOTAE_KNOWLEDGE")
        .output()
        .expect("kotae runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Asserts exit code 2 and a stderr line that starts with `prefix` and contains `needle`.
fn assert_problem(fixture: &str, prefix: &str, needle: &str) {
    let (code, stderr) = check(fixture);
    assert_eq!(code, 2, "{fixture}: exit code; stderr:\n{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.starts_with(prefix) && l.contains(needle)),
        "{fixture}: expected a line starting with {prefix:?} containing {needle:?}; got:\n{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn toml_syntax_error() {
    assert_problem(
        "syntax.toml",
        "syntax.toml:12:23: entry demo-a: ",
        "expected `,`",
    );
}

#[test]
fn unknown_key_is_an_error() {
    assert_problem(
        "unknown_key.toml",
        "unknown_key.toml:12:1: entry demo-a: ",
        "unknown field `pattern`, expected one of",
    );
}

#[test]
fn missing_required_field() {
    assert_problem(
        "missing_cause.toml",
        "missing_cause.toml:3:1: entry demo-a: ",
        "missing field `cause`",
    );
}

#[test]
fn malformed_table() {
    assert_problem(
        "bad_table.toml",
        "bad_table.toml:12:1: entry demo-a: ",
        "dotted key",
    );
}

#[test]
fn unsupported_format_version() {
    assert_problem(
        "format_version.toml",
        "format_version.toml:1:18: ",
        "format_version 2 is not supported",
    );
}

#[test]
fn duplicate_ids_in_one_file() {
    assert_problem(
        "duplicate_id.toml",
        "duplicate_id.toml:13:1: entry demo-a: ",
        "duplicate id: already used at duplicate_id.toml:3:1",
    );
}

#[test]
fn duplicate_ids_across_files() {
    let dir = tempfile::tempdir().unwrap();
    let body = std::fs::read_to_string(manifest_dir().join("tests/fixtures/check/http_url.toml"))
        .unwrap()
        .replace("http://", "https://");
    std::fs::write(dir.path().join("a.toml"), &body).unwrap();
    std::fs::write(
        dir.path().join("b.toml"),
        body.replace("DEMO0001", "DEMO0009"),
    )
    .unwrap();
    let (code, stderr) = check(dir.path().to_str().unwrap());
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("b.toml:3:1: entry demo-a: duplicate id: already used at"),
        "{stderr}"
    );
    assert!(stderr.contains("a.toml:3:1"), "{stderr}");
}

#[test]
fn regex_that_does_not_compile() {
    assert_problem(
        "bad_regex.toml",
        "bad_regex.toml:12:13: entry demo-a: ",
        "pattern `エラー(` does not compile",
    );
}

#[test]
fn regex_over_the_size_limit() {
    assert_problem(
        "regex_too_big.toml",
        "regex_too_big.toml:12:13: entry demo-a: ",
        "too large once compiled",
    );
}

#[test]
fn regex_with_white_space_can_never_match() {
    assert_problem(
        "regex_whitespace.toml",
        "regex_whitespace.toml:10:13: entry demo-a: ",
        "contains white space",
    );
}

#[test]
fn non_https_url() {
    assert_problem(
        "http_url.toml",
        "http_url.toml:15:7: entry demo-a: ",
        "is not https",
    );
}

#[test]
fn link_needs_url_or_where() {
    assert_problem(
        "link_without_url.toml",
        "link_without_url.toml:13:1: entry demo-a: ",
        "neither `url` nor `where`",
    );
}

#[test]
fn bad_id() {
    assert_problem(
        "bad_id.toml",
        "bad_id.toml:4:6: entry Demo_A: ",
        "lowercase letters and digits",
    );
}

#[test]
fn example_that_ranks_another_entry_first() {
    assert_problem(
        "example_not_first.toml",
        "example_not_first.toml:21:25: entry demo-b: ",
        "answers with entry demo-a instead",
    );
}

#[test]
fn example_with_no_answer() {
    assert_problem(
        "example_no_answer.toml",
        "example_no_answer.toml:11:13: entry demo-a: ",
        "gets no answer in auto mode",
    );
}

#[test]
fn counter_example_that_fires() {
    assert_problem(
        "counter_example_fires.toml",
        "counter_example_fires.toml:12:21: entry demo-a: ",
        "counter-example \"ゲームでタイムアウトした\" would get an auto-reply",
    );
}

#[test]
fn two_entries_whose_examples_collide() {
    assert_problem(
        "examples_collide.toml",
        "examples_collide.toml:23:25: entry demo-b: ",
        "is also an example of entry demo-a",
    );
}

#[test]
fn invalid_utf8_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sjis.toml");
    // "format_version = 1\n" then Shift_JIS bytes for エラー on line 2.
    let mut bytes = b"format_version = 1\n# ".to_vec();
    bytes.extend_from_slice(&[0x83, 0x47, 0x83, 0x89, 0x81, 0x5b]);
    std::fs::write(&path, bytes).unwrap();
    let (code, stderr) = check(path.to_str().unwrap());
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("sjis.toml:2:3: the file is not valid UTF-8"),
        "{stderr}"
    );
}

#[test]
fn missing_path_is_a_clear_error() {
    let (code, stderr) = check("no-such-dir");
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("kotae: cannot read knowledge at no-such-dir"),
        "{stderr}"
    );
}

#[test]
fn every_problem_is_reported_not_just_the_first() {
    let dir = tempfile::tempdir().unwrap();
    for f in ["bad_regex.toml", "http_url.toml", "bad_id.toml"] {
        std::fs::copy(
            manifest_dir().join("tests/fixtures/check").join(f),
            dir.path().join(f),
        )
        .unwrap();
    }
    let (code, stderr) = check(dir.path().to_str().unwrap());
    assert_eq!(code, 2);
    assert!(stderr.contains("does not compile"), "{stderr}");
    assert!(stderr.contains("is not https"), "{stderr}");
    assert!(stderr.contains("lowercase letters"), "{stderr}");
}

#[test]
fn shipped_pack_passes() {
    let knowledge = manifest_dir().join("knowledge");
    let out = run_kotae(&["check", "--knowledge", knowledge.to_str().unwrap()], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
