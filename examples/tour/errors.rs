//! Tour stop: SanitizeErrors. A panicking handler, a database error, a leaking 404 and an axum
//! rejection; the client's view and the server log side by side, joined by the incident id.

use std::convert::Infallible;
use std::io::Write;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, Query};
use axum::routing::future::RouteFuture;
use axum::routing::get;
use http::StatusCode;
use safeguard::errors::{SanitizeErrorsLayer, install_panic_hook};
use safeguard::policy::Policy;
use serde::Deserialize;
use tower::util::MapFutureLayer;
use tracing::instrument::WithSubscriber;

use super::http::{Error, heading, send, serve, show};

/// The server log, captured in memory so the tour can print it next to the client's view.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn lines_with(&self, needle: &str) -> Vec<String> {
        let all = self.0.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&all)
            .lines()
            .filter(|l| l.contains(needle))
            .map(str::to_owned)
            .collect()
    }
}

#[derive(Deserialize)]
struct Lookup {
    #[allow(dead_code)]
    id: u32,
}

async fn order(Path(id): Path<u32>) -> String {
    let customers: Vec<&str> = Vec::new();
    // A bug: this panics, and the panic message names a customer's email.
    let who = customers.get(id as usize).copied();
    let who: &str = who.unwrap_or_else(|| panic!("no customer for order {id} (jane@example.com)"));
    who.to_owned()
}

async fn users() -> (StatusCode, String) {
    // What `format!("{err}")` of an sqlx error gives, returned as-is by a careless handler.
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        "error returned from database: relation \"users\" does not exist\n\
         while connecting to postgres://app:hunter2@10.0.3.17:5432/prod"
            .to_owned(),
    )
}

async fn search() -> (StatusCode, &'static str) {
    (
        StatusCode::NOT_FOUND,
        "Traceback (most recent call last):\n  File \"/srv/app/search.py\", line 41, in find\nKeyError: 'q'",
    )
}

pub async fn run() -> Result<(), Error> {
    heading("SanitizeErrors: panics and database errors never reach the client");

    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .without_time()
        .finish();
    let dispatch = tracing::Dispatch::new(subscriber);

    let app = Router::new()
        .route("/orders/{id}", get(order))
        .route("/users", get(users))
        .route("/search", get(search))
        .route("/lookup", get(|Query(_): Query<Lookup>| async { "found" }))
        .layer(SanitizeErrorsLayer::new())
        // Only for the tour: route this server's events to the captured log.
        .layer(MapFutureLayer::new(move |fut: RouteFuture<Infallible>| {
            fut.with_subscriber(dispatch.clone())
        }));
    let addr = serve(app).await?;

    // Rust's default panic hook would print the panic's raw message (the customer's email) to
    // stderr; safeguard's hook reports it redacted, here into the same captured log.
    let default_hook = install_panic_hook(Policy::default());

    type Case = (
        &'static str,
        &'static str,
        &'static [(&'static str, &'static str)],
    );
    let requests: [Case; 4] = [
        ("a handler that panics", "/orders/7", &[]),
        (
            "a handler that returns the database error",
            "/users",
            &[("x-request-id", "tour-42")],
        ),
        ("a 404 whose body is a Python traceback", "/search", &[]),
        (
            "an axum rejection (`id` is not a u32)",
            "/lookup?id=abc",
            &[],
        ),
    ];
    for (what, target, headers) in requests {
        let reply = send(addr, "GET", target, headers, "").await?;
        show(what, "GET", target, &reply);
        let id = reply
            .headers
            .get("x-incident-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned();
        println!("    client: x-incident-id: {id}");
        for line in log.lines_with(&format!("incident_id={id} ")) {
            println!("    server log: {line}");
        }
        if target.starts_with("/orders") {
            for line in log.lines_with("safeguard::panic:") {
                // (A backtrace follows when RUST_BACKTRACE is set.)
                let line = line.split(" backtrace=").next().unwrap_or_default();
                println!("    panic hook: {line}");
            }
        }
    }
    std::panic::set_hook(default_hook);
    println!("  (rejections are logged at DEBUG; this log shows INFO and above)");
    println!(
        "  The client gets a problem document and an id; the log keeps the detail (redacted)."
    );
    Ok(())
}
