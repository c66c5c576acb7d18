//! Audit evidence: events for decisions and disclosures, and a tamper-evident log of them.
//!
//! Every layer that decides or discloses something can hand an [`AuditEvent`] to an
//! [`AuditSink`]. [`ChainedLog`] is the sink auditors ask for: JSON lines, each sealed with an
//! HMAC-SHA256 over the previous line's seal, its sequence number and its content, so that an edited,
//! removed, reordered or inserted line breaks the chain, which [`verify_chain`] reports with the
//! line number. The HMAC key comes from the environment or a file like every key of this crate
//! (see [`crate::keys`]); keep it away from whoever can write the log.
//!
//! ```
//! use safeguard::audit::{AuditEvent, AuditSink, ChainedLog, verify_chain};
//! use safeguard::keys::SecretKey;
//!
//! # let key = || SecretKey::from_bytes(vec![7u8; 32]).unwrap(); // SecretKey::from_env(..) in production
//! let log = ChainedLog::new(Vec::new(), key());
//! log.record(&AuditEvent::new("decision").principal("user-42").action("GET /users/{id}").outcome("allow"));
//! log.record(&AuditEvent::new("disclosure").principal("user-42").detail("payment.revealed", 3));
//! let bytes = log.into_inner();
//! assert_eq!(verify_chain(&bytes[..], &key())?, 2);
//!
//! let tampered = String::from_utf8(bytes).unwrap().replace("allow", "deny!");
//! assert!(verify_chain(tampered.as_bytes(), &key()).is_err());
//! # Ok::<(), safeguard::audit::ChainError>(())
//! ```

use std::fmt;
use std::io::{BufRead, Write};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::keys::SecretKey;

/// One audit record: what happened, to whom, with what outcome. It carries ids, routes, classes
/// and counts, never the values of classified data.
///
/// ```
/// use safeguard::audit::AuditEvent;
/// let e = AuditEvent::new("decision").principal("u1").action("DELETE /orders/{id}").outcome("deny");
/// assert_eq!(e.kind, "decision");
/// assert_eq!(e.outcome.as_deref(), Some("deny"));
/// assert!(e.time_ms > 0);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEvent {
    /// Milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// The kind of event: `decision`, `disclosure`, `incident`, or your own.
    pub kind: String,
    /// The principal's subject id, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    /// What was attempted, e.g. `GET /users/{id}` (a route template, not a raw path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// The outcome, e.g. `allow`, `deny`, `redacted`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Further fields (rule id, reason, request id, counts per class, ...).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub details: Map<String, Value>,
}

impl AuditEvent {
    /// An event of `kind`, stamped with the current time.
    ///
    /// ```
    /// let e = safeguard::audit::AuditEvent::new("incident");
    /// assert!(e.details.is_empty());
    /// ```
    pub fn new(kind: impl Into<String>) -> Self {
        let time_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        Self {
            time_ms,
            kind: kind.into(),
            principal: None,
            action: None,
            outcome: None,
            details: Map::new(),
        }
    }

    /// Sets the principal's subject id.
    ///
    /// ```
    /// let e = safeguard::audit::AuditEvent::new("decision").principal("svc-billing");
    /// assert_eq!(e.principal.as_deref(), Some("svc-billing"));
    /// ```
    pub fn principal(mut self, subject: impl Into<String>) -> Self {
        self.principal = Some(subject.into());
        self
    }

    /// Sets the action.
    ///
    /// ```
    /// let e = safeguard::audit::AuditEvent::new("decision").action("GET /reports");
    /// assert_eq!(e.action.as_deref(), Some("GET /reports"));
    /// ```
    pub fn action(mut self, action: impl Into<String>) -> Self {
        self.action = Some(action.into());
        self
    }

    /// Sets the outcome.
    ///
    /// ```
    /// let e = safeguard::audit::AuditEvent::new("decision").outcome("allow");
    /// assert_eq!(e.outcome.as_deref(), Some("allow"));
    /// ```
    pub fn outcome(mut self, outcome: impl Into<String>) -> Self {
        self.outcome = Some(outcome.into());
        self
    }

    /// Adds a detail field.
    ///
    /// ```
    /// let e = safeguard::audit::AuditEvent::new("disclosure").detail("personal.revealed", 2);
    /// assert_eq!(e.details["personal.revealed"], 2);
    /// ```
    pub fn detail(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.details.insert(key.into(), value.into());
        self
    }
}

/// Receives audit events. Implemented for closures, so `|e: &AuditEvent| ...` is a sink.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use safeguard::audit::{AuditEvent, AuditSink};
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let sink = { let seen = seen.clone(); move |e: &AuditEvent| seen.lock().unwrap().push(e.kind.clone()) };
/// sink.record(&AuditEvent::new("decision"));
/// assert_eq!(*seen.lock().unwrap(), ["decision"]);
/// ```
pub trait AuditSink: Send + Sync + 'static {
    /// Records one event. Sinks must not panic and should not block for long.
    fn record(&self, event: &AuditEvent);
}

impl<F> AuditSink for F
where
    F: Fn(&AuditEvent) + Send + Sync + 'static,
{
    fn record(&self, event: &AuditEvent) {
        self(event)
    }
}

/// A sink that emits each event as a `tracing` INFO event with target `safeguard::audit`.
///
/// ```
/// use safeguard::audit::{AuditEvent, AuditSink, TracingSink};
/// TracingSink.record(&AuditEvent::new("decision").outcome("allow"));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct TracingSink;

impl AuditSink for TracingSink {
    fn record(&self, event: &AuditEvent) {
        let details = serde_json::to_string(&event.details).unwrap_or_default();
        tracing::info!(
            target: "safeguard::audit",
            kind = %event.kind,
            principal = event.principal.as_deref().unwrap_or("-"),
            action = event.action.as_deref().unwrap_or("-"),
            outcome = event.outcome.as_deref().unwrap_or("-"),
            details = %details,
            time_ms = event.time_ms,
            "audit"
        );
    }
}

/// Turns the `Authorize` layer's decision events into audit events (kind `decision`).
///
/// ```
/// use safeguard::audit::{AuditEvent, AuditDecisions};
/// use safeguard::authz::DecisionSink;
/// use std::sync::{Arc, Mutex};
///
/// let seen = Arc::new(Mutex::new(Vec::<AuditEvent>::new()));
/// let sink = { let seen = seen.clone(); move |e: &AuditEvent| seen.lock().unwrap().push(e.clone()) };
/// let decisions = AuditDecisions::new(sink); // pass to AuthorizeLayer::sink(..)
/// # let _ = &decisions;
/// ```
#[cfg(feature = "authorize")]
#[derive(Debug)]
pub struct AuditDecisions<A> {
    sink: std::sync::Arc<A>,
}

#[cfg(feature = "authorize")]
impl<A> Clone for AuditDecisions<A> {
    fn clone(&self) -> Self {
        Self {
            sink: self.sink.clone(),
        }
    }
}

#[cfg(feature = "authorize")]
impl<A: AuditSink> AuditDecisions<A> {
    /// Wraps an audit sink.
    ///
    /// ```
    /// let d = safeguard::audit::AuditDecisions::new(safeguard::audit::TracingSink);
    /// # let _ = d;
    /// ```
    pub fn new(sink: A) -> Self {
        Self {
            sink: std::sync::Arc::new(sink),
        }
    }
}

#[cfg(feature = "authorize")]
impl From<&crate::authz::DecisionEvent<'_>> for AuditEvent {
    fn from(e: &crate::authz::DecisionEvent<'_>) -> Self {
        let time_ms = e
            .time
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        let mut event = AuditEvent::new("decision")
            .action(format!("{} {}", e.method, e.route.unwrap_or("<unmatched>")))
            .outcome(e.decision.as_str())
            .detail("reason", e.reason.as_str())
            .detail("elapsed_ns", e.elapsed_ns);
        event.time_ms = time_ms;
        if let Some(rule) = e.rule {
            event = event.detail("rule", rule);
        }
        if e.status != 0 {
            event = event.detail("status", e.status);
        }
        if let Some(principal) = e.principal {
            event = event.principal(principal);
        }
        event
    }
}

#[cfg(feature = "authorize")]
impl<A: AuditSink> crate::authz::DecisionSink for AuditDecisions<A> {
    fn record(&self, event: &crate::authz::DecisionEvent<'_>) {
        self.sink.record(&AuditEvent::from(event));
    }
}

/// Turns `RedactResponse` reports into audit events (kind `disclosure`): per class, how many
/// values were redacted and how many revealed, and how the body ended. Counts only, never values.
///
/// ```
/// use safeguard::audit::{AuditDisclosures, AuditEvent};
/// use safeguard::policy::Policy;
/// use safeguard::response::RedactResponseLayer;
///
/// let policy = Policy::default();
/// let sink = |e: &AuditEvent| println!("{}", serde_json::to_string(e).unwrap());
/// let layer = RedactResponseLayer::new(policy.clone())
///     .on_complete(AuditDisclosures::new(sink, policy));
/// # let _ = layer;
/// ```
#[cfg(feature = "redact")]
#[derive(Debug)]
pub struct AuditDisclosures<A> {
    sink: std::sync::Arc<A>,
    policy: crate::policy::Policy,
}

#[cfg(feature = "redact")]
impl<A> Clone for AuditDisclosures<A> {
    fn clone(&self) -> Self {
        Self {
            sink: self.sink.clone(),
            policy: self.policy.clone(),
        }
    }
}

#[cfg(feature = "redact")]
impl<A: AuditSink> AuditDisclosures<A> {
    /// Wraps an audit sink; `policy` names the classes in the counts.
    ///
    /// ```
    /// let d = safeguard::audit::AuditDisclosures::new(
    ///     safeguard::audit::TracingSink,
    ///     safeguard::policy::Policy::default(),
    /// );
    /// # let _ = d;
    /// ```
    pub fn new(sink: A, policy: crate::policy::Policy) -> Self {
        Self {
            sink: std::sync::Arc::new(sink),
            policy,
        }
    }

    /// The audit event for one report.
    ///
    /// ```
    /// use safeguard::audit::{AuditDisclosures, TracingSink};
    /// use safeguard::response::Report;
    /// let d = AuditDisclosures::new(TracingSink, safeguard::policy::Policy::default());
    /// let event = d.event(&Report::default());
    /// assert_eq!(event.kind, "disclosure");
    /// assert_eq!(event.outcome.as_deref(), Some("incomplete"));
    /// ```
    pub fn event(&self, report: &crate::response::Report) -> AuditEvent {
        use crate::response::Outcome;
        let outcome = match report.outcome() {
            Outcome::Complete => "complete",
            Outcome::Refused(_) => "refused",
            Outcome::Aborted(_) => "aborted",
            Outcome::PassedThrough => "passed_through",
            _ => "incomplete",
        };
        let mut event = AuditEvent::new("disclosure").outcome(outcome);
        if let Some(principal) = report.principal() {
            event = event.principal(principal.subject());
        }
        for (class, redacted, revealed) in report.tally().summary(&self.policy) {
            event = event
                .detail(format!("{class}.redacted"), redacted)
                .detail(format!("{class}.revealed"), revealed);
        }
        if report.oversized() > 0 {
            event = event.detail("oversized", report.oversized());
        }
        event
    }
}

#[cfg(feature = "redact")]
impl<A: AuditSink> crate::response::OnComplete for AuditDisclosures<A> {
    fn on_complete(self, report: &crate::response::Report) {
        self.sink.record(&self.event(report));
    }
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    seq: u64,
    prev: String,
    event: AuditEvent,
    mac: String,
}

struct ChainState<W> {
    writer: W,
    seq: u64,
    prev: String,
    failed: bool,
}

/// A tamper-evident audit log: one JSON object per line,
/// `{"seq":N,"prev":"<seal of line N-1>","event":{...},"mac":"<seal>"}`, where the seal is
/// HMAC-SHA256(key, prev || seq || event JSON), base64url. The first line's `prev` is empty.
///
/// Write errors are reported once through `tracing` at ERROR and the log stops writing, so that a
/// gap is visible rather than silent.
///
/// ```
/// use safeguard::audit::{AuditEvent, AuditSink, ChainedLog};
/// use safeguard::keys::SecretKey;
/// # let key = SecretKey::from_bytes(vec![1u8; 32])?;
/// let log = ChainedLog::new(Vec::new(), key);
/// log.record(&AuditEvent::new("decision"));
/// let text = String::from_utf8(log.into_inner()).unwrap();
/// assert!(text.starts_with("{\"seq\":0,\"prev\":\"\""));
/// # Ok::<(), safeguard::keys::KeyError>(())
/// ```
pub struct ChainedLog<W> {
    key: SecretKey,
    state: Mutex<ChainState<W>>,
}

impl<W: Write> ChainedLog<W> {
    /// A new chain written to `writer` (a file opened for append, a socket, a buffer).
    ///
    /// ```
    /// # let key = safeguard::keys::SecretKey::from_bytes(vec![1u8; 32])?;
    /// let log = safeguard::audit::ChainedLog::new(std::io::sink(), key);
    /// # Ok::<(), safeguard::keys::KeyError>(())
    /// ```
    pub fn new(writer: W, key: SecretKey) -> Self {
        Self {
            key,
            state: Mutex::new(ChainState {
                writer,
                seq: 0,
                prev: String::new(),
                failed: false,
            }),
        }
    }

    /// Continues an existing chain after `seq` lines whose last seal is `prev` (from
    /// [`verify_chain_tail`]), e.g. when a service restarts and appends to its file.
    ///
    /// ```
    /// use safeguard::audit::{AuditEvent, AuditSink, ChainedLog, verify_chain, verify_chain_tail};
    /// # let key = || safeguard::keys::SecretKey::from_bytes(vec![1u8; 32]).unwrap();
    /// let first = ChainedLog::new(Vec::new(), key());
    /// first.record(&AuditEvent::new("a"));
    /// let mut bytes = first.into_inner();
    /// let (seq, prev) = verify_chain_tail(&bytes[..], &key())?;
    /// let second = ChainedLog::resume(Vec::new(), key(), seq, prev);
    /// second.record(&AuditEvent::new("b"));
    /// bytes.extend(second.into_inner());
    /// assert_eq!(verify_chain(&bytes[..], &key())?, 2);
    /// # Ok::<(), safeguard::audit::ChainError>(())
    /// ```
    pub fn resume(writer: W, key: SecretKey, seq: u64, prev: String) -> Self {
        Self {
            key,
            state: Mutex::new(ChainState {
                writer,
                seq,
                prev,
                failed: false,
            }),
        }
    }

    /// Returns the writer.
    ///
    /// ```
    /// # let key = safeguard::keys::SecretKey::from_bytes(vec![1u8; 32])?;
    /// let log = safeguard::audit::ChainedLog::new(Vec::<u8>::new(), key);
    /// assert!(log.into_inner().is_empty());
    /// # Ok::<(), safeguard::keys::KeyError>(())
    /// ```
    pub fn into_inner(self) -> W {
        match self.state.into_inner() {
            Ok(state) => state.writer,
            Err(poisoned) => poisoned.into_inner().writer,
        }
    }
}

fn seal(key: &SecretKey, prev: &str, seq: u64, event_json: &[u8]) -> String {
    let tag = key.sign(&[prev.as_bytes(), b"\n", &seq.to_be_bytes(), event_json]);
    URL_SAFE_NO_PAD.encode(tag.as_ref())
}

impl<W: Write + Send + 'static> AuditSink for ChainedLog<W> {
    fn record(&self, event: &AuditEvent) {
        let mut state = match self.state.lock() {
            Ok(state) => state,
            Err(poisoned) => poisoned.into_inner(),
        };
        if state.failed {
            return;
        }
        let Ok(event_json) = serde_json::to_vec(event) else {
            return;
        };
        let mac = seal(&self.key, &state.prev, state.seq, &event_json);
        let line = Sealed {
            seq: state.seq,
            prev: std::mem::take(&mut state.prev),
            event: event.clone(),
            mac: mac.clone(),
        };
        let written = serde_json::to_vec(&line)
            .map_err(std::io::Error::other)
            .and_then(|mut bytes| {
                bytes.push(b'\n');
                state.writer.write_all(&bytes)?;
                state.writer.flush()
            });
        match written {
            Ok(()) => {
                state.seq += 1;
                state.prev = mac;
            }
            Err(err) => {
                state.failed = true;
                tracing::error!(target: "safeguard::audit", error = %err, "audit log write failed; the chain stops here");
            }
        }
    }
}

impl<W> fmt::Debug for ChainedLog<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainedLog").finish_non_exhaustive()
    }
}

/// Where and why an audit chain failed verification.
///
/// ```
/// use safeguard::audit::verify_chain;
/// # let key = safeguard::keys::SecretKey::from_bytes(vec![1u8; 32])?;
/// let err = verify_chain(&b"not json\n"[..], &key).unwrap_err();
/// assert_eq!(err.line, 1);
/// # Ok::<(), safeguard::keys::KeyError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainError {
    /// The 1-based line number of the first bad line.
    pub line: u64,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "audit chain broken at line {}: {}",
            self.line, self.reason
        )
    }
}

impl std::error::Error for ChainError {}

/// Verifies a chain written by [`ChainedLog`] and returns how many events it holds.
///
/// ```
/// use safeguard::audit::verify_chain;
/// # let key = safeguard::keys::SecretKey::from_bytes(vec![1u8; 32])?;
/// assert_eq!(verify_chain(&b""[..], &key).unwrap(), 0);
/// # Ok::<(), safeguard::keys::KeyError>(())
/// ```
pub fn verify_chain(reader: impl BufRead, key: &SecretKey) -> Result<u64, ChainError> {
    verify_chain_tail(reader, key).map(|(count, _)| count)
}

/// Like [`verify_chain`], and also returns the last seal, to [`ChainedLog::resume`] the chain.
///
/// ```
/// use safeguard::audit::verify_chain_tail;
/// # let key = safeguard::keys::SecretKey::from_bytes(vec![1u8; 32])?;
/// assert_eq!(verify_chain_tail(&b""[..], &key).unwrap(), (0, String::new()));
/// # Ok::<(), safeguard::keys::KeyError>(())
/// ```
pub fn verify_chain_tail(
    reader: impl BufRead,
    key: &SecretKey,
) -> Result<(u64, String), ChainError> {
    let mut expected_seq = 0u64;
    let mut prev = String::new();
    for (index, line) in reader.lines().enumerate() {
        let err = |reason| ChainError {
            line: index as u64 + 1,
            reason,
        };
        let line = line.map_err(|_| err("unreadable line"))?;
        if line.trim().is_empty() {
            return Err(err("empty line"));
        }
        let sealed: Sealed = serde_json::from_str(&line).map_err(|_| err("not a sealed record"))?;
        if sealed.seq != expected_seq {
            return Err(err(
                "sequence number out of order (a line was removed or inserted)",
            ));
        }
        if sealed.prev != prev {
            return Err(err(
                "previous seal does not match (a line was removed or reordered)",
            ));
        }
        let event_json = serde_json::to_vec(&sealed.event).map_err(|_| err("bad event"))?;
        let expected = seal(key, &prev, sealed.seq, &event_json);
        if !crate::keys::constant_time_eq(expected.as_bytes(), sealed.mac.as_bytes()) {
            return Err(err("seal does not match (the record was altered)"));
        }
        expected_seq += 1;
        prev = sealed.mac;
    }
    Ok((expected_seq, prev))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        SecretKey::from_bytes(vec![0x33; 32]).unwrap()
    }

    fn chain(n: usize) -> Vec<String> {
        let log = ChainedLog::new(Vec::new(), key());
        for i in 0..n {
            log.record(&AuditEvent::new("decision").detail("i", i));
        }
        String::from_utf8(log.into_inner())
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    fn verify(lines: &[String]) -> Result<u64, ChainError> {
        let text = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
        verify_chain(text.as_bytes(), &key())
    }

    #[test]
    fn every_kind_of_tampering_is_detected_at_its_line() {
        let lines = chain(5);
        assert_eq!(verify(&lines), Ok(5));
        let mut removed = lines.clone();
        removed.remove(2);
        assert_eq!(verify(&removed).unwrap_err().line, 3);
        let mut swapped = lines.clone();
        swapped.swap(1, 3);
        assert_eq!(verify(&swapped).unwrap_err().line, 2);
        let mut edited = lines.clone();
        edited[4] = edited[4].replace("\"i\":4", "\"i\":9");
        assert_eq!(verify(&edited).unwrap_err().line, 5);
        let mut duplicated = lines.clone();
        duplicated.insert(1, lines[0].clone());
        assert_eq!(verify(&duplicated).unwrap_err().line, 2);
        let other_key = SecretKey::from_bytes(vec![0x34; 32]).unwrap();
        let text = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
        assert_eq!(
            verify_chain(text.as_bytes(), &other_key).unwrap_err().line,
            1
        );
    }

    #[test]
    fn write_failure_stops_the_chain_without_panicking() {
        struct Broken;
        impl Write for Broken {
            fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk full"))
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let log = ChainedLog::new(Broken, key());
        log.record(&AuditEvent::new("a"));
        log.record(&AuditEvent::new("b"));
    }
}
