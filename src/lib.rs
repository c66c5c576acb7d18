//! # safeguard
//!
//! Tower layers that keep sensitive data where it belongs in axum and hyper services: every
//! request authorized (deny by default), classified fields redacted from responses and logs per
//! the caller's clearances, errors without internals, CSV exports without formulas, and audit
//! evidence of every decision and disclosure, all driven by one [`Policy`](policy::Policy)
//! described in code.
//!
//! ## Quick start
//!
//! ```no_run
//! use axum::{Json, Router, routing::get};
//! use http::Method;
//! use safeguard::SafeguardLayer;
//! use safeguard::audit::TracingSink;
//! use safeguard::authz::{ApiKeys, AuthorizeLayer, Requirement, RuleSet};
//! use safeguard::policy::{Action, ClassRule, Policy};
//! use safeguard::DataClass;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // What is sensitive and who sees what: secure defaults plus your own fields.
//!     let policy = Policy::builder()
//!         .field("loyalty_id", DataClass::Personal)
//!         .class(DataClass::Payment, ClassRule::erase().partial(Action::Mask { keep_last: 4 }))
//!         .build()?;
//!     // Logs go through the same policy.
//!     safeguard::log::text(&policy).init();
//!
//!     // Who may call what: no rule, no access.
//!     let rules = RuleSet::builder()
//!         .rule("health", Method::GET, "/health", Requirement::public())
//!         .rule("customer", Method::GET, "/customers/{id}",
//!               Requirement::owner("id").or(Requirement::any_role(["support"])))
//!         .build()?;
//!     let keys = ApiKeys::from_env("API_KEYS")?; // lines of `sha256:<hex> <subject> roles=...`
//!
//!     let app = Router::new()
//!         .route("/health", get(|| async { "ok" }))
//!         .route("/customers/{id}", get(|| async {
//!             Json(serde_json::json!({"id": 7, "email": "ann@example.com", "card_number": "4111111111111111"}))
//!         }))
//!         // Access log, error sanitizing, authorization, redaction, CSV neutralizing, audit:
//!         .layer(SafeguardLayer::new(&policy, AuthorizeLayer::new(rules, keys)).audit(TracingSink));
//!         // .layer(CompressionLayer::new())   // compression goes outside
//!
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//!     axum::serve(listener, app).await?;
//!     Ok(())
//! }
//! ```
//!
//! ## Where each layer goes
//!
//! Outermost first; [`SafeguardLayer`] assembles this order, and every layer is usable alone.
//!
//! | Layer | Module | Why there |
//! |---|---|---|
//! | `CompressionLayer` (tower-http) | | compresses bytes that are already safe; the layers below cannot read compressed bodies and refuse them (fail closed) |
//! | `TraceLayer` / [`AccessLogLayer`](log::AccessLogLayer) | [`log`] | sees the status the client got; logs route templates, never raw query strings or credentials |
//! | [`SanitizeErrorsLayer`](errors::SanitizeErrorsLayer) | [`errors`] | covers everything that can fail below it, authorization included |
//! | [`AuthorizeLayer`](authz::AuthorizeLayer) | [`authz`] | decides before any handler runs; puts the [`Principal`] in the extensions |
//! | [`RedactResponseLayer`](response::RedactResponseLayer) | [`response`], engine [`json`] | needs the `Principal` to apply clearances |
//! | [`CsvExportLayer`](export::CsvExportLayer) | [`export`], engine [`csv`] | rewrites CSV exports as they stream |
//!
//! ## Modules
//!
//! - Core (always built): [`policy`] (field rules, actions, clearances), [`class`], [`principal`],
//!   [`keys`] (pseudonym keys from env/files), [`detect`] (validated detectors for free text),
//!   [`sensitive`] (`Sensitive<T>`), [`problem`] (RFC 9457), [`audit`] (tamper-evident evidence).
//! - Features, all on by default: `authorize` ([`authz`]), `redact` ([`json`], [`response`]),
//!   `errors` ([`errors`]), `csv` ([`csv`], [`export`]), `log` ([`log`]).
//!
//! ## Guarantees
//!
//! - **Fail closed**: a layer that cannot do its job (malformed JSON declared as JSON, a body it
//!   cannot decode, a value over a limit, an ambiguous path) does not let the sensitive bytes out.
//! - **Bounded memory**: every buffer has a stated, configurable limit; bodies stream.
//! - **No panics on any input**, and no secret in code or in `Debug` output.
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod audit;
pub mod class;
pub mod detect;
pub mod keys;
pub mod policy;
pub mod principal;
pub mod problem;
pub mod sensitive;

#[cfg(feature = "authorize")]
pub mod authz;
#[cfg(feature = "csv")]
pub mod csv;
#[cfg(feature = "errors")]
pub mod errors;
#[cfg(feature = "csv")]
pub mod export;
#[cfg(feature = "redact")]
pub mod json;
#[cfg(feature = "log")]
pub mod log;
#[cfg(feature = "redact")]
pub mod response;
#[cfg(all(
    feature = "authorize",
    feature = "redact",
    feature = "errors",
    feature = "csv",
    feature = "log"
))]
pub mod stack;

pub use class::{Clearance, DataClass};
pub use principal::Principal;
#[cfg(all(
    feature = "authorize",
    feature = "redact",
    feature = "errors",
    feature = "csv",
    feature = "log"
))]
pub use stack::SafeguardLayer;
