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
        "syntax.toml:13:23: entry demo-a: ",
        "expected `,`",
    );
}

#[test]
fn unknown_key_is_an_error() {
    assert_problem(
        "unknown_key.toml",
        "unknown_key.toml:13:1: entry demo-a: ",
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
        "bad_table.toml:13:1: entry demo-a: ",
        "dotted key",
    );
}

#[test]
fn unsupported_format_version() {
    assert_problem(
        "format_version.toml",
        "format_version.toml:1:18: ",
        "format_version 3 is not supported",
    );
}

#[test]
fn an_old_format_version_is_explained() {
    // A version-1 file (with `verified`) is refused with what changed, not with a parse error
    // about the first key that changed.
    assert_problem(
        "old_format.toml",
        "old_format.toml:1:18: ",
        "format_version 1 is not supported by this kotae (it reads 2); in version 2 `verified` became two keys: `reported`",
    );
    let (_, stderr) = check("old_format.toml");
    assert!(stderr.contains("`[[issuer]]` table"), "{stderr}");
    assert!(!stderr.contains("unknown field"), "{stderr}");
}

/// Writes `text` as the only file of a temporary pack and runs `kotae check` on it.
fn check_text(text: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.toml");
    std::fs::write(&path, text).unwrap();
    check(path.to_str().unwrap())
}

const ENTRY: &str = r#"
[[entry]]
id = "demo-a"
services = ["demo"]
title = { ja = "タイトル" }
cause = { ja = "原因" }
reported = "undated"
checked = 2026-11-29
sources = ["test fixture"]
codes = ["DEMO0001"]
examples = ["DEMO0001"]
"#;

#[test]
fn verified_in_a_version_2_file_names_its_replacement() {
    let (code, stderr) = check_text(&format!(
        "format_version = 2\n{}",
        ENTRY.replace("reported = \"undated\"\n", "verified = 2025-12-28\n")
    ));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("unknown field `verified`") && stderr.contains("replaced it by `reported`"),
        "{stderr}"
    );
}

#[test]
fn reported_is_a_date_or_undated() {
    let (code, stderr) = check_text(&format!(
        "format_version = 2\n{}",
        ENTRY.replace("\"undated\"", "\"last year\"")
    ));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("k.toml:8:12: entry demo-a: `reported` must be the source's own date"),
        "{stderr}"
    );
}

#[test]
fn issuer_table_problems_are_reported() {
    let table = r#"format_version = 2

[[issuer]]
id = "uc-card"
kind = "issuer"
name = { ja = "UC カード" }
aliases = ["UC", "ユーシーカード"]

[[issuer]]
id = "other-card"
kind = "company"
name = { ja = "別" }
aliases = ["ユーシーカード"]
page = { title = { ja = "別" }, url = "http://example.com/3d" }
"#;
    let rule = r#"
card_pages = "some"
[entry.card_rule]
cards = ["no-such-card"]
[entry.card_rule.other]
cause = { ja = "別の原因" }
steps = []
"#;
    let (code, stderr) = check_text(&format!("{table}{ENTRY}{rule}"));
    assert_eq!(code, 2, "{stderr}");
    for needle in [
        "k.toml:7:12: issuer uc-card: alias `UC` is too short to name a card on its own",
        "k.toml:11:8: issuer other-card: kind = \"company\" is not \"issuer\"",
        "issuer other-card: alias `ユーシーカード` also names issuer uc-card",
        "issuer other-card: link `http://example.com/3d` is not https",
        "entry demo-a: card_pages = \"some\" is not one of",
        "entry demo-a: card_rule names `no-such-card`, which is not an id in the [[issuer]] table",
    ] {
        assert!(stderr.contains(needle), "{needle}\n{stderr}");
    }
}

#[test]
fn the_card_keyword_needs_an_issuer_table() {
    let (code, stderr) = check_text(&format!(
        "format_version = 2\n{}keywords = [\"デモ\", \"@card\"]\n",
        ENTRY
    ));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("uses the card table") && stderr.contains("no [[issuer]] table"),
        "{stderr}"
    );
}

#[test]
fn an_unknown_shared_keyword_is_named() {
    let (code, stderr) = check_text(&format!(
        "format_version = 2\n{}keywords = [\"デモ\", \"@failures\"]\n",
        ENTRY
    ));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("unknown shared keyword `@failures`") && stderr.contains("`@failure`"),
        "{stderr}"
    );
}

#[test]
fn prefer_over_names_an_entry_of_the_pack() {
    let (code, stderr) = check_text(&format!(
        "format_version = 2\n{}prefer_over = [\"no-such-entry\"]\n",
        ENTRY
    ));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("prefer_over names `no-such-entry`, which is not the id of an entry"),
        "{stderr}"
    );
}

#[test]
fn an_amount_keyword_needs_a_number() {
    let (code, stderr) = check_text(&format!(
        "format_version = 2\n{}keywords = [\"デモ\", \"@over:2万\"]\n",
        ENTRY
    ));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("unknown shared keyword `@over:2万`") && stderr.contains("@over:20000"),
        "{stderr}"
    );
}

/// A `!` group must be among those found: without it, the other groups are not enough.
#[test]
fn a_required_keyword_group_must_be_found() {
    use kotae::{Mode, Pack};
    let text = format!(
        "format_version = 2\n{}keywords = [\"!タイムアウト\", \"デモ\", \"アプリ\"]\nmin_keywords = 2\n",
        ENTRY
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.toml");
    std::fs::write(&path, text).unwrap();
    let pack = Pack::load(&path).unwrap();
    let answers = |t: &str| pack.query(t, Mode::Auto).answer().map(|m| m.id.clone());
    assert_eq!(
        answers("デモのアプリでエラー"),
        None,
        "two groups, but not the required one"
    );
    assert_eq!(
        answers("デモでタイムアウトのエラー").as_deref(),
        Some("demo-a")
    );
}

#[test]
fn duplicate_ids_in_one_file() {
    assert_problem(
        "duplicate_id.toml",
        "duplicate_id.toml:14:1: entry demo-a: ",
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
        "bad_regex.toml:13:13: entry demo-a: ",
        "pattern `エラー(` does not compile",
    );
}

#[test]
fn regex_over_the_size_limit() {
    assert_problem(
        "regex_too_big.toml",
        "regex_too_big.toml:13:13: entry demo-a: ",
        "too large once compiled",
    );
}

#[test]
fn regex_with_white_space_can_never_match() {
    assert_problem(
        "regex_whitespace.toml",
        "regex_whitespace.toml:11:13: entry demo-a: ",
        "contains white space",
    );
}

#[test]
fn non_https_url() {
    assert_problem(
        "http_url.toml",
        "http_url.toml:16:7: entry demo-a: ",
        "is not https",
    );
}

#[test]
fn link_needs_url_or_where() {
    assert_problem(
        "link_without_url.toml",
        "link_without_url.toml:14:1: entry demo-a: ",
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
        "example_not_first.toml:23:25: entry demo-b: ",
        "answers with entry demo-a instead",
    );
}

#[test]
fn example_with_no_answer() {
    assert_problem(
        "example_no_answer.toml",
        "example_no_answer.toml:12:13: entry demo-a: ",
        "gets no answer in auto mode",
    );
}

#[test]
fn counter_example_that_fires() {
    assert_problem(
        "counter_example_fires.toml",
        "counter_example_fires.toml:13:21: entry demo-a: ",
        "counter-example \"ゲームでタイムアウトした\" would get an auto-reply",
    );
}

#[test]
fn two_entries_whose_examples_collide() {
    assert_problem(
        "examples_collide.toml",
        "examples_collide.toml:25:25: entry demo-b: ",
        "is also an example of entry demo-a",
    );
}

#[test]
fn invalid_utf8_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sjis.toml");
    // "format_version = 2\n" then Shift_JIS bytes for エラー on line 2.
    let mut bytes = b"format_version = 2\n# ".to_vec();
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
