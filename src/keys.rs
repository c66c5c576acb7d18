//! Keys for keyed pseudonyms (HMAC-SHA256), loaded from the environment or files.
//!
//! A [`KeyRing`] holds keys by id: one active key makes new pseudonyms, older keys stay during a
//! rotation so that pseudonyms made with them can still be recognised ([`KeyRing::verify`]).
//! Keys never come from code: [`KeyRing::from_env`] and [`KeyRing::from_files`] read them, check
//! them at startup and fail with a clear [`KeyError`]. Key bytes are zeroized on drop and never
//! printed by `Debug`.
//!
//! ```
//! use safeguard::keys::KeyRing;
//!
//! // In production the deployment provides the key files (or `KeyRing::from_env`'s variable);
//! // here the example writes two.
//! # let dir = std::env::temp_dir().join(format!("safeguard-doc-keys-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! # std::fs::write(dir.join("k2"), "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY")?;
//! # std::fs::write(dir.join("k1"), "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA")?;
//! let ring = KeyRing::from_files([("k2", dir.join("k2")), ("k1", dir.join("k1"))])?;
//! assert_eq!(ring.active_id(), "k2");
//! let p = ring.pseudonym(b"alice@example.com", None);
//! assert!(p.starts_with("hmac:k2:"));
//! assert!(ring.verify(b"alice@example.com", None, &p));
//! assert!(!format!("{ring:?}").contains("MDEy"));
//! # std::fs::remove_dir_all(dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use ring::hmac;
use zeroize::Zeroizing;

/// The shortest key accepted, in bytes (256 bits, the HMAC-SHA256 output size).
pub const MIN_KEY_LEN: usize = 32;

/// How many bytes of the HMAC a pseudonym keeps by default (128 bits, 22 base64url characters).
pub const DEFAULT_PSEUDONYM_BYTES: usize = 16;

/// Why a key or key ring could not be loaded.
///
/// ```
/// use safeguard::keys::{KeyError, SecretKey};
/// let err = SecretKey::from_base64("c2hvcnQ").unwrap_err();
/// assert!(matches!(err, KeyError::TooShort { len: 5, .. }));
/// assert!(err.to_string().contains("at least 32 bytes"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum KeyError {
    /// The environment variable is not set or is not valid Unicode.
    MissingVar {
        /// The variable's name.
        var: String,
    },
    /// The key file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The key text is not valid base64 (standard or URL-safe, padded or not).
    InvalidBase64 {
        /// Where the key came from (variable, file or key id); never the key.
        origin: String,
    },
    /// The key has fewer than [`MIN_KEY_LEN`] bytes.
    TooShort {
        /// Where the key came from; never the key.
        origin: String,
        /// The key's length in bytes.
        len: usize,
    },
    /// A key id is empty or has characters other than ASCII letters, digits, `-`, `_` and `.`.
    InvalidId {
        /// The offending id.
        id: String,
    },
    /// Two keys have the same id.
    DuplicateId {
        /// The repeated id.
        id: String,
    },
    /// The key ring would be empty.
    Empty,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingVar { var } => write!(f, "environment variable {var} is not set"),
            Self::Io { path, source } => {
                write!(f, "cannot read key file {}: {source}", path.display())
            }
            Self::InvalidBase64 { origin } => write!(f, "key from {origin} is not valid base64"),
            Self::TooShort { origin, len } => write!(
                f,
                "key from {origin} has {len} bytes; keys must have at least {MIN_KEY_LEN} bytes"
            ),
            Self::InvalidId { id } => write!(
                f,
                "invalid key id {id:?}: use ASCII letters, digits, '-', '_' or '.'"
            ),
            Self::DuplicateId { id } => write!(f, "key id {id:?} appears twice"),
            Self::Empty => f.write_str("the key ring has no key"),
        }
    }
}

impl std::error::Error for KeyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// A secret HMAC key: at least 32 bytes, zeroized on drop, never shown by `Debug`.
///
/// ```
/// use safeguard::keys::SecretKey;
/// let key = SecretKey::from_bytes(vec![7u8; 32])?;
/// assert_eq!(key.len(), 32);
/// assert_eq!(format!("{key:?}"), "SecretKey(32 bytes)");
/// # Ok::<(), safeguard::keys::KeyError>(())
/// ```
pub struct SecretKey {
    bytes: Zeroizing<Vec<u8>>,
    // ring keeps the padded key state it derives; it lives exactly as long as the raw bytes.
    hmac: hmac::Key,
}

impl SecretKey {
    /// A key from raw bytes (at least [`MIN_KEY_LEN`]). The vector is moved in and zeroized on
    /// drop.
    ///
    /// ```
    /// use safeguard::keys::SecretKey;
    /// assert!(SecretKey::from_bytes(vec![1u8; 31]).is_err());
    /// assert!(SecretKey::from_bytes(vec![1u8; 32]).is_ok());
    /// ```
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, KeyError> {
        Self::checked(Zeroizing::new(bytes), "bytes")
    }

    fn checked(bytes: Zeroizing<Vec<u8>>, origin: &str) -> Result<Self, KeyError> {
        if bytes.len() < MIN_KEY_LEN {
            return Err(KeyError::TooShort {
                origin: origin.to_owned(),
                len: bytes.len(),
            });
        }
        let hmac = hmac::Key::new(hmac::HMAC_SHA256, &bytes);
        Ok(Self { bytes, hmac })
    }

    /// A key from base64 text (standard or URL-safe alphabet, padded or not; surrounding white
    /// space ignored).
    ///
    /// ```
    /// use safeguard::keys::SecretKey;
    /// let key = SecretKey::from_base64("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")?;
    /// assert_eq!(key.len(), 32);
    /// assert!(SecretKey::from_base64("not base64!").is_err());
    /// # Ok::<(), safeguard::keys::KeyError>(())
    /// ```
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        Self::from_base64_with_origin(text, "base64 text")
    }

    fn from_base64_with_origin(text: &str, origin: &str) -> Result<Self, KeyError> {
        let bytes = decode_base64(text.trim()).ok_or_else(|| KeyError::InvalidBase64 {
            origin: origin.to_owned(),
        })?;
        Self::checked(bytes, origin)
    }

    /// A key from an environment variable holding base64 text.
    ///
    /// ```
    /// use safeguard::keys::{KeyError, SecretKey};
    /// let err = SecretKey::from_env("DOC_SURELY_UNSET_VARIABLE").unwrap_err();
    /// assert!(matches!(err, KeyError::MissingVar { .. }));
    /// ```
    pub fn from_env(var: &str) -> Result<Self, KeyError> {
        let text = Zeroizing::new(std::env::var(var).map_err(|_| KeyError::MissingVar {
            var: var.to_owned(),
        })?);
        Self::from_base64_with_origin(&text, &format!("environment variable {var}"))
    }

    /// A key from a file. A file whose content (trimmed) is valid base64 of at least 32 bytes is
    /// decoded; any other content is taken as raw key bytes (e.g. `head -c 32 /dev/urandom`).
    ///
    /// ```
    /// use safeguard::keys::SecretKey;
    /// let path = std::env::temp_dir().join("safeguard-doc-key.bin");
    /// std::fs::write(&path, [42u8; 48])?;
    /// assert_eq!(SecretKey::from_file(&path)?.len(), 48);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, KeyError> {
        let path = path.as_ref();
        let raw = Zeroizing::new(std::fs::read(path).map_err(|source| KeyError::Io {
            path: path.to_owned(),
            source,
        })?);
        let origin = format!("file {}", path.display());
        if let Ok(text) = std::str::from_utf8(&raw) {
            if let Some(decoded) = decode_base64(text.trim()) {
                if decoded.len() >= MIN_KEY_LEN {
                    return Self::checked(decoded, &origin);
                }
            }
        }
        Self::checked(Zeroizing::new(raw.to_vec()), &origin)
    }

    /// The key's length in bytes.
    ///
    /// ```
    /// let key = safeguard::keys::SecretKey::from_bytes(vec![0u8; 40])?;
    /// assert_eq!(key.len(), 40);
    /// # Ok::<(), safeguard::keys::KeyError>(())
    /// ```
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Always `false`: a key has at least [`MIN_KEY_LEN`] bytes.
    ///
    /// ```
    /// let key = safeguard::keys::SecretKey::from_bytes(vec![0u8; 32])?;
    /// assert!(!key.is_empty());
    /// # Ok::<(), safeguard::keys::KeyError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// HMAC-SHA256 of `parts`, fed in order.
    pub(crate) fn sign(&self, parts: &[&[u8]]) -> hmac::Tag {
        let mut ctx = hmac::Context::with_key(&self.hmac);
        for part in parts {
            ctx.update(part);
        }
        ctx.sign()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretKey({} bytes)", self.bytes.len())
    }
}

fn decode_base64(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
        .into_iter()
        .find_map(|engine| engine.decode(text).ok())
        .map(Zeroizing::new)
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 32
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Keys by id for keyed pseudonyms: one active key for new pseudonyms, older keys kept for
/// [`KeyRing::verify`] during a rotation.
///
/// Pseudonyms have the form `hmac:<key id>:<base64url of the truncated HMAC-SHA256>`. The HMAC is
/// computed over the value's UTF-8 bytes; with a field tag it is computed over
/// `tag || 0x00 || value`, so the same value under two fields gives two unrelated pseudonyms.
///
/// ```
/// use safeguard::keys::{KeyRing, SecretKey};
/// let ring = KeyRing::new("k1", SecretKey::from_bytes(vec![9u8; 32])?)?;
/// let plain = ring.pseudonym(b"4111111111111111", None);
/// let tagged = ring.pseudonym(b"4111111111111111", Some(b"cardnumber"));
/// assert_ne!(plain, tagged);
/// assert_eq!(plain, ring.pseudonym(b"4111111111111111", None)); // deterministic
/// assert_eq!(plain.len(), "hmac:k1:".len() + 22);
/// # Ok::<(), safeguard::keys::KeyError>(())
/// ```
pub struct KeyRing {
    // Invariant: non-empty, ids unique and valid; index 0 is the active key.
    keys: Vec<(Box<str>, SecretKey)>,
    truncate_to: usize,
}

impl KeyRing {
    /// A ring with one key, which is active.
    ///
    /// ```
    /// use safeguard::keys::{KeyRing, SecretKey};
    /// let ring = KeyRing::new("2026-11", SecretKey::from_bytes(vec![1u8; 32])?)?;
    /// assert_eq!(ring.active_id(), "2026-11");
    /// # Ok::<(), safeguard::keys::KeyError>(())
    /// ```
    pub fn new(id: &str, key: SecretKey) -> Result<Self, KeyError> {
        if !valid_id(id) {
            return Err(KeyError::InvalidId { id: id.to_owned() });
        }
        Ok(Self {
            keys: vec![(id.into(), key)],
            truncate_to: DEFAULT_PSEUDONYM_BYTES,
        })
    }

    /// Adds an older key, kept so pseudonyms made with it can still be verified. The active key
    /// stays the same.
    ///
    /// ```
    /// use safeguard::keys::{KeyRing, SecretKey};
    /// let ring = KeyRing::new("k2", SecretKey::from_bytes(vec![2u8; 32])?)?
    ///     .with_previous("k1", SecretKey::from_bytes(vec![1u8; 32])?)?;
    /// assert_eq!(ring.ids().collect::<Vec<_>>(), ["k2", "k1"]);
    /// # Ok::<(), safeguard::keys::KeyError>(())
    /// ```
    pub fn with_previous(mut self, id: &str, key: SecretKey) -> Result<Self, KeyError> {
        if !valid_id(id) {
            return Err(KeyError::InvalidId { id: id.to_owned() });
        }
        if self.keys.iter().any(|(existing, _)| &**existing == id) {
            return Err(KeyError::DuplicateId { id: id.to_owned() });
        }
        self.keys.push((id.into(), key));
        Ok(self)
    }

    /// How many bytes of the HMAC a pseudonym keeps: clamped to 8..=32, default 16.
    ///
    /// ```
    /// use safeguard::keys::{KeyRing, SecretKey};
    /// let ring = KeyRing::new("k1", SecretKey::from_bytes(vec![1u8; 32])?)?.truncate_to(32);
    /// assert_eq!(ring.pseudonym(b"x", None).len(), "hmac:k1:".len() + 43);
    /// # Ok::<(), safeguard::keys::KeyError>(())
    /// ```
    pub fn truncate_to(mut self, bytes: usize) -> Self {
        self.truncate_to = bytes.clamp(8, 32);
        self
    }

    /// Loads a ring from an environment variable of the form `id:base64[,id:base64...]`; the
    /// first key is active, the others are previous keys. A value without `:` is one key with id
    /// `k1`.
    ///
    /// ```
    /// use safeguard::keys::{KeyError, KeyRing};
    /// // Unset (or too short, or not base64): a clear error at startup, never the key's bytes.
    /// let err = KeyRing::from_env("DOC_SURELY_UNSET_KEYS").unwrap_err();
    /// assert!(matches!(err, KeyError::MissingVar { .. }));
    /// assert!(err.to_string().contains("DOC_SURELY_UNSET_KEYS"));
    /// ```
    pub fn from_env(var: &str) -> Result<Self, KeyError> {
        let text = Zeroizing::new(std::env::var(var).map_err(|_| KeyError::MissingVar {
            var: var.to_owned(),
        })?);
        Self::parse(&text, &format!("environment variable {var}"))
    }

    fn parse(text: &str, origin: &str) -> Result<Self, KeyError> {
        let mut ring: Option<Self> = None;
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (id, b64) = entry.split_once(':').unwrap_or(("k1", entry));
            let origin = format!("{origin} (key {id})");
            let key = SecretKey::from_base64_with_origin(b64, &origin)?;
            ring = Some(match ring {
                None => Self::new(id.trim(), key)?,
                Some(ring) => ring.with_previous(id.trim(), key)?,
            });
        }
        ring.ok_or(KeyError::Empty)
    }

    /// Loads a ring from key files: `(id, path)` pairs, the first active. See
    /// [`SecretKey::from_file`] for the file format.
    ///
    /// ```
    /// use safeguard::keys::KeyRing;
    /// let dir = std::env::temp_dir();
    /// let (new, old) = (dir.join("safeguard-doc-k2"), dir.join("safeguard-doc-k1"));
    /// std::fs::write(&new, [2u8; 32])?;
    /// std::fs::write(&old, [1u8; 32])?;
    /// let ring = KeyRing::from_files([("k2", &new), ("k1", &old)])?;
    /// assert_eq!(ring.active_id(), "k2");
    /// # std::fs::remove_file(new)?; std::fs::remove_file(old)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_files<I, P>(files: I) -> Result<Self, KeyError>
    where
        I: IntoIterator<Item = (&'static str, P)>,
        P: AsRef<Path>,
    {
        let mut ring: Option<Self> = None;
        for (id, path) in files {
            let key = SecretKey::from_file(path)?;
            ring = Some(match ring {
                None => Self::new(id, key)?,
                Some(ring) => ring.with_previous(id, key)?,
            });
        }
        ring.ok_or(KeyError::Empty)
    }

    /// The id of the key that makes new pseudonyms.
    ///
    /// ```
    /// use safeguard::keys::{KeyRing, SecretKey};
    /// let ring = KeyRing::new("k9", SecretKey::from_bytes(vec![1u8; 32])?)?;
    /// assert_eq!(ring.active_id(), "k9");
    /// # Ok::<(), safeguard::keys::KeyError>(())
    /// ```
    pub fn active_id(&self) -> &str {
        &self.keys[0].0
    }

    /// All key ids, active first.
    ///
    /// ```
    /// use safeguard::keys::{KeyRing, SecretKey};
    /// let ring = KeyRing::new("k1", SecretKey::from_bytes(vec![1u8; 32])?)?;
    /// assert_eq!(ring.ids().count(), 1);
    /// # Ok::<(), safeguard::keys::KeyError>(())
    /// ```
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(id, _)| &**id)
    }

    /// The pseudonym of `value` under the active key, optionally tagged by field.
    ///
    /// ```
    /// use safeguard::keys::{KeyRing, SecretKey};
    /// let ring = KeyRing::new("k1", SecretKey::from_bytes(vec![1u8; 32])?)?;
    /// let p = ring.pseudonym(b"123-45-6789", Some(b"ssn"));
    /// assert!(p.starts_with("hmac:k1:") && !p.contains("6789"));
    /// # Ok::<(), safeguard::keys::KeyError>(())
    /// ```
    pub fn pseudonym(&self, value: &[u8], field_tag: Option<&[u8]>) -> String {
        let mut out = String::with_capacity(8 + self.keys[0].0.len() + 43);
        self.write_pseudonym(value, field_tag, &mut out);
        out
    }

    /// Appends the pseudonym of `value` to `out` (no allocation beyond `out`'s growth).
    ///
    /// ```
    /// use safeguard::keys::{KeyRing, SecretKey};
    /// let ring = KeyRing::new("k1", SecretKey::from_bytes(vec![1u8; 32])?)?;
    /// let mut out = String::from("id=");
    /// ring.write_pseudonym(b"alice", None, &mut out);
    /// assert!(out.starts_with("id=hmac:k1:"));
    /// # Ok::<(), safeguard::keys::KeyError>(())
    /// ```
    pub fn write_pseudonym(&self, value: &[u8], field_tag: Option<&[u8]>, out: &mut String) {
        let (id, key) = &self.keys[0];
        self.write_with(id, key, value, field_tag, out);
    }

    fn write_with(
        &self,
        id: &str,
        key: &SecretKey,
        value: &[u8],
        field_tag: Option<&[u8]>,
        out: &mut String,
    ) {
        let tag = match field_tag {
            Some(field) => key.sign(&[field, &[0], value]),
            None => key.sign(&[value]),
        };
        out.push_str("hmac:");
        out.push_str(id);
        out.push(':');
        URL_SAFE_NO_PAD.encode_string(&tag.as_ref()[..self.truncate_to], out);
    }

    /// Whether `pseudonym` is the pseudonym of `value` (with the same field tag) under any key in
    /// the ring, compared in constant time. Unknown key ids and malformed pseudonyms give `false`.
    ///
    /// ```
    /// use safeguard::keys::{KeyRing, SecretKey};
    /// let old = KeyRing::new("k1", SecretKey::from_bytes(vec![1u8; 32])?)?;
    /// let p = old.pseudonym(b"alice", None);
    /// let rotated = KeyRing::new("k2", SecretKey::from_bytes(vec![2u8; 32])?)?
    ///     .with_previous("k1", SecretKey::from_bytes(vec![1u8; 32])?)?;
    /// assert!(rotated.verify(b"alice", None, &p));
    /// assert!(!rotated.verify(b"bob", None, &p));
    /// # Ok::<(), safeguard::keys::KeyError>(())
    /// ```
    pub fn verify(&self, value: &[u8], field_tag: Option<&[u8]>, pseudonym: &str) -> bool {
        let Some(rest) = pseudonym.strip_prefix("hmac:") else {
            return false;
        };
        let Some((id, _)) = rest.split_once(':') else {
            return false;
        };
        let Some((id, key)) = self.keys.iter().find(|(k, _)| &**k == id) else {
            return false;
        };
        let mut expected = String::new();
        self.write_with(id, key, value, field_tag, &mut expected);
        constant_time_eq(expected.as_bytes(), pseudonym.as_bytes())
    }
}

/// Compares without an early exit, so the time taken does not tell how many bytes matched.
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("active", &self.active_id())
            .field("ids", &self.ids().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring() -> KeyRing {
        KeyRing::new("k1", SecretKey::from_bytes(vec![0x5a; 32]).unwrap()).unwrap()
    }

    #[test]
    fn hmac_matches_ring_reference() {
        // Independent computation with ring's one-shot API.
        let key = hmac::Key::new(hmac::HMAC_SHA256, &[0x5a; 32]);
        let tag = hmac::sign(&key, b"value");
        let expected = format!("hmac:k1:{}", URL_SAFE_NO_PAD.encode(&tag.as_ref()[..16]));
        assert_eq!(ring().pseudonym(b"value", None), expected);
    }

    #[test]
    fn malformed_inputs_are_errors_not_panics() {
        assert!(matches!(
            SecretKey::from_base64("%%%"),
            Err(KeyError::InvalidBase64 { .. })
        ));
        assert!(matches!(
            SecretKey::from_base64(""),
            Err(KeyError::TooShort { len: 0, .. })
        ));
        assert!(matches!(
            KeyRing::new("", SecretKey::from_bytes(vec![1; 32]).unwrap()),
            Err(KeyError::InvalidId { .. })
        ));
        assert!(matches!(
            KeyRing::new("a:b", SecretKey::from_bytes(vec![1; 32]).unwrap()),
            Err(KeyError::InvalidId { .. })
        ));
        assert!(matches!(
            ring().with_previous("k1", SecretKey::from_bytes(vec![2; 32]).unwrap()),
            Err(KeyError::DuplicateId { .. })
        ));
        assert!(!ring().verify(b"x", None, "garbage"));
        assert!(!ring().verify(b"x", None, "hmac:k9:AAAA"));
        assert!(!ring().verify(b"x", None, "hmac:k1"));
    }

    #[test]
    fn spec_parses_ids_and_rejects_empty() {
        assert!(matches!(
            KeyRing::parse(" , ", "test"),
            Err(KeyError::Empty)
        ));
        let bare = KeyRing::parse(&URL_SAFE_NO_PAD.encode([3u8; 32]), "test").unwrap();
        assert_eq!(bare.active_id(), "k1");
        let two = format!(
            "new:{}, old:{}",
            STANDARD.encode([4u8; 32]),
            URL_SAFE_NO_PAD.encode([3u8; 40])
        );
        let ring = KeyRing::parse(&two, "test").unwrap();
        assert_eq!(ring.ids().collect::<Vec<_>>(), ["new", "old"]);
        let err = KeyRing::parse("k1:c2hvcnQ", "test").unwrap_err();
        assert!(err.to_string().contains("(key k1)"));
    }

    #[test]
    fn file_key_too_short_is_reported_with_path() {
        let path = std::env::temp_dir().join("safeguard-test-short-key");
        std::fs::write(&path, b"short").unwrap();
        let err = SecretKey::from_file(&path).unwrap_err();
        assert!(err.to_string().contains("safeguard-test-short-key"));
        assert!(!err.to_string().contains("short\""));
        std::fs::remove_file(path).unwrap();
    }
}
