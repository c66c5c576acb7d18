//! Detectors for sensitive values in free text: payment cards, US SSNs, e-mail addresses, JWTs,
//! bearer tokens, AWS access key ids, PEM private keys and IBANs.
//!
//! A [`Scanner`] finds them in bytes (any bytes: invalid UTF-8 is fine) and redacts them.
//! Every built-in detector pairs a pattern with a validator, so that a 16-digit order id that
//! fails the Luhn check, a timestamp or a UUID is left alone:
//!
//! | detector | finds | validated by |
//! |---|---|---|
//! | [`PaymentCard`](DetectorKind::PaymentCard) | 12–19 digits, bare or grouped by spaces or dashes (`4111-1111-1111-1111`, `3782 822463 10005`) | issuer prefix and length per scheme ([`validate::card_scheme`]), Luhn |
//! | [`UsSsn`](DetectorKind::UsSsn) | `123-45-6789`, `123 45 6789`; nine bare digits only right after a keyword (`ssn=123456789`, `SSN is 123456789`, `"socialSecurityNumber": "…"`) | no `000`/`666`/`9xx` area, no `00` group, no `0000` serial |
//! | [`Email`](DetectorKind::Email) | `first.last+tag@mail.example.co.uk`, also `%40`-encoded in URLs | domain needs a dot and a letter TLD; asset names like `logo@2x.png` are skipped |
//! | [`Jwt`](DetectorKind::Jwt) | three (or five, JWE) base64url parts, the first starting `eyJ`; also URL-encoded after `%3D` or `%20` | the header decodes to a JSON object |
//! | [`BearerToken`](DetectorKind::BearerToken) | the token after `Bearer ` (also `Bearer%20…` in URLs; the word `Bearer` stays) | at least 8 characters, not a plain word; a token that is a JWT is reported as [`Jwt`](DetectorKind::Jwt) |
//! | [`AwsAccessKeyId`](DetectorKind::AwsAccessKeyId) | `AKIA`, `ASIA`, `AROA`, … followed by 16 upper-case letters or digits | exact length, word boundaries |
//! | [`PemPrivateKey`](DetectorKind::PemPrivateKey) | the whole block from `-----BEGIN … PRIVATE KEY-----` to its `-----END …-----` | a block with no END is redacted through its base64 body (fail closed) |
//! | [`Iban`](DetectorKind::Iban) | `DE89 3704 0044 0532 0130 00`, `gb82west12345698765432` | country code and that country's length, ISO 13616 mod-97 |
//!
//! ## Precision choices
//! * Numbers are never matched inside longer digit runs or words: a card or SSN must not touch
//!   another digit or letter, and a dash-joined continuation (`4111-1111-1111-1111-2222`,
//!   `123-45-6789-01`) is one longer identifier, not a card or an SSN.
//! * Nine bare digits are an SSN only after a keyword (`ssn`, `ss#`, `social security number`):
//!   without context they are far more often order ids, phone numbers or timestamps.
//! * Cards right after `+` (phone numbers) or after `-` and a letter or digit (UUID and id tails)
//!   are skipped, as is a space-grouped card whose preceding group is a short token with a digit
//!   (`ES10 5649 8156 3073 8422 0000`: the tail of an IBAN or a numeric table). Card numbers
//!   start with 2–6 (every scheme in [`validate::CardScheme`]).
//! * Grouped cards must use one separator and a real layout (4-4-4-4, 4-4-4-4-3, 4-6-5, 4-6-4);
//!   grouped IBANs must use groups of four.
//!
//! ## Overlaps
//! Findings never overlap and come sorted by start. Where detectors compete, the finding that
//! starts first wins; at the same start the longest wins; on a tie, the detector listed first in
//! [`DetectorKind::BUILT_IN`] (custom detectors come after all built-ins, in the order added).
//!
//! ## Performance
//! All enabled detectors are compiled once (the default set once per process) into one
//! multi-pattern automaton from the `regex` crate's engine (`regex-automata`, linear time, no
//! backtracking, no capture groups). One pass over the text yields candidates together with the
//! detector that matched; only candidates are validated. Throughput is that of a single regex
//! alternation (see `benches/detect.rs`). Memory: the scanner keeps no state between calls;
//! `redact*` allocate at most one output buffer, and only when something was found.
//!
//! ```
//! use safeguard::detect::{DetectorKind, Scanner};
//!
//! let scanner = Scanner::new();
//! let line = b"POST /pay card=4111-1111-1111-1111 user=jane.doe+shop@example.com order=1234567890123456";
//! let kinds: Vec<_> = scanner.find(line).into_iter().map(|f| f.kind).collect();
//! assert_eq!(kinds, [DetectorKind::PaymentCard, DetectorKind::Email]);
//! assert_eq!(
//!     scanner.redact(line).as_ref(),
//!     &b"POST /pay card=[REDACTED:payment] user=[REDACTED:personal] order=1234567890123456"[..]
//! );
//! ```

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, LazyLock};

use base64::Engine as _;
use regex_automata::meta::{Cache, Regex};
use regex_automata::util::pool::Pool;
use regex_automata::util::syntax;
use regex_automata::{Anchored, Input, MatchKind, PatternID};

use crate::DataClass;

pub mod validate;

/// What a detector looks for.
///
/// ```
/// use safeguard::detect::DetectorKind;
/// use safeguard::DataClass;
///
/// assert_eq!(DetectorKind::PaymentCard.name(), "payment_card");
/// assert_eq!(DetectorKind::Jwt.default_class(), DataClass::Credential);
/// assert_eq!(DetectorKind::custom("order_id").name(), "order_id");
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum DetectorKind {
    /// Payment card numbers (PAN): issuer prefix, scheme length and Luhn check.
    PaymentCard,
    /// US Social Security numbers with the SSA validity rules.
    UsSsn,
    /// E-mail addresses.
    Email,
    /// JSON Web Tokens (JWS, and JWE in compact form).
    Jwt,
    /// The token of a `Bearer` authorization.
    BearerToken,
    /// AWS access key ids (`AKIA…`, `ASIA…`, …).
    AwsAccessKeyId,
    /// PEM private key blocks (RSA, EC, DSA, OpenSSH, PKCS#8, encrypted, PGP).
    PemPrivateKey,
    /// International bank account numbers with the mod-97 check.
    Iban,
    /// A detector added by the user, by name.
    Custom(Arc<str>),
}

impl DetectorKind {
    /// The built-in detectors, in the order that breaks ties between overlapping findings.
    ///
    /// ```
    /// use safeguard::detect::DetectorKind;
    /// assert_eq!(DetectorKind::BUILT_IN.len(), 8);
    /// assert_eq!(DetectorKind::BUILT_IN[0], DetectorKind::PemPrivateKey);
    /// ```
    pub const BUILT_IN: [DetectorKind; 8] = [
        DetectorKind::PemPrivateKey,
        DetectorKind::BearerToken,
        DetectorKind::Jwt,
        DetectorKind::AwsAccessKeyId,
        DetectorKind::Email,
        DetectorKind::Iban,
        DetectorKind::PaymentCard,
        DetectorKind::UsSsn,
    ];

    /// A custom kind with the given name.
    ///
    /// ```
    /// use safeguard::detect::DetectorKind;
    /// assert_eq!(DetectorKind::custom("ticket"), DetectorKind::Custom("ticket".into()));
    /// ```
    pub fn custom(name: &str) -> Self {
        Self::Custom(Arc::from(name))
    }

    /// A stable snake_case name, used in audit events and metrics.
    ///
    /// ```
    /// use safeguard::detect::DetectorKind;
    /// assert_eq!(DetectorKind::AwsAccessKeyId.name(), "aws_access_key_id");
    /// ```
    pub fn name(&self) -> &str {
        match self {
            Self::PaymentCard => "payment_card",
            Self::UsSsn => "us_ssn",
            Self::Email => "email",
            Self::Jwt => "jwt",
            Self::BearerToken => "bearer_token",
            Self::AwsAccessKeyId => "aws_access_key_id",
            Self::PemPrivateKey => "pem_private_key",
            Self::Iban => "iban",
            Self::Custom(name) => name,
        }
    }

    /// The data class a finding of this kind belongs to unless the scanner was told otherwise:
    /// cards and IBANs are payment data, SSNs and e-mails personal data, tokens, keys and key ids
    /// credentials. Custom kinds answer [`DataClass::Personal`]; the class given when the custom
    /// detector was added is the one its findings carry.
    ///
    /// ```
    /// use safeguard::detect::DetectorKind;
    /// use safeguard::DataClass;
    /// assert_eq!(DetectorKind::Iban.default_class(), DataClass::Payment);
    /// assert_eq!(DetectorKind::UsSsn.default_class(), DataClass::Personal);
    /// ```
    pub fn default_class(&self) -> DataClass {
        match self {
            Self::PaymentCard | Self::Iban => DataClass::Payment,
            Self::UsSsn | Self::Email | Self::Custom(_) => DataClass::Personal,
            Self::Jwt | Self::BearerToken | Self::AwsAccessKeyId | Self::PemPrivateKey => {
                DataClass::Credential
            }
        }
    }
}

impl fmt::Display for DetectorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// One sensitive value found in a haystack: what it is, its class and where it is (byte offsets).
///
/// ```
/// use safeguard::detect::{DetectorKind, Scanner};
/// use safeguard::DataClass;
///
/// let text = b"ssn 123-45-6789";
/// let f = &Scanner::new().find(text)[0];
/// assert_eq!(f.kind, DetectorKind::UsSsn);
/// assert_eq!(f.class, DataClass::Personal);
/// assert_eq!(&text[f.span.clone()], b"123-45-6789");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The detector that found it.
    pub kind: DetectorKind,
    /// The data class it belongs to.
    pub class: DataClass,
    /// Byte range in the haystack; never empty.
    pub span: Range<usize>,
}

/// An error building a scanner.
///
/// ```
/// use safeguard::detect::{DetectError, Scanner};
/// use safeguard::DataClass;
///
/// let err = Scanner::builder().custom("bad", "(unclosed", DataClass::Internal).unwrap_err();
/// assert!(matches!(err, DetectError::InvalidPattern { .. }));
/// assert!(err.to_string().contains("bad"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DetectError {
    /// The pattern does not compile; `message` is the regex error.
    InvalidPattern {
        /// The detector's name.
        name: String,
        /// The regex engine's message.
        message: String,
    },
    /// The pattern matches the empty string, which would flag every position.
    MatchesEmpty {
        /// The detector's name.
        name: String,
    },
    /// A custom detector needs a non-empty name.
    EmptyName,
    /// A custom detector with this name (or a built-in's name) already exists.
    DuplicateName {
        /// The name given twice.
        name: String,
    },
}

impl fmt::Display for DetectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidPattern { name, message } => {
                write!(f, "detector `{name}`: invalid pattern: {message}")
            }
            Self::MatchesEmpty { name } => {
                write!(f, "detector `{name}`: pattern matches the empty string")
            }
            Self::EmptyName => f.write_str("custom detector needs a non-empty name"),
            Self::DuplicateName { name } => write!(f, "detector `{name}` is defined twice"),
        }
    }
}

impl std::error::Error for DetectError {}

/// How a candidate of a detector is confirmed.
#[derive(Clone, Copy)]
enum Rule {
    Pem,
    Bearer,
    Jwt,
    Aws,
    Email,
    SsnKeyword,
    Iban,
    Card,
    Ssn,
    Custom(Option<fn(&[u8]) -> bool>),
}

impl Rule {
    /// Whether a match of this rule can start with `b`; lets the scanner skip hopeless
    /// alternatives when breaking ties.
    fn can_start(self, b: u8) -> bool {
        match self {
            Rule::Pem => b == b'-',
            Rule::Bearer => b == b'B' || b == b'b',
            Rule::Jwt => b == b'e' || b == b'%',
            Rule::Aws => b == b'A',
            Rule::Email => b.is_ascii_alphanumeric() || b == b'_',
            Rule::SsnKeyword => b == b's' || b == b'S',
            Rule::Iban => b.is_ascii_alphabetic(),
            Rule::Card | Rule::Ssn => b.is_ascii_digit(),
            Rule::Custom(_) => true,
        }
    }

    /// A cheap look at the bytes at `s`: `false` when this rule cannot match there. Saves an
    /// anchored search per failed candidate on the hot path.
    fn may_match_at(self, h: &[u8], s: usize) -> bool {
        let at = |i: usize| h.get(s + i).copied().unwrap_or(0);
        match self {
            Rule::Ssn => (0..3).all(|i| at(i).is_ascii_digit()) && matches!(at(3), b'-' | b' '),
            Rule::Card => at(0).is_ascii_digit() && matches!(at(1), b'0'..=b'9' | b' ' | b'-'),
            Rule::Iban => at(2).is_ascii_digit() && at(3).is_ascii_digit(),
            Rule::Aws => at(0) == b'A' && at(1).is_ascii_alphanumeric(),
            _ => self.can_start(at(0)),
        }
    }

    /// The longest span a match of this rule can produce, when bounded.
    fn max_len(self) -> Option<usize> {
        match self {
            Rule::Aws => Some(20),
            Rule::Ssn => Some(11),
            Rule::Card => Some(19 + 18),
            Rule::Iban => Some(4 + 2 * 30),
            Rule::SsnKeyword => Some(64),
            _ => None,
        }
    }
}

// The built-in patterns. `(?-u)`: ASCII classes and ASCII word boundaries, which keep the lazy
// DFA on its fast path for any input bytes. Every pattern but the bearer/JWT bodies has a bounded
// length, so a failed candidate costs a bounded amount of re-scanning.
const PEM: &str = r"(?-u)-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----";
const BEARER: &str = r"(?-u)\b(?i:bearer)(?:[ \t]+|%20|\+)[A-Za-z0-9._~+/-]+=*";
const JWT: &str = r"(?-u)(?:\b|%3[Dd]|%20)eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*";
const AWS: &str =
    r"(?-u)\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|ASCA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}\b";
const EMAIL: &str = r"(?-u)\b[A-Za-z0-9_][A-Za-z0-9._%+-]{0,63}(?:@|%40)(?:[A-Za-z0-9-]{1,63}\.){1,8}[A-Za-z]{2,24}\b";
const SSN_KEYWORD: &str = r"(?-u)\b(?i:ssn|ss#|social[ _-]?sec(?:urity)?(?:[ _-]?(?:number|num|nr|no))?)[^A-Za-z0-9\r\n]{0,4}(?:(?i:is|was|number|num|no|nr)[^A-Za-z0-9\r\n]{1,4})?[0-9]{3}[- ]?[0-9]{2}[- ]?[0-9]{4}\b";
const IBAN: &str = r"(?-u)\b[A-Za-z]{2}[0-9]{2}(?: ?[A-Za-z0-9]){11,30}";
const CARD: &str = r"(?-u)\b[2-6](?:[ -]?[0-9]){11,18}";
const SSN: &str = r"(?-u)\b[0-9]{3}[- ][0-9]{2}[- ][0-9]{4}\b";

/// The built-in detectors: (kind, rule, pattern), in priority order. The SSN has two patterns.
fn built_in_specs(kind: &DetectorKind) -> &'static [(Rule, &'static str)] {
    match kind {
        DetectorKind::PemPrivateKey => &[(Rule::Pem, PEM)],
        DetectorKind::BearerToken => &[(Rule::Bearer, BEARER)],
        DetectorKind::Jwt => &[(Rule::Jwt, JWT)],
        DetectorKind::AwsAccessKeyId => &[(Rule::Aws, AWS)],
        DetectorKind::Email => &[(Rule::Email, EMAIL)],
        DetectorKind::Iban => &[(Rule::Iban, IBAN)],
        DetectorKind::PaymentCard => &[(Rule::Card, CARD)],
        DetectorKind::UsSsn => &[(Rule::SsnKeyword, SSN_KEYWORD), (Rule::Ssn, SSN)],
        DetectorKind::Custom(_) => &[],
    }
}

#[derive(Clone)]
struct Detector {
    kind: DetectorKind,
    class: DataClass,
    rule: Rule,
    pattern: Arc<str>,
}

type CacheFn = Box<
    dyn Fn() -> Option<Cache> + Send + Sync + std::panic::RefUnwindSafe + std::panic::UnwindSafe,
>;
type CachePool = Pool<Option<Cache>, CacheFn>;

/// `None` caches for a scanner with no detectors (it never searches).
fn cache_pool(regex: Option<&Regex>) -> CachePool {
    let regex = regex.cloned();
    Pool::new(Box::new(move || regex.as_ref().map(Regex::create_cache)))
}

struct Inner {
    /// One pattern per detector, pattern id = index in `detectors`. `None` when nothing is on.
    regex: Option<Regex>,
    /// Search caches, one per thread at a time; a scan holds one for all its searches.
    caches: CachePool,
    detectors: Vec<Detector>,
    /// No custom detector: every pattern starts at a word boundary or a non-word byte.
    all_built_in: bool,
    /// Index of the JWT detector, when on.
    jwt: Option<usize>,
}

fn syntax_config() -> syntax::Config {
    // `utf8(false)`: the scanner works on arbitrary bytes, not only on valid UTF-8.
    syntax::Config::new().utf8(false)
}

fn compile(patterns: &[&str]) -> Result<Regex, String> {
    Regex::builder()
        .syntax(syntax_config())
        .configure(
            Regex::config()
                .match_kind(MatchKind::LeftmostFirst)
                .utf8_empty(false),
        )
        .build_many(patterns)
        .map_err(|e| e.to_string())
}

impl Inner {
    fn build(detectors: Vec<Detector>) -> Result<Self, DetectError> {
        if detectors.is_empty() {
            return Ok(Self::new(None, detectors));
        }
        let patterns: Vec<&str> = detectors.iter().map(|d| &*d.pattern).collect();
        let regex = compile(&patterns).map_err(|e| DetectError::InvalidPattern {
            name: detectors
                .iter()
                .map(|d| d.kind.name())
                .collect::<Vec<_>>()
                .join(","),
            message: e,
        })?;
        Ok(Self::new(Some(regex), detectors))
    }

    fn new(regex: Option<Regex>, detectors: Vec<Detector>) -> Self {
        let all_built_in = detectors.iter().all(|d| !matches!(d.rule, Rule::Custom(_)));
        let jwt = detectors.iter().position(|d| matches!(d.rule, Rule::Jwt));
        Self {
            caches: cache_pool(regex.as_ref()),
            regex,
            detectors,
            all_built_in,
            jwt,
        }
    }

    /// The first finding that starts at or after `pos`.
    fn next_from(&self, cache: &mut Option<Cache>, h: &[u8], mut pos: usize) -> Option<Finding> {
        let (re, cache) = (self.regex.as_ref()?, cache.as_mut()?);
        while pos < h.len() {
            let m = re.search_with(cache, &Input::new(h).range(pos..))?;
            let s = m.start();
            let primary = m.pattern().as_usize();
            let mut best: Option<(Range<usize>, usize)> = self
                .confirm(primary, h, m.range())
                .map(|span| (span, primary));
            // Leftmost-first: detectors listed before `primary` do not match at `s`. Those after
            // it may give a longer (or the only valid) finding: try them anchored at `s`, so
            // ties follow the documented rule, not the automaton's preference.
            let first = h[s];
            for (idx, det) in self.detectors.iter().enumerate().skip(primary + 1) {
                if !det.rule.may_match_at(h, s) {
                    continue;
                }
                if let (Some((b, _)), Some(max)) = (&best, det.rule.max_len()) {
                    if b.start == s && b.end - s >= max {
                        continue; // cannot be longer
                    }
                }
                let Ok(pid) = PatternID::new(idx) else {
                    continue;
                };
                let input = Input::new(h).range(s..).anchored(Anchored::Pattern(pid));
                let Some(alt) = re.search_with(cache, &input) else {
                    continue;
                };
                if let Some(span) = self.confirm(idx, h, alt.range()) {
                    best = Some(match best {
                        Some(b) if !better(&span, idx, &b.0, b.1) => b,
                        _ => (span, idx),
                    });
                }
            }
            if let Some((span, mut idx)) = best {
                // A bearer token that is a JWT is reported as the more specific kind.
                if matches!(self.detectors[idx].rule, Rule::Bearer) {
                    if let Some(jwt) = self.jwt {
                        if is_whole_jwt(h, &span) {
                            idx = jwt;
                        }
                    }
                }
                let det = &self.detectors[idx];
                return Some(Finding {
                    kind: det.kind.clone(),
                    class: det.class.clone(),
                    span,
                });
            }
            // Every built-in pattern starts at a word boundary (or with a non-word byte), so
            // none can start inside the word that failed here: skip it. Custom patterns may,
            // so with any of them only one byte is skipped.
            pos = if self.all_built_in && is_word(first) {
                s + h[s..].iter().take_while(|&&b| is_word(b)).count()
            } else {
                s + 1
            };
            // A JWT whose header failed: every `eyJ` inside that header shares its payload and
            // would make the automaton re-read it (quadratic on `eyJ-eyJ-....x.y`). Skip the
            // header; a value starting inside a base64url run that opens with `eyJ` and goes
            // on with `.payload.signature` is not given up lightly, but it is given up.
            if matches!(self.detectors[primary].rule, Rule::Jwt) {
                if let Some(dot) = h[s..m.end()].iter().position(|&b| b == b'.') {
                    pos = pos.max(s + dot);
                }
            }
        }
        None
    }

    /// The finding span for a candidate of detector `idx`, or `None` when validation fails.
    /// Every span returned is non-empty, inside `h` and starts at or after `r.start`.
    fn confirm(&self, idx: usize, h: &[u8], r: Range<usize>) -> Option<Range<usize>> {
        let span = match self.detectors.get(idx)?.rule {
            Rule::Pem => pem_span(h, r.clone()),
            Rule::Bearer => bearer_span(h, r.clone()),
            Rule::Jwt => jwt_span(h, r.clone()),
            Rule::Aws => Some(r.clone()),
            Rule::Email => email_span(h, r.clone()),
            Rule::SsnKeyword => ssn_keyword_span(h, r.clone()),
            Rule::Iban => iban_span(h, r.clone()),
            Rule::Card => card_span(h, r.clone()),
            Rule::Ssn => ssn_span(h, r.clone()),
            Rule::Custom(validator) => {
                let ok = validator.is_none_or(|v| v(&h[r.clone()]));
                ok.then(|| r.clone())
            }
        }?;
        (!span.is_empty() && span.start >= r.start && span.end <= h.len()).then_some(span)
    }
}

/// Whether finding `a` (from detector `ai`) beats finding `b` (from `bi`): earlier start, then
/// longer, then the detector listed first.
fn better(a: &Range<usize>, ai: usize, b: &Range<usize>, bi: usize) -> bool {
    (a.start, std::cmp::Reverse(a.end), ai) < (b.start, std::cmp::Reverse(b.end), bi)
}

// ---------------------------------------------------------------------------------------------
// Confirmation of candidates. Each gets the regex match range and returns the finding's span.

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// `sep` followed by a digit at `i`: the number goes on (`4111-1111-…-2222`).
fn continues_at(h: &[u8], i: usize, sep: u8) -> bool {
    h.get(i) == Some(&sep) && h.get(i + 1).is_some_and(u8::is_ascii_digit)
}

/// A digit followed by `sep` right before `s`: the number started earlier (`1-123-45-6789`).
fn continued_before(h: &[u8], s: usize, sep: u8) -> bool {
    s >= 2 && h[s - 1] == sep && h[s - 2].is_ascii_digit()
}

fn card_span(h: &[u8], r: Range<usize>) -> Option<Range<usize>> {
    let s = r.start;
    // `+4915123456789` is a phone number; `a716-446655440000` the tail of a UUID or id. After a
    // word, `+` is a URL-encoded space (`q=card+4111111111111111`), not a phone prefix.
    let before = |i: usize| s.checked_sub(i).map(|i| h[i]);
    let after_word = before(2).is_some_and(|b| b.is_ascii_alphanumeric());
    if before(1) == Some(b'+') && !after_word || before(1) == Some(b'-') && after_word {
        return None;
    }
    // Split the candidate into digit groups; the regex guarantees single separators between
    // digits. A change of separator ends the candidate.
    let mut groups: [(usize, usize); 19] = [(0, 0); 19];
    let mut n = 0;
    let mut sep: Option<u8> = None;
    let mut i = s;
    while i < r.end && n < groups.len() {
        let start = i;
        while i < r.end && h[i].is_ascii_digit() {
            i += 1;
        }
        groups[n] = (start, i);
        n += 1;
        if i < r.end {
            if sep.is_some_and(|c| c != h[i]) {
                break;
            }
            sep = Some(h[i]);
            i += 1;
        }
    }
    // The regex stops after 19 digits; if the text goes on with a digit, the last group was
    // cut: drop it (a single group means one run longer than any card).
    if n > 0 && h.get(groups[n - 1].1).is_some_and(u8::is_ascii_digit) {
        n -= 1;
        if n <= 1 && sep.is_none() {
            return None;
        }
    }
    let groups = &groups[..n];
    // Inside a longer space-grouped sequence (`ES10 5649 8156 3073 8422 0000`, a failed IBAN;
    // numeric tables): the group before holds a digit.
    if n > 1 && sep == Some(b' ') && s >= 2 && h[s - 1] == b' ' {
        let token = h[..s - 1]
            .iter()
            .rev()
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        let token_start = s - 1 - token;
        let token = &h[token_start..s - 1];
        let standalone = token_start == 0 || h[token_start - 1] == b' ';
        if standalone && token.len() <= 4 && token.iter().any(u8::is_ascii_digit) {
            return None;
        }
    }
    let mut digits = [0u8; 24];
    for j in (0..groups.len()).rev() {
        let g = &groups[..=j];
        let count: usize = g.iter().map(|(a, b)| b - a).sum();
        if count < 12 {
            break;
        }
        if count > 19 || !card_layout(g) {
            continue;
        }

        let end = g[j].1;
        match h.get(end) {
            Some(&b) if is_word(b) => continue,
            _ if continues_at(h, end, b'-') => continue,
            _ => {}
        }
        let mut k = 0;
        for &(a, b) in g {
            for &d in &h[a..b] {
                digits[k] = d - b'0';
                k += 1;
            }
        }
        if validate::card_digits(&digits[..k]) {
            return Some(s..end);
        }
    }
    None
}

/// Layouts cards are printed in: one run; 4-4-…-4 with a shorter last group (4-4-4-4,
/// 4-4-4-4-3); Amex 4-6-5 and Diners 4-6-4.
fn card_layout(g: &[(usize, usize)]) -> bool {
    let len = |i: usize| g[i].1 - g[i].0;
    match g.len() {
        0 => false,
        1 => true,
        n => {
            len(0) == 4
                && ((1..n - 1).all(|i| len(i) == 4) && (1..=4).contains(&len(n - 1))
                    || n == 3 && len(1) == 6 && (len(2) == 4 || len(2) == 5))
        }
    }
}

fn ssn_span(h: &[u8], r: Range<usize>) -> Option<Range<usize>> {
    let v = &h[r.clone()];
    let sep = *v.get(3)?;
    if v.get(6) != Some(&sep) || continued_before(h, r.start, sep) || continues_at(h, r.end, sep) {
        return None;
    }
    validate::ssn(v).then_some(r)
}

fn ssn_keyword_span(h: &[u8], r: Range<usize>) -> Option<Range<usize>> {
    // The number is the tail: nine digits with up to two separators.
    let mut start = r.end;
    let mut digits = [0u8; 9];
    let mut k = 9;
    while k > 0 && start > r.start {
        start -= 1;
        let b = h[start];
        if b.is_ascii_digit() {
            k -= 1;
            digits[k] = b;
        } else if b != b'-' && b != b' ' {
            return None;
        }
    }
    if k != 0 {
        return None;
    }
    let v = &h[start..r.end];
    let layout_ok = v.len() == 9 || (v.len() == 11 && v[3] == v[6]);
    (layout_ok && validate::ssn_digits(&digits)).then_some(start..r.end)
}

/// File extensions that look like TLDs in asset names such as `logo@2x.png`.
const NOT_TLDS: &[&[u8]] = &[
    b"png", b"jpg", b"jpeg", b"gif", b"svg", b"webp", b"ico", b"bmp", b"css", b"js", b"mjs",
    b"map", b"json", b"html", b"htm", b"txt", b"log", b"xml", b"yml", b"yaml", b"toml", b"lock",
    b"woff", b"woff2", b"ttf", b"pdf",
];

fn email_span(h: &[u8], r: Range<usize>) -> Option<Range<usize>> {
    let v = &h[r.clone()];
    let tld_start = v.iter().rposition(|&b| b == b'.')? + 1;
    let tld = &v[tld_start..];
    if NOT_TLDS.iter().any(|t| tld.eq_ignore_ascii_case(t)) {
        return None;
    }
    Some(r)
}

/// Decodes base64url with or without padding, tolerating non-canonical trailing bits.
static B64URL: LazyLock<base64::engine::GeneralPurpose> = LazyLock::new(|| {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new()
            .with_decode_padding_mode(DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    )
});

/// JWT headers are small; anything longer is not decoded (and not taken for a JWT).
const MAX_JWT_HEADER: usize = 16 * 1024;

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

fn jwt_span(h: &[u8], r: Range<usize>) -> Option<Range<usize>> {
    let start = if h[r.start] == b'%' {
        r.start + 3
    } else {
        r.start
    };
    let header_len = h[start..r.end].iter().position(|&b| b == b'.')?;
    if header_len > MAX_JWT_HEADER {
        return None;
    }
    let header = B64URL.decode(&h[start..start + header_len]).ok()?;
    let header = header.trim_ascii();
    let is_object =
        header.first() == Some(&b'{') && header.last() == Some(&b'}') && header.contains(&b'"');
    if !is_object {
        return None;
    }
    // JWE compact serialization has five parts; take the last two as well.
    let mut end = r.end;
    for _ in 0..2 {
        if h.get(end) != Some(&b'.') {
            break;
        }
        let part = h[end + 1..].iter().take_while(|&&b| is_b64url(b)).count();
        end += 1 + part;
    }
    Some(start..end)
}

/// Whether `span` is exactly one JWT (three or five base64url parts, valid header).
fn is_whole_jwt(h: &[u8], span: &Range<usize>) -> bool {
    let v = &h[span.clone()];
    let dots = v.iter().filter(|&&b| b == b'.').count();
    v.starts_with(b"eyJ")
        && (dots == 2 || dots == 4)
        && v.iter().all(|&b| is_b64url(b) || b == b'.')
        && jwt_span(h, span.clone()) == Some(span.clone())
}

fn bearer_span(h: &[u8], r: Range<usize>) -> Option<Range<usize>> {
    // After `Bearer`: blanks, or `%20` / `+` when the header value sits URL-encoded in a URL.
    let mut token_start = r.start + 6;
    loop {
        let rest = &h[token_start..r.end];
        if rest.starts_with(b"%20") {
            token_start += 3;
        } else if rest
            .first()
            .is_some_and(|&b| b == b' ' || b == b'\t' || b == b'+')
        {
            token_start += 1;
        } else {
            break;
        }
    }
    let token = &h[token_start..r.end];
    let plain_word = token.iter().all(u8::is_ascii_alphabetic) && token.len() < 20;
    (token.len() >= 8 && !plain_word).then_some(token_start..r.end)
}

/// How far past an odd byte in a PEM body the END line is still looked for.
const MAX_PEM_BLOCK: usize = 64 * 1024;

static PEM_END: LazyLock<Option<regex::bytes::Regex>> = LazyLock::new(|| {
    regex::bytes::Regex::new(r"(?-u)\A-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----").ok()
});

/// Bytes of a PEM body: base64, `Proc-Type:`/`DEK-Info:` headers, raw or escaped newlines.
fn is_pem_body(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"+/=\\:,- \t\r\n".contains(&b)
}

fn pem_span(h: &[u8], r: Range<usize>) -> Option<Range<usize>> {
    let end_line = |at: usize| {
        let window = &h[at..h.len().min(at + 80)];
        PEM_END.as_ref()?.find(window).map(|m| at + m.end())
    };
    // Each byte is read once: the body stops at the first `-----`, which is the END line or,
    // for a truncated key, the start of whatever follows.
    let mut end = r.end;
    while end < h.len() && is_pem_body(h[end]) && !h[end..].starts_with(b"-----") {
        end += 1;
    }
    if h[end..].starts_with(b"-----") {
        return Some(r.start..end_line(end).unwrap_or(end));
    }
    // A byte no PEM body holds (unusual escaping): the END line may still come before the next
    // `-----`. If not, fail closed with the body read so far.
    let limit = h.len().min(end + MAX_PEM_BLOCK);
    let next = h[end..limit].windows(5).position(|w| w == b"-----");
    Some(r.start..next.and_then(|p| end_line(end + p)).unwrap_or(end))
}

fn iban_span(h: &[u8], r: Range<usize>) -> Option<Range<usize>> {
    let len = validate::iban_length(&h[r.start..r.start + 2])?;
    let mut buf = [0u8; 34];
    let mut k = 0;
    let mut spaced = false;
    let mut i = r.start;
    while k < len && i < r.end {
        let b = h[i];
        if b == b' ' {
            // Printed IBANs are grouped by four: a space may only follow a full group, and once
            // spaces are used every group boundary has one.
            if k % 4 != 0 || (k > 4 && !spaced) {
                return None;
            }
            spaced = true;
        } else {
            if spaced && k % 4 == 0 && k > 0 && h[i - 1] != b' ' {
                return None;
            }
            *buf.get_mut(k)? = b.to_ascii_uppercase();
            k += 1;
        }
        i += 1;
    }
    if k != len || h.get(i).is_some_and(|&b| is_word(b)) {
        return None;
    }
    validate::iban_compact(&buf[..k]).then_some(r.start..i)
}

// ---------------------------------------------------------------------------------------------

/// Finds and redacts sensitive values in text.
///
/// Build one at startup ([`Scanner::new`] for all built-in detectors, [`Scanner::builder`] to
/// choose) and share it: clones are cheap and it is `Send + Sync`.
///
/// ```
/// use safeguard::detect::Scanner;
///
/// let scanner = Scanner::new();
/// let out = scanner.redact_str("Authorization: Bearer abc123def456ghi789");
/// assert_eq!(out, "Authorization: Bearer [REDACTED:credential]");
/// ```
#[derive(Clone)]
pub struct Scanner {
    inner: Arc<Inner>,
}

static DEFAULT: LazyLock<Result<Scanner, DetectError>> =
    LazyLock::new(|| ScannerBuilder::new().build_uncached());

impl Default for Scanner {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Scanner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scanner")
            .field(
                "detectors",
                &self
                    .inner
                    .detectors
                    .iter()
                    .map(|d| d.kind.name())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Scanner {
    /// A scanner with every built-in detector on, compiled once per process.
    ///
    /// ```
    /// use safeguard::detect::Scanner;
    /// assert!(Scanner::new().contains_any(b"AKIAIOSFODNN7EXAMPLE"));
    /// ```
    pub fn new() -> Self {
        match &*DEFAULT {
            Ok(scanner) => scanner.clone(),
            // The built-in patterns are constants covered by tests; should they ever fail to
            // compile, a scanner that treats every byte as sensitive keeps the data in.
            Err(_) => Self::fail_closed(),
        }
    }

    fn fail_closed() -> Self {
        let detectors = vec![Detector {
            kind: DetectorKind::custom("unavailable"),
            class: DataClass::Credential,
            rule: Rule::Custom(None),
            pattern: Arc::from(r"(?s-u)."),
        }];
        let regex = compile(&[r"(?s-u)(?:.)+"]).ok();
        Self {
            inner: Arc::new(Inner::new(regex, detectors)),
        }
    }

    /// A builder starting from all built-in detectors.
    ///
    /// ```
    /// use safeguard::detect::{DetectorKind, Scanner};
    /// let s = Scanner::builder().disable(DetectorKind::Email).build().unwrap();
    /// assert!(!s.contains_any(b"jane@example.com"));
    /// ```
    pub fn builder() -> ScannerBuilder {
        ScannerBuilder::new()
    }

    /// The enabled detectors and their patterns, in priority order (the SSN detector has two
    /// patterns: grouped, and nine digits after a keyword).
    ///
    /// ```
    /// use safeguard::detect::{DetectorKind, Scanner};
    /// let s = Scanner::builder().only([DetectorKind::Iban]).build().unwrap();
    /// let kinds: Vec<_> = s.patterns().map(|(k, _)| k.clone()).collect();
    /// assert_eq!(kinds, [DetectorKind::Iban]);
    /// ```
    pub fn patterns(&self) -> impl Iterator<Item = (&DetectorKind, &str)> + '_ {
        self.inner.detectors.iter().map(|d| (&d.kind, &*d.pattern))
    }

    /// All findings, validated, non-overlapping and sorted by start.
    ///
    /// ```
    /// use safeguard::detect::{DetectorKind, Scanner};
    /// let text = b"iban DE89 3704 0044 0532 0130 00, card 4111 1111 1111 1112 (bad Luhn)";
    /// let found = Scanner::new().find(text);
    /// assert_eq!(found.len(), 1);
    /// assert_eq!(found[0].kind, DetectorKind::Iban);
    /// assert_eq!(&text[found[0].span.clone()], b"DE89 3704 0044 0532 0130 00");
    /// ```
    pub fn find(&self, haystack: &[u8]) -> Vec<Finding> {
        self.find_iter(haystack).collect()
    }

    /// The findings one at a time, in the same order as [`Scanner::find`].
    ///
    /// ```
    /// use safeguard::detect::Scanner;
    /// let s = Scanner::new();
    /// let mut it = s.find_iter(b"a@example.com b@example.org");
    /// assert_eq!(it.next().map(|f| f.span), Some(0..13));
    /// assert_eq!(it.next().map(|f| f.span), Some(14..27));
    /// assert_eq!(it.next(), None);
    /// ```
    pub fn find_iter<'h>(&'h self, haystack: &'h [u8]) -> impl Iterator<Item = Finding> + 'h {
        let mut pos = 0;
        // One cache for the whole scan instead of one pool round-trip per search.
        let mut cache = self.inner.caches.get();
        std::iter::from_fn(move || {
            let f = self.inner.next_from(&mut cache, haystack, pos)?;
            pos = f.span.end;
            Some(f)
        })
    }

    /// Whether the haystack holds anything the scanner finds; stops at the first finding.
    ///
    /// ```
    /// use safeguard::detect::Scanner;
    /// let s = Scanner::new();
    /// assert!(s.contains_any(b"ssn=078-05-1120"));
    /// assert!(!s.contains_any(b"2024-01-15T10:23:45Z GET /health 200 order=1234567890123456"));
    /// ```
    pub fn contains_any(&self, haystack: &[u8]) -> bool {
        let mut cache = self.inner.caches.get();
        self.inner.next_from(&mut cache, haystack, 0).is_some()
    }

    /// Copies the haystack, letting `replace` write what goes in place of each finding (it gets
    /// the finding, the original bytes and the output buffer). Borrows when nothing is found.
    ///
    /// ```
    /// use safeguard::detect::Scanner;
    /// let s = Scanner::new();
    /// let out = s.redact_with(b"card 4111111111111111", |_, value, out| {
    ///     out.extend_from_slice(b"****");
    ///     out.extend_from_slice(&value[value.len() - 4..]);
    /// });
    /// assert_eq!(out.as_ref(), b"card ****1111");
    /// ```
    pub fn redact_with<'h>(
        &self,
        haystack: &'h [u8],
        mut replace: impl FnMut(&Finding, &[u8], &mut Vec<u8>),
    ) -> Cow<'h, [u8]> {
        let mut findings = self.find_iter(haystack).peekable();
        if findings.peek().is_none() {
            return Cow::Borrowed(haystack);
        }
        let mut out = Vec::with_capacity(haystack.len());
        let mut last = 0;
        for f in findings {
            out.extend_from_slice(&haystack[last..f.span.start]);
            replace(&f, &haystack[f.span.clone()], &mut out);
            last = f.span.end;
        }
        out.extend_from_slice(&haystack[last..]);
        Cow::Owned(out)
    }

    /// Replaces each finding by its class marker, e.g. `[REDACTED:payment]`
    /// ([`DataClass::marker`]).
    ///
    /// ```
    /// use safeguard::detect::Scanner;
    /// let out = Scanner::new().redact(b"\xff\xfe key=AKIAIOSFODNN7EXAMPLE");
    /// assert_eq!(out.as_ref(), b"\xff\xfe key=[REDACTED:credential]");
    /// ```
    pub fn redact<'h>(&self, haystack: &'h [u8]) -> Cow<'h, [u8]> {
        self.redact_with(haystack, |f, _, out| {
            out.extend_from_slice(f.class.marker().as_bytes())
        })
    }

    /// [`Scanner::redact`] for text. The output stays valid UTF-8: a finding that would cut a
    /// character (possible only with custom byte patterns) is widened to whole characters.
    ///
    /// ```
    /// use safeguard::detect::Scanner;
    /// let out = Scanner::new().redact_str("Zoë's card: 5555 5555 5555 4444 ✓");
    /// assert_eq!(out, "Zoë's card: [REDACTED:payment] ✓");
    /// ```
    pub fn redact_str<'h>(&self, text: &'h str) -> Cow<'h, str> {
        let mut findings = self.find_iter(text.as_bytes()).peekable();
        if findings.peek().is_none() {
            return Cow::Borrowed(text);
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for f in findings {
            let mut start = f.span.start.max(last);
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            let start = start.max(last);
            let mut end = f.span.end;
            while !text.is_char_boundary(end) {
                end += 1;
            }
            if end <= last {
                continue;
            }
            out.push_str(text.get(last..start).unwrap_or_default());
            out.push_str(&f.class.marker());
            last = end;
        }
        out.push_str(text.get(last..).unwrap_or_default());
        Cow::Owned(out)
    }
}

/// Chooses the detectors of a [`Scanner`]: switch built-ins on and off, add your own.
///
/// ```
/// use safeguard::detect::{DetectorKind, Scanner};
/// use safeguard::DataClass;
///
/// let scanner = Scanner::builder()
///     .only([DetectorKind::PaymentCard])
///     .custom("ticket", r"\bTCK-[0-9]{6}\b", DataClass::Internal)?
///     .build()?;
/// assert_eq!(
///     scanner.redact_str("TCK-004211: refund 4111111111111111"),
///     "[REDACTED:internal]: refund [REDACTED:payment]"
/// );
/// # Ok::<(), safeguard::detect::DetectError>(())
/// ```
#[derive(Clone)]
pub struct ScannerBuilder {
    enabled: Vec<DetectorKind>,
    classes: Vec<(DetectorKind, DataClass)>,
    custom: Vec<Detector>,
}

impl fmt::Debug for ScannerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScannerBuilder")
            .field("enabled", &self.enabled)
            .field(
                "custom",
                &self
                    .custom
                    .iter()
                    .map(|d| d.kind.name())
                    .collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Default for ScannerBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ScannerBuilder {
    /// All built-in detectors on, no custom ones.
    ///
    /// ```
    /// use safeguard::detect::ScannerBuilder;
    /// assert!(ScannerBuilder::new().build().unwrap().contains_any(b"a@b.io"));
    /// ```
    pub fn new() -> Self {
        Self {
            enabled: DetectorKind::BUILT_IN.to_vec(),
            classes: Vec::new(),
            custom: Vec::new(),
        }
    }

    /// Switches a built-in detector off (a custom kind removes that custom detector).
    ///
    /// ```
    /// use safeguard::detect::{DetectorKind, Scanner};
    /// let s = Scanner::builder().disable(DetectorKind::PaymentCard).build().unwrap();
    /// assert!(!s.contains_any(b"4111111111111111"));
    /// ```
    pub fn disable(mut self, kind: DetectorKind) -> Self {
        self.enabled.retain(|k| *k != kind);
        self.custom.retain(|d| d.kind != kind);
        self
    }

    /// Switches a built-in detector on (no effect for custom kinds: add those with
    /// [`ScannerBuilder::custom`]).
    ///
    /// ```
    /// use safeguard::detect::{DetectorKind, Scanner};
    /// let s = Scanner::builder().none().enable(DetectorKind::Jwt).build().unwrap();
    /// assert!(!s.contains_any(b"4111111111111111"));
    /// ```
    pub fn enable(mut self, kind: DetectorKind) -> Self {
        if !matches!(kind, DetectorKind::Custom(_)) && !self.enabled.contains(&kind) {
            self.enabled.push(kind);
        }
        self
    }

    /// Exactly these built-in detectors (custom ones already added stay).
    ///
    /// ```
    /// use safeguard::detect::{DetectorKind, Scanner};
    /// let s = Scanner::builder().only([DetectorKind::Email]).build().unwrap();
    /// assert!(s.contains_any(b"x@example.com"));
    /// assert!(!s.contains_any(b"AKIAIOSFODNN7EXAMPLE"));
    /// ```
    pub fn only(mut self, kinds: impl IntoIterator<Item = DetectorKind>) -> Self {
        self.enabled.clear();
        for kind in kinds {
            self = self.enable(kind);
        }
        self
    }

    /// No built-in detectors (start here to use only your own).
    ///
    /// ```
    /// use safeguard::detect::Scanner;
    /// let s = Scanner::builder().none().build().unwrap();
    /// assert!(s.find(b"4111111111111111 a@b.io").is_empty());
    /// ```
    pub fn none(mut self) -> Self {
        self.enabled.clear();
        self
    }

    /// Sets the data class findings of `kind` carry (default: [`DetectorKind::default_class`]).
    ///
    /// ```
    /// use safeguard::detect::{DetectorKind, Scanner};
    /// use safeguard::DataClass;
    /// let s = Scanner::builder().class(DetectorKind::Email, DataClass::Internal).build().unwrap();
    /// assert_eq!(s.redact_str("ops@example.com"), "[REDACTED:internal]");
    /// ```
    pub fn class(mut self, kind: DetectorKind, class: DataClass) -> Self {
        self.classes.retain(|(k, _)| *k != kind);
        for d in self.custom.iter_mut().filter(|d| d.kind == kind) {
            d.class = class.clone();
        }
        self.classes.push((kind, class));
        self
    }

    /// Adds a detector for `pattern` (regex syntax of the `regex` crate, matched on bytes;
    /// `(?i)`, `\b`, classes as usual). Findings carry `class` and kind
    /// `DetectorKind::Custom(name)`. Unicode mode is on by default; `(?-u:\b)` and ASCII
    /// classes keep the scan on the fast lazy-DFA path for non-ASCII text. Keep custom patterns
    /// bounded in length: a failed candidate is re-scanned from its next byte.
    ///
    /// ```
    /// use safeguard::detect::{DetectError, Scanner};
    /// use safeguard::DataClass;
    /// let s = Scanner::builder().none().custom("emp", r"\bEMP[0-9]{5}\b", DataClass::Personal)?.build()?;
    /// assert_eq!(s.find(b"by EMP01234").len(), 1);
    /// assert!(matches!(
    ///     Scanner::builder().custom("e", "x*", DataClass::Personal),
    ///     Err(DetectError::MatchesEmpty { .. })
    /// ));
    /// # Ok::<(), DetectError>(())
    /// ```
    pub fn custom(self, name: &str, pattern: &str, class: DataClass) -> Result<Self, DetectError> {
        self.add_custom(name, pattern, class, None)
    }

    /// Like [`ScannerBuilder::custom`], keeping only matches for which `validator` answers
    /// `true` (it gets the matched bytes). The [`validate`] functions fit here.
    ///
    /// ```
    /// use safeguard::detect::{validate, Scanner};
    /// use safeguard::DataClass;
    /// let s = Scanner::builder()
    ///     .none()
    ///     .custom_validated("acct", r"\bACCT:[0-9]{16}\b", DataClass::Payment, |m| validate::luhn(&m[5..]))?
    ///     .build()?;
    /// assert!(s.contains_any(b"ACCT:4111111111111111"));
    /// assert!(!s.contains_any(b"ACCT:4111111111111112"));
    /// # Ok::<(), safeguard::detect::DetectError>(())
    /// ```
    pub fn custom_validated(
        self,
        name: &str,
        pattern: &str,
        class: DataClass,
        validator: fn(&[u8]) -> bool,
    ) -> Result<Self, DetectError> {
        self.add_custom(name, pattern, class, Some(validator))
    }

    fn add_custom(
        mut self,
        name: &str,
        pattern: &str,
        class: DataClass,
        validator: Option<fn(&[u8]) -> bool>,
    ) -> Result<Self, DetectError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(DetectError::EmptyName);
        }
        let taken = DetectorKind::BUILT_IN.iter().any(|k| k.name() == name)
            || self.custom.iter().any(|d| d.kind.name() == name);
        if taken {
            return Err(DetectError::DuplicateName {
                name: name.to_owned(),
            });
        }
        let invalid = |message: String| DetectError::InvalidPattern {
            name: name.to_owned(),
            message,
        };
        let hir =
            syntax::parse_with(pattern, &syntax_config()).map_err(|e| invalid(e.to_string()))?;
        // An empty match (`x*`, `\b`) would flag positions, not values.
        if hir.properties().minimum_len() == Some(0) {
            return Err(DetectError::MatchesEmpty {
                name: name.to_owned(),
            });
        }
        compile(&[pattern]).map_err(invalid)?;
        let kind = DetectorKind::custom(name);
        let class = self
            .classes
            .iter()
            .find(|(k, _)| *k == kind)
            .map_or(class, |(_, c)| c.clone());
        self.custom.push(Detector {
            kind,
            class,
            rule: Rule::Custom(validator),
            pattern: Arc::from(pattern),
        });
        Ok(self)
    }

    /// Compiles the scanner. The default configuration reuses the process-wide compiled
    /// scanner; any other compiles its combined pattern once, here.
    ///
    /// ```
    /// use safeguard::detect::Scanner;
    /// let s = Scanner::builder().build()?;
    /// assert!(s.contains_any(b"4111 1111 1111 1111"));
    /// # Ok::<(), safeguard::detect::DetectError>(())
    /// ```
    pub fn build(self) -> Result<Scanner, DetectError> {
        let is_default = self.custom.is_empty()
            && self.classes.is_empty()
            && self.enabled.len() == DetectorKind::BUILT_IN.len()
            && DetectorKind::BUILT_IN
                .iter()
                .all(|k| self.enabled.contains(k));
        if is_default {
            if let Ok(scanner) = &*DEFAULT {
                return Ok(scanner.clone());
            }
        }
        self.build_uncached()
    }

    fn build_uncached(self) -> Result<Scanner, DetectError> {
        let mut detectors = Vec::new();
        // Built-ins in priority order, whatever order they were enabled in.
        for kind in DetectorKind::BUILT_IN
            .iter()
            .filter(|k| self.enabled.contains(k))
        {
            let class = self
                .classes
                .iter()
                .find(|(k, _)| k == kind)
                .map_or_else(|| kind.default_class(), |(_, c)| c.clone());
            for &(rule, pattern) in built_in_specs(kind) {
                detectors.push(Detector {
                    kind: kind.clone(),
                    class: class.clone(),
                    rule,
                    pattern: Arc::from(pattern),
                });
            }
        }
        detectors.extend(self.custom);
        Ok(Scanner {
            inner: Arc::new(Inner::build(detectors)?),
        })
    }
}

#[cfg(test)]
mod tests;
