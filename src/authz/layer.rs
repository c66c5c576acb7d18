//! The tower adapter: `AuthorizeLayer` / `Authorize<S>` / `ResponseFuture`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker, ready};
use std::time::{Instant, SystemTime};

use axum::extract::{FromRequestParts, MatchedPath, RawPathParams};
use bytes::Bytes;
use http::request::Parts;
use http::uri::PathAndQuery;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode, Uri, Version, header};
use percent_encoding::percent_decode_str;
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use super::authenticate::{AuthResult, Authenticate, BoxFuture, OutcomeInner};
use super::canonical::{DEFAULT_MAX_PATH_LEN, canonicalize_with_limit};
use super::events::{self, Decision, DecisionEvent, DecisionSink};
use super::rules::{Evaluation, Reason, RequestInfo, Rule, RuleSet, Verdict};
use crate::Principal;
use crate::problem::ProblemDetails;

/// How the layer finds the rule for a request.
///
/// ```
/// use safeguard::authz::Matching;
/// assert_ne!(Matching::MatchedPath, Matching::Path);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Matching {
    /// Use axum's [`MatchedPath`]: exactly the route the router chose. Add the layer with
    /// [`Router::route_layer`](axum::Router::route_layer) or [`Router::layer`](axum::Router::layer)
    /// (axum 0.8 runs both per route, after routing). If `MatchedPath` is missing (the router
    /// was wrapped from outside, or the layer sits on a router that nests the guarded routes),
    /// the request is denied: the layer never guesses the route.
    MatchedPath,
    /// Match the canonical request path against the rules' templates, and pass the request on
    /// with its URI rewritten to that canonical path, so the service routes exactly the path
    /// that was judged. For plain hyper/tower services, or in front of a whole axum `Router`.
    Path,
}

/// What to do with method-override headers (`X-HTTP-Method-Override`, `X-HTTP-Method`,
/// `X-Method-Override`) and a `_method` query parameter.
///
/// ```
/// use safeguard::authz::MethodOverride;
/// assert_eq!(MethodOverride::default(), MethodOverride::Reject);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MethodOverride {
    /// Refuse the request with 400 (default): the method that was judged is the method that runs.
    #[default]
    Reject,
    /// Remove them and judge (and run) the request's real method.
    Strip,
}

/// Headers that spoof routing or identity, removed before the service sees the request.
///
/// Routing: `X-Original-URL`, `X-Rewrite-URL`, `X-Original-URI`, `X-Original-Method` (read by
/// some frameworks and proxies *instead of* the request line), `x-middleware-subrequest`
/// (Next.js). Identity: `X-Remote-User`, `Remote-User`, `X-Forwarded-User`,
/// `X-Authenticated-User`, `X-Auth-Request-User`, `X-Auth-Request-Email`: the service learns who
/// the caller is from the [`Principal`] only. They are removed *after* authentication, so an
/// [`Authenticate`] hook that trusts a gateway can still read them.
///
/// `X-Forwarded-For/-Proto/-Host/-Prefix` are left alone: proxies set them legitimately, and
/// this layer never reads them. Trusting them is the job of a proxy-aware layer.
pub const SPOOFING_HEADERS: &[&str] = &[
    "x-original-url",
    "x-rewrite-url",
    "x-original-uri",
    "x-original-method",
    "x-middleware-subrequest",
    "x-remote-user",
    "remote-user",
    "x-forwarded-user",
    "x-authenticated-user",
    "x-auth-request-user",
    "x-auth-request-email",
];

/// The method-override headers.
pub const METHOD_OVERRIDE_HEADERS: &[&str] = &[
    "x-http-method-override",
    "x-http-method",
    "x-method-override",
];

#[derive(Clone)]
struct Config {
    rules: RuleSet,
    authenticator: Arc<dyn Authenticate>,
    sink: Option<Arc<dyn DecisionSink>>,
    tracing: bool,
    matching: Matching,
    overrides: MethodOverride,
    strip: Vec<HeaderName>,
    hide_existence: bool,
    challenge: Option<HeaderValue>,
    max_path_len: usize,
    allow_absolute_form: bool,
}

/// Applies [`Authorize`]: authenticate, then allow or deny every request by a [`RuleSet`].
///
/// Defaults: [`Matching::MatchedPath`], [`MethodOverride::Reject`], [`SPOOFING_HEADERS`]
/// stripped, 401/403 (not hidden), events to `tracing`, paths up to 8 KiB, absolute-form
/// request targets refused on HTTP/1.
///
/// ```
/// use axum::{Router, routing::get};
/// use http::Method;
/// use safeguard::authz::{ApiKeys, AuthorizeLayer, Requirement, RuleSet};
///
/// let rules = RuleSet::builder()
///     .rule("health", Method::GET, "/health", Requirement::public())
///     .build()
///     .unwrap();
/// let app: Router = Router::new()
///     .route("/health", get(|| async { "ok" }))
///     // `route_layer`: the layer runs after routing, so it sees `MatchedPath`.
///     .route_layer(AuthorizeLayer::new(rules, ApiKeys::new()));
/// # let _ = app;
/// ```
#[derive(Clone)]
pub struct AuthorizeLayer {
    config: Arc<Config>,
}

impl fmt::Debug for AuthorizeLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizeLayer")
            .field("rules", &self.config.rules.len())
            .field("matching", &self.config.matching)
            .field("method_override", &self.config.overrides)
            .field("hide_existence", &self.config.hide_existence)
            .finish_non_exhaustive()
    }
}

impl AuthorizeLayer {
    /// A layer deciding by `rules`, authenticating with `authenticator`.
    ///
    /// ```
    /// use safeguard::authz::{AuthorizeLayer, PrincipalFromExtensions, RuleSet};
    /// let layer = AuthorizeLayer::new(RuleSet::builder().build().unwrap(), PrincipalFromExtensions);
    /// assert!(format!("{layer:?}").contains("MatchedPath"));
    /// ```
    pub fn new(rules: RuleSet, authenticator: impl Authenticate) -> Self {
        Self {
            config: Arc::new(Config {
                rules,
                authenticator: Arc::new(authenticator),
                sink: None,
                tracing: true,
                matching: Matching::MatchedPath,
                overrides: MethodOverride::Reject,
                strip: SPOOFING_HEADERS
                    .iter()
                    .map(|h| HeaderName::from_static(h))
                    .collect(),
                hide_existence: false,
                challenge: None,
                max_path_len: DEFAULT_MAX_PATH_LEN,
                allow_absolute_form: false,
            }),
        }
    }

    fn edit(&mut self) -> &mut Config {
        // Builder methods normally run before the layer is shared; if it was, copy on write.
        Arc::make_mut(&mut self.config)
    }

    /// Chooses how requests are matched to rules (see [`Matching`]).
    ///
    /// ```
    /// use safeguard::authz::{AuthorizeLayer, Matching, PrincipalFromExtensions, RuleSet};
    /// let layer = AuthorizeLayer::new(RuleSet::builder().build().unwrap(), PrincipalFromExtensions)
    ///     .matching(Matching::Path);
    /// assert!(format!("{layer:?}").contains("Path"));
    /// ```
    pub fn matching(mut self, matching: Matching) -> Self {
        self.edit().matching = matching;
        self
    }

    /// Rejects (default) or strips method overrides (see [`MethodOverride`]).
    ///
    /// ```
    /// use safeguard::authz::{AuthorizeLayer, MethodOverride, PrincipalFromExtensions, RuleSet};
    /// let layer = AuthorizeLayer::new(RuleSet::builder().build().unwrap(), PrincipalFromExtensions)
    ///     .method_override(MethodOverride::Strip);
    /// assert!(format!("{layer:?}").contains("Strip"));
    /// ```
    pub fn method_override(mut self, policy: MethodOverride) -> Self {
        self.edit().overrides = policy;
        self
    }

    /// Also removes `name` from requests before the service (see [`SPOOFING_HEADERS`]).
    ///
    /// ```
    /// use http::HeaderName;
    /// use safeguard::authz::{AuthorizeLayer, PrincipalFromExtensions, RuleSet};
    /// let layer = AuthorizeLayer::new(RuleSet::builder().build().unwrap(), PrincipalFromExtensions)
    ///     .strip_header(HeaderName::from_static("x-internal-admin"));
    /// # let _ = layer;
    /// ```
    pub fn strip_header(mut self, name: HeaderName) -> Self {
        let c = self.edit();
        if !c.strip.contains(&name) {
            c.strip.push(name);
        }
        self
    }

    /// Answers 404 instead of 401 and 403, so a caller cannot tell a forbidden resource from a
    /// missing one.
    ///
    /// ```
    /// use safeguard::authz::{AuthorizeLayer, PrincipalFromExtensions, RuleSet};
    /// let layer = AuthorizeLayer::new(RuleSet::builder().build().unwrap(), PrincipalFromExtensions)
    ///     .hide_existence(true);
    /// assert!(format!("{layer:?}").contains("hide_existence: true"));
    /// ```
    pub fn hide_existence(mut self, hide: bool) -> Self {
        self.edit().hide_existence = hide;
        self
    }

    /// The `WWW-Authenticate` value of 401 responses (default: the authenticator's
    /// [`Authenticate::challenge`]).
    ///
    /// ```
    /// use http::HeaderValue;
    /// use safeguard::authz::{AuthorizeLayer, PrincipalFromExtensions, RuleSet};
    /// let layer = AuthorizeLayer::new(RuleSet::builder().build().unwrap(), PrincipalFromExtensions)
    ///     .challenge(HeaderValue::from_static("Bearer realm=\"api\""));
    /// # let _ = layer;
    /// ```
    pub fn challenge(mut self, value: HeaderValue) -> Self {
        self.edit().challenge = Some(value);
        self
    }

    /// Hands every decision event to `sink` (in addition to `tracing`, unless switched off).
    ///
    /// ```
    /// use safeguard::authz::{AuthorizeLayer, DecisionEvent, PrincipalFromExtensions, RuleSet};
    /// let layer = AuthorizeLayer::new(RuleSet::builder().build().unwrap(), PrincipalFromExtensions)
    ///     .sink(|e: &DecisionEvent<'_>| assert!(e.elapsed_ns < u64::MAX));
    /// # let _ = layer;
    /// ```
    pub fn sink(mut self, sink: impl DecisionSink) -> Self {
        self.edit().sink = Some(Arc::new(sink));
        self
    }

    /// Emits decision events through `tracing` (default `true`).
    ///
    /// ```
    /// use safeguard::authz::{AuthorizeLayer, PrincipalFromExtensions, RuleSet};
    /// let layer = AuthorizeLayer::new(RuleSet::builder().build().unwrap(), PrincipalFromExtensions)
    ///     .tracing(false);
    /// # let _ = layer;
    /// ```
    pub fn tracing(mut self, enabled: bool) -> Self {
        self.edit().tracing = enabled;
        self
    }

    /// The longest request path accepted, in bytes (default 8 KiB); longer ones get 400.
    ///
    /// ```
    /// use safeguard::authz::{AuthorizeLayer, PrincipalFromExtensions, RuleSet};
    /// let layer = AuthorizeLayer::new(RuleSet::builder().build().unwrap(), PrincipalFromExtensions)
    ///     .max_path_len(2048);
    /// # let _ = layer;
    /// ```
    pub fn max_path_len(mut self, bytes: usize) -> Self {
        self.edit().max_path_len = bytes;
        self
    }

    /// Accepts absolute-form request targets (`GET http://host/path HTTP/1.1`) on HTTP/1. Off by
    /// default: an origin server behind a proxy never receives them, and the host in them is a
    /// second, unchecked opinion about where the request goes. The path is judged either way.
    /// (HTTP/2 requests always carry scheme and authority and are not affected.)
    ///
    /// ```
    /// use safeguard::authz::{AuthorizeLayer, PrincipalFromExtensions, RuleSet};
    /// let layer = AuthorizeLayer::new(RuleSet::builder().build().unwrap(), PrincipalFromExtensions)
    ///     .allow_absolute_form(true);
    /// # let _ = layer;
    /// ```
    pub fn allow_absolute_form(mut self, allow: bool) -> Self {
        self.edit().allow_absolute_form = allow;
        self
    }
}

impl<S> Layer<S> for AuthorizeLayer {
    type Service = Authorize<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Authorize {
            inner,
            config: self.config.clone(),
        }
    }
}

/// Middleware that authorizes every request before the inner service runs. See
/// [`AuthorizeLayer`] for configuration and the [module docs](super) for the full picture.
///
/// ```
/// use std::convert::Infallible;
/// use bytes::Bytes;
/// use http::{Method, Request, Response, StatusCode};
/// use http_body_util::Full;
/// use safeguard::authz::{Authorize, Matching, PrincipalFromExtensions, Requirement, RuleSet};
/// use tower::{ServiceBuilder, ServiceExt, service_fn};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let rules = RuleSet::builder().rule("hi", Method::GET, "/hi", Requirement::public()).build().unwrap();
/// let svc = ServiceBuilder::new()
///     .layer(Authorize::layer(rules, PrincipalFromExtensions).matching(Matching::Path))
///     .service(service_fn(|_req: Request<()>| async {
///         Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("hi"))))
///     }));
///
/// let ok = svc.clone().oneshot(Request::get("/hi").body(()).unwrap()).await.unwrap();
/// assert_eq!(ok.status(), StatusCode::OK);
/// let denied = svc.clone().oneshot(Request::get("/admin").body(()).unwrap()).await.unwrap();
/// assert_eq!(denied.status(), StatusCode::UNAUTHORIZED);
/// let bad = svc.oneshot(Request::get("/hi/..%2f").body(()).unwrap()).await.unwrap();
/// assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
/// # });
/// ```
#[derive(Clone)]
pub struct Authorize<S> {
    inner: S,
    config: Arc<Config>,
}

impl<S: fmt::Debug> fmt::Debug for Authorize<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authorize")
            .field("inner", &self.inner)
            .field("rules", &self.config.rules.len())
            .finish_non_exhaustive()
    }
}

impl Authorize<()> {
    /// The layer: `Authorize::layer(rules, authenticator)` is `AuthorizeLayer::new(..)`.
    ///
    /// ```
    /// use safeguard::authz::{Authorize, PrincipalFromExtensions, RuleSet};
    /// let layer = Authorize::layer(RuleSet::builder().build().unwrap(), PrincipalFromExtensions);
    /// # let _ = layer;
    /// ```
    pub fn layer(rules: RuleSet, authenticator: impl Authenticate) -> AuthorizeLayer {
        AuthorizeLayer::new(rules, authenticator)
    }
}

impl<S> Authorize<S> {
    /// Wraps `inner` with a layer's configuration.
    ///
    /// ```
    /// use safeguard::authz::{Authorize, AuthorizeLayer, PrincipalFromExtensions, RuleSet};
    /// let layer = AuthorizeLayer::new(RuleSet::builder().build().unwrap(), PrincipalFromExtensions);
    /// let svc = Authorize::new(tower::service_fn(|_: http::Request<()>| async {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    /// }), &layer);
    /// # let _ = svc;
    /// ```
    pub fn new(inner: S, layer: &AuthorizeLayer) -> Self {
        Self {
            inner,
            config: layer.config.clone(),
        }
    }

    /// The inner service.
    ///
    /// ```
    /// use safeguard::authz::{Authorize, AuthorizeLayer, PrincipalFromExtensions, RuleSet};
    /// let layer = AuthorizeLayer::new(RuleSet::builder().build().unwrap(), PrincipalFromExtensions);
    /// assert_eq!(*Authorize::new(7, &layer).get_ref(), 7);
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

type Checked<ReqB, ResB> = Result<Request<ReqB>, Response<ResB>>;

impl<S, ReqB, ResB> Service<Request<ReqB>> for Authorize<S>
where
    S: Service<Request<ReqB>, Response = Response<ResB>> + Clone + Send + 'static,
    S::Future: Send,
    ReqB: Send + 'static,
    ResB: From<Bytes> + Send + 'static,
{
    type Response = Response<ResB>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqB>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqB>) -> Self::Future {
        let start = Instant::now();
        let config = &*self.config;
        let (mut parts, body) = req.into_parts();
        if let Err(reason) = precheck(config, &mut parts) {
            let res = finish(config, &mut parts, None, None, Verdict::deny(reason), start);
            return ResponseFuture::respond(res.err());
        }
        match config.authenticator.authenticate(&parts).0 {
            OutcomeInner::Ready(auth) => {
                let (evaluation, rule, principal) = match judge_auth(config, &mut parts, auth) {
                    Ok(ok) => ok,
                    Err(verdict) => {
                        let res = finish(config, &mut parts, None, None, verdict, start);
                        return ResponseFuture::respond(res.err());
                    }
                };
                match evaluation {
                    Evaluation::Done(verdict) => {
                        match finish(config, &mut parts, principal, rule, verdict, start) {
                            Ok(()) => {
                                let principal = parts.extensions.get::<Principal>().cloned();
                                ResponseFuture::inner(
                                    self.inner.call(Request::from_parts(parts, body)),
                                    principal,
                                )
                            }
                            Err(res) => ResponseFuture::respond(Some(res)),
                        }
                    }
                    Evaluation::Pending(fut) => {
                        let config = self.config.clone();
                        let rule = rule.map(Rule::index);
                        let check = Box::pin(async move {
                            let verdict = fut.await;
                            let rule = rule.and_then(|i| config.rules.rule_at(i));
                            finish(&config, &mut parts, principal, rule, verdict, start)
                                .map(|()| Request::from_parts(parts, body))
                        });
                        self.checking(check)
                    }
                }
            }
            OutcomeInner::Pending(auth) => {
                let config = self.config.clone();
                let check = Box::pin(async move {
                    let auth = auth.await;
                    let (evaluation, rule, principal) = match judge_auth(&config, &mut parts, auth)
                    {
                        Ok(ok) => ok,
                        Err(verdict) => {
                            return Err(finish(&config, &mut parts, None, None, verdict, start)
                                .err()
                                .unwrap_or_else(|| problem(StatusCode::INTERNAL_SERVER_ERROR)));
                        }
                    };
                    let verdict = evaluation.resolve().await;
                    finish(&config, &mut parts, principal, rule, verdict, start)
                        .map(|()| Request::from_parts(parts, body))
                });
                self.checking(check)
            }
        }
    }
}

impl<S> Authorize<S> {
    fn checking<ReqB, ResB>(
        &mut self,
        check: BoxFuture<Checked<ReqB, ResB>>,
    ) -> ResponseFuture<S, ReqB>
    where
        S: Service<Request<ReqB>, Response = Response<ResB>> + Clone,
    {
        // The service that was polled ready is the one that will be called; keep a fresh clone.
        let clone = self.inner.clone();
        let service = std::mem::replace(&mut self.inner, clone);
        ResponseFuture {
            state: State::Checking {
                check,
                service: Some(service),
            },
        }
    }
}

/// Checks that run before authentication: request-target form, path, method overrides. On
/// success the request may have been rewritten (canonical path, stripped override).
fn precheck(config: &Config, parts: &mut Parts) -> Result<(), Reason> {
    let http1 = matches!(
        parts.version,
        Version::HTTP_09 | Version::HTTP_10 | Version::HTTP_11
    );
    if http1 && parts.uri.scheme().is_some() && !config.allow_absolute_form {
        return Err(Reason::InvalidTarget);
    }
    let canonical = canonicalize_with_limit(parts.uri.path(), config.max_path_len)
        .map_err(Reason::InvalidPath)?;
    // Only `Matching::Path` rewrites: there, the service must route exactly the judged path.
    let canonical = match canonical {
        std::borrow::Cow::Owned(path) if config.matching == Matching::Path => Some(path),
        _ => None,
    };
    let rewrite_path = canonical.is_some();

    let mut query_override = false;
    if let Some(q) = parts.uri.query() {
        query_override = q.split('&').any(is_method_param);
    }
    let header_override = METHOD_OVERRIDE_HEADERS
        .iter()
        .any(|h| parts.headers.contains_key(*h));
    if (query_override || header_override) && config.overrides == MethodOverride::Reject {
        return Err(Reason::MethodOverride);
    }
    for h in METHOD_OVERRIDE_HEADERS {
        parts.headers.remove(*h);
    }
    if rewrite_path || query_override {
        let path = canonical.unwrap_or_else(|| parts.uri.path().to_owned());
        let query = parts.uri.query().map(|q| {
            q.split('&')
                .filter(|p| !is_method_param(p))
                .collect::<Vec<_>>()
                .join("&")
        });
        let pq = match query {
            Some(q) if !q.is_empty() => format!("{path}?{q}"),
            _ => path,
        };
        let mut uri_parts = std::mem::take(&mut parts.uri).into_parts();
        uri_parts.path_and_query =
            Some(PathAndQuery::try_from(pq).map_err(|_| Reason::InvalidTarget)?);
        parts.uri = Uri::from_parts(uri_parts).map_err(|_| Reason::InvalidTarget)?;
    }
    Ok(())
}

fn is_method_param(pair: &str) -> bool {
    let key = pair.split('=').next().unwrap_or("");
    let key = percent_decode_str(key).decode_utf8_lossy();
    key.trim().eq_ignore_ascii_case("_method")
}

type Judged<'c> = (Evaluation, Option<&'c Rule>, Option<Principal>);

fn judge_auth<'c>(
    config: &'c Config,
    parts: &mut Parts,
    auth: AuthResult,
) -> Result<Judged<'c>, Verdict> {
    let principal = auth.map_err(|r| Verdict::deny(Reason::CredentialsRejected(r.reason())))?;
    let (evaluation, rule) = judge(config, parts, principal.as_ref());
    Ok((evaluation, rule, principal))
}

/// Finds the rule and evaluates it. Errors become denying evaluations.
fn judge<'c>(
    config: &'c Config,
    parts: &mut Parts,
    principal: Option<&Principal>,
) -> (Evaluation, Option<&'c Rule>) {
    let deny = |reason| (Evaluation::Done(Verdict::deny(reason)), None);
    match config.matching {
        Matching::Path => match config.rules.match_path(&parts.method, parts.uri.path()) {
            Ok(m) => (m.evaluate(&parts.method, principal), Some(m.rule())),
            Err(reason) => deny(reason),
        },
        Matching::MatchedPath => {
            let Some(matched) = parts.extensions.get::<MatchedPath>() else {
                return deny(Reason::MatchedPathMissing);
            };
            let rule = match config.rules.rule_for_route(&parts.method, matched.as_str()) {
                Ok(rule) => rule,
                Err(reason) => return deny(reason),
            };
            let params = if rule.needs_params() {
                match raw_params(parts) {
                    Some(p) => p,
                    None => {
                        return (
                            Evaluation::Done(Verdict::deny(Reason::InvalidParams)),
                            Some(rule),
                        );
                    }
                }
            } else {
                Vec::new()
            };
            let info = RequestInfo::new(&parts.method, rule.route(), principal, &params);
            (rule.requirement().evaluate(&info), Some(rule))
        }
    }
}

/// axum's decoded route parameters. Its extractor is async in signature only: it reads an
/// extension and is ready on first poll. If it ever were not, the request fails closed.
fn raw_params(parts: &mut Parts) -> Option<Vec<(String, String)>> {
    let fut = RawPathParams::from_request_parts(parts, &());
    let mut fut = std::pin::pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        Poll::Ready(Ok(params)) => Some(
            params
                .iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect(),
        ),
        Poll::Ready(Err(_)) | Poll::Pending => None,
    }
}

/// Emits the event and either prepares the request to go on (`Ok`) or builds the response.
fn finish<ResB: From<Bytes>>(
    config: &Config,
    parts: &mut Parts,
    principal: Option<Principal>,
    rule: Option<&Rule>,
    verdict: Verdict,
    start: Instant,
) -> Result<(), Response<ResB>> {
    let reason = verdict.reason();
    let (decision, status) = if verdict.is_allowed() {
        (Decision::Allow, None)
    } else {
        match reason {
            Reason::InvalidPath(_)
            | Reason::InvalidTarget
            | Reason::MethodOverride
            | Reason::InvalidParams => (Decision::Reject, Some(StatusCode::BAD_REQUEST)),
            // A refused credential is about the credential, not the resource: always 401.
            Reason::CredentialsRejected(_) => (Decision::Deny, Some(StatusCode::UNAUTHORIZED)),
            _ if config.hide_existence => (Decision::Deny, Some(StatusCode::NOT_FOUND)),
            _ if principal.is_none() => (Decision::Deny, Some(StatusCode::UNAUTHORIZED)),
            _ => (Decision::Deny, Some(StatusCode::FORBIDDEN)),
        }
    };
    let elapsed_ns = u64::try_from(start.elapsed().as_nanos()).unwrap_or(u64::MAX);
    let route = match rule {
        Some(rule) => Some(rule.route()),
        None if matches!(decision, Decision::Reject) => None,
        None => parts
            .extensions
            .get::<MatchedPath>()
            .map(MatchedPath::as_str),
    };
    let event = DecisionEvent {
        time: SystemTime::now(),
        principal: principal.as_ref().map(Principal::subject),
        method: &parts.method,
        route,
        rule: rule.map(Rule::id),
        decision,
        reason,
        status: status.map_or(0, |s| s.as_u16()),
        elapsed_ns,
    };
    if config.tracing {
        events::trace(&event);
    }
    if let Some(sink) = &config.sink {
        sink.record(&event);
    }
    match status {
        None => {
            for h in &config.strip {
                parts.headers.remove(h);
            }
            // The principal in the extensions is always the one that was judged.
            match principal {
                Some(p) => {
                    parts.extensions.insert(p);
                }
                None => {
                    parts.extensions.remove::<Principal>();
                }
            }
            Ok(())
        }
        Some(status) => {
            let mut res = problem(status);
            if status == StatusCode::UNAUTHORIZED {
                let challenge = config
                    .challenge
                    .clone()
                    .unwrap_or_else(|| config.authenticator.challenge());
                res.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, challenge);
            }
            Err(res)
        }
    }
}

fn problem<ResB: From<Bytes>>(status: StatusCode) -> Response<ResB> {
    // Generic wording per status: nothing about which rule, role or parameter decided.
    let detail = match status {
        StatusCode::BAD_REQUEST => "The request target is not acceptable.",
        StatusCode::UNAUTHORIZED => "Authentication is required.",
        StatusCode::FORBIDDEN => "You are not allowed to do this.",
        StatusCode::NOT_FOUND => "Not found.",
        _ => "The request could not be authorized.",
    };
    ProblemDetails::for_status(status)
        .with_detail(detail)
        .into_response()
}

pin_project! {
    /// The response future of [`Authorize`].
    pub struct ResponseFuture<S, ReqB>
    where
        S: Service<Request<ReqB>>,
    {
        #[pin]
        state: State<S, ReqB>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, ReqB>
    where
        S: Service<Request<ReqB>>,
    {
        Respond { response: Option<S::Response> },
        Checking { check: BoxFuture<Result<Request<ReqB>, S::Response>>, service: Option<S> },
        Inner { #[pin] future: S::Future, principal: Option<Principal> },
    }
}

impl<S: Service<Request<ReqB>>, ReqB> ResponseFuture<S, ReqB> {
    fn respond(response: Option<S::Response>) -> Self {
        Self {
            state: State::Respond { response },
        }
    }

    fn inner(future: S::Future, principal: Option<Principal>) -> Self {
        Self {
            state: State::Inner { future, principal },
        }
    }
}

impl<S, ReqB, ResB> Future for ResponseFuture<S, ReqB>
where
    S: Service<Request<ReqB>, Response = Response<ResB>>,
    ResB: From<Bytes>,
{
    type Output = Result<Response<ResB>, S::Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            let mut this = self.as_mut().project();
            match this.state.as_mut().project() {
                StateProj::Respond { response } => {
                    // `None` only if polled after completion or if a denial could not be built:
                    // fail closed either way.
                    return Poll::Ready(Ok(response
                        .take()
                        .unwrap_or_else(|| problem(StatusCode::INTERNAL_SERVER_ERROR))));
                }
                StateProj::Checking { check, service } => {
                    let req = match check.as_mut().poll(cx) {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(Err(res)) => return Poll::Ready(Ok(res)),
                        Poll::Ready(Ok(req)) => req,
                    };
                    let Some(mut service) = service.take() else {
                        return Poll::Ready(Ok(problem(StatusCode::INTERNAL_SERVER_ERROR)));
                    };
                    let principal = req.extensions().get::<Principal>().cloned();
                    let future = service.call(req);
                    this.state.set(State::Inner { future, principal });
                }
                StateProj::Inner { future, principal } => {
                    let mut res = ready!(future.poll(cx));
                    // Outer layers (an access log) see who was served, without a second lookup.
                    if let (Ok(res), Some(p)) = (&mut res, principal.take()) {
                        if res.extensions().get::<Principal>().is_none() {
                            res.extensions_mut().insert(p);
                        }
                    }
                    return Poll::Ready(res);
                }
            }
        }
    }
}

impl<S: Service<Request<ReqB>>, ReqB> fmt::Debug for ResponseFuture<S, ReqB> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ResponseFuture")
    }
}
