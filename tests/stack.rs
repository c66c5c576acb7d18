//! The whole stack (`SafeguardLayer`) in front of an axum app, over real HTTP on 127.0.0.1.

mod common;

use std::sync::{Arc, Mutex};

use axum::routing::get;
use axum::{Json, Router};
use http::Method;
use safeguard::SafeguardLayer;
use safeguard::audit::AuditEvent;
use safeguard::authz::{ApiKeys, AuthorizeLayer, Requirement, RuleSet};
use safeguard::log::Capture;
use safeguard::policy::Policy;
use safeguard::{Clearance, DataClass, Principal};
use serde_json::json;

const CARD: &str = "4111111111111111";

#[tokio::test]
async fn every_layer_in_order() {
    let policy = Policy::default();
    let agent_key = ApiKeys::generate_key().unwrap();
    let keys = ApiKeys::new().with_key(
        &agent_key,
        Principal::new("agent-7")
            .with_role("support")
            .with_clearance(Clearance::partial(DataClass::Payment)),
    );
    let rules = RuleSet::builder()
        .rule(
            "customer",
            Method::GET,
            "/customers/{id}",
            Requirement::any_role(["support"]),
        )
        .rule(
            "export",
            Method::GET,
            "/export.csv",
            Requirement::authenticated(),
        )
        .rule("boom", Method::GET, "/boom", Requirement::public())
        .build()
        .unwrap();
    let audit = Arc::new(Mutex::new(Vec::<AuditEvent>::new()));
    let sink = {
        let audit = audit.clone();
        move |e: &AuditEvent| audit.lock().unwrap().push(e.clone())
    };
    let app = Router::new()
        .route(
            "/customers/{id}",
            get(|| async { Json(json!({"id": 1, "card_number": CARD, "password": "pw-1"})) }),
        )
        .route(
            "/export.csv",
            get(|| async { ([("content-type", "text/csv")], "name,note\nann,=1+1\n") }),
        )
        .route(
            "/boom",
            get(|| async {
                panic!("connection to postgres://app:hunter2@10.0.0.5/db failed");
                #[allow(unreachable_code)]
                ""
            }),
        )
        .layer(SafeguardLayer::new(&policy, AuthorizeLayer::new(rules, keys)).audit(sink));

    let logs = Capture::new();
    let subscriber = safeguard::log::text(&policy)
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    // #[tokio::test] runs every task on this thread: the default subscriber sees the server's logs.
    let _guard = tracing::subscriber::set_default(subscriber);
    let addr = common::serve(app).await;
    let key = [("x-api-key", agent_key.as_str())];

    // Authorize: deny by default, 400 for path tricks.
    let anon = common::get(addr, "/customers/1", &[]).await;
    assert_eq!(anon.status, 401);
    assert_eq!(anon.headers["content-type"], "application/problem+json");
    let trick = common::get(addr, "/customers/..%2f..%2fexport.csv", &key).await;
    assert_eq!(trick.status, 400);

    // RedactResponse: the partial clearance masks the card; the password is never shown.
    let customer = common::get(addr, "/customers/1", &key).await;
    assert_eq!(customer.status, 200);
    assert_eq!(customer.json()["card_number"], "************1111");
    assert_eq!(customer.json()["password"], serde_json::Value::Null);

    // CsvExport: the formula cell is neutralized.
    let export = common::get(addr, "/export.csv", &key).await;
    assert_eq!(export.status, 200);
    assert!(export.text().contains("\"'=1+1\""), "{}", export.text());

    // SanitizeErrors: the panic becomes a problem document with an incident id.
    let boom = common::get(addr, "/boom", &[("x-request-id", "req-42")]).await;
    assert_eq!(boom.status, 500);
    assert_eq!(boom.json()["instance"], "urn:safeguard:incident:req-42");
    assert!(!boom.text().contains("postgres"));

    // Audit: decisions and disclosures, no values.
    let events = audit.lock().unwrap().clone();
    assert!(
        events
            .iter()
            .any(|e| e.kind == "decision" && e.outcome.as_deref() == Some("deny"))
    );
    assert!(events.iter().any(|e| e.kind == "disclosure"));
    let audit_text = serde_json::to_string(&events).unwrap();
    assert!(!audit_text.contains(CARD) && !audit_text.contains(&agent_key));

    // Logs: the access log names the route template and the principal; no secret anywhere.
    let out = logs.contents();
    assert!(out.contains("route=/customers/{id}"), "{out}");
    assert!(out.contains("principal=\"agent-7\""), "{out}");
    assert!(out.contains("req-42"), "{out}");
    for secret in [CARD, "hunter2", agent_key.as_str()] {
        assert!(!out.contains(secret), "secret {secret} in logs:\n{out}");
    }
}
