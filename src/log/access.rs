//! A safe HTTP access log: one `tracing` event per request, with nothing in it that the policy
//! would not show a reader without clearance.

use std::borrow::Borrow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Instant;

use http::{HeaderMap, Method, Request, Response};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;
use tracing::Level;

use super::scrub::as_free_text;
use super::scrub::scrub_view_str;
use crate::class::DataClass;
use crate::policy::{Policy, View, canonical_name};
use crate::principal::Principal;

/// The `tracing` target of access-log events.
pub const ACCESS_TARGET: &str = "safeguard::access";

/// The route logged for requests no route matched, with
/// [`AccessLogLayer::unmatched_placeholder`].
pub const UNMATCHED: &str = "<unmatched>";

/// Headers whose values never appear in the access log, even when allowlisted: they carry
/// credentials by definition.
const NEVER_LOGGED: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "api-key",
    "apikey",
    "x-auth-token",
    "x-access-token",
    "x-csrf-token",
    "x-xsrf-token",
    "x-amz-security-token",
    "x-goog-api-key",
    "ocp-apim-subscription-key",
];

/// Longest request id logged; longer (or oddly shaped) ids are logged as `[invalid]`.
const MAX_REQUEST_ID: usize = 128;
/// At most this many query parameters are looked at.
const MAX_QUERY_PAIRS: usize = 64;
/// At most this many path segments are templated; the rest is elided.
const MAX_SEGMENTS: usize = 32;

#[derive(Clone)]
struct Config {
    view: View,
    query: Vec<String>,
    request_headers: Vec<String>,
    response_headers: Vec<String>,
    request_id: String,
    template_unmatched: bool,
}

/// Layer for [`AccessLog`]: logs one event per request at target [`ACCESS_TARGET`] (`INFO`,
/// `ERROR` for 5xx responses and service errors) with:
///
/// | field | what |
/// |---|---|
/// | `method` | the request method |
/// | `route` | the route template: axum's [`MatchedPath`](axum::extract::MatchedPath) (`/users/{id}`) when present; otherwise the path with id-like segments replaced by `{id}` (see [`route_template`]), or [`UNMATCHED`] with [`AccessLogLayer::unmatched_placeholder`]. Never the raw path with ids. |
/// | `status` | the response status (absent when the service failed: `error=true`) |
/// | `latency_ms` | time to the response head (body streaming not included) |
/// | `principal` | the subject of the [`Principal`]: from the response extensions, else from the request extensions |
/// | `request_id` | the request id header (`x-request-id` by default), from the request, else from the response |
/// | `query` | only the allowlisted query parameters; their values are still redacted by class and scanned |
/// | `headers`, `response_headers` | only the allowlisted headers, values scanned; credential headers (`Authorization`, `Proxy-Authorization`, `Cookie`, `Set-Cookie`, `X-Api-Key`, ...) show `[REDACTED:credential]` and headers the policy classifies their class's action, even when allowlisted |
///
/// **Where it goes.** Outside `SanitizeErrors` and `Authorize` and inside `CompressionLayer`
/// (it never touches bodies). With axum, add it with `Router::layer`, which runs it after
/// routing, so `MatchedPath` is known. Because `Authorize` runs inside it, the principal it sets
/// on the request is not visible to this layer; it is read from the **response** extensions,
/// where `Authorize` (on allowed requests), [`ExposePrincipalLayer`] or a handler puts a `Principal`
/// clone, and else from the request extensions, for users who authenticate in an outer layer.
/// Without either, `principal` is absent from the event.
///
/// ```
/// use std::convert::Infallible;
/// use http::{Request, Response};
/// use safeguard::log::{AccessLogLayer, Capture};
/// use tower::{ServiceBuilder, ServiceExt};
///
/// # tokio_test(async {
/// let logs = Capture::new();
/// let subscriber = tracing_subscriber::fmt().with_ansi(false).with_writer(logs.clone()).finish();
/// let _guard = tracing::subscriber::set_default(subscriber);
///
/// let svc = ServiceBuilder::new()
///     .layer(AccessLogLayer::new(&safeguard::policy::Policy::default()).allow_query("page"))
///     .service_fn(|_req: Request<()>| async { Ok::<_, Infallible>(Response::new(())) });
/// let req = Request::get("/orders/12345?page=2&api_key=k-1").header("authorization", "Bearer t").body(())?;
/// let res = svc.oneshot(req).await?;
/// assert_eq!(res.status(), 200);
/// let out = logs.contents();
/// assert!(out.contains("route=/orders/{id}") && out.contains("query=\"page=2\"") && out.contains("status=200"), "{out}");
/// assert!(!out.contains("k-1") && !out.contains("12345") && !out.contains("Bearer"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # });
/// # fn tokio_test<F: std::future::Future<Output = Result<(), Box<dyn std::error::Error>>>>(f: F) {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f).unwrap()
/// # }
/// ```
#[derive(Clone)]
pub struct AccessLogLayer {
    config: Arc<Config>,
}

impl fmt::Debug for AccessLogLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessLogLayer")
            .field("query", &self.config.query)
            .field("request_headers", &self.config.request_headers)
            .field("response_headers", &self.config.response_headers)
            .field("request_id", &self.config.request_id)
            .finish_non_exhaustive()
    }
}

impl AccessLogLayer {
    /// An access log for `policy` (as seen by a reader without clearance), with no query
    /// parameter or header allowlisted and `x-request-id` as the request id header.
    ///
    /// ```
    /// let layer = safeguard::log::AccessLogLayer::new(&safeguard::policy::Policy::default());
    /// assert!(format!("{layer:?}").contains("x-request-id"));
    /// ```
    pub fn new(policy: impl Borrow<Policy>) -> Self {
        let policy = policy.borrow();
        Self {
            config: Arc::new(Config {
                view: policy.view(None),
                query: Vec::new(),
                request_headers: Vec::new(),
                response_headers: Vec::new(),
                request_id: "x-request-id".into(),
                template_unmatched: true,
            }),
        }
    }

    fn config(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.config)
    }

    /// Logs query parameter `name` (compared canonically: `pageSize` = `page_size`). Values of
    /// parameters the policy classifies are still redacted; the others are scanned.
    ///
    /// ```
    /// let layer = safeguard::log::AccessLogLayer::new(&safeguard::policy::Policy::default())
    ///     .allow_query("page")
    ///     .allow_query("sort");
    /// assert!(format!("{layer:?}").contains("sort"));
    /// ```
    pub fn allow_query(mut self, name: &str) -> Self {
        let name = canonical_name(name);
        self.config().query.push(name);
        self
    }

    /// Logs request header `name` (case-insensitive). Credential headers stay `[REDACTED:credential]`.
    ///
    /// ```
    /// let layer = safeguard::log::AccessLogLayer::new(&safeguard::policy::Policy::default())
    ///     .allow_header("User-Agent");
    /// assert!(format!("{layer:?}").contains("user-agent"));
    /// ```
    pub fn allow_header(mut self, name: &str) -> Self {
        let name = name.to_ascii_lowercase();
        self.config().request_headers.push(name);
        self
    }

    /// Logs response header `name` (case-insensitive). `Set-Cookie` stays `[REDACTED:credential]`.
    ///
    /// ```
    /// let layer = safeguard::log::AccessLogLayer::new(&safeguard::policy::Policy::default())
    ///     .allow_response_header("content-type");
    /// assert!(format!("{layer:?}").contains("content-type"));
    /// ```
    pub fn allow_response_header(mut self, name: &str) -> Self {
        let name = name.to_ascii_lowercase();
        self.config().response_headers.push(name);
        self
    }

    /// The header carrying the request id (default `x-request-id`).
    ///
    /// ```
    /// let layer = safeguard::log::AccessLogLayer::new(&safeguard::policy::Policy::default())
    ///     .request_id_header("X-Correlation-Id");
    /// assert!(format!("{layer:?}").contains("x-correlation-id"));
    /// ```
    pub fn request_id_header(mut self, name: &str) -> Self {
        self.config().request_id = name.to_ascii_lowercase();
        self
    }

    /// Logs [`UNMATCHED`] as the route of requests without a `MatchedPath`, instead of the
    /// templated path (see [`route_template`]).
    ///
    /// ```
    /// let layer = safeguard::log::AccessLogLayer::new(&safeguard::policy::Policy::default())
    ///     .unmatched_placeholder();
    /// # let _ = layer;
    /// ```
    pub fn unmatched_placeholder(mut self) -> Self {
        self.config().template_unmatched = false;
        self
    }
}

impl<S> Layer<S> for AccessLogLayer {
    type Service = AccessLog<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AccessLog {
            inner,
            config: self.config.clone(),
        }
    }
}

/// The access-log middleware; see [`AccessLogLayer`].
///
/// ```
/// use std::convert::Infallible;
/// use http::{Request, Response};
/// use safeguard::log::AccessLog;
/// use tower::ServiceBuilder;
///
/// let _svc = ServiceBuilder::new()
///     .layer(AccessLog::layer(&safeguard::policy::Policy::default()))
///     .service_fn(|_req: Request<()>| async { Ok::<_, Infallible>(Response::new(())) });
/// ```
#[derive(Clone)]
pub struct AccessLog<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S: fmt::Debug> fmt::Debug for AccessLog<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessLog")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl AccessLog<()> {
    /// An [`AccessLogLayer`] for `policy`.
    ///
    /// ```
    /// let _layer = safeguard::log::AccessLog::layer(&safeguard::policy::Policy::default()).allow_query("page");
    /// ```
    pub fn layer(policy: &Policy) -> AccessLogLayer {
        AccessLogLayer::new(policy)
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for AccessLog<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        // ERROR is the most severe level used: if even that is off, skip the work.
        let pending = tracing::enabled!(target: ACCESS_TARGET, Level::ERROR)
            .then(|| Pending::new(&self.config, &req));
        ResponseFuture {
            inner: self.inner.call(req),
            pending,
            config: self.config.clone(),
        }
    }
}

pin_project! {
    /// Response future of [`AccessLog`]: logs when the response head is ready.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        pending: Option<Pending>,
        config: Arc<Config>,
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let out = ready!(this.inner.poll(cx));
        if let Some(pending) = this.pending.take() {
            pending.finish(this.config, out.as_ref().ok());
        }
        Poll::Ready(out)
    }
}

/// Copies the request's [`Principal`] into the response extensions, so that layers outside
/// the one that authenticated (the access log, outside `Authorize`) can see who was served.
/// `Authorize` already does this for the requests it allows; use this layer when another layer
/// authenticates. Put it **inside** `Authorize` (with axum: `.layer(ExposePrincipalLayer)` before
/// `.route_layer(AuthorizeLayer::..)`). A `Principal` the inner service already put in the
/// response is kept. Response extensions never go over the wire.
///
/// ```
/// use std::convert::Infallible;
/// use http::{Request, Response};
/// use safeguard::Principal;
/// use safeguard::log::ExposePrincipalLayer;
/// use tower::{ServiceBuilder, ServiceExt};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let svc = ServiceBuilder::new()
///     .map_request(|mut req: Request<()>| {
///         req.extensions_mut().insert(Principal::new("alice")); // what Authorize does
///         req
///     })
///     .layer(ExposePrincipalLayer)
///     .service_fn(|_req: Request<()>| async { Ok::<_, Infallible>(Response::new(())) });
/// let res = svc.oneshot(Request::new(())).await.unwrap();
/// assert_eq!(res.extensions().get::<Principal>().map(|p| p.subject()), Some("alice"));
/// # });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct ExposePrincipalLayer;

impl<S> Layer<S> for ExposePrincipalLayer {
    type Service = ExposePrincipal<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ExposePrincipal { inner }
    }
}

/// The middleware of [`ExposePrincipalLayer`].
///
/// ```
/// use safeguard::log::{ExposePrincipal, ExposePrincipalLayer};
/// use tower_layer::Layer;
/// let svc: ExposePrincipal<()> = ExposePrincipalLayer.layer(());
/// # let _ = svc;
/// ```
#[derive(Clone, Debug)]
pub struct ExposePrincipal<S> {
    inner: S,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ExposePrincipal<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ExposeFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let principal = req.extensions().get::<Principal>().cloned();
        ExposeFuture {
            inner: self.inner.call(req),
            principal,
        }
    }
}

pin_project! {
    /// Response future of [`ExposePrincipal`].
    pub struct ExposeFuture<F> {
        #[pin]
        inner: F,
        principal: Option<Principal>,
    }
}

impl<F> fmt::Debug for ExposeFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExposeFuture").finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ExposeFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut out = ready!(this.inner.poll(cx));
        if let (Ok(res), Some(principal)) = (&mut out, this.principal.take()) {
            if res.extensions().get::<Principal>().is_none() {
                res.extensions_mut().insert(principal);
            }
        }
        Poll::Ready(out)
    }
}

/// What is known when the request comes in, already made safe.
struct Pending {
    start: Instant,
    method: Method,
    route: String,
    query: Option<String>,
    headers: Option<String>,
    request_id: Option<String>,
    principal: Option<String>,
}

impl Pending {
    fn new<B>(config: &Config, req: &Request<B>) -> Self {
        let route = match req.extensions().get::<axum::extract::MatchedPath>() {
            Some(matched) => matched.as_str().to_owned(),
            None if config.template_unmatched => route_template(req.uri().path()),
            None => UNMATCHED.to_owned(),
        };
        let query = req
            .uri()
            .query()
            .filter(|_| !config.query.is_empty())
            .and_then(|q| allowed_query(config, q));
        Self {
            start: Instant::now(),
            method: req.method().clone(),
            route,
            query,
            headers: allowed_headers(config, req.headers(), &config.request_headers),
            request_id: request_id(config, req.headers()),
            principal: req
                .extensions()
                .get::<Principal>()
                .map(|p| subject(config, p)),
        }
    }

    fn finish<B>(self, config: &Config, response: Option<&Response<B>>) {
        // Microsecond resolution: enough for an access log, and short to print.
        let latency_ms = self.start.elapsed().as_micros() as f64 / 1000.0;
        let principal = response
            .and_then(|r| r.extensions().get::<Principal>())
            .map(|p| subject(config, p))
            .or(self.principal);
        let request_id = self
            .request_id
            .or_else(|| response.and_then(|r| request_id(config, r.headers())));
        let response_headers =
            response.and_then(|r| allowed_headers(config, r.headers(), &config.response_headers));
        let status = response.map(|r| r.status().as_u16());
        let error = response.is_none().then_some(true);
        macro_rules! emit {
            ($level:expr) => {
                tracing::event!(
                    target: ACCESS_TARGET,
                    $level,
                    method = %self.method,
                    route = %self.route,
                    status,
                    error,
                    latency_ms,
                    principal = principal.as_deref(),
                    request_id = request_id.as_deref(),
                    query = self.query.as_deref(),
                    headers = self.headers.as_deref(),
                    response_headers = response_headers.as_deref(),
                    "request"
                )
            };
        }
        match status {
            Some(s) if s < 500 => emit!(Level::INFO),
            _ => emit!(Level::ERROR),
        }
    }
}

fn subject(config: &Config, principal: &Principal) -> String {
    scrub_view_str(&config.view, principal.subject()).into_owned()
}

fn request_id(config: &Config, headers: &HeaderMap) -> Option<String> {
    let value = headers.get(config.request_id.as_str())?;
    let ok = value.len() <= MAX_REQUEST_ID
        && value
            .as_bytes()
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
    let text = value.to_str().ok().filter(|_| ok)?;
    Some(scrub_view_str(&config.view, text).into_owned())
}

fn is_never_logged(name: &str) -> bool {
    NEVER_LOGGED.contains(&name)
}

fn allowed_headers(config: &Config, headers: &HeaderMap, allow: &[String]) -> Option<String> {
    let mut out = String::new();
    for name in allow {
        let mut values = headers.get_all(name.as_str()).iter().peekable();
        if values.peek().is_none() {
            continue;
        }
        if !out.is_empty() {
            out.push_str("; ");
        }
        out.push_str(name);
        out.push_str(": ");
        let classified = config.view.policy().classify_name(name);
        if is_never_logged(name) {
            out.push_str(&DataClass::Credential.marker());
            continue;
        }
        for (i, value) in values.enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            let Ok(text) = value.to_str() else {
                out.push_str("[non-text]");
                continue;
            };
            let replaced = classified.and_then(|id| {
                let tag = canonical_name(name);
                let rendered = config.view.render(id, text, Some(tag.as_bytes()));
                as_free_text(&config.view, id, rendered)
            });
            match replaced {
                Some(replacement) => out.push_str(&replacement),
                None => out.push_str(&scrub_view_str(&config.view, text)),
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

fn allowed_query(config: &Config, raw: &str) -> Option<String> {
    let mut out = String::new();
    for pair in raw.split('&').take(MAX_QUERY_PAIRS) {
        let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = percent_decode(raw_name);
        let canonical = canonical_name(&name);
        if !config.query.contains(&canonical) {
            continue;
        }
        let value = percent_decode(raw_value);
        let shown = match config
            .view
            .policy()
            .classify_canonical(canonical.as_bytes())
        {
            Some(id) => {
                let rendered = config.view.render(id, &value, Some(canonical.as_bytes()));
                match as_free_text(&config.view, id, rendered) {
                    Some(replacement) => replacement.into_owned(),
                    None => scrub_value(config, raw_value, &value),
                }
            }
            None => scrub_value(config, raw_value, &value),
        };
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(&scrub_view_str(&config.view, &name));
        out.push('=');
        out.push_str(&shown);
    }
    (!out.is_empty()).then_some(out)
}

/// The raw (still encoded) value when the detectors find nothing in the decoded one, else the
/// redacted decoded value.
fn scrub_value(config: &Config, raw: &str, decoded: &str) -> String {
    match scrub_view_str(&config.view, decoded) {
        std::borrow::Cow::Borrowed(_) => scrub_view_str(&config.view, raw).into_owned(),
        std::borrow::Cow::Owned(clean) => clean,
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    if !bytes.iter().any(|b| matches!(b, b'%' | b'+')) {
        return text.to_owned();
    }
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: Option<&u8>) -> Option<u8> {
    let b = *b?;
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The path with every id-like segment replaced by `{id}`: what the access log records when no
/// route template (axum's `MatchedPath`) is known.
///
/// A segment is kept when it is a plain word: letters and `-` `_` `.` `~` only, shorter than 24
/// bytes, or a short version tag like `v2`. Everything else (numbers, UUIDs, hex or base64
/// tokens, e-mail addresses, percent-encoded text, long words) becomes `{id}`. Paths longer than
/// 32 segments end in `/…`.
///
/// ```
/// use safeguard::log::route_template;
/// assert_eq!(route_template("/v1/users/12345/orders"), "/v1/users/{id}/orders");
/// assert_eq!(route_template("/files/2f1c9a0e-77aa-4c1e-9a3b-0e2f1d6c5b4a"), "/files/{id}");
/// assert_eq!(route_template("/users/jane@example.com"), "/users/{id}");
/// assert_eq!(route_template("/reset/eyJhbGciOiJIUzI1NiJ9"), "/reset/{id}");
/// assert_eq!(route_template("/health"), "/health");
/// ```
pub fn route_template(path: &str) -> String {
    let mut out = String::with_capacity(path.len().min(256));
    for (i, segment) in path.split('/').enumerate() {
        if i > MAX_SEGMENTS {
            out.push_str("/…");
            break;
        }
        if i > 0 {
            out.push('/');
        }
        if is_word(segment) {
            out.push_str(segment);
        } else {
            out.push_str("{id}");
        }
    }
    if out.is_empty() {
        out.push('/');
    }
    out
}

fn is_word(segment: &str) -> bool {
    let b = segment.as_bytes();
    if b.is_empty() {
        return true;
    }
    let plain = b.len() < 24
        && b.iter()
            .all(|c| c.is_ascii_alphabetic() || matches!(c, b'-' | b'_' | b'.' | b'~'));
    let version =
        b.len() <= 3 && b[0].is_ascii_alphabetic() && b[1..].iter().all(u8::is_ascii_digit);
    plain || version
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_hide_ids() {
        assert_eq!(route_template("/"), "/");
        assert_eq!(route_template(""), "/");
        assert_eq!(route_template("/a/4111111111111111"), "/a/{id}");
        assert_eq!(route_template("/a/%41bc"), "/a/{id}");
        assert_eq!(
            route_template("/users/deadbeefdeadbeefdeadbeef"),
            "/users/{id}"
        );
        let long = "/a".repeat(100);
        assert!(route_template(&long).ends_with("/…"));
    }

    #[test]
    fn percent_decoding_is_total() {
        assert_eq!(percent_decode("a%20b+c"), "a b c");
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("%4"), "%4");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%E2%82%AC"), "€");
        assert_eq!(percent_decode("%ff"), "\u{fffd}");
    }

    #[test]
    fn queries_keep_only_allowed_parameters() {
        let layer = AccessLogLayer::new(Policy::default())
            .allow_query("page")
            .allow_query("token")
            .allow_query("q");
        let config = &layer.config;
        let out = allowed_query(
            config,
            "page=2&password=hunter2&token=abc&q=4111%201111%201111%201111&card_number=4111111111111111",
        )
        .unwrap();
        assert!(
            out.starts_with("page=2&token=[REDACTED:credential]&q="),
            "{out}"
        );
        assert!(
            !out.contains("hunter2") && !out.contains("card_number"),
            "{out}"
        );
    }
}
