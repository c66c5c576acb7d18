//! SanitizeErrors: panics, server errors and leaking client errors become clean RFC 9457 problem
//! documents carrying an incident id; the original stays on the server, in the log.
//!
//! What the layer does, per response:
//!
//! - **Panics** in the inner service's `call`, in its response future or in its response body are
//!   caught. Before the head is sent they become a `500 application/problem+json`; mid-stream the
//!   body ends with a [`BodyPanicked`] error (the connection is cut, nothing of the panic is sent).
//! - **Server errors.** Every response with a status at or above the threshold (default 500) gets
//!   its body replaced, whatever its content type, streamed or not. The first bytes of the
//!   original (bounded by [`SanitizeErrorsLayer::log_limit`], read for at most
//!   [`SanitizeErrorsLayer::read_timeout`]) or the panic message are logged at `ERROR` on target
//!   `safeguard::errors` with the incident id, after redaction. An `Err` from the inner service is
//!   handled the same way: the layer's error type is [`Infallible`](std::convert::Infallible).
//! - **Incident id**: the request's `x-request-id` (configurable) when it is 1 to 64 characters
//!   of `[A-Za-z0-9._:-]`, else 128 random bits (ring). Sent in `x-incident-id` (configurable) and
//!   as `instance` = `urn:safeguard:incident:<id>`.
//! - **Leaking 4xx**: bodies pass through unless the [`scan`] engine finds stack traces, SQL
//!   errors, file paths, connection strings or private addresses in the first 16 KiB
//!   (configurable); then the status is kept and the body replaced. axum extractor rejections are
//!   rewritten to say only which part of the request was invalid ([`RequestPart`]).
//!   A content-encoded 4xx body cannot be scanned and is withheld (fail closed): put
//!   `CompressionLayer` outside this layer.
//! - **Headers** revealing the stack ([`REVEALING_HEADERS`] and any you name) are removed; a
//!   rewritten response keeps only the original headers clients need (CORS, `Retry-After`,
//!   `WWW-Authenticate`, `Allow`, `Vary`, `Set-Cookie`, security headers).
//! - **Hooks**: [`MakeProblem`] writes the documents; [`SafeToShow`] / [`PublicError`] mark bodies
//!   meant for users.
//! - **The process panic hook** (opt-in, [`install_panic_hook`]): Rust's default hook prints a
//!   panic's raw message to stderr before the layer catches it; this one prints it redacted.
//!
//! Where it goes: inside `TraceLayer` (so the trace records the status actually sent) and inside
//! `CompressionLayer` (so it reads plain bytes), outside everything that can fail.
//!
//! ```
//! use axum::{Router, routing::get};
//! use safeguard::errors::SanitizeErrorsLayer;
//!
//! async fn boom() -> &'static str { panic!("secret internals") }
//! let app: Router = Router::new().route("/boom", get(boom)).layer(SanitizeErrorsLayer::new());
//! # let _ = app;
//! ```

mod deadline;
mod incident;
mod layer;
mod panic_hook;
mod redact;
mod rejection;
pub mod scan;

pub use incident::{Incident, IncidentId, IncidentKind, MAX_ID_LEN, URN_PREFIX};
pub use layer::{
    BodyPanicked, BoxError, DEFAULT_INCIDENT_HEADER, DEFAULT_LOG_LIMIT, DEFAULT_READ_TIMEOUT,
    DEFAULT_REQUEST_ID_HEADER, DefaultProblem, MakeProblem, PublicError, REVEALING_HEADERS,
    ResponseFuture, SafeToShow, SanitizeBody, SanitizeErrors, SanitizeErrorsLayer, public_response,
};
pub use panic_hook::{PanicHook, install_panic_hook, redacting_panic_hook};
pub use rejection::{RequestPart, classify_rejection};
pub use scan::{DEFAULT_SCAN_WINDOW, Leak, LeakKind};
