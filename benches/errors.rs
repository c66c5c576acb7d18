//! SanitizeErrors benches.
//!
//! - `passthrough/*`: a 2xx response from an axum router, called in-process with
//!   `ServiceExt::oneshot` and its body collected: bare, with the layer applied tower-style around
//!   the router (`SanitizeErrors::new(router)`), and with axum's `Router::layer` (which wraps every
//!   route and boxes the response body, a cost any body-wrapping layer pays). Two handlers: a
//!   static string (the least work a handler can do) and a JSON order serialized with serde.
//!   Target: layered ≤ 1.05 × bare. Each iteration runs a batch inside one `block_on`.
//!   Three references are measured beside it: `min_catch`, the least any layer that catches
//!   panics in `call`, the future and the body can do (`catch_unwind` around each, nothing else);
//!   `min_context`, that plus the per-request context any layer needs to log a later incident
//!   under the request's id with the user's settings (an `Arc`'d configuration and the raw
//!   request id, carried from `call` to the body); and tower-http's `CatchPanic` (call and
//!   future only; it boxes the body).
//! - `served/*`: the same services served by hyper over HTTP/1 (an in-memory duplex stream, so
//!   no syscalls), one request at a time: what a request costs as a server runs it.
//! - `scan/4KiB_*`: the leak scanner on a 4 KiB 4xx body (target: < 10 µs).
//!
//! After the criterion groups, a paired run prints the ratios: every variant's batch runs between
//! two batches of the bare service, in an order that rotates from round to round, and its time is
//! divided by the mean of the two; the median over 61 rounds is printed. Pairing cancels the speed
//! drifts of a shared machine, which criterion's one-after-the-other groups do not. Instruction
//! counts (see `instruction_loop`) are the steadiest figure of all.

use std::any::Any;
use std::future::Future;
use std::hint::black_box;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use criterion::{Criterion, criterion_group};
use http::{HeaderName, HeaderValue, Request, Response};
use http_body::Frame;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use safeguard::errors::scan::scan;
use safeguard::errors::{SanitizeErrors, SanitizeErrorsLayer};
use serde::Serialize;
use tower::{Service, ServiceExt};
use tower_http::catch_panic::CatchPanic;

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

/// The floor: `catch_unwind` around `call`, the future and every body poll, and nothing else (a
/// panic is re-raised, there is no context, no logging, no header work).
#[derive(Clone)]
struct MinCatch<S>(S);

pin_project_lite::pin_project! {
    struct MinFuture<F> { #[pin] fut: F }
}

pin_project_lite::pin_project! {
    // `ctx` is what the body carries besides the inner body: nothing for `min_catch`.
    struct MinBody<B, C> { #[pin] inner: B, ctx: C }
}

fn rethrow(payload: Box<dyn Any + Send>) -> ! {
    std::panic::resume_unwind(payload)
}

impl<S, R, B> Service<R> for MinCatch<S>
where
    S: Service<R, Response = Response<B>>,
{
    type Response = Response<MinBody<B, ()>>;
    type Error = S::Error;
    type Future = MinFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        let inner = &mut self.0;
        catch_unwind(AssertUnwindSafe(move || MinFuture {
            fut: inner.call(req),
        }))
        .unwrap_or_else(|p| rethrow(p))
    }
}

impl<F, B, E> Future for MinFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<MinBody<B, ()>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let fut = self.project().fut;
        match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(Poll::Ready(Ok(res))) => {
                Poll::Ready(Ok(res.map(|inner| MinBody { inner, ctx: () })))
            }
            Ok(Poll::Ready(Err(e))) => Poll::Ready(Err(e)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(p) => rethrow(p),
        }
    }
}

impl<B: http_body::Body, C> http_body::Body for MinBody<B, C> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, B::Error>>> {
        let inner = self.project().inner;
        catch_unwind(AssertUnwindSafe(|| inner.poll_frame(cx))).unwrap_or_else(|p| rethrow(p))
    }
}

/// The floor with context: `MinCatch` plus what any layer must carry per request to log a later
/// incident under the request's id with the user's settings: a shared configuration (an `Arc`,
/// cloned with the service and again for the request) and the raw request id, looked up in
/// `call`, kept by the future and handed on to the body for a panic mid-stream. Nothing is done
/// with them; this measures what carrying them costs.
#[derive(Clone)]
struct MinContext<S> {
    inner: S,
    shared: Arc<Shared>,
}

struct Shared {
    request_id_header: HeaderName,
}

struct RequestContext {
    _shared: Arc<Shared>,
    _request_id: Option<HeaderValue>,
}

pin_project_lite::pin_project! {
    struct MinContextFuture<F> { #[pin] fut: F, ctx: Option<RequestContext> }
}

impl<S> MinContext<S> {
    fn new(inner: S) -> Self {
        let shared = Arc::new(Shared {
            request_id_header: HeaderName::from_static("x-request-id"),
        });
        Self { inner, shared }
    }
}

impl<S, R, B> Service<Request<R>> for MinContext<S>
where
    S: Service<Request<R>, Response = Response<B>>,
{
    type Response = Response<MinBody<B, Option<RequestContext>>>;
    type Error = S::Error;
    type Future = MinContextFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<R>) -> Self::Future {
        let request_id = req.headers().get(&self.shared.request_id_header).cloned();
        let (inner, shared) = (&mut self.inner, &self.shared);
        catch_unwind(AssertUnwindSafe(move || MinContextFuture {
            fut: inner.call(req),
            ctx: Some(RequestContext {
                _shared: Arc::clone(shared),
                _request_id: request_id,
            }),
        }))
        .unwrap_or_else(|p| rethrow(p))
    }
}

impl<F, B, E> Future for MinContextFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<MinBody<B, Option<RequestContext>>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        match catch_unwind(AssertUnwindSafe(|| this.fut.poll(cx))) {
            Ok(Poll::Ready(Ok(res))) => {
                let ctx = this.ctx.take();
                Poll::Ready(Ok(res.map(|inner| MinBody { inner, ctx })))
            }
            Ok(Poll::Ready(Err(e))) => Poll::Ready(Err(e)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(p) => rethrow(p),
        }
    }
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

type Sender = hyper::client::conn::http1::SendRequest<Empty<Bytes>>;

/// Serves `svc` with hyper's HTTP/1 server over an in-memory duplex stream and returns a client
/// connected to it. Both connection tasks run on `rt` (they advance inside its `block_on`).
fn served<S, B>(rt: &tokio::runtime::Runtime, svc: S) -> Sender
where
    S: Service<Request<hyper::body::Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    rt.block_on(async move {
        let (client, server) = tokio::io::duplex(64 * 1024);
        tokio::spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(server), TowerToHyperService::new(svc));
            black_box(conn.await.is_ok());
        });
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(client))
            .await
            .unwrap_or_else(|e| panic!("handshake: {e}"));
        tokio::spawn(async move { black_box(conn.await.is_ok()) });
        sender
    })
}

async fn served_batch(sender: &mut Sender, n: usize) {
    for _ in 0..n {
        let req = Request::get("/orders/42")
            .header("host", "bench")
            .body(Empty::new())
            .unwrap_or_default();
        if sender.ready().await.is_err() {
            return;
        }
        let Ok(res) = sender.send_request(req).await else {
            continue;
        };
        let body = res.into_body().collect().await.map(|b| b.to_bytes());
        black_box(body.is_ok());
    }
}

/// One way of answering requests, run `n` at a time.
type Runner<'a> = (&'static str, Box<dyn FnMut(usize) + 'a>);

/// The in-process variants for one handler: bare first, then the layer, then the floors.
fn in_process(rt: &tokio::runtime::Runtime, json: bool) -> Vec<Runner<'_>> {
    let bare = router(json);
    let wrapped = SanitizeErrors::new(router(json));
    let layered = router(json).layer(SanitizeErrorsLayer::new());
    let min_catch = MinCatch(router(json));
    let catch_panic = CatchPanic::new(router(json));
    let min_context = MinContext::new(router(json));
    vec![
        ("bare", Box::new(move |n| rt.block_on(run_batch(&bare, n)))),
        (
            "wrapped",
            Box::new(move |n| rt.block_on(run_batch(&wrapped, n))),
        ),
        (
            "router_layer",
            Box::new(move |n| rt.block_on(run_batch(&layered, n))),
        ),
        (
            "min_catch",
            Box::new(move |n| rt.block_on(run_batch(&min_catch, n))),
        ),
        (
            "min_context",
            Box::new(move |n| rt.block_on(run_batch(&min_context, n))),
        ),
        (
            "catch_panic",
            Box::new(move |n| rt.block_on(run_batch(&catch_panic, n))),
        ),
    ]
}

/// The served variants for one handler: bare, then the layer.
fn over_http(rt: &tokio::runtime::Runtime, json: bool) -> Vec<Runner<'_>> {
    let mut bare = served(rt, router(json));
    let mut wrapped = served(rt, SanitizeErrors::new(router(json)));
    vec![
        (
            "bare",
            Box::new(move |n| rt.block_on(served_batch(&mut bare, n))),
        ),
        (
            "wrapped",
            Box::new(move |n| rt.block_on(served_batch(&mut wrapped, n))),
        ),
    ]
}

fn benches(c: &mut Criterion) {
    let rt = runtime();
    for (group_name, served) in [("passthrough", false), ("served", true)] {
        let mut group = c.benchmark_group(group_name);
        for (name, json) in [("static", false), ("json", true)] {
            let runners = if served {
                over_http(&rt, json)
            } else {
                in_process(&rt, json)
            };
            for (variant, mut run) in runners {
                group.bench_function(format!("{name}/{variant}"), |b| b.iter(|| run(BATCH)));
            }
        }
        group.finish();
    }

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

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Paired runs: each round runs the bare batch before and after every variant, the variants in
/// an order that rotates from round to round, and divides the variant's time by the mean of the
/// two bare batches around it. Prints the medians over rounds: drifts of the machine's speed
/// cancel out within a pair, position effects cancel out over rounds, outlier rounds drop out.
fn paired(title: &str, mut runners: Vec<Runner<'_>>, rounds: usize, n: usize) {
    let clock = Instant::now();
    let time = |run: &mut Box<dyn FnMut(usize) + '_>| {
        let start = clock.elapsed().as_nanos();
        run(n);
        (clock.elapsed().as_nanos() - start) as f64
    };
    let mut ratios = vec![Vec::new(); runners.len()];
    let mut bare_ns = Vec::new();
    let Some(((_, bare), rest)) = runners.split_first_mut() else {
        return;
    };
    let mut before = time(bare);
    for round in 0..rounds {
        for k in 0..rest.len() {
            let which = (k + round) % rest.len();
            let t = time(&mut rest[which].1);
            let after = time(bare);
            let base = (before + after) / 2.0;
            bare_ns.push(base / n as f64);
            ratios[which + 1].push(t / base);
            before = after;
        }
    }
    let line: Vec<String> = runners
        .iter()
        .zip(ratios)
        .skip(1)
        .map(|((name, _), r)| format!("{name} x{:.3}", median(r)))
        .collect();
    println!(
        "{title}: bare {:.0} ns per request; {}",
        median(bare_ns),
        line.join(", ")
    );
}

fn ratios(rounds: usize, per_round: usize) {
    let rt = runtime();
    for (name, json) in [("static", false), ("json", true)] {
        let n = if json { per_round } else { per_round * 3 };
        paired(
            &format!("passthrough {name} (in process)"),
            in_process(&rt, json),
            rounds,
            n,
        );
        paired(
            &format!("passthrough {name} (served by hyper)"),
            over_http(&rt, json),
            rounds,
            n / 4,
        );
    }
    let clean = body_4k("");
    let leak = body_4k("ORA-00942: table or view does not exist");
    for (name, body) in [("clean", &clean), ("leak at end", &leak)] {
        let n = per_round.max(100);
        let mut samples = Vec::new();
        for _ in 0..rounds {
            let start = Instant::now();
            for _ in 0..n {
                black_box(scan(black_box(body)));
            }
            samples.push(start.elapsed().as_nanos() as f64 / n as f64);
        }
        println!("scan 4 KiB {name}: {:.0} ns", median(samples));
    }
}

/// One service in a plain loop, nothing else: for instruction counts under
/// `valgrind --tool=callgrind --toggle-collect='*measured_loop*'`, which are repeatable where
/// timings on a shared machine are not. Selected with
/// `SAFEGUARD_ERRORS_LOOP=<static|json>/<variant>/<requests>`, variant being one of the
/// in-process ones (`bare`, `wrapped`, `router_layer`, `min_catch`, `min_context`,
/// `catch_panic`).
#[inline(never)]
fn measured_loop(run: &mut dyn FnMut(usize), n: usize) {
    run(n);
}

fn instruction_loop(spec: &str) {
    let mut parts = spec.split('/');
    let json = parts.next() == Some("json");
    let which = parts.next().unwrap_or("bare");
    let n = parts.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let rt = runtime();
    let Some((_, mut run)) = in_process(&rt, json)
        .into_iter()
        .find(|(name, _)| *name == which)
    else {
        println!("unknown variant {which}");
        return;
    };
    // Warm up outside the measured function (lazy statics, first allocations).
    run(100);
    measured_loop(&mut run, n);
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
        ratios(61, 5_000);
    }
}
