//! Criterion benches of the matcher: the shipped pack and generated packs of 10,000 entries,
//! 1 KB messages, plus the time to build a 10,000-entry index.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;

use kotae::synthetic;
use kotae::{Mode, Pack};

fn shipped(c: &mut Criterion) {
    let pack = kotae::builtin_pack().expect("built-in pack loads");
    let mut g = c.benchmark_group("shipped_pack");
    for (name, error) in [
        ("code", "本人認証に不正が検知しました。(MW1M01AJ0004)"),
        ("phrase", "セッションタイムアウトが発生しました。"),
        ("nothing", "今日はいい天気ですね"),
    ] {
        let msg = synthetic::message(1024, error);
        g.throughput(Throughput::Bytes(msg.len() as u64));
        for mode in [Mode::Auto, Mode::Lookup] {
            g.bench_with_input(BenchmarkId::new(format!("{mode:?}"), name), &msg, |b, m| {
                b.iter(|| pack.query(black_box(m), mode))
            });
        }
    }
    g.finish();
}

fn generated(c: &mut Criterion) {
    let entries = synthetic::entries(10_000);
    let pack = synthetic::pack(10_000);
    let mut g = c.benchmark_group("generated_10k");
    for (name, error) in [
        ("code", "エラー GEN00004242 が出ました"),
        ("regex", "ERR999-1234-X"),
        ("nothing", "今日はいい天気ですね"),
    ] {
        let msg = synthetic::message(1024, error);
        g.throughput(Throughput::Bytes(msg.len() as u64));
        g.bench_with_input(BenchmarkId::new("auto_1KB", name), &msg, |b, m| {
            b.iter(|| pack.query(black_box(m), Mode::Auto))
        });
    }
    g.sample_size(10);
    g.bench_function("build_index_10k", |b| {
        b.iter(|| Pack::from_entries(black_box(entries.clone())).unwrap())
    });
    g.finish();
}

criterion_group!(benches, shipped, generated);
criterion_main!(benches);
