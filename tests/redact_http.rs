//! RedactResponse over real HTTP: an axum server on 127.0.0.1 behind the layer, a real client.

mod common;

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use bytes::Bytes;
use safeguard::policy::Policy;
use safeguard::response::{Outcome, RedactResponseLayer, Refusal, Report, ReportHandle};
use safeguard::{Clearance, DataClass, Principal};
use serde_json::json;

const CARD: &str = "4111111111111111";

/// Authentication stand-in: the role header becomes a Principal in the request extensions.
async fn authenticate(mut req: Request, next: Next) -> Response {
    let role = req
        .headers()
        .get("x-role")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let principal = match role {
        "support" => Some(
            Principal::new("s-1")
                .with_role("support")
                .with_clearance(Clearance::partial(DataClass::Payment))
                .with_clearance(Clearance::partial(DataClass::Personal)),
        ),
        "billing" => Some(
            Principal::new("b-1")
                .with_role("billing")
                .with_clearance(Clearance::full(DataClass::Payment))
                .with_clearance(Clearance::full(DataClass::Personal)),
        ),
        _ => None,
    };
    if let Some(p) = principal {
        req.extensions_mut().insert(p);
    }
    next.run(req).await
}

fn account() -> serde_json::Value {
    json!({
        "id": 7,
        "name": "Ann",
        "card_number": CARD,
        "email": "ann@example.com",
        "password": "pw-very-secret",
        "notes": "hello"
    })
}

fn raw(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

fn app(reports: Arc<Mutex<Vec<Report>>>) -> Router {
    let layer = RedactResponseLayer::new(Policy::default())
        .commit_after(4 * 1024)
        .on_complete(move |report: &Report| reports.lock().unwrap().push(report.clone()));
    Router::new()
        .route("/account", get(|| async { Json(account()) }))
        .route(
            "/text",
            get(|| async { raw("text/plain", r#"{"password":"pw-very-secret"}"#) }),
        )
        .route(
            "/vendor",
            get(|| async {
                raw(
                    "Application/Vnd.Acme+JSON; Charset=UTF-8",
                    r#"{"ssn":"123-45-6789"}"#,
                )
            }),
        )
        .route(
            "/bad",
            get(|| async { raw("application/json", r#"{"password":"pw-very-secret""#) }),
        )
        .route(
            "/deep",
            get(|| async {
                let bomb: String = "[".repeat(1_000_000);
                ([(header::CONTENT_TYPE, "application/json")], bomb).into_response()
            }),
        )
        .route(
            "/gzip",
            get(|| async {
                let mut res = raw("application/json", r#"{"password":"pw-very-secret"}"#);
                res.headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                res
            }),
        )
        .route(
            "/ndjson",
            get(|| async {
                let lines = (0..3).map(|i| {
                    Ok::<_, std::io::Error>(Bytes::from(format!(
                        "{{\"i\":{i},\"token\":\"tok-{i}-secret\"}}\n"
                    )))
                });
                let mut res = chunked(lines.collect()).into_response();
                res.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/x-ndjson"),
                );
                res
            }),
        )
        .route(
            "/late-error",
            get(|| async {
                // A valid prefix well past the commit window, then garbage with a secret after it.
                let mut chunks: Vec<Result<Bytes, std::io::Error>> =
                    vec![Ok(Bytes::from_static(b"["))];
                for _ in 0..200 {
                    chunks.push(Ok(Bytes::from_static(
                        br#"{"name":"x","password":"pw-very-secret"},"#,
                    )));
                }
                chunks.push(Ok(Bytes::from_static(b"oops \"pw-very-secret\"")));
                let mut res = chunked(chunks).into_response();
                res.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                res
            }),
        )
        .layer(layer)
        .layer(middleware::from_fn(authenticate))
}

/// A body that arrives in the given pieces, one frame per poll.
struct Chunks(std::vec::IntoIter<Result<Bytes, std::io::Error>>);

impl http_body::Body for Chunks {
    type Data = Bytes;
    type Error = std::io::Error;
    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready(self.0.next().map(|r| r.map(http_body::Frame::data)))
    }
}

fn chunked(items: Vec<Result<Bytes, std::io::Error>>) -> Body {
    Body::new(Chunks(items.into_iter()))
}

#[tokio::test]
async fn same_endpoint_three_callers() {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let addr = common::serve(app(reports.clone())).await;

    let anon = common::get(addr, "/account", &[]).await;
    assert_eq!(anon.status, 200);
    assert!(anon.headers.get(header::CONTENT_LENGTH).is_none());
    let body = anon.json();
    assert_eq!(body["card_number"], serde_json::Value::Null);
    assert_eq!(body["email"], serde_json::Value::Null);
    assert_eq!(body["password"], serde_json::Value::Null);
    assert_eq!(body["name"], "Ann");
    assert_eq!(body["notes"], "hello");
    assert_eq!(body["id"], 7);

    let support = common::get(addr, "/account", &[("x-role", "support")])
        .await
        .json();
    assert_eq!(support["card_number"], "************1111");
    assert_eq!(support["email"], "***********.com");
    assert_eq!(support["password"], serde_json::Value::Null);

    let billing = common::get(addr, "/account", &[("x-role", "billing")])
        .await
        .json();
    assert_eq!(billing["card_number"], CARD);
    assert_eq!(billing["email"], "ann@example.com");
    assert_eq!(
        billing["password"],
        serde_json::Value::Null,
        "credentials are never revealed"
    );

    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 3);
    assert!(reports.iter().all(|r| r.outcome() == Outcome::Complete));
    assert_eq!(reports[0].tally().redacted(), 3);
    assert_eq!(reports[2].tally().revealed(), 2);
    assert_eq!(reports[2].tally().redacted(), 1);
}

#[tokio::test]
async fn other_content_types_pass_through_untouched() {
    let addr = common::serve(app(Arc::default())).await;
    let text = common::get(addr, "/text", &[]).await;
    assert_eq!(text.text(), r#"{"password":"pw-very-secret"}"#);
    assert_eq!(text.headers[header::CONTENT_LENGTH], "29");
    let vendor = common::get(addr, "/vendor", &[]).await;
    assert_eq!(vendor.text(), r#"{"ssn":null}"#);
}

#[tokio::test]
async fn malformed_deep_and_encoded_bodies_become_problems() {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let addr = common::serve(app(reports.clone())).await;
    for (target, refusal) in [
        ("/bad", Refusal::Json(safeguard::json::ErrorKind::Truncated)),
        ("/deep", Refusal::Json(safeguard::json::ErrorKind::TooDeep)),
        ("/gzip", Refusal::Encoded),
    ] {
        let reply = common::get(addr, target, &[]).await;
        assert_eq!(reply.status, 500, "{target}");
        assert_eq!(
            reply.headers[header::CONTENT_TYPE],
            "application/problem+json"
        );
        assert!(!reply.text().contains("pw-very-secret"));
        let problem = reply.json();
        assert_eq!(problem["status"], 500);
        assert!(problem.get("detail").is_none());
        let last = reports.lock().unwrap().last().cloned().unwrap();
        assert_eq!(last.outcome(), Outcome::Refused(refusal), "{target}");
    }
}

#[tokio::test]
async fn ndjson_streams_line_by_line() {
    let addr = common::serve(app(Arc::default())).await;
    let reply = common::get(addr, "/ndjson", &[]).await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.text(),
        "{\"i\":0,\"token\":null}\n{\"i\":1,\"token\":null}\n{\"i\":2,\"token\":null}\n"
    );
}

#[tokio::test]
async fn a_failure_after_the_headers_aborts_the_body() {
    let reports = Arc::new(Mutex::new(Vec::new()));
    let addr = common::serve(app(reports.clone())).await;
    let raw = common::send_raw(
        addr,
        b"GET /late-error HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n",
    )
    .await;
    assert!(
        raw.starts_with("HTTP/1.1 200"),
        "{}",
        &raw[..raw.len().min(200)]
    );
    assert!(!raw.contains("pw-very-secret"));
    assert!(raw.contains(r#"{"name":"x","password":null}"#));
    // Chunked framing never completes: the client can tell the body is cut.
    assert!(!raw.ends_with("0\r\n\r\n"));
    let last = reports.lock().unwrap().last().cloned().unwrap();
    assert!(matches!(last.outcome(), Outcome::Aborted(Refusal::Json(_))));
}

#[tokio::test]
async fn report_handle_is_in_the_response_extensions() {
    use http_body_util::BodyExt;
    use tower::{Layer, ServiceExt};
    let svc = tower::service_fn(|_req: http::Request<()>| async {
        Ok::<_, std::convert::Infallible>(
            http::Response::builder()
                .header("content-type", "application/json")
                .body(http_body_util::Full::new(Bytes::from_static(
                    br#"{"ssn":"1","ok":1}"#,
                )))
                .unwrap(),
        )
    });
    let svc = RedactResponseLayer::new(Policy::default()).layer(svc);
    let res = svc.oneshot(http::Request::new(())).await.unwrap();
    let handle = res.extensions().get::<ReportHandle>().cloned().unwrap();
    let body = res.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body, r#"{"ssn":null,"ok":1}"#);
    let report = handle.get().unwrap();
    assert_eq!(report.tally().redacted(), 1);
    assert_eq!(report.bytes_in(), 18);
}
