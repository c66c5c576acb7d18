//! SanitizeErrors benches.
//!
//! - `passthrough/bare` vs `passthrough/layered`: a 2xx JSON response from an axum router, called
//!   in-process with `ServiceExt::oneshot` and its body collected, without and with the layer
//!   (target: layered ≤ 1.05 × bare). Each iteration runs a batch of requests inside one
//!   `block_on` so runtime overhead does not dominate.
//! - `scan/4KiB_*`: the leak scanner on a 4 KiB 4xx body (target: < 10 µs).
//!
//! After the criterion groups, a paired run prints the layered/bare ratio directly.

use std::hint::black_box;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use criterion::{Criterion, criterion_group};
use http::Request;
use http_body_util::BodyExt;
use safeguard::errors::SanitizeErrorsLayer;
use safeguard::errors::scan::scan;
use tower::ServiceExt;

const BATCH: u32 = 100;

async fn handler() -> ([(&'static str, &'static str); 1], &'static str) {
    (
        [("content-type", "application/json")],
        r#"{"id":42,"name":"Ada Lovelace","plan":"pro","items":[{"sku":"A-1","qty":2},{"sku":"B-7","qty":1}],"total":"19.90"}"#,
    )
}

fn bare() -> Router {
    Router::new().route("/orders/{id}", get(handler))
}

fn layered() -> Router {
    bare().layer(SanitizeErrorsLayer::new())
}

async fn run_batch(app: &Router, n: u32) {
    for _ in 0..n {
        let req = Request::get("/orders/42")
            .body(Body::empty())
            .unwrap_or_default();
        let res = app.clone().oneshot(req).await.unwrap_or_default();
        let body = res
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        black_box(body);
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap_or_else(|e| panic!("runtime: {e}"))
}

fn body_4k(tail: &str) -> Vec<u8> {
    let line = "{\"error\":\"validation failed\",\"field\":\"email\",\"message\":\"must be a valid address\"}\n";
    let mut body = Vec::with_capacity(4096);
    while body.len() + line.len() + tail.len() < 4096 {
        body.extend_from_slice(line.as_bytes());
    }
    body.extend_from_slice(tail.as_bytes());
    body.resize(4096, b' ');
    body
}

fn benches(c: &mut Criterion) {
    let rt = runtime();
    let (plain, wrapped) = (bare(), layered());
    let mut group = c.benchmark_group("passthrough");
    group.bench_function("bare", |b| b.iter(|| rt.block_on(run_batch(&plain, BATCH))));
    group.bench_function("layered", |b| {
        b.iter(|| rt.block_on(run_batch(&wrapped, BATCH)))
    });
    group.finish();

    let clean = body_4k("");
    let leak = body_4k("ORA-00942: table or view does not exist");
    let mut group = c.benchmark_group("scan");
    group.bench_function("4KiB_clean", |b| {
        b.iter(|| black_box(scan(black_box(&clean))))
    });
    group.bench_function("4KiB_leak_at_end", |b| {
        b.iter(|| black_box(scan(black_box(&leak))))
    });
    group.finish();
}

/// Alternating paired runs of bare and layered, then the ratio of the medians.
fn ratio(rounds: usize) {
    let rt = runtime();
    let (plain, wrapped) = (bare(), layered());
    let mut bare_t = Vec::new();
    let mut layered_t = Vec::new();
    for _ in 0..rounds {
        let t = Instant::now();
        rt.block_on(run_batch(&plain, BATCH * 10));
        bare_t.push(t.elapsed());
        let t = Instant::now();
        rt.block_on(run_batch(&wrapped, BATCH * 10));
        layered_t.push(t.elapsed());
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort_unstable();
        v[v.len() / 2]
    };
    let (b, l) = (median(&mut bare_t), median(&mut layered_t));
    let per = |d: Duration| d.as_nanos() as f64 / f64::from(BATCH * 10);
    println!(
        "passthrough per request: bare {:.0} ns, layered {:.0} ns, ratio {:.3} (target <= 1.05)",
        per(b),
        per(l),
        l.as_secs_f64() / b.as_secs_f64()
    );
}

criterion_group!(group, benches);

fn main() {
    group();
    Criterion::default().configure_from_args().final_summary();
    let smoke = std::env::args().any(|a| a == "--test");
    ratio(if smoke { 1 } else { 41 });
}
