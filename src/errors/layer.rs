//! The tower adapter: `SanitizeErrorsLayer`, `SanitizeErrors<S>`, `ResponseFuture`,
//! `SanitizeBody`. All decisions about bytes are made by the engines (`scan`, `rejection`,
//! `redact`); this file moves bodies and futures around them.

use std::any::Any;
use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::{Buf, Bytes};
use http::header::{self, HeaderName};
use http::response::Parts;
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::deadline::Deadline;
use super::incident::{Incident, IncidentId, IncidentKind};
use super::redact;
use super::rejection::classify_rejection;
use super::scan::{DEFAULT_SCAN_WINDOW, scan};
use crate::policy::Policy;
use crate::problem::{PROBLEM_JSON, ProblemDetails};

/// A boxed error, the error type of [`SanitizeBody`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Default number of bytes of a withheld body that are logged (8 KiB).
pub const DEFAULT_LOG_LIMIT: usize = 8 * 1024;
/// Default time allowed to read a withheld or scanned body before giving up on the rest (1 s).
pub const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(1);
/// Default request header an incident id is taken from.
pub const DEFAULT_REQUEST_ID_HEADER: &str = "x-request-id";
/// Default response header the incident id is sent in.
pub const DEFAULT_INCIDENT_HEADER: &str = "x-incident-id";

/// Response headers removed by default because they reveal the server's software and versions.
pub const REVEALING_HEADERS: [&str; 8] = [
    "server",
    "x-powered-by",
    "x-aspnet-version",
    "x-aspnetmvc-version",
    "x-runtime",
    "x-debug-token",
    "x-debug-token-link",
    "x-sourcefiles",
];

// Headers of a rewritten response that are kept from the original: the ones clients and browsers
// need to act on an error (CORS, retry, auth challenge, allowed methods), never content headers.
fn keep_on_rewrite(name: &HeaderName) -> bool {
    matches!(
        name.as_str(),
        "retry-after"
            | "www-authenticate"
            | "proxy-authenticate"
            | "allow"
            | "accept-patch"
            | "accept-post"
            | "vary"
            | "strict-transport-security"
            | "content-security-policy"
            | "x-frame-options"
            | "referrer-policy"
            | "set-cookie"
    ) || name.as_str().starts_with("access-control-")
}

/// Builds the problem document of an incident. Implemented for every
/// `Fn(&Incident) -> ProblemDetails + Send + Sync + 'static`.
///
/// Whatever the hook returns, the layer sets `status` to the status actually sent and fills
/// `instance` with the incident URN if the hook left it empty.
///
/// ```
/// use http::StatusCode;
/// use safeguard::errors::{Incident, IncidentId, IncidentKind, MakeProblem};
/// use safeguard::problem::ProblemDetails;
///
/// let hook = |i: &Incident| ProblemDetails::for_status(i.status).with_type("https://example.com/errors/internal");
/// let incident = Incident::new(IncidentId::random(), StatusCode::INTERNAL_SERVER_ERROR, IncidentKind::Panic);
/// assert_eq!(hook.make_problem(&incident).type_uri, "https://example.com/errors/internal");
/// ```
pub trait MakeProblem: Send + Sync + 'static {
    /// The document for this incident; it must not contain internals.
    fn make_problem(&self, incident: &Incident) -> ProblemDetails;
}

impl<F> MakeProblem for F
where
    F: Fn(&Incident) -> ProblemDetails + Send + Sync + 'static,
{
    fn make_problem(&self, incident: &Incident) -> ProblemDetails {
        self(incident)
    }
}

/// The default problem documents: `about:blank`, the status's reason as title, a generic detail
/// (or, for rejections, which part of the request was invalid) and the incident URN.
///
/// ```
/// use http::StatusCode;
/// use safeguard::errors::{DefaultProblem, Incident, IncidentId, IncidentKind, MakeProblem, RequestPart};
/// let id = IncidentId::random();
/// let p = DefaultProblem.make_problem(&Incident::new(id, StatusCode::UNPROCESSABLE_ENTITY, IncidentKind::Rejection(RequestPart::Body)));
/// assert_eq!(p.detail.as_deref(), Some("The request body is invalid."));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultProblem;

impl MakeProblem for DefaultProblem {
    fn make_problem(&self, incident: &Incident) -> ProblemDetails {
        let detail = match incident.kind {
            IncidentKind::Rejection(part) => part.detail(),
            _ if incident.status.is_server_error() => {
                "An unexpected error occurred. Quote the incident id when you report it."
            }
            _ => "The request could not be processed.",
        };
        ProblemDetails::for_status(incident.status)
            .with_detail(detail)
            .with_instance(incident.id.urn())
    }
}

/// Response extension marking a body as written for users (e.g. a validation message): a 4xx
/// carrying it passes unscanned; a 5xx carrying it passes only if the leak scanner finds nothing.
///
/// In axum, insert it in the handler's response (`(Extension(SafeToShow), StatusCode::BAD_REQUEST,
/// "...")`) or use [`public_response`] for error types implementing [`PublicError`].
///
/// ```
/// use safeguard::errors::SafeToShow;
/// let mut res = http::Response::new(());
/// res.extensions_mut().insert(SafeToShow);
/// assert!(res.extensions().get::<SafeToShow>().is_some());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SafeToShow;

/// Error types whose messages are meant for users (validation errors and the like). Their
/// `Display` text becomes the problem's `detail` via [`public_response`].
///
/// ```
/// use http::StatusCode;
/// use safeguard::errors::PublicError;
///
/// #[derive(Debug)]
/// struct EmailInvalid;
/// impl std::fmt::Display for EmailInvalid {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
///         f.write_str("email must be a valid address")
///     }
/// }
/// impl PublicError for EmailInvalid {}
/// assert_eq!(EmailInvalid.status(), StatusCode::BAD_REQUEST);
/// ```
pub trait PublicError: fmt::Display {
    /// The status to answer with (default 400).
    fn status(&self) -> StatusCode {
        StatusCode::BAD_REQUEST
    }
}

/// A problem+json response for a [`PublicError`], with its message as `detail`, marked
/// [`SafeToShow`]. Works with any body made from [`Bytes`] (axum's `Body` included), so an axum
/// `IntoResponse` impl is one line.
///
/// ```
/// use bytes::Bytes;
/// use http_body_util::Full;
/// use safeguard::errors::{public_response, PublicError, SafeToShow};
///
/// struct NameRequired;
/// impl std::fmt::Display for NameRequired {
///     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str("name is required") }
/// }
/// impl PublicError for NameRequired {}
///
/// let res = public_response::<_, Full<Bytes>>(&NameRequired);
/// assert_eq!(res.status(), 400);
/// assert!(res.extensions().get::<SafeToShow>().is_some());
/// ```
pub fn public_response<E, B>(error: &E) -> Response<B>
where
    E: PublicError + ?Sized,
    B: From<Bytes>,
{
    let mut res = ProblemDetails::for_status(error.status())
        .with_detail(error.to_string())
        .into_response::<B>();
    res.extensions_mut().insert(SafeToShow);
    res
}

#[derive(Clone)]
struct Config {
    threshold: u16,
    log_limit: usize,
    scan_window: usize,
    read_timeout: Duration,
    request_id_header: HeaderName,
    incident_header: HeaderName,
    rejections: bool,
    scan_client_errors: bool,
    strip: StripSet,
    problem: Arc<dyn MakeProblem>,
    policy: Policy,
}

impl Config {
    #[inline]
    fn is_stripped(&self, name: &HeaderName) -> bool {
        self.strip.contains(name)
    }
}

/// The headers to remove, with a cheap pre-check (name length and first byte) so the common case,
/// a response with none of them, costs a few instructions per header.
#[derive(Clone, Debug)]
struct StripSet {
    names: Vec<HeaderName>,
    lengths: u64,
    firsts: u128,
}

impl StripSet {
    fn new(names: impl IntoIterator<Item = HeaderName>) -> Self {
        let mut set = Self {
            names: Vec::new(),
            lengths: 0,
            firsts: 0,
        };
        names.into_iter().for_each(|n| set.insert(n));
        set
    }

    fn insert(&mut self, name: HeaderName) {
        if self.names.contains(&name) {
            return;
        }
        let (lengths, firsts) = Self::bits(&name);
        self.lengths |= lengths;
        self.firsts |= firsts;
        self.names.push(name);
    }

    #[inline(always)]
    fn bits(name: &HeaderName) -> (u64, u128) {
        let s = name.as_str().as_bytes();
        let first = s.first().copied().unwrap_or(0);
        (1u64 << (s.len() % 64), 1u128 << (first % 128))
    }

    #[inline(always)]
    fn contains(&self, name: &HeaderName) -> bool {
        let (lengths, firsts) = Self::bits(name);
        self.lengths & lengths != 0 && self.firsts & firsts != 0 && self.names.contains(name)
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            threshold: 500,
            log_limit: DEFAULT_LOG_LIMIT,
            scan_window: DEFAULT_SCAN_WINDOW,
            read_timeout: DEFAULT_READ_TIMEOUT,
            request_id_header: HeaderName::from_static(DEFAULT_REQUEST_ID_HEADER),
            incident_header: HeaderName::from_static(DEFAULT_INCIDENT_HEADER),
            rejections: true,
            scan_client_errors: true,
            strip: StripSet::new(REVEALING_HEADERS.iter().map(|h| HeaderName::from_static(h))),
            problem: Arc::new(DefaultProblem),
            policy: Policy::default(),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("threshold", &self.threshold)
            .field("log_limit", &self.log_limit)
            .field("scan_window", &self.scan_window)
            .field("read_timeout", &self.read_timeout)
            .field("request_id_header", &self.request_id_header)
            .field("incident_header", &self.incident_header)
            .field("rejections", &self.rejections)
            .field("scan_client_errors", &self.scan_client_errors)
            .field("strip", &self.strip.names)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// Layer that applies [`SanitizeErrors`]. See the [module docs](crate::errors) for what it does.
///
/// ```
/// use http::StatusCode;
/// use safeguard::errors::SanitizeErrorsLayer;
/// let layer = SanitizeErrorsLayer::new()
///     .server_error_threshold(StatusCode::INTERNAL_SERVER_ERROR)
///     .log_limit(4096)
///     .strip_header(http::HeaderName::from_static("x-backend"));
/// assert!(format!("{layer:?}").contains("x-backend"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct SanitizeErrorsLayer {
    config: Arc<Config>,
}

impl SanitizeErrorsLayer {
    /// The layer with secure defaults: threshold 500, 8 KiB logged, 16 KiB scanned, 1 s read
    /// timeout, `x-request-id` in, `x-incident-id` out, rejections rewritten, 4xx scanned.
    ///
    /// ```
    /// let layer = safeguard::errors::SanitizeErrorsLayer::new();
    /// assert!(format!("{layer:?}").contains("threshold: 500"));
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    fn with(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(Arc::make_mut(&mut self.config));
        self
    }

    /// Responses with this status or above have their body replaced (default 500). Values below
    /// 400 are raised to 400 so successful responses are never rewritten.
    ///
    /// ```
    /// use http::StatusCode;
    /// let layer = safeguard::errors::SanitizeErrorsLayer::new().server_error_threshold(StatusCode::BAD_GATEWAY);
    /// assert!(format!("{layer:?}").contains("threshold: 502"));
    /// ```
    pub fn server_error_threshold(self, status: StatusCode) -> Self {
        self.with(|c| c.threshold = status.as_u16().max(400))
    }

    /// How many bytes of a withheld body are read and logged (default 8 KiB). The rest is not
    /// read.
    ///
    /// ```
    /// let layer = safeguard::errors::SanitizeErrorsLayer::new().log_limit(1024);
    /// assert!(format!("{layer:?}").contains("log_limit: 1024"));
    /// ```
    pub fn log_limit(self, bytes: usize) -> Self {
        self.with(|c| c.log_limit = bytes)
    }

    /// How many leading bytes of a 4xx body are buffered and scanned (default 16 KiB).
    ///
    /// ```
    /// let layer = safeguard::errors::SanitizeErrorsLayer::new().scan_window(4096);
    /// assert!(format!("{layer:?}").contains("scan_window: 4096"));
    /// ```
    pub fn scan_window(self, bytes: usize) -> Self {
        self.with(|c| c.scan_window = bytes)
    }

    /// How long the layer waits for an error body before deciding on what it has (default 1 s).
    ///
    /// ```
    /// use std::time::Duration;
    /// let layer = safeguard::errors::SanitizeErrorsLayer::new().read_timeout(Duration::from_millis(200));
    /// assert!(format!("{layer:?}").contains("200ms"));
    /// ```
    pub fn read_timeout(self, timeout: Duration) -> Self {
        self.with(|c| c.read_timeout = timeout)
    }

    /// The request header a well-formed incident id is taken from (default `x-request-id`).
    ///
    /// ```
    /// let layer = safeguard::errors::SanitizeErrorsLayer::new()
    ///     .request_id_header(http::HeaderName::from_static("x-correlation-id"));
    /// assert!(format!("{layer:?}").contains("x-correlation-id"));
    /// ```
    pub fn request_id_header(self, name: HeaderName) -> Self {
        self.with(|c| c.request_id_header = name)
    }

    /// The response header the incident id is sent in (default `x-incident-id`).
    ///
    /// ```
    /// let layer = safeguard::errors::SanitizeErrorsLayer::new()
    ///     .incident_header(http::HeaderName::from_static("x-error-id"));
    /// assert!(format!("{layer:?}").contains("x-error-id"));
    /// ```
    pub fn incident_header(self, name: HeaderName) -> Self {
        self.with(|c| c.incident_header = name)
    }

    /// Whether axum extractor rejections are rewritten to a safe detail (default on).
    ///
    /// ```
    /// let layer = safeguard::errors::SanitizeErrorsLayer::new().rewrite_rejections(false);
    /// assert!(format!("{layer:?}").contains("rejections: false"));
    /// ```
    pub fn rewrite_rejections(self, on: bool) -> Self {
        self.with(|c| c.rejections = on)
    }

    /// Whether 4xx bodies are scanned for leaked internals (default on).
    ///
    /// ```
    /// let layer = safeguard::errors::SanitizeErrorsLayer::new().scan_client_errors(false);
    /// assert!(format!("{layer:?}").contains("scan_client_errors: false"));
    /// ```
    pub fn scan_client_errors(self, on: bool) -> Self {
        self.with(|c| c.scan_client_errors = on)
    }

    /// Also removes this response header (in addition to [`REVEALING_HEADERS`]).
    ///
    /// ```
    /// let layer = safeguard::errors::SanitizeErrorsLayer::new()
    ///     .strip_header(http::HeaderName::from_static("x-upstream-host"));
    /// assert!(format!("{layer:?}").contains("x-upstream-host"));
    /// ```
    pub fn strip_header(self, name: HeaderName) -> Self {
        self.with(|c| c.strip.insert(name))
    }

    /// The policy whose detectors redact withheld bodies and panic messages before they are
    /// logged (default [`Policy::default`]: every detector on). Logged text is redacted as for an
    /// anonymous principal, so no clearance reveals anything in the log.
    ///
    /// ```
    /// use safeguard::errors::SanitizeErrorsLayer;
    /// use safeguard::policy::Policy;
    /// let layer = SanitizeErrorsLayer::new().policy(Policy::default());
    /// assert!(format!("{layer:?}").contains("Policy"));
    /// ```
    pub fn policy(self, policy: Policy) -> Self {
        self.with(|c| c.policy = policy)
    }

    /// Supplies the problem documents (see [`MakeProblem`]).
    ///
    /// ```
    /// use safeguard::errors::{Incident, SanitizeErrorsLayer};
    /// use safeguard::problem::ProblemDetails;
    /// let layer = SanitizeErrorsLayer::new()
    ///     .problem(|i: &Incident| ProblemDetails::for_status(i.status).with_title("Something broke"));
    /// let _ = layer;
    /// ```
    pub fn problem(self, hook: impl MakeProblem) -> Self {
        let hook: Arc<dyn MakeProblem> = Arc::new(hook);
        self.with(|c| c.problem = hook)
    }
}

impl<S> Layer<S> for SanitizeErrorsLayer {
    type Service = SanitizeErrors<S>;

    fn layer(&self, inner: S) -> Self::Service {
        // Pay the pattern compilation at startup, not on the first error response.
        super::scan::warm_up();
        SanitizeErrors {
            inner,
            config: Arc::clone(&self.config),
            failed: None,
        }
    }
}

/// Middleware that turns panics, errors, 5xx bodies and leaking 4xx bodies into RFC 9457 problem
/// documents with an incident id, logging the original (redacted) at ERROR.
///
/// Its `Error` is [`Infallible`]: an `Err` from the inner service (whose error type must be
/// `Display`, as `Infallible` and `BoxError` are) is logged and answered with a 500.
///
/// ```
/// use std::convert::Infallible;
/// use bytes::Bytes;
/// use http::{Request, Response, StatusCode};
/// use http_body_util::{BodyExt, Full};
/// use safeguard::errors::SanitizeErrors;
/// use tower::{ServiceBuilder, ServiceExt};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let svc = ServiceBuilder::new()
///     .layer(SanitizeErrors::layer())
///     .service_fn(|_req: Request<Full<Bytes>>| async {
///         let mut res = Response::new(Full::new(Bytes::from("relation \"users\" does not exist")));
///         *res.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
///         Ok::<_, Infallible>(res)
///     });
/// let res = svc.oneshot(Request::new(Full::default())).await.unwrap();
/// assert_eq!(res.status(), 500);
/// assert_eq!(res.headers()["content-type"], "application/problem+json");
/// let body = res.into_body().collect().await.unwrap().to_bytes();
/// assert!(!String::from_utf8_lossy(&body).contains("users"));
/// # });
/// ```
pub struct SanitizeErrors<S> {
    inner: S,
    config: Arc<Config>,
    // An error or panic from `poll_ready`, answered by the next `call` (our `poll_ready` cannot
    // fail, since our error type is `Infallible`). Boxed: it is rare, and the service is cloned
    // and moved on every request.
    failed: Option<Box<(IncidentKind, String)>>,
}

impl<S: Clone> Clone for SanitizeErrors<S> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            config: Arc::clone(&self.config),
            failed: None,
        }
    }
}

impl<S: fmt::Debug> fmt::Debug for SanitizeErrors<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SanitizeErrors")
            .field("inner", &self.inner)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl SanitizeErrors<()> {
    /// The layer with default settings (same as [`SanitizeErrorsLayer::new`]).
    ///
    /// ```
    /// let layer = safeguard::errors::SanitizeErrors::layer();
    /// assert!(format!("{layer:?}").contains("x-request-id"));
    /// ```
    pub fn layer() -> SanitizeErrorsLayer {
        SanitizeErrorsLayer::new()
    }
}

impl<S> SanitizeErrors<S> {
    /// Wraps `inner` with default settings.
    ///
    /// ```
    /// let svc = safeguard::errors::SanitizeErrors::new(tower::service_fn(|()| async { Ok::<_, std::convert::Infallible>(()) }));
    /// assert!(format!("{:?}", svc.get_ref() as *const _).len() > 0);
    /// ```
    pub fn new(inner: S) -> Self {
        SanitizeErrorsLayer::new().layer(inner)
    }

    /// The inner service.
    ///
    /// ```
    /// let svc = safeguard::errors::SanitizeErrors::new(5u8);
    /// assert_eq!(*svc.get_ref(), 5);
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    ///
    /// ```
    /// let mut svc = safeguard::errors::SanitizeErrors::new(5u8);
    /// *svc.get_mut() = 6;
    /// assert_eq!(svc.into_inner(), 6);
    /// ```
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    ///
    /// ```
    /// assert_eq!(safeguard::errors::SanitizeErrors::new(5u8).into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> S {
        self.inner
    }
}

#[cold]
#[inline(never)]
pub(super) fn panic_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

impl<S, ReqB, ResB> Service<Request<ReqB>> for SanitizeErrors<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    S::Error: fmt::Display,
    ResB: Body,
    ResB::Error: Into<BoxError>,
{
    type Response = Response<SanitizeBody<ResB>>;
    type Error = Infallible;
    type Future = ResponseFuture<S::Future, ResB>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.failed.is_some() {
            return Poll::Ready(Ok(()));
        }
        match catch_unwind(AssertUnwindSafe(|| self.inner.poll_ready(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(Ok(()))) => Poll::Ready(Ok(())),
            Ok(Poll::Ready(Err(e))) => {
                self.failed = Some(Box::new((IncidentKind::ServiceError, display_text(&e))));
                Poll::Ready(Ok(()))
            }
            Err(payload) => {
                self.failed = Some(Box::new((IncidentKind::Panic, panic_text(&*payload))));
                Poll::Ready(Ok(()))
            }
        }
    }

    #[inline(always)]
    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        // The raw request id is captured now (the request is gone afterwards) but only validated
        // when an incident happens; absent, this costs one lookup.
        let mut request_id = req.headers().get(&self.config.request_id_header).cloned();
        if let Some(failure) = self.failed.take() {
            return failed_future(Arc::clone(&self.config), request_id, *failure);
        }
        let (inner, config, id) = (&mut self.inner, &self.config, &mut request_id);
        // The whole future is built inside the closure so the inner future is written in place,
        // not copied out of `catch_unwind` and then into ours. The request id is taken only once
        // the inner `call` has returned, so a panic there leaves it for the incident.
        match catch_unwind(AssertUnwindSafe(move || {
            let fut = inner.call(req);
            ResponseFuture {
                state: State::Inner { fut },
                ctx: Some(Ctx {
                    config: Arc::clone(config),
                    request_id: id.take(),
                }),
            }
        })) {
            Ok(fut) => fut,
            Err(payload) => failed_future(
                Arc::clone(&self.config),
                request_id,
                (IncidentKind::Panic, panic_text(&*payload)),
            ),
        }
    }
}

// Out of line and cold: keeps the 2xx path of `call` short.
#[cold]
#[inline(never)]
fn failed_future<F, B>(
    config: Arc<Config>,
    request_id: Option<HeaderValue>,
    failure: (IncidentKind, String),
) -> ResponseFuture<F, B> {
    ResponseFuture {
        state: State::Failed {
            failure: Some(failure),
        },
        ctx: Some(Ctx { config, request_id }),
    }
}

#[cold]
#[inline(never)]
fn display_text<E: fmt::Display + ?Sized>(e: &E) -> String {
    // A Display impl that panics must not take the layer down with it.
    catch_unwind(AssertUnwindSafe(|| e.to_string()))
        .unwrap_or_else(|_| "error whose Display panicked".to_owned())
}

/// Per-request context: the shared config and the raw request id.
struct Ctx {
    config: Arc<Config>,
    request_id: Option<HeaderValue>,
}

impl Ctx {
    fn incident_id(&self) -> IncidentId {
        self.request_id
            .as_ref()
            .and_then(|v| IncidentId::from_request_id(v.as_bytes()))
            .unwrap_or_else(IncidentId::random)
    }
}

/// What the layer does with a body it reads before answering.
#[derive(Clone, Copy, Debug)]
enum Mode {
    /// Status at or above the threshold: withhold and log.
    Withhold,
    /// A 4xx (or a 5xx marked [`SafeToShow`]): scan the window and decide.
    Scan { safe_to_show: bool },
}

struct Reading<B> {
    head: Parts,
    body: Pin<Box<B>>,
    mode: Mode,
    buf: Vec<u8>,
    limit: usize,
    trailers: Option<HeaderMap>,
    ended: bool,
    deadline: Deadline,
    /// Set when reading stopped early: a panic or an error in the body.
    broke: Option<(IncidentKind, String)>,
}

pin_project! {
    /// Response future of [`SanitizeErrors`].
    pub struct ResponseFuture<F, B> {
        #[pin]
        state: State<F, B>,
        ctx: Option<Ctx>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, B> {
        Inner { #[pin] fut: F },
        Failed { failure: Option<(IncidentKind, String)> },
        Reading { reading: Option<Box<Reading<B>>> },
        Done,
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: fmt::Display,
    B: Body,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<SanitizeBody<B>>, Infallible>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            let next = match this.state.as_mut().project() {
                StateProj::Inner { fut } => match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
                    Ok(Poll::Pending) => return Poll::Pending,
                    Ok(Poll::Ready(Ok(mut res))) => {
                        // The inner future is done: drop it before handling the response, which
                        // then stays put instead of being moved around the drop.
                        this.state.set(State::Done);
                        let Some(ctx) = this.ctx.take() else {
                            return Poll::Pending;
                        };
                        strip_headers(&ctx.config, res.headers_mut());
                        match mode_for(&res, &ctx.config) {
                            None => {
                                return Poll::Ready(Ok(
                                    res.map(|body| SanitizeBody::passthrough(body, ctx))
                                ));
                            }
                            Some(mode) => {
                                let reading = start_reading(res, mode, &ctx.config);
                                *this.ctx = Some(ctx);
                                State::Reading {
                                    reading: Some(reading),
                                }
                            }
                        }
                    }
                    Ok(Poll::Ready(Err(e))) => State::Failed {
                        failure: Some((IncidentKind::ServiceError, display_text(&e))),
                    },
                    Err(payload) => State::Failed {
                        failure: Some((IncidentKind::Panic, panic_text(&*payload))),
                    },
                },
                StateProj::Failed { failure } => {
                    let Some(res) = answer_failure(failure, this.ctx) else {
                        return Poll::Pending;
                    };
                    this.state.set(State::Done);
                    return Poll::Ready(Ok(res));
                }
                StateProj::Reading { reading } => {
                    let Some(res) = ready!(poll_reading(reading, this.ctx, cx)) else {
                        return Poll::Pending;
                    };
                    this.state.set(State::Done);
                    return Poll::Ready(Ok(res));
                }
                // Polled after completion: stay pending rather than panic.
                StateProj::Done => return Poll::Pending,
            };
            this.state.set(next);
        }
    }
}

/// The 500 for an error or panic before any response existed.
#[cold]
#[inline(never)]
fn answer_failure<B>(
    failure: &mut Option<(IncidentKind, String)>,
    ctx: &mut Option<Ctx>,
) -> Option<Response<SanitizeBody<B>>> {
    let (kind, text) = failure
        .take()
        .unwrap_or((IncidentKind::Panic, String::new()));
    let ctx = ctx.take()?;
    let incident = Incident::new(ctx.incident_id(), StatusCode::INTERNAL_SERVER_ERROR, kind);
    log_withheld(&ctx.config, &incident, text.as_bytes(), false, None);
    Some(problem_response(&ctx.config, &incident, None))
}

/// Reads an error body (bounded) and decides on it; `Ready(None)` only if polled after the end.
#[cold]
#[inline(never)]
fn poll_reading<B>(
    reading: &mut Option<Box<Reading<B>>>,
    ctx: &mut Option<Ctx>,
    cx: &mut Context<'_>,
) -> Poll<Option<Response<SanitizeBody<B>>>>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let Some(r) = reading.as_mut() else {
        return Poll::Ready(None);
    };
    ready!(fill(r, cx));
    let (Some(r), Some(ctx)) = (reading.take(), ctx.take()) else {
        return Poll::Ready(None);
    };
    Poll::Ready(Some(decide(*r, ctx)))
}

#[inline]
fn strip_headers(config: &Config, headers: &mut HeaderMap) {
    // One pass over the (usually few) response headers; removal only when something matches.
    if headers.keys().any(|k| config.is_stripped(k)) {
        for name in &config.strip.names {
            headers.remove(name);
        }
    }
}

/// What to do with a response: `None` passes it through untouched.
fn mode_for<B>(res: &Response<B>, config: &Config) -> Option<Mode> {
    let status = res.status().as_u16();
    // Fast path first: below 400 nothing is inspected (no extension lookup, no buffering).
    if status < 400 {
        return None;
    }
    let safe_to_show = res.extensions().get::<SafeToShow>().is_some();
    if status >= config.threshold {
        Some(if safe_to_show {
            Mode::Scan { safe_to_show }
        } else {
            Mode::Withhold
        })
    } else if status < 500 && !safe_to_show && (config.scan_client_errors || config.rejections) {
        Some(Mode::Scan { safe_to_show })
    } else {
        None
    }
}

#[cold]
#[inline(never)]
fn start_reading<B>(res: Response<B>, mode: Mode, config: &Config) -> Box<Reading<B>> {
    let (head, body) = res.into_parts();
    let limit = match mode {
        Mode::Withhold => config.log_limit,
        Mode::Scan { .. } => config.scan_window,
    };
    let encoded = head
        .headers
        .get(header::CONTENT_ENCODING)
        .is_some_and(|v| !v.as_bytes().eq_ignore_ascii_case(b"identity"));
    Box::new(Reading {
        head,
        body: Box::pin(body),
        mode,
        buf: Vec::new(),
        limit,
        trailers: None,
        ended: false,
        deadline: Deadline::after(config.read_timeout),
        broke: encoded.then(|| {
            (
                IncidentKind::Unreadable,
                "body is content-encoded".to_owned(),
            )
        }),
    })
}

/// Reads the body into the buffer until it ends, the limit is reached, the deadline passes, or it
/// breaks (error or panic).
fn fill<B>(r: &mut Reading<B>, cx: &mut Context<'_>) -> Poll<()>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    while !r.ended && r.broke.is_none() && r.buf.len() < r.limit {
        if r.body.is_end_stream() {
            r.ended = true;
            break;
        }
        let polled = catch_unwind(AssertUnwindSafe(|| r.body.as_mut().poll_frame(cx)));
        match polled {
            Ok(Poll::Pending) => {
                if r.deadline.expired(cx) {
                    return Poll::Ready(());
                }
                return Poll::Pending;
            }
            Ok(Poll::Ready(None)) => r.ended = true,
            Ok(Poll::Ready(Some(Ok(frame)))) => match frame.into_data() {
                Ok(mut data) => {
                    while data.has_remaining() {
                        let chunk = data.chunk();
                        r.buf.extend_from_slice(chunk);
                        let n = chunk.len();
                        data.advance(n);
                    }
                }
                Err(frame) => {
                    if let Ok(trailers) = frame.into_trailers() {
                        r.trailers = Some(trailers);
                    }
                }
            },
            Ok(Poll::Ready(Some(Err(e)))) => {
                let e: BoxError = e.into();
                r.broke = Some((
                    IncidentKind::ServerError,
                    format!("body error: {}", display_text(&e)),
                ));
            }
            Err(payload) => {
                r.broke = Some((
                    IncidentKind::Panic,
                    format!("body panicked: {}", panic_text(&*payload)),
                ));
            }
        }
    }
    Poll::Ready(())
}

/// Decides on a fully read (or bounded) body: withhold it, or pass it on.
fn decide<B>(r: Reading<B>, ctx: Ctx) -> Response<SanitizeBody<B>>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    let config = Arc::clone(&ctx.config);
    let status = r.head.status;
    let truncated = !r.ended;
    let mode = r.mode;
    let (kind, level_debug) = if let Some((kind, _)) = &r.broke {
        (Some(*kind), false)
    } else {
        match mode {
            Mode::Withhold => (Some(IncidentKind::ServerError), false),
            Mode::Scan { safe_to_show } => {
                let window = &r.buf[..r.buf.len().min(config.scan_window)];
                let rejection = (config.rejections && !safe_to_show)
                    .then(|| classify_rejection(window))
                    .flatten();
                if let Some(part) = rejection {
                    (Some(IncidentKind::Rejection(part)), true)
                } else if config.scan_client_errors || safe_to_show {
                    (
                        scan(window).map(|leak| IncidentKind::Leak(leak.kind)),
                        false,
                    )
                } else {
                    (None, false)
                }
            }
        }
    };
    let Some(kind) = kind else {
        // Clean: send what was read, then the rest of the body.
        let Reading {
            head,
            body,
            buf,
            trailers,
            ended,
            ..
        } = r;
        let rest = (!ended).then_some(body);
        return Response::from_parts(
            head,
            SanitizeBody::prefixed(Bytes::from(buf), trailers, rest, Some(ctx)),
        );
    };
    // A panic while reading is a server error whatever the original status.
    let sent_status = match kind {
        IncidentKind::Panic => StatusCode::INTERNAL_SERVER_ERROR,
        _ => status,
    };
    let incident = Incident::new(ctx.incident_id(), sent_status, kind);
    let broke = r.broke.as_ref().map(|(_, text)| text.as_str());
    if level_debug {
        tracing::debug!(
            target: "safeguard::errors",
            incident_id = %incident.id,
            status = sent_status.as_u16(),
            kind = kind.as_str(),
            part = match kind { IncidentKind::Rejection(p) => p.as_str(), _ => "" },
            detail = %redact::for_log(&config.policy, &redact::bounded_text(&r.buf, config.log_limit)),
            "request rejection rewritten",
        );
    } else {
        log_withheld(&config, &incident, &r.buf, truncated, broke);
    }
    let Reading { head, .. } = r;
    problem_response(&config, &incident, Some(head))
}

#[cold]
#[inline(never)]
fn log_withheld(
    config: &Config,
    incident: &Incident,
    original: &[u8],
    truncated: bool,
    broke: Option<&str>,
) {
    let text = redact::for_log(
        &config.policy,
        &redact::bounded_text(original, config.log_limit),
    );
    let truncated = truncated || original.len() > config.log_limit;
    // `cause`: the leak class for a leaking 4xx, or what broke while reading the body.
    let cause = match (incident.kind, broke) {
        (IncidentKind::Leak(kind), _) => kind.as_str().to_owned(),
        (_, Some(fault)) => redact::for_log(&config.policy, fault),
        _ => String::new(),
    };
    if cause.is_empty() {
        tracing::error!(
            target: "safeguard::errors",
            incident_id = %incident.id,
            status = incident.status.as_u16(),
            kind = incident.kind.as_str(),
            truncated,
            detail = %text,
            "response withheld from the client",
        );
    } else {
        tracing::error!(
            target: "safeguard::errors",
            incident_id = %incident.id,
            status = incident.status.as_u16(),
            kind = incident.kind.as_str(),
            cause = %cause,
            truncated,
            detail = %text,
            "response withheld from the client",
        );
    }
}

/// The replacement response: the original head's status, version, extensions and the few headers
/// clients need (CORS, Retry-After, ...), the problem document as body.
fn problem_response<B>(
    config: &Config,
    incident: &Incident,
    head: Option<Parts>,
) -> Response<SanitizeBody<B>> {
    let hook = &config.problem;
    let mut problem = catch_unwind(AssertUnwindSafe(|| hook.make_problem(incident)))
        .unwrap_or_else(|_| DefaultProblem.make_problem(incident));
    problem.status = incident.status.as_u16();
    if problem.instance.is_none() {
        problem.instance = Some(incident.id.urn());
    }
    let bytes = problem.to_bytes();
    let mut headers = HeaderMap::new();
    let mut res = Response::new(SanitizeBody::full(Bytes::new()));
    if let Some(head) = head {
        for (name, value) in &head.headers {
            if keep_on_rewrite(name) && !config.is_stripped(name) {
                headers.append(name.clone(), value.clone());
            }
        }
        *res.version_mut() = head.version;
        *res.extensions_mut() = head.extensions;
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    headers.insert(config.incident_header.clone(), incident.id.header_value());
    *res.headers_mut() = headers;
    *res.status_mut() = incident.status;
    *res.body_mut() = SanitizeBody::full(bytes);
    res
}

/// The error a [`SanitizeBody`] yields when the inner body panicked mid-stream: the stream ends
/// there (the client sees a broken response, never the panic message).
///
/// ```
/// let e = safeguard::errors::BodyPanicked { incident: safeguard::errors::IncidentId::random() };
/// assert!(e.to_string().starts_with("response body panicked"));
/// ```
#[derive(Debug, Clone)]
pub struct BodyPanicked {
    /// The incident id under which the panic was logged.
    pub incident: IncidentId,
}

impl fmt::Display for BodyPanicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "response body panicked (incident {})", self.incident)
    }
}

impl std::error::Error for BodyPanicked {}

pin_project! {
    /// Response body of [`SanitizeErrors`]: the original body (with panics caught), or a problem
    /// document.
    ///
    /// Its frames are [`Bytes`]: an inner body's `Bytes` frames are moved through, other data
    /// types are copied into `Bytes`, which is why the `Body` impl asks for `B::Data: 'static`
    /// (true of `Bytes` and every common body).
    pub struct SanitizeBody<B> {
        #[pin]
        kind: BodyKind<B>,
    }
}

pin_project! {
    #[project = BodyProj]
    enum BodyKind<B> {
        // The 2xx path: the original body, and the context needed only to log a mid-stream panic
        // under the request's incident id.
        Passthrough { #[pin] inner: B, ctx: Option<Ctx> },
        // Everything else, boxed: scanned clean 4xx bodies, problem documents, and the end after
        // a mid-stream panic. None of these is the common case, and keeping them out of line
        // keeps the pass-through body small.
        Prefixed { state: Box<Prefixed<B>> },
    }
}

/// A scanned, clean body (the bytes read for the scan, then the rest of the original), a problem
/// document (`prefix` only), or an ended stream (all empty).
struct Prefixed<B> {
    prefix: Option<Bytes>,
    trailers: Option<HeaderMap>,
    rest: Option<Pin<Box<B>>>,
    ctx: Option<Ctx>,
}

impl<B> SanitizeBody<B> {
    #[inline]
    fn passthrough(inner: B, ctx: Ctx) -> Self {
        Self {
            kind: BodyKind::Passthrough {
                inner,
                ctx: Some(ctx),
            },
        }
    }

    fn prefixed(
        prefix: Bytes,
        trailers: Option<HeaderMap>,
        rest: Option<Pin<Box<B>>>,
        ctx: Option<Ctx>,
    ) -> Self {
        let prefix = (!prefix.is_empty()).then_some(prefix);
        let state = Box::new(Prefixed {
            prefix,
            trailers,
            rest,
            ctx,
        });
        Self {
            kind: BodyKind::Prefixed { state },
        }
    }

    fn full(data: Bytes) -> Self {
        Self::prefixed(data, None, None, None)
    }
}

impl<B: fmt::Debug> fmt::Debug for SanitizeBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SanitizeBody").finish_non_exhaustive()
    }
}

type Polled = Poll<Option<Result<Frame<Bytes>, BoxError>>>;

/// Polls an inner body with panics caught; `Err` carries the panic payload (turned into text
/// only on that cold path).
#[inline]
fn poll_caught<B>(body: Pin<&mut B>, cx: &mut Context<'_>) -> Result<Polled, Box<dyn Any + Send>>
where
    B: Body,
    B::Data: 'static,
    B::Error: Into<BoxError>,
{
    // Converted inside the closure: the frame is copied out of `catch_unwind` once, already in
    // its final form.
    catch_unwind(AssertUnwindSafe(|| match body.poll_frame(cx) {
        Poll::Pending => Poll::Pending,
        Poll::Ready(None) => Poll::Ready(None),
        Poll::Ready(Some(Ok(frame))) => Poll::Ready(Some(Ok(frame.map_data(into_bytes)))),
        Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
    }))
}

/// A frame's data as [`Bytes`]: moved as is when it already is `Bytes` (the usual case; the type
/// test is resolved at compile time), else its remaining bytes copied out.
#[inline(always)]
fn into_bytes<D: Buf + 'static>(data: D) -> Bytes {
    let mut slot = Some(data);
    if let Some(bytes) = (&mut slot as &mut dyn Any).downcast_mut::<Option<Bytes>>() {
        return bytes.take().unwrap_or_default();
    }
    slot.map_or_else(Bytes::new, |mut d| d.copy_to_bytes(d.remaining()))
}

#[cold]
#[inline(never)]
fn body_panicked(ctx: Option<Ctx>, payload: Box<dyn Any + Send>) -> Polled {
    let text = panic_text(&*payload);
    drop(payload);
    let id = ctx
        .as_ref()
        .map(Ctx::incident_id)
        .unwrap_or_else(IncidentId::random);
    if let Some(ctx) = &ctx {
        let incident = Incident::new(
            id.clone(),
            StatusCode::INTERNAL_SERVER_ERROR,
            IncidentKind::Panic,
        );
        log_withheld(
            &ctx.config,
            &incident,
            text.as_bytes(),
            false,
            Some("response body panicked mid-stream"),
        );
    }
    Poll::Ready(Some(Err(Box::new(BodyPanicked { incident: id }))))
}

/// After a mid-stream panic: the inner body is dropped and the stream ends.
#[cold]
#[inline(never)]
fn ended<B>() -> BodyKind<B> {
    SanitizeBody::full(Bytes::new()).kind
}

impl<B> Body for SanitizeBody<B>
where
    B: Body,
    B::Data: 'static,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    #[inline(always)]
    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Polled {
        let mut kind = self.project().kind;
        let (panic, ctx) = match kind.as_mut().project() {
            BodyProj::Passthrough { inner, ctx } => match poll_caught(inner, cx) {
                Ok(polled) => return polled,
                Err(payload) => (payload, ctx.take()),
            },
            BodyProj::Prefixed { state } => {
                if let Some(data) = state.prefix.take() {
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                match &mut state.rest {
                    Some(body) => match poll_caught(body.as_mut(), cx) {
                        Ok(polled) => return polled,
                        Err(payload) => (payload, state.ctx.take()),
                    },
                    None => {
                        return Poll::Ready(state.trailers.take().map(|t| Ok(Frame::trailers(t))));
                    }
                }
            }
        };
        kind.set(ended());
        body_panicked(ctx, panic)
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            BodyKind::Passthrough { inner, .. } => inner.is_end_stream(),
            BodyKind::Prefixed { state } => {
                state.prefix.is_none()
                    && match &state.rest {
                        Some(body) => body.is_end_stream(),
                        None => state.trailers.is_none(),
                    }
            }
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            BodyKind::Passthrough { inner, .. } => inner.size_hint(),
            BodyKind::Prefixed { state } => {
                let n = state.prefix.as_ref().map_or(0, |p| p.len() as u64);
                match &state.rest {
                    Some(body) => {
                        let h = body.size_hint();
                        let mut out = SizeHint::new();
                        out.set_lower(h.lower().saturating_add(n));
                        if let Some(u) = h.upper() {
                            out.set_upper(u.saturating_add(n));
                        }
                        out
                    }
                    None => SizeHint::with_exact(n),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use http::{Request, Response};
    use http_body_util::{BodyExt, Full};
    use tower::ServiceExt;

    use super::SanitizeErrors;

    #[tokio::test]
    async fn frames_that_are_not_bytes_pass_through_unchanged() {
        // `&'static [u8]` is a `Buf` but not `Bytes`: its frames take the copying path.
        let svc = SanitizeErrors::new(tower::service_fn(|_req: Request<()>| async {
            Ok::<_, Infallible>(Response::new(Full::new(&b"{\"ok\":true}"[..])))
        }));
        let res = svc
            .oneshot(Request::new(()))
            .await
            .unwrap_or_else(|e| match e {});
        assert_eq!(res.status(), 200);
        let body = res.into_body().collect().await.map(|b| b.to_bytes());
        assert_eq!(body.ok().as_deref(), Some(&b"{\"ok\":true}"[..]));
    }
}
