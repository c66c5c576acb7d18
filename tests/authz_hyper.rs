//! Authorize in front of a plain hyper service (no router): `Matching::Path` canonicalizes the
//! path, matches it against the rules, and hands the service the canonical path it judged.
#![cfg(feature = "authorize")]

mod common;

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use safeguard::Principal;
use safeguard::authz::{ApiKeys, AuthOutcome, AuthorizeLayer, Matching, Requirement, RuleSet};
use tower::ServiceBuilder;

use common::{send, send_raw, serve_service};

struct Keys {
    alice: String,
    admin: String,
}

fn rules() -> RuleSet {
    RuleSet::builder()
        .rule("health", Method::GET, "/health", Requirement::public())
        .rule(
            "static",
            Method::GET,
            "/static/{*path}",
            Requirement::public(),
        )
        .rule(
            "admin",
            Method::GET,
            "/admin",
            Requirement::any_role(["admin"]),
        )
        .rule(
            "admin.any",
            Method::GET,
            "/admin/{*rest}",
            Requirement::any_role(["admin"]),
        )
        .rule(
            "account",
            Method::GET,
            "/accounts/{id}",
            Requirement::owner("id"),
        )
        .rule(
            "account.delete",
            Method::DELETE,
            "/accounts/{id}",
            Requirement::owner("id"),
        )
        .rule(
            "orgs",
            Method::GET,
            "/orgs/{tenant}/reports/{*path}",
            Requirement::tenant("tenant").and(Requirement::any_role(["analyst"])),
        )
        .build()
        .unwrap()
}

/// The inner service: a naive file-server-like handler that would happily serve whatever path
/// it is handed. It reports the path it saw.
async fn echo(req: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let who = req
        .extensions()
        .get::<Principal>()
        .map_or("-", |p| p.subject())
        .to_owned();
    let body = format!("{} {} {}", req.method(), req.uri().path(), who);
    Ok(Response::new(Full::new(Bytes::from(body))))
}

async fn start(api: ApiKeys) -> SocketAddr {
    let svc = ServiceBuilder::new()
        .layer(AuthorizeLayer::new(rules(), api).matching(Matching::Path))
        .service(tower::service_fn(echo));
    serve_service(svc).await
}

async fn setup() -> (SocketAddr, Keys) {
    let keys = Keys {
        alice: ApiKeys::generate_key().unwrap(),
        admin: ApiKeys::generate_key().unwrap(),
    };
    let api = ApiKeys::new()
        .bearer()
        .with_key(
            &keys.alice,
            Principal::new("alice")
                .with_tenant("acme")
                .with_role("analyst"),
        )
        .with_key(&keys.admin, Principal::new("root").with_role("admin"));
    (start(api).await, keys)
}

async fn call(
    addr: SocketAddr,
    method: &str,
    target: &str,
    key: Option<&str>,
) -> (StatusCode, String) {
    let auth = key.map(|k| format!("Bearer {k}"));
    let headers: Vec<(&str, &str)> = auth
        .as_deref()
        .map(|a| ("authorization", a))
        .into_iter()
        .collect();
    let reply = send(addr, method, target, &headers, "").await;
    (reply.status, reply.text())
}

#[tokio::test]
async fn allowed_requests_reach_the_service_with_the_canonical_path() {
    let (addr, k) = setup().await;
    assert_eq!(
        call(addr, "GET", "/health", None).await,
        (StatusCode::OK, "GET /health -".into())
    );
    assert_eq!(call(addr, "HEAD", "/health", None).await.0, StatusCode::OK);
    assert_eq!(
        call(addr, "GET", "/admin", Some(&k.admin)).await,
        (StatusCode::OK, "GET /admin root".into())
    );
    // Encoded unreserved characters are decoded: the service routes what was judged.
    assert_eq!(
        call(addr, "GET", "/%61dmin", Some(&k.admin)).await,
        (StatusCode::OK, "GET /admin root".into())
    );
    assert_eq!(
        call(addr, "GET", "/static/a%7eb/c%3fd", None).await,
        (StatusCode::OK, "GET /static/a~b/c%3Fd -".into())
    );
    assert_eq!(
        call(addr, "GET", "/accounts/alice", Some(&k.alice)).await.0,
        StatusCode::OK
    );
    assert_eq!(
        call(addr, "DELETE", "/accounts/%61lice", Some(&k.alice))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        call(addr, "GET", "/orgs/acme/reports/q1/sales", Some(&k.alice))
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn deny_by_default_without_a_router() {
    let (addr, k) = setup().await;
    for target in [
        "/",
        "/healthz",
        "/health/",
        "/Health",
        "/ADMIN",
        "/Admin",
        "/admin2",
        "/static",
        "/accounts",
    ] {
        assert_eq!(
            call(addr, "GET", target, None).await.0,
            StatusCode::UNAUTHORIZED,
            "{target}"
        );
        assert_eq!(
            call(addr, "GET", target, Some(&k.alice)).await.0,
            StatusCode::FORBIDDEN,
            "{target}"
        );
    }
    for method in [
        "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "BREW", "get",
    ] {
        assert_eq!(
            call(addr, method, "/health", None).await.0,
            StatusCode::UNAUTHORIZED,
            "{method}"
        );
    }
    assert_eq!(
        call(addr, "HEAD", "/admin", Some(&k.alice)).await.0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn path_bypass_classes_get_400() {
    let (addr, k) = setup().await;
    // Each class reaches `/admin` or escapes `/static/` through a second reading of the path.
    let prefixes = ["/static", "/accounts/alice", "/orgs/acme/reports"];
    let escapes = [
        "/../admin",
        "/./../admin",
        "/%2e%2e/admin",
        "/%2E%2E/admin",
        "/.%2E/admin",
        "/%2e./admin",
        "/..;/admin",
        "/..;a=b/admin",
        "/;/admin",
        "//../admin",
        "/..%2fadmin",
        "/..%2Fadmin",
        "/..%5cadmin",
        "/%252e%252e/admin",
        "/%25%32%65%25%32%65/admin",
        "/%c0%ae%c0%ae/admin",
        "/%e0%80%ae%e0%80%ae/admin",
        "/%ef%bc%8e%ef%bc%8e/admin",
        "/..%00/admin",
        "/%00",
        "/x%0d%0aSet-Cookie:a",
        "/x%",
        "/x%2",
        "/x%g0",
        "/x.",
        "/x%20",
        "/...",
        "/x%c2%a0",
    ];
    for prefix in prefixes {
        for escape in escapes {
            let target = format!("{prefix}{escape}");
            for key in [None, Some(k.alice.as_str()), Some(k.admin.as_str())] {
                assert_eq!(
                    call(addr, "GET", &target, key).await.0,
                    StatusCode::BAD_REQUEST,
                    "{target}"
                );
            }
        }
    }
    for raw_target in [
        "/static/..\\admin",
        "/static\\..\\admin",
        "http://127.0.0.1/admin",
        "*",
        "/st%61tic/caf\u{e9}",
        "/admin\u{7f}",
    ] {
        let raw = format!(
            "GET {raw_target} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer {}\r\nconnection: close\r\n\r\n",
            k.admin
        );
        let reply = send_raw(addr, raw.as_bytes()).await;
        assert!(reply.starts_with("HTTP/1.1 400"), "{raw_target:?}: {reply}");
    }
}

#[tokio::test]
async fn owner_and_tenant_swaps() {
    let (addr, k) = setup().await;
    for (method, target) in [
        ("GET", "/accounts/root"),
        ("GET", "/accounts/%72oot"),
        ("GET", "/accounts/Alice"),
        ("GET", "/accounts/alice%40acme"),
        ("DELETE", "/accounts/root"),
        ("GET", "/orgs/globex/reports/q1"),
        ("GET", "/orgs/ACME/reports/q1"),
        ("GET", "/orgs/acme%2e/reports/q1"),
    ] {
        let status = call(addr, method, target, Some(&k.alice)).await.0;
        assert!(
            status == StatusCode::FORBIDDEN || status == StatusCode::BAD_REQUEST,
            "{method} {target}: {status}"
        );
        assert_ne!(call(addr, method, target, None).await.0, StatusCode::OK);
    }
    // The admin role is not an owner: no implicit super-user.
    assert_eq!(
        call(addr, "GET", "/accounts/alice", Some(&k.admin)).await.0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn async_authentication_and_override_headers() {
    // An asynchronous authenticator (e.g. token introspection), as a plain closure.
    let auth = |parts: &http::request::Parts| {
        let user = parts
            .headers
            .get("x-test-user")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        AuthOutcome::future(async move {
            tokio::task::yield_now().await;
            Ok(user.map(|u| Principal::new(u).with_role("admin")))
        })
    };
    let svc = ServiceBuilder::new()
        .layer(AuthorizeLayer::new(rules(), auth).matching(Matching::Path))
        .service(tower::service_fn(echo));
    let addr = serve_service(svc).await;
    let reply = send(addr, "GET", "/admin", &[("x-test-user", "ops")], "").await;
    assert_eq!(
        (reply.status, reply.text()),
        (StatusCode::OK, "GET /admin ops".to_owned())
    );
    let reply = send(addr, "GET", "/admin", &[], "").await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.headers["www-authenticate"], "Bearer");
    let reply = send(
        addr,
        "DELETE",
        "/admin",
        &[("x-test-user", "ops"), ("X-HTTP-Method-Override", "GET")],
        "",
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    let reply = send(addr, "GET", "/admin/..%2f", &[("x-test-user", "ops")], "").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
}
