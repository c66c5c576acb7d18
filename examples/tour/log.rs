//! Tour stop: logs without secrets. Requests carry a password in JSON, a card number in the query
//! string and tokens in headers; the log lines they cause are printed next to them.

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query};
use axum::routing::{get, post};
use safeguard::log::{AccessLogLayer, Capture};
use safeguard::policy::Policy;
use serde::Deserialize;
use tracing_subscriber::prelude::*;

use super::http::{Error, heading, send, serve};

#[derive(Debug, Deserialize)]
struct Login {
    username: String,
    password: String,
}

#[derive(Debug, Deserialize)]
struct Pay {
    card_number: Option<String>,
    page: Option<u32>,
}

// `#[instrument]` records every argument with `Debug`: the password is in there.
#[tracing::instrument]
async fn login(Json(body): Json<Login>) -> &'static str {
    tracing::info!(user = %body.username, password = %body.password, "login attempt");
    "welcome"
}

#[tracing::instrument]
async fn pay(Path(order): Path<u32>, Query(query): Query<Pay>) -> &'static str {
    let card = query.card_number.unwrap_or_default();
    tracing::warn!(page = ?query.page, "payment declined for card {card}");
    "declined"
}

async fn me() -> &'static str {
    "profile"
}

fn print_logs(label: &str, logs: &str) {
    println!("    {label}:");
    for line in logs.lines() {
        println!("      {line}");
    }
}

async fn requests(text: Capture, json: Capture) -> Result<(), Error> {
    let policy = Policy::default();
    let app = Router::new()
        .route("/login", post(login))
        .route("/orders/{order}/pay", get(pay))
        .route("/me", get(me))
        .layer(
            AccessLogLayer::new(&policy)
                .allow_query("page")
                .allow_header("user-agent")
                .allow_header("authorization")
                .allow_header("x-api-key"),
        );
    let addr = serve(app).await?;

    let body = r#"{"username":"alice","password":"hunter2"}"#;
    println!("  A password in a JSON body (and in an #[instrument]ed argument)");
    println!("    > POST /login {body}");
    let reply = send(
        addr,
        "POST",
        "/login",
        &[("content-type", "application/json")],
        body,
    )
    .await?;
    println!("    < {} {}", reply.status.as_u16(), reply.text());
    print_logs("text log", &text.take());

    let target = "/orders/1234/pay?card_number=4111111111111111&page=2";
    println!("\n  A card number in the query string, a bearer token in a header");
    println!("    > GET {target}  (authorization: Bearer eyJhbGciOi.secret.token)");
    let headers = [
        ("authorization", "Bearer eyJhbGciOi.secret.token"),
        ("user-agent", "tour/1.0"),
    ];
    let reply = send(addr, "GET", target, &headers, "").await?;
    println!("    < {} {}", reply.status.as_u16(), reply.text());
    print_logs("text log", &text.take());

    println!("\n  An API key in the query string and in a header");
    println!("    > GET /me?api_key=ak_live_123  (x-api-key: ak_live_123)");
    let reply = send(
        addr,
        "GET",
        "/me?api_key=ak_live_123",
        &[("x-api-key", "ak_live_123")],
        "",
    )
    .await?;
    println!("    < {} {}", reply.status.as_u16(), reply.text());
    print_logs("text log", &text.take());

    println!("\n  An id in a path no route matched, as a JSON line");
    let _ = json.take();
    let reply = send(addr, "GET", "/users/98765/avatar", &[], "").await?;
    println!("    > GET /users/98765/avatar");
    println!("    < {} (no route)", reply.status.as_u16());
    print_logs("JSON log", &json.take());
    let _ = text.take();
    Ok(())
}

pub async fn run() -> Result<(), Error> {
    heading("Logs without secrets: redacting formatters and a safe access log");
    let policy = Policy::default();
    let text = Capture::new();
    let json = Capture::new();
    let subscriber = tracing_subscriber::registry()
        .with(
            safeguard::log::text_layer(&policy)
                .without_time()
                .with_ansi(false)
                .with_writer(text.clone()),
        )
        .with(
            safeguard::log::json_layer(&policy)
                .map_event_format(|f| f.without_time().with_span_list(false))
                .with_writer(json.clone()),
        )
        .with(
            tracing_subscriber::filter::Targets::new()
                .with_target("tour", tracing::Level::INFO)
                .with_target("safeguard", tracing::Level::INFO),
        );
    // A subscriber set as the thread's default covers every task of a current-thread runtime,
    // so this stop runs its server and client on one thread of its own.
    tokio::task::spawn_blocking(move || -> Result<(), Error> {
        let _guard = tracing::subscriber::set_default(subscriber);
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
            .block_on(requests(text, json))
    })
    .await?
}
