//! Generated knowledge packs for benchmarks: realistic mixes at any size.
//!
//! Each generated entry gets an exact code, a literal phrase, and every third entry a true
//! regex, every fifth a keyword group pair, so the index is exercised the way a large real
//! pack would exercise it.

use super::{Entry, Location, Text};

fn text(s: String) -> Text {
    Text { ja: s, en: None }
}

/// `n` entries with unique codes (`GEN00000042`), phrases and regexes.
pub fn entries(n: usize) -> Vec<Entry> {
    (0..n)
        .map(|i| {
            let mut patterns = vec![format!("生成エラー{i}番が発生しました")];
            if i % 3 == 0 {
                patterns.push(format!(r"ERR{i}-[0-9]{{3,5}}-X"));
            }
            let keywords = if i % 5 == 0 {
                vec![vec![format!("サービス{i}")], vec![format!("機能{i}")]]
            } else {
                Vec::new()
            };
            Entry {
                id: format!("gen-{i}"),
                title: text(format!("生成されたエントリ {i}")),
                services: vec![format!("service-{}", i % 50)],
                codes: vec![format!("GEN{i:08}")],
                patterns,
                family_patterns: Vec::new(),
                min_keywords: 2.min(keywords.len().max(1)),
                keywords,
                cause: text(format!("原因 {i}")),
                steps: vec![text(format!("手順 {i}"))],
                notes: Vec::new(),
                links: Vec::new(),
                amount_rule: None,
                examples: vec![format!("GEN{i:08}")],
                queries: Vec::new(),
                counter_examples: Vec::new(),
                verified: "2025-12-28".into(),
                sources: vec!["generated".into()],
                location: Location::default(),
                example_locations: Default::default(),
            }
        })
        .collect()
}

/// A message of about `bytes` bytes of ordinary chat text with one real error in the middle.
pub fn message(bytes: usize, error: &str) -> String {
    let filler = "今日はアプリでチャージしようとしたら画面が止まってしまいました。 The app froze while I was paying. ";
    let mut out = String::with_capacity(bytes + error.len());
    while out.len() < bytes / 2 {
        out.push_str(filler);
    }
    out.push_str(error);
    let error_end = out.len();
    while out.len() < bytes {
        out.push_str(filler);
    }
    let (cut, _) = crate::matcher::normalize::cap(&out, bytes.max(error_end));
    cut.to_string()
}
