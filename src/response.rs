//! `RedactResponse`: JSON and NDJSON response bodies rewritten per the caller's clearances.
//!
//! The layer reads the caller's [`Principal`] from the **request** extensions (set by the
//! `Authorize` layer, or by your own authentication), asks the [`Policy`] for that caller's
//! [`View`](crate::policy::View), and streams every JSON response body through the
//! [`json::Redactor`]. The same endpoint thus shows `null` to an anonymous
//! caller, `************1111` to a support agent with a partial payment clearance, and the card
//! number to a cleared billing role.
//!
//! - **Which responses.** `Content-Type` `application/json`, `application/*+json` (parameters and
//!   case ignored) and, as newline-delimited JSON, `application/x-ndjson`, `application/ndjson`,
//!   `application/jsonl`. Everything else passes through untouched, at the cost of an enum
//!   variant: no buffering, no copy. Responses without a body (`1xx`, `204`, `304`) pass through.
//!   A response that carries JSON under another content type is not redacted: declare it.
//! - **Headers.** `Content-Length` is dropped (redaction changes the length); the body is sent
//!   compacted (insignificant whitespace removed, values' text untouched).
//! - **Fail closed.** Output is held back until [`RedactResponseLayer::commit_after`] bytes
//!   (default 16 KiB) are ready or the body ends, so a malformed, truncated or too deeply nested
//!   body that fails within that window becomes a `500` `application/problem+json` response with
//!   no detail. Past that point the headers are gone: the body ends with an error and the client
//!   sees an aborted response, never the unredacted bytes. A body with a `Content-Encoding` other
//!   than `identity` is refused the same way (this layer reads plain JSON: put `CompressionLayer`
//!   **outside** it), unless [`RedactResponseLayer::allow_encoded`] opts into passing it through.
//!   The JSON body is always parsed, even when the caller is cleared for every class, so a
//!   malformed body never goes out under a JSON content type.
//! - **Memory.** Each response in flight holds one rewriter (at most
//!   [`RedactResponseLayer::max_buffer`], default 64 KiB, beyond the current chunk) and up to
//!   `commit_after` bytes of held-back output. Up to 16 idle rewriters are pooled per layer, so
//!   their key caches stay warm across responses.
//! - **Counts, not values.** When the body ends, a [`Report`] (values redacted and revealed per
//!   class, outcome, byte counts) goes to the [`OnComplete`] hook and into the [`ReportHandle`]
//!   that the layer puts in the response extensions, for an audit layer outside this one.
//!
//! Where it goes: inside `TraceLayer` and `CompressionLayer` (they see redacted bytes), inside
//! the layer that authenticates and sets the `Principal` (`Authorize`), outside the handlers.
//!
//! ```
//! use axum::{Router, routing::get, Json};
//! use safeguard::policy::Policy;
//! use safeguard::response::RedactResponseLayer;
//!
//! let app: Router = Router::new()
//!     .route("/me", get(|| async { Json(serde_json::json!({"name": "Ann", "password": "pw"})) }))
//!     .layer(RedactResponseLayer::new(Policy::default()));
//! # let _ = app;
//! ```

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::json::{self, Config, ErrorKind, Format, Redactor};
use crate::policy::{Policy, Tally};
use crate::principal::Principal;
use crate::problem::ProblemDetails;

/// The error type of [`RedactBody`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The default of [`RedactResponseLayer::commit_after`]: 16 KiB.
pub const DEFAULT_COMMIT_AFTER: usize = 16 * 1024;

/// Why a body was not (or not completely) sent.
///
/// ```
/// use safeguard::response::Refusal;
/// assert_ne!(Refusal::Encoded, Refusal::Body);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The body is not acceptable JSON (malformed, truncated, too deep, invalid UTF-8...).
    Json(ErrorKind),
    /// The body has a `Content-Encoding` the layer cannot read.
    Encoded,
    /// The inner body failed.
    Body,
}

/// How a redacted response ended.
///
/// ```
/// use safeguard::response::Outcome;
/// assert!(Outcome::Complete.is_complete());
/// assert!(!Outcome::Incomplete.is_complete());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The whole body was redacted and sent.
    Complete,
    /// Refused before the headers went out: the client got a `500` problem document.
    Refused(Refusal),
    /// Stopped after the headers went out: the body ended with an error.
    Aborted(Refusal),
    /// The body was dropped before its end (the client went away).
    Incomplete,
    /// Passed through unread (an encoded body with [`RedactResponseLayer::allow_encoded`]).
    PassedThrough,
}

impl Outcome {
    /// Whether the body was redacted to its end.
    ///
    /// ```
    /// use safeguard::response::{Outcome, Refusal};
    /// assert!(!Outcome::Refused(Refusal::Encoded).is_complete());
    /// ```
    pub fn is_complete(&self) -> bool {
        matches!(self, Self::Complete)
    }
}

/// What one redacted response did: counts per class, never values.
///
/// ```
/// use safeguard::response::{Outcome, Report};
/// let report = Report::default();
/// assert_eq!(report.outcome(), Outcome::Incomplete);
/// assert_eq!(report.tally().redacted(), 0);
/// ```
#[derive(Clone, Debug)]
pub struct Report {
    principal: Option<Principal>,
    tally: Tally,
    outcome: Outcome,
    bytes_in: u64,
    bytes_out: u64,
    oversized: u64,
}

impl Default for Report {
    fn default() -> Self {
        Self {
            principal: None,
            tally: Tally::default(),
            outcome: Outcome::Incomplete,
            bytes_in: 0,
            bytes_out: 0,
            oversized: 0,
        }
    }
}

impl Report {
    /// The caller the body was redacted for (`None`: anonymous).
    ///
    /// ```
    /// assert!(safeguard::response::Report::default().principal().is_none());
    /// ```
    pub fn principal(&self) -> Option<&Principal> {
        self.principal.as_ref()
    }

    /// Values redacted and revealed, per class (see [`Tally::summary`]).
    ///
    /// ```
    /// assert!(safeguard::response::Report::default().tally().is_empty());
    /// ```
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// How the response ended.
    ///
    /// ```
    /// use safeguard::response::{Outcome, Report};
    /// assert_eq!(Report::default().outcome(), Outcome::Incomplete);
    /// ```
    pub fn outcome(&self) -> Outcome {
        self.outcome
    }

    /// Body bytes read from the inner service.
    ///
    /// ```
    /// assert_eq!(safeguard::response::Report::default().bytes_in(), 0);
    /// ```
    pub fn bytes_in(&self) -> u64 {
        self.bytes_in
    }

    /// Body bytes sent to the client.
    ///
    /// ```
    /// assert_eq!(safeguard::response::Report::default().bytes_out(), 0);
    /// ```
    pub fn bytes_out(&self) -> u64 {
        self.bytes_out
    }

    /// Values erased because they were too long to mask, pseudonymize or scan within the
    /// memory bound (see [`json::Redactor::oversized`]).
    ///
    /// ```
    /// assert_eq!(safeguard::response::Report::default().oversized(), 0);
    /// ```
    pub fn oversized(&self) -> u64 {
        self.oversized
    }
}

/// A handle, in the response extensions, to the [`Report`] of a redacted response; filled when
/// the body ends (or is refused, or dropped).
///
/// ```
/// use safeguard::response::ReportHandle;
/// let handle = ReportHandle::default();
/// assert!(handle.get().is_none());
/// ```
#[derive(Clone, Debug, Default)]
pub struct ReportHandle(Arc<OnceLock<Report>>);

impl ReportHandle {
    /// The report, once the body has ended.
    ///
    /// ```
    /// assert!(safeguard::response::ReportHandle::default().get().is_none());
    /// ```
    pub fn get(&self) -> Option<&Report> {
        self.0.get()
    }
}

/// Called once per redacted response when its body ends (or is refused or dropped). Implemented
/// for closures `FnOnce(&Report) + Clone`.
///
/// ```
/// use std::sync::{Arc, atomic::{AtomicU64, Ordering}};
/// use safeguard::response::{OnComplete, Report};
///
/// let redacted = Arc::new(AtomicU64::new(0));
/// let counter = redacted.clone();
/// let hook = move |report: &Report| {
///     counter.fetch_add(report.tally().redacted(), Ordering::Relaxed);
/// };
/// hook.clone().on_complete(&Report::default());
/// assert_eq!(redacted.load(Ordering::Relaxed), 0);
/// ```
pub trait OnComplete: Clone {
    /// Receives the report.
    fn on_complete(self, report: &Report);
}

impl<F> OnComplete for F
where
    F: FnOnce(&Report) + Clone,
{
    fn on_complete(self, report: &Report) {
        self(report)
    }
}

/// The default [`OnComplete`]: does nothing (the [`ReportHandle`] still gets the report).
///
/// ```
/// use safeguard::response::{DefaultOnComplete, OnComplete, Report};
/// DefaultOnComplete.on_complete(&Report::default());
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct DefaultOnComplete;

impl OnComplete for DefaultOnComplete {
    fn on_complete(self, _report: &Report) {}
}

struct Shared {
    policy: Policy,
    config: Config,
    allow_encoded: bool,
    commit_after: usize,
    /// Idle rewriters, kept warm (buffers and key cache) for the next response; at most
    /// `POOL_SIZE`, each holding at most its memory bound.
    pool: Mutex<Vec<Redactor>>,
}

/// How many idle rewriters a layer keeps.
const POOL_SIZE: usize = 16;

/// Applies [`RedactResponse`] to a service. See the [module docs](self).
///
/// ```
/// use safeguard::policy::Policy;
/// use safeguard::response::RedactResponseLayer;
///
/// let layer = RedactResponseLayer::new(Policy::default())
///     .max_depth(64)
///     .max_buffer(32 * 1024)
///     .commit_after(8 * 1024)
///     .on_complete(|report: &safeguard::response::Report| {
///         tracing::info!(redacted = report.tally().redacted(), "response redacted");
///     });
/// # let _ = layer;
/// ```
#[derive(Clone)]
pub struct RedactResponseLayer<C = DefaultOnComplete> {
    shared: Arc<Shared>,
    on_complete: C,
}

impl fmt::Debug for RedactResponseLayer<DefaultOnComplete> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedactResponseLayer")
            .field("config", &self.shared.config)
            .field("allow_encoded", &self.shared.allow_encoded)
            .field("commit_after", &self.shared.commit_after)
            .finish_non_exhaustive()
    }
}

impl RedactResponseLayer {
    /// A layer that redacts per `policy`, with the default limits.
    ///
    /// ```
    /// let layer = safeguard::response::RedactResponseLayer::new(safeguard::policy::Policy::default());
    /// # let _ = layer;
    /// ```
    pub fn new(policy: Policy) -> Self {
        Self {
            shared: Arc::new(Shared {
                policy,
                config: Config::default(),
                allow_encoded: false,
                commit_after: DEFAULT_COMMIT_AFTER,
                pool: Mutex::new(Vec::new()),
            }),
            on_complete: DefaultOnComplete,
        }
    }
}

impl<C> RedactResponseLayer<C> {
    fn shared_mut(&mut self) -> &mut Shared {
        // Builder methods run before the layer is cloned, so this rarely copies.
        if Arc::get_mut(&mut self.shared).is_none() {
            self.shared = Arc::new(Shared {
                policy: self.shared.policy.clone(),
                config: self.shared.config.clone(),
                allow_encoded: self.shared.allow_encoded,
                commit_after: self.shared.commit_after,
                pool: Mutex::new(Vec::new()),
            });
        }
        Arc::get_mut(&mut self.shared).unwrap_or_else(|| unreachable!("just made unique"))
    }

    /// Sets the nesting limit (default 128); deeper bodies are refused.
    ///
    /// ```
    /// let layer = safeguard::response::RedactResponseLayer::new(Default::default()).max_depth(32);
    /// # let _ = layer;
    /// ```
    pub fn max_depth(mut self, depth: usize) -> Self {
        let shared = self.shared_mut();
        shared.config = shared.config.clone().max_depth(depth);
        self
    }

    /// Sets the rewriter's memory bound per response (default 64 KiB; see
    /// [`json::Config::max_buffer`]).
    ///
    /// ```
    /// let layer = safeguard::response::RedactResponseLayer::new(Default::default()).max_buffer(16 * 1024);
    /// # let _ = layer;
    /// ```
    pub fn max_buffer(mut self, bytes: usize) -> Self {
        let shared = self.shared_mut();
        shared.config = shared.config.clone().max_buffer(bytes);
        self
    }

    /// Runs the policy's detectors on every string value (default off; see
    /// [`json::Config::detect_values`]).
    ///
    /// ```
    /// let layer = safeguard::response::RedactResponseLayer::new(Default::default()).detect_values(true);
    /// # let _ = layer;
    /// ```
    pub fn detect_values(mut self, on: bool) -> Self {
        let shared = self.shared_mut();
        shared.config = shared.config.clone().detect_values(on);
        self
    }

    /// How much redacted output is held back before the headers are sent (default 16 KiB).
    /// Bodies that fail within it become a `500`; later failures abort the body. `0` commits at
    /// the first output.
    ///
    /// ```
    /// let layer = safeguard::response::RedactResponseLayer::new(Default::default()).commit_after(0);
    /// # let _ = layer;
    /// ```
    pub fn commit_after(mut self, bytes: usize) -> Self {
        self.shared_mut().commit_after = bytes;
        self
    }

    /// Lets JSON bodies with a `Content-Encoding` (other than `identity`) pass through unread
    /// instead of being refused. Only for services whose compressed JSON holds nothing
    /// classified: the layer cannot redact what it cannot read.
    ///
    /// ```
    /// let layer = safeguard::response::RedactResponseLayer::new(Default::default()).allow_encoded(true);
    /// # let _ = layer;
    /// ```
    pub fn allow_encoded(mut self, allow: bool) -> Self {
        self.shared_mut().allow_encoded = allow;
        self
    }

    /// Sets the hook called with each response's [`Report`].
    ///
    /// ```
    /// use safeguard::response::{RedactResponseLayer, Report};
    /// let layer = RedactResponseLayer::new(Default::default())
    ///     .on_complete(|report: &Report| assert!(report.bytes_out() <= report.bytes_in() + 64));
    /// # let _ = layer;
    /// ```
    pub fn on_complete<C2>(self, on_complete: C2) -> RedactResponseLayer<C2> {
        RedactResponseLayer {
            shared: self.shared,
            on_complete,
        }
    }
}

impl<S, C: Clone> Layer<S> for RedactResponseLayer<C> {
    type Service = RedactResponse<S, C>;

    fn layer(&self, inner: S) -> Self::Service {
        RedactResponse {
            inner,
            shared: self.shared.clone(),
            on_complete: self.on_complete.clone(),
        }
    }
}

/// The service that redacts its inner service's JSON responses. See the [module docs](self).
///
/// ```
/// use bytes::Bytes;
/// use http::{Request, Response};
/// use http_body_util::{BodyExt, Full};
/// use safeguard::policy::Policy;
/// use safeguard::response::RedactResponse;
/// use tower::{ServiceExt, service_fn};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let handler = service_fn(|_req: Request<()>| async {
///     let res = Response::builder()
///         .header("content-type", "application/json; charset=utf-8")
///         .header("content-length", "33")
///         .body(Full::new(Bytes::from_static(br#"{"user": "ann", "ssn": "1234567"}"#)))
///         .unwrap();
///     Ok::<_, std::convert::Infallible>(res)
/// });
/// let svc = RedactResponse::new(handler, Policy::default());
/// let res = svc.oneshot(Request::new(())).await.unwrap();
/// assert!(res.headers().get("content-length").is_none());
/// let body = res.into_body().collect().await.unwrap().to_bytes();
/// assert_eq!(body, r#"{"user":"ann","ssn":null}"#);
/// # }
/// ```
#[derive(Clone)]
pub struct RedactResponse<S, C = DefaultOnComplete> {
    inner: S,
    shared: Arc<Shared>,
    on_complete: C,
}

impl<S: fmt::Debug, C> fmt::Debug for RedactResponse<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedactResponse")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S> RedactResponse<S> {
    /// Wraps `inner` with the default limits.
    ///
    /// ```
    /// use safeguard::response::RedactResponse;
    /// let svc = RedactResponse::new(tower::service_fn(|_: http::Request<()>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Empty::<bytes::Bytes>::new()))
    /// }), safeguard::policy::Policy::default());
    /// # let _ = svc;
    /// ```
    pub fn new(inner: S, policy: Policy) -> Self {
        RedactResponseLayer::new(policy).layer(inner)
    }

    /// The layer (same as [`RedactResponseLayer::new`]).
    ///
    /// ```
    /// let layer = safeguard::response::RedactResponse::<()>::layer(Default::default());
    /// # let _ = layer;
    /// ```
    pub fn layer(policy: Policy) -> RedactResponseLayer {
        RedactResponseLayer::new(policy)
    }
}

impl<S, C, ReqB, ResB> Service<Request<ReqB>> for RedactResponse<S, C>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    ResB: Body,
    ResB::Error: Into<BoxError>,
    C: OnComplete,
{
    type Response = Response<RedactBody<ResB, C>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResB, C>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        // The caller is known from the request only: capture it now (one Arc clone).
        let ctx = Ctx {
            principal: req.extensions().get::<Principal>().cloned(),
            head: req.method() == Method::HEAD,
            shared: self.shared.clone(),
            on_complete: self.on_complete.clone(),
        };
        ResponseFuture {
            inner: self.inner.call(req),
            state: State::Waiting(Some(ctx)),
        }
    }
}

struct Ctx<C> {
    principal: Option<Principal>,
    head: bool,
    shared: Arc<Shared>,
    on_complete: C,
}

/// The redaction of one body in progress, with its report hook.
struct Job<C> {
    principal: Option<Principal>,
    redactor: Redactor,
    shared: Arc<Shared>,
    on_complete: Option<C>,
    fire: fn(C, &Report),
    handle: ReportHandle,
    bytes_out: u64,
    done: bool,
}

impl<C> Job<C> {
    fn feed_buf(&mut self, mut data: impl Buf, out: &mut Vec<u8>) -> Result<(), json::Error> {
        while data.has_remaining() {
            let chunk = data.chunk();
            let n = chunk.len();
            self.redactor.feed(chunk, out)?;
            data.advance(n);
        }
        Ok(())
    }

    fn complete(&mut self, outcome: Outcome) {
        if self.done {
            return;
        }
        self.done = true;
        let report = Report {
            principal: self.principal.take(),
            tally: self.redactor.take_tally(),
            outcome,
            bytes_in: self.redactor.consumed(),
            bytes_out: self.bytes_out,
            oversized: self.redactor.oversized(),
        };
        if let Some(hook) = self.on_complete.take() {
            (self.fire)(hook, &report);
        }
        let _ = self.handle.0.set(report);
    }
}

impl<C> Drop for Job<C> {
    fn drop(&mut self) {
        self.complete(Outcome::Incomplete);
        // Hand the warm rewriter back to the pool; a cheap empty one takes its place here.
        if let Ok(mut pool) = self.shared.pool.lock() {
            if pool.len() < POOL_SIZE {
                let spare = Redactor::new(self.redactor.view().clone());
                pool.push(std::mem::replace(&mut self.redactor, spare));
            }
        }
    }
}

fn fire<C: OnComplete>(hook: C, report: &Report) {
    hook.on_complete(report);
}

enum State<B, C> {
    Waiting(Option<Ctx<C>>),
    Prefetch(Box<Prefetch<B, C>>),
    Done,
}

struct Prefetch<B, C> {
    parts: http::response::Parts,
    body: Pin<Box<B>>,
    job: Box<Job<C>>,
    out: Vec<u8>,
    trailers: Option<HeaderMap>,
    commit_after: usize,
}

pin_project! {
    /// The future of [`RedactResponse`]: waits for the inner response, then (for JSON) reads and
    /// redacts up to [`RedactResponseLayer::commit_after`] bytes before handing the response out.
    pub struct ResponseFuture<F, B, C> {
        #[pin]
        inner: F,
        state: State<B, C>,
    }
}

impl<F, B, C> fmt::Debug for ResponseFuture<F, B, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, B, C, E> Future for ResponseFuture<F, B, C>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Body,
    B::Error: Into<BoxError>,
    C: OnComplete,
{
    type Output = Result<Response<RedactBody<B, C>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        loop {
            match this.state {
                State::Waiting(ctx) => {
                    let res = ready!(this.inner.as_mut().poll(cx))?;
                    let Some(ctx) = ctx.take() else {
                        return Poll::Pending;
                    };
                    match start(res, ctx) {
                        Start::Ready(res) => {
                            *this.state = State::Done;
                            return Poll::Ready(Ok(res));
                        }
                        Start::Prefetch(prefetch) => *this.state = State::Prefetch(prefetch),
                    }
                }
                State::Prefetch(prefetch) => {
                    let filled = ready!(prefetch.fill(cx));
                    let State::Prefetch(prefetch) = std::mem::replace(this.state, State::Done)
                    else {
                        return Poll::Pending;
                    };
                    return Poll::Ready(Ok(match filled {
                        Ok(finished) => prefetch.commit(finished),
                        Err(refusal) => {
                            let mut job = prefetch.job;
                            job.complete(Outcome::Refused(refusal));
                            refuse(job.handle.clone())
                        }
                    }));
                }
                // Polled after completion: a caller bug; never resolve twice.
                State::Done => return Poll::Pending,
            }
        }
    }
}

// Lives for one match arm: boxing the ready response would cost an allocation per request.
#[allow(clippy::large_enum_variant)]
enum Start<B, C> {
    Ready(Response<RedactBody<B, C>>),
    Prefetch(Box<Prefetch<B, C>>),
}

fn start<B, C: OnComplete>(res: Response<B>, ctx: Ctx<C>) -> Start<B, C> {
    let format = json_format(res.headers());
    let no_body = res.status().is_informational()
        || res.status() == StatusCode::NO_CONTENT
        || res.status() == StatusCode::NOT_MODIFIED;
    let Some(format) = format.filter(|_| !no_body) else {
        return Start::Ready(res.map(RedactBody::passthrough));
    };
    let (mut parts, body) = res.into_parts();
    if ctx.head {
        // No body to redact, but the unredacted length would still tell something.
        parts.headers.remove(CONTENT_LENGTH);
        return Start::Ready(Response::from_parts(parts, RedactBody::passthrough(body)));
    }
    let handle = ReportHandle::default();
    let config = ctx.shared.config.clone().with_format(format);
    let view = ctx.shared.policy.view(ctx.principal.as_ref());
    let pooled = ctx.shared.pool.lock().ok().and_then(|mut pool| pool.pop());
    let redactor = match pooled {
        Some(mut redactor) => {
            redactor.reset(view, config);
            redactor
        }
        None => Redactor::with_config(view, config),
    };
    let mut job = Box::new(Job {
        principal: ctx.principal,
        redactor,
        shared: ctx.shared.clone(),
        on_complete: Some(ctx.on_complete),
        fire: fire::<C>,
        handle: handle.clone(),
        bytes_out: 0,
        done: false,
    });
    if is_encoded(&parts.headers) {
        if ctx.shared.allow_encoded {
            job.complete(Outcome::PassedThrough);
            parts.extensions.insert(handle);
            return Start::Ready(Response::from_parts(parts, RedactBody::passthrough(body)));
        }
        job.complete(Outcome::Refused(Refusal::Encoded));
        return Start::Ready(refuse(handle));
    }
    parts.headers.remove(CONTENT_LENGTH);
    parts.extensions.insert(handle);
    Start::Prefetch(Box::new(Prefetch {
        parts,
        body: Box::pin(body),
        job,
        out: Vec::new(),
        trailers: None,
        commit_after: ctx.shared.commit_after,
    }))
}

impl<B, C> Prefetch<B, C>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    /// Reads and redacts until enough output is held or the body ends. `Ok(true)`: the body
    /// ended and was redacted completely.
    fn fill(&mut self, cx: &mut Context<'_>) -> Poll<Result<bool, Refusal>> {
        while self.out.len() < self.commit_after.max(1) {
            match ready!(self.body.as_mut().poll_frame(cx)) {
                Some(Ok(frame)) => match frame.into_data() {
                    Ok(data) => {
                        let mut out = std::mem::take(&mut self.out);
                        let fed = self.job.feed_buf(data, &mut out);
                        self.out = out;
                        if let Err(err) = fed {
                            return Poll::Ready(Err(Refusal::Json(err.kind())));
                        }
                    }
                    Err(frame) => {
                        if let Ok(trailers) = frame.into_trailers() {
                            self.trailers = Some(trailers);
                        }
                    }
                },
                Some(Err(_)) => return Poll::Ready(Err(Refusal::Body)),
                None => {
                    return Poll::Ready(match self.job.redactor.finish(&mut self.out) {
                        Ok(()) => Ok(true),
                        Err(err) => Err(Refusal::Json(err.kind())),
                    });
                }
            }
        }
        Poll::Ready(Ok(false))
    }

    fn commit(self: Box<Self>, finished: bool) -> Response<RedactBody<B, C>> {
        let Prefetch {
            parts,
            body,
            mut job,
            out,
            trailers,
            ..
        } = *self;
        job.bytes_out += out.len() as u64;
        if finished {
            job.complete(Outcome::Complete);
        }
        let ready = if out.is_empty() {
            None
        } else {
            Some(Bytes::from(out))
        };
        Response::from_parts(
            parts,
            RedactBody {
                kind: Kind::Redact {
                    body,
                    job,
                    ready,
                    trailers,
                    finished,
                    failed: None,
                },
            },
        )
    }
}

fn refuse<B, C>(handle: ReportHandle) -> Response<RedactBody<B, C>> {
    let mut res = ProblemDetails::for_status(StatusCode::INTERNAL_SERVER_ERROR)
        .into_response::<RedactBody<B, C>>();
    res.extensions_mut().insert(handle);
    res
}

/// The framing of a JSON media type, or `None` for other types.
fn json_format(headers: &HeaderMap) -> Option<Format> {
    headers
        .get_all(CONTENT_TYPE)
        .iter()
        .find_map(|value| media_format(value.as_bytes()))
}

fn media_format(value: &[u8]) -> Option<Format> {
    let value = std::str::from_utf8(value).ok()?;
    let essence = value.split(';').next()?.trim();
    let (kind, subtype) = essence.split_once('/')?;
    if !kind.trim().eq_ignore_ascii_case("application") {
        return None;
    }
    let subtype = subtype.trim();
    let is = |name: &str| subtype.eq_ignore_ascii_case(name);
    if is("json")
        || (subtype.len() > 5
            && subtype.is_char_boundary(subtype.len() - 5)
            && subtype[subtype.len() - 5..].eq_ignore_ascii_case("+json"))
    {
        Some(Format::Json)
    } else if is("x-ndjson") || is("ndjson") || is("jsonl") || is("x-jsonlines") {
        Some(Format::Lines)
    } else {
        None
    }
}

fn is_encoded(headers: &HeaderMap) -> bool {
    headers.get_all(CONTENT_ENCODING).iter().any(|value| {
        value.to_str().map_or(true, |v| {
            v.split(',')
                .map(str::trim)
                .any(|coding| !coding.is_empty() && !coding.eq_ignore_ascii_case("identity"))
        })
    })
}

pin_project! {
    /// The body of [`RedactResponse`]: the inner body as it is (other content types), the
    /// redacted body, or a problem document.
    pub struct RedactBody<B, C = DefaultOnComplete> {
        #[pin]
        kind: Kind<B, C>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B, C> {
        Passthrough { #[pin] body: B },
        Redact {
            body: Pin<Box<B>>,
            job: Box<Job<C>>,
            ready: Option<Bytes>,
            trailers: Option<HeaderMap>,
            finished: bool,
            failed: Option<Refusal>,
        },
        Full { data: Option<Bytes> },
    }
}

impl<B, C> RedactBody<B, C> {
    fn passthrough(body: B) -> Self {
        Self {
            kind: Kind::Passthrough { body },
        }
    }
}

impl<B, C> From<Bytes> for RedactBody<B, C> {
    fn from(data: Bytes) -> Self {
        Self {
            kind: Kind::Full { data: Some(data) },
        }
    }
}

impl<B, C> fmt::Debug for RedactBody<B, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            Kind::Passthrough { .. } => "passthrough",
            Kind::Redact { .. } => "redact",
            Kind::Full { .. } => "full",
        };
        f.debug_struct("RedactBody").field("kind", &kind).finish()
    }
}

/// The error a redacted body ends with when the rest of the body cannot be sent safely.
#[derive(Debug)]
struct Aborted(Refusal);

impl fmt::Display for Aborted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "response body aborted by RedactResponse: {:?}", self.0)
    }
}

impl std::error::Error for Aborted {}

impl<B, C> Body for RedactBody<B, C>
where
    B: Body,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        match self.project().kind.project() {
            KindProj::Passthrough { body } => body.poll_frame(cx).map(|frame| {
                frame.map(|frame| {
                    frame
                        .map(|frame| {
                            frame.map_data(|mut data| data.copy_to_bytes(data.remaining()))
                        })
                        .map_err(Into::into)
                })
            }),
            KindProj::Full { data } => Poll::Ready(data.take().map(|data| Ok(Frame::data(data)))),
            KindProj::Redact {
                body,
                job,
                ready,
                trailers,
                finished,
                failed,
            } => loop {
                if let Some(refusal) = failed {
                    return Poll::Ready(Some(Err(Box::new(Aborted(*refusal)))));
                }
                if let Some(data) = ready.take() {
                    return Poll::Ready(Some(Ok(Frame::data(data))));
                }
                if *finished {
                    return Poll::Ready(trailers.take().map(|t| Ok(Frame::trailers(t))));
                }
                let mut out = Vec::new();
                match ready!(body.as_mut().poll_frame(cx)) {
                    Some(Ok(frame)) => match frame.into_data() {
                        Ok(data) => {
                            if let Err(err) = job.feed_buf(data, &mut out) {
                                *failed = Some(Refusal::Json(err.kind()));
                                job.complete(Outcome::Aborted(Refusal::Json(err.kind())));
                                continue;
                            }
                        }
                        Err(frame) => {
                            if let Ok(t) = frame.into_trailers() {
                                *trailers = Some(t);
                            }
                        }
                    },
                    Some(Err(_)) => {
                        *failed = Some(Refusal::Body);
                        job.complete(Outcome::Aborted(Refusal::Body));
                        continue;
                    }
                    None => {
                        if let Err(err) = job.redactor.finish(&mut out) {
                            *failed = Some(Refusal::Json(err.kind()));
                            job.complete(Outcome::Aborted(Refusal::Json(err.kind())));
                            continue;
                        }
                        *finished = true;
                        job.bytes_out += out.len() as u64;
                        job.complete(Outcome::Complete);
                        if !out.is_empty() {
                            *ready = Some(Bytes::from(out));
                        }
                        continue;
                    }
                }
                if !out.is_empty() {
                    job.bytes_out += out.len() as u64;
                    *ready = Some(Bytes::from(out));
                }
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Passthrough { body } => body.is_end_stream(),
            Kind::Full { data } => data.is_none(),
            Kind::Redact {
                ready,
                trailers,
                finished,
                failed,
                ..
            } => *finished && ready.is_none() && trailers.is_none() && failed.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Passthrough { body } => body.size_hint(),
            Kind::Full { data } => {
                SizeHint::with_exact(data.as_ref().map_or(0, |d| d.len() as u64))
            }
            Kind::Redact { .. } => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        let json = Some(Format::Json);
        let lines = Some(Format::Lines);
        for (value, want) in [
            ("application/json", json),
            ("Application/JSON; charset=UTF-8", json),
            (" application/json ;charset=utf-8", json),
            ("application/problem+json", json),
            ("application/vnd.api+JSON", json),
            ("application/x-ndjson", lines),
            ("application/jsonl", lines),
            ("text/json", None),
            ("text/plain", None),
            ("application/jsonx", None),
            ("application/+json", None),
            ("application", None),
        ] {
            assert_eq!(media_format(value.as_bytes()), want, "{value}");
        }
    }

    #[test]
    fn encodings() {
        let mut h = HeaderMap::new();
        assert!(!is_encoded(&h));
        h.insert(CONTENT_ENCODING, "identity".parse().unwrap());
        assert!(!is_encoded(&h));
        h.append(CONTENT_ENCODING, "gzip".parse().unwrap());
        assert!(is_encoded(&h));
    }
}
