//! The redacting panic hook over real HTTP: a handler panics with classified values in its
//! message; neither the client, nor the layer's incident log, nor the hook's own report holds
//! them. Its own test binary, since a panic hook and a global subscriber are process-wide.
#![cfg(feature = "errors")]

mod common;

use axum::Router;
use axum::routing::get;
use common::Buf;
use safeguard::errors::{SanitizeErrorsLayer, install_panic_hook};
use safeguard::policy::Policy;

const SECRETS: [&str; 3] = ["jane.doe@example.com", "4111 1111 1111 1111", "hunter2"];

async fn charge() -> &'static str {
    panic!(
        "charge failed for jane.doe@example.com with card 4111 1111 1111 1111 (db Password=hunter2)"
    )
}

#[tokio::test]
async fn panics_are_reported_redacted_by_the_hook_and_the_layer() {
    let log = Buf::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::set_global_default(subscriber).expect("global subscriber");
    let previous = install_panic_hook(Policy::default());

    let app = Router::new()
        .route("/charge", get(charge))
        .layer(SanitizeErrorsLayer::new());
    let addr = common::serve(app).await;
    let reply = common::get(addr, "/charge", &[("x-request-id", "req-hook-1")]).await;
    std::panic::set_hook(previous);

    assert_eq!(reply.status, 500);
    let client = reply.text();
    assert!(!client.contains("charge failed"), "{client}");

    let log = log.text();
    let hook_line = log
        .lines()
        .find(|l| l.contains("safeguard::panic"))
        .unwrap_or_else(|| panic!("no hook report in:\n{log}"));
    assert!(hook_line.contains("panicked"), "{hook_line}");
    assert!(hook_line.contains("errors_panic_hook.rs"), "{hook_line}");
    assert!(hook_line.contains("charge failed for"), "{hook_line}");
    let incident_line = log
        .lines()
        .find(|l| l.contains("incident_id=req-hook-1 "))
        .unwrap_or_else(|| panic!("no incident line in:\n{log}"));
    assert!(
        incident_line.contains("charge failed for"),
        "{incident_line}"
    );
    for secret in SECRETS {
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
    }
}
