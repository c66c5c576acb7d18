//! SanitizeErrors over real HTTP: panics, server errors, leaking 4xx, streamed bodies, inner
//! errors, rejections, headers, hooks. Every withheld body must be absent from what the client
//! gets and present (redacted) in the log under the same incident id.
#![cfg(feature = "errors")]

mod common;
mod errors_corpus;

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::LazyLock;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::{Json, Path, Query};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Router};
use bytes::Bytes;
use common::{Buf, Reply, get as http_get, send, serve, serve_service};
use errors_corpus::{CLEAN, LEAKS};
use http::{Request, StatusCode};
use http_body::Frame;
use http_body_util::Full;
use safeguard::errors::{
    Incident, PublicError, SafeToShow, SanitizeErrors, SanitizeErrorsLayer, public_response,
};
use safeguard::problem::ProblemDetails;
use serde::Deserialize;

// ---- log capture -------------------------------------------------------------------------

static LOG: LazyLock<Buf> = LazyLock::new(|| {
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::DEBUG)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("global subscriber");
    buf
});

/// Log lines that carry this incident id.
fn log_for(id: &str) -> String {
    let all =
        String::from_utf8_lossy(&LOG.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned();
    let needle = format!("incident_id={id} ");
    all.lines()
        .filter(|l| l.contains(&needle))
        .collect::<Vec<_>>()
        .join("\n")
}

// ---- assertions --------------------------------------------------------------------------

/// Everything the client got, headers included.
fn seen_by_client(reply: &Reply) -> String {
    let mut all = reply.text();
    for (name, value) in &reply.headers {
        all.push_str(&format!(
            "\n{name}: {}",
            String::from_utf8_lossy(value.as_bytes())
        ));
    }
    all
}

/// The reply is a problem document with an incident id that matches the header; returns the id.
fn incident_of(reply: &Reply) -> String {
    assert_eq!(
        reply.headers["content-type"],
        "application/problem+json",
        "{}",
        reply.text()
    );
    let doc = reply.json();
    assert_eq!(doc["status"], reply.status.as_u16());
    assert!(doc["type"].is_string() && doc["title"].is_string());
    let id = reply.headers["x-incident-id"]
        .to_str()
        .expect("ascii id")
        .to_owned();
    assert_eq!(doc["instance"], format!("urn:safeguard:incident:{id}"));
    id
}

/// No line of `original` reached the client.
fn assert_withheld(reply: &Reply, original: &str) {
    let seen = seen_by_client(reply);
    for line in original.lines().map(str::trim).filter(|l| l.len() >= 6) {
        assert!(!seen.contains(line), "client saw {line:?} in:\n{seen}");
    }
}

// ---- a body sent in several frames, optionally panicking ---------------------------------

struct Frames {
    chunks: VecDeque<Bytes>,
    panic_when_empty: bool,
    yielded: bool,
}

impl Frames {
    fn new(text: &str, parts: usize, panic_when_empty: bool) -> Self {
        let bytes = Bytes::copy_from_slice(text.as_bytes());
        let size = bytes.len().div_ceil(parts.max(1)).max(1);
        let chunks = (0..bytes.len())
            .step_by(size)
            .map(|i| bytes.slice(i..(i + size).min(bytes.len())))
            .collect();
        Self {
            chunks,
            panic_when_empty,
            yielded: false,
        }
    }
}

impl http_body::Body for Frames {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        // Pending between frames, as a real stream would be.
        if !self.yielded {
            self.yielded = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.yielded = false;
        match self.chunks.pop_front() {
            Some(chunk) => Poll::Ready(Some(Ok(Frame::data(chunk)))),
            None if self.panic_when_empty => {
                panic!("body exploded: token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln")
            }
            None => Poll::Ready(None),
        }
    }
}

/// One frame, then pending forever without ever waking the task: a stalled upstream.
struct Stalled(Option<Bytes>);

impl http_body::Body for Stalled {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.0.take() {
            Some(b) => Poll::Ready(Some(Ok(Frame::data(b)))),
            None => Poll::Pending,
        }
    }
}

// ---- the app -----------------------------------------------------------------------------

const PANIC_MSG: &str =
    "secret panic: card 4111 1111 1111 1111 for bob@example.com at src/orders.rs:12:5";
const DB_ERROR: &str = "error returned from database: relation \"users\" does not exist\nquery: SELECT id, email FROM users WHERE email = 'alice@example.com'";

#[derive(Deserialize)]
#[allow(dead_code)]
struct Signup {
    name: String,
    email: String,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Page {
    page: u32,
}

struct QuantityInvalid;
impl std::fmt::Display for QuantityInvalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("quantity must be between 1 and 10")
    }
}
impl PublicError for QuantityInvalid {
    fn status(&self) -> StatusCode {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}
impl IntoResponse for QuantityInvalid {
    fn into_response(self) -> Response {
        public_response(&self)
    }
}

async fn boom() -> &'static str {
    panic!("{PANIC_MSG}")
}

async fn boom_later() -> &'static str {
    tokio::task::yield_now().await;
    panic!("{PANIC_MSG}")
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

fn routes() -> Router {
    Router::new()
        .route("/ok", get(|| async { "hello" }))
        .route("/panic", get(boom))
        .route("/panic-later", get(boom_later))
        .route(
            "/db",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, DB_ERROR) }),
        )
        .route(
            "/db-json",
            get(|| async {
                let body = serde_json::json!({ "error": DB_ERROR }).to_string();
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [("content-type", "application/json"), ("retry-after", "30")],
                    body,
                )
            }),
        )
        .route(
            "/leak/{status}/{index}",
            get(|Path((code, i)): Path<(u16, usize)>| async move { (status(code), LEAKS[i].1) }),
        )
        .route(
            "/clean/{index}",
            get(|Path(i): Path<usize>| async move { (StatusCode::BAD_REQUEST, CLEAN[i]) }),
        )
        .route(
            "/stream/{status}/{index}",
            get(|Path((code, i)): Path<(u16, usize)>| async move {
                (status(code), Body::new(Frames::new(LEAKS[i].1, 4, false)))
            }),
        )
        .route(
            "/stream-clean",
            get(|| async {
                (
                    StatusCode::NOT_FOUND,
                    Body::new(Frames::new(
                        "order 17 was not found, check the id",
                        5,
                        false,
                    )),
                )
            }),
        )
        .route(
            "/big",
            get(|| async {
                let mut body = String::from("HEAD-MARKER relation \"orders\" does not exist\n");
                while body.len() < 64 * 1024 {
                    body.push_str("filler line of a very long error report\n");
                }
                body.push_str("TAIL-MARKER");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Body::new(Frames::new(&body, 16, false)),
                )
            }),
        )
        .route(
            "/body-panic",
            get(|| async { Body::new(Frames::new("first part of a fine response", 2, true)) }),
        )
        .route(
            "/body-panic-500",
            get(|| async {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Body::new(Frames::new("half an error", 2, true)),
                )
            }),
        )
        .route(
            "/stalled",
            get(|| async {
                let first =
                    Bytes::from_static(b"upstream said: relation \"carts\" does not exist; then");
                (StatusCode::BAD_GATEWAY, Body::new(Stalled(Some(first))))
            }),
        )
        .route("/json", post(|Json(_): Json<Signup>| async { "created" }))
        .route("/query", get(|Query(_): Query<Page>| async { "page" }))
        .route("/items/{id}", get(|Path(_): Path<u32>| async { "item" }))
        .route(
            "/headers",
            get(|| async {
                (
                    [
                        ("server", "nginx/1.18.0"),
                        ("x-powered-by", "Express"),
                        ("x-aspnet-version", "4.0.30319"),
                        ("x-runtime", "0.02"),
                    ],
                    "hi",
                )
            }),
        )
        .route(
            "/safe",
            get(|| async {
                (
                    StatusCode::BAD_REQUEST,
                    Extension(SafeToShow),
                    "Path /var/data is reserved",
                )
            }),
        )
        .route("/public", get(|| async { QuantityInvalid }))
}

fn app() -> Router {
    LazyLock::force(&LOG);
    routes().layer(SanitizeErrorsLayer::new())
}

// ---- tests -------------------------------------------------------------------------------

#[tokio::test]
async fn success_passes_untouched() {
    let addr = serve(app()).await;
    let reply = http_get(addr, "/ok", &[]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), "hello");
    assert!(reply.headers.get("x-incident-id").is_none());
}

#[tokio::test]
async fn panic_in_handler_becomes_problem_with_incident() {
    let addr = serve(app()).await;
    for path in ["/panic", "/panic-later"] {
        let reply = http_get(addr, path, &[]).await;
        assert_eq!(reply.status, 500);
        let id = incident_of(&reply);
        assert_withheld(&reply, PANIC_MSG);
        assert!(!reply.text().contains("panic"));
        let log = log_for(&id);
        assert!(log.contains("ERROR"), "{log}");
        assert!(
            log.contains("kind=\"panic\"") || log.contains("kind=panic"),
            "{log}"
        );
        assert!(log.contains("secret panic"), "log has the message: {log}");
        assert!(!log.contains("4111 1111 1111 1111"), "card redacted: {log}");
        assert!(!log.contains("bob@example.com"), "email redacted: {log}");
    }
}

fn panics_in_call(
    _: Request<hyper::body::Incoming>,
) -> std::future::Ready<Result<http::Response<Full<Bytes>>, Infallible>> {
    panic!("{PANIC_MSG}")
}

#[tokio::test]
async fn panic_in_call_of_plain_tower_service() {
    LazyLock::force(&LOG);
    let addr = serve_service(SanitizeErrors::new(tower::service_fn(panics_in_call))).await;
    let reply = http_get(addr, "/", &[]).await;
    assert_eq!(reply.status, 500);
    let id = incident_of(&reply);
    assert_withheld(&reply, PANIC_MSG);
    assert!(log_for(&id).contains("secret panic"));
}

#[tokio::test]
async fn inner_service_error_becomes_500() {
    LazyLock::force(&LOG);
    let failing = tower::service_fn(|_req: Request<hyper::body::Incoming>| async {
        Err::<http::Response<Full<Bytes>>, Box<dyn std::error::Error + Send + Sync>>(
            "connect to postgres://app:hunter2@10.0.0.5:5432/prod failed: Connection refused (os error 111)".into(),
        )
    });
    let addr = serve_service(SanitizeErrors::new(failing)).await;
    let reply = http_get(addr, "/", &[("x-request-id", "req-err-1")]).await;
    assert_eq!(reply.status, 500);
    let id = incident_of(&reply);
    assert_eq!(id, "req-err-1");
    assert!(!seen_by_client(&reply).contains("10.0.0.5"));
    let log = log_for(&id);
    assert!(log.contains("service_error"), "{log}");
    assert!(log.contains("Connection refused"), "{log}");
    assert!(!log.contains("hunter2"), "password scrubbed: {log}");
}

#[tokio::test]
async fn database_error_500_is_withheld_and_logged_redacted() {
    let addr = serve(app()).await;
    let reply = http_get(
        addr,
        "/db",
        &[("x-request-id", "0b6c1f7e-9a44-4c55-b1a8-7c1d2f7e9f10")],
    )
    .await;
    assert_eq!(reply.status, 500);
    let id = incident_of(&reply);
    assert_eq!(id, "0b6c1f7e-9a44-4c55-b1a8-7c1d2f7e9f10");
    assert_withheld(&reply, DB_ERROR);
    let log = log_for(&id);
    assert!(log.contains("relation \"users\" does not exist"), "{log}");
    assert!(!log.contains("alice@example.com"), "{log}");
}

#[tokio::test]
async fn json_503_is_withheld_but_retry_after_kept() {
    let addr = serve(app()).await;
    let reply = http_get(addr, "/db-json", &[]).await;
    assert_eq!(reply.status, 503);
    let id = incident_of(&reply);
    assert_eq!(reply.headers["retry-after"], "30");
    assert!(!reply.text().contains("relation"));
    assert!(log_for(&id).contains("does not exist"));
}

#[tokio::test]
async fn every_leak_kind_as_4xx_and_5xx() {
    let addr = serve(app()).await;
    for code in [400u16, 404, 409, 422, 500, 502] {
        for (i, (kind, body)) in LEAKS.iter().enumerate() {
            let reply = http_get(addr, &format!("/leak/{code}/{i}"), &[]).await;
            assert_eq!(reply.status.as_u16(), code, "status kept for {body}");
            let id = incident_of(&reply);
            assert_withheld(&reply, body);
            let log = log_for(&id);
            assert!(log.contains("ERROR"), "{kind:?} {body}: {log}");
            if code < 500 {
                assert!(
                    log.contains(kind.as_str()),
                    "leak class logged for {body}: {log}"
                );
            }
        }
    }
}

#[tokio::test]
async fn streamed_error_bodies_are_withheld() {
    let addr = serve(app()).await;
    for code in [400u16, 500] {
        for (i, (_, body)) in LEAKS.iter().enumerate().step_by(7) {
            let reply = http_get(addr, &format!("/stream/{code}/{i}"), &[]).await;
            assert_eq!(reply.status.as_u16(), code);
            let id = incident_of(&reply);
            assert_withheld(&reply, body);
            assert!(!log_for(&id).is_empty());
        }
    }
    // A clean streamed 4xx goes through whole.
    let reply = http_get(addr, "/stream-clean", &[]).await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.text(), "order 17 was not found, check the id");
}

#[tokio::test]
async fn body_larger_than_log_bound() {
    let addr = serve(app()).await;
    let reply = http_get(addr, "/big", &[]).await;
    assert_eq!(reply.status, 500);
    let id = incident_of(&reply);
    assert!(!reply.text().contains("MARKER"));
    let log = log_for(&id);
    assert!(log.contains("HEAD-MARKER"), "first bytes logged");
    assert!(!log.contains("TAIL-MARKER"), "log bounded");
    assert!(log.contains("truncated=true"), "{log}");
    assert!(log.len() < 12 * 1024, "log line bounded: {}", log.len());
}

#[tokio::test]
async fn body_panicking_mid_stream() {
    let addr = serve(app()).await;
    // A 2xx whose body panics after its first frame: the stream is cut, the panic never sent.
    let client: hyper_util::client::legacy::Client<_, Full<Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build_http();
    let req = Request::get(format!("http://{addr}/body-panic"))
        .header("x-request-id", "req-midstream-7")
        .body(Full::default())
        .expect("request");
    let res = client.request(req).await.expect("head");
    assert_eq!(res.status(), 200);
    let collected = http_body_util::BodyExt::collect(res.into_body()).await;
    assert!(
        collected.is_err(),
        "stream ends with an error, not a clean end"
    );
    // Logged under the caller's request id, redacted, though the headers were already sent.
    let log = log_for("req-midstream-7");
    assert!(log.contains("body exploded"), "{log}");
    assert!(log.contains("mid-stream"), "{log}");
    assert!(
        !log.contains("eyJhbGciOiJIUzI1NiJ9"),
        "token redacted: {log}"
    );

    // A 500 whose body panics: the whole thing is a problem document.
    let reply = http_get(addr, "/body-panic-500", &[]).await;
    assert_eq!(reply.status, 500);
    let id = incident_of(&reply);
    assert!(!reply.text().contains("exploded"));
    let log = log_for(&id);
    assert!(log.contains("body exploded"), "{log}");
    assert!(
        !log.contains("eyJhbGciOiJIUzI1NiJ9"),
        "token redacted: {log}"
    );
}

#[tokio::test]
async fn no_false_positives_on_validation_messages() {
    let addr = serve(app()).await;
    for (i, body) in CLEAN.iter().enumerate() {
        let reply = http_get(addr, &format!("/clean/{i}"), &[]).await;
        assert_eq!(reply.status, 400);
        assert_eq!(reply.text(), *body, "passed through untouched");
        assert!(reply.headers.get("x-incident-id").is_none());
    }
}

#[tokio::test]
async fn axum_rejections_name_only_the_part() {
    let addr = serve(app()).await;
    type Case = (
        &'static str,
        &'static str,
        &'static [(&'static str, &'static str)],
        &'static str,
        u16,
        &'static str,
    );
    let cases: [Case; 4] = [
        (
            "POST",
            "/json",
            &[("content-type", "application/json")],
            r#"{"name":"x"}"#,
            422,
            "The request body is invalid.",
        ),
        (
            "POST",
            "/json",
            &[],
            r#"{"name":"x"}"#,
            415,
            "A request header is missing or invalid.",
        ),
        (
            "GET",
            "/query?page=abc",
            &[],
            "",
            400,
            "The query string is invalid.",
        ),
        (
            "GET",
            "/items/abc",
            &[],
            "",
            400,
            "The request path is invalid.",
        ),
    ];
    for (method, target, headers, body, code, detail) in cases {
        let reply = send(addr, method, target, headers, body).await;
        assert_eq!(reply.status.as_u16(), code, "{target}");
        incident_of(&reply);
        assert_eq!(reply.json()["detail"], detail);
        let text = reply.text();
        for internal in [
            "email",
            "missing field",
            "u32",
            "deserialize",
            "Signup",
            "Content-Type: application/json",
        ] {
            assert!(!text.contains(internal), "{internal} in {text}");
        }
    }
}

#[tokio::test]
async fn rejection_rewriting_can_be_turned_off() {
    LazyLock::force(&LOG);
    let addr = serve(routes().layer(SanitizeErrorsLayer::new().rewrite_rejections(false))).await;
    let reply = http_get(addr, "/query?page=abc", &[]).await;
    assert_eq!(reply.status, 400);
    assert!(
        reply
            .text()
            .starts_with("Failed to deserialize query string")
    );
}

#[tokio::test]
async fn revealing_headers_removed() {
    LazyLock::force(&LOG);
    let layer = SanitizeErrorsLayer::new().strip_header(http::HeaderName::from_static("x-runtime"));
    let addr = serve(routes().layer(layer)).await;
    let reply = http_get(addr, "/headers", &[]).await;
    assert_eq!(reply.status, 200);
    for name in ["server", "x-powered-by", "x-aspnet-version", "x-runtime"] {
        assert!(reply.headers.get(name).is_none(), "{name} still present");
    }
    assert_eq!(reply.text(), "hi");
}

#[tokio::test]
async fn malformed_request_ids_are_not_trusted() {
    let addr = serve(app()).await;
    let long = "a".repeat(65);
    for bad in [
        "evil id with spaces",
        "id\"quote",
        long.as_str(),
        "x;y=z",
        "%0d%0aSet-Cookie:a=b",
    ] {
        let reply = http_get(addr, "/db", &[("x-request-id", bad)]).await;
        let id = incident_of(&reply);
        assert_ne!(id, bad);
        assert_eq!(id.len(), 32);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}

#[tokio::test]
async fn custom_headers_and_problem_hook() {
    LazyLock::force(&LOG);
    let layer = SanitizeErrorsLayer::new()
        .request_id_header(http::HeaderName::from_static("x-correlation-id"))
        .incident_header(http::HeaderName::from_static("x-error-ref"))
        .problem(|i: &Incident| {
            ProblemDetails::for_status(i.status)
                .with_type("https://errors.example.com/internal")
                .with_title("Something went wrong")
        });
    let addr = serve(routes().layer(layer)).await;
    let reply = http_get(addr, "/panic", &[("x-correlation-id", "corr-77")]).await;
    assert_eq!(reply.status, 500);
    assert_eq!(reply.headers["x-error-ref"], "corr-77");
    let doc = reply.json();
    assert_eq!(doc["type"], "https://errors.example.com/internal");
    assert_eq!(doc["title"], "Something went wrong");
    assert_eq!(doc["instance"], "urn:safeguard:incident:corr-77");
    assert!(log_for("corr-77").contains("secret panic"));
}

#[tokio::test]
async fn safe_to_show_bodies_pass() {
    let addr = serve(app()).await;
    let reply = http_get(addr, "/safe", &[]).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.text(), "Path /var/data is reserved");

    let reply = http_get(addr, "/public", &[]).await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.json()["detail"], "quantity must be between 1 and 10");
    assert!(reply.headers.get("x-incident-id").is_none());
}

#[tokio::test]
async fn threshold_is_configurable() {
    LazyLock::force(&LOG);
    let addr = serve(
        routes().layer(SanitizeErrorsLayer::new().server_error_threshold(StatusCode::BAD_REQUEST)),
    )
    .await;
    // With the threshold at 400 even a clean 4xx body is withheld.
    let reply = http_get(addr, "/clean/0", &[]).await;
    assert_eq!(reply.status, 400);
    incident_of(&reply);
    assert!(!reply.text().contains(CLEAN[0]));
}

#[tokio::test]
async fn stalled_error_body_does_not_hold_the_response() {
    LazyLock::force(&LOG);
    let layer = SanitizeErrorsLayer::new().read_timeout(std::time::Duration::from_millis(200));
    let addr = serve(routes().layer(layer)).await;
    let started = std::time::Instant::now();
    let reply = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        http_get(addr, "/stalled", &[]),
    )
    .await
    .expect("answered despite the stalled body");
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
    assert_eq!(reply.status, 502);
    let id = incident_of(&reply);
    assert!(!reply.text().contains("carts"));
    let log = log_for(&id);
    assert!(log.contains("relation \"carts\" does not exist"), "{log}");
    assert!(log.contains("truncated=true"), "{log}");
}
