//! An incremental JSON rewriter that redacts classified values as the bytes stream through.
//!
//! [`Redactor`] takes a response body in chunks of any size (split anywhere, even inside a
//! `\u` escape or a UTF-8 sequence) and writes the redacted document out chunk by chunk. It has no
//! HTTP types: the [`RedactResponse`](crate::response::RedactResponse) layer is a thin adapter over
//! it, and tests, fuzzers and batch jobs drive it directly.
//!
//! What it does, per value:
//!
//! - **Keys are matched canonically**, after their JSON escapes are decoded: `"pass\u0077ord"`,
//!   `"Password"` and `"PASS_WORD"` are all `password` (see
//!   [`canonical_name`](crate::policy::canonical_name)). Path rules (`$.users[*].ssn`) are matched
//!   incrementally and win over name rules. Every occurrence of a duplicated key is handled.
//! - **Classified values** get the caller's [`Disposition`]: revealed, erased (`null` or a marker),
//!   replaced by a class marker, masked, pseudonymized, or removed (the member disappears, commas
//!   included; in an array, where nothing can be removed, the element becomes `null`). Numbers,
//!   booleans and `null` under classified keys are redacted too. An object or array under a
//!   classified key is redacted whole ([`View::render_whole`]) and skipped as it streams: it is
//!   validated, never buffered.
//! - **Masks and pseudonyms** need the whole value: such values are buffered up to
//!   [`Config::max_value_len`]; longer values are erased instead (fail closed).
//! - **Detectors** (opt-in, [`Config::detect_values`]) scan every string value that goes out,
//!   so a card number in a free-text `note` is redacted too.
//!
//! Output is always valid JSON with insignificant whitespace removed; unclassified values keep
//! their exact text (number literals and string escapes are copied byte for byte).
//!
//! **Fail closed.** Malformed or truncated input, nesting deeper than [`Config::max_depth`]
//! (default 128), invalid UTF-8 inside strings, control characters in strings and keys longer than
//! the key buffer are errors; the rewriter stops at the first one and every later call returns it.
//! A leading UTF-8 byte order mark is accepted and dropped (RFC 8259 §8.1 lets parsers ignore it);
//! a BOM anywhere else is an error. Lone UTF-16 surrogates in `\u` escapes are accepted (the JSON
//! grammar allows them) and copied as they are.
//!
//! **Bounded memory.** Whatever the body size, the rewriter holds at most
//! [`Config::max_buffer`] bytes (default 64 KiB) beyond the chunk it is given: one key (up to an
//! eighth of the buffer), one value being masked (up to a quarter), their decoded copies, and the
//! container stack (up to the depth limit). [`Redactor::high_water`] reports the peak.
//!
//! **Speed.** Compact input (no whitespace, keys and strings without escapes) takes a fast lane
//! that classifies keys straight from the input through a cache of raw keys (128 keys of up to
//! 16 bytes, about 4 KiB, shared copy-on-write through the [`Policy`](crate::policy::Policy) so a
//! new rewriter starts warm) and copies unchanged runs with one write; everything else goes
//! through the general state machine, with the same output and the same errors.
//!
//! ```
//! use safeguard::json::Redactor;
//! use safeguard::policy::Policy;
//!
//! let policy = Policy::default();
//! let mut redactor = Redactor::new(policy.view(None));
//! let mut out = Vec::new();
//! // Chunks may split anywhere, even inside an escape.
//! redactor.feed(br#"{"user":"ann","pass\u00"#, &mut out)?;
//! redactor.feed(br#"77ord": "hunter2", "n": 1.50}"#, &mut out)?;
//! redactor.finish(&mut out)?;
//! assert_eq!(out, br#"{"user":"ann","pass\u0077ord":null,"n":1.50}"#);
//! assert_eq!(redactor.tally().redacted(), 1);
//! # Ok::<(), safeguard::json::Error>(())
//! ```

use std::fmt;
use std::mem::size_of;
use std::sync::Arc;

use crate::class::DataClass;
use crate::policy::{
    Action, ClassId, Disposition, ERASED, Erasure, PathState, Rendered, Step, Tally, View,
    canonicalize_into,
};

/// The default of [`Config::max_buffer`]: 64 KiB.
pub const DEFAULT_MAX_BUFFER: usize = 64 * 1024;

/// The default of [`Config::max_depth`]: 128 nested objects and arrays.
pub const DEFAULT_MAX_DEPTH: usize = 128;

/// How the body is framed.
///
/// ```
/// use safeguard::json::{Config, Format};
/// assert_eq!(Config::default().format(), Format::Json);
/// assert_eq!(Config::lines().format(), Format::Lines);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Format {
    /// One JSON text (RFC 8259).
    #[default]
    Json,
    /// Newline-delimited JSON (`application/x-ndjson`, JSON Lines): one JSON text per line,
    /// blank lines allowed and dropped. A document that spans lines is an error. Every document
    /// written out ends with `\n`.
    Lines,
}

/// Limits and options of a [`Redactor`].
///
/// ```
/// use safeguard::json::Config;
/// let config = Config::default().max_depth(32).max_buffer(16 * 1024).detect_values(true);
/// assert_eq!(config.depth_limit(), 32);
/// assert_eq!(config.max_value_len(), 4 * 1024);
/// assert!(config.detects_values());
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    format: Format,
    max_depth: usize,
    max_buffer: usize,
    detect_values: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            format: Format::Json,
            max_depth: DEFAULT_MAX_DEPTH,
            max_buffer: DEFAULT_MAX_BUFFER,
            detect_values: false,
        }
    }
}

impl Config {
    /// The defaults for newline-delimited JSON.
    ///
    /// ```
    /// assert_eq!(safeguard::json::Config::lines().format(), safeguard::json::Format::Lines);
    /// ```
    pub fn lines() -> Self {
        Self::default().with_format(Format::Lines)
    }

    /// Sets the framing.
    ///
    /// ```
    /// use safeguard::json::{Config, Format};
    /// assert_eq!(Config::default().with_format(Format::Lines).format(), Format::Lines);
    /// ```
    pub fn with_format(mut self, format: Format) -> Self {
        self.format = format;
        self
    }

    /// Sets the maximum nesting of objects and arrays (default 128); deeper input is an error.
    ///
    /// ```
    /// assert_eq!(safeguard::json::Config::default().max_depth(8).depth_limit(), 8);
    /// ```
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }

    /// Sets the memory bound beyond the current chunk (default 64 KiB, at least 1 KiB). A key may
    /// take an eighth of it (longer keys are an error), a value being masked, pseudonymized or
    /// scanned a quarter (longer values are erased).
    ///
    /// ```
    /// let config = safeguard::json::Config::default().max_buffer(8 * 1024);
    /// assert_eq!(config.max_key_len(), 1024);
    /// ```
    pub fn max_buffer(mut self, bytes: usize) -> Self {
        self.max_buffer = bytes.max(1024);
        self
    }

    /// Runs the policy's detectors on every string value written out (default off). Strings longer
    /// than [`Config::max_value_len`] cannot be scanned whole and are replaced by
    /// [`ERASED`].
    ///
    /// ```
    /// assert!(safeguard::json::Config::default().detect_values(true).detects_values());
    /// ```
    pub fn detect_values(mut self, on: bool) -> Self {
        self.detect_values = on;
        self
    }

    /// The framing.
    ///
    /// ```
    /// assert_eq!(safeguard::json::Config::default().format(), safeguard::json::Format::Json);
    /// ```
    pub fn format(&self) -> Format {
        self.format
    }

    /// The nesting limit.
    ///
    /// ```
    /// assert_eq!(safeguard::json::Config::default().depth_limit(), 128);
    /// ```
    pub fn depth_limit(&self) -> usize {
        self.max_depth
    }

    /// The memory bound.
    ///
    /// ```
    /// assert_eq!(safeguard::json::Config::default().buffer_limit(), 64 * 1024);
    /// ```
    pub fn buffer_limit(&self) -> usize {
        self.max_buffer
    }

    /// The longest key accepted (raw bytes between the quotes): an eighth of the buffer.
    ///
    /// ```
    /// assert_eq!(safeguard::json::Config::default().max_key_len(), 8 * 1024);
    /// ```
    pub fn max_key_len(&self) -> usize {
        self.max_buffer / 8
    }

    /// The longest value buffered for a mask, a pseudonym or a detector scan (raw bytes): a
    /// quarter of the buffer. Longer values are erased.
    ///
    /// ```
    /// assert_eq!(safeguard::json::Config::default().max_value_len(), 16 * 1024);
    /// ```
    pub fn max_value_len(&self) -> usize {
        self.max_buffer / 4
    }

    /// Whether detectors run on string values.
    ///
    /// ```
    /// assert!(!safeguard::json::Config::default().detects_values());
    /// ```
    pub fn detects_values(&self) -> bool {
        self.detect_values
    }
}

/// What went wrong with the input.
///
/// ```
/// use safeguard::json::ErrorKind;
/// assert_ne!(ErrorKind::Syntax, ErrorKind::Truncated);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Not JSON: an unexpected byte, a bad escape or literal, trailing data.
    Syntax,
    /// The input ended inside a document (or held no document at all).
    Truncated,
    /// Objects and arrays nested deeper than [`Config::max_depth`].
    TooDeep,
    /// A string holds bytes that are not UTF-8.
    InvalidUtf8,
    /// A string holds an unescaped control character.
    ControlCharacter,
    /// A key longer than [`Config::max_key_len`]: it cannot be classified within the memory bound.
    KeyTooLong,
}

/// Why the input was refused; the rewriter is stopped and returns this error from then on.
/// The message names the kind and the byte offset, never the input's content.
///
/// ```
/// use safeguard::json::{ErrorKind, Redactor};
/// let policy = safeguard::policy::Policy::default();
/// let err = Redactor::redact_slice(policy.view(None), Default::default(), b"{\"a\":tru}").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::Syntax);
/// assert_eq!(err.offset(), 8);
/// assert!(err.to_string().contains("offset 8"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    offset: u64,
}

impl Error {
    /// The kind of error.
    ///
    /// ```
    /// use safeguard::json::{ErrorKind, Redactor};
    /// let view = safeguard::policy::Policy::default().view(None);
    /// let err = Redactor::redact_slice(view, Default::default(), b"[1,").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Truncated);
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The byte offset in the whole input where the error was found.
    ///
    /// ```
    /// use safeguard::json::Redactor;
    /// let view = safeguard::policy::Policy::default().view(None);
    /// assert_eq!(Redactor::redact_slice(view, Default::default(), b"[x]").unwrap_err().offset(), 1);
    /// ```
    pub fn offset(&self) -> u64 {
        self.offset
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            ErrorKind::Syntax => "invalid JSON",
            ErrorKind::Truncated => "truncated JSON",
            ErrorKind::TooDeep => "JSON nested too deep",
            ErrorKind::InvalidUtf8 => "invalid UTF-8 in a JSON string",
            ErrorKind::ControlCharacter => "unescaped control character in a JSON string",
            ErrorKind::KeyTooLong => "JSON key longer than the buffer allows",
        };
        write!(f, "{what} at offset {}", self.offset)
    }
}

impl std::error::Error for Error {}

/// What the parser expects next (outside a token).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Expect {
    /// A value (top level, after `:` or after `,` in an array).
    Value,
    /// After `[`: a value or `]`.
    ValueOrClose,
    /// After `{`: a key or `}`.
    KeyOrClose,
    /// After `,` in an object.
    Key,
    /// After a key.
    Colon,
    /// After a value inside a container.
    CommaOrClose,
    /// After the top-level value.
    End,
}

/// The token being read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok {
    None,
    Bom(u8),
    Str,
    Num(Num),
    Lit(Lit, u8),
}

/// Number grammar states (RFC 8259 §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Num {
    Minus,
    Zero,
    Int,
    Dot,
    Frac,
    E,
    ESign,
    Exp,
}

impl Num {
    fn accepts(self) -> bool {
        matches!(self, Num::Zero | Num::Int | Num::Frac | Num::Exp)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lit {
    True,
    False,
    Null,
}

impl Lit {
    fn text(self) -> &'static [u8] {
        match self {
            Lit::True => b"true",
            Lit::False => b"false",
            Lit::Null => b"null",
        }
    }
}

/// Where the bytes of the current string or number go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sink {
    /// Copied to the output.
    Out,
    /// Into the key buffer.
    Key,
    /// Into the value buffer (mask, pseudonym, detectors).
    Val,
    /// Dropped (validated only).
    Skip,
}

/// What the next value gets, decided from its key or index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    /// Unclassified or revealed: rewritten as it is.
    Plain,
    /// A removed member: nothing is written (the key was not written either).
    Drop,
    /// Redacted with this action.
    Redact(ClassId, Action),
    /// A removed array element: written as `null` (nothing can be removed from an array).
    Null,
}

#[derive(Clone, Copy, Debug)]
struct Frame {
    object: bool,
    /// Members or elements written out (for lazy commas).
    written: u32,
    /// The next element's index (arrays).
    index: usize,
    /// This container's path states: `states[path_start..path_end]`.
    path_start: usize,
    path_end: usize,
}

/// A cache of name classifications by raw key bytes: records repeat their keys, and
/// canonicalizing plus looking up every key is the engine's biggest per-key cost.
const CACHE_SLOTS: usize = 128;
/// Keys up to this length are cached (see `name_class`).
const CACHE_KEY: usize = 16;

#[derive(Clone, Copy)]
struct CacheEntry {
    len: u8,
    head: u64,
    tail: u64,
    class: Option<ClassId>,
}

const EMPTY_ENTRY: CacheEntry = CacheEntry {
    len: u8::MAX,
    head: 0,
    tail: 0,
    class: None,
};

/// The incremental JSON rewriter. One per body; see the [module docs](self).
///
/// ```
/// use safeguard::json::{Config, Redactor};
/// use safeguard::policy::Policy;
/// use safeguard::{Clearance, DataClass, Principal};
///
/// let policy = Policy::default();
/// let body = br#"{"card_number":"4111111111111111","amount":12}"#;
///
/// let (out, _) = Redactor::redact_slice(policy.view(None), Config::default(), body)?;
/// assert_eq!(out, br#"{"card_number":null,"amount":12}"#);
///
/// let support = Principal::new("s").with_clearance(Clearance::partial(DataClass::Payment));
/// let (out, tally) = Redactor::redact_slice(policy.view(Some(&support)), Config::default(), body)?;
/// assert_eq!(out, br#"{"card_number":"************1111","amount":12}"#);
/// assert_eq!(tally.redacted(), 1);
/// # Ok::<(), safeguard::json::Error>(())
/// ```
pub struct Redactor {
    view: View,
    config: Config,
    public: Option<ClassId>,
    has_paths: bool,
    detect: bool,
    /// Whether erased values are written as `null` (the policy's [`Erasure::Null`]).
    erase_null: bool,

    expect: Expect,
    tok: Tok,
    stack: Vec<Frame>,
    /// Output is suppressed while a skipped container is open: it closes when the stack is back
    /// to this length.
    skip_until: Option<usize>,
    pending: Pending,
    sink: Sink,
    /// Whether the current string is a key.
    in_key: bool,
    /// Escape progress: 0 none, 1 after `\`, 2..=5 reading `\u` hex digits.
    esc: u8,
    /// UTF-8 continuation bytes still expected, and the range of the next one.
    utf8_need: u8,
    utf8_lo: u8,
    utf8_hi: u8,
    /// The class of the value being buffered (`None`: buffered for the detectors).
    buf_class: Option<ClassId>,
    buf_over: bool,
    /// Whether `canon` holds the tag (canonical key) of the value being buffered.
    tag_valid: bool,

    key: Vec<u8>,
    val: Vec<u8>,
    decoded: Vec<u8>,
    canon: Vec<u8>,
    states: Vec<PathState>,
    /// Shared copy-on-write with the policy: a new rewriter starts from the cache the last
    /// finished one shared, and copies it only when it learns a new key.
    cache: Option<Arc<Vec<CacheEntry>>>,
    /// Whether `cache` holds keys learned since it was taken from the policy.
    cache_learned: bool,

    tally: Tally,
    oversized: u64,
    documents: u64,
    consumed: u64,
    high_water: usize,
    error: Option<Error>,
    finished: bool,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Buffers may hold classified values: never print them.
        f.debug_struct("Redactor")
            .field("config", &self.config)
            .field("consumed", &self.consumed)
            .field("depth", &self.stack.len())
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl Redactor {
    /// A rewriter for one JSON document with the default [`Config`].
    ///
    /// ```
    /// let view = safeguard::policy::Policy::default().view(None);
    /// let mut r = safeguard::json::Redactor::new(view);
    /// let mut out = Vec::new();
    /// r.feed(b"[1, 2]", &mut out)?;
    /// r.finish(&mut out)?;
    /// assert_eq!(out, b"[1,2]");
    /// # Ok::<(), safeguard::json::Error>(())
    /// ```
    pub fn new(view: View) -> Self {
        Self::with_config(view, Config::default())
    }

    /// A rewriter with explicit limits and options.
    ///
    /// ```
    /// use safeguard::json::{Config, ErrorKind, Redactor};
    /// let view = safeguard::policy::Policy::default().view(None);
    /// let mut r = Redactor::with_config(view, Config::default().max_depth(2));
    /// let err = r.feed(b"[[[1]]]", &mut Vec::new()).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::TooDeep);
    /// ```
    pub fn with_config(view: View, config: Config) -> Self {
        let cache = view
            .policy()
            .engine_cache()
            .and_then(|shared| shared.downcast::<Vec<CacheEntry>>().ok());
        Self::with_cache(view, config, cache)
    }

    fn with_cache(view: View, config: Config, cache: Option<Arc<Vec<CacheEntry>>>) -> Self {
        let policy = view.policy();
        let public = policy.class_id(&DataClass::Public);
        let has_paths = !policy.paths().is_empty();
        let detect = config.detect_values && policy.detectors().is_some();
        let erase_null = policy.erasure() == Erasure::Null;
        let mut states = Vec::new();
        if has_paths {
            policy.paths().root(&mut states);
        }
        Self {
            view,
            config,
            public,
            has_paths,
            detect,
            erase_null,
            expect: Expect::Value,
            tok: Tok::Bom(0),
            stack: Vec::new(),
            skip_until: None,
            pending: Pending::Plain,
            sink: Sink::Skip,
            in_key: false,
            esc: 0,
            utf8_need: 0,
            utf8_lo: 0,
            utf8_hi: 0,
            buf_class: None,
            buf_over: false,
            tag_valid: false,
            key: Vec::new(),
            val: Vec::new(),
            decoded: Vec::new(),
            canon: Vec::new(),
            states,
            cache,
            cache_learned: false,
            tally: Tally::default(),
            oversized: 0,
            documents: 0,
            consumed: 0,
            high_water: 0,
            error: None,
            finished: false,
        }
    }

    /// Starts over for a new body, keeping the buffers and the key cache (when `view` comes from
    /// the same policy), so a pooled rewriter skips the warm-up a fresh one pays on every
    /// distinct key.
    ///
    /// ```
    /// use safeguard::json::{Config, Redactor};
    /// let policy = safeguard::policy::Policy::default();
    /// let mut r = Redactor::new(policy.view(None));
    /// let mut out = Vec::new();
    /// r.feed(br#"{"pin":"#, &mut out).ok();
    /// r.reset(policy.view(None), Config::default());
    /// out.clear();
    /// r.feed(br#"{"pin":1}"#, &mut out)?;
    /// r.finish(&mut out)?;
    /// assert_eq!(out, br#"{"pin":null}"#);
    /// assert_eq!(r.tally().redacted(), 1);
    /// # Ok::<(), safeguard::json::Error>(())
    /// ```
    pub fn reset(&mut self, view: View, config: Config) {
        // The key cache reflects one policy's name rules; it survives only for that policy.
        let same_policy = self.view.policy().ptr_eq(view.policy());
        let mut fresh = if same_policy {
            Self::with_cache(view, config, None)
        } else {
            Self::with_config(view, config)
        };
        std::mem::swap(&mut fresh.key, &mut self.key);
        std::mem::swap(&mut fresh.val, &mut self.val);
        std::mem::swap(&mut fresh.decoded, &mut self.decoded);
        std::mem::swap(&mut fresh.canon, &mut self.canon);
        std::mem::swap(&mut fresh.stack, &mut self.stack);
        fresh.stack.clear();
        if same_policy {
            std::mem::swap(&mut fresh.cache, &mut self.cache);
            fresh.cache_learned = self.cache_learned;
        }
        fresh.high_water = self.high_water;
        *self = fresh;
        if self.has_paths {
            self.states.clear();
            self.view.policy().paths().root(&mut self.states);
        }
    }

    /// Redacts a whole document held in memory; returns the output and the tally.
    ///
    /// ```
    /// use safeguard::json::{Config, Redactor};
    /// let view = safeguard::policy::Policy::default().view(None);
    /// let (out, tally) = Redactor::redact_slice(view, Config::default(), br#"{"token":{"a":[1]}}"#)?;
    /// assert_eq!(out, br#"{"token":null}"#);
    /// assert_eq!(tally.redacted(), 1);
    /// # Ok::<(), safeguard::json::Error>(())
    /// ```
    pub fn redact_slice(
        view: View,
        config: Config,
        input: &[u8],
    ) -> Result<(Vec<u8>, Tally), Error> {
        let mut redactor = Self::with_config(view, config);
        let mut out = Vec::with_capacity(input.len());
        redactor.feed(input, &mut out)?;
        redactor.finish(&mut out)?;
        Ok((out, redactor.tally))
    }

    /// The caller's view this rewriter applies.
    ///
    /// ```
    /// let policy = safeguard::policy::Policy::default();
    /// let r = safeguard::json::Redactor::new(policy.view(None));
    /// assert!(!r.view().reveals_all());
    /// ```
    pub fn view(&self) -> &View {
        &self.view
    }

    /// Counts of values redacted and revealed so far, per class.
    ///
    /// ```
    /// let policy = safeguard::policy::Policy::default();
    /// let mut r = safeguard::json::Redactor::new(policy.view(None));
    /// r.feed(br#"{"email":"a@b.example","ssn":"1"}"#, &mut Vec::new())?;
    /// assert_eq!(r.tally().redacted(), 2);
    /// # Ok::<(), safeguard::json::Error>(())
    /// ```
    pub fn tally(&self) -> &Tally {
        &self.tally
    }

    /// Takes the tally out (leaving an empty one).
    ///
    /// ```
    /// let policy = safeguard::policy::Policy::default();
    /// let mut r = safeguard::json::Redactor::new(policy.view(None));
    /// r.feed(br#"{"pin":1}"#, &mut Vec::new())?;
    /// assert_eq!(r.take_tally().redacted(), 1);
    /// assert!(r.tally().is_empty());
    /// # Ok::<(), safeguard::json::Error>(())
    /// ```
    pub fn take_tally(&mut self) -> Tally {
        std::mem::take(&mut self.tally)
    }

    /// String values erased because they were too long to mask, pseudonymize or scan within the
    /// memory bound (unclassified strings count here when detectors are on; classified values are
    /// also in the tally).
    ///
    /// ```
    /// use safeguard::json::{Config, Redactor};
    /// let policy = safeguard::policy::Policy::default();
    /// let config = Config::default().max_buffer(1024).detect_values(true);
    /// let long = format!("[\"{}\"]", "x".repeat(300));
    /// let (out, _) = Redactor::redact_slice(policy.view(None), config.clone(), long.as_bytes())?;
    /// assert_eq!(out, br#"["[REDACTED]"]"#);
    /// let mut r = Redactor::with_config(policy.view(None), config);
    /// r.feed(long.as_bytes(), &mut Vec::new())?;
    /// assert_eq!(r.oversized(), 1);
    /// # Ok::<(), safeguard::json::Error>(())
    /// ```
    pub fn oversized(&self) -> u64 {
        self.oversized
    }

    /// Documents completed so far (one for [`Format::Json`], one per line for
    /// [`Format::Lines`]).
    ///
    /// ```
    /// use safeguard::json::{Config, Redactor};
    /// let view = safeguard::policy::Policy::default().view(None);
    /// let mut r = Redactor::with_config(view, Config::lines());
    /// r.feed(b"{}\n\n[1]\n", &mut Vec::new())?;
    /// assert_eq!(r.documents(), 2);
    /// # Ok::<(), safeguard::json::Error>(())
    /// ```
    pub fn documents(&self) -> u64 {
        self.documents
    }

    /// Input bytes consumed so far.
    ///
    /// ```
    /// let view = safeguard::policy::Policy::default().view(None);
    /// let mut r = safeguard::json::Redactor::new(view);
    /// r.feed(b"[1,", &mut Vec::new())?;
    /// assert_eq!(r.consumed(), 3);
    /// # Ok::<(), safeguard::json::Error>(())
    /// ```
    pub fn consumed(&self) -> u64 {
        self.consumed
    }

    /// The peak memory the rewriter held beyond the current chunk (capacity of its buffers,
    /// stack and path states), in bytes. Stays within [`Config::max_buffer`] plus the container
    /// stack, whatever the body size.
    ///
    /// ```
    /// let view = safeguard::policy::Policy::default().view(None);
    /// let mut r = safeguard::json::Redactor::new(view);
    /// let mut out = Vec::new();
    /// for _ in 0..1000 {
    ///     out.clear();
    ///     r.feed(br#"[{"name":"a","password":"b"}],"#.split_last().unwrap().1, &mut out).ok();
    /// }
    /// assert!(r.high_water() < 64 * 1024);
    /// ```
    pub fn high_water(&self) -> usize {
        self.high_water
    }

    /// The error that stopped the rewriter, if any.
    ///
    /// ```
    /// let view = safeguard::policy::Policy::default().view(None);
    /// let mut r = safeguard::json::Redactor::new(view);
    /// assert!(r.feed(b"}", &mut Vec::new()).is_err());
    /// assert!(r.error().is_some());
    /// ```
    pub fn error(&self) -> Option<Error> {
        self.error
    }

    /// Rewrites the next chunk of input, appending output to `out`. On error the rewriter stops;
    /// what it appended to `out` during the failing call should be discarded.
    ///
    /// ```
    /// let view = safeguard::policy::Policy::default().view(None);
    /// let mut r = safeguard::json::Redactor::new(view);
    /// let mut out = Vec::new();
    /// for byte in br#"{"api_key": "k-123", "ok": true}"# {
    ///     r.feed(std::slice::from_ref(byte), &mut out)?;
    /// }
    /// r.finish(&mut out)?;
    /// assert_eq!(out, br#"{"api_key":null,"ok":true}"#);
    /// # Ok::<(), safeguard::json::Error>(())
    /// ```
    pub fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        if let Some(err) = self.error {
            return Err(err);
        }
        if self.finished {
            return self.fail(ErrorKind::Syntax, 0);
        }
        out.reserve(input.len() + 16);
        let result = self.run(input, out);
        self.consumed += input.len() as u64;
        self.track_memory();
        result
    }

    /// Ends the input: checks that the document (or the last line) is complete.
    ///
    /// ```
    /// use safeguard::json::{ErrorKind, Redactor};
    /// let view = safeguard::policy::Policy::default().view(None);
    /// let mut r = Redactor::new(view);
    /// let mut out = Vec::new();
    /// r.feed(br#"{"a":"#, &mut out)?;
    /// assert_eq!(r.finish(&mut out).unwrap_err().kind(), ErrorKind::Truncated);
    /// # Ok::<(), safeguard::json::Error>(())
    /// ```
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), Error> {
        if let Some(err) = self.error {
            return Err(err);
        }
        if self.finished {
            return Ok(());
        }
        if let Tok::Num(num) = self.tok {
            if !num.accepts() {
                return self.fail(ErrorKind::Truncated, 0);
            }
            self.tok = Tok::None;
            self.end_number(out);
        }
        let complete = match self.tok {
            Tok::None => match self.config.format {
                Format::Json => self.expect == Expect::End,
                Format::Lines => {
                    self.stack.is_empty() && matches!(self.expect, Expect::End | Expect::Value)
                }
            },
            // An empty body: no BOM seen yet; complete only for line-delimited input.
            Tok::Bom(0) => self.config.format == Format::Lines,
            _ => false,
        };
        if !complete {
            return self.fail(ErrorKind::Truncated, 0);
        }
        self.finished = true;
        if let (true, Some(cache)) = (self.cache_learned, &self.cache) {
            // Later rewriters of this policy start with the keys this one learned.
            let shared: Arc<dyn std::any::Any + Send + Sync> = cache.clone();
            self.view.policy().share_engine_cache(shared);
            self.cache_learned = false;
        }
        Ok(())
    }

    fn fail<T>(&mut self, kind: ErrorKind, at: usize) -> Result<T, Error> {
        let err = Error {
            kind,
            offset: self.consumed + at as u64,
        };
        self.error = Some(err);
        Err(err)
    }

    fn track_memory(&mut self) {
        let held = self.key.capacity()
            + self.val.capacity()
            + self.decoded.capacity()
            + self.canon.capacity()
            + self.states.capacity() * size_of::<PathState>()
            + self.stack.capacity() * size_of::<Frame>()
            + self.cache.as_ref().map_or(0, |c| c.capacity()) * size_of::<CacheEntry>();
        self.high_water = self.high_water.max(held);
    }

    #[inline]
    fn skipping(&self) -> bool {
        self.skip_until.is_some()
    }

    fn run(&mut self, s: &[u8], out: &mut Vec<u8>) -> Result<(), Error> {
        let mut i = 0;
        let len = s.len();
        let lines = self.config.format == Format::Lines;
        loop {
            // Finish the token in progress first.
            match self.tok {
                Tok::None => {}
                Tok::Str => {
                    i = self.string(s, i, out)?;
                    if self.tok != Tok::None {
                        return Ok(());
                    }
                }
                Tok::Num(_) => {
                    i = self.number(s, i, out)?;
                    if self.tok != Tok::None {
                        return Ok(());
                    }
                }
                Tok::Lit(lit, pos) => {
                    let text = lit.text();
                    let mut pos = pos as usize;
                    while pos < text.len() {
                        if i == len {
                            self.tok = Tok::Lit(lit, pos as u8);
                            return Ok(());
                        }
                        if s[i] != text[pos] {
                            return self.fail(ErrorKind::Syntax, i);
                        }
                        i += 1;
                        pos += 1;
                    }
                    self.tok = Tok::None;
                    self.end_literal(lit, out);
                }
                Tok::Bom(pos) => {
                    const BOM: &[u8] = b"\xEF\xBB\xBF";
                    let mut pos = pos as usize;
                    while pos < 3 {
                        if i == len {
                            self.tok = Tok::Bom(pos as u8);
                            return Ok(());
                        }
                        if s[i] != BOM[pos] {
                            if pos == 0 {
                                break;
                            }
                            return self.fail(ErrorKind::Syntax, i);
                        }
                        i += 1;
                        pos += 1;
                    }
                    self.tok = Tok::None;
                }
            }
            // Insignificant whitespace.
            while i < len {
                match s[i] {
                    b' ' | b'\t' | b'\r' => i += 1,
                    b'\n' => {
                        if lines {
                            match self.expect {
                                Expect::End => self.expect = Expect::Value,
                                Expect::Value if self.stack.is_empty() => {}
                                _ => return self.fail(ErrorKind::Syntax, i),
                            }
                        }
                        i += 1;
                    }
                    _ => break,
                }
            }
            if i == len {
                return Ok(());
            }
            if !self.skipping() && !self.stack.is_empty() {
                let next = self.fast(s, i, out)?;
                if next != i {
                    i = next;
                    continue;
                }
            }
            let b = s[i];
            match self.expect {
                Expect::Value | Expect::ValueOrClose => {
                    if b == b']' && self.expect == Expect::ValueOrClose {
                        self.close(false, i, out)?;
                        i += 1;
                    } else {
                        i = self.begin_value(s, i, out)?;
                    }
                }
                Expect::KeyOrClose | Expect::Key => {
                    if b == b'"' && self.skipping() {
                        let next = self.skip_members(s, i);
                        if next != i {
                            i = next;
                            continue;
                        }
                    }
                    if b == b'"' {
                        // Fast path: a plain key that ends in this chunk is classified straight
                        // from the input, without going through the key buffer.
                        let end = scan_plain(s, i + 1);
                        if end < len && s[end] == b'"' {
                            if end - (i + 1) > self.config.max_key_len() {
                                return self.fail(ErrorKind::KeyTooLong, end);
                            }
                            if !self.skipping() {
                                self.key_done(&s[i + 1..end], out);
                            }
                            self.expect = Expect::Colon;
                            i = end + 1;
                            continue;
                        }
                        self.tok = Tok::Str;
                        self.in_key = true;
                        self.sink = if self.skipping() {
                            Sink::Skip
                        } else {
                            Sink::Key
                        };
                        self.key.clear();
                        i += 1;
                    } else if b == b'}' && self.expect == Expect::KeyOrClose {
                        self.close(true, i, out)?;
                        i += 1;
                    } else {
                        return self.fail(ErrorKind::Syntax, i);
                    }
                }
                Expect::Colon => {
                    if b != b':' {
                        return self.fail(ErrorKind::Syntax, i);
                    }
                    self.expect = Expect::Value;
                    i += 1;
                }
                Expect::CommaOrClose => {
                    let object = self.stack.last().is_some_and(|f| f.object);
                    match b {
                        b',' => {
                            self.expect = if object { Expect::Key } else { Expect::Value };
                            i += 1;
                            if object && self.skipping() && s.get(i) == Some(&b'"') {
                                i = self.skip_members(s, i);
                            }
                        }
                        b'}' if object => {
                            self.close(true, i, out)?;
                            i += 1;
                        }
                        b']' if !object => {
                            self.close(false, i, out)?;
                            i += 1;
                        }
                        _ => return self.fail(ErrorKind::Syntax, i),
                    }
                }
                Expect::End => return self.fail(ErrorKind::Syntax, i),
            }
        }
    }

    /// Writes a comma if the current container already has a written member or element.
    #[inline]
    fn separator(&mut self, out: &mut Vec<u8>) {
        if let Some(frame) = self.stack.last_mut() {
            if frame.written > 0 {
                out.push(b',');
            }
            frame.written += 1;
        }
    }

    /// Starts a value at `s[i]`; returns the index after what it consumed.
    fn begin_value(&mut self, s: &[u8], i: usize, out: &mut Vec<u8>) -> Result<usize, Error> {
        let b = s[i];
        let mut pending = std::mem::replace(&mut self.pending, Pending::Plain);
        self.tag_valid = false;
        if self.skipping() {
            pending = Pending::Drop;
        } else if let Some(frame) = self.stack.last_mut() {
            if !frame.object {
                // An array element: its index may be classified by a path rule.
                let index = frame.index;
                frame.index += 1;
                if self.has_paths {
                    let (start, end) = (frame.path_start, frame.path_end);
                    self.states.truncate(end);
                    if start < end {
                        let class = self.view.policy().paths().step(
                            &mut self.states,
                            start,
                            Step::Index(index),
                        );
                        pending = self.decide(class);
                    }
                }
                if pending == Pending::Drop {
                    // Nothing can be removed from an array: the element becomes null.
                    pending = Pending::Null;
                }
                self.separator(out);
            }
        }
        let child_paths = if self.has_paths {
            let end = self.stack.last().map_or(0, |f| f.path_end);
            (end, self.states.len())
        } else {
            (0, 0)
        };
        match pending {
            Pending::Plain => match b {
                b'{' | b'[' => self.open(b == b'{', child_paths, i, out)?,
                b'"' => {
                    self.in_key = false;
                    if self.detect {
                        self.tok = Tok::Str;
                        self.sink = Sink::Val;
                        self.buf_class = None;
                        self.val.clear();
                        self.buf_over = false;
                    } else {
                        // Fast path: a plain string that ends in this chunk is copied whole.
                        let end = scan_plain(s, i + 1);
                        if end < s.len() && s[end] == b'"' {
                            out.extend_from_slice(&s[i..=end]);
                            self.after_value(out);
                            return Ok(end + 1);
                        }
                        self.tok = Tok::Str;
                        self.sink = Sink::Out;
                        out.push(b'"');
                    }
                }
                b'-' | b'0'..=b'9' => {
                    self.sink = Sink::Out;
                    return self.start_number(s, i, out);
                }
                b't' | b'f' | b'n' => {
                    self.sink = Sink::Out;
                    return self.start_literal(s, i);
                }
                _ => return self.fail(ErrorKind::Syntax, i),
            },
            Pending::Drop => {
                self.sink = Sink::Skip;
                return self.skip_value(s, i, out);
            }
            Pending::Null => {
                out.extend_from_slice(b"null");
                self.sink = Sink::Skip;
                return self.skip_value(s, i, out);
            }
            Pending::Redact(id, action) => {
                let buffered = matches!(action, Action::Mask { .. } | Action::Pseudonymize { .. })
                    && matches!(b, b'"' | b'-' | b'0'..=b'9' | b't' | b'f');
                if buffered {
                    self.sink = Sink::Val;
                    self.buf_class = Some(id);
                    self.val.clear();
                    self.buf_over = false;
                    self.tag_valid = self.stack.last().is_some_and(|f| f.object);
                    match b {
                        b'"' => {
                            self.tok = Tok::Str;
                            self.in_key = false;
                        }
                        b't' | b'f' => return self.start_literal(s, i),
                        _ => return self.start_number(s, i, out),
                    }
                } else {
                    write_rendered(out, &self.view.render_whole(id));
                    self.sink = Sink::Skip;
                    return self.skip_value(s, i, out);
                }
            }
        }
        Ok(i + 1)
    }

    /// Reads a value at `s[i]` without writing anything (containers suppress output until they
    /// close).
    fn skip_value(&mut self, s: &[u8], i: usize, out: &mut Vec<u8>) -> Result<usize, Error> {
        match s[i] {
            b'{' | b'[' => {
                let at = self.states.len();
                if self.skip_until.is_none() {
                    // Suppress output from the opening bracket until this container closes.
                    self.skip_until = Some(self.stack.len());
                }
                self.open(s[i] == b'{', (at, at), i, out)?;
                Ok(i + 1)
            }
            b'"' => {
                let end = scan_plain(s, i + 1);
                if end < s.len() && s[end] == b'"' {
                    self.after_value(out);
                    return Ok(end + 1);
                }
                self.tok = Tok::Str;
                self.in_key = false;
                Ok(i + 1)
            }
            b'-' | b'0'..=b'9' => self.start_number(s, i, out),
            b't' | b'f' | b'n' => self.start_literal(s, i),
            _ => self.fail(ErrorKind::Syntax, i),
        }
    }

    fn open(
        &mut self,
        object: bool,
        (path_start, path_end): (usize, usize),
        i: usize,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        if self.stack.len() >= self.config.max_depth {
            return self.fail(ErrorKind::TooDeep, i);
        }
        if !self.skipping() {
            out.push(if object { b'{' } else { b'[' });
        }
        self.push_frame(object, (path_start, path_end));
        Ok(())
    }

    fn close(&mut self, object: bool, i: usize, out: &mut Vec<u8>) -> Result<(), Error> {
        if self.stack.pop().is_none() {
            return self.fail(ErrorKind::Syntax, i);
        }
        let suppressed = self.skipping();
        if self.skip_until == Some(self.stack.len()) {
            self.skip_until = None;
        }
        if !suppressed {
            out.push(if object { b'}' } else { b']' });
        }
        self.after_value(out);
        Ok(())
    }

    fn after_value(&mut self, out: &mut Vec<u8>) {
        if self.stack.is_empty() {
            self.expect = Expect::End;
            self.documents += 1;
            if self.config.format == Format::Lines {
                out.push(b'\n');
                // Each line is its own document: path states start over at the root.
                if self.has_paths {
                    self.states.clear();
                    self.view.policy().paths().root(&mut self.states);
                }
            }
        } else {
            self.expect = Expect::CommaOrClose;
        }
    }

    /// The pending action for a value of class `class` (none: plain), with tallying.
    #[inline(always)]
    fn decide(&mut self, class: Option<ClassId>) -> Pending {
        let Some(id) = class else {
            return Pending::Plain;
        };
        if Some(id) == self.public {
            return Pending::Plain;
        }
        match self.view.disposition(id) {
            Disposition::Reveal => {
                self.tally.record(id, true);
                Pending::Plain
            }
            Disposition::Redact(Action::Remove) => {
                self.tally.record(id, false);
                Pending::Drop
            }
            Disposition::Redact(action) => {
                self.tally.record(id, false);
                Pending::Redact(id, action)
            }
        }
    }

    // ---- strings ----------------------------------------------------------------------------

    /// Continues a string at `s[i]`; returns the index after what it consumed.
    fn string(&mut self, s: &[u8], mut i: usize, out: &mut Vec<u8>) -> Result<usize, Error> {
        let len = s.len();
        let start = i;
        loop {
            if self.utf8_need > 0 {
                if i == len {
                    break;
                }
                let b = s[i];
                if b < self.utf8_lo || b > self.utf8_hi {
                    return self.fail(ErrorKind::InvalidUtf8, i);
                }
                self.utf8_need -= 1;
                self.utf8_lo = 0x80;
                self.utf8_hi = 0xBF;
                i += 1;
                continue;
            }
            if self.esc > 0 {
                if i == len {
                    break;
                }
                let b = s[i];
                if self.esc == 1 {
                    match b {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.esc = 0,
                        b'u' => self.esc = 2,
                        _ => return self.fail(ErrorKind::Syntax, i),
                    }
                } else if b.is_ascii_hexdigit() {
                    self.esc = if self.esc == 5 { 0 } else { self.esc + 1 };
                } else {
                    return self.fail(ErrorKind::Syntax, i);
                }
                i += 1;
                continue;
            }
            i = scan_plain(s, i);
            if i == len {
                break;
            }
            match s[i] {
                b'"' => {
                    self.flush(&s[start..i], out, i)?;
                    self.tok = Tok::None;
                    self.end_string(out);
                    return Ok(i + 1);
                }
                b'\\' => {
                    self.esc = 1;
                    i += 1;
                }
                b if b < 0x20 => return self.fail(ErrorKind::ControlCharacter, i),
                b => {
                    let (need, lo, hi) = match b {
                        0xC2..=0xDF => (1, 0x80, 0xBF),
                        0xE0 => (2, 0xA0, 0xBF),
                        0xE1..=0xEC | 0xEE..=0xEF => (2, 0x80, 0xBF),
                        0xED => (2, 0x80, 0x9F),
                        0xF0 => (3, 0x90, 0xBF),
                        0xF1..=0xF3 => (3, 0x80, 0xBF),
                        0xF4 => (3, 0x80, 0x8F),
                        _ => return self.fail(ErrorKind::InvalidUtf8, i),
                    };
                    self.utf8_need = need;
                    self.utf8_lo = lo;
                    self.utf8_hi = hi;
                    i += 1;
                }
            }
        }
        // Spans stay long: they are flushed only at the end of the string or of the chunk.
        self.flush(&s[start..i], out, i)?;
        Ok(i)
    }

    /// Sends raw string or number bytes to the current sink.
    #[inline]
    fn flush(&mut self, bytes: &[u8], out: &mut Vec<u8>, at: usize) -> Result<(), Error> {
        match self.sink {
            Sink::Out => out.extend_from_slice(bytes),
            Sink::Skip => {}
            Sink::Key => {
                if self.key.len() + bytes.len() > self.config.max_key_len() {
                    return self.fail(ErrorKind::KeyTooLong, at);
                }
                self.key.extend_from_slice(bytes);
            }
            Sink::Val => {
                if !self.buf_over {
                    if self.val.len() + bytes.len() > self.config.max_value_len() {
                        self.buf_over = true;
                        self.val.clear();
                    } else {
                        self.val.extend_from_slice(bytes);
                    }
                }
            }
        }
        Ok(())
    }

    fn end_string(&mut self, out: &mut Vec<u8>) {
        if self.in_key {
            self.in_key = false;
            self.expect = Expect::Colon;
            if self.sink == Sink::Key {
                self.end_key(out);
            }
            return;
        }
        match self.sink {
            Sink::Out => out.push(b'"'),
            Sink::Skip => {}
            Sink::Key => {}
            Sink::Val => self.end_buffered_string(out),
        }
        self.after_value(out);
    }

    fn end_key(&mut self, out: &mut Vec<u8>) {
        // The key buffer is lent out so the key can be read while `self` is updated.
        let key = std::mem::take(&mut self.key);
        self.key_done(&key, out);
        self.key = key;
    }

    /// Classifies a complete key (raw bytes between the quotes), decides what its value gets,
    /// and writes `,"key":` unless the member is removed.
    fn key_done(&mut self, key: &[u8], out: &mut Vec<u8>) {
        let pending = self.classify_key(key);
        self.pending = pending;
        if pending != Pending::Drop {
            self.separator(out);
            out.push(b'"');
            out.extend_from_slice(key);
            out.extend_from_slice(b"\":");
        }
    }

    /// Classifies a complete key (raw bytes between the quotes) and decides what its value gets
    /// (tallied), stepping the path states; writes nothing.
    #[inline]
    fn classify_key(&mut self, key: &[u8]) -> Pending {
        let (path_start, path_end) = self
            .stack
            .last()
            .map_or((0, 0), |f| (f.path_start, f.path_end));
        let needs_paths = self.has_paths && path_start < path_end;
        let mut path_class = None;
        if needs_paths {
            self.canonicalize(key);
            self.states.truncate(path_end);
            path_class = self.view.policy().paths().step(
                &mut self.states,
                path_start,
                Step::Key(&self.canon),
            );
        } else if self.has_paths {
            self.states.truncate(path_end);
        }
        let class = match path_class {
            Some(class) => Some(class),
            None => self.name_class(key, needs_paths),
        };
        let pending = self.decide(class);
        if let Pending::Redact(_, Action::Pseudonymize { per_field: true }) = pending {
            if !needs_paths {
                self.canonicalize(key);
            }
        }
        pending
    }

    /// The fast lane through compact JSON inside a container: members and elements with no
    /// whitespace, plain keys and strings (no escapes or non-ASCII bytes), scalars that end
    /// inside this chunk, and plain objects and arrays opened and closed inline. Keys are
    /// classified straight from the input and unchanged runs are copied with one write. `s[i]`
    /// is the next byte to read, outside any token, with a container open and nothing skipped.
    /// Anything else (a value to redact whole or to buffer, whitespace, an escape, the chunk's
    /// end, the top-level close, an error) is left to the general state machine: the lane
    /// returns at a token boundary with the state exactly as the general path would have left
    /// it there, so output and error offsets are the same whichever path runs.
    fn fast(&mut self, s: &[u8], mut i: usize, out: &mut Vec<u8>) -> Result<usize, Error> {
        let len = s.len();
        let max_key = self.config.max_key_len();
        let max_depth = self.config.max_depth;
        // Unchanged output is copied in runs: `s[run.0..run.1]` is owed to `out`. A run only
        // ever ends after a value or a bracket, so an item starting at `run.1` follows `{` or
        // `[` (its container's first written item: no comma) and one at `run.1 + 1` follows a
        // comma after a written item of the same container (the comma the lazy-comma logic
        // would write).
        let mut run = (i, i);
        macro_rules! flush {
            () => {
                out.extend_from_slice(&s[run.0..run.1])
            };
        }
        // Writes the item `s[from..to]` (a member or an element) with its separator.
        macro_rules! item {
            ($from:expr, $to:expr) => {{
                let (from, to) = ($from, $to);
                if run.0 < run.1 && (run.1 == from || run.1 + 1 == from) {
                    if let Some(frame) = self.stack.last_mut() {
                        frame.written += 1;
                    }
                    run.1 = to;
                } else {
                    flush!();
                    self.separator(out);
                    run = (from, to);
                }
            }};
        }
        let next = 'lane: loop {
            if i >= len {
                break i;
            }
            let Some(&Frame { object, .. }) = self.stack.last() else {
                break i;
            };
            let b = s[i];
            match self.expect {
                Expect::CommaOrClose => {
                    if b == b',' {
                        self.expect = if object { Expect::Key } else { Expect::Value };
                        i += 1;
                        continue;
                    }
                    if b != if object { b'}' } else { b']' } {
                        break i;
                    }
                }
                Expect::KeyOrClose | Expect::Key if b == b'"' => loop {
                    // Members of this object, one after another while they are scalars.
                    let end = scan_plain(s, i + 1);
                    if end >= len || s[end] != b'"' {
                        break 'lane i;
                    }
                    if end - (i + 1) > max_key {
                        flush!();
                        return self.fail(ErrorKind::KeyTooLong, end);
                    }
                    let colon = end + 1;
                    if colon >= len || s[colon] != b':' {
                        // Whitespace or the chunk's end after the key: the general path goes on.
                        flush!();
                        run = (colon, colon);
                        self.key_done(&s[i + 1..end], out);
                        self.expect = Expect::Colon;
                        break 'lane colon;
                    }
                    let v = colon + 1;
                    let scalar = scalar_end(s, v).filter(|_| !(self.detect && s[v] == b'"'));
                    let pending = match self.cached_class(s, i + 1, end) {
                        Some(class) => self.decide_cached(class, &s[i + 1..end]),
                        None => self.classify_key(&s[i + 1..end]),
                    };
                    // A container under a redacted or removed key is skipped whole when it is
                    // compact and ends in this chunk.
                    let container = scalar.is_none()
                        && pending != Pending::Plain
                        && matches!(s.get(v), Some(b'{' | b'['));
                    let value_end = if container {
                        skip_container(s, v, max_depth.saturating_sub(self.stack.len()), max_key)
                    } else {
                        scalar
                    };
                    // If-chains rather than a match: conditional branches predict better here
                    // than one indirect jump.
                    if let Some(vend) = value_end {
                        if pending == Pending::Plain {
                            item!(i, vend);
                        } else if pending != Pending::Drop {
                            let erase = match pending {
                                // Structures are never masked or pseudonymized: erased whole.
                                Pending::Redact(id, action)
                                    if container
                                        || !matches!(
                                            action,
                                            Action::Mask { .. } | Action::Pseudonymize { .. }
                                        ) =>
                                {
                                    Some((id, action))
                                }
                                _ => None,
                            };
                            let Some((id, action)) = erase else {
                                // A value to buffer: the general path reads it.
                                flush!();
                                run = (v, v);
                                self.write_key(pending, &s[i..=colon], out);
                                self.expect = Expect::Value;
                                break 'lane v;
                            };
                            flush!();
                            self.separator(out);
                            out.extend_from_slice(&s[i..=colon]);
                            if action == Action::Erase && self.erase_null {
                                out.extend_from_slice(b"null");
                            } else {
                                write_rendered(out, &self.view.render_whole(id));
                            }
                            run = (vend, vend);
                        }
                        i = vend;
                        if i + 1 < len && s[i] == b',' && s[i + 1] == b'"' {
                            self.expect = Expect::Key;
                            i += 1;
                            continue;
                        }
                        self.expect = Expect::CommaOrClose;
                        continue 'lane;
                    }
                    if pending == Pending::Plain
                        && matches!(s.get(v), Some(b'{' | b'['))
                        && v + 1 < len
                        && self.stack.len() < max_depth
                    {
                        // A plain container: `"key":{` as it came, then its contents.
                        item!(i, v + 1);
                        let parent_end = self.stack.last().map_or(0, |f| f.path_end);
                        let child = (parent_end, self.states.len());
                        self.push_frame(s[v] == b'{', child);
                        i = v + 1;
                        continue 'lane;
                    }
                    // A value to redact whole or to buffer: the general path reads it.
                    flush!();
                    run = (v, v);
                    self.write_key(pending, &s[i..=colon], out);
                    self.expect = Expect::Value;
                    break 'lane v;
                },
                Expect::KeyOrClose if b == b'}' => {}
                Expect::ValueOrClose if b == b']' => {}
                Expect::ValueOrClose | Expect::Value if !object => {
                    // An array element. Path rules on elements are the general path's.
                    let Some(frame) = self.stack.last() else {
                        break i;
                    };
                    let (start, end) = (frame.path_start, frame.path_end);
                    if start < end {
                        break i;
                    }
                    let open = matches!(b, b'{' | b'[') && i + 1 < len;
                    let to = if open {
                        if self.stack.len() >= max_depth {
                            break i;
                        }
                        i + 1
                    } else {
                        match scalar_end(s, i).filter(|_| !(self.detect && b == b'"')) {
                            Some(to) => to,
                            None => break i,
                        }
                    };
                    if let Some(frame) = self.stack.last_mut() {
                        frame.index += 1;
                    }
                    if self.has_paths {
                        self.states.truncate(end);
                    }
                    item!(i, to);
                    if open {
                        self.push_frame(b == b'{', (end, self.states.len()));
                    } else if to + 1 < len && s[to] == b',' {
                        // The next element: straight back here.
                        self.expect = Expect::Value;
                        i = to + 1;
                        continue;
                    } else {
                        self.expect = Expect::CommaOrClose;
                    }
                    i = to;
                    continue;
                }
                _ => break i,
            }
            // A close: `}` or `]` matching the container, not the top level's (the general path
            // ends documents).
            if self.stack.len() < 2 {
                break i;
            }
            self.stack.pop();
            if run.0 < run.1 && run.1 == i {
                run.1 = i + 1;
            } else {
                flush!();
                run = (i, i + 1);
            }
            self.expect = Expect::CommaOrClose;
            i += 1;
        };
        flush!();
        Ok(next)
    }

    /// Opens a plain container inline (the lane wrote its bracket).
    #[inline]
    fn push_frame(&mut self, object: bool, (path_start, path_end): (usize, usize)) {
        self.stack.push(Frame {
            object,
            written: 0,
            index: 0,
            path_start,
            path_end,
        });
        self.expect = if object {
            Expect::KeyOrClose
        } else {
            Expect::ValueOrClose
        };
    }

    /// The members lane inside a skipped container: nothing is classified or written, the
    /// members are only validated. Same contract as [`Redactor::members`].
    fn skip_members(&mut self, s: &[u8], mut i: usize) -> usize {
        let len = s.len();
        let max_key = self.config.max_key_len();
        loop {
            let end = scan_plain(s, i + 1);
            let colon = end + 1;
            // Long keys, whitespace and the chunk's end: the general path reads the key.
            if colon >= len || s[end] != b'"' || s[colon] != b':' || end - (i + 1) > max_key {
                return i;
            }
            let v = colon + 1;
            let Some(vend) = scalar_end(s, v) else {
                self.expect = Expect::Value;
                return v;
            };
            self.expect = Expect::CommaOrClose;
            i = vend;
            if i + 1 < len && s[i] == b',' && s[i + 1] == b'"' {
                self.expect = Expect::Key;
                i += 1;
            } else {
                return i;
            }
        }
    }

    /// The class of a key found in the key cache, without copying or canonicalizing it:
    /// `None` when the key is not cached (or when path rules are in force, which
    /// [`Redactor::classify_key`] handles). `s[start..end]` is the raw key.
    #[inline(always)]
    fn cached_class(&self, s: &[u8], start: usize, end: usize) -> Option<Option<ClassId>> {
        let len = end - start;
        let cache = self.cache.as_deref()?;
        if len > CACHE_KEY || self.has_paths {
            return None;
        }
        let (head, tail) = if start + 8 <= s.len() && end >= 8 {
            // Branch-free (key lengths vary unpredictably): the 8 bytes from the key's start
            // with those past its end masked off, and the last 8 bytes of keys of 8 or more;
            // the same integers `fingerprint` builds from the key alone.
            let first = load8(s, start);
            let last = load8(s, end - 8);
            let mask = u64::MAX
                .checked_shr(64 - 8 * len.min(8) as u32)
                .unwrap_or(0);
            let head = first & mask;
            (head, if len >= 8 { last } else { head })
        } else {
            fingerprint(&s[start..end])
        };
        let len = len as u8;
        let set = cache_set(head, tail, len);
        for way in [set, set + 1] {
            let entry = cache.get(way)?;
            if entry.len == len && entry.head == head && entry.tail == tail {
                return Some(entry.class);
            }
        }
        None
    }

    /// [`Redactor::decide`] for a cached name class (no path rules in force), with the
    /// canonical tag that per-field pseudonyms need.
    #[inline(always)]
    fn decide_cached(&mut self, class: Option<ClassId>, key: &[u8]) -> Pending {
        let pending = self.decide(class);
        if let Pending::Redact(_, Action::Pseudonymize { per_field: true }) = pending {
            self.canonicalize(key);
        }
        pending
    }

    /// Sets the pending action and writes `"key":` (given whole, quotes and colon included)
    /// unless the member is removed.
    #[inline]
    fn write_key(&mut self, pending: Pending, head: &[u8], out: &mut Vec<u8>) {
        self.pending = pending;
        if pending != Pending::Drop {
            self.separator(out);
            out.extend_from_slice(head);
        }
    }

    /// Fills `canon` with the canonical form of a raw key (escapes decoded first).
    fn canonicalize(&mut self, key: &[u8]) {
        self.canon.clear();
        if key.contains(&b'\\') {
            decode_into(key, &mut self.decoded);
            canonicalize_into(&self.decoded, &mut self.canon);
        } else {
            canonicalize_into(key, &mut self.canon);
        }
    }

    /// The name-rule class of a raw key, through the cache.
    fn name_class(&mut self, key: &[u8], canon_ready: bool) -> Option<ClassId> {
        let slot = if key.len() <= CACHE_KEY {
            let cache = self
                .cache
                .get_or_insert_with(|| Arc::new(vec![EMPTY_ENTRY; CACHE_SLOTS]));
            let (head, tail) = fingerprint(key);
            let len = key.len() as u8;
            let set = cache_set(head, tail, len);
            // Two-way set associative: records cycle through a few dozen keys, and a
            // direct-mapped table thrashes on the first collision. Keys of up to 16 bytes are
            // fully determined by (length, first 8 bytes, last 8 bytes): no byte compare.
            for way in [set, set + 1] {
                if let Some(entry) = cache.get(way) {
                    if entry.len == len && entry.head == head && entry.tail == tail {
                        return entry.class;
                    }
                }
            }
            // Fill an empty way, else evict the second one (the first keeps long-lived keys).
            let way = if cache.get(set).is_some_and(|e| e.len == u8::MAX) {
                set
            } else {
                set + 1
            };
            Some((
                way,
                CacheEntry {
                    len,
                    head,
                    tail,
                    class: None,
                },
            ))
        } else {
            None
        };
        if !canon_ready {
            self.canonicalize(key);
        }
        let class = self.view.policy().classify_canonical(&self.canon);
        if let Some((way, mut entry)) = slot {
            entry.class = class;
            if let Some(cache) = &mut self.cache {
                if let Some(slot) = Arc::make_mut(cache).get_mut(way) {
                    *slot = entry;
                }
                self.cache_learned = true;
            }
        }
        class
    }

    fn end_buffered_string(&mut self, out: &mut Vec<u8>) {
        match self.buf_class {
            Some(id) => {
                if self.buf_over {
                    self.oversized += 1;
                    write_rendered(out, &self.view.render_whole(id));
                    return;
                }
                decode_into(&self.val, &mut self.decoded);
                let text = String::from_utf8_lossy(&self.decoded);
                let tag = if self.tag_valid {
                    Some(&self.canon[..])
                } else {
                    None
                };
                match self.view.render(id, &text, tag) {
                    Rendered::Reveal => {
                        out.push(b'"');
                        out.extend_from_slice(&self.val);
                        out.push(b'"');
                    }
                    other => write_rendered(out, &other),
                }
            }
            None => {
                if self.buf_over {
                    self.oversized += 1;
                    write_json_str(out, ERASED);
                    return;
                }
                if !self.val.contains(&b'\\') {
                    let redacted = self.view.redact_bytes(&self.val);
                    if let std::borrow::Cow::Owned(text) = redacted {
                        self.tally_findings();
                        write_json_str(out, &String::from_utf8_lossy(&text));
                        return;
                    }
                } else {
                    decode_into(&self.val, &mut self.decoded);
                    let redacted = self.view.redact_bytes(&self.decoded);
                    if let std::borrow::Cow::Owned(text) = redacted {
                        self.tally_findings();
                        write_json_str(out, &String::from_utf8_lossy(&text));
                        return;
                    }
                }
                out.push(b'"');
                out.extend_from_slice(&self.val);
                out.push(b'"');
            }
        }
    }

    /// Records the classes the detectors found in the buffered value (only called when something
    /// was found, so the second scan is rare).
    fn tally_findings(&mut self) {
        let text: &[u8] = if self.val.contains(&b'\\') {
            &self.decoded
        } else {
            &self.val
        };
        let policy = self.view.policy();
        if let Some(scanner) = policy.detectors() {
            for finding in scanner.find(text) {
                // Unknown classes are redacted as credentials by the policy; count them so.
                let id = policy
                    .class_id(&finding.class)
                    .or_else(|| policy.class_id(&DataClass::Credential));
                if let Some(id) = id {
                    let revealed = self.view.disposition(id) == Disposition::Reveal;
                    self.tally.record(id, revealed);
                }
            }
        }
    }

    // ---- numbers and literals -----------------------------------------------------------------

    fn start_number(&mut self, s: &[u8], i: usize, out: &mut Vec<u8>) -> Result<usize, Error> {
        if self.sink == Sink::Val {
            self.val.clear();
            self.buf_over = false;
        }
        self.tok = Tok::Num(if s[i] == b'-' {
            Num::Minus
        } else if s[i] == b'0' {
            Num::Zero
        } else {
            Num::Int
        });
        let start = i + 1;
        // The first byte is part of the number: flush it with the rest.
        let next = self.number_from(s, start, i, out)?;
        Ok(next)
    }

    fn number(&mut self, s: &[u8], i: usize, out: &mut Vec<u8>) -> Result<usize, Error> {
        self.number_from(s, i, i, out)
    }

    /// Continues a number at `s[i]`; bytes from `span` on are the number's. Returns the index of
    /// the first byte after the number (not consumed), or `s.len()`.
    fn number_from(
        &mut self,
        s: &[u8],
        mut i: usize,
        span: usize,
        out: &mut Vec<u8>,
    ) -> Result<usize, Error> {
        let Tok::Num(mut num) = self.tok else {
            return Ok(i);
        };
        let len = s.len();
        while i < len {
            let b = s[i];
            num = match (num, b) {
                (Num::Minus, b'0') => Num::Zero,
                (Num::Minus, b'1'..=b'9') => Num::Int,
                (Num::Int, b'0'..=b'9') => {
                    // Fast path through digit runs.
                    i += 1;
                    while i < len && s[i].is_ascii_digit() {
                        i += 1;
                    }
                    continue;
                }
                (Num::Zero | Num::Int, b'.') => Num::Dot,
                (Num::Dot | Num::Frac, b'0'..=b'9') => Num::Frac,
                (Num::Zero | Num::Int | Num::Frac, b'e' | b'E') => Num::E,
                (Num::E, b'+' | b'-') => Num::ESign,
                (Num::E | Num::ESign | Num::Exp, b'0'..=b'9') => Num::Exp,
                _ => {
                    if !num.accepts() {
                        return self.fail(ErrorKind::Syntax, i);
                    }
                    self.flush(&s[span..i], out, i)?;
                    self.tok = Tok::None;
                    self.end_number(out);
                    return Ok(i);
                }
            };
            i += 1;
        }
        self.tok = Tok::Num(num);
        self.flush(&s[span..i], out, i)?;
        Ok(i)
    }

    fn end_number(&mut self, out: &mut Vec<u8>) {
        if self.sink == Sink::Val {
            self.end_buffered_scalar(out, None);
        }
        self.after_value(out);
    }

    fn start_literal(&mut self, s: &[u8], i: usize) -> Result<usize, Error> {
        let lit = match s[i] {
            b't' => Lit::True,
            b'f' => Lit::False,
            _ => Lit::Null,
        };
        self.tok = Tok::Lit(lit, 1);
        Ok(i + 1)
    }

    fn end_literal(&mut self, lit: Lit, out: &mut Vec<u8>) {
        match self.sink {
            Sink::Out => out.extend_from_slice(lit.text()),
            Sink::Val => self.end_buffered_scalar(out, Some(lit)),
            Sink::Skip | Sink::Key => {}
        }
        self.after_value(out);
    }

    /// Renders a buffered number (`lit` is `None`) or boolean.
    fn end_buffered_scalar(&mut self, out: &mut Vec<u8>, lit: Option<Lit>) {
        let Some(id) = self.buf_class else {
            return;
        };
        if self.buf_over {
            self.oversized += 1;
            write_rendered(out, &self.view.render_whole(id));
            return;
        }
        let text: &[u8] = match lit {
            Some(lit) => lit.text(),
            None => &self.val,
        };
        let text = String::from_utf8_lossy(text);
        let tag = if self.tag_valid {
            Some(&self.canon[..])
        } else {
            None
        };
        match self.view.render(id, &text, tag) {
            Rendered::Reveal => out.extend_from_slice(text.as_bytes()),
            other => write_rendered(out, &other),
        }
    }
}

/// Finds the first byte at or after `i` that needs attention inside a string: `"`, `\`, a
/// control character or a non-ASCII byte. Eight bytes at a time (SWAR).
#[inline]
fn scan_plain(s: &[u8], mut i: usize) -> usize {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    while i + 8 <= s.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&s[i..i + 8]);
        let w = u64::from_le_bytes(word);
        let quote = w ^ (LO * b'"' as u64);
        let backslash = w ^ (LO * b'\\' as u64);
        // A byte is flagged when it is zero (after the xor), below 0x20, or has its top bit set.
        // The lowest flagged byte is always a true hit: borrows only carry upwards.
        let hits = (quote.wrapping_sub(LO) & !quote)
            | (backslash.wrapping_sub(LO) & !backslash)
            | (w.wrapping_sub(LO * 0x20) & !w)
            | w;
        let hits = hits & HI;
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < s.len() {
        let b = s[i];
        if b == b'"' || b == b'\\' || !(0x20..0x80).contains(&b) {
            return i;
        }
        i += 1;
    }
    i
}

/// The end of a compact container at `s[i]` (`{` or `[`) that ends inside `s`, validated as the
/// general path validates a skipped value: plain keys of at most `max_key` bytes, scalars as
/// [`scalar_end`] reads them, no whitespace, nesting of at most `room` levels (and 64). `None`
/// for anything else: the general path then reads the container and reports any error.
fn skip_container(s: &[u8], mut i: usize, room: usize, max_key: usize) -> Option<usize> {
    let limit = room.min(64);
    // Bit `d` set: the container at depth `d` (0 = the outermost) is an object.
    let mut objects = 0u64;
    let mut depth = 0usize;
    // `open`: `s[i]` opens a container; else `s[i]` starts an item (after `,` or the opening).
    let mut open = true;
    loop {
        if open {
            if depth >= limit {
                return None;
            }
            let object = s[i] == b'{';
            if object {
                objects |= 1 << depth;
            } else {
                objects &= !(1 << depth);
            }
            depth += 1;
            i += 1;
            if *s.get(i)? != if object { b'}' } else { b']' } {
                open = false;
                continue;
            }
            // Empty: closed below.
        } else {
            if objects >> (depth - 1) & 1 == 1 {
                // A member: a plain key and a colon first.
                if *s.get(i)? != b'"' {
                    return None;
                }
                let end = scan_plain(s, i + 1);
                if *s.get(end)? != b'"' || end - (i + 1) > max_key || *s.get(end + 1)? != b':' {
                    return None;
                }
                i = end + 2;
            }
            if matches!(*s.get(i)?, b'{' | b'[') {
                open = true;
                continue;
            }
            i = scalar_end(s, i)?;
            match after_item(s, i, &mut depth, objects)? {
                AfterItem::Next(comma) => i = comma + 1,
                AfterItem::End(end) => return Some(end).filter(|&end| end < s.len()),
            }
            continue;
        }
        // The close of an empty container, then what follows it.
        i += 1;
        depth -= 1;
        if depth == 0 {
            return Some(i).filter(|&end| end < s.len());
        }
        match after_item(s, i, &mut depth, objects)? {
            AfterItem::Next(comma) => i = comma + 1,
            AfterItem::End(end) => return Some(end).filter(|&end| end < s.len()),
        }
        open = false;
    }
}

/// Where [`skip_container`] goes after an item.
enum AfterItem {
    /// A `,` at this index: another item follows.
    Next(usize),
    /// The outermost container closed just before this index.
    End(usize),
}

/// After an item at `s[i]`: the closes of the containers it ends (checked against `objects`,
/// `depth` lowered for each), then a `,` or the end of the outermost container. `None` for
/// anything else.
#[inline]
fn after_item(s: &[u8], mut i: usize, depth: &mut usize, objects: u64) -> Option<AfterItem> {
    loop {
        let object = objects >> (*depth - 1) & 1 == 1;
        match *s.get(i)? {
            b',' => return Some(AfterItem::Next(i)),
            b'}' if object => {}
            b']' if !object => {}
            _ => return None,
        }
        i += 1;
        *depth -= 1;
        if *depth == 0 {
            return Some(AfterItem::End(i));
        }
    }
}

/// The 8 bytes at `s[at..at + 8]` as a little-endian integer (`at + 8 <= s.len()`).
#[inline]
fn load8(s: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&s[at..at + 8]);
    u64::from_le_bytes(word)
}

/// The end (exclusive) of a complete scalar value at `s[v]` that is followed by at least one more
/// byte in `s`: a string without escapes or non-ASCII bytes, a valid number, or a literal.
/// `None` when the value is anything else, runs to the chunk's end, or is invalid (the general
/// path then reads it and reports any error at the same offset).
#[inline(always)]
fn scalar_end(s: &[u8], v: usize) -> Option<usize> {
    let end = match *s.get(v)? {
        b'"' => {
            let e = scan_plain(s, v + 1);
            if *s.get(e)? != b'"' {
                return None;
            }
            e + 1
        }
        b'-' | b'0'..=b'9' => number_end(s, v)?,
        b't' => literal_end(s, v, b"true")?,
        b'f' => literal_end(s, v, b"false")?,
        b'n' => literal_end(s, v, b"null")?,
        _ => return None,
    };
    (end < s.len()).then_some(end)
}

#[inline]
fn literal_end(s: &[u8], v: usize, text: &[u8]) -> Option<usize> {
    let end = v + text.len();
    (s.get(v..end)? == text).then_some(end)
}

/// The end of a valid number (RFC 8259 §6) at `s[i]`, if a byte that cannot continue it follows
/// in `s`.
#[inline]
fn number_end(s: &[u8], mut i: usize) -> Option<usize> {
    let digits = |i: &mut usize| -> Option<()> {
        if !s.get(*i)?.is_ascii_digit() {
            return None;
        }
        while s.get(*i)?.is_ascii_digit() {
            *i += 1;
        }
        Some(())
    };
    if s[i] == b'-' {
        i += 1;
    }
    if *s.get(i)? == b'0' {
        i += 1;
    } else {
        digits(&mut i)?;
    }
    if *s.get(i)? == b'.' {
        i += 1;
        digits(&mut i)?;
    }
    if matches!(*s.get(i)?, b'e' | b'E') {
        i += 1;
        if matches!(*s.get(i)?, b'+' | b'-') {
            i += 1;
        }
        digits(&mut i)?;
    }
    Some(i)
}

/// The first and last 8 bytes of a key of at most 16 bytes, as integers (zero-padded when
/// shorter than 8).
#[inline]
fn fingerprint(key: &[u8]) -> (u64, u64) {
    if key.len() >= 8 {
        let mut head = [0u8; 8];
        let mut tail = [0u8; 8];
        head.copy_from_slice(&key[..8]);
        tail.copy_from_slice(&key[key.len() - 8..]);
        (u64::from_le_bytes(head), u64::from_le_bytes(tail))
    } else {
        let word = key
            .iter()
            .rev()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        (word, word)
    }
}

/// The first slot of the key's two-way set.
#[inline]
fn cache_set(head: u64, tail: u64, len: u8) -> usize {
    let h = (head ^ tail.rotate_left(29) ^ u64::from(len)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    ((h >> 32) as usize % (CACHE_SLOTS / 2)) * 2
}

/// Decodes the escapes of validated raw string content into UTF-8. Lone surrogates become
/// U+FFFD.
fn decode_into(raw: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b != b'\\' {
            let run = raw[i..]
                .iter()
                .position(|&c| c == b'\\')
                .unwrap_or(raw.len() - i);
            out.extend_from_slice(&raw[i..i + run]);
            i += run;
            continue;
        }
        let Some(&e) = raw.get(i + 1) else {
            break;
        };
        i += 2;
        let c = match e {
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let hi = hex4(raw, i);
                i += 4;
                match hi {
                    Some(hi @ 0xD800..=0xDBFF) => {
                        let lo = if raw.get(i) == Some(&b'\\') && raw.get(i + 1) == Some(&b'u') {
                            hex4(raw, i + 2).filter(|lo| (0xDC00..=0xDFFF).contains(lo))
                        } else {
                            None
                        };
                        match lo {
                            Some(lo) => {
                                i += 6;
                                char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
                                    .unwrap_or('\u{FFFD}')
                            }
                            None => '\u{FFFD}',
                        }
                    }
                    Some(cp) => char::from_u32(cp).unwrap_or('\u{FFFD}'),
                    None => '\u{FFFD}',
                }
            }
            other => other as char,
        };
        let mut buf = [0u8; 4];
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
}

fn hex4(raw: &[u8], at: usize) -> Option<u32> {
    let digits = raw.get(at..at + 4)?;
    let mut value = 0u32;
    for &d in digits {
        value = value * 16 + (d as char).to_digit(16)?;
    }
    Some(value)
}

fn write_rendered(out: &mut Vec<u8>, rendered: &Rendered) {
    match rendered {
        // Reveal of a whole value never reaches here (revealed values are rewritten as they
        // stream); write null rather than nothing to keep the output valid.
        Rendered::Reveal | Rendered::Null | Rendered::Remove => out.extend_from_slice(b"null"),
        Rendered::Text(text) => write_json_str(out, text),
    }
}

/// Writes `text` as a JSON string.
fn write_json_str(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    for &b in text.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1F => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(b"\\u00");
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 15) as usize]);
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests;
