//! Tour stop: Authorize, deny-by-default authorization on a real axum server.

use axum::Router;
use axum::extract::Request;
use axum::routing::get;
use http::Method;
use safeguard::Principal;
use safeguard::authz::{ApiKeys, AuthorizeLayer, Requirement, RuleSet};

use super::http::{Error, heading, send, serve, show};

async fn whoami(req: Request) -> String {
    let who = req
        .extensions()
        .get::<Principal>()
        .map_or("anonymous", |p| p.subject());
    format!("hello {who}, here is {}", req.uri().path())
}

pub async fn run() -> Result<(), Error> {
    heading("Authorize: every request checked before the handler, deny by default");

    let rules = RuleSet::builder()
        .rule("health", Method::GET, "/health", Requirement::public())
        .rule("docs", Method::GET, "/docs/{*path}", Requirement::public())
        .rule(
            "admin",
            Method::GET,
            "/admin",
            Requirement::any_role(["admin"]),
        )
        .rule(
            "users.read",
            Method::GET,
            "/users/{id}",
            Requirement::owner("id").or(Requirement::any_role(["support"])),
        )
        .build()?;

    // Demo keys are generated for this run. A real service loads digests with
    // `ApiKeys::from_file` or `ApiKeys::from_env`: the plaintext key never reaches it.
    let alice_key = ApiKeys::generate_key().ok_or("no system randomness")?;
    let keys = ApiKeys::new().with_key(&alice_key, Principal::new("alice"));

    let app = Router::new()
        .route("/health", get(whoami))
        .route("/docs/{*path}", get(whoami))
        .route("/admin", get(whoami))
        .route("/users/{id}", get(whoami))
        .route_layer(AuthorizeLayer::new(rules.clone(), keys));
    let addr = serve(app).await?;
    let alice = [("x-api-key", alice_key.as_str())];

    let r = send(addr, "GET", "/admin", &[], "").await?;
    show(
        "anonymous caller, admin page: denied (401 + WWW-Authenticate)",
        "GET",
        "/admin",
        &r,
    );
    let r = send(addr, "GET", "/admin", &alice, "").await?;
    show(
        "alice is not an admin: denied (403), the body says nothing about rules",
        "GET",
        "/admin",
        &r,
    );
    let r = send(addr, "GET", "/users/alice", &alice, "").await?;
    show(
        "alice reads her own record: allowed",
        "GET",
        "/users/alice",
        &r,
    );
    let r = send(addr, "GET", "/users/bob", &alice, "").await?;
    show(
        "alice changes the id to bob's (IDOR): refused",
        "GET",
        "/users/bob",
        &r,
    );
    let r = send(addr, "GET", "/docs/..%2f..%2fadmin", &alice, "").await?;
    show(
        "path trick through a public prefix: 400 before any rule",
        "GET",
        "/docs/..%2f..%2fadmin",
        &r,
    );
    let r = send(addr, "DELETE", "/users/alice", &alice, "").await?;
    show(
        "a method without a rule: denied by default",
        "DELETE",
        "/users/alice",
        &r,
    );

    println!("  access review (rules.access_matrix().to_text()):");
    for line in rules.access_matrix().to_text().lines() {
        println!("    {line}");
    }
    Ok(())
}
