//! Redaction through the public API on a realistic paste.

use kotae::redact::{redact, CARD, EMAIL, MEMBER, PHONE};

#[test]
fn a_realistic_paste_keeps_the_error_and_loses_the_person() {
    let paste = "JAL Payのカード ４１１１ １１１１ １１１１ １１１１ で MW1M01AJ0004。\
                 会員番号: 5550001111、連絡先 090-1234-5678 / taro@example.jp、注文番号 123456789012";
    let out = redact(paste);
    for gone in ["4111", "5550001111", "090-1234-5678", "taro@example.jp"] {
        assert!(!out.contains(gone), "{gone} survived: {out}");
    }
    for kept in ["MW1M01AJ0004", "123456789012", CARD, MEMBER, PHONE, EMAIL] {
        assert!(out.contains(kept), "{kept} missing: {out}");
    }
}
