//! Decision events: one per request, allow or deny, for logs and the audit trail.

use std::fmt;
use std::time::SystemTime;

use http::Method;

use super::rules::Reason;

/// What the layer decided.
///
/// ```
/// use safeguard::authz::Decision;
/// assert_eq!(Decision::Deny.as_str(), "deny");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// The request went on to the service.
    Allow,
    /// The request was refused (401, 403, or 404 when hiding existence).
    Deny,
    /// The request was malformed or dangerous and refused with 400 before any rule ran.
    Reject,
}

impl Decision {
    /// `allow`, `deny` or `reject`.
    ///
    /// ```
    /// assert_eq!(safeguard::authz::Decision::Allow.as_str(), "allow");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Deny => "deny",
            Self::Reject => "reject",
        }
    }
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One authorization decision. Borrowed, so emitting it costs no allocation; a sink that keeps
/// events copies what it needs.
///
/// It never holds a credential: the principal is named by its subject id only, and the path is
/// named by its route template (the raw path of a rejected request is not recorded at all).
///
/// ```
/// use std::time::SystemTime;
/// use http::Method;
/// use safeguard::authz::{Decision, DecisionEvent, Reason};
///
/// let e = DecisionEvent {
///     time: SystemTime::now(),
///     principal: Some("alice"),
///     method: &Method::GET,
///     route: Some("/users/{id}"),
///     rule: Some("users.read"),
///     decision: Decision::Deny,
///     reason: Reason::NotOwner,
///     status: 403,
///     elapsed_ns: 180,
/// };
/// assert_eq!(e.reason.as_str(), "not_owner");
/// ```
#[derive(Clone, Copy, Debug)]
pub struct DecisionEvent<'a> {
    /// When the decision was made.
    pub time: SystemTime,
    /// The principal's subject id, if the request was authenticated.
    pub principal: Option<&'a str>,
    /// The request method.
    pub method: &'a Method,
    /// The matched route template, if any.
    pub route: Option<&'a str>,
    /// The id of the rule that decided, if one did.
    pub rule: Option<&'a str>,
    /// Allow, deny or reject.
    pub decision: Decision,
    /// Why.
    pub reason: Reason,
    /// The status the client got from the layer (for an allowed request: 0, the service answers).
    pub status: u16,
    /// Time spent deciding (authentication included), in nanoseconds.
    pub elapsed_ns: u64,
}

/// Receives every decision event. Implemented for closures `Fn(&DecisionEvent<'_>)`.
///
/// Called on the request path: keep it quick (hand the event to a channel for slow work).
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::SystemTime;
/// use http::Method;
/// use safeguard::authz::{Decision, DecisionEvent, DecisionSink, Reason};
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let sink = {
///     let seen = seen.clone();
///     move |e: &DecisionEvent<'_>| seen.lock().unwrap().push(e.decision)
/// };
/// sink.record(&DecisionEvent {
///     time: SystemTime::now(), principal: None, method: &Method::GET, route: None, rule: None,
///     decision: Decision::Reject, reason: Reason::InvalidTarget, status: 400, elapsed_ns: 1,
/// });
/// assert_eq!(*seen.lock().unwrap(), [Decision::Reject]);
/// ```
pub trait DecisionSink: Send + Sync + 'static {
    /// Records one event.
    fn record(&self, event: &DecisionEvent<'_>);
}

impl<F> DecisionSink for F
where
    F: Fn(&DecisionEvent<'_>) + Send + Sync + 'static,
{
    fn record(&self, event: &DecisionEvent<'_>) {
        self(event)
    }
}

/// Emits an event through `tracing` (target `safeguard::authz`): allows at DEBUG, denials and
/// rejections at INFO.
pub(crate) fn trace(e: &DecisionEvent<'_>) {
    macro_rules! emit {
        ($level:expr) => {
            tracing::event!(
                target: "safeguard::authz",
                $level,
                principal = e.principal,
                method = %e.method,
                route = e.route,
                rule = e.rule,
                decision = e.decision.as_str(),
                reason = e.reason.as_str(),
                status = e.status,
                elapsed_ns = e.elapsed_ns,
                "authorization decision"
            )
        };
    }
    match e.decision {
        Decision::Allow => emit!(tracing::Level::DEBUG),
        Decision::Deny | Decision::Reject => emit!(tracing::Level::INFO),
    }
}
