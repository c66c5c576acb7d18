//! Redacting formatters vs tracing-subscriber's own, same run: one event with 5 fields written
//! to `io::sink`. Target: redacting ≤ 1.3× plain, for text and for JSON.

use std::hint::black_box;
use std::io;

use criterion::{Criterion, criterion_group, criterion_main};
use safeguard::log::{SafeFields, SafeJson, SafeJsonFields, SafeWriter};
use safeguard::policy::Policy;
use tracing::Dispatch;

fn event() {
    tracing::info!(
        user_id = black_box(4242u64),
        method = black_box("GET"),
        route = black_box("/orders/{id}"),
        status = black_box(200u16),
        latency_ms = black_box(3.25f64),
        "request handled"
    );
}

fn run(c: &mut Criterion, group: &str, cases: Vec<(&str, Dispatch)>) {
    let mut g = c.benchmark_group(group);
    for (name, dispatch) in cases {
        tracing::dispatcher::with_default(&dispatch, || {
            g.bench_function(name, |b| b.iter(event));
        });
    }
    g.finish();
}

fn text(c: &mut Criterion) {
    let policy = Policy::default();
    let plain = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(io::sink)
        .finish();
    let safe = tracing_subscriber::fmt()
        .fmt_fields(SafeFields::new(&policy))
        .with_ansi(false)
        .with_writer(io::sink)
        .finish();
    let writer = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(SafeWriter::new(&policy, io::sink))
        .finish();
    run(
        c,
        "log/text_5_fields",
        vec![
            ("plain_fmt", Dispatch::new(plain)),
            ("safe_fields", Dispatch::new(safe)),
            ("plain_fmt_safe_writer", Dispatch::new(writer)),
        ],
    );
}

fn json(c: &mut Criterion) {
    let policy = Policy::default();
    let plain = tracing_subscriber::fmt()
        .json()
        .with_writer(io::sink)
        .finish();
    let safe = tracing_subscriber::fmt()
        .fmt_fields(SafeJsonFields::new(&policy))
        .event_format(SafeJson::new())
        .with_writer(io::sink)
        .finish();
    run(
        c,
        "log/json_5_fields",
        vec![
            ("plain_json", Dispatch::new(plain)),
            ("safe_json", Dispatch::new(safe)),
        ],
    );
}

criterion_group!(benches, text, json);
criterion_main!(benches);
