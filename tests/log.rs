//! Logs from a real server on 127.0.0.1 under requests that carry secrets: none of the planted
//! secrets reaches the log, in text and JSON, through the formatters, the writer and the access
//! log; non-sensitive fields stay readable.
#![cfg(feature = "log")]

mod common;

use std::fmt;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query};
use axum::http::HeaderMap;
use axum::routing::{get, post};
use safeguard::Principal;
use safeguard::log::{AccessLogLayer, Capture, SafeFields, SafeJson, SafeJsonFields, SafeWriter};
use safeguard::policy::Policy;
use safeguard::sensitive::{Credential, Sensitive};
use serde::Deserialize;

const PASSWORD: &str = "hunter2-Xq9";
const CARD: &str = "4111111111111111";
const CARD_SPACED: &str = "4111 1111 1111 1111";
const API_KEY: &str = "ak_live_Zr8Pq2";
const BEARER: &str = "tok-Bv7Lm3Qz";
const COOKIE: &str = "sess-Wc4Kj8";
const QUERY_TOKEN: &str = "qtok-Nh5Gt1";
const WRAPPED: &str = "wrapped-Sd6Fy0";
const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";

/// Every secret a request below carries, and only those.
const PLANTED: &[&str] = &[
    PASSWORD,
    CARD,
    CARD_SPACED,
    API_KEY,
    BEARER,
    COOKIE,
    QUERY_TOKEN,
    WRAPPED,
];

#[derive(Debug, Deserialize)]
struct Login {
    username: String,
    password: String,
}

#[derive(Debug, Deserialize)]
struct PayQuery {
    card_number: Option<String>,
    #[allow(dead_code)] // only read through Debug
    page: Option<u32>,
}

#[derive(Debug)]
struct DeclineError {
    card: String,
}

impl fmt::Display for DeclineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "card {} declined by issuer", self.card)
    }
}

impl std::error::Error for DeclineError {}

#[tracing::instrument(skip(headers))]
async fn login(headers: HeaderMap, Json(body): Json<Login>) -> &'static str {
    tracing::info!(username = %body.username, password = %body.password, "login attempt");
    tracing::debug!(?headers, "login headers");
    let wrapped: Sensitive<String, Credential> = Sensitive::new(WRAPPED.into());
    tracing::info!(secret_holder = ?wrapped, note = %wrapped, "wrapped value");
    "ok"
}

// Not skipping anything: `#[instrument]` records every argument with Debug.
#[tracing::instrument]
async fn pay(
    Path(order): Path<u32>,
    Query(query): Query<PayQuery>,
    body: String,
) -> (axum::http::StatusCode, &'static str) {
    let err = DeclineError {
        card: query.card_number.clone().unwrap_or_default(),
    };
    tracing::error!(
        error = &err as &(dyn std::error::Error + 'static),
        order,
        "payment failed: {err}"
    );
    tracing::warn!("upstream said: {body}");
    (axum::http::StatusCode::PAYMENT_REQUIRED, "declined")
}

#[tracing::instrument(fields(user = "bob"))]
async fn profile(headers: HeaderMap) -> (axum::http::Extensions, &'static str) {
    let _ = headers;
    let mut ext = axum::http::Extensions::new();
    ext.insert(Principal::new("user-42"));
    (ext, "profile")
}

fn app() -> Router {
    let policy = Policy::default();
    Router::new()
        .route("/login", post(login))
        .route("/orders/{order}/pay", post(pay))
        .route("/me", get(profile))
        .layer(
            AccessLogLayer::new(&policy)
                .allow_query("page")
                .allow_query("token")
                .allow_header("user-agent")
                .allow_header("authorization")
                .allow_header("x-api-key")
                .allow_header("cookie"),
        )
}

/// Sends the requests that carry secrets; returns after all answered.
async fn traffic() {
    let addr = common::serve(app()).await;
    let headers = [
        ("authorization", &*format!("Bearer {BEARER}")),
        ("cookie", &*format!("session={COOKIE}")),
        ("x-api-key", API_KEY),
        ("user-agent", "safeguard-test/1.0"),
        ("content-type", "application/json"),
        ("x-request-id", "req-777"),
    ];
    let body = format!(r#"{{"username":"alice","password":"{PASSWORD}"}}"#);
    let reply = common::send(addr, "POST", "/login", &headers, body).await;
    assert_eq!(reply.status, 200);

    let target = format!(
        "/orders/31337/pay?card_number={CARD}&page=2&token={QUERY_TOKEN}&api_key={API_KEY}"
    );
    let body = format!("retry with card {CARD_SPACED} and jwt {JWT}");
    let reply = common::send(addr, "POST", &target, &headers, body).await;
    assert_eq!(reply.status, 402);

    let reply = common::get(addr, &format!("/me?password={PASSWORD}"), &headers).await;
    assert_eq!(reply.status, 200);

    let reply = common::get(addr, "/nowhere/98765/x", &headers).await;
    assert_eq!(reply.status, 404);
}

fn assert_clean(out: &str) {
    for secret in PLANTED {
        assert!(!out.contains(secret), "secret {secret:?} in log:\n{out}");
    }
    // A JWT is caught by the detectors (once they are on) or as an `Authorization`-style value;
    // its signature part must not be in the log either way.
    assert!(
        !out.contains("dozjgNryP4J3jVmNHl0w5N"),
        "JWT in log:\n{out}"
    );
}

fn assert_readable(out: &str) {
    for visible in [
        "alice",
        "login attempt",
        "payment failed",
        "safeguard::access",
        "/orders/{order}/pay",
        "safeguard-test/1.0",
        "req-777",
        "user-42",
        "[REDACTED:credential]",
        "31337",
    ] {
        assert!(
            out.contains(visible),
            "{visible:?} missing from log:\n{out}"
        );
    }
}

#[tokio::test]
async fn text_format_keeps_secrets_out() {
    let logs = Capture::new();
    let subscriber = tracing_subscriber::fmt()
        .fmt_fields(SafeFields::new(Policy::default()))
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    traffic().await;
    let out = logs.contents();
    assert_clean(&out);
    assert_readable(&out);
    // Spans: `#[instrument]` arguments were formatted by SafeFields too.
    assert!(out.contains("pay{order=31337"), "{out}");
    assert!(out.contains("page=2"), "{out}");
    assert!(out.contains("password=[REDACTED:credential]"), "{out}");
    assert!(out.contains("route=/nowhere/{id}/x"), "{out}");
    assert!(
        out.contains("authorization: [REDACTED:credential]"),
        "{out}"
    );
}

#[tokio::test]
async fn json_format_keeps_secrets_out() {
    let logs = Capture::new();
    let policy = Policy::default();
    let subscriber = tracing_subscriber::fmt()
        .fmt_fields(SafeJsonFields::new(&policy))
        .event_format(SafeJson::new())
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(logs.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    traffic().await;
    let out = logs.contents();
    assert_clean(&out);
    assert_readable(&out);
    let mut saw_span_arg = false;
    let mut saw_access = false;
    for line in out.lines() {
        let json: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if json["span"]["name"] == "pay" {
            assert!(
                json["span"]["order"].to_string().contains("31337"),
                "{line}"
            );
            saw_span_arg = true;
        }
        if json["target"] == "safeguard::access" && json["fields"]["route"] == "/orders/{order}/pay"
        {
            assert_eq!(json["fields"]["status"], 402);
            assert_eq!(
                json["fields"]["query"],
                "page=2&token=[REDACTED:credential]"
            );
            assert_eq!(json["fields"]["request_id"], "req-777");
            saw_access = true;
        }
        if json["fields"]["message"] == "login attempt" {
            assert!(json["fields"]["password"].is_null(), "{line}");
            assert_eq!(json["fields"]["username"], "alice");
        }
    }
    assert!(saw_span_arg && saw_access, "{out}");
}

#[tokio::test]
async fn writer_guards_the_stock_formatter() {
    let logs = Capture::new();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(SafeWriter::new(Policy::default(), logs.clone()))
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    traffic().await;
    let out = logs.contents();
    assert_clean(&out);
    assert_readable(&out);
}

#[tokio::test]
async fn stock_json_through_the_writer_stays_json() {
    let logs = Capture::new();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::DEBUG)
        .with_writer(SafeWriter::new(Policy::default(), logs.clone()))
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    traffic().await;
    let out = logs.contents();
    assert_clean(&out);
    for line in out.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    }
}

#[tokio::test]
async fn access_log_reads_the_principal_from_the_response() {
    let logs = Capture::new();
    let subscriber = tracing_subscriber::fmt()
        .fmt_fields(SafeFields::new(Policy::default()))
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let addr = common::serve(app()).await;
    let reply = common::get(addr, "/me", &[("x-request-id", "bad id with spaces")]).await;
    assert_eq!(reply.status, 200);
    let out = logs.contents();
    let access = out
        .lines()
        .find(|l| l.contains("safeguard::access"))
        .unwrap_or_else(|| panic!("no access line:\n{out}"));
    assert!(access.contains("principal=\"user-42\""), "{access}");
    assert!(access.contains("route=/me"), "{access}");
    assert!(!access.contains("bad id"), "{access}");
}

/// A plain hyper service (no axum, so no `MatchedPath`): the path is templated, `Set-Cookie` is
/// never logged even when allowlisted, the principal set by an outer layer is read from the
/// request.
#[tokio::test]
async fn access_log_without_axum() {
    use std::convert::Infallible;
    use tower::ServiceBuilder;

    let logs = Capture::new();
    let subscriber = tracing_subscriber::fmt()
        .fmt_fields(SafeFields::new(Policy::default()))
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let svc = ServiceBuilder::new()
        .map_request(|mut req: http::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(Principal::new("svc-7"));
            req
        })
        .layer(
            AccessLogLayer::new(Policy::default())
                .allow_response_header("set-cookie")
                .allow_response_header("content-type")
                .allow_query("q"),
        )
        .service_fn(|_req: http::Request<hyper::body::Incoming>| async {
            let res = http::Response::builder()
                .status(503)
                .header("set-cookie", format!("session={COOKIE}"))
                .header("content-type", "text/plain")
                .body(http_body_util::Full::new(bytes::Bytes::from_static(
                    b"busy",
                )))
                .unwrap();
            Ok::<_, Infallible>(res)
        });
    let addr = common::serve_service(svc).await;
    let target = format!("/accounts/8812345/statements/jane.doe@example.com?q=card%20{CARD}");
    let reply = common::get(addr, &target, &[]).await;
    assert_eq!(reply.status, 503);
    let out = logs.contents();
    assert_clean(&out);
    let access = out
        .lines()
        .find(|l| l.contains("safeguard::access"))
        .unwrap_or_else(|| panic!("no access line:\n{out}"));
    assert!(access.contains("ERROR"), "{access}");
    assert!(
        access.contains("route=/accounts/{id}/statements/{id}"),
        "{access}"
    );
    assert!(
        access.contains("set-cookie: [REDACTED:credential]; content-type: text/plain"),
        "{access}"
    );
    assert!(access.contains("principal=\"svc-7\""), "{access}");
    assert!(access.contains("status=503"), "{access}");
    assert!(
        !access.contains("jane.doe") && !access.contains("8812345"),
        "{access}"
    );
}

/// A value cannot forge a log line: control characters are escaped in text output.
#[test]
fn values_cannot_forge_lines() {
    let logs = Capture::new();
    let subscriber = tracing_subscriber::fmt()
        .fmt_fields(SafeFields::new(Policy::default()))
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        let user = "bob\n2026-01-01T00:00:00Z  INFO forged: admin login ok\x1b[31m";
        tracing::info!(note = ?user, "user {user} logged in");
    });
    let out = logs.contents();
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(!out.contains('\x1b'), "{out}");
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn capture_json(f: impl FnOnce()) -> String {
        let logs = Capture::new();
        let subscriber = safeguard::log::json(Policy::default())
            .with_writer(logs.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, f);
        logs.contents()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// Whatever surrounds them, a classified field's value and a card number in free text never
        /// reach the log; every line stays valid JSON.
        #[test]
        fn classified_values_never_logged(prefix in "[ -~]{0,30}", secret in "[a-zA-Z0-9]{10,20}", note in "[ -~\\n]{0,40}") {
            let text = format!("{prefix} card {CARD_SPACED} ok {note}");
            let out = capture_json(|| {
                tracing::info!(password = %secret, api_key = ?secret, note = %text, "{text}");
            });
            prop_assert!(!out.contains(&secret), "{out}");
            prop_assert!(!out.contains(CARD_SPACED), "{out}");
            for line in out.lines() {
                prop_assert!(serde_json::from_str::<serde_json::Value>(line).is_ok(), "{line}");
            }
        }
    }
}

/// tower-http's `TraceLayer` records the whole URI, query string included: with `SafeFields`
/// the query's secrets are redacted in its span.
#[tokio::test]
async fn trace_layer_uri_is_scrubbed() {
    let logs = Capture::new();
    let subscriber = tracing_subscriber::fmt()
        .fmt_fields(SafeFields::new(Policy::default()))
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let app = Router::new()
        .route("/search", get(|| async { "ok" }))
        .layer(tower_http::trace::TraceLayer::new_for_http());
    let addr = common::serve(app).await;
    let target =
        format!("/search?api_key={API_KEY}&q=card+{CARD}&access_token={QUERY_TOKEN}&page=3");
    let reply = common::get(
        addr,
        &target,
        &[("authorization", &format!("Bearer {BEARER}"))],
    )
    .await;
    assert_eq!(reply.status, 200);
    let out = logs.contents();
    assert_clean(&out);
    assert!(
        out.contains("uri=/search?api_key=[REDACTED:credential]"),
        "{out}"
    );
    assert!(out.contains("page=3"), "{out}");
}

/// The recommended order with the real `Authorize` layer: the access log outside, the principal
/// copied to the response by `ExposePrincipalLayer` inside; the API key header never logged.
#[tokio::test]
async fn access_log_outside_authorize_sees_the_principal() {
    use http::Method;
    use safeguard::authz::{ApiKeys, AuthorizeLayer, Requirement, RuleSet};
    use safeguard::log::ExposePrincipalLayer;

    let logs = Capture::new();
    let subscriber = safeguard::log::text(Policy::default())
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let rules = RuleSet::builder()
        .rule(
            "invoices.read",
            Method::GET,
            "/invoices/{id}",
            Requirement::authenticated(),
        )
        .build()
        .expect("rules");
    let key = ApiKeys::generate_key().expect("randomness");
    let keys = ApiKeys::new().with_key(&key, Principal::new("alice"));
    let app = Router::new()
        .route("/invoices/{id}", get(|| async { "invoice" }))
        .layer(ExposePrincipalLayer)
        .route_layer(AuthorizeLayer::new(rules, keys))
        .layer(AccessLogLayer::new(Policy::default()).allow_header("x-api-key"));
    let addr = common::serve(app).await;
    let ok = common::get(addr, "/invoices/5521", &[("x-api-key", &key)]).await;
    assert_eq!(ok.status, 200);
    let denied = common::get(addr, "/invoices/5521", &[("x-api-key", "wrong-key-123")]).await;
    assert_eq!(denied.status, 401);
    let out = logs.contents();
    let access: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("safeguard::access"))
        .collect();
    assert_eq!(access.len(), 2, "{out}");
    assert!(
        access[0].contains("principal=\"alice\"") && access[0].contains("status=200"),
        "{out}"
    );
    assert!(access[0].contains("route=/invoices/{id}"), "{out}");
    assert!(
        !access[1].contains("principal=") && access[1].contains("status=401"),
        "{out}"
    );
    assert!(
        !out.contains(&key) && !out.contains("wrong-key-123") && !out.contains("5521"),
        "{out}"
    );
}
