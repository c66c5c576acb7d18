//! SanitizeErrors benches.
//!
//! - `passthrough/*`: a 2xx response from an axum router, called in-process with
//!   `ServiceExt::oneshot` and its body collected: bare, with the layer applied tower-style around
//!   the router (`SanitizeErrors::new(router)`), and with axum's `Router::layer` (which wraps every
//!   route and boxes the response body, a cost any body-wrapping layer pays). Two handlers: a
//!   static string (the least work a handler can do) and a JSON order serialized with serde.
//!   Target: layered ≤ 1.05 × bare. Each iteration runs a batch inside one `block_on`.
//! - `scan/4KiB_*`: the leak scanner on a 4 KiB 4xx body (target: < 10 µs).
//!
//! After the criterion groups, a paired run (alternating, several rounds, median) prints the
//! ratios and the scanner's cost. It measures the thread's CPU time (from
//! `/proc/thread-self/schedstat` where available, wall time otherwise) so that other processes on
//! a shared machine do not skew the ratio.

use std::hint::black_box;
use std::time::Instant;

use axum::body::Body;
use axum::routing::get;
use axum::{Json, Router};
use criterion::{Criterion, criterion_group};
use http::Request;
use http_body_util::BodyExt;
use safeguard::errors::scan::scan;
use safeguard::errors::{SanitizeErrors, SanitizeErrorsLayer};
use serde::Serialize;
use tower::{Service, ServiceExt};

const BATCH: usize = 100;

async fn static_handler() -> ([(&'static str, &'static str); 1], &'static str) {
    (
        [("content-type", "application/json")],
        r#"{"id":42,"name":"Ada Lovelace","plan":"pro","items":[{"sku":"A-1","qty":2},{"sku":"B-7","qty":1}],"total":"19.90"}"#,
    )
}

#[derive(Serialize)]
struct Item {
    sku: String,
    name: String,
    qty: u32,
    price_cents: u64,
}

#[derive(Serialize)]
struct Order {
    id: u64,
    customer: String,
    status: &'static str,
    currency: &'static str,
    items: Vec<Item>,
    total_cents: u64,
}

async fn json_handler() -> Json<Order> {
    let items = (0..8)
        .map(|i| Item {
            sku: format!("SKU-{i:04}"),
            name: format!("Widget number {i}"),
            qty: i + 1,
            price_cents: 1999 + u64::from(i) * 100,
        })
        .collect::<Vec<_>>();
    let total_cents = items.iter().map(|i| i.price_cents * u64::from(i.qty)).sum();
    Json(Order {
        id: 42,
        customer: "cus_8f14e45fceea167a".to_owned(),
        status: "paid",
        currency: "EUR",
        items,
        total_cents,
    })
}

fn router(json: bool) -> Router {
    if json {
        Router::new().route("/orders/{id}", get(json_handler))
    } else {
        Router::new().route("/orders/{id}", get(static_handler))
    }
}

async fn run_batch<S, B>(svc: &S, n: usize)
where
    S: Service<Request<Body>, Response = http::Response<B>> + Clone,
    B: http_body::Body,
{
    for _ in 0..n {
        let req = Request::get("/orders/42")
            .body(Body::empty())
            .unwrap_or_default();
        let Ok(res) = svc.clone().oneshot(req).await else {
            continue;
        };
        let body = res.into_body().collect().await.map(|b| b.to_bytes());
        black_box(body.is_ok());
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
    let mut group = c.benchmark_group("passthrough");
    for (name, json) in [("static", false), ("json", true)] {
        let bare = router(json);
        let wrapped = SanitizeErrors::new(router(json));
        let layered = router(json).layer(SanitizeErrorsLayer::new());
        group.bench_function(format!("{name}/bare"), |b| {
            b.iter(|| rt.block_on(run_batch(&bare, BATCH)))
        });
        group.bench_function(format!("{name}/wrapped"), |b| {
            b.iter(|| rt.block_on(run_batch(&wrapped, BATCH)))
        });
        group.bench_function(format!("{name}/router_layer"), |b| {
            b.iter(|| rt.block_on(run_batch(&layered, BATCH)))
        });
    }
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

/// Nanoseconds of CPU time of this thread, or of wall time where schedstat is unavailable.
fn clock() -> impl Fn() -> u128 {
    let start = Instant::now();
    let cpu = || -> Option<u128> {
        std::fs::read_to_string("/proc/thread-self/schedstat")
            .ok()?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    };
    let use_cpu = cpu().is_some();
    move || {
        if use_cpu {
            cpu().unwrap_or(0)
        } else {
            start.elapsed().as_nanos()
        }
    }
}

fn median(mut v: Vec<u128>) -> u128 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

/// Alternating paired runs; prints per-request medians and ratios. Batches are long (about 0.2 s)
/// because the thread CPU clock advances in scheduler ticks.
fn ratios(rounds: usize, per_round: usize) {
    let rt = runtime();
    let now = clock();
    for (name, json) in [("static", false), ("json", true)] {
        let per_round = if json { per_round } else { per_round * 3 };
        let bare = router(json);
        let wrapped = SanitizeErrors::new(router(json));
        let layered = router(json).layer(SanitizeErrorsLayer::new());
        let mut t = [Vec::new(), Vec::new(), Vec::new()];
        for round in 0..rounds {
            for k in 0..3 {
                let which = (k + round) % 3;
                let start = now();
                match which {
                    0 => rt.block_on(run_batch(&bare, per_round)),
                    1 => rt.block_on(run_batch(&wrapped, per_round)),
                    _ => rt.block_on(run_batch(&layered, per_round)),
                }
                t[which].push((now() - start) / per_round as u128);
            }
        }
        let [b, w, l] = t.map(median);
        let ratio = |x: u128| x as f64 / b.max(1) as f64;
        println!(
            "passthrough {name}: bare {b} ns, SanitizeErrors::new(router) {w} ns (x{:.3}), Router::layer {l} ns (x{:.3}) per request",
            ratio(w),
            ratio(l)
        );
    }
    let clean = body_4k("");
    let leak = body_4k("ORA-00942: table or view does not exist");
    for (name, body) in [("clean", &clean), ("leak at end", &leak)] {
        let n = per_round.max(100);
        let mut samples = Vec::new();
        for _ in 0..rounds {
            let start = now();
            for _ in 0..n {
                black_box(scan(black_box(body)));
            }
            samples.push((now() - start) / n as u128);
        }
        println!("scan 4 KiB {name}: {} ns", median(samples));
    }
}

/// One service in a plain loop, nothing else: for instruction counts under
/// `valgrind --tool=callgrind --toggle-collect='*measured_loop*'`, which are repeatable where
/// timings on a shared machine are not. Selected with
/// `SAFEGUARD_ERRORS_LOOP=<static|json>/<bare|wrapped|router_layer>/<requests>`.
#[inline(never)]
fn measured_loop<S, B>(rt: &tokio::runtime::Runtime, svc: &S, n: usize)
where
    S: Service<Request<Body>, Response = http::Response<B>> + Clone,
    B: http_body::Body,
{
    rt.block_on(run_batch(svc, n));
}

fn instruction_loop(spec: &str) {
    let mut parts = spec.split('/');
    let json = parts.next() == Some("json");
    let which = parts.next().unwrap_or("bare");
    let n = parts.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let rt = runtime();
    // Warm up outside the measured function (lazy statics, first allocations).
    match which {
        "wrapped" => {
            let svc = SanitizeErrors::new(router(json));
            rt.block_on(run_batch(&svc, 100));
            measured_loop(&rt, &svc, n);
        }
        "router_layer" => {
            let svc = router(json).layer(SanitizeErrorsLayer::new());
            rt.block_on(run_batch(&svc, 100));
            measured_loop(&rt, &svc, n);
        }
        _ => {
            let svc = router(json);
            rt.block_on(run_batch(&svc, 100));
            measured_loop(&rt, &svc, n);
        }
    }
    println!("{spec}: {n} requests");
}

criterion_group!(group, benches);

fn main() {
    if let Ok(spec) = std::env::var("SAFEGUARD_ERRORS_LOOP") {
        instruction_loop(&spec);
        return;
    }
    group();
    Criterion::default().configure_from_args().final_summary();
    // `cargo bench` passes `--bench`; `cargo bench -- --test` and `cargo test --bench` are smoke
    // runs, where the paired rounds would take minutes (unoptimized in the latter).
    let args: Vec<String> = std::env::args().collect();
    let smoke = args.iter().any(|a| a == "--test") || !args.iter().any(|a| a == "--bench");
    if smoke {
        println!("(smoke run: the figures below are not measurements)");
        ratios(1, 10);
    } else {
        ratios(7, 100_000);
    }
}
