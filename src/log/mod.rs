//! Logs without secrets: redacting `tracing` formatters, a redacting writer and a safe HTTP
//! access log.
//!
//! `tracing` has no redaction of its own: `#[instrument]` records arguments with `Debug`, and
//! tower-http's `TraceLayer` records the whole URI, query string included. This module puts the
//! [`Policy`] between your fields and the log:
//!
//! - [`SafeFields`] (text) and [`SafeJsonFields`] + [`SafeJson`] (JSON lines) format every event
//!   and span field through the policy: classified names (`password`, `api_key`, `cardNumber`,
//!   `user.password`, ...) get their class's action, free text (strings, `Debug` values, errors,
//!   the message) is scanned for classified `name=value` pairs and by the detectors (cards, SSNs,
//!   JWTs, bearer tokens, ...). [`text`], [`json`], [`text_layer`] and [`json_layer`] assemble
//!   them.
//! - [`SafeWriter`] scans every finished line written through any other formatter: the last line
//!   of defense.
//! - [`AccessLogLayer`] logs one event per request (target `safeguard::access`): method, route
//!   template, status, latency, principal id, request id, and only the query parameters and
//!   headers you allow, never the values of credential headers.
//!
//! **Where the access log goes.** Inside `CompressionLayer`, outside `SanitizeErrors`,
//! `Authorize` and the rest; with axum, via `Router::layer` so the route template is known. It
//! replaces tower-http's `TraceLayer` for request logging; if you keep `TraceLayer` (for spans),
//! format with [`SafeFields`] / [`SafeJsonFields`] so the URI it records has its query secrets
//! redacted.
//!
//! **Subscribers and tasks.** In production install the subscriber globally (`.init()`). In
//! tests, `tracing::subscriber::set_default` covers every task of a current-thread runtime
//! (`#[tokio::test]`), server tasks included.
//!
//! Logs are read by people without clearance, so every formatter here uses the policy's view
//! for no principal: everything classified is redacted (public fields excepted).
//! [`Sensitive<T>`](crate::sensitive::Sensitive) values print as their `[REDACTED:<class>]`
//! marker on every path.
//!
//! ```
//! use safeguard::log::Capture;
//! use safeguard::policy::Policy;
//!
//! let policy = Policy::default();
//! let logs = Capture::new();
//! let subscriber = safeguard::log::json(&policy).with_writer(logs.clone()).finish();
//! tracing::subscriber::with_default(subscriber, || {
//!     tracing::warn!(card_number = "4111111111111111", order = 42, "payment declined");
//! });
//! let line: serde_json::Value = serde_json::from_str(&logs.contents())?;
//! assert!(line["fields"]["card_number"].is_null());
//! assert_eq!(line["fields"]["order"], 42);
//! # Ok::<(), serde_json::Error>(())
//! ```

mod access;
mod format;
mod scrub;
mod writer;

use std::borrow::Borrow;
use std::io;

use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::format::{Format, Full};
use tracing_subscriber::fmt::time::SystemTime;
use tracing_subscriber::fmt::{Layer, SubscriberBuilder};
use tracing_subscriber::registry::LookupSpan;

use crate::policy::Policy;

pub use access::{
    ACCESS_TARGET, AccessLog, AccessLogLayer, ExposeFuture, ExposePrincipal, ExposePrincipalLayer,
    ResponseFuture, UNMATCHED, route_template,
};
pub use format::{SafeFields, SafeJson, SafeJsonFields};
pub use scrub::{scrub_bytes, scrub_str};
pub use writer::{Capture, DEFAULT_MAX_LINE, SafeLineWriter, SafeWriter};

/// What [`text`] returns: `tracing_subscriber`'s builder with [`SafeFields`], writing to stdout.
///
/// ```
/// let builder: safeguard::log::TextBuilder = safeguard::log::text(&safeguard::policy::Policy::default());
/// let _subscriber = builder.with_writer(std::io::sink).finish();
/// ```
pub type TextBuilder =
    SubscriberBuilder<SafeFields, Format<Full, SystemTime>, LevelFilter, fn() -> io::Stdout>;

/// What [`json`] returns: `tracing_subscriber`'s builder with [`SafeJsonFields`] and
/// [`SafeJson`], writing to stdout.
///
/// ```
/// let builder: safeguard::log::JsonBuilder = safeguard::log::json(&safeguard::policy::Policy::default());
/// let _subscriber = builder.with_writer(std::io::sink).finish();
/// ```
pub type JsonBuilder = SubscriberBuilder<SafeJsonFields, SafeJson, LevelFilter, fn() -> io::Stdout>;

/// The text subscriber builder (`tracing_subscriber::fmt()`) with [`SafeFields`]: configure it
/// further (writer, filter, ANSI) and `.init()` or `.finish()` it.
///
/// ```
/// use safeguard::log::Capture;
/// let logs = Capture::new();
/// let subscriber = safeguard::log::text(&safeguard::policy::Policy::default())
///     .with_ansi(false)
///     .with_writer(logs.clone())
///     .finish();
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::info!(email = "jane@example.com", plan = "pro", "signed up");
/// });
/// let out = logs.contents();
/// assert!(out.contains("email=[REDACTED:personal] plan=\"pro\""), "{out}");
/// ```
pub fn text(policy: impl Borrow<Policy>) -> TextBuilder {
    tracing_subscriber::fmt().fmt_fields(SafeFields::new(policy))
}

/// The JSON-lines subscriber builder with [`SafeJsonFields`] and [`SafeJson`].
///
/// ```
/// use safeguard::log::Capture;
/// let logs = Capture::new();
/// let subscriber = safeguard::log::json(&safeguard::policy::Policy::default())
///     .with_writer(logs.clone())
///     .finish();
/// tracing::subscriber::with_default(subscriber, || tracing::info!(token = "t0k", "refreshed"));
/// assert!(!logs.contents().contains("t0k"));
/// ```
pub fn json(policy: impl Borrow<Policy>) -> JsonBuilder {
    tracing_subscriber::fmt()
        .fmt_fields(SafeJsonFields::new(policy))
        .event_format(SafeJson::new())
}

/// A text `fmt` layer with [`SafeFields`], for a `Registry` with other layers.
///
/// ```
/// use tracing_subscriber::prelude::*;
/// use safeguard::log::Capture;
/// let logs = Capture::new();
/// let layer = safeguard::log::text_layer(&safeguard::policy::Policy::default())
///     .with_ansi(false)
///     .with_writer(logs.clone());
/// let subscriber = tracing_subscriber::registry().with(layer);
/// tracing::subscriber::with_default(subscriber, || tracing::info!(password = "pw1", "x"));
/// assert!(logs.contents().contains("password=[REDACTED:credential]"));
/// ```
pub fn text_layer<S>(policy: impl Borrow<Policy>) -> Layer<S, SafeFields>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer().fmt_fields(SafeFields::new(policy))
}

/// A JSON `fmt` layer with [`SafeJsonFields`] and [`SafeJson`], for a `Registry` with other
/// layers.
///
/// ```
/// use tracing_subscriber::prelude::*;
/// use safeguard::log::Capture;
/// let logs = Capture::new();
/// let layer = safeguard::log::json_layer(&safeguard::policy::Policy::default()).with_writer(logs.clone());
/// let subscriber = tracing_subscriber::registry().with(layer);
/// tracing::subscriber::with_default(subscriber, || tracing::info!(ssn = "123-45-6789", "x"));
/// assert!(!logs.contents().contains("123-45-6789"));
/// ```
pub fn json_layer<S>(policy: impl Borrow<Policy>) -> Layer<S, SafeJsonFields, SafeJson>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer()
        .fmt_fields(SafeJsonFields::new(policy))
        .event_format(SafeJson::new())
}
