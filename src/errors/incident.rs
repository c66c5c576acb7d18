//! Incident ids: the one token that joins what the client sees to what the server logged.

use std::fmt;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use http::{HeaderValue, StatusCode};
use ring::rand::{SecureRandom, SystemRandom};

use super::rejection::RequestPart;
use super::scan::LeakKind;

/// The longest request id accepted as an incident id.
pub const MAX_ID_LEN: usize = 64;

/// The prefix of the `instance` URN of every incident.
pub const URN_PREFIX: &str = "urn:safeguard:incident:";

static RNG: LazyLock<SystemRandom> = LazyLock::new(SystemRandom::new);
static FALLBACK: AtomicU64 = AtomicU64::new(0);

/// An incident id: either a well-formed request id taken from the request, or 128 random bits in
/// hex. Always 1 to 64 characters of `[A-Za-z0-9._:-]`, so it is safe in headers, URNs and logs.
///
/// ```
/// use safeguard::errors::IncidentId;
/// let id = IncidentId::from_request_id(b"req-42").unwrap();
/// assert_eq!(id.as_str(), "req-42");
/// assert_eq!(id.urn(), "urn:safeguard:incident:req-42");
/// assert!(IncidentId::from_request_id(b"bad\nid").is_none());
/// assert_eq!(IncidentId::random().as_str().len(), 32);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IncidentId(String);

impl IncidentId {
    /// Accepts a request id if it is 1 to [`MAX_ID_LEN`] bytes of letters, digits, `.`, `_`, `:`
    /// or `-`; anything else could smuggle text into logs or headers, so it is refused.
    ///
    /// ```
    /// use safeguard::errors::IncidentId;
    /// assert!(IncidentId::from_request_id(b"0b6c1f7e-9a44-4c55-b1a8-7c1d2f7e9f10").is_some());
    /// assert!(IncidentId::from_request_id(b"").is_none());
    /// assert!(IncidentId::from_request_id(&[b'a'; 65]).is_none());
    /// assert!(IncidentId::from_request_id(b"a b").is_none());
    /// ```
    pub fn from_request_id(raw: &[u8]) -> Option<Self> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_ID_LEN
            && raw
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'));
        if !ok {
            return None;
        }
        // Checked above: every byte is ASCII.
        std::str::from_utf8(raw).ok().map(|s| Self(s.to_owned()))
    }

    /// A fresh random id (128 bits from the system CSPRNG, hex). If the system generator fails,
    /// falls back to a process-unique counter so an id is still produced.
    ///
    /// ```
    /// use safeguard::errors::IncidentId;
    /// assert_ne!(IncidentId::random(), IncidentId::random());
    /// ```
    pub fn random() -> Self {
        let mut bytes = [0u8; 16];
        if RNG.fill(&mut bytes).is_err() {
            let n = FALLBACK.fetch_add(1, Ordering::Relaxed);
            bytes[..8].copy_from_slice(&n.to_be_bytes());
            bytes[8..].copy_from_slice(&std::process::id().to_be_bytes().repeat(2));
        }
        let mut s = String::with_capacity(32);
        for b in bytes {
            s.push(hex(b >> 4));
            s.push(hex(b & 0xf));
        }
        Self(s)
    }

    /// The id as text.
    ///
    /// ```
    /// let id = safeguard::errors::IncidentId::from_request_id(b"abc").unwrap();
    /// assert_eq!(id.as_str(), "abc");
    /// ```
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The incident URN used as the problem document's `instance`.
    ///
    /// ```
    /// let id = safeguard::errors::IncidentId::from_request_id(b"abc").unwrap();
    /// assert_eq!(id.urn(), "urn:safeguard:incident:abc");
    /// ```
    pub fn urn(&self) -> String {
        format!("{URN_PREFIX}{}", self.0)
    }

    /// The id as a header value.
    ///
    /// ```
    /// let id = safeguard::errors::IncidentId::from_request_id(b"abc").unwrap();
    /// assert_eq!(id.header_value(), "abc");
    /// ```
    pub fn header_value(&self) -> HeaderValue {
        // The charset check (or hex) guarantees a valid header value; the fallback is unreachable
        // but keeps this total.
        HeaderValue::from_str(&self.0).unwrap_or_else(|_| HeaderValue::from_static("invalid"))
    }
}

impl fmt::Display for IncidentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn hex(n: u8) -> char {
    char::from(b"0123456789abcdef"[usize::from(n & 0xf)])
}

/// Why a response was rewritten.
///
/// ```
/// use safeguard::errors::IncidentKind;
/// assert_eq!(IncidentKind::Panic.as_str(), "panic");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum IncidentKind {
    /// The inner service panicked (in `call`, in its future or in its body).
    Panic,
    /// The inner service answered with a status at or above the threshold.
    ServerError,
    /// The inner service returned `Err`.
    ServiceError,
    /// A client-error body looked like leaked internals.
    Leak(LeakKind),
    /// A framework rejection (axum extractor) was rewritten to say only which part was invalid.
    Rejection(RequestPart),
    /// A client-error body could not be inspected (e.g. it was compressed), so it was withheld.
    Unreadable,
}

impl IncidentKind {
    /// A stable snake_case name, used in logs.
    ///
    /// ```
    /// use safeguard::errors::IncidentKind;
    /// assert_eq!(IncidentKind::ServerError.as_str(), "server_error");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentKind::Panic => "panic",
            IncidentKind::ServerError => "server_error",
            IncidentKind::ServiceError => "service_error",
            IncidentKind::Leak(_) => "leak",
            IncidentKind::Rejection(_) => "rejection",
            IncidentKind::Unreadable => "unreadable",
        }
    }
}

/// What the problem hook gets: the incident's id, the status that will be sent and why.
///
/// ```
/// use http::StatusCode;
/// use safeguard::errors::{Incident, IncidentId, IncidentKind};
/// let i = Incident::new(IncidentId::random(), StatusCode::INTERNAL_SERVER_ERROR, IncidentKind::Panic);
/// assert_eq!(i.status, StatusCode::INTERNAL_SERVER_ERROR);
/// assert!(i.id.urn().starts_with("urn:safeguard:incident:"));
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Incident {
    /// The incident id (also in the response header and the `instance` URN).
    pub id: IncidentId,
    /// The status the client will get.
    pub status: StatusCode,
    /// Why the response was rewritten.
    pub kind: IncidentKind,
}

impl Incident {
    /// Builds an incident (mostly useful for testing problem hooks).
    ///
    /// ```
    /// use http::StatusCode;
    /// use safeguard::errors::{Incident, IncidentId, IncidentKind};
    /// let i = Incident::new(IncidentId::random(), StatusCode::BAD_GATEWAY, IncidentKind::ServerError);
    /// assert_eq!(i.kind, IncidentKind::ServerError);
    /// ```
    pub fn new(id: IncidentId, status: StatusCode, kind: IncidentKind) -> Self {
        Self { id, status, kind }
    }
}
