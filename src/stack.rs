//! [`SafeguardLayer`]: every layer of the crate, in the order that keeps their guarantees.
//!
//! ```text
//! CompressionLayer (yours, outside: compresses bytes that are already safe)
//!   AccessLog        route template, status, latency, principal; no query strings or credentials
//!     SanitizeErrors panics and 5xx become problem+json with an incident id; leaking 4xx withheld
//!       Authorize    deny by default; 400 for path tricks; Principal into the extensions
//!         RedactResponse  JSON / NDJSON redacted per the Principal's clearances
//!           CsvExport     formula cells neutralized
//!             your handlers
//! ```
//!
//! The order matters: the access log must see the status the client got; error sanitizing must
//! cover everything that can fail, authorization included; redaction needs the `Principal` that
//! authorization sets. The individual layers stay usable on their own for other arrangements.
//!
//! ```
//! use axum::{Router, routing::get};
//! use http::Method;
//! use safeguard::SafeguardLayer;
//! use safeguard::audit::TracingSink;
//! use safeguard::authz::{ApiKeys, AuthorizeLayer, Requirement, RuleSet};
//! use safeguard::policy::Policy;
//!
//! let policy = Policy::default();
//! let rules = RuleSet::builder()
//!     .rule("health", Method::GET, "/health", Requirement::public())
//!     .build()?;
//! let keys = ApiKeys::new(); // ApiKeys::from_env(..) / from_file(..) in production
//! let app: Router = Router::new()
//!     .route("/health", get(|| async { "ok" }))
//!     .layer(SafeguardLayer::new(&policy, AuthorizeLayer::new(rules, keys)).audit(TracingSink));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::Arc;

use tower_layer::Layer;

use crate::audit::{AuditDecisions, AuditDisclosures, AuditSink};
use crate::authz::{Authorize, AuthorizeLayer};
use crate::errors::{SanitizeErrors, SanitizeErrorsLayer};
use crate::export::{CsvExport, CsvExportLayer};
use crate::log::{AccessLog, AccessLogLayer};
use crate::policy::Policy;
use crate::response::{DefaultOnComplete, RedactResponse, RedactResponseLayer};

/// All layers, outermost first: [`AccessLogLayer`], [`SanitizeErrorsLayer`], [`AuthorizeLayer`],
/// [`RedactResponseLayer`], [`CsvExportLayer`]. Built from one [`Policy`]; each part can be
/// replaced by a configured one.
///
/// With axum, add it with `Router::layer`: axum runs it after routing, so `Authorize` and the
/// access log see the route the router matched (`MatchedPath`). In front of a plain hyper
/// service, configure the `AuthorizeLayer` with `Matching::Path`.
///
/// ```
/// use safeguard::SafeguardLayer;
/// use safeguard::authz::{ApiKeys, AuthorizeLayer, RuleSet};
/// use safeguard::errors::SanitizeErrorsLayer;
/// use safeguard::policy::Policy;
///
/// let policy = Policy::default();
/// let authorize = AuthorizeLayer::new(RuleSet::builder().build()?, ApiKeys::new());
/// let layer = SafeguardLayer::new(&policy, authorize)
///     .sanitize_errors(SanitizeErrorsLayer::new().policy(policy.clone()).log_limit(4096));
/// # let _ = layer;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SafeguardLayer<C = DefaultOnComplete> {
    policy: Policy,
    access_log: AccessLogLayer,
    errors: SanitizeErrorsLayer,
    authorize: AuthorizeLayer,
    redact: RedactResponseLayer<C>,
    csv: CsvExportLayer,
}

impl SafeguardLayer {
    /// The stack with default settings for every layer but authorization, whose rules and
    /// authentication are yours; logging, errors and redaction use `policy`.
    ///
    /// ```
    /// use safeguard::SafeguardLayer;
    /// use safeguard::authz::{ApiKeys, AuthorizeLayer, RuleSet};
    /// let policy = safeguard::policy::Policy::default();
    /// let layer = SafeguardLayer::new(&policy, AuthorizeLayer::new(RuleSet::builder().build()?, ApiKeys::new()));
    /// # let _ = layer;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(policy: &Policy, authorize: AuthorizeLayer) -> Self {
        Self {
            policy: policy.clone(),
            access_log: AccessLogLayer::new(policy),
            errors: SanitizeErrorsLayer::new().policy(policy.clone()),
            authorize,
            redact: RedactResponseLayer::new(policy.clone()),
            csv: CsvExportLayer::new(),
        }
    }
}

impl<C> SafeguardLayer<C> {
    /// Replaces the access log layer.
    ///
    /// ```
    /// # use safeguard::{SafeguardLayer, authz::{ApiKeys, AuthorizeLayer, RuleSet}, log::AccessLogLayer, policy::Policy};
    /// # let policy = Policy::default();
    /// # let authorize = AuthorizeLayer::new(RuleSet::builder().build()?, ApiKeys::new());
    /// let layer = SafeguardLayer::new(&policy, authorize)
    ///     .access_log(AccessLogLayer::new(&policy).allow_query("page"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn access_log(mut self, layer: AccessLogLayer) -> Self {
        self.access_log = layer;
        self
    }

    /// Replaces the error sanitizing layer.
    ///
    /// ```
    /// # use safeguard::{SafeguardLayer, authz::{ApiKeys, AuthorizeLayer, RuleSet}, errors::SanitizeErrorsLayer, policy::Policy};
    /// # let policy = Policy::default();
    /// # let authorize = AuthorizeLayer::new(RuleSet::builder().build()?, ApiKeys::new());
    /// let layer = SafeguardLayer::new(&policy, authorize)
    ///     .sanitize_errors(SanitizeErrorsLayer::new().policy(policy.clone()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn sanitize_errors(mut self, layer: SanitizeErrorsLayer) -> Self {
        self.errors = layer;
        self
    }

    /// Replaces the CSV export layer.
    ///
    /// ```
    /// # use safeguard::{SafeguardLayer, authz::{ApiKeys, AuthorizeLayer, RuleSet}, export::CsvExportLayer, policy::Policy};
    /// # let policy = Policy::default();
    /// # let authorize = AuthorizeLayer::new(RuleSet::builder().build()?, ApiKeys::new());
    /// let layer = SafeguardLayer::new(&policy, authorize).csv_export(CsvExportLayer::new());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn csv_export(mut self, layer: CsvExportLayer) -> Self {
        self.csv = layer;
        self
    }

    /// Replaces the response redaction layer (for example one with an `on_complete` hook).
    ///
    /// ```
    /// # use safeguard::{SafeguardLayer, authz::{ApiKeys, AuthorizeLayer, RuleSet}, response::{RedactResponseLayer, Report}, policy::Policy};
    /// # let policy = Policy::default();
    /// # let authorize = AuthorizeLayer::new(RuleSet::builder().build()?, ApiKeys::new());
    /// let layer = SafeguardLayer::new(&policy, authorize).redact_response(
    ///     RedactResponseLayer::new(policy.clone()).on_complete(|r: &Report| {
    ///         tracing::info!(redacted = r.tally().redacted(), "response redacted");
    ///     }),
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn redact_response<C2>(self, layer: RedactResponseLayer<C2>) -> SafeguardLayer<C2> {
        SafeguardLayer {
            policy: self.policy,
            access_log: self.access_log,
            errors: self.errors,
            authorize: self.authorize,
            redact: layer,
            csv: self.csv,
        }
    }

    /// Sends every authorization decision and every response's disclosure counts to `sink`
    /// (for example an `Arc<ChainedLog<File>>` behind a closure, or [`TracingSink`](crate::audit::TracingSink)).
    /// Replaces the redaction layer's `on_complete` hook.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use safeguard::audit::{AuditEvent, AuditSink, ChainedLog};
    /// # use safeguard::{SafeguardLayer, authz::{ApiKeys, AuthorizeLayer, RuleSet}, policy::Policy};
    /// # let policy = Policy::default();
    /// # let authorize = AuthorizeLayer::new(RuleSet::builder().build()?, ApiKeys::new());
    /// # let key = safeguard::keys::SecretKey::from_bytes(vec![3u8; 32])?; // SecretKey::from_env(..)
    /// let chain = Arc::new(ChainedLog::new(std::io::sink(), key));
    /// let layer = SafeguardLayer::new(&policy, authorize)
    ///     .audit(move |e: &AuditEvent| chain.record(e));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn audit<A: AuditSink>(self, sink: A) -> SafeguardLayer<AuditDisclosures<SharedSink<A>>> {
        let shared = SharedSink(Arc::new(sink));
        let policy = self.policy.clone();
        SafeguardLayer {
            policy: self.policy,
            access_log: self.access_log,
            errors: self.errors,
            authorize: self.authorize.sink(AuditDecisions::new(shared.clone())),
            redact: self
                .redact
                .on_complete(AuditDisclosures::new(shared, policy)),
            csv: self.csv,
        }
    }
}

impl<C> std::fmt::Debug for SafeguardLayer<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SafeguardLayer")
            .field("access_log", &self.access_log)
            .field("errors", &self.errors)
            .field("authorize", &self.authorize)
            .field("csv", &self.csv)
            .finish_non_exhaustive()
    }
}

/// One audit sink shared by the decision and disclosure adapters of [`SafeguardLayer::audit`].
///
/// ```
/// use safeguard::audit::{AuditEvent, AuditSink, TracingSink};
/// use safeguard::stack::SharedSink;
/// let shared = SharedSink::new(TracingSink);
/// shared.clone().record(&AuditEvent::new("decision"));
/// ```
#[derive(Debug)]
pub struct SharedSink<A>(Arc<A>);

impl<A> SharedSink<A> {
    /// Shares `sink`.
    ///
    /// ```
    /// let shared = safeguard::stack::SharedSink::new(safeguard::audit::TracingSink);
    /// # let _ = shared;
    /// ```
    pub fn new(sink: A) -> Self {
        Self(Arc::new(sink))
    }
}

impl<A> Clone for SharedSink<A> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<A: AuditSink> AuditSink for SharedSink<A> {
    fn record(&self, event: &crate::audit::AuditEvent) {
        self.0.record(event)
    }
}

impl<S, C: Clone> Layer<S> for SafeguardLayer<C> {
    type Service = AccessLog<SanitizeErrors<Authorize<RedactResponse<CsvExport<S>, C>>>>;

    fn layer(&self, inner: S) -> Self::Service {
        let inner = self.csv.layer(inner);
        let inner = self.redact.layer(inner);
        let inner = self.authorize.layer(inner);
        let inner = self.errors.layer(inner);
        self.access_log.layer(inner)
    }
}
