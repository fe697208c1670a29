//! The shipped knowledge pack: the required ids, every entry's examples as tests, and every
//! URL traceable to the source documents in ../shared.

use kotae::knowledge::Entry;
use kotae::Mode;
use kotae::Pack;

use crate::manifest_dir;

fn pack() -> Pack {
    Pack::load(&manifest_dir().join("knowledge")).expect("shipped pack loads")
}

const REQUIRED_IDS: &[&str] = &[
    "jalpay-to-anapay-charge-20000",
    "jalpay-renewal-activation-notice",
    "jalpay-quicpay-after-renewal",
    "jalpay-card-register-session-timeout",
    "jalpay-card-register-attempt-limit",
    "3ds2-auth-failed",
    "3ds2-registration",
    "3ds2-one-time-password",
    "3ds2-what-is",
    "anapay-card-register-failed",
    "anapay-charge-limits",
];

#[test]
fn the_pack_has_exactly_the_required_ids() {
    let pack = pack();
    let mut ids: Vec<&str> = pack.entries().iter().map(|e| e.id.as_str()).collect();
    ids.sort_unstable();
    let mut want = REQUIRED_IDS.to_vec();
    want.sort_unstable();
    assert_eq!(ids, want);
}

#[test]
fn builtin_pack_is_the_shipped_folder() {
    let builtin = kotae::builtin_pack().unwrap();
    let shipped = pack();
    let a: Vec<_> = builtin
        .entries()
        .iter()
        .map(|e| (&e.id, &e.cause.ja))
        .collect();
    let b: Vec<_> = shipped
        .entries()
        .iter()
        .map(|e| (&e.id, &e.cause.ja))
        .collect();
    assert_eq!(a, b);
}

/// Runs one entry's examples, queries and counter-examples and returns what failed.
fn run_entry(pack: &Pack, id: &str) -> Vec<String> {
    let e: &Entry = pack
        .entry(id)
        .unwrap_or_else(|| panic!("entry {id} exists"));
    let mut failures = Vec::new();
    assert!(!e.examples.is_empty(), "{id} has examples");
    for ex in &e.examples {
        let out = pack.query(ex, Mode::Auto);
        match out.answer() {
            Some(m) if m.id == id => {}
            other => failures.push(format!("example {ex:?} -> {:?}", other.map(|m| &m.id))),
        }
        let top = pack.query(ex, Mode::Lookup);
        if top.matches.first().map(|m| m.id.as_str()) != Some(id) {
            failures.push(format!("example {ex:?} is not first in lookup mode"));
        }
    }
    for q in &e.queries {
        let out = pack.query(q, Mode::Lookup);
        if out.matches.first().map(|m| m.id.as_str()) != Some(id) {
            failures.push(format!(
                "query {q:?} -> {:?}",
                out.matches.first().map(|m| &m.id)
            ));
        }
    }
    for ce in &e.counter_examples {
        let out = pack.query(ce, Mode::Auto);
        if out.answer().is_some_and(|m| m.id == id) {
            failures.push(format!("counter-example {ce:?} fires"));
        }
    }
    failures
}

macro_rules! entry_tests {
    ($($name:ident => $id:literal,)*) => {
        $(
            #[test]
            fn $name() {
                let failures = run_entry(&pack(), $id);
                assert!(failures.is_empty(), "{}:\n{}", $id, failures.join("\n"));
            }
        )*
        #[test]
        fn every_entry_has_an_examples_test() {
            let covered = [$($id),*];
            for e in pack().entries() {
                assert!(covered.contains(&e.id.as_str()), "add {} to entry_tests!", e.id);
            }
        }
    };
}

entry_tests! {
    examples_jalpay_to_anapay_charge_20000 => "jalpay-to-anapay-charge-20000",
    examples_jalpay_renewal_activation_notice => "jalpay-renewal-activation-notice",
    examples_jalpay_quicpay_after_renewal => "jalpay-quicpay-after-renewal",
    examples_jalpay_card_register_session_timeout => "jalpay-card-register-session-timeout",
    examples_jalpay_card_register_attempt_limit => "jalpay-card-register-attempt-limit",
    examples_3ds2_auth_failed => "3ds2-auth-failed",
    examples_3ds2_registration => "3ds2-registration",
    examples_3ds2_one_time_password => "3ds2-one-time-password",
    examples_3ds2_what_is => "3ds2-what-is",
    examples_anapay_card_register_failed => "anapay-card-register-failed",
    examples_anapay_charge_limits => "anapay-charge-limits",
}

/// Every URL in the pack (entry links and the issuer table's pages) must appear, character
/// for character, in the source documents.
#[test]
fn every_url_comes_from_the_sources() {
    let shared = manifest_dir().join("../shared");
    let mut corpus = String::new();
    for dir in ["seeds", "facts"] {
        for f in std::fs::read_dir(shared.join(dir)).expect("../shared/seeds and facts exist") {
            corpus.push_str(&std::fs::read_to_string(f.unwrap().path()).unwrap());
        }
    }
    let pack = pack();
    let issuer_pages = pack
        .issuers()
        .iter()
        .filter_map(|i| Some((format!("issuer {}", i.id), i.page.as_ref()?)));
    let entry_links = pack
        .entries()
        .iter()
        .flat_map(|e| e.links.iter().map(|l| (e.id.clone(), l)));
    let mut issuer_urls = 0;
    for (owner, l) in issuer_pages.chain(entry_links) {
        match &l.url {
            Some(url) => {
                assert!(
                    corpus.contains(url.as_str()),
                    "{owner}: {url} is not in ../shared"
                );
                issuer_urls += usize::from(owner.starts_with("issuer "));
            }
            None => assert!(
                l.where_.is_some(),
                "{owner}: link without url must say where"
            ),
        }
    }
    assert_eq!(
        issuer_urls, 24,
        "the 19 card companies and 5 brands of the source have a page"
    );
}

/// The issuer table holds the ids the corpus and `--json` use, and only JAL Pay (which the
/// source does not list) has no page.
#[test]
fn the_issuer_table_has_the_agreed_ids() {
    let pack = pack();
    let ids: Vec<&str> = pack.issuers().iter().map(|i| i.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "jal-pay",
            "au-pay-card",
            "paypay-card",
            "ts-cubic",
            "uc-card",
            "d-card",
            "aplus",
            "aeon-card",
            "epos-card",
            "mi-card",
            "orico",
            "jaccs",
            "saison",
            "seven-card",
            "softbank-card",
            "view-card",
            "lexus-card",
            "smbc-card",
            "mufg-nicos",
            "rakuten-card",
            "visa",
            "mastercard",
            "jcb",
            "amex",
            "diners",
        ]
    );
    for i in pack.issuers() {
        assert_eq!(i.page.is_none(), i.id == "jal-pay", "{}", i.id);
        assert!(i.name.en.is_some(), "{} has an English name", i.id);
    }
}

/// Every entry answers a lookup and points somewhere official: a URL or a page's title.
#[test]
fn every_entry_has_queries_and_an_official_link_or_page_title() {
    for e in pack().entries() {
        assert!(!e.queries.is_empty(), "{} has queries", e.id);
        assert!(
            !e.counter_examples.is_empty(),
            "{} has counter-examples",
            e.id
        );
        assert!(
            e.links
                .iter()
                .any(|l| l.url.is_some() || l.where_.is_some())
                || e.card_pages != kotae::knowledge::CardPages::None,
            "{} has an official link or page title",
            e.id
        );
    }
}

/// Steps are in the polite imperative (〜してください), as cause and notes are.
#[test]
fn steps_are_polite_requests() {
    let pack = pack();
    let variants = pack
        .entries()
        .iter()
        .filter_map(|e| Some((&e.id, &e.card_rule.as_ref()?.other.steps)));
    for (id, steps) in pack
        .entries()
        .iter()
        .map(|e| (&e.id, &e.steps))
        .chain(variants)
    {
        for s in steps {
            assert!(
                s.ja.contains("ください"),
                "{id}: step is not a polite request: {}",
                s.ja
            );
        }
    }
}

#[test]
fn every_card_company_in_the_source_has_a_link_and_answers_a_lookup() {
    let pack = pack();
    for company in [
        "au PAY カード",
        "PayPay カード",
        "TS CUBIC",
        "UC カード",
        "d カード",
        "アプラス",
        "イオンカード",
        "エポスカード",
        "エムアイカード",
        "オリコカード",
        "ジャックス",
        "セゾンカード",
        "セブンカード",
        "ソフトバンクカード",
        "ビューカード",
        "レクサスカード",
        "三井住友カード",
        "三菱 UFJ ニコス",
        "楽天カード",
    ] {
        let out = pack.query(&format!("{company} 3Dセキュア"), Mode::Lookup);
        let top = out
            .matches
            .first()
            .unwrap_or_else(|| panic!("{company}: no match"));
        assert_eq!(top.id, "3ds2-registration", "{company}");
        let answer = kotae::reply::Answer::build(&pack, &out, 0, kotae::Lang::Ja).unwrap();
        assert!(answer.links[0].highlighted, "{company}: its link is first");
        assert_eq!(
            answer.links[0].title, company,
            "{company}: the first link is its own"
        );
        assert!(answer.links[0]
            .url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://")));
    }
}

#[test]
fn english_falls_back_to_japanese_only_where_missing() {
    let pack = pack();
    for e in pack.entries() {
        assert!(e.title.en.is_some(), "{} has an English title", e.id);
        assert_eq!(e.title.get(kotae::Lang::Ja), e.title.ja);
    }
}

/// Loads `path` on a thread of its own, so a read that never ends fails the test instead of
/// hanging it.
fn load_within(path: &std::path::Path, limit: std::time::Duration) -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    let p = path.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(Pack::load(&p).map(|_| ()).map_err(|e| e.to_string()));
    });
    match rx.recv_timeout(limit) {
        Ok(Err(e)) => e,
        Ok(Ok(())) => panic!("{} loaded as knowledge", path.display()),
        Err(_) => panic!("loading {} did not end within {limit:?}", path.display()),
    }
}

#[test]
fn a_fifo_or_a_device_is_refused_by_name_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pack.toml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let limit = std::time::Duration::from_secs(10);
    for path in [fifo.as_path(), std::path::Path::new("/dev/zero")] {
        let e = load_within(path, limit);
        assert!(
            e.contains(&path.display().to_string()) && e.contains("not a regular file"),
            "{e}"
        );
    }
}

#[test]
fn the_codes_echoed_as_unverified_are_capped() {
    let pack = pack();
    let codes: Vec<String> = (0..40)
        .map(|i| format!("MW1M01AJ{:04}", 9000 + i))
        .collect();
    let out = pack.query(&codes.join(" "), Mode::Lookup);
    let answer = kotae::reply::Answer::build(&pack, &out, 0, kotae::Lang::Ja).unwrap();
    let unverified = answer.unverified.expect("family codes only: unverified");
    let echoed = codes.iter().filter(|c| unverified.contains(*c)).count();
    assert!(
        (1..=kotae::reply::MAX_UNVERIFIED_CODES).contains(&echoed),
        "{echoed} codes echoed: {unverified}"
    );
    assert!(unverified.len() < 400, "{unverified}");
}
