//! Rules: method + route template (axum syntax) -> requirement, compiled once into a table that
//! decides without locks and, in the common case, without allocating.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use http::Method;
use percent_encoding::percent_decode_str;

use super::authenticate::BoxFuture;
use super::canonical::{PathError, canonicalize};
use crate::Principal;

/// Why a decision went the way it did. Reasons go to decision events and logs, never to the
/// client.
///
/// ```
/// use safeguard::authz::Reason;
/// assert_eq!(Reason::NotOwner.as_str(), "not_owner");
/// assert!(Reason::Granted.is_allow());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reason {
    /// The rule's requirement is [`Requirement::public`].
    Public,
    /// The rule's requirement is satisfied.
    Granted,
    /// No rule's route template matches the path (deny by default).
    NoRoute,
    /// A route matches but no rule covers the method (deny by default).
    NoRuleForMethod,
    /// The requirement needs a principal and the request has none.
    Unauthenticated,
    /// A role requirement is not met.
    MissingRole,
    /// A permission requirement is not met.
    MissingPermission,
    /// An ownership requirement is not met (the path names someone else's resource).
    NotOwner,
    /// A tenant requirement is not met (the path names another tenant).
    WrongTenant,
    /// A custom predicate said no.
    PredicateDenied,
    /// Credentials were presented and refused; the detail comes from the [`Rejection`](super::Rejection).
    CredentialsRejected(&'static str),
    /// The request path is not canonical or not acceptable (400).
    InvalidPath(PathError),
    /// The request target is not in origin form (absolute-form on HTTP/1, asterisk-form) (400).
    InvalidTarget,
    /// A method-override header or parameter was present and overrides are rejected (400).
    MethodOverride,
    /// Route parameters could not be read (not UTF-8 after decoding) (400).
    InvalidParams,
    /// The layer expected axum's `MatchedPath` and it is missing (denied: misconfiguration, or
    /// a request no route matched).
    MatchedPathMissing,
}

impl Reason {
    /// A stable, machine-readable name.
    ///
    /// ```
    /// use safeguard::authz::{PathError, Reason};
    /// assert_eq!(Reason::InvalidPath(PathError::DotSegment).as_str(), "dot_segment");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Granted => "granted",
            Self::NoRoute => "no_route",
            Self::NoRuleForMethod => "no_rule_for_method",
            Self::Unauthenticated => "unauthenticated",
            Self::MissingRole => "missing_role",
            Self::MissingPermission => "missing_permission",
            Self::NotOwner => "not_owner",
            Self::WrongTenant => "wrong_tenant",
            Self::PredicateDenied => "predicate_denied",
            Self::CredentialsRejected(r) => r,
            Self::InvalidPath(e) => e.as_str(),
            Self::InvalidTarget => "invalid_target",
            Self::MethodOverride => "method_override",
            Self::InvalidParams => "invalid_params",
            Self::MatchedPathMissing => "matched_path_missing",
        }
    }

    /// Whether this reason allows the request.
    ///
    /// ```
    /// assert!(!safeguard::authz::Reason::NoRoute.is_allow());
    /// ```
    pub fn is_allow(self) -> bool {
        matches!(self, Self::Public | Self::Granted)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of evaluating a requirement: allowed or denied, and why.
///
/// ```
/// use safeguard::authz::{Reason, Verdict};
/// let v = Verdict::deny(Reason::MissingRole);
/// assert!(!v.is_allowed());
/// assert_eq!(v.reason(), Reason::MissingRole);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verdict {
    allowed: bool,
    reason: Reason,
}

impl Verdict {
    /// An allowing verdict.
    ///
    /// ```
    /// assert!(safeguard::authz::Verdict::allow(safeguard::authz::Reason::Granted).is_allowed());
    /// ```
    pub const fn allow(reason: Reason) -> Self {
        Self {
            allowed: true,
            reason,
        }
    }

    /// A denying verdict.
    ///
    /// ```
    /// assert!(!safeguard::authz::Verdict::deny(safeguard::authz::Reason::NoRoute).is_allowed());
    /// ```
    pub const fn deny(reason: Reason) -> Self {
        Self {
            allowed: false,
            reason,
        }
    }

    /// Whether the request may proceed.
    ///
    /// ```
    /// assert!(safeguard::authz::Verdict::allow(safeguard::authz::Reason::Public).is_allowed());
    /// ```
    pub const fn is_allowed(&self) -> bool {
        self.allowed
    }

    /// Why.
    ///
    /// ```
    /// use safeguard::authz::{Reason, Verdict};
    /// assert_eq!(Verdict::allow(Reason::Public).reason(), Reason::Public);
    /// ```
    pub const fn reason(&self) -> Reason {
        self.reason
    }
}

/// A verdict now, or a future one (when a custom predicate is asynchronous).
///
/// ```
/// use safeguard::authz::{Evaluation, Reason, Verdict};
/// let e = Evaluation::Done(Verdict::allow(Reason::Public));
/// assert_eq!(e.now().map(|v| v.is_allowed()), Some(true));
/// ```
pub enum Evaluation {
    /// Decided synchronously.
    Done(Verdict),
    /// Waiting on an asynchronous predicate.
    Pending(BoxFuture<Verdict>),
}

impl Evaluation {
    /// The verdict if it is already known.
    ///
    /// ```
    /// use safeguard::authz::{Evaluation, Reason, Verdict};
    /// assert!(Evaluation::Done(Verdict::deny(Reason::NoRoute)).now().is_some());
    /// ```
    pub fn now(&self) -> Option<Verdict> {
        match self {
            Self::Done(v) => Some(*v),
            Self::Pending(_) => None,
        }
    }

    /// The verdict, waiting for it if needed.
    ///
    /// ```
    /// use safeguard::authz::{Evaluation, Reason, Verdict};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let v = Evaluation::Done(Verdict::deny(Reason::NoRoute)).resolve().await;
    /// assert!(!v.is_allowed());
    /// # });
    /// ```
    pub async fn resolve(self) -> Verdict {
        match self {
            Self::Done(v) => v,
            Self::Pending(f) => f.await,
        }
    }
}

impl fmt::Debug for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Done(v) => f.debug_tuple("Done").field(v).finish(),
            Self::Pending(_) => f.write_str("Pending"),
        }
    }
}

/// What a custom predicate returns: a boolean now, or a future one.
///
/// ```
/// use safeguard::authz::Check;
/// let now: Check = true.into();
/// assert!(now.is_ready());
/// assert!(!Check::future(async { false }).is_ready());
/// ```
pub struct Check(CheckInner);

enum CheckInner {
    Ready(bool),
    Pending(BoxFuture<bool>),
}

impl Check {
    /// An answer computed asynchronously (e.g. looking up a resource's owner). The future must
    /// own what it needs: copy parameters out of the [`RequestInfo`] first.
    ///
    /// ```
    /// assert!(!safeguard::authz::Check::future(async { true }).is_ready());
    /// ```
    pub fn future<F>(future: F) -> Self
    where
        F: Future<Output = bool> + Send + 'static,
    {
        Self(CheckInner::Pending(Box::pin(future)))
    }

    /// Whether the answer is already known.
    ///
    /// ```
    /// assert!(safeguard::authz::Check::from(false).is_ready());
    /// ```
    pub fn is_ready(&self) -> bool {
        matches!(self.0, CheckInner::Ready(_))
    }
}

impl From<bool> for Check {
    fn from(b: bool) -> Self {
        Self(CheckInner::Ready(b))
    }
}

/// A custom requirement. Implemented for closures `Fn(&RequestInfo<'_>) -> R` where
/// `R: Into<Check>` (a `bool`, or [`Check::future`]).
///
/// ```
/// use safeguard::authz::{Check, Predicate, RequestInfo, Requirement};
///
/// // Synchronous: only on weekdays, say. Asynchronous: ask the database who owns the invoice.
/// let sync = |_: &RequestInfo<'_>| true;
/// let lookup = |req: &RequestInfo<'_>| {
///     let invoice = req.param("id").map(|s| s.into_owned());
///     let caller = req.principal().map(|p| p.subject().to_owned());
///     Check::future(async move { invoice.is_some() && caller.as_deref() == Some("u1") })
/// };
/// let req = Requirement::custom(sync).and(Requirement::custom(lookup));
/// assert!(format!("{req:?}").contains("custom"));
/// ```
pub trait Predicate: Send + Sync + 'static {
    /// Answers for one request.
    fn check(&self, request: &RequestInfo<'_>) -> Check;
}

impl<F, R> Predicate for F
where
    F: Fn(&RequestInfo<'_>) -> R + Send + Sync + 'static,
    R: Into<Check>,
{
    fn check(&self, request: &RequestInfo<'_>) -> Check {
        self(request).into()
    }
}

/// What a requirement sees of a request: method, route template, principal, route parameters.
///
/// ```
/// use http::Method;
/// use safeguard::authz::RequestInfo;
/// let params = [("id".to_owned(), "42".to_owned())];
/// let info = RequestInfo::new(&Method::GET, "/users/{id}", None, &params);
/// assert_eq!(info.param("id").as_deref(), Some("42"));
/// assert_eq!(info.route(), "/users/{id}");
/// ```
#[derive(Clone, Copy)]
pub struct RequestInfo<'a> {
    method: &'a Method,
    route: &'a str,
    principal: Option<&'a Principal>,
    params: Params<'a>,
}

#[derive(Clone, Copy)]
pub(crate) enum Params<'a> {
    /// Raw (percent-encoded) values from matchit, matched against a canonical path.
    Raw(&'a matchit::Params<'a, 'a>),
    /// Decoded values.
    Decoded(&'a [(String, String)]),
}

impl<'a> RequestInfo<'a> {
    /// Request information with decoded route parameters (for tests and for custom front ends).
    ///
    /// ```
    /// use http::Method;
    /// let info = safeguard::authz::RequestInfo::new(&Method::POST, "/x", None, &[]);
    /// assert_eq!(info.method(), Method::POST);
    /// ```
    pub fn new(
        method: &'a Method,
        route: &'a str,
        principal: Option<&'a Principal>,
        params: &'a [(String, String)],
    ) -> Self {
        Self {
            method,
            route,
            principal,
            params: Params::Decoded(params),
        }
    }

    pub(crate) fn with_params(
        method: &'a Method,
        route: &'a str,
        principal: Option<&'a Principal>,
        params: Params<'a>,
    ) -> Self {
        Self {
            method,
            route,
            principal,
            params,
        }
    }

    /// The request method.
    ///
    /// ```
    /// use http::Method;
    /// assert_eq!(safeguard::authz::RequestInfo::new(&Method::GET, "/", None, &[]).method(), Method::GET);
    /// ```
    pub fn method(&self) -> &'a Method {
        self.method
    }

    /// The route template the request matched, e.g. `/users/{id}`.
    ///
    /// ```
    /// use http::Method;
    /// assert_eq!(safeguard::authz::RequestInfo::new(&Method::GET, "/a", None, &[]).route(), "/a");
    /// ```
    pub fn route(&self) -> &'a str {
        self.route
    }

    /// The authenticated principal, if any.
    ///
    /// ```
    /// use http::Method;
    /// assert!(safeguard::authz::RequestInfo::new(&Method::GET, "/", None, &[]).principal().is_none());
    /// ```
    pub fn principal(&self) -> Option<&'a Principal> {
        self.principal
    }

    /// A route parameter, percent-decoded. `None` if absent or not UTF-8 once decoded.
    ///
    /// ```
    /// use http::Method;
    /// let p = [("name".to_owned(), "a b".to_owned())];
    /// let info = safeguard::authz::RequestInfo::new(&Method::GET, "/{name}", None, &p);
    /// assert_eq!(info.param("name").as_deref(), Some("a b"));
    /// assert!(info.param("other").is_none());
    /// ```
    pub fn param(&self, name: &str) -> Option<Cow<'a, str>> {
        match self.params {
            Params::Raw(p) => percent_decode_str(p.get(name)?).decode_utf8().ok(),
            Params::Decoded(p) => p
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| Cow::Borrowed(v.as_str())),
        }
    }

    /// Compares a parameter with `expected` without allocating.
    fn param_eq(&self, name: &str, expected: &str) -> bool {
        match self.params {
            Params::Raw(p) => match p.get(name) {
                Some(raw) => percent_decode_str(raw).eq(expected.bytes()),
                None => false,
            },
            Params::Decoded(p) => p.iter().any(|(k, v)| k == name && v == expected),
        }
    }

    fn to_owned_info(self) -> OwnedInfo {
        let params = match self.params {
            Params::Raw(p) => p
                .iter()
                .map(|(k, v)| {
                    let v = percent_decode_str(v).decode_utf8_lossy().into_owned();
                    (k.to_owned(), v)
                })
                .collect(),
            Params::Decoded(p) => p.to_vec(),
        };
        OwnedInfo {
            method: self.method.clone(),
            route: self.route.to_owned(),
            principal: self.principal.cloned(),
            params,
        }
    }
}

impl fmt::Debug for RequestInfo<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestInfo")
            .field("method", self.method)
            .field("route", &self.route)
            .field("principal", &self.principal.map(Principal::subject))
            .finish_non_exhaustive()
    }
}

/// An owned copy of a [`RequestInfo`], for the rest of an evaluation that had to wait.
struct OwnedInfo {
    method: Method,
    route: String,
    principal: Option<Principal>,
    params: Vec<(String, String)>,
}

impl OwnedInfo {
    fn info(&self) -> RequestInfo<'_> {
        RequestInfo::new(
            &self.method,
            &self.route,
            self.principal.as_ref(),
            &self.params,
        )
    }
}

/// What a rule requires of a request. Combine with [`Requirement::and`] / [`Requirement::or`].
///
/// Every requirement except [`Requirement::public`] needs an authenticated principal; without
/// one the layer answers `401`.
///
/// ```
/// use safeguard::authz::Requirement;
/// // The owner, or support staff of the same tenant, or an admin.
/// let r = Requirement::owner("id")
///     .or(Requirement::tenant("tenant").and(Requirement::any_role(["support"])))
///     .or(Requirement::any_role(["admin"]));
/// assert!(format!("{r:?}").contains("owner"));
/// ```
#[derive(Clone)]
pub struct Requirement(pub(crate) Node);

#[derive(Clone)]
pub(crate) enum Node {
    Public,
    Authenticated,
    AnyRole(Arc<[Box<str>]>),
    AllRoles(Arc<[Box<str>]>),
    AnyPermission(Arc<[Box<str>]>),
    AllPermissions(Arc<[Box<str>]>),
    Owner(Arc<str>),
    Tenant(Arc<str>),
    Custom(Arc<dyn Predicate>),
    All(Arc<[Node]>),
    Any(Arc<[Node]>),
}

fn names<I, S>(items: I) -> Arc<[Box<str>]>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    items
        .into_iter()
        .map(|s| s.into().into_boxed_str())
        .collect()
}

impl Requirement {
    /// Anyone, authenticated or not.
    ///
    /// ```
    /// assert_eq!(format!("{:?}", safeguard::authz::Requirement::public()), "public");
    /// ```
    pub fn public() -> Self {
        Self(Node::Public)
    }

    /// Any authenticated principal.
    ///
    /// ```
    /// assert_eq!(format!("{:?}", safeguard::authz::Requirement::authenticated()), "authenticated");
    /// ```
    pub fn authenticated() -> Self {
        Self(Node::Authenticated)
    }

    /// At least one of the roles. An empty list is never satisfied.
    ///
    /// ```
    /// let r = safeguard::authz::Requirement::any_role(["admin", "ops"]);
    /// assert_eq!(format!("{r:?}"), "any_role(admin|ops)");
    /// ```
    pub fn any_role<I: IntoIterator<Item = S>, S: Into<String>>(roles: I) -> Self {
        Self(Node::AnyRole(names(roles)))
    }

    /// All of the roles.
    ///
    /// ```
    /// let r = safeguard::authz::Requirement::all_roles(["a", "b"]);
    /// assert_eq!(format!("{r:?}"), "all_roles(a&b)");
    /// ```
    pub fn all_roles<I: IntoIterator<Item = S>, S: Into<String>>(roles: I) -> Self {
        Self(Node::AllRoles(names(roles)))
    }

    /// At least one of the permissions. An empty list is never satisfied.
    ///
    /// ```
    /// let r = safeguard::authz::Requirement::any_permission(["reports:read"]);
    /// assert_eq!(format!("{r:?}"), "any_permission(reports:read)");
    /// ```
    pub fn any_permission<I: IntoIterator<Item = S>, S: Into<String>>(permissions: I) -> Self {
        Self(Node::AnyPermission(names(permissions)))
    }

    /// All of the permissions.
    ///
    /// ```
    /// let r = safeguard::authz::Requirement::all_permissions(["a", "b"]);
    /// assert_eq!(format!("{r:?}"), "all_permissions(a&b)");
    /// ```
    pub fn all_permissions<I: IntoIterator<Item = S>, S: Into<String>>(permissions: I) -> Self {
        Self(Node::AllPermissions(names(permissions)))
    }

    /// The route parameter `param` (percent-decoded) equals the principal's subject: the
    /// object-level check that stops IDOR. The rule set refuses to build if the route has no
    /// such parameter.
    ///
    /// ```
    /// let r = safeguard::authz::Requirement::owner("user_id");
    /// assert_eq!(format!("{r:?}"), "owner({user_id})");
    /// ```
    pub fn owner(param: &str) -> Self {
        Self(Node::Owner(Arc::from(param)))
    }

    /// The route parameter `param` (percent-decoded) equals the principal's tenant; a principal
    /// without a tenant never satisfies it.
    ///
    /// ```
    /// let r = safeguard::authz::Requirement::tenant("tenant");
    /// assert_eq!(format!("{r:?}"), "tenant({tenant})");
    /// ```
    pub fn tenant(param: &str) -> Self {
        Self(Node::Tenant(Arc::from(param)))
    }

    /// A custom predicate, synchronous or asynchronous (see [`Predicate`]). It also sees
    /// anonymous requests (principal `None`); denying them yields `401`.
    ///
    /// ```
    /// use safeguard::authz::{RequestInfo, Requirement};
    /// let r = Requirement::custom(|req: &RequestInfo<'_>| req.principal().is_some());
    /// assert_eq!(format!("{r:?}"), "custom");
    /// ```
    pub fn custom(predicate: impl Predicate) -> Self {
        Self(Node::Custom(Arc::new(predicate)))
    }

    /// Both this and `other`.
    ///
    /// ```
    /// use safeguard::authz::Requirement;
    /// let r = Requirement::authenticated().and(Requirement::any_role(["a"]));
    /// assert_eq!(format!("{r:?}"), "(authenticated and any_role(a))");
    /// ```
    pub fn and(self, other: Requirement) -> Self {
        Self::all([self, other])
    }

    /// This or `other`.
    ///
    /// ```
    /// use safeguard::authz::Requirement;
    /// let r = Requirement::owner("id").or(Requirement::any_role(["admin"]));
    /// assert_eq!(format!("{r:?}"), "(owner({id}) or any_role(admin))");
    /// ```
    pub fn or(self, other: Requirement) -> Self {
        Self::any([self, other])
    }

    /// All of the requirements (an empty list is satisfied by any authenticated principal).
    ///
    /// ```
    /// use safeguard::authz::Requirement;
    /// let r = Requirement::all([Requirement::tenant("t"), Requirement::any_role(["a"])]);
    /// assert_eq!(format!("{r:?}"), "(tenant({t}) and any_role(a))");
    /// ```
    pub fn all(requirements: impl IntoIterator<Item = Requirement>) -> Self {
        let mut nodes = Vec::new();
        for r in requirements {
            match r.0 {
                Node::All(children) => nodes.extend(children.iter().cloned()),
                other => nodes.push(other),
            }
        }
        if nodes.is_empty() {
            return Self(Node::Authenticated);
        }
        if nodes.len() == 1 {
            return Self(nodes.remove(0));
        }
        Self(Node::All(nodes.into()))
    }

    /// Any of the requirements (an empty list is never satisfied).
    ///
    /// ```
    /// use safeguard::authz::Requirement;
    /// let r = Requirement::any([Requirement::any_role(["a"]), Requirement::any_permission(["p"])]);
    /// assert_eq!(format!("{r:?}"), "(any_role(a) or any_permission(p))");
    /// ```
    pub fn any(requirements: impl IntoIterator<Item = Requirement>) -> Self {
        let mut nodes = Vec::new();
        for r in requirements {
            match r.0 {
                Node::Any(children) => nodes.extend(children.iter().cloned()),
                other => nodes.push(other),
            }
        }
        if nodes.len() == 1 {
            return Self(nodes.remove(0));
        }
        Self(Node::Any(nodes.into()))
    }

    /// Evaluates the requirement for one request.
    ///
    /// ```
    /// use http::Method;
    /// use safeguard::Principal;
    /// use safeguard::authz::{Reason, RequestInfo, Requirement};
    ///
    /// let alice = Principal::new("alice");
    /// let params = [("id".to_owned(), "bob".to_owned())];
    /// let info = RequestInfo::new(&Method::GET, "/users/{id}", Some(&alice), &params);
    /// let v = Requirement::owner("id").evaluate(&info).now().unwrap();
    /// assert_eq!(v.reason(), Reason::NotOwner);
    /// ```
    #[inline]
    pub fn evaluate(&self, info: &RequestInfo<'_>) -> Evaluation {
        eval(&self.0, info)
    }

    pub(crate) fn params(&self, out: &mut Vec<Arc<str>>) {
        fn walk(n: &Node, out: &mut Vec<Arc<str>>) {
            match n {
                Node::Owner(p) | Node::Tenant(p) => out.push(p.clone()),
                Node::All(c) | Node::Any(c) => c.iter().for_each(|n| walk(n, out)),
                _ => {}
            }
        }
        walk(&self.0, out);
    }

    pub(crate) fn needs_params(&self) -> bool {
        fn walk(n: &Node) -> bool {
            match n {
                Node::Owner(_) | Node::Tenant(_) | Node::Custom(_) => true,
                Node::All(c) | Node::Any(c) => c.iter().any(walk),
                _ => false,
            }
        }
        walk(&self.0)
    }
}

impl fmt::Debug for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_node(&self.0, f)
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_node(&self.0, f)
    }
}

fn fmt_node(n: &Node, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let list = |f: &mut fmt::Formatter<'_>, name: &str, items: &[Box<str>], sep: &str| {
        write!(f, "{name}(")?;
        for (i, s) in items.iter().enumerate() {
            if i > 0 {
                f.write_str(sep)?;
            }
            f.write_str(s)?;
        }
        f.write_str(")")
    };
    let group = |f: &mut fmt::Formatter<'_>, items: &[Node], sep: &str| {
        f.write_str("(")?;
        for (i, n) in items.iter().enumerate() {
            if i > 0 {
                f.write_str(sep)?;
            }
            fmt_node(n, f)?;
        }
        f.write_str(")")
    };
    match n {
        Node::Public => f.write_str("public"),
        Node::Authenticated => f.write_str("authenticated"),
        Node::AnyRole(r) => list(f, "any_role", r, "|"),
        Node::AllRoles(r) => list(f, "all_roles", r, "&"),
        Node::AnyPermission(p) => list(f, "any_permission", p, "|"),
        Node::AllPermissions(p) => list(f, "all_permissions", p, "&"),
        Node::Owner(p) => write!(f, "owner({{{p}}})"),
        Node::Tenant(p) => write!(f, "tenant({{{p}}})"),
        Node::Custom(_) => f.write_str("custom"),
        Node::All(c) => group(f, c, " and "),
        Node::Any(c) => group(f, c, " or "),
    }
}

const GRANTED: Verdict = Verdict::allow(Reason::Granted);

#[inline]
fn eval(node: &Node, info: &RequestInfo<'_>) -> Evaluation {
    use Evaluation::Done;
    let Some(principal) = info.principal else {
        return match node {
            Node::Public => Done(Verdict::allow(Reason::Public)),
            // Composites may contain `public` or a custom predicate that admits anonymous calls.
            Node::All(_) | Node::Any(_) | Node::Custom(_) => eval_composite(node, info),
            _ => Done(Verdict::deny(Reason::Unauthenticated)),
        };
    };
    let verdict = |ok: bool, reason: Reason| Done(if ok { GRANTED } else { Verdict::deny(reason) });
    match node {
        Node::Public => Done(Verdict::allow(Reason::Public)),
        Node::Authenticated => Done(GRANTED),
        Node::AnyRole(r) => verdict(r.iter().any(|r| principal.has_role(r)), Reason::MissingRole),
        Node::AllRoles(r) => verdict(r.iter().all(|r| principal.has_role(r)), Reason::MissingRole),
        Node::AnyPermission(p) => verdict(
            p.iter().any(|p| principal.has_permission(p)),
            Reason::MissingPermission,
        ),
        Node::AllPermissions(p) => verdict(
            p.iter().all(|p| principal.has_permission(p)),
            Reason::MissingPermission,
        ),
        Node::Owner(param) => verdict(info.param_eq(param, principal.subject()), Reason::NotOwner),
        Node::Tenant(param) => verdict(
            principal.tenant().is_some_and(|t| info.param_eq(param, t)),
            Reason::WrongTenant,
        ),
        Node::Custom(_) | Node::All(_) | Node::Any(_) => eval_composite(node, info),
    }
}

fn eval_composite(node: &Node, info: &RequestInfo<'_>) -> Evaluation {
    use Evaluation::{Done, Pending};
    match node {
        Node::Custom(p) => match p.check(info).0 {
            CheckInner::Ready(ok) => Done(custom_verdict(ok, info.principal.is_some())),
            CheckInner::Pending(fut) => {
                let authenticated = info.principal.is_some();
                Pending(Box::pin(
                    async move { custom_verdict(fut.await, authenticated) },
                ))
            }
        },
        Node::All(children) => {
            let mut last = GRANTED;
            for (i, child) in children.iter().enumerate() {
                match eval(child, info) {
                    Done(v) if !v.is_allowed() => return Done(v),
                    Done(v) => last = v,
                    Pending(fut) => {
                        return Pending(continue_all(fut, children.clone(), i + 1, info));
                    }
                }
            }
            Done(last)
        }
        Node::Any(children) => {
            // The first denial explains best ("not the owner", in "owner or admin").
            let mut first: Option<Verdict> = None;
            for (i, child) in children.iter().enumerate() {
                match eval(child, info) {
                    Done(v) if v.is_allowed() => return Done(v),
                    Done(v) => first = first.or(Some(v)),
                    Pending(fut) => {
                        return Pending(continue_any(fut, first, children.clone(), i + 1, info));
                    }
                }
            }
            Done(first.unwrap_or(Verdict::deny(if info.principal.is_some() {
                Reason::PredicateDenied
            } else {
                Reason::Unauthenticated
            })))
        }
        other => eval(other, info),
    }
}

fn custom_verdict(ok: bool, authenticated: bool) -> Verdict {
    if ok {
        GRANTED
    } else if authenticated {
        Verdict::deny(Reason::PredicateDenied)
    } else {
        Verdict::deny(Reason::Unauthenticated)
    }
}

// The rest of an `all` after a child had to wait: the request is copied once, then the remaining
// children are evaluated in order, waiting where needed.
fn continue_all(
    first: BoxFuture<Verdict>,
    children: Arc<[Node]>,
    from: usize,
    info: &RequestInfo<'_>,
) -> BoxFuture<Verdict> {
    let owned = info.to_owned_info();
    Box::pin(async move {
        let mut last = first.await;
        if !last.is_allowed() {
            return last;
        }
        for child in children.iter().skip(from) {
            let e = eval(child, &owned.info());
            let v = e.resolve().await;
            if !v.is_allowed() {
                return v;
            }
            last = v;
        }
        last
    })
}

fn continue_any(
    pending: BoxFuture<Verdict>,
    first: Option<Verdict>,
    children: Arc<[Node]>,
    from: usize,
    info: &RequestInfo<'_>,
) -> BoxFuture<Verdict> {
    let owned = info.to_owned_info();
    Box::pin(async move {
        let v = pending.await;
        if v.is_allowed() {
            return v;
        }
        let first = first.unwrap_or(v);
        for child in children.iter().skip(from) {
            let e = eval(child, &owned.info());
            let v = e.resolve().await;
            if v.is_allowed() {
                return v;
            }
        }
        first
    })
}

/// One rule: an id (for events and reviews), a method, a route template and a requirement.
///
/// ```
/// use http::Method;
/// use safeguard::authz::{Requirement, RuleSet};
/// let rules = RuleSet::builder()
///     .rule("users.read", Method::GET, "/users/{id}", Requirement::owner("id"))
///     .build()
///     .unwrap();
/// let rule = rules.rules().next().unwrap();
/// assert_eq!((rule.id(), rule.method(), rule.route()), ("users.read", &Method::GET, "/users/{id}"));
/// ```
#[derive(Clone)]
pub struct Rule {
    index: usize,
    id: Box<str>,
    method: Method,
    route: Box<str>,
    requirement: Requirement,
    needs_params: bool,
}

impl Rule {
    /// The rule's id.
    ///
    /// ```
    /// # use http::Method; use safeguard::authz::{Requirement, RuleSet};
    /// let rules = RuleSet::builder().rule("h", Method::GET, "/h", Requirement::public()).build().unwrap();
    /// assert_eq!(rules.rules().next().unwrap().id(), "h");
    /// ```
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The method.
    ///
    /// ```
    /// # use http::Method; use safeguard::authz::{Requirement, RuleSet};
    /// let rules = RuleSet::builder().rule("h", Method::PUT, "/h", Requirement::public()).build().unwrap();
    /// assert_eq!(rules.rules().next().unwrap().method(), Method::PUT);
    /// ```
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The route template, in axum syntax.
    ///
    /// ```
    /// # use http::Method; use safeguard::authz::{Requirement, RuleSet};
    /// let rules = RuleSet::builder().rule("h", Method::GET, "/f/{*p}", Requirement::public()).build().unwrap();
    /// assert_eq!(rules.rules().next().unwrap().route(), "/f/{*p}");
    /// ```
    pub fn route(&self) -> &str {
        &self.route
    }

    /// The requirement.
    ///
    /// ```
    /// # use http::Method; use safeguard::authz::{Requirement, RuleSet};
    /// let rules = RuleSet::builder().rule("h", Method::GET, "/h", Requirement::public()).build().unwrap();
    /// assert_eq!(rules.rules().next().unwrap().requirement().to_string(), "public");
    /// ```
    pub fn requirement(&self) -> &Requirement {
        &self.requirement
    }

    /// The rule's position in its set.
    pub(crate) fn index(&self) -> usize {
        self.index
    }

    /// Whether evaluating this rule reads route parameters.
    pub(crate) fn needs_params(&self) -> bool {
        self.needs_params
    }
}

impl fmt::Debug for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} -> {}",
            self.id, self.method, self.route, self.requirement
        )
    }
}

/// Why a rule set did not build.
///
/// ```
/// use http::Method;
/// use safeguard::authz::{Requirement, RuleSet};
/// let err = RuleSet::builder()
///     .rule("a", Method::GET, "/users/{id}", Requirement::owner("user"))
///     .build()
///     .unwrap_err();
/// assert!(err.to_string().contains("has no parameter {user}"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuleError {
    /// Two rules share an id.
    DuplicateId(String),
    /// Two rules cover the same method and route.
    DuplicateRule {
        /// The second rule's id.
        id: String,
    },
    /// A rule for `HEAD`: HEAD is always judged by the GET rule of the route.
    HeadRule {
        /// The rule's id.
        id: String,
    },
    /// The route template is not valid matchit/axum syntax or conflicts with another.
    InvalidRoute {
        /// The rule's id.
        id: String,
        /// What matchit said.
        message: String,
    },
    /// An ownership or tenant requirement names a parameter the route does not have.
    UnknownParam {
        /// The rule's id.
        id: String,
        /// The parameter.
        param: String,
    },
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DuplicateId(id) => write!(f, "rule id {id:?} is used twice"),
            Self::DuplicateRule { id } => {
                write!(
                    f,
                    "rule {id:?} covers a method and route that another rule already covers"
                )
            }
            Self::HeadRule { id } => {
                write!(
                    f,
                    "rule {id:?} is for HEAD; HEAD is judged by the route's GET rule"
                )
            }
            Self::InvalidRoute { id, message } => {
                write!(f, "rule {id:?}: invalid route: {message}")
            }
            Self::UnknownParam { id, param } => {
                write!(f, "rule {id:?}: the route has no parameter {{{param}}}")
            }
        }
    }
}

impl std::error::Error for RuleError {}

/// Builds a [`RuleSet`].
///
/// ```
/// use http::Method;
/// use safeguard::authz::{Requirement, RuleSet};
/// let rules = RuleSet::builder()
///     .rule("health", Method::GET, "/health", Requirement::public())
///     .build()
///     .unwrap();
/// assert_eq!(rules.len(), 1);
/// ```
#[derive(Default)]
pub struct RuleSetBuilder {
    rules: Vec<Rule>,
}

impl fmt::Debug for RuleSetBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.rules).finish()
    }
}

impl RuleSetBuilder {
    /// Adds a rule: `method` requests to `route` (axum syntax: `/users/{id}`, `/files/{*path}`)
    /// need `requirement`. The id names the rule in events and access reviews.
    ///
    /// ```
    /// use http::Method;
    /// use safeguard::authz::{Requirement, RuleSet};
    /// let b = RuleSet::builder().rule("x", Method::DELETE, "/x/{id}", Requirement::any_role(["admin"]));
    /// assert!(b.build().is_ok());
    /// ```
    pub fn rule(mut self, id: &str, method: Method, route: &str, requirement: Requirement) -> Self {
        let needs_params = requirement.needs_params();
        self.rules.push(Rule {
            index: self.rules.len(),
            id: id.into(),
            method,
            route: route.into(),
            requirement,
            needs_params,
        });
        self
    }

    /// The same requirement for several methods; rule ids get the method appended
    /// (`items.write:PUT`).
    ///
    /// ```
    /// use http::Method;
    /// use safeguard::authz::{Requirement, RuleSet};
    /// let rules = RuleSet::builder()
    ///     .rules("items.write", [Method::PUT, Method::PATCH], "/items/{id}", Requirement::any_role(["editor"]))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(rules.rules().map(|r| r.id()).collect::<Vec<_>>(), ["items.write:PUT", "items.write:PATCH"]);
    /// ```
    pub fn rules(
        mut self,
        id: &str,
        methods: impl IntoIterator<Item = Method>,
        route: &str,
        requirement: Requirement,
    ) -> Self {
        for m in methods {
            let id = format!("{id}:{m}");
            self = self.rule(&id, m, route, requirement.clone());
        }
        self
    }

    /// Compiles the rules. Fails on duplicate ids or method+route pairs, HEAD rules, invalid or
    /// conflicting route templates, and owner/tenant parameters missing from their route.
    ///
    /// ```
    /// use http::Method;
    /// use safeguard::authz::{Requirement, RuleSet};
    /// assert!(RuleSet::builder().rule("h", Method::HEAD, "/", Requirement::public()).build().is_err());
    /// ```
    pub fn build(self) -> Result<RuleSet, RuleError> {
        let mut routes: Vec<Route> = Vec::new();
        let mut by_route: HashMap<Box<str>, u32> = HashMap::new();
        let mut router = matchit::Router::new();
        let mut ids = std::collections::HashSet::new();
        for (index, rule) in self.rules.iter().enumerate() {
            let id = rule.id.to_string();
            if !ids.insert(rule.id.clone()) {
                return Err(RuleError::DuplicateId(id));
            }
            if rule.method == Method::HEAD {
                return Err(RuleError::HeadRule { id });
            }
            let mut params = Vec::new();
            rule.requirement.params(&mut params);
            let route_params = template_params(&rule.route);
            if let Some(p) = params.iter().find(|p| !route_params.contains(&&***p)) {
                return Err(RuleError::UnknownParam {
                    id,
                    param: p.to_string(),
                });
            }
            let route_index = match by_route.get(&rule.route) {
                Some(&i) => i,
                None => {
                    let i = u32::try_from(routes.len()).map_err(|_| RuleError::InvalidRoute {
                        id: id.clone(),
                        message: "too many routes".into(),
                    })?;
                    router.insert(rule.route.to_string(), i).map_err(|e| {
                        RuleError::InvalidRoute {
                            id: id.clone(),
                            message: e.to_string(),
                        }
                    })?;
                    by_route.insert(rule.route.clone(), i);
                    routes.push(Route {
                        slots: [NONE; 8],
                        other: Vec::new(),
                    });
                    i
                }
            };
            let route = &mut routes[route_index as usize];
            let rule_index = u32::try_from(index).map_err(|_| RuleError::InvalidRoute {
                id: id.clone(),
                message: "too many rules".into(),
            })?;
            match slot(&rule.method) {
                Some(s) if route.slots[s] == NONE => route.slots[s] = rule_index,
                Some(_) => return Err(RuleError::DuplicateRule { id }),
                None if route.other.iter().any(|(m, _)| *m == rule.method) => {
                    return Err(RuleError::DuplicateRule { id });
                }
                None => route.other.push((rule.method.clone(), rule_index)),
            }
        }
        Ok(RuleSet {
            inner: Arc::new(Inner {
                rules: self.rules,
                routes,
                by_route,
                router,
            }),
        })
    }
}

/// The parameter names of a route template (`{id}`, `{*path}`; `{{` and `}}` are escapes).
fn template_params(route: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let b = route.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' if b.get(i + 1) == Some(&b'{') => i += 2,
            b'{' => {
                if let Some(end) = route[i + 1..].find('}') {
                    let name = &route[i + 1..i + 1 + end];
                    out.push(name.strip_prefix('*').unwrap_or(name));
                    i += end + 2;
                } else {
                    break;
                }
            }
            _ => i += 1,
        }
    }
    out
}

const NONE: u32 = u32::MAX;

#[inline]
fn slot(m: &Method) -> Option<usize> {
    // `Method` compares standard methods by enum tag: these are cheap.
    Some(match *m {
        Method::GET | Method::HEAD => 0,
        Method::POST => 1,
        Method::PUT => 2,
        Method::DELETE => 3,
        Method::PATCH => 4,
        Method::OPTIONS => 5,
        Method::TRACE => 6,
        Method::CONNECT => 7,
        _ => return None,
    })
}

struct Route {
    /// Rule index per standard method (HEAD shares GET's slot), `NONE` if no rule.
    slots: [u32; 8],
    /// Rules for extension methods (WebDAV and the like), by exact method.
    other: Vec<(Method, u32)>,
}

struct Inner {
    rules: Vec<Rule>,
    routes: Vec<Route>,
    by_route: HashMap<Box<str>, u32>,
    router: matchit::Router<u32>,
}

/// A compiled, immutable set of rules. Cheap to clone (one `Arc`); decisions take no lock.
///
/// Deny by default: a path no rule's route matches, or a method no rule covers, is denied.
/// HEAD is judged by the route's GET rule; extension methods need a rule of their own.
///
/// ```
/// use http::Method;
/// use safeguard::Principal;
/// use safeguard::authz::{Reason, Requirement, RuleSet};
///
/// let rules = RuleSet::builder()
///     .rule("health", Method::GET, "/health", Requirement::public())
///     .rule("users.read", Method::GET, "/users/{id}", Requirement::owner("id").or(Requirement::any_role(["admin"])))
///     .build()
///     .unwrap();
///
/// let alice = Principal::new("alice");
/// let decide = |m: Method, path: &str, p: Option<&Principal>| rules.decide(&m, path, p).now().unwrap();
/// assert!(decide(Method::GET, "/health", None).is_allowed());
/// assert!(decide(Method::HEAD, "/users/alice", Some(&alice)).is_allowed());
/// assert_eq!(decide(Method::GET, "/users/bob", Some(&alice)).reason(), Reason::NotOwner);
/// assert_eq!(decide(Method::DELETE, "/users/alice", Some(&alice)).reason(), Reason::NoRuleForMethod);
/// assert_eq!(decide(Method::GET, "/admin", Some(&alice)).reason(), Reason::NoRoute);
/// assert!(!decide(Method::GET, "/users/../admin", Some(&alice)).is_allowed());
/// ```
#[derive(Clone)]
pub struct RuleSet {
    inner: Arc<Inner>,
}

impl fmt::Debug for RuleSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.inner.rules).finish()
    }
}

impl RuleSet {
    /// A builder.
    ///
    /// ```
    /// assert!(safeguard::authz::RuleSet::builder().build().unwrap().is_empty());
    /// ```
    pub fn builder() -> RuleSetBuilder {
        RuleSetBuilder::default()
    }

    /// The rules, in the order they were added.
    ///
    /// ```
    /// assert_eq!(safeguard::authz::RuleSet::builder().build().unwrap().rules().count(), 0);
    /// ```
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.inner.rules.iter()
    }

    /// The number of rules.
    ///
    /// ```
    /// assert_eq!(safeguard::authz::RuleSet::builder().build().unwrap().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.inner.rules.len()
    }

    /// Whether there are no rules (everything is denied).
    ///
    /// ```
    /// assert!(safeguard::authz::RuleSet::builder().build().unwrap().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.inner.rules.is_empty()
    }

    #[inline]
    fn rule_for(&self, route: u32, method: &Method) -> Option<&Rule> {
        let route = self.inner.routes.get(route as usize)?;
        let index = match slot(method) {
            Some(s) => route.slots[s],
            None => route
                .other
                .iter()
                .find(|(m, _)| m == method)
                .map_or(NONE, |(_, i)| *i),
        };
        self.inner.rules.get(index as usize)
    }

    /// The rule for `method` on the route template `route`, exactly as the router reports it
    /// (axum's `MatchedPath`). `Err` says why there is none.
    ///
    /// ```
    /// use http::Method;
    /// use safeguard::authz::{Reason, Requirement, RuleSet};
    /// let rules = RuleSet::builder().rule("r", Method::GET, "/u/{id}", Requirement::public()).build().unwrap();
    /// assert_eq!(rules.rule_for_route(&Method::GET, "/u/{id}").unwrap().id(), "r");
    /// assert_eq!(rules.rule_for_route(&Method::GET, "/u/7").unwrap_err(), Reason::NoRoute);
    /// ```
    pub fn rule_for_route(&self, method: &Method, route: &str) -> Result<&Rule, Reason> {
        let &i = self.inner.by_route.get(route).ok_or(Reason::NoRoute)?;
        self.rule_for(i, method).ok_or(Reason::NoRuleForMethod)
    }

    /// Matches a canonical path (see [`canonicalize`](super::canonicalize)) against the route
    /// templates and returns the rule for `method` with the raw route parameters.
    ///
    /// ```
    /// use http::Method;
    /// use safeguard::authz::{Reason, Requirement, RuleSet};
    /// let rules = RuleSet::builder().rule("r", Method::GET, "/u/{id}", Requirement::public()).build().unwrap();
    /// let m = rules.match_path(&Method::GET, "/u/7").unwrap();
    /// assert_eq!(m.rule().id(), "r");
    /// assert!(rules.match_path(&Method::POST, "/u/7").is_err());
    /// ```
    #[inline]
    pub fn match_path<'r, 'p>(
        &'r self,
        method: &Method,
        path: &'p str,
    ) -> Result<PathMatch<'r, 'p>, Reason> {
        let m = self.inner.router.at(path).map_err(|_| Reason::NoRoute)?;
        let rule = self
            .rule_for(*m.value, method)
            .ok_or(Reason::NoRuleForMethod)?;
        Ok(PathMatch {
            rule,
            params: m.params,
        })
    }

    /// The whole decision for a request outside a router: canonicalize the path, match it,
    /// evaluate the rule's requirement. Invalid paths are denied with
    /// [`Reason::InvalidPath`]; the layer answers those with 400.
    ///
    /// Synchronous requirements decide without locking or allocating (the canonical path is
    /// borrowed unless it had percent-encoded unreserved characters to decode).
    ///
    /// ```
    /// use http::Method;
    /// use safeguard::authz::{PathError, Reason, Requirement, RuleSet};
    /// let rules = RuleSet::builder().rule("r", Method::GET, "/a", Requirement::public()).build().unwrap();
    /// assert!(rules.decide(&Method::GET, "/%61", None).now().unwrap().is_allowed());
    /// let v = rules.decide(&Method::GET, "/a/..", None).now().unwrap();
    /// assert_eq!(v.reason(), Reason::InvalidPath(PathError::DotSegment));
    /// ```
    #[inline]
    pub fn decide(&self, method: &Method, path: &str, principal: Option<&Principal>) -> Evaluation {
        let path = match canonicalize(path) {
            Ok(p) => p,
            Err(e) => return Evaluation::Done(Verdict::deny(Reason::InvalidPath(e))),
        };
        match self.match_path(method, &path) {
            Ok(m) => m.evaluate(method, principal),
            Err(reason) => Evaluation::Done(Verdict::deny(reason)),
        }
    }

    pub(crate) fn rule_at(&self, index: usize) -> Option<&Rule> {
        self.inner.rules.get(index)
    }
}

/// A rule matched against a canonical path, with the path's route parameters.
///
/// ```
/// use http::Method;
/// use safeguard::Principal;
/// use safeguard::authz::{Requirement, RuleSet};
/// let rules = RuleSet::builder().rule("r", Method::GET, "/u/{id}", Requirement::owner("id")).build().unwrap();
/// let m = rules.match_path(&Method::GET, "/u/al%20ice").unwrap();
/// let p = Principal::new("al ice");
/// assert!(m.evaluate(&Method::GET, Some(&p)).now().unwrap().is_allowed());
/// ```
pub struct PathMatch<'r, 'p> {
    rule: &'r Rule,
    params: matchit::Params<'r, 'p>,
}

impl<'r, 'p> PathMatch<'r, 'p> {
    /// The matched rule.
    ///
    /// ```
    /// # use http::Method; use safeguard::authz::{Requirement, RuleSet};
    /// let rules = RuleSet::builder().rule("r", Method::GET, "/", Requirement::public()).build().unwrap();
    /// assert_eq!(rules.match_path(&Method::GET, "/").unwrap().rule().id(), "r");
    /// ```
    pub fn rule(&self) -> &'r Rule {
        self.rule
    }

    /// Evaluates the rule's requirement with these route parameters.
    ///
    /// ```
    /// # use http::Method; use safeguard::authz::{Requirement, RuleSet};
    /// let rules = RuleSet::builder().rule("r", Method::GET, "/", Requirement::authenticated()).build().unwrap();
    /// let m = rules.match_path(&Method::GET, "/").unwrap();
    /// assert!(!m.evaluate(&Method::GET, None).now().unwrap().is_allowed());
    /// ```
    #[inline]
    pub fn evaluate(&self, method: &Method, principal: Option<&Principal>) -> Evaluation {
        // Lifetimes: matchit's params borrow both the router ('r) and the path ('p); a shorter
        // common lifetime is enough for the evaluation.
        let params: &matchit::Params<'_, '_> = &self.params;
        let info =
            RequestInfo::with_params(method, self.rule.route(), principal, Params::Raw(params));
        self.rule.requirement.evaluate(&info)
    }
}
