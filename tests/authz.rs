//! Authorize over real HTTP, inside an axum router (`route_layer`, `MatchedPath`): a conformance
//! suite of bypass attempts, class by class, plus deny-by-default, responses and events.
#![cfg(feature = "authorize")]

mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::extract::{MatchedPath, Request};
use axum::routing::{any, get};
use axum::{Json, Router};
use http::{HeaderName, Method, StatusCode};
use safeguard::Principal;
use safeguard::authz::{
    ApiKeys, AuthorizeLayer, Check, Decision, DecisionEvent, MethodOverride, Reason, RequestInfo,
    Requirement, RuleSet,
};

use common::{get as http_get, send, send_raw, serve};

/// Keys generated for this run; never literal.
struct Keys {
    alice: String,
    bob: String,
    admin: String,
    support: String,
    expired: String,
}

fn keys() -> (Keys, ApiKeys) {
    let k = || ApiKeys::generate_key().expect("randomness");
    let keys = Keys {
        alice: k(),
        bob: k(),
        admin: k(),
        support: k(),
        expired: k(),
    };
    let alice = Principal::new("alice")
        .with_tenant("acme")
        .with_permission("invoices:read");
    let api = ApiKeys::new()
        .with_key(&keys.alice, alice.clone())
        .with_key(
            &keys.bob,
            Principal::new("bob")
                .with_tenant("globex")
                .with_permission("invoices:read"),
        )
        .with_key(&keys.admin, Principal::new("root").with_role("admin"))
        .with_key(&keys.support, Principal::new("sam").with_role("support"))
        .with_expiring_key(
            &keys.expired,
            alice,
            SystemTime::now() - Duration::from_secs(1),
        );
    (keys, api)
}

fn rules() -> RuleSet {
    // Who owns which document: the async predicate "looks it up".
    let owners: Arc<HashMap<&'static str, &'static str>> =
        Arc::new(HashMap::from([("1", "alice"), ("2", "bob")]));
    let doc_owner = move |req: &RequestInfo<'_>| {
        let owners = owners.clone();
        let doc = req.param("id").map(|s| s.into_owned());
        let caller = req.principal().map(|p| p.subject().to_owned());
        Check::future(async move {
            tokio::time::sleep(Duration::from_millis(1)).await;
            match (doc, caller) {
                (Some(doc), Some(caller)) => owners.get(doc.as_str()) == Some(&caller.as_str()),
                _ => false,
            }
        })
    };
    RuleSet::builder()
        .rule("health", Method::GET, "/health", Requirement::public())
        .rule(
            "public.files",
            Method::GET,
            "/public/{*path}",
            Requirement::public(),
        )
        .rule(
            "admin",
            Method::GET,
            "/admin",
            Requirement::any_role(["admin"]),
        )
        .rule(
            "admin.sub",
            Method::GET,
            "/admin/{*rest}",
            Requirement::any_role(["admin"]),
        )
        .rule(
            "users.read",
            Method::GET,
            "/users/{id}",
            Requirement::owner("id").or(Requirement::any_role(["support"])),
        )
        .rule(
            "users.write",
            Method::PUT,
            "/users/{id}",
            Requirement::owner("id"),
        )
        .rule(
            "invoices.read",
            Method::GET,
            "/tenants/{tenant}/invoices/{id}",
            Requirement::tenant("tenant").and(Requirement::any_permission(["invoices:read"])),
        )
        .rule(
            "docs.read",
            Method::GET,
            "/docs/{id}",
            Requirement::authenticated().and(Requirement::custom(doc_owner)),
        )
        .rule(
            "items.create",
            Method::POST,
            "/items",
            Requirement::authenticated(),
        )
        .build()
        .expect("rules build")
}

/// Echoes what the handler saw: method, path, principal, and which spoofing headers survived.
async fn echo(req: Request) -> Json<serde_json::Value> {
    let principal = req
        .extensions()
        .get::<Principal>()
        .map(|p| p.subject().to_owned());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned());
    let seen: Vec<String> = req
        .headers()
        .keys()
        .map(|k| k.as_str().to_owned())
        .filter(|k| k.starts_with("x-") || k == "remote-user")
        .filter(|k| k != "x-api-key")
        .collect();
    Json(serde_json::json!({
        "method": req.method().as_str(),
        "path": req.uri().path(),
        "principal": principal,
        "route": route,
        "headers": seen,
    }))
}

fn router() -> Router {
    Router::new()
        .route("/health", any(echo))
        .route("/public/{*path}", any(echo))
        .route("/admin", any(echo))
        .route("/admin/{*rest}", any(echo))
        .route("/users/{id}", any(echo))
        .route("/tenants/{tenant}/invoices/{id}", any(echo))
        .route("/docs/{id}", any(echo))
        .route("/items", any(echo))
        .route("/unruled", get(echo))
        // A catch-all with no rule: every path reaches the layer (and is denied by default), so
        // bypass attempts get the layer's 400 rather than the router's 404.
        .route("/{*rest}", any(echo))
}

type Events = Arc<Mutex<Vec<String>>>;

async fn app(layer: impl FnOnce(AuthorizeLayer) -> AuthorizeLayer) -> (SocketAddr, Keys, Events) {
    let (k, api) = keys();
    let events: Events = Arc::default();
    let sink = {
        let events = events.clone();
        move |e: &DecisionEvent<'_>| {
            events.lock().unwrap().push(format!(
                "{}|{}|{}|{}|{}|{}|{}",
                e.decision,
                e.reason,
                e.principal.unwrap_or("-"),
                e.method,
                e.route.unwrap_or("-"),
                e.rule.unwrap_or("-"),
                e.status
            ))
        }
    };
    let base = AuthorizeLayer::new(rules(), api)
        .sink(sink)
        .strip_header(HeaderName::from_static("x-internal-role"));
    let addr = serve(router().route_layer(layer(base))).await;
    (addr, k, events)
}

async fn status(addr: SocketAddr, method: &str, target: &str, key: Option<&str>) -> StatusCode {
    let headers: Vec<(&str, &str)> = key.map(|k| ("x-api-key", k)).into_iter().collect();
    send(addr, method, target, &headers, "").await.status
}

fn raw_status(reply: &str) -> u16 {
    reply
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn allows_what_rules_allow() {
    let (addr, k, _) = app(|l| l).await;
    assert_eq!(status(addr, "GET", "/health", None).await, StatusCode::OK);
    assert_eq!(
        status(addr, "GET", "/public/css/site.css", None).await,
        StatusCode::OK
    );
    assert_eq!(
        status(addr, "GET", "/admin", Some(&k.admin)).await,
        StatusCode::OK
    );
    assert_eq!(
        status(addr, "GET", "/admin/users/7", Some(&k.admin)).await,
        StatusCode::OK
    );
    assert_eq!(
        status(addr, "GET", "/users/alice", Some(&k.alice)).await,
        StatusCode::OK
    );
    assert_eq!(
        status(addr, "GET", "/users/alice", Some(&k.support)).await,
        StatusCode::OK
    );
    assert_eq!(
        status(addr, "PUT", "/users/alice", Some(&k.alice)).await,
        StatusCode::OK
    );
    assert_eq!(
        status(addr, "GET", "/tenants/acme/invoices/9", Some(&k.alice)).await,
        StatusCode::OK
    );
    assert_eq!(
        status(addr, "GET", "/docs/1", Some(&k.alice)).await,
        StatusCode::OK
    );
    assert_eq!(
        status(addr, "POST", "/items", Some(&k.bob)).await,
        StatusCode::OK
    );

    // The handler sees the principal that was judged.
    let reply = http_get(addr, "/users/alice", &[("x-api-key", &k.alice)]).await;
    assert_eq!(reply.json()["principal"], "alice");
    let reply = http_get(addr, "/health", &[]).await;
    assert_eq!(reply.json()["principal"], serde_json::Value::Null);
}

#[tokio::test]
async fn denies_by_default() {
    let (addr, k, _) = app(|l| l).await;
    // Routes the router knows but no rule covers.
    for target in [
        "/unruled",
        "/anything/else",
        "/Admin",
        "/ADMIN",
        "/admin/",
        "/%61dmin",
        "/users",
    ] {
        assert_eq!(
            status(addr, "GET", target, None).await,
            StatusCode::UNAUTHORIZED,
            "{target}"
        );
        assert_eq!(
            status(addr, "GET", target, Some(&k.alice)).await,
            StatusCode::FORBIDDEN,
            "{target}"
        );
    }
    // Methods without a rule, standard or not.
    for method in [
        "DELETE", "POST", "PUT", "PATCH", "OPTIONS", "TRACE", "FOO", "get", "PROPFIND",
    ] {
        assert_eq!(
            status(addr, method, "/health", None).await,
            StatusCode::UNAUTHORIZED,
            "{method}"
        );
        assert_eq!(
            status(addr, method, "/admin", Some(&k.alice)).await,
            StatusCode::FORBIDDEN,
            "{method}"
        );
    }
    // HEAD is judged by the GET rule.
    assert_eq!(status(addr, "HEAD", "/health", None).await, StatusCode::OK);
    assert_eq!(
        status(addr, "HEAD", "/admin", Some(&k.alice)).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(addr, "HEAD", "/admin", Some(&k.admin)).await,
        StatusCode::OK
    );
    assert_eq!(
        status(addr, "HEAD", "/users/bob", Some(&k.alice)).await,
        StatusCode::FORBIDDEN
    );
}

/// Path normalization and encoding bypasses: every spelling that could reach `/admin` (or
/// escape `/public/`) through a different reading of the path is refused with 400, for
/// anonymous callers, non-admins and admins alike.
#[tokio::test]
async fn path_bypass_attempts_get_400() {
    let (addr, k, _) = app(|l| l).await;
    let attempts = [
        // dot segments, raw and encoded, any case and mix
        "/public/../admin",
        "/public/./../admin",
        "/./admin",
        "/admin/.",
        "/admin/..",
        "/public/%2e%2e/admin",
        "/public/%2E%2E/admin",
        "/public/%2E%2e/admin",
        "/public/.%2e/admin",
        "/public/%2e./admin",
        "/%2e/admin",
        "/public/.../admin",
        "/public/%2e%2e%2fadmin",
        // `..;` and path parameters (Tomcat/Spring style)
        "/public/..;/admin",
        "/public/..;x=y/admin",
        "/admin;x=y",
        "/admin;",
        "/public/%3b/admin",
        "/public/..%3b/admin",
        // empty segments
        "//admin",
        "/public//admin",
        "/admin//",
        "///admin",
        // encoded separators
        "/public/..%2fadmin",
        "/public/..%2Fadmin",
        "/public%2f..%2fadmin",
        "/public/..%5cadmin",
        "/public/..%5Cadmin",
        // double and malformed encoding
        "/public/%252e%252e/admin",
        "/public/%25%32%65%25%32%65/admin",
        "/public/%252f",
        "/public/%",
        "/public/%2",
        "/public/%zz",
        "/public/%%32e",
        // NUL and control characters, encoded
        "/admin%00",
        "/admin%00.css",
        "/public/%00/../admin",
        "/admin%0a",
        "/admin%0d%0a",
        "/admin%09",
        "/admin%7f",
        "/admin%c2%85",
        // overlong / invalid UTF-8 and Unicode look-alikes
        "/public/%c0%ae%c0%ae/admin",
        "/public/%c0%af",
        "/public/%e0%80%ae",
        "/public/%80",
        "/public/%ef%bc%8e%ef%bc%8e/admin",
        "/public/%e2%80%a5/admin",
        "/public/%ef%bc%8fadmin",
        "/admin%e2%80%8b",
        // trailing dots and whitespace (Windows trims them)
        "/admin.",
        "/admin./",
        "/admin%2e",
        "/admin%20",
        "/admin%20/",
        "/%20admin",
        "/admin%c2%a0",
        // raw characters a client may send: quote, brace, pipe, non-ASCII
        "/public/\"admin",
    ];
    for target in attempts {
        for key in [None, Some(k.alice.as_str()), Some(k.admin.as_str())] {
            let s = status(addr, "GET", target, key).await;
            assert_eq!(
                s,
                StatusCode::BAD_REQUEST,
                "{target} with key {}",
                key.is_some()
            );
        }
    }
}

/// Request lines a compliant client refuses to send.
#[tokio::test]
async fn raw_request_lines_are_refused() {
    let (addr, k, _) = app(|l| l).await;
    let key = &k.alice;
    let lines = [
        "GET /public/..\\admin HTTP/1.1",
        "GET /public\\..\\admin HTTP/1.1",
        "GET \\admin HTTP/1.1",
        "GET http://127.0.0.1/admin HTTP/1.1",
        "GET http://127.0.0.1/public/x HTTP/1.1",
        "GET https://evil.example/admin HTTP/1.1",
        "GET /adm\u{00ed}n HTTP/1.1",
        "GET /public/caf\u{00e9} HTTP/1.1",
        "GET /admin\u{0001} HTTP/1.1",
        "GET /public/a{b} HTTP/1.1",
        "GET /public/a|b HTTP/1.1",
        "GET /public/a^b HTTP/1.1",
        "OPTIONS * HTTP/1.1",
        "GET admin HTTP/1.1",
    ];
    for line in lines {
        for with_key in [false, true] {
            let auth = if with_key {
                format!("x-api-key: {key}\r\n")
            } else {
                String::new()
            };
            let raw = format!("{line}\r\nhost: 127.0.0.1\r\n{auth}connection: close\r\n\r\n");
            let reply = send_raw(addr, raw.as_bytes()).await;
            let code = raw_status(&reply);
            // 400 from the layer, or from hyper when it refuses the line itself; never a 2xx.
            assert!(
                code == 400
                    || (line.starts_with("OPTIONS *") && code == 404)
                    || (line.contains(" admin ") && code == 404),
                "{line:?}: {code}"
            );
        }
    }
    // A fragment is not part of the path: `/admin#x` is `/admin` for the router and for us.
    let raw = format!(
        "GET /admin#x HTTP/1.1\r\nhost: a\r\nx-api-key: {key}\r\nconnection: close\r\n\r\n"
    );
    let code = raw_status(&send_raw(addr, raw.as_bytes()).await);
    assert!(code == 403 || code == 400, "fragment: {code}");
}

#[tokio::test]
async fn method_override_is_rejected_or_stripped() {
    let (addr, k, _) = app(|l| l).await;
    for header in [
        "X-HTTP-Method-Override",
        "X-HTTP-Method",
        "X-Method-Override",
        "x-http-method-override",
    ] {
        for value in ["GET", "DELETE", "PUT"] {
            let reply = send(addr, "POST", "/health", &[(header, value)], "").await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{header}: {value}");
            let reply = send(
                addr,
                "POST",
                "/items",
                &[(header, value), ("x-api-key", &k.alice)],
                "",
            )
            .await;
            assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{header}: {value}");
        }
    }
    for target in [
        "/health?_method=DELETE",
        "/health?a=1&_method=PUT",
        "/health?%5Fmethod=PUT",
        "/health?_METHOD=put",
    ] {
        assert_eq!(
            status(addr, "GET", target, None).await,
            StatusCode::BAD_REQUEST,
            "{target}"
        );
    }

    // Strip mode: the override disappears and the real method is judged and run.
    let (addr, k, _) = app(|l| l.method_override(MethodOverride::Strip)).await;
    let reply = send(
        addr,
        "GET",
        "/health?_method=DELETE&x=1",
        &[("X-HTTP-Method-Override", "DELETE")],
        "",
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["method"], "GET");
    assert_eq!(reply.json()["headers"], serde_json::json!([]));
    // Overriding POST into GET does not borrow GET's public rule.
    let reply = send(
        addr,
        "POST",
        "/health",
        &[("X-HTTP-Method-Override", "GET")],
        "",
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    let reply = send(
        addr,
        "POST",
        "/admin",
        &[("X-HTTP-Method", "GET"), ("x-api-key", &k.admin)],
        "",
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn spoofing_headers_never_reach_the_handler() {
    let (addr, k, _) = app(|l| l).await;
    let spoof = [
        ("X-Original-URL", "/admin"),
        ("X-Rewrite-URL", "/admin"),
        ("X-Original-URI", "/admin"),
        ("X-Original-Method", "DELETE"),
        (
            "x-middleware-subrequest",
            "middleware:middleware:middleware:middleware:middleware",
        ),
        ("X-Remote-User", "root"),
        ("Remote-User", "root"),
        ("X-Forwarded-User", "root"),
        ("X-Authenticated-User", "root"),
        ("X-Auth-Request-User", "root"),
        ("X-Internal-Role", "admin"),
    ];
    for key in [None, Some(k.alice.as_str())] {
        let mut headers: Vec<(&str, &str)> = spoof.to_vec();
        headers.extend(key.map(|k| ("x-api-key", k)));
        let reply = send(addr, "GET", "/health", &headers, "").await;
        assert_eq!(reply.status, StatusCode::OK);
        assert_eq!(
            reply.json()["headers"],
            serde_json::json!([]),
            "{}",
            reply.text()
        );
        assert_eq!(reply.json()["path"], "/health");
        // And they open nothing: the spoofed target is not what gets judged.
        let reply = send(addr, "GET", "/public/x", &headers, "").await;
        assert_eq!(reply.json()["route"], "/public/{*path}");
        let reply = send(addr, "GET", "/admin", &headers, "").await;
        assert!(reply.status == StatusCode::UNAUTHORIZED || reply.status == StatusCode::FORBIDDEN);
    }
    // X-Forwarded-* stay (proxies set them; the layer never reads them).
    let reply = send(
        addr,
        "GET",
        "/health",
        &[("X-Forwarded-For", "10.0.0.1")],
        "",
    )
    .await;
    assert_eq!(
        reply.json()["headers"],
        serde_json::json!(["x-forwarded-for"])
    );
}

#[tokio::test]
async fn owner_and_tenant_swaps_are_refused() {
    let (addr, k, _) = app(|l| l).await;
    let forbidden = [
        ("GET", "/users/bob"),
        ("GET", "/users/%62ob"),
        ("GET", "/users/ALICE"),
        ("GET", "/users/Alice"),
        ("GET", "/users/alice2"),
        ("GET", "/users/root"),
        ("PUT", "/users/bob"),
        ("PUT", "/users/%62%6f%62"),
        ("GET", "/tenants/globex/invoices/1"),
        ("GET", "/tenants/Acme/invoices/1"),
        ("GET", "/tenants/acme2/invoices/1"),
        ("GET", "/tenants/%67lobex/invoices/1"),
        ("GET", "/docs/2"),
        ("GET", "/docs/3"),
        ("GET", "/admin"),
        ("GET", "/admin/users"),
    ];
    for (method, target) in forbidden {
        assert_eq!(
            status(addr, method, target, Some(&k.alice)).await,
            StatusCode::FORBIDDEN,
            "{method} {target}"
        );
        assert_eq!(
            status(addr, method, target, None).await,
            StatusCode::UNAUTHORIZED,
            "{method} {target}"
        );
    }
    let bad = [
        "/users/alice%00",
        "/users/alice%20",
        "/users/alice/..",
        "/users/alice%2f..%2fbob",
        "/users/alice;bob",
        "/users/alice%3bbob",
    ];
    for target in bad {
        assert_eq!(
            status(addr, "GET", target, Some(&k.alice)).await,
            StatusCode::BAD_REQUEST,
            "{target}"
        );
    }
    // Same resource, other spelling: still alice's.
    assert_eq!(
        status(addr, "GET", "/users/%61lice", Some(&k.alice)).await,
        StatusCode::OK
    );
    assert_eq!(
        status(addr, "GET", "/tenants/%61cme/invoices/1", Some(&k.alice)).await,
        StatusCode::OK
    );
    // The support role reads any user but writes none.
    assert_eq!(
        status(addr, "GET", "/users/bob", Some(&k.support)).await,
        StatusCode::OK
    );
    assert_eq!(
        status(addr, "PUT", "/users/bob", Some(&k.support)).await,
        StatusCode::FORBIDDEN
    );
    // Bob is bound to his tenant, with the same permission.
    assert_eq!(
        status(addr, "GET", "/tenants/acme/invoices/1", Some(&k.bob)).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(addr, "GET", "/tenants/globex/invoices/1", Some(&k.bob)).await,
        StatusCode::OK
    );
    assert_eq!(
        status(addr, "GET", "/docs/2", Some(&k.bob)).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn responses_reveal_nothing_about_rules() {
    let (addr, k, _) = app(|l| l).await;
    let reply = http_get(addr, "/admin", &[]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.headers["www-authenticate"], "ApiKey");
    assert_eq!(reply.headers["content-type"], "application/problem+json");
    let reply = http_get(addr, "/users/bob", &[("x-api-key", &k.alice)]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(reply.headers.get("www-authenticate").is_none());
    let body = reply.json();
    assert_eq!(body["status"], 403);
    for word in [
        "owner",
        "users.read",
        "support",
        "role",
        "{id}",
        "bob",
        "alice",
    ] {
        assert!(
            !reply.text().contains(word),
            "{word} leaked: {}",
            reply.text()
        );
    }
    let reply = http_get(addr, "/public/..%2f", &[]).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.headers["content-type"], "application/problem+json");
    assert!(!reply.text().contains("encoded"), "{}", reply.text());

    // Refused credentials: 401 even on a public route; so are expired and repeated keys.
    for headers in [
        vec![("x-api-key", "not-a-key")],
        vec![("x-api-key", k.expired.as_str())],
        vec![
            ("x-api-key", k.alice.as_str()),
            ("x-api-key", k.admin.as_str()),
        ],
    ] {
        let reply = send(addr, "GET", "/health", &headers, "").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
        assert!(reply.headers.contains_key("www-authenticate"));
    }

    // Hiding existence: 404 for both, with no challenge.
    let (addr, k, _) = app(|l| l.hide_existence(true)).await;
    let reply = http_get(addr, "/admin", &[]).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.headers.get("www-authenticate").is_none());
    assert_eq!(
        status(addr, "GET", "/users/bob", Some(&k.alice)).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        status(addr, "GET", "/users/alice", Some(&k.alice)).await,
        StatusCode::OK
    );
}

#[tokio::test]
async fn every_decision_is_an_event_without_credentials() {
    let (addr, k, events) = app(|l| l).await;
    status(addr, "GET", "/users/alice", Some(&k.alice)).await;
    status(addr, "GET", "/users/bob", Some(&k.alice)).await;
    status(addr, "GET", "/admin", None).await;
    status(addr, "GET", "/public/%2e%2e/admin", None).await;
    status(addr, "GET", "/health", Some("wrong-key")).await;
    status(addr, "GET", "/docs/2", Some(&k.alice)).await;
    let events = events.lock().unwrap().clone();
    assert_eq!(
        events,
        [
            "allow|granted|alice|GET|/users/{id}|users.read|0",
            "deny|not_owner|alice|GET|/users/{id}|users.read|403",
            "deny|unauthenticated|-|GET|/admin|admin|401",
            "reject|dot_segment|-|GET|-|-|400",
            "deny|invalid_credentials|-|GET|/health|-|401",
            "deny|predicate_denied|alice|GET|/docs/{id}|docs.read|403",
        ]
    );
    let all = events.join("\n");
    for key in [&k.alice, "wrong-key"] {
        assert!(!all.contains(key));
    }
}

#[tokio::test]
async fn router_layer_works_and_missing_matched_path_fails_closed() {
    // axum 0.8 runs `Router::layer` per route too (after routing), so `MatchedPath` is there.
    let (k, api) = keys();
    let addr = serve(router().layer(AuthorizeLayer::new(rules(), api))).await;
    assert_eq!(status(addr, "GET", "/health", None).await, StatusCode::OK);
    assert_eq!(
        status(addr, "GET", "/users/bob", Some(&k.alice)).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(addr, "GET", "/public/..%2f", None).await,
        StatusCode::BAD_REQUEST
    );

    // Wrapping the whole router from outside: routing has not happened, there is no
    // MatchedPath, and the layer must not guess: everything is denied.
    let (k, api) = keys();
    let events: Events = Arc::default();
    let sink = {
        let events = events.clone();
        move |e: &DecisionEvent<'_>| events.lock().unwrap().push(e.reason.to_string())
    };
    let layer = AuthorizeLayer::new(rules(), api).sink(sink);
    let addr = common::serve_service(tower::Layer::layer(&layer, router())).await;
    assert_eq!(
        status(addr, "GET", "/health", None).await,
        StatusCode::UNAUTHORIZED
    );
    let reply = http_get(addr, "/admin", &[("x-api-key", &k.admin)]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert_eq!(reply.headers["content-type"], "application/problem+json");
    assert_eq!(
        *events.lock().unwrap(),
        ["matched_path_missing", "matched_path_missing"]
    );
}

#[tokio::test]
async fn nested_router_guarded_inside() {
    let (k, api) = keys();
    let rules = RuleSet::builder()
        .rule(
            "v1.user",
            Method::GET,
            "/api/v1/users/{id}",
            Requirement::owner("id"),
        )
        .build()
        .unwrap();
    let inner = Router::new()
        .route("/users/{id}", get(echo))
        .route_layer(AuthorizeLayer::new(rules, api));
    let addr = serve(Router::new().nest("/api/v1", inner)).await;
    assert_eq!(
        status(addr, "GET", "/api/v1/users/alice", Some(&k.alice)).await,
        StatusCode::OK
    );
    assert_eq!(
        status(addr, "GET", "/api/v1/users/bob", Some(&k.alice)).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        status(addr, "GET", "/api/v1/users/..%2fbob", Some(&k.alice)).await,
        StatusCode::BAD_REQUEST
    );
}

#[test]
fn coverage_helper_names_uncovered_routes() {
    let rules = rules();
    let routes = [
        (Method::GET, "/health"),
        (Method::HEAD, "/health"),
        (Method::GET, "/users/{id}"),
        (Method::PUT, "/users/{id}"),
        (Method::GET, "/unruled"),
        (Method::DELETE, "/users/{id}"),
    ];
    let err = rules.assert_covers(&routes).unwrap_err();
    assert_eq!(
        err.missing(),
        [
            (Method::GET, "/unruled".to_owned()),
            (Method::DELETE, "/users/{id}".to_owned())
        ]
    );

    let m = rules.access_matrix();
    let text = m.to_text();
    assert!(text.contains("users.read"));
    let json = m.to_json();
    assert_eq!(json["rows"][2]["access"]["role:admin"], "allowed");
    assert_eq!(json["rows"][2]["access"]["role:support"], "denied");
    assert_eq!(json["rows"][4]["access"]["role:support"], "allowed");
    assert_eq!(json["rows"][4]["access"]["authenticated"], "conditional");
    let csv = m.to_csv();
    assert_eq!(csv.lines().count(), 1 + rules.len());
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .ends_with("role:admin,role:support,permission:invoices:read")
    );
}

#[test]
fn reasons_are_stable() {
    assert_eq!(Reason::NotOwner.to_string(), "not_owner");
    assert_eq!(Decision::Reject.to_string(), "reject");
}

#[tokio::test]
async fn allowed_response_carries_the_principal_for_outer_layers() {
    use tower::ServiceExt;
    let (k, api) = keys();
    let rules = RuleSet::builder()
        .rule("me", Method::GET, "/me", Requirement::authenticated())
        .build()
        .unwrap();
    let svc = tower::service_fn(|_req: http::Request<axum::body::Body>| async {
        Ok::<_, std::convert::Infallible>(http::Response::new(axum::body::Body::empty()))
    });
    let svc = tower::Layer::layer(
        &AuthorizeLayer::new(rules, api).matching(safeguard::authz::Matching::Path),
        svc,
    );
    let req = http::Request::get("/me")
        .header("x-api-key", &k.alice)
        .body(axum::body::Body::empty())
        .unwrap();
    let res = svc.oneshot(req).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.extensions().get::<Principal>().map(Principal::subject),
        Some("alice")
    );
}
