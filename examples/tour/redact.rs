//! Tour stop: RedactResponse. One endpoint, three callers, three views of the same record.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use safeguard::policy::Policy;
use safeguard::response::{RedactResponseLayer, Report};
use safeguard::{Clearance, DataClass, Principal};

use super::http::{heading, send, serve, show};

/// Stands in for authentication: the `x-role` header becomes a `Principal`.
async fn authenticate(mut req: Request, next: Next) -> Response {
    let role = req.headers().get("x-role").and_then(|v| v.to_str().ok());
    let principal = match role {
        Some("support") => Some(
            Principal::new("agent-7")
                .with_role("support")
                .with_clearance(Clearance::partial(DataClass::Payment))
                .with_clearance(Clearance::partial(DataClass::Personal)),
        ),
        Some("billing") => Some(
            Principal::new("billing-1")
                .with_role("billing")
                .with_clearance(Clearance::full(DataClass::Payment))
                .with_clearance(Clearance::full(DataClass::Personal)),
        ),
        _ => None,
    };
    if let Some(principal) = principal {
        req.extensions_mut().insert(principal);
    }
    next.run(req).await
}

/// Runs the stop.
pub async fn run() -> Result<(), super::http::Error> {
    heading("RedactResponse: one endpoint, redacted per caller");
    // The hook runs when the body ends, before the client has read it: keep the line, print it
    // after the response.
    let audit = Arc::new(Mutex::new(String::new()));
    let sink = audit.clone();
    let layer = RedactResponseLayer::new(Policy::default()).on_complete(move |report: &Report| {
        let t = report.tally();
        if let Ok(mut line) = sink.lock() {
            *line = format!(
                "    (on_complete: {} redacted, {} revealed)",
                t.redacted(),
                t.revealed()
            );
        }
    });
    let app = Router::new()
        .route(
            "/customers/42",
            // Raw JSON as a handler might produce it: key spellings vary, one is escaped.
            get(|| async {
                (
                    [("content-type", "application/json")],
                    r#"{"id": 42, "name": "Ann Smith", "cardNumber": "4111111111111111",
                        "Email": "ann@example.com", "pass\u0077ord": "hunter2", "plan": "gold"}"#,
                )
            }),
        )
        .route(
            "/broken",
            get(|| async { ([("content-type", "application/json")], r#"{"token":"abc"#) }),
        )
        .layer(layer)
        .layer(middleware::from_fn(authenticate));
    let addr = serve(app).await?;
    for (who, headers) in [
        ("anonymous caller: classified values erased", &[][..]),
        (
            "support agent (partial clearance): masked",
            &[("x-role", "support")][..],
        ),
        (
            "billing (full clearance): revealed, except credentials",
            &[("x-role", "billing")][..],
        ),
    ] {
        let reply = send(addr, "GET", "/customers/42", headers, "").await?;
        show(who, "GET", "/customers/42", &reply);
        if let Ok(line) = audit.lock() {
            println!("{line}");
        }
    }
    let reply = send(addr, "GET", "/broken", &[], "").await?;
    show(
        "truncated JSON from the handler: refused, not leaked",
        "GET",
        "/broken",
        &reply,
    );
    Ok(())
}
