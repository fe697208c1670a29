//! What `kotae ask` prints for the corrections of issue 11, in Japanese and English: each
//! claim as strong as its source, and the answer that fits the card and amount named.

use crate::run_kotae;

/// `kotae ask` (lookup mode) in `lang`; the whole output, which must be an answer.
fn ask(lang: &str, text: &str) -> String {
    let o = run_kotae(&["ask", "--lang", lang, text], None);
    let out = String::from_utf8(o.stdout).unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{text}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    out
}

/// The lines of one section: from the line starting with `label` to the next blank line.
fn section<'a>(out: &'a str, label: &str) -> Vec<&'a str> {
    let mut lines = out.lines().skip_while(|l| !l.starts_with(label));
    let first = lines
        .next()
        .unwrap_or_else(|| panic!("no {label:?} in:\n{out}"));
    std::iter::once(first)
        .chain(lines.take_while(|l| !l.trim().is_empty()))
        .collect()
}

/// The numbered steps, without their numbers.
fn steps(out: &str, label: &str) -> Vec<String> {
    section(out, label)
        .iter()
        .skip(1)
        .filter_map(|l| l.trim().split_once(". ").map(|(_, s)| s.to_string()))
        .collect()
}

/// The first official link's line.
fn first_link(out: &str, label: &str) -> String {
    section(out, label)[1].trim().to_string()
}

/// Position of `needle` in `hay`, which must contain it.
fn at(hay: &str, needle: &str) -> usize {
    hay.find(needle)
        .unwrap_or_else(|| panic!("{needle:?} not in:\n{hay}"))
}

const CHARGE_ID: &str = "id: jalpay-to-anapay-charge-20000";

#[test]
fn another_card_company_gets_the_general_advice_first_and_its_page() {
    let text = "楽天カードからANA Payに1万円チャージしたら MW1M01AJ0004";
    let ja = ask("ja", text);
    assert!(ja.contains(CHARGE_ID), "{ja}");
    let cause = section(&ja, "原因:").join("\n");
    assert!(cause.contains("カード会社に問い合わせる"), "{cause}");
    assert!(
        at(&cause, "原因はいくつかあります") < at(&cause, "JAL Pay からチャージしている場合だけ"),
        "{cause}"
    );
    assert!(!cause.contains("2025年4月30日"), "{cause}");
    let s = steps(&ja, "対処方法:");
    assert!(s[0].starts_with("しばらく時間をおいてから"), "{s:?}");
    assert!(s.iter().any(|x| x.contains("別のカード")), "{s:?}");
    assert!(
        s.last()
            .unwrap()
            .starts_with("JAL Pay からチャージしている場合は"),
        "{s:?}"
    );
    assert_eq!(first_link(&ja, "公式の案内:"), "- ★ 楽天カード");
    assert!(section(&ja, "カード:")[0].ends_with("楽天カード"), "{ja}");
    assert!(
        !ja.contains("金額:"),
        "the JAL Pay amount rule is not applied: {ja}"
    );

    let en = ask("en", text);
    let cause = section(&en, "Cause:").join("\n");
    assert!(
        cause.starts_with("Cause: ANA Pay's FAQ says this error comes from the credit card"),
        "{cause}"
    );
    assert!(cause.contains("only when charging from JAL Pay"), "{cause}");
    assert!(
        steps(&en, "What to do:")[0].starts_with("Wait a while"),
        "{en}"
    );
    assert_eq!(first_link(&en, "Official pages:"), "- ★ Rakuten card");
    assert!(!en.contains("Amount:"), "{en}");
}

#[test]
fn a_brand_without_jal_pay_gets_the_general_advice_with_jal_pay_the_jal_pay_answer() {
    for (lang, text) in [
        ("ja", "VisaのカードでANA Payにチャージしたら MW1M01AJ0004"),
        (
            "en",
            "Charging ANA Pay with my Visa card fails with MW1M01AJ0004",
        ),
    ] {
        let out = ask(lang, text);
        assert!(out.contains(CHARGE_ID), "{out}");
        let first = steps(
            &out,
            if lang == "ja" {
                "対処方法:"
            } else {
                "What to do:"
            },
        );
        assert!(
            first[0].starts_with("しばらく時間") || first[0].starts_with("Wait a while"),
            "{lang}: {out}"
        );
        assert!(out.contains("★ Visa"), "{lang}: the brand's page: {out}");
    }
    // The JAL Pay card is itself a Mastercard: naming both keeps the JAL Pay answer.
    let ja = ask(
        "ja",
        "JAL PayのMastercardでANA Payに1万円チャージしたら MW1M01AJ0004",
    );
    assert!(
        section(&ja, "原因:")[0].contains("そのひとつが JAL Pay の金額条件"),
        "{ja}"
    );
    assert!(ja.contains("金額: 10,000円は20,000円以下です。"), "{ja}");
    assert!(section(&ja, "カード:")[0].ends_with("JAL Pay"), "{ja}");
}

#[test]
fn without_a_card_the_jal_pay_cause_is_one_of_several() {
    let ja = ask("ja", "本人認証に不正が検知しました。(MW1M01AJ0004)");
    let cause = section(&ja, "原因:")[0];
    assert!(
        cause.starts_with(
            "原因: このエラーの原因はいくつかあり、そのひとつが JAL Pay の金額条件です。"
        ),
        "{cause}"
    );
    let en = ask("en", "MW1M01AJ0004");
    let cause = section(&en, "Cause:")[0];
    assert!(
        cause.starts_with(
            "Cause: This error has several causes; one of them is a JAL Pay amount rule."
        ),
        "{cause}"
    );
}

#[test]
fn the_faq_note_says_what_the_report_says_and_no_more() {
    let ja = ask("ja", "MW1M01AJ0004");
    let notes = section(&ja, "補足:").join("\n");
    assert!(notes.contains("解決に時間がかかります"), "{notes}");
    assert!(
        notes.contains("数時間おいても金額を変えない限りエラーが続き"),
        "{notes}"
    );
    assert!(
        !notes.contains("問い合わせたりしても解決しません"),
        "{notes}"
    );
    let en = ask("en", "MW1M01AJ0004");
    let notes = section(&en, "Notes:").join("\n");
    assert!(notes.contains("takes longer to fix it"), "{notes}");
    assert!(
        !notes.contains("waiting or calling does not fix it"),
        "{notes}"
    );
}

#[test]
fn the_boundary_note_tells_the_official_notice_from_the_users_tests() {
    let ja = ask("ja", "MW1M01AJ0004");
    let notes = section(&ja, "補足:").join("\n");
    assert!(
        notes.contains("JAL Pay の公式のお知らせ（2025年4月30日）によるものです")
            && notes.contains("利用者の検証（2025年12月時点）で分かったこと"),
        "{notes}"
    );
    let en = ask("en", "MW1M01AJ0004");
    let notes = section(&en, "Notes:").join("\n");
    assert!(
        notes.contains("is JAL Pay's official notice (2025-04-30)")
            && notes.contains("is known only from a user's tests"),
        "{notes}"
    );
}

#[test]
fn the_code_may_be_asked_before_or_after_the_confirmation_screen() {
    let ja = steps(&ask("ja", "MW1M01AJ0004"), "対処方法:").join("\n");
    assert!(
        ja.contains(
            "確認画面の前に求められることも、「チャージ」をタップした後に求められることもあります"
        ),
        "{ja}"
    );
    let en = steps(&ask("en", "MW1M01AJ0004"), "What to do:").join("\n");
    assert!(
        en.contains("before the confirmation screen or after you tap \"Charge\""),
        "{en}"
    );
}

#[test]
fn above_20000_first_says_verification_and_that_jal_pay_is_the_card_company() {
    let ja = ask("ja", "JAL PayからANA Payに3万円チャージしたら MW1M01AJ0004");
    let note = section(&ja, "金額:")[0];
    assert!(
        note.starts_with(
            "金額: 30,000円は20,000円を超えています。ANA Pay の本人確認をしていない場合、2万円を超えるチャージはそもそもできません"
        ),
        "{note}"
    );
    assert!(
        note.contains("カード会社（JAL Pay のカードなら JAL Pay）"),
        "{note}"
    );
    let en = ask(
        "en",
        "JAL Pay to ANA Pay charge of ¥30,000 fails with MW1M01AJ0004",
    );
    let note = section(&en, "Amount:")[0];
    assert!(
        note.starts_with("Amount: ¥30,000 is above ¥20,000. Without ANA Pay identity verification no charge above ¥20,000 is possible"),
        "{note}"
    );
    assert!(
        note.contains("(for a JAL Pay card, that is JAL Pay)"),
        "{note}"
    );
}

#[test]
fn the_amount_being_charged_is_read_not_the_balance() {
    let ja = ask(
        "ja",
        "JAL Payで残高3万あるのに1万チャージでエラー MW1M01AJ0004",
    );
    assert!(ja.contains("金額: 10,000円は20,000円以下です。"), "{ja}");
}

#[test]
fn the_3ds_note_names_the_jal_pay_prepaid_card_as_one_that_works() {
    let ja = ask("ja", "本人認証サービスで認証失敗しました");
    assert!(ja.contains("id: 3ds2-auth-failed"), "{ja}");
    let notes = section(&ja, "補足:").join("\n");
    assert!(
        notes.contains(
            "JAL Pay バーチャルプリペイドカードは ANA Pay へのチャージに使えたと報告されています"
        ),
        "{notes}"
    );
    let en = ask("en", "本人認証サービスで認証失敗しました");
    assert!(
        en.contains("the JAL Pay virtual prepaid card is reported to work for charging ANA Pay"),
        "{en}"
    );
}

#[test]
fn the_activation_notice_is_no_takeover_only_on_the_renewal_day() {
    let ja = ask("ja", "カード有効化完了のお知らせ");
    let cause = section(&ja, "原因:")[0];
    assert!(
        cause.contains("通知が届いたのがカードの更新日なら"),
        "{cause}"
    );
    assert!(
        cause.contains("更新日ではない日に届いた場合は、この説明は当てはまりません"),
        "{cause}"
    );
    let s = steps(&ja, "対処方法:").join("\n");
    assert!(
        s.contains("順次更新されるはずですが、報告では QUICPay の更新が遅れました"),
        "{s}"
    );
    let en = ask("en", "カード有効化完了のお知らせ");
    assert!(
        en.contains("If the notice came on your card's renewal day"),
        "{en}"
    );
    assert!(
        en.contains("are supposed to update in turn, but in the report QUICPay lagged"),
        "{en}"
    );
}

#[test]
fn a_reissue_says_the_number_changes_before_asking_for_it() {
    for (lang, label, new_number, ask_for) in [
        (
            "ja",
            "対処方法:",
            "再発行するとカード番号が新しくなります",
            "再発行を依頼してください",
        ),
        (
            "en",
            "What to do:",
            "A reissue gives the card a new number",
            "ask the customer center to reissue",
        ),
    ] {
        let s = steps(
            &ask(lang, "JAL Payを更新したらクイックペイが使えない"),
            label,
        )
        .join("\n");
        assert!(at(&s, new_number) < at(&s, ask_for), "{lang}: {s}");
    }
}

#[test]
fn session_timeout_names_the_messages_own_causes_and_warns_before_the_pc_step() {
    let ja = ask("ja", "セッションタイムアウトが発生しました");
    let cause = section(&ja, "原因:")[0];
    assert!(
        at(cause, "セッションの有効時間が切れたか、ブラウザのクッキー") < at(cause, "推測"),
        "{cause}"
    );
    let s = steps(&ja, "対処方法:").join("\n");
    assert!(
        at(&s, "続けて何度も登録を試さないでください")
            < at(&s, "PC のブラウザで登録してみてください"),
        "{s}"
    );
    let en = ask("en", "セッションタイムアウトが発生しました");
    let cause = section(&en, "Cause:")[0];
    assert!(
        cause.starts_with("Cause: As the message says, the session may have expired"),
        "{cause}"
    );
    let s = steps(&en, "What to do:").join("\n");
    assert!(
        at(&s, "Do not retry the registration many times")
            < at(&s, "try registering from a PC browser"),
        "{s}"
    );
}

#[test]
fn a_declined_card_is_the_card_companys_decision_and_convenience_stores_are_the_portals() {
    let ja = ask("ja", "3Dセキュア2.0の認証に失敗しました");
    let cause = section(&ja, "原因:")[0];
    assert!(
        cause.contains("カード会社が何らかの理由で決済を認めなかった"),
        "{cause}"
    );
    assert!(!cause.contains("の結果で止められています"), "{cause}");
    let s = steps(&ja, "対処方法:").join("\n");
    assert!(!s.contains("コンビニ"), "not a step for every shop: {s}");
    let notes = section(&ja, "補足:").join("\n");
    assert!(
        notes.contains("その申込先では") && notes.contains("支払期限までに払うこともできます"),
        "{notes}"
    );
    let en = ask("en", "3Dセキュア2.0の認証に失敗しました");
    assert!(
        en.contains("declined the payment for some reason of its own"),
        "{en}"
    );
    assert!(
        en.contains(
            "That portal also lets you switch to convenience-store payment and pay by the deadline"
        ),
        "{en}"
    );
}

#[test]
fn a_failure_report_naming_a_card_company_gets_its_page_first() {
    let ja = ask("ja", "エポスカードで決済したら3Dセキュアの認証に失敗した");
    assert!(ja.contains("id: 3ds2-auth-failed"), "{ja}");
    assert_eq!(first_link(&ja, "公式の案内:"), "- ★ エポスカード");
    let en = ask("en", "3-D Secure authentication failed with my AMEX card");
    assert_eq!(
        first_link(&en, "Official pages:"),
        "- ★ American Express: American Express SafeKey"
    );
}

#[test]
fn steps_are_polite_requests_in_the_output() {
    for text in [
        "MW1M01AJ0004",
        "楽天カードでANA Payにチャージしようとしたら MW1M01AJ0004 が出た",
        "カード有効化完了のお知らせ",
        "クレジットカード登録エラー回数制限に達しました。24時間後に再度お試しください。",
        "3Dセキュアのワンタイムパスワードが届かない",
        "三井住友カード 3Dセキュア 登録",
    ] {
        for s in steps(&ask("ja", text), "対処方法:") {
            assert!(s.contains("ください"), "{text}: {s}");
        }
    }
}

#[test]
fn the_footer_shows_the_sources_date_and_when_kotae_checked() {
    let ja = ask("ja", "カード有効化完了のお知らせ");
    assert!(
        ja.contains("出典の日付: 日付なし（出典に日付がありません） · kotae の確認日: 2026-11-29"),
        "{ja}"
    );
    let en = ask("en", "カード有効化完了のお知らせ");
    assert!(
        en.contains(
            "Source dated: undated (the source gives no date) · checked by kotae: 2026-11-29"
        ),
        "{en}"
    );
    let ja = ask("ja", "MW1M01AJ0004");
    assert!(
        ja.contains("出典の日付: 2025-12-28 · kotae の確認日:"),
        "{ja}"
    );
}

#[test]
fn the_new_entries_answer() {
    let ja = ask("ja", "3Dセキュアとは");
    assert!(ja.contains("id: 3ds2-what-is"), "{ja}");
    assert!(ja.contains("導入が義務化されました"), "{ja}");
    let en = ask("en", "What is 3-D Secure?");
    assert!(en.contains("id: 3ds2-what-is"), "{en}");
    let ja = ask("ja", "ANA Payのチャージ上限はいくら？");
    assert!(ja.contains("id: anapay-charge-limits"), "{ja}");
    assert!(ja.contains("050-3172-3050"), "{ja}");
    assert!(
        ja.contains("https://faq.ana-x.co.jp/faq/anapay/web/knowledge728.html"),
        "{ja}"
    );
    let en = ask("en", "I can't register my credit card in ANA Pay");
    assert!(en.contains("id: anapay-card-register-failed"), "{en}");
    assert!(
        en.contains("https://faq.ana-x.co.jp/faq/anapay/web/knowledge699.html"),
        "{en}"
    );
}

#[test]
fn the_card_registered_in_jal_pay_is_the_card_not_jal_pay() {
    let pack = kotae::builtin_pack().unwrap();
    let card = |text: &str| pack.query(text, kotae::Mode::Auto).facts.card;
    assert_eq!(
        card("JAL Payに楽天カードを登録しようとしたらセッションタイムアウトが発生しました"),
        Some("rakuten-card".to_string())
    );
    assert_eq!(
        card("Can't register my Visa in JAL Pay, session timeout every time"),
        Some("visa".to_string())
    );
    // Alone, JAL Pay is still the card named; and where JAL Pay is the card (its QUICPay),
    // it stays the card beside a brand.
    assert_eq!(
        card("JAL Payのカード登録でセッションタイムアウトが発生しました"),
        Some("jal-pay".to_string())
    );
    assert_eq!(
        card("JALのプリペ、更新されてからQUICPayが使えない。Mastercardのタッチは通る"),
        Some("jal-pay".to_string())
    );
}
