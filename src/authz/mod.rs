//! Deny-by-default authorization of every request, proof against path and method bypasses.
//!
//! [`Authorize`] authenticates the request (any [`Authenticate`] hook: [`ApiKeys`], a JWT
//! closure, or [`PrincipalFromExtensions`] when an earlier layer already did it), finds the rule
//! for the method and route, evaluates its [`Requirement`], and either lets the request through
//! with the [`Principal`](crate::Principal) in its extensions or answers with a problem+json
//! `401` (with `WWW-Authenticate`), `403`, or `404` when [hiding existence](AuthorizeLayer::hide_existence).
//! Every decision, allow or deny, is a [`DecisionEvent`] sent to `tracing` and to an optional
//! [`DecisionSink`]. The served response carries the `Principal` in its extensions too, so an
//! access log outside this layer can name the caller.
//!
//! # Where it goes
//!
//! ```text
//! CompressionLayer            (outside)
//!   TraceLayer / access log
//!     SanitizeErrors
//!       Authorize             <- here: after logging and error sanitizing, before everything that reads data
//!         RedactResponse, CsvExport
//!           handler
//! ```
//!
//! Inside an axum `Router`, add it with [`Router::route_layer`](axum::Router::route_layer) (or
//! `Router::layer`: axum 0.8 runs both per route, after routing). It then decides on
//! [`MatchedPath`](axum::extract::MatchedPath): the exact route the router chose (the default,
//! [`Matching::MatchedPath`]). With `route_layer`, paths no route matches never reach it (axum
//! answers 404 and no handler runs); with `layer`, they reach it without a `MatchedPath` and are
//! denied. If `MatchedPath` is missing where a route did match (the router was wrapped from the
//! outside, or the layer sits on a router that `nest`s the guarded routes) every request is
//! denied: the layer never guesses. Add it inside the nested router instead; its `MatchedPath`
//! is the full path (`/api/v1/users/{id}`), which is what the rules name. Protect a custom
//! `fallback` yourself.
//!
//! In front of a plain hyper/tower service (or a whole router), use [`Matching::Path`]: the
//! layer canonicalizes the path, matches it against the rules' templates (matchit, axum syntax),
//! and passes the request on with its URI rewritten to that canonical path, so the service
//! routes exactly what was judged.
//!
//! # What is refused before any rule (400)
//!
//! * Non-canonical paths, see [`canonicalize`]: dot segments in any encoding (`..`, `%2e%2e`,
//!   `.%2e`, `..;`), `//`, encoded `/`, `\` and `;`, raw `\` and `;` (path parameters such as
//!   `/admin;x=y`), NUL and control characters, malformed or double percent-encoding, invalid
//!   UTF-8 (overlong forms), Unicode dot/slash look-alikes, trailing dots and spaces.
//! * Asterisk-form (`OPTIONS *`) and authority-form targets; absolute-form targets on HTTP/1
//!   unless [allowed](AuthorizeLayer::allow_absolute_form).
//! * Method overrides (`X-HTTP-Method-Override`, `X-HTTP-Method`, `X-Method-Override`, a
//!   `_method` query parameter), unless configured to [strip](MethodOverride::Strip) them.
//!
//! Fragments never reach a server (a raw `#` in the path is refused as an invalid character).
//! Paths are case-sensitive, as in the router: a rule for `/admin` does not match `/Admin`, so
//! `/Admin` has no rule and is denied by default. Percent-encoded unreserved characters are
//! decoded before matching (`/%61dmin` is `/admin`).
//!
//! # Methods and headers
//!
//! HEAD is judged by the route's GET rule (rules for HEAD are refused at build time). A method
//! without a rule, including any extension method, is denied. Headers that spoof routing or
//! identity ([`SPOOFING_HEADERS`], plus any you [name](AuthorizeLayer::strip_header)) are removed
//! before the service sees the request. `X-Forwarded-*` headers are left alone (the layer never
//! reads them).
//!
//! # Example
//!
//! ```
//! use axum::{Router, routing::get};
//! use http::Method;
//! use safeguard::Principal;
//! use safeguard::authz::{ApiKeys, AuthorizeLayer, Requirement, RuleSet};
//!
//! let rules = RuleSet::builder()
//!     .rule("health", Method::GET, "/health", Requirement::public())
//!     .rule("users.read", Method::GET, "/users/{id}",
//!           Requirement::owner("id").or(Requirement::any_role(["support"])))
//!     .rule("admin", Method::GET, "/admin", Requirement::any_role(["admin"]))
//!     .build()
//!     .expect("valid rules");
//!
//! // Keys come from a file or the environment (`ApiKeys::from_file`); tests generate them.
//! let key = ApiKeys::generate_key().unwrap();
//! let keys = ApiKeys::new().with_key(&key, Principal::new("alice"));
//!
//! let app: Router = Router::new()
//!     .route("/health", get(|| async { "ok" }))
//!     .route("/users/{id}", get(|| async { "a user" }))
//!     .route("/admin", get(|| async { "admin" }))
//!     .route_layer(AuthorizeLayer::new(rules.clone(), keys));
//!
//! // In the service's own test suite: every route has a rule.
//! rules.assert_covers(&[
//!     (Method::GET, "/health"), (Method::GET, "/users/{id}"), (Method::GET, "/admin"),
//! ]).unwrap();
//! # let _ = app;
//! ```

mod authenticate;
mod canonical;
mod events;
mod layer;
mod report;
mod rules;

pub use authenticate::{
    ApiKeys, AuthOutcome, AuthResult, Authenticate, BoxFuture, KeyFileError, MAX_API_KEY_LEN,
    PrincipalFromExtensions, Rejection,
};
pub use canonical::{DEFAULT_MAX_PATH_LEN, PathError, canonicalize, canonicalize_with_limit};
pub use events::{Decision, DecisionEvent, DecisionSink};
pub use layer::{
    Authorize, AuthorizeLayer, METHOD_OVERRIDE_HEADERS, Matching, MethodOverride, ResponseFuture,
    SPOOFING_HEADERS,
};
pub use report::{Access, AccessMatrix, AccessRow, Subject, Uncovered};
pub use rules::{
    Check, Evaluation, PathMatch, Predicate, Reason, RequestInfo, Requirement, Rule, RuleError,
    RuleSet, RuleSetBuilder, Verdict,
};
