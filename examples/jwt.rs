//! JWT authentication for the Authorize layer, built on the `jsonwebtoken` crate (no home-made
//! JWT parsing): a synchronous `Authenticate` closure turns a verified `Authorization: Bearer`
//! token into a `Principal`; the rules do the rest.
//!
//! The HMAC secret comes from the `JWT_SECRET` environment variable (at least 32 bytes). When it
//! is not set, this example generates a random one for the run, so it works out of the box.
//!
//! Run it with `cargo run --example jwt`. It serves on 127.0.0.1:0, sends a few requests and
//! exits.

use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::Request;
use axum::routing::get;
use bytes::Bytes;
use http::request::Parts;
use http::{Method, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use safeguard::Principal;
use safeguard::authz::{ApiKeys, AuthorizeLayer, Rejection, Requirement, RuleSet};
use serde::{Deserialize, Serialize};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// The claims this service expects.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: u64,
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
}

fn secret() -> Result<Vec<u8>, Error> {
    match std::env::var("JWT_SECRET") {
        Ok(s) if s.len() >= 32 => Ok(s.into_bytes()),
        Ok(_) => Err("JWT_SECRET must be at least 32 bytes".into()),
        Err(_) => {
            println!("(JWT_SECRET not set: using a random secret for this run)");
            Ok(ApiKeys::generate_key()
                .ok_or("no system randomness")?
                .into_bytes())
        }
    }
}

/// The authenticator: no token means anonymous; a bad or expired token is a rejection (401).
fn jwt_authenticator(
    secret: &[u8],
) -> impl Fn(&Parts) -> Result<Option<Principal>, Rejection> + Send + Sync + 'static {
    let key = DecodingKey::from_secret(secret);
    // Pin the algorithm: a token cannot choose a weaker one (or `none`).
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    move |parts: &Parts| {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Ok(None);
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(Rejection::invalid())?;
        let data = decode::<Claims>(token, &key, &validation).map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => Rejection::expired(),
            _ => Rejection::invalid(),
        })?;
        let claims = data.claims;
        let mut principal = Principal::new(claims.sub).with_roles(claims.roles);
        if let Some(t) = claims.tenant {
            principal = principal.with_tenant(t);
        }
        Ok(Some(principal))
    }
}

async fn hello(req: Request) -> String {
    let who = req
        .extensions()
        .get::<Principal>()
        .map_or("anonymous", |p| p.subject());
    format!("hello {who}")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let secret = secret()?;
    let rules = RuleSet::builder()
        .rule(
            "me",
            Method::GET,
            "/tenants/{tenant}/me",
            Requirement::tenant("tenant"),
        )
        .rule(
            "reports",
            Method::GET,
            "/tenants/{tenant}/reports",
            Requirement::tenant("tenant").and(Requirement::any_role(["analyst"])),
        )
        .build()?;
    let app = Router::new()
        .route("/tenants/{tenant}/me", get(hello))
        .route("/tenants/{tenant}/reports", get(hello))
        .route_layer(AuthorizeLayer::new(rules, jwt_authenticator(&secret)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });

    // Tokens an identity provider would issue.
    let key = EncodingKey::from_secret(&secret);
    let mint = |sub: &str, roles: &[&str], exp: u64| {
        let claims = Claims {
            sub: sub.to_owned(),
            exp,
            tenant: Some("acme".to_owned()),
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &key)
    };
    let ana = mint("ana", &["analyst"], now() + 300)?;
    let bo = mint("bo", &[], now() + 300)?;
    let stale = mint("ana", &["analyst"], now() - 60)?;

    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let cases = [
        ("no token", "/tenants/acme/me", None),
        ("ana, her tenant", "/tenants/acme/reports", Some(&ana)),
        ("ana, another tenant", "/tenants/globex/reports", Some(&ana)),
        ("bo, not an analyst", "/tenants/acme/reports", Some(&bo)),
        ("bo, his own profile", "/tenants/acme/me", Some(&bo)),
        ("expired token", "/tenants/acme/me", Some(&stale)),
    ];
    for (what, path, token) in cases {
        let mut req = http::Request::get(format!("http://{addr}{path}"));
        if let Some(token) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let res = client.request(req.body(Full::new(Bytes::new()))?).await?;
        let status = res.status();
        let body = res.into_body().collect().await?.to_bytes();
        println!(
            "{what:<22} GET {path:<24} -> {} {}",
            status.as_u16(),
            String::from_utf8_lossy(&body)
        );
    }
    Ok(())
}
