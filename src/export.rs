//! `CsvExport`: CSV and TSV responses rewritten as they stream so that no cell can run as a
//! spreadsheet formula.
//!
//! The layer is a thin adapter over the [`csv`](crate::csv) engine's [`Rewriter`]. It acts on
//! responses whose `Content-Type` is `text/csv`, `application/csv`,
//! `text/tab-separated-values` (TAB-delimited) or a type added with
//! [`CsvExportLayer::content_type`], and on responses sent as an attachment whose file name
//! ends in `.csv` or `.tsv`. For those it:
//!
//! * neutralizes every cell per the [`Neutralizer`] (default: `'` prefix, plain numbers kept),
//!   chunk by chunk with bounded memory (the cell head, 8 KiB by default, per response);
//! * removes `Content-Length` (the length may change; the body is streamed chunked) and
//!   `Accept-Ranges`, and sets `X-Content-Type-Options: nosniff`;
//! * reports the number of neutralized cells at the end of the body, when it is known: to the
//!   [`on_end`](CsvExportLayer::on_end) callback, and as the HTTP trailer
//!   `x-csv-neutralized-cells` (declared up front in a `Trailer` header; HTTP/1.1 clients get
//!   it when they send `TE: trailers`). A response header cannot carry it: headers leave before
//!   the body is read.
//!
//! It fails closed: a CSV response with a `Content-Encoding` other than `identity` (which the
//! layer cannot read) or a `206 Partial Content` CSV response (a slice cannot be parsed
//! reliably) is replaced by a `500` problem+json before anything is sent, unless
//! [`allow_encoded`](CsvExportLayer::allow_encoded) lets encoded bodies through unchanged.
//! Under [`Strategy::Reject`](crate::csv::Strategy::Reject) a dangerous cell ends the body with
//! an error, which aborts the connection: the client never gets a complete export.
//!
//! # Where it goes
//!
//! Inside `CompressionLayer` (it must see uncompressed bytes; compression then applies to the
//! neutralized output) and inside `TraceLayer`, close to the handlers that produce exports.
//!
//! ```
//! use axum::{Router, routing::get, http::header};
//! use safeguard::export::CsvExportLayer;
//! use tower::ServiceExt;
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let app = Router::new()
//!     .route("/export", get(|| async {
//!         ([(header::CONTENT_TYPE, "text/csv")], "name,note\nmallory,=1+1\n")
//!     }))
//!     .layer(CsvExportLayer::new());
//!
//! let res = app.oneshot(http::Request::get("/export").body(axum::body::Body::empty()).unwrap())
//!     .await
//!     .unwrap();
//! assert_eq!(res.headers()["x-content-type-options"], "nosniff");
//! let body = axum::body::to_bytes(res.into_body(), 1 << 20).await.unwrap();
//! assert_eq!(&body[..], b"name,note\nmallory,\"'=1+1\"\n");
//! # }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes};
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode, header};
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::csv::{Neutralizer, Rewriter};
use crate::problem::ProblemDetails;

/// Boxed error of [`CsvExportBody`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The trailer that carries the number of neutralized cells.
pub const NEUTRALIZED_TRAILER: &str = "x-csv-neutralized-cells";

/// What the layer did to one export, reported when its body ends.
///
/// ```
/// let s = safeguard::export::ExportSummary { cells: 10, neutralized: 2, complete: true };
/// assert!(s.complete && s.neutralized <= s.cells);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// Cells read.
    pub cells: u64,
    /// Cells neutralized.
    pub neutralized: u64,
    /// `false` when the body ended early: the inner body failed or a cell was rejected.
    pub complete: bool,
}

/// Called once per rewritten export when its body ends (or fails).
///
/// Implemented for every `Fn(&ExportSummary) + Send + Sync + 'static`.
///
/// ```
/// use safeguard::export::{ExportSummary, OnExportEnd};
/// let hook = |s: &ExportSummary| assert!(s.complete);
/// hook.on_export_end(&ExportSummary { cells: 1, neutralized: 0, complete: true });
/// ```
pub trait OnExportEnd: Send + Sync + 'static {
    /// Receives the summary.
    fn on_export_end(&self, summary: &ExportSummary);
}

impl<F: Fn(&ExportSummary) + Send + Sync + 'static> OnExportEnd for F {
    fn on_export_end(&self, summary: &ExportSummary) {
        self(summary)
    }
}

struct Config {
    nz: Neutralizer,
    /// Lower-case media type essences handled with the configured delimiter.
    types: Vec<String>,
    allow_encoded: bool,
    trailer: bool,
    on_end: Option<Arc<dyn OnExportEnd>>,
}

impl Clone for Config {
    fn clone(&self) -> Self {
        Self {
            nz: self.nz.clone(),
            types: self.types.clone(),
            allow_encoded: self.allow_encoded,
            trailer: self.trailer,
            on_end: self.on_end.clone(),
        }
    }
}

const TSV: &str = "text/tab-separated-values";

/// Layer that applies [`CsvExport`].
///
/// ```
/// use safeguard::csv::{Neutralizer, Strategy};
/// use safeguard::export::CsvExportLayer;
///
/// let layer = CsvExportLayer::new()
///     .neutralizer(Neutralizer::new().strategy(Strategy::TabPrefix))
///     .content_type("application/vnd.ms-excel")
///     .on_end(|s: &safeguard::export::ExportSummary| {
///         if s.neutralized > 0 {
///             tracing::warn!(neutralized = s.neutralized, "formula-like cells neutralized");
///         }
///     });
/// # let _ = layer;
/// ```
#[derive(Clone)]
pub struct CsvExportLayer {
    config: Arc<Config>,
}

impl std::fmt::Debug for CsvExportLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvExportLayer")
            .field("neutralizer", &self.config.nz)
            .field("types", &self.config.types)
            .field("allow_encoded", &self.config.allow_encoded)
            .field("trailer", &self.config.trailer)
            .finish_non_exhaustive()
    }
}

impl Default for CsvExportLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl CsvExportLayer {
    /// The layer with the default [`Neutralizer`] for `text/csv`, `application/csv` and
    /// `text/tab-separated-values`.
    ///
    /// ```
    /// let layer = safeguard::export::CsvExportLayer::new();
    /// assert!(format!("{layer:?}").contains("text/csv"));
    /// ```
    pub fn new() -> Self {
        Self {
            config: Arc::new(Config {
                nz: Neutralizer::new(),
                types: vec!["text/csv".into(), "application/csv".into(), TSV.into()],
                allow_encoded: false,
                trailer: true,
                on_end: None,
            }),
        }
    }

    fn map(mut self, f: impl FnOnce(&mut Config)) -> Self {
        f(Arc::make_mut(&mut self.config));
        self
    }

    /// Sets the neutralizer (strategy, numbers, delimiter, `sep=` handling, cell head size).
    /// TSV responses use TAB whatever its delimiter.
    ///
    /// ```
    /// use safeguard::csv::{Neutralizer, Strategy};
    /// let layer = safeguard::export::CsvExportLayer::new()
    ///     .neutralizer(Neutralizer::new().strategy(Strategy::Strip).delimiter(b';'));
    /// assert!(format!("{layer:?}").contains("Strip"));
    /// ```
    pub fn neutralizer(self, nz: Neutralizer) -> Self {
        self.map(|c| c.nz = nz)
    }

    /// Also rewrites responses of this media type (compared case-insensitively, parameters
    /// ignored), e.g. `application/vnd.ms-excel` when it carries CSV.
    ///
    /// ```
    /// let layer = safeguard::export::CsvExportLayer::new().content_type("Text/X-CSV");
    /// assert!(format!("{layer:?}").contains("text/x-csv"));
    /// ```
    pub fn content_type(self, media_type: &str) -> Self {
        let t = media_type.trim().to_ascii_lowercase();
        self.map(|c| {
            if !c.types.contains(&t) {
                c.types.push(t)
            }
        })
    }

    /// Lets CSV responses with a `Content-Encoding` through unchanged instead of refusing them
    /// (default `false`). Only for encodings you know carry no formulas; better, put the
    /// compression outside this layer.
    ///
    /// ```
    /// let layer = safeguard::export::CsvExportLayer::new().allow_encoded(true);
    /// assert!(format!("{layer:?}").contains("allow_encoded: true"));
    /// ```
    pub fn allow_encoded(self, allow: bool) -> Self {
        self.map(|c| c.allow_encoded = allow)
    }

    /// Whether to announce and send the `x-csv-neutralized-cells` trailer (default `true`).
    ///
    /// ```
    /// let layer = safeguard::export::CsvExportLayer::new().trailer(false);
    /// assert!(format!("{layer:?}").contains("trailer: false"));
    /// ```
    pub fn trailer(self, send: bool) -> Self {
        self.map(|c| c.trailer = send)
    }

    /// Calls `hook` with an [`ExportSummary`] when each rewritten export ends.
    ///
    /// ```
    /// use std::sync::{Arc, atomic::{AtomicU64, Ordering}};
    /// let total = Arc::new(AtomicU64::new(0));
    /// let t = total.clone();
    /// let _layer = safeguard::export::CsvExportLayer::new()
    ///     .on_end(move |s: &safeguard::export::ExportSummary| {
    ///         t.fetch_add(s.neutralized, Ordering::Relaxed);
    ///     });
    /// assert_eq!(total.load(Ordering::Relaxed), 0);
    /// ```
    pub fn on_end(self, hook: impl OnExportEnd) -> Self {
        let hook: Arc<dyn OnExportEnd> = Arc::new(hook);
        self.map(|c| c.on_end = Some(hook))
    }
}

impl<S> Layer<S> for CsvExportLayer {
    type Service = CsvExport<S>;

    fn layer(&self, inner: S) -> Self::Service {
        CsvExport {
            inner,
            config: self.config.clone(),
        }
    }
}

/// Middleware that neutralizes spreadsheet formulas in CSV responses; see the
/// [module docs](self).
///
/// ```
/// use bytes::Bytes;
/// use http::{Request, Response};
/// use http_body_util::{BodyExt, Full};
/// use safeguard::export::CsvExport;
/// use tower::{ServiceBuilder, ServiceExt, service_fn};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let svc = ServiceBuilder::new().layer(CsvExport::layer()).service(service_fn(|_req: Request<()>| async {
///     let res = Response::builder()
///         .header("content-type", "text/tab-separated-values")
///         .header("content-length", "12")
///         .body(Full::new(Bytes::from_static(b"a\t@evil\t-3\n")))
///         .unwrap();
///     Ok::<_, std::convert::Infallible>(res)
/// }));
/// let res = svc.oneshot(Request::new(())).await.unwrap();
/// assert!(res.headers().get("content-length").is_none());
/// let body = res.into_body().collect().await.unwrap().to_bytes();
/// assert_eq!(&body[..], b"a\t\"'@evil\"\t-3\n");
/// # }
/// ```
#[derive(Clone)]
pub struct CsvExport<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S: std::fmt::Debug> std::fmt::Debug for CsvExport<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CsvExport")
            .field("inner", &self.inner)
            .field("types", &self.config.types)
            .finish_non_exhaustive()
    }
}

impl CsvExport<()> {
    /// The default [`CsvExportLayer`].
    ///
    /// ```
    /// let _layer: safeguard::export::CsvExportLayer = safeguard::export::CsvExport::layer();
    /// ```
    pub fn layer() -> CsvExportLayer {
        CsvExportLayer::new()
    }
}

impl<S> CsvExport<S> {
    /// Wraps `inner` with the default configuration.
    ///
    /// ```
    /// let svc = safeguard::export::CsvExport::new(tower::service_fn(|_: http::Request<()>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(http_body_util::Empty::<bytes::Bytes>::new()))
    /// }));
    /// assert!(format!("{:?}", svc.get_ref()).contains("ServiceFn"));
    /// ```
    pub fn new(inner: S) -> Self {
        CsvExportLayer::new().layer(inner)
    }

    /// The inner service.
    ///
    /// ```
    /// let svc = safeguard::export::CsvExport::new(42u8);
    /// assert_eq!(*svc.get_ref(), 42);
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    ///
    /// ```
    /// let mut svc = safeguard::export::CsvExport::new(1u8);
    /// *svc.get_mut() = 2;
    /// assert_eq!(svc.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    ///
    /// ```
    /// assert_eq!(safeguard::export::CsvExport::new("svc").into_inner(), "svc");
    /// ```
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for CsvExport<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: Body,
    ResBody::Error: Into<BoxError>,
{
    type Response = Response<CsvExportBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        ResponseFuture {
            inner: self.inner.call(req),
            config: self.config.clone(),
        }
    }
}

pin_project! {
    /// Response future of [`CsvExport`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        config: Arc<Config>,
    }
}

impl<F: std::fmt::Debug> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: Body,
    B::Error: Into<BoxError>,
{
    type Output = Result<Response<CsvExportBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let res = ready!(this.inner.poll(cx))?;
        Poll::Ready(Ok(adapt(res, this.config)))
    }
}

/// What to do with a response, from its headers.
enum Plan {
    Pass,
    Rewrite { delimiter: Option<u8> },
}

fn plan(headers: &HeaderMap, config: &Config) -> Plan {
    if let Some(ct) = headers.get(header::CONTENT_TYPE) {
        let essence = ct
            .to_str()
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if essence == TSV && config.types.iter().any(|t| t == TSV) {
            return Plan::Rewrite {
                delimiter: Some(b'\t'),
            };
        }
        if config.types.contains(&essence) {
            return Plan::Rewrite { delimiter: None };
        }
    }
    // An attachment named *.csv opens in a spreadsheet whatever its declared type.
    match attachment_extension(headers) {
        Some(Ext::Csv) => Plan::Rewrite { delimiter: None },
        Some(Ext::Tsv) => Plan::Rewrite {
            delimiter: Some(b'\t'),
        },
        None => Plan::Pass,
    }
}

enum Ext {
    Csv,
    Tsv,
}

fn attachment_extension(headers: &HeaderMap) -> Option<Ext> {
    let cd = headers
        .get(header::CONTENT_DISPOSITION)?
        .to_str()
        .ok()?
        .to_ascii_lowercase();
    let mut found = None;
    for param in cd.split(';') {
        let Some((name, value)) = param.split_once('=') else {
            continue;
        };
        if !name.trim().starts_with("filename") {
            continue;
        }
        let value = value.trim().trim_matches('"');
        let value = value
            .rsplit("''")
            .next()
            .unwrap_or(value)
            .trim_end_matches('"');
        if value.ends_with(".csv") {
            found = Some(Ext::Csv);
        } else if value.ends_with(".tsv") || value.ends_with(".tab") {
            found = Some(Ext::Tsv);
        }
    }
    found
}

fn is_encoded(headers: &HeaderMap) -> bool {
    headers.get_all(header::CONTENT_ENCODING).iter().any(|v| {
        v.to_str().map_or(true, |s| {
            s.split(',')
                .any(|e| !e.trim().eq_ignore_ascii_case("identity"))
        })
    })
}

fn refuse<B>(parts: http::response::Parts, detail: &str) -> Response<CsvExportBody<B>> {
    let problem = ProblemDetails::for_status(StatusCode::INTERNAL_SERVER_ERROR).with_detail(detail);
    let mut res = problem.into_response::<Bytes>();
    res.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Keep only the inner response's version; its headers may describe the refused body.
    *res.version_mut() = parts.version;
    res.map(|b| CsvExportBody {
        kind: Kind::Problem { body: Some(b) },
    })
}

fn adapt<B>(res: Response<B>, config: &Arc<Config>) -> Response<CsvExportBody<B>> {
    let (mut parts, body) = res.into_parts();
    let Plan::Rewrite { delimiter } = plan(&parts.headers, config) else {
        return Response::from_parts(
            parts,
            CsvExportBody {
                kind: Kind::Pass { body },
            },
        );
    };
    if is_encoded(&parts.headers) {
        if !config.allow_encoded {
            return refuse(
                parts,
                "The export is encoded and cannot be checked for spreadsheet formulas.",
            );
        }
        parts.headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        return Response::from_parts(
            parts,
            CsvExportBody {
                kind: Kind::Pass { body },
            },
        );
    }
    if parts.status == StatusCode::PARTIAL_CONTENT {
        return refuse(
            parts,
            "A partial export cannot be checked for spreadsheet formulas.",
        );
    }
    let mut nz = config.nz.clone();
    if let Some(d) = delimiter {
        nz = nz.delimiter(d);
    }
    let h = &mut parts.headers;
    h.remove(header::CONTENT_LENGTH);
    h.remove(header::ACCEPT_RANGES);
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if config.trailer {
        h.append(
            header::TRAILER,
            HeaderValue::from_static(NEUTRALIZED_TRAILER),
        );
    }
    let state = Box::new(RewriteState {
        rw: nz.rewriter(),
        stage: Stage::Streaming,
        trailers: None,
        send_trailer: config.trailer,
        on_end: config.on_end.clone(),
    });
    Response::from_parts(
        parts,
        CsvExportBody {
            kind: Kind::Rewrite { body, state },
        },
    )
}

pin_project! {
    /// Response body of [`CsvExport`]: the inner body unchanged, rewritten, or a problem
    /// document that replaced it.
    pub struct CsvExportBody<B> {
        #[pin]
        kind: Kind<B>,
    }
}

impl<B> std::fmt::Debug for CsvExportBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match &self.kind {
            Kind::Pass { .. } => "Pass",
            Kind::Rewrite { .. } => "Rewrite",
            Kind::Problem { .. } => "Problem",
        };
        f.debug_struct("CsvExportBody")
            .field("kind", &kind)
            .finish()
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Pass { #[pin] body: B },
        Rewrite { #[pin] body: B, state: Box<RewriteState> },
        Problem { body: Option<Bytes> },
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Stage {
    Streaming,
    Trailers,
    Done,
}

struct RewriteState {
    rw: Rewriter,
    stage: Stage,
    trailers: Option<HeaderMap>,
    send_trailer: bool,
    on_end: Option<Arc<dyn OnExportEnd>>,
}

impl RewriteState {
    fn end(&mut self, complete: bool) {
        self.stage = if complete {
            Stage::Trailers
        } else {
            Stage::Done
        };
        if let Some(hook) = &self.on_end {
            hook.on_export_end(&ExportSummary {
                cells: self.rw.cells(),
                neutralized: self.rw.neutralized(),
                complete,
            });
        }
    }
}

impl<B> Body for CsvExportBody<B>
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
            KindProj::Problem { body } => Poll::Ready(body.take().map(|b| Ok(Frame::data(b)))),
            KindProj::Pass { body } => match ready!(body.poll_frame(cx)) {
                None => Poll::Ready(None),
                Some(Err(e)) => Poll::Ready(Some(Err(e.into()))),
                Some(Ok(frame)) => Poll::Ready(Some(Ok(
                    frame.map_data(|mut d| d.copy_to_bytes(d.remaining()))
                ))),
            },
            KindProj::Rewrite { mut body, state } => loop {
                match state.stage {
                    Stage::Done => return Poll::Ready(None),
                    Stage::Trailers => {
                        state.stage = Stage::Done;
                        let mut trailers = state.trailers.take().unwrap_or_default();
                        if state.send_trailer {
                            trailers.insert(
                                HeaderName::from_static(NEUTRALIZED_TRAILER),
                                HeaderValue::from(state.rw.neutralized()),
                            );
                        }
                        if trailers.is_empty() {
                            return Poll::Ready(None);
                        }
                        return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
                    }
                    Stage::Streaming => {}
                }
                let mut out = Vec::new();
                match ready!(body.as_mut().poll_frame(cx)) {
                    Some(Ok(frame)) => match frame.into_data() {
                        Ok(mut data) => {
                            while data.has_remaining() {
                                let chunk = data.chunk();
                                let n = chunk.len();
                                if let Err(e) = state.rw.feed(chunk, &mut out) {
                                    state.end(false);
                                    return Poll::Ready(Some(Err(Box::new(e))));
                                }
                                data.advance(n);
                            }
                        }
                        Err(frame) => {
                            if let Ok(t) = frame.into_trailers() {
                                state.trailers.get_or_insert_with(HeaderMap::new).extend(t);
                            }
                        }
                    },
                    Some(Err(e)) => {
                        state.end(false);
                        return Poll::Ready(Some(Err(e.into())));
                    }
                    None => {
                        if let Err(e) = state.rw.finish(&mut out) {
                            state.end(false);
                            return Poll::Ready(Some(Err(Box::new(e))));
                        }
                        state.end(true);
                    }
                }
                if !out.is_empty() {
                    return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                }
            },
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Pass { body } => body.is_end_stream(),
            Kind::Rewrite { state, .. } => state.stage == Stage::Done,
            Kind::Problem { body } => body.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Pass { body } => body.size_hint(),
            Kind::Rewrite { .. } => SizeHint::default(),
            Kind::Problem { body } => {
                SizeHint::with_exact(body.as_ref().map_or(0, |b| b.len() as u64))
            }
        }
    }
}
