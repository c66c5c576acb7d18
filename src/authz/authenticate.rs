//! Authentication: turning request parts into a [`Principal`], or refusing the credentials.

use std::fmt;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::request::Parts;
use http::{HeaderName, HeaderValue, header};
use ring::digest;

use crate::Principal;

/// A boxed, sendable future, as returned by asynchronous hooks.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// What authentication concluded: an authenticated principal, an anonymous caller (no
/// credentials presented), or a [`Rejection`] (credentials presented and refused).
pub type AuthResult = Result<Option<Principal>, Rejection>;

/// Credentials were presented and refused. The layer answers `401` with `WWW-Authenticate`,
/// even on public routes: a caller who sends a bad key learns that it is bad.
///
/// The reason goes to decision events only, never to the client.
///
/// ```
/// use safeguard::authz::Rejection;
/// assert_eq!(Rejection::invalid().reason(), "invalid_credentials");
/// assert_eq!(Rejection::new("revoked").reason(), "revoked");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rejection {
    reason: &'static str,
}

impl Rejection {
    /// A rejection with a reason for the decision events (a short, static, snake_case word).
    ///
    /// ```
    /// assert_eq!(safeguard::authz::Rejection::new("locked").reason(), "locked");
    /// ```
    pub const fn new(reason: &'static str) -> Self {
        Self { reason }
    }

    /// Unknown or malformed credentials.
    ///
    /// ```
    /// assert_eq!(safeguard::authz::Rejection::invalid().reason(), "invalid_credentials");
    /// ```
    pub const fn invalid() -> Self {
        Self::new("invalid_credentials")
    }

    /// Credentials that were valid once and have expired.
    ///
    /// ```
    /// assert_eq!(safeguard::authz::Rejection::expired().reason(), "expired_credentials");
    /// ```
    pub const fn expired() -> Self {
        Self::new("expired_credentials")
    }

    /// The reason, for events.
    ///
    /// ```
    /// assert_eq!(safeguard::authz::Rejection::expired().reason(), "expired_credentials");
    /// ```
    pub const fn reason(&self) -> &'static str {
        self.reason
    }
}

/// The outcome of [`Authenticate::authenticate`]: ready now, or a future.
///
/// Closures return anything that converts into it: `Option<Principal>`,
/// `Result<Principal, Rejection>`, `Result<Option<Principal>, Rejection>`, or
/// [`AuthOutcome::future`] for asynchronous work.
///
/// ```
/// use safeguard::Principal;
/// use safeguard::authz::AuthOutcome;
///
/// let ready: AuthOutcome = Some(Principal::new("u1")).into();
/// assert!(ready.is_ready());
/// let later = AuthOutcome::future(async { Ok(None) });
/// assert!(!later.is_ready());
/// ```
pub struct AuthOutcome(pub(crate) OutcomeInner);

pub(crate) enum OutcomeInner {
    Ready(AuthResult),
    Pending(BoxFuture<AuthResult>),
}

impl AuthOutcome {
    /// An outcome computed asynchronously (token introspection, a database lookup). The future
    /// must own what it needs: copy the header values out of the request parts first.
    ///
    /// ```
    /// use safeguard::authz::AuthOutcome;
    /// let outcome = AuthOutcome::future(async { Ok(None) });
    /// assert!(!outcome.is_ready());
    /// ```
    pub fn future<F>(future: F) -> Self
    where
        F: Future<Output = AuthResult> + Send + 'static,
    {
        Self(OutcomeInner::Pending(Box::pin(future)))
    }

    /// Whether the outcome is already known.
    ///
    /// ```
    /// use safeguard::authz::{AuthOutcome, Rejection};
    /// assert!(AuthOutcome::from(Err::<safeguard::Principal, _>(Rejection::invalid())).is_ready());
    /// ```
    pub fn is_ready(&self) -> bool {
        matches!(self.0, OutcomeInner::Ready(_))
    }
}

impl fmt::Debug for AuthOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            OutcomeInner::Ready(r) => f.debug_tuple("AuthOutcome::Ready").field(r).finish(),
            OutcomeInner::Pending(_) => f.write_str("AuthOutcome::Pending"),
        }
    }
}

impl From<AuthResult> for AuthOutcome {
    fn from(result: AuthResult) -> Self {
        Self(OutcomeInner::Ready(result))
    }
}

impl From<Result<Principal, Rejection>> for AuthOutcome {
    fn from(result: Result<Principal, Rejection>) -> Self {
        Self(OutcomeInner::Ready(result.map(Some)))
    }
}

impl From<Option<Principal>> for AuthOutcome {
    fn from(principal: Option<Principal>) -> Self {
        Self(OutcomeInner::Ready(Ok(principal)))
    }
}

impl From<Principal> for AuthOutcome {
    fn from(principal: Principal) -> Self {
        Self(OutcomeInner::Ready(Ok(Some(principal))))
    }
}

/// Turns the parts of a request into a [`Principal`] (or none, or a rejection).
///
/// Implemented for closures `Fn(&Parts) -> R` where `R: Into<AuthOutcome>`, so a synchronous
/// check returns `Option<Principal>` or a `Result`, and an asynchronous one returns
/// [`AuthOutcome::future`]. Built in: [`ApiKeys`] and [`PrincipalFromExtensions`].
///
/// ```
/// use http::request::Parts;
/// use safeguard::Principal;
/// use safeguard::authz::{Authenticate, AuthOutcome, Rejection};
///
/// // Synchronous: a header set by a trusted gateway (strip it at the edge!).
/// let sync = |parts: &Parts| match parts.headers.get("x-gateway-user") {
///     Some(v) => v.to_str().map(|s| Some(Principal::new(s))).map_err(|_| Rejection::invalid()),
///     None => Ok(None),
/// };
/// // Asynchronous: copy what the future needs, then do the slow work.
/// let slow = |parts: &Parts| {
///     let token = parts.headers.get("authorization").cloned();
///     AuthOutcome::future(async move { Ok(token.map(|_| Principal::new("from-introspection"))) })
/// };
///
/// let (parts, ()) = http::Request::builder().header("x-gateway-user", "u7").body(()).unwrap().into_parts();
/// assert!(sync.authenticate(&parts).is_ready());
/// assert!(!slow.authenticate(&parts).is_ready());
/// ```
pub trait Authenticate: Send + Sync + 'static {
    /// Authenticates one request. Must not panic; malformed credentials are a [`Rejection`].
    fn authenticate(&self, parts: &Parts) -> AuthOutcome;

    /// The `WWW-Authenticate` challenge sent with `401` responses.
    ///
    /// ```
    /// use safeguard::authz::{Authenticate, PrincipalFromExtensions};
    /// assert_eq!(PrincipalFromExtensions.challenge(), "Bearer");
    /// ```
    fn challenge(&self) -> HeaderValue {
        HeaderValue::from_static("Bearer")
    }
}

impl<F, R> Authenticate for F
where
    F: Fn(&Parts) -> R + Send + Sync + 'static,
    R: Into<AuthOutcome>,
{
    fn authenticate(&self, parts: &Parts) -> AuthOutcome {
        self(parts).into()
    }
}

impl<A: Authenticate + ?Sized> Authenticate for Arc<A> {
    fn authenticate(&self, parts: &Parts) -> AuthOutcome {
        (**self).authenticate(parts)
    }

    fn challenge(&self) -> HeaderValue {
        (**self).challenge()
    }
}

/// Trusts the [`Principal`] that an earlier layer of the service put in the request extensions
/// (clients cannot set extensions). No principal there means anonymous.
///
/// ```
/// use safeguard::Principal;
/// use safeguard::authz::{Authenticate, PrincipalFromExtensions};
///
/// let mut req = http::Request::new(());
/// req.extensions_mut().insert(Principal::new("u1"));
/// let (parts, ()) = req.into_parts();
/// let outcome = format!("{:?}", PrincipalFromExtensions.authenticate(&parts));
/// assert!(outcome.contains("u1"));
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct PrincipalFromExtensions;

impl Authenticate for PrincipalFromExtensions {
    fn authenticate(&self, parts: &Parts) -> AuthOutcome {
        AuthOutcome(OutcomeInner::Ready(Ok(parts
            .extensions
            .get::<Principal>()
            .cloned())))
    }
}

/// The longest API key accepted, in bytes; longer values are refused before hashing.
pub const MAX_API_KEY_LEN: usize = 1024;

/// API keys, stored only as SHA-256 digests and compared in constant time.
///
/// Each key maps to a [`Principal`]; a principal may have several keys (rotation), and each key
/// may expire. The key is read from the `X-Api-Key` header by default, or from
/// `Authorization: Bearer <key>` with [`ApiKeys::bearer`]. No key means anonymous; an unknown,
/// expired, repeated or malformed key is a [`Rejection`].
///
/// Keys belong in a file or an environment variable, in the format of [`ApiKeys::parse`]; the
/// plaintext key never has to reach the service at all.
///
/// ```
/// use std::time::{Duration, SystemTime};
/// use safeguard::Principal;
/// use safeguard::authz::{ApiKeys, Authenticate};
///
/// // In tests, generate keys; in production, load digests with `ApiKeys::from_file`.
/// let key = ApiKeys::generate_key().unwrap();
/// let keys = ApiKeys::new().with_key(&key, Principal::new("svc-billing").with_role("billing"));
///
/// let (parts, ()) = http::Request::builder().header("x-api-key", &key).body(()).unwrap().into_parts();
/// assert!(format!("{:?}", keys.authenticate(&parts)).contains("svc-billing"));
///
/// let (parts, ()) = http::Request::builder().header("x-api-key", "nope").body(()).unwrap().into_parts();
/// assert!(format!("{:?}", keys.authenticate(&parts)).contains("invalid_credentials"));
/// ```
#[derive(Clone)]
pub struct ApiKeys {
    source: KeySource,
    entries: Vec<KeyEntry>,
    clock: Arc<dyn Fn() -> SystemTime + Send + Sync>,
}

#[derive(Clone, Debug)]
enum KeySource {
    Header(HeaderName),
    Bearer,
}

#[derive(Clone)]
struct KeyEntry {
    digest: [u8; 32],
    principal: Principal,
    expires: Option<SystemTime>,
}

impl Default for ApiKeys {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ApiKeys {
    // Digests are not keys, but there is no reason to print them either.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiKeys")
            .field("source", &self.source)
            .field("keys", &self.entries.len())
            .finish_non_exhaustive()
    }
}

/// An error in an API key file or variable. Carries the line number, never the line.
///
/// ```
/// let err = safeguard::authz::ApiKeys::parse("not-a-digest alice").unwrap_err();
/// assert!(err.to_string().contains("line 1"));
/// ```
#[derive(Debug)]
pub struct KeyFileError {
    line: usize,
    what: &'static str,
}

impl fmt::Display for KeyFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "API keys: {}", self.what)
        } else {
            write!(f, "API keys, line {}: {}", self.line, self.what)
        }
    }
}

impl std::error::Error for KeyFileError {}

impl ApiKeys {
    /// An empty key set reading the `X-Api-Key` header. An empty set rejects every key.
    ///
    /// ```
    /// assert_eq!(safeguard::authz::ApiKeys::new().len(), 0);
    /// ```
    pub fn new() -> Self {
        Self {
            source: KeySource::Header(HeaderName::from_static("x-api-key")),
            entries: Vec::new(),
            clock: Arc::new(SystemTime::now),
        }
    }

    /// Reads the key from another header.
    ///
    /// ```
    /// use http::HeaderName;
    /// let keys = safeguard::authz::ApiKeys::new().header(HeaderName::from_static("x-token"));
    /// assert!(format!("{keys:?}").contains("x-token"));
    /// ```
    pub fn header(mut self, name: HeaderName) -> Self {
        self.source = KeySource::Header(name);
        self
    }

    /// Reads the key from `Authorization: Bearer <key>`.
    ///
    /// ```
    /// let keys = safeguard::authz::ApiKeys::new().bearer();
    /// assert!(format!("{keys:?}").contains("Bearer"));
    /// ```
    pub fn bearer(mut self) -> Self {
        self.source = KeySource::Bearer;
        self
    }

    /// Uses another clock for expiry checks (tests).
    ///
    /// ```
    /// use std::time::{Duration, UNIX_EPOCH};
    /// let keys = safeguard::authz::ApiKeys::new().with_clock(|| UNIX_EPOCH + Duration::from_secs(5));
    /// assert_eq!(keys.len(), 0);
    /// ```
    pub fn with_clock<C>(mut self, clock: C) -> Self
    where
        C: Fn() -> SystemTime + Send + Sync + 'static,
    {
        self.clock = Arc::new(clock);
        self
    }

    /// Adds a key for a principal. Only the key's SHA-256 digest is kept.
    ///
    /// ```
    /// use safeguard::{Principal, authz::ApiKeys};
    /// let p = Principal::new("u1");
    /// let keys = ApiKeys::new().with_key(b"k-one", p.clone()).with_key(b"k-two", p);
    /// assert_eq!(keys.len(), 2);
    /// ```
    pub fn with_key(self, key: impl AsRef<[u8]>, principal: Principal) -> Self {
        self.with_digest(Self::digest(key.as_ref()), principal, None)
    }

    /// Adds a key that stops working at `expires`.
    ///
    /// ```
    /// use std::time::{Duration, SystemTime};
    /// use safeguard::{Principal, authz::ApiKeys};
    /// let keys = ApiKeys::new()
    ///     .with_expiring_key(b"old", Principal::new("u1"), SystemTime::now() + Duration::from_secs(60));
    /// assert_eq!(keys.len(), 1);
    /// ```
    pub fn with_expiring_key(
        self,
        key: impl AsRef<[u8]>,
        principal: Principal,
        expires: SystemTime,
    ) -> Self {
        self.with_digest(Self::digest(key.as_ref()), principal, Some(expires))
    }

    /// Adds a key by its SHA-256 digest (as [`ApiKeys::hash_key`] computes it).
    ///
    /// ```
    /// use safeguard::{Principal, authz::ApiKeys};
    /// let keys = ApiKeys::new().with_digest(ApiKeys::digest(b"k"), Principal::new("u1"), None);
    /// assert_eq!(keys.len(), 1);
    /// ```
    pub fn with_digest(
        mut self,
        digest: [u8; 32],
        principal: Principal,
        expires: Option<SystemTime>,
    ) -> Self {
        self.entries.push(KeyEntry {
            digest,
            principal,
            expires,
        });
        self
    }

    /// The number of keys.
    ///
    /// ```
    /// assert!(safeguard::authz::ApiKeys::new().is_empty());
    /// ```
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no keys.
    ///
    /// ```
    /// assert!(safeguard::authz::ApiKeys::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The SHA-256 digest of a key.
    ///
    /// ```
    /// let d = safeguard::authz::ApiKeys::digest(b"abc");
    /// assert_eq!(d[0], 0xba);
    /// ```
    pub fn digest(key: &[u8]) -> [u8; 32] {
        let d = digest::digest(&digest::SHA256, key);
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        out
    }

    /// The line to put in a key file for `key`: `sha256:` and the hex digest.
    ///
    /// ```
    /// let line = safeguard::authz::ApiKeys::hash_key(b"abc");
    /// assert!(line.starts_with("sha256:ba7816bf"));
    /// ```
    pub fn hash_key(key: &[u8]) -> String {
        let mut s = String::with_capacity(7 + 64);
        s.push_str("sha256:");
        for b in Self::digest(key) {
            s.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
            s.push(char::from(b"0123456789abcdef"[usize::from(b & 0xf)]));
        }
        s
    }

    /// A fresh random key (32 bytes from the system CSPRNG, base64url): for tests and for
    /// issuing keys. `None` if the system has no randomness to give.
    ///
    /// ```
    /// let k = safeguard::authz::ApiKeys::generate_key().unwrap();
    /// assert_eq!(k.len(), 43);
    /// ```
    pub fn generate_key() -> Option<String> {
        use base64::Engine as _;
        use ring::rand::SecureRandom as _;
        let mut bytes = [0u8; 32];
        ring::rand::SystemRandom::new().fill(&mut bytes).ok()?;
        Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Parses keys, one per line: `sha256:<64 hex digits> <subject>` followed by optional
    /// `tenant=<t>`, `roles=<a,b>`, `permissions=<x,y>` and `expires=<unix seconds>`. Blank lines
    /// and lines starting with `#` are skipped. Errors name the line, never its content.
    ///
    /// ```
    /// use safeguard::authz::ApiKeys;
    /// let text = format!(
    ///     "# billing service\n{} svc-billing tenant=acme roles=billing permissions=invoices:read expires=4102444800\n",
    ///     ApiKeys::hash_key(b"example-only"),
    /// );
    /// let keys = ApiKeys::parse(&text).unwrap();
    /// assert_eq!(keys.len(), 1);
    /// assert!(ApiKeys::parse("sha256:00 svc").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, KeyFileError> {
        let mut keys = Self::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let err = |what| KeyFileError { line: n + 1, what };
            let mut words = line.split_ascii_whitespace();
            let digest = words
                .next()
                .and_then(|w| w.strip_prefix("sha256:"))
                .and_then(parse_hex32)
                .ok_or_else(|| err("expected `sha256:` and 64 hex digits"))?;
            let subject = words.next().ok_or_else(|| err("missing subject"))?;
            let mut principal = Principal::new(subject);
            let mut expires = None;
            for word in words {
                let (k, v) = word
                    .split_once('=')
                    .ok_or_else(|| err("expected key=value"))?;
                match k {
                    "tenant" => principal = principal.with_tenant(v),
                    "roles" => {
                        principal = principal.with_roles(v.split(',').filter(|s| !s.is_empty()))
                    }
                    "permissions" => {
                        principal =
                            principal.with_permissions(v.split(',').filter(|s| !s.is_empty()))
                    }
                    "expires" => {
                        let secs: u64 =
                            v.parse().map_err(|_| err("expires must be unix seconds"))?;
                        expires = Some(UNIX_EPOCH + Duration::from_secs(secs));
                    }
                    _ => return Err(err("unknown attribute")),
                }
            }
            keys = keys.with_digest(digest, principal, expires);
        }
        Ok(keys)
    }

    /// Reads keys from a file in the format of [`ApiKeys::parse`].
    ///
    /// ```
    /// let err = safeguard::authz::ApiKeys::from_file("/nonexistent/keys").unwrap_err();
    /// assert!(err.to_string().contains("cannot read"));
    /// ```
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, KeyFileError> {
        let text = std::fs::read_to_string(path).map_err(|_| KeyFileError {
            line: 0,
            what: "cannot read the key file",
        })?;
        Self::parse(&text)
    }

    /// Reads keys from an environment variable in the format of [`ApiKeys::parse`] (lines may
    /// also be separated by `;`).
    ///
    /// ```
    /// let err = safeguard::authz::ApiKeys::from_env("SAFEGUARD_DOCTEST_UNSET_VAR").unwrap_err();
    /// assert!(err.to_string().contains("not set"));
    /// ```
    pub fn from_env(var: &str) -> Result<Self, KeyFileError> {
        let text = std::env::var(var).map_err(|_| KeyFileError {
            line: 0,
            what: "environment variable not set or not UTF-8",
        })?;
        Self::parse(&text.replace(';', "\n"))
    }

    fn presented<'a>(&self, parts: &'a Parts) -> Result<Option<&'a [u8]>, Rejection> {
        let name = match &self.source {
            KeySource::Header(name) => name,
            KeySource::Bearer => &header::AUTHORIZATION,
        };
        let mut values = parts.headers.get_all(name).iter();
        let Some(value) = values.next() else {
            return Ok(None);
        };
        if values.next().is_some() {
            // Two credentials: which one would a downstream component read? Refuse both.
            return Err(Rejection::new("ambiguous_credentials"));
        }
        let bytes = value.as_bytes();
        let key = match self.source {
            KeySource::Header(_) => bytes,
            KeySource::Bearer => {
                let Some(scheme) = bytes.get(..7) else {
                    return Ok(None);
                };
                if !scheme.eq_ignore_ascii_case(b"bearer ") {
                    // Another scheme is not an API key; the caller is anonymous to us.
                    return Ok(None);
                }
                &bytes[7..]
            }
        };
        let key = key.trim_ascii();
        if key.is_empty()
            || key.len() > MAX_API_KEY_LEN
            || !key.iter().all(|b| b.is_ascii_graphic())
        {
            return Err(Rejection::invalid());
        }
        Ok(Some(key))
    }

    fn lookup(&self, key: &[u8]) -> AuthResult {
        let presented = Self::digest(key);
        // Compare against every stored digest, without early exit, so timing does not tell
        // whether or where a key matched.
        let mut found: Option<&KeyEntry> = None;
        for entry in &self.entries {
            if ct_eq(&presented, &entry.digest) {
                found = Some(entry);
            }
        }
        let entry = found.ok_or(Rejection::invalid())?;
        if let Some(expires) = entry.expires {
            if (self.clock)() >= expires {
                return Err(Rejection::expired());
            }
        }
        Ok(Some(entry.principal.clone()))
    }
}

fn ct_eq(a: &[u8; 32], b: &[u8; 32]) -> bool {
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    let s = s.as_bytes();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in s.chunks_exact(2).enumerate() {
        let hi = (pair[0] as char).to_digit(16)?;
        let lo = (pair[1] as char).to_digit(16)?;
        out[i] = u8::try_from(hi << 4 | lo).ok()?;
    }
    Some(out)
}

impl Authenticate for ApiKeys {
    fn authenticate(&self, parts: &Parts) -> AuthOutcome {
        let result = match self.presented(parts) {
            Ok(Some(key)) => self.lookup(key),
            Ok(None) => Ok(None),
            Err(r) => Err(r),
        };
        AuthOutcome(OutcomeInner::Ready(result))
    }

    fn challenge(&self) -> HeaderValue {
        match self.source {
            KeySource::Bearer => HeaderValue::from_static("Bearer"),
            KeySource::Header(_) => HeaderValue::from_static("ApiKey"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(headers: &[(&str, &str)]) -> Parts {
        let mut b = http::Request::builder();
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    fn result(a: &impl Authenticate, p: &Parts) -> AuthResult {
        match a.authenticate(p).0 {
            OutcomeInner::Ready(r) => r,
            OutcomeInner::Pending(_) => panic!("pending"),
        }
    }

    #[test]
    fn rotation_expiry_and_ambiguity() {
        let now = UNIX_EPOCH + Duration::from_secs(1000);
        let p = Principal::new("u1");
        let keys = ApiKeys::new()
            .with_key("new-key", p.clone())
            .with_expiring_key("old-key", p.clone(), UNIX_EPOCH + Duration::from_secs(2000))
            .with_expiring_key("dead-key", p, UNIX_EPOCH + Duration::from_secs(1000))
            .with_clock(move || now);
        for k in ["new-key", "old-key"] {
            assert_eq!(
                result(&keys, &parts(&[("x-api-key", k)]))
                    .unwrap()
                    .unwrap()
                    .subject(),
                "u1"
            );
        }
        assert_eq!(
            result(&keys, &parts(&[("x-api-key", "dead-key")])),
            Err(Rejection::expired())
        );
        assert_eq!(
            result(&keys, &parts(&[("x-api-key", "nope")])),
            Err(Rejection::invalid())
        );
        assert_eq!(result(&keys, &parts(&[])), Ok(None));
        assert!(
            result(
                &keys,
                &parts(&[("x-api-key", "new-key"), ("x-api-key", "new-key")])
            )
            .is_err()
        );
        assert!(result(&keys, &parts(&[("x-api-key", "")])).is_err());
    }

    #[test]
    fn bearer_and_file_format() {
        let key = ApiKeys::generate_key().unwrap();
        let text = format!(
            "{} svc roles=a,b tenant=t1\n\n# c\n",
            ApiKeys::hash_key(key.as_bytes())
        );
        let keys = ApiKeys::parse(&text).unwrap().bearer();
        let auth = format!("Bearer {key}");
        let p = result(&keys, &parts(&[("authorization", &auth)]))
            .unwrap()
            .unwrap();
        assert!(p.has_role("b"));
        assert_eq!(p.tenant(), Some("t1"));
        assert_eq!(
            result(&keys, &parts(&[("authorization", "Basic eDp5")])),
            Ok(None)
        );
        assert!(ApiKeys::parse("sha256:zz svc").is_err());
        assert!(ApiKeys::parse(&format!("{} svc bogus", ApiKeys::hash_key(b"x"))).is_err());
    }
}
