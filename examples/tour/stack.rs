//! Tour stop: every layer at once with `SafeguardLayer`, and the audit chain it leaves.

use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::routing::get;
use axum::{Json, Router};
use http::Method;
use safeguard::SafeguardLayer;
use safeguard::audit::{AuditEvent, AuditSink, ChainedLog, verify_chain};
use safeguard::authz::{ApiKeys, AuthorizeLayer, Requirement, RuleSet};
use safeguard::keys::SecretKey;
use safeguard::policy::Policy;
use safeguard::{Clearance, DataClass, Principal};

use super::http::{Error, heading, send, serve, show};

/// The audit log's writer: a buffer the tour prints at the end (a file in production).
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The chain's key comes from `SAFEGUARD_AUDIT_KEY` (base64); without it the tour makes a
/// random one for this run. Returns a way to load it twice: once to seal, once to verify.
fn audit_key() -> Result<impl Fn() -> Result<SecretKey, Error>, Error> {
    let random = if std::env::var_os("SAFEGUARD_AUDIT_KEY").is_some() {
        None
    } else {
        use ring::rand::SecureRandom;
        let mut bytes = vec![0u8; 32];
        ring::rand::SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| "no system randomness")?;
        Some(bytes)
    };
    Ok(move || -> Result<SecretKey, Error> {
        Ok(match &random {
            Some(bytes) => SecretKey::from_bytes(bytes.clone())?,
            None => SecretKey::from_env("SAFEGUARD_AUDIT_KEY")?,
        })
    })
}

pub async fn run() -> Result<(), Error> {
    heading("All together: SafeguardLayer, and the audit chain it leaves");
    let policy = Policy::default();
    let agent_key = ApiKeys::generate_key().ok_or("no system randomness")?;
    let keys = ApiKeys::new().with_key(
        &agent_key,
        Principal::new("agent-7")
            .with_role("support")
            .with_clearance(Clearance::partial(DataClass::Payment)),
    );
    let rules = RuleSet::builder()
        .rule(
            "customer.read",
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
        .build()?;

    let key = audit_key()?;
    let log = Buffer::default();
    let chain = Arc::new(ChainedLog::new(log.clone(), key()?));
    let sink = {
        let chain = chain.clone();
        move |e: &AuditEvent| chain.record(e)
    };
    let app = Router::new()
        .route(
            "/customers/{id}",
            get(|| async {
                Json(serde_json::json!({"id": 1, "name": "Ann", "card_number": "4111111111111111", "password": "hunter2"}))
            }),
        )
        .route(
            "/export.csv",
            get(|| async { ([("content-type", "text/csv")], "name,note\nAnn,=HYPERLINK(\"http://evil.example\")\n") }),
        )
        .layer(SafeguardLayer::new(&policy, AuthorizeLayer::new(rules, keys)).audit(sink));
    let addr = serve(app).await?;

    let anonymous = send(addr, "GET", "/customers/1", &[], "").await?;
    show("no credentials: 401", "GET", "/customers/1", &anonymous);
    let api_key = [("x-api-key", agent_key.as_str())];
    let customer = send(addr, "GET", "/customers/1", &api_key, "").await?;
    show(
        "support agent: card masked, password erased",
        "GET",
        "/customers/1",
        &customer,
    );
    let export = send(addr, "GET", "/export.csv", &api_key, "").await?;
    show(
        "CSV export: formula neutralized",
        "GET",
        "/export.csv",
        &export,
    );

    let bytes = log.0.lock().map_err(|_| "poisoned")?.clone();
    println!("  audit chain (JSON lines, each sealed with HMAC over the previous seal):");
    for line in String::from_utf8_lossy(&bytes).lines() {
        let value: serde_json::Value = serde_json::from_str(line)?;
        println!("    {}", value["event"]);
    }
    let verified = verify_chain(&bytes[..], &key()?);
    println!("  verify_chain: {verified:?} (edit, drop or reorder a line and it names the line)");
    Ok(())
}
