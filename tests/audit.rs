//! Audit evidence over real HTTP: every decision and every disclosure lands in a tamper-evident
//! chain, with ids, routes, classes and counts, never the classified values.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::routing::get;
use axum::{Json, Router};
use http::Method;
use safeguard::audit::{AuditDecisions, AuditDisclosures, AuditSink, ChainedLog, verify_chain};
use safeguard::authz::{ApiKeys, AuthorizeLayer, Requirement, RuleSet};
use safeguard::keys::SecretKey;
use safeguard::policy::Policy;
use safeguard::response::RedactResponseLayer;
use safeguard::{Clearance, DataClass, Principal};
use serde_json::json;

/// A writer shared between the server (through the chain) and the test.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn random_key_bytes() -> Vec<u8> {
    use ring::rand::SecureRandom;
    let mut key = vec![0u8; 32];
    ring::rand::SystemRandom::new().fill(&mut key).unwrap();
    key
}

#[tokio::test]
async fn decisions_and_disclosures_form_a_verifiable_chain_without_values() {
    let key = random_key_bytes();
    let out = Shared::default();
    let chain = Arc::new(ChainedLog::new(
        out.clone(),
        SecretKey::from_bytes(key.clone()).unwrap(),
    ));
    let sink = {
        let chain = chain.clone();
        move |e: &safeguard::audit::AuditEvent| chain.record(e)
    };

    let policy = Policy::default();
    let agent_key = ApiKeys::generate_key().unwrap();
    let keys = ApiKeys::new().with_key(
        &agent_key,
        Principal::new("agent-7")
            .with_role("support")
            .with_clearance(Clearance::full(DataClass::Payment)),
    );
    let rules = RuleSet::builder()
        .rule(
            "customer.read",
            Method::GET,
            "/customers/{id}",
            Requirement::any_role(["support"]),
        )
        .build()
        .unwrap();
    let app = Router::new()
        .route(
            "/customers/{id}",
            get(|| async {
                Json(json!({"id": 1, "card_number": "4111111111111111", "password": "pw-xyz-123"}))
            }),
        )
        .layer(
            RedactResponseLayer::new(policy.clone())
                .on_complete(AuditDisclosures::new(sink.clone(), policy.clone())),
        )
        .layer(AuthorizeLayer::new(rules, keys).sink(AuditDecisions::new(sink)));
    let addr = common::serve(app).await;

    let denied = common::get(addr, "/customers/1", &[]).await;
    assert_eq!(denied.status, 401);
    let allowed = common::get(addr, "/customers/1", &[("x-api-key", &agent_key)]).await;
    assert_eq!(allowed.status, 200);
    assert_eq!(allowed.json()["card_number"], "4111111111111111");
    assert_eq!(allowed.json()["password"], serde_json::Value::Null);

    let log = out.0.lock().unwrap().clone();
    let text = String::from_utf8(log.clone()).unwrap();
    assert_eq!(
        verify_chain(&log[..], &SecretKey::from_bytes(key).unwrap()),
        Ok(3)
    );
    for secret in ["4111111111111111", "pw-xyz-123", agent_key.as_str()] {
        assert!(!text.contains(secret), "audit log holds a secret: {text}");
    }
    let events: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["event"].clone())
        .collect();
    assert_eq!(events[0]["kind"], "decision");
    assert_eq!(events[0]["outcome"], "deny");
    assert_eq!(events[0]["action"], "GET /customers/{id}");
    assert_eq!(events[1]["outcome"], "allow");
    assert_eq!(events[1]["principal"], "agent-7");
    assert_eq!(events[2]["kind"], "disclosure");
    assert_eq!(events[2]["principal"], "agent-7");
    assert_eq!(events[2]["details"]["payment.revealed"], 1);
    assert_eq!(events[2]["details"]["credential.redacted"], 1);
}
