//! The policy: which data is sensitive, and what each caller may see of it.
//!
//! A [`Policy`] is built once, in code, and shared by every layer (it is an `Arc` inside):
//!
//! - **field rules** classify values by field name (compared canonically, see
//!   [`canonical_name`]), by name fragment, or by [`JsonPath`];
//! - **class rules** say, per [`DataClass`], which [`Action`] applies to callers without
//!   clearance, which applies to callers with a partial [`Clearance`](crate::Clearance), and whether a full
//!   clearance reveals the value ([`DataClass::Credential`] is never revealed);
//! - **detectors** find sensitive values in free text (see [`crate::detect`]);
//! - a **key ring** makes keyed pseudonyms (see [`crate::keys`]).
//!
//! Engines ask the policy for a per-request [`View`] (the caller's dispositions, computed once)
//! and render each classified value through it.
//!
//! ```
//! use safeguard::policy::{Action, ClassRule, Policy, Rendered};
//! use safeguard::{Clearance, DataClass, Principal};
//!
//! let policy = Policy::builder()
//!     .field("loyalty_id", DataClass::Personal)
//!     .path("$.card.number", DataClass::Payment)
//!     .class(DataClass::Payment, ClassRule::erase().partial(Action::Mask { keep_last: 4 }))
//!     .build()?;
//!
//! let class = policy.classify_name("cardNumber").unwrap(); // secure default name
//! let anonymous = policy.view(None);
//! assert_eq!(anonymous.render(class, "4111111111111111", None), Rendered::Null);
//!
//! let support = Principal::new("s1").with_clearance(Clearance::partial(DataClass::Payment));
//! let view = policy.view(Some(&support));
//! assert_eq!(view.render(class, "4111111111111111", None), Rendered::Text("************1111".into()));
//!
//! let billing = Principal::new("b1").with_clearance(Clearance::full(DataClass::Payment));
//! assert_eq!(policy.view(Some(&billing)).render(class, "4111111111111111", None), Rendered::Reveal);
//! # Ok::<(), safeguard::policy::PolicyError>(())
//! ```

mod defaults;
mod name;
mod path;

use std::any::Any;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, Mutex};

use crate::class::DataClass;
use crate::detect::Scanner;
use crate::keys::KeyRing;
use crate::principal::Principal;

pub use name::{canonical_name, canonicalize_into};
pub use path::{JsonPath, PathError, PathSet, PathState, Step};

/// What happens to a classified value that the caller may not see in clear.
///
/// ```
/// use safeguard::policy::Action;
/// let mask = Action::Mask { keep_last: 4 };
/// assert_ne!(mask, Action::Erase);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// The value is erased: JSON `null`, or the marker `[REDACTED]` when the policy erases to a
    /// marker (see [`Erasure`]) and in free text.
    Erase,
    /// The field is removed from the document (in free text: erased).
    Remove,
    /// The value is replaced by a marker naming its class, e.g. `[REDACTED:payment]`.
    Replace,
    /// Every character but the last `keep_last` is replaced by `*`. Values no longer than
    /// `keep_last` are masked whole, so a mask never shows a whole value.
    Mask {
        /// How many trailing characters stay readable.
        keep_last: usize,
    },
    /// A keyed pseudonym `hmac:<key id>:<base64url>` (HMAC-SHA256, truncated) from the policy's
    /// [`KeyRing`]: equal values give equal pseudonyms, so records still join, but the value
    /// cannot be recovered. With `per_field`, the field's canonical name is mixed in, so one value
    /// under two fields gives two unrelated pseudonyms.
    Pseudonymize {
        /// Tag the HMAC with the field's canonical name.
        per_field: bool,
    },
}

/// How [`Action::Erase`] renders in JSON.
///
/// ```
/// use safeguard::policy::{Erasure, Policy, Rendered};
/// let policy = Policy::builder().erase_as(Erasure::Marker).build()?;
/// let class = policy.classify_name("password").unwrap();
/// assert_eq!(policy.view(None).render(class, "hunter2", None), Rendered::Text("[REDACTED]".into()));
/// # Ok::<(), safeguard::policy::PolicyError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Erasure {
    /// `null` (the default).
    #[default]
    Null,
    /// The string `[REDACTED]`.
    Marker,
}

/// The marker that erased values become in free text (and in JSON under [`Erasure::Marker`]).
pub const ERASED: &str = "[REDACTED]";

/// What a class's values become, per caller clearance.
///
/// ```
/// use safeguard::policy::{Action, ClassRule};
/// let rule = ClassRule::erase().partial(Action::Mask { keep_last: 4 });
/// assert_eq!(rule.default_action(), Action::Erase);
/// assert_eq!(rule.partial_action(), Action::Mask { keep_last: 4 });
/// assert!(rule.is_revealable());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClassRule {
    default: Action,
    partial: Option<Action>,
    revealable: bool,
}

impl ClassRule {
    /// A rule whose values get `action` unless the caller is cleared.
    ///
    /// ```
    /// use safeguard::policy::{Action, ClassRule};
    /// assert_eq!(ClassRule::new(Action::Replace).default_action(), Action::Replace);
    /// ```
    pub fn new(action: Action) -> Self {
        Self {
            default: action,
            partial: None,
            revealable: true,
        }
    }

    /// The default-deny rule: values are erased unless the caller is cleared.
    ///
    /// ```
    /// use safeguard::policy::{Action, ClassRule};
    /// assert_eq!(ClassRule::erase().default_action(), Action::Erase);
    /// ```
    pub fn erase() -> Self {
        Self::new(Action::Erase)
    }

    /// The action for callers with a partial clearance for the class (default: the default
    /// action).
    ///
    /// ```
    /// use safeguard::policy::{Action, ClassRule};
    /// let rule = ClassRule::erase().partial(Action::Pseudonymize { per_field: true });
    /// assert_eq!(rule.partial_action(), Action::Pseudonymize { per_field: true });
    /// ```
    pub fn partial(mut self, action: Action) -> Self {
        self.partial = Some(action);
        self
    }

    /// Values are never revealed, even to fully cleared callers, who get the partial action.
    ///
    /// ```
    /// use safeguard::policy::ClassRule;
    /// assert!(!ClassRule::erase().never_reveal().is_revealable());
    /// ```
    pub fn never_reveal(mut self) -> Self {
        self.revealable = false;
        self
    }

    /// The action for callers without clearance.
    ///
    /// ```
    /// use safeguard::policy::{Action, ClassRule};
    /// assert_eq!(ClassRule::new(Action::Remove).default_action(), Action::Remove);
    /// ```
    pub fn default_action(&self) -> Action {
        self.default
    }

    /// The action for callers with a partial clearance.
    ///
    /// ```
    /// use safeguard::policy::{Action, ClassRule};
    /// assert_eq!(ClassRule::erase().partial_action(), Action::Erase);
    /// ```
    pub fn partial_action(&self) -> Action {
        self.partial.unwrap_or(self.default)
    }

    /// Whether a full clearance reveals values of this class.
    ///
    /// ```
    /// use safeguard::policy::ClassRule;
    /// assert!(ClassRule::erase().is_revealable());
    /// ```
    pub fn is_revealable(&self) -> bool {
        self.revealable
    }
}

/// What one caller gets for one class: the value, or an action.
///
/// ```
/// use safeguard::policy::{Action, Disposition, Policy};
/// use safeguard::DataClass;
/// let policy = Policy::default();
/// let id = policy.class_id(&DataClass::Credential).unwrap();
/// assert_eq!(policy.view(None).disposition(id), Disposition::Redact(Action::Erase));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disposition {
    /// The caller is cleared: the value goes out as it is.
    Reveal,
    /// The value is redacted with this action.
    Redact(Action),
}

/// A classified value after its disposition was applied.
///
/// ```
/// use safeguard::policy::Rendered;
/// assert!(Rendered::Null.is_redacted());
/// assert!(!Rendered::Reveal.is_redacted());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rendered {
    /// Keep the original value.
    Reveal,
    /// Replace the value by JSON `null`.
    Null,
    /// Remove the field (in an array, where nothing can be removed, engines write `null`).
    Remove,
    /// Replace the value by this text (a JSON string in JSON documents).
    Text(Cow<'static, str>),
}

impl Rendered {
    /// Whether the original value is withheld.
    ///
    /// ```
    /// use safeguard::policy::Rendered;
    /// assert!(Rendered::Text("[REDACTED]".into()).is_redacted());
    /// ```
    pub fn is_redacted(&self) -> bool {
        !matches!(self, Self::Reveal)
    }

    /// The replacement as free text: [`Rendered::Null`] and [`Rendered::Remove`] become
    /// [`ERASED`]; [`Rendered::Reveal`] gives `None`.
    ///
    /// ```
    /// use safeguard::policy::Rendered;
    /// assert_eq!(Rendered::Remove.as_text().as_deref(), Some("[REDACTED]"));
    /// assert_eq!(Rendered::Reveal.as_text(), None);
    /// ```
    pub fn as_text(&self) -> Option<Cow<'_, str>> {
        match self {
            Self::Reveal => None,
            Self::Null | Self::Remove => Some(Cow::Borrowed(ERASED)),
            Self::Text(text) => Some(Cow::Borrowed(text)),
        }
    }
}

/// A compact handle for a data class registered in a [`Policy`]; engines carry it instead of
/// the class itself. [`Policy::class_of`] maps it back.
///
/// ```
/// use safeguard::policy::Policy;
/// use safeguard::DataClass;
/// let policy = Policy::default();
/// let id = policy.class_id(&DataClass::Health).unwrap();
/// assert_eq!(policy.class_of(id), &DataClass::Health);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClassId(u16);

impl ClassId {
    /// The id as an index (dense, from 0), for per-class tables.
    ///
    /// ```
    /// let policy = safeguard::policy::Policy::default();
    /// let id = policy.class_id(&safeguard::DataClass::Personal).unwrap();
    /// assert!(id.index() < policy.classes().len());
    /// ```
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Why a policy could not be built.
///
/// ```
/// use safeguard::policy::{Action, ClassRule, Policy, PolicyError};
/// use safeguard::DataClass;
///
/// let err = Policy::builder().path("card.number", DataClass::Payment).build().unwrap_err();
/// assert!(matches!(err, PolicyError::Path(_)));
///
/// let err = Policy::builder()
///     .class(DataClass::Personal, ClassRule::new(Action::Pseudonymize { per_field: false }))
///     .build()
///     .unwrap_err();
/// assert!(err.to_string().contains("key ring"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum PolicyError {
    /// A JSON path rule does not parse.
    Path(PathError),
    /// A class rule pseudonymizes but the policy has no [`KeyRing`].
    MissingKeys {
        /// The class whose rule needs keys.
        class: DataClass,
    },
    /// Too many distinct classes (more than 65,535).
    TooManyClasses,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Path(err) => err.fmt(f),
            Self::MissingKeys { class } => write!(
                f,
                "class {class} is pseudonymized but the policy has no key ring (Policy::builder().keys(..))"
            ),
            Self::TooManyClasses => f.write_str("a policy holds at most 65535 data classes"),
        }
    }
}

impl std::error::Error for PolicyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Path(err) => Some(err),
            _ => None,
        }
    }
}

impl From<PathError> for PolicyError {
    fn from(err: PathError) -> Self {
        Self::Path(err)
    }
}

struct Inner {
    classes: Vec<DataClass>,
    rules: Vec<ClassRule>,
    markers: Vec<Cow<'static, str>>,
    names: HashMap<Box<[u8]>, ClassId, BuildHasherDefault<NameHasher>>,
    fragments: Fragments,
    paths: PathSet,
    detectors: Option<Scanner>,
    keys: Option<Arc<KeyRing>>,
    erasure: Erasure,
    /// What the engines learned about raw keys (the JSON rewriter's key cache), shared so a new
    /// rewriter starts warm. Opaque here; the engine that stores it reads it back. Its entries
    /// are exact (whole keys, no hashes) and derive only from this policy's rules.
    engine_cache: Mutex<Option<Arc<dyn Any + Send + Sync>>>,
}

/// The policy: field rules, class rules, detectors and keys, built once and shared.
///
/// `Policy::default()` is the secure default: the built-in field names (see
/// [`PolicyBuilder::without_defaults`] for the list's shape), all detectors on, every class erased
/// for callers without clearance, masks (last 4) for partially cleared callers of payment and
/// personal data, credentials never revealed.
///
/// ```
/// use safeguard::policy::Policy;
/// use safeguard::DataClass;
///
/// let policy = Policy::default();
/// assert_eq!(policy.class_of(policy.classify_name("Access-Token").unwrap()), &DataClass::Credential);
/// assert_eq!(policy.class_of(policy.classify_name("dbPassword").unwrap()), &DataClass::Credential);
/// assert!(policy.classify_name("display_name").is_none());
/// ```
#[derive(Clone)]
pub struct Policy {
    inner: Arc<Inner>,
}

impl Default for Policy {
    fn default() -> Self {
        Self::builder().build_defaults()
    }
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("classes", &self.inner.classes)
            .field("field_names", &self.inner.names.len())
            .field("name_fragments", &self.inner.fragments.list.len())
            .field("paths", &self.inner.paths)
            .field("detectors", &self.inner.detectors.is_some())
            .field("keys", &self.inner.keys)
            .finish()
    }
}

impl Policy {
    /// A builder that starts from the secure defaults.
    ///
    /// ```
    /// let policy = safeguard::policy::Policy::builder().build()?;
    /// assert!(policy.classify_name("ssn").is_some());
    /// # Ok::<(), safeguard::policy::PolicyError>(())
    /// ```
    pub fn builder() -> PolicyBuilder {
        PolicyBuilder::new()
    }

    /// Whether two handles share one built policy (clones of the same [`Policy`]).
    ///
    /// ```
    /// use safeguard::policy::Policy;
    /// let a = Policy::default();
    /// assert!(a.ptr_eq(&a.clone()));
    /// assert!(!a.ptr_eq(&Policy::default()));
    /// ```
    pub fn ptr_eq(&self, other: &Policy) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The engine cache last shared through this policy (see `Inner::engine_cache`).
    #[cfg_attr(not(feature = "redact"), allow(dead_code))]
    pub(crate) fn engine_cache(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        // A poisoned or contended lock only costs a cold start.
        self.inner.engine_cache.try_lock().ok()?.clone()
    }

    /// Shares an engine cache through this policy for the rewriters created after.
    #[cfg_attr(not(feature = "redact"), allow(dead_code))]
    pub(crate) fn share_engine_cache(&self, cache: Arc<dyn Any + Send + Sync>) {
        if let Ok(mut slot) = self.inner.engine_cache.try_lock() {
            *slot = Some(cache);
        }
    }

    /// The class id for a field name (any spelling: it is canonicalized), by exact name rules
    /// first, then name fragments.
    ///
    /// ```
    /// let policy = safeguard::policy::Policy::default();
    /// assert!(policy.classify_name("CARD_NUMBER").is_some());
    /// assert!(policy.classify_name("title").is_none());
    /// ```
    pub fn classify_name(&self, name: &str) -> Option<ClassId> {
        let mut buf = Vec::with_capacity(name.len());
        canonicalize_into(name.as_bytes(), &mut buf);
        self.classify_canonical(&buf)
    }

    /// The class id for an already canonical name (see [`canonicalize_into`]); the engines' hot
    /// path.
    ///
    /// ```
    /// let policy = safeguard::policy::Policy::default();
    /// assert!(policy.classify_canonical(b"apikey").is_some());
    /// ```
    pub fn classify_canonical(&self, canonical: &[u8]) -> Option<ClassId> {
        if let Some(id) = self.inner.names.get(canonical) {
            return Some(*id);
        }
        if canonical.is_empty() {
            return None;
        }
        self.inner.fragments.find(canonical)
    }

    /// The compiled JSON path rules.
    ///
    /// ```
    /// use safeguard::DataClass;
    /// let policy = safeguard::policy::Policy::builder().path("$.a.b", DataClass::Internal).build()?;
    /// assert!(!policy.paths().is_empty());
    /// # Ok::<(), safeguard::policy::PolicyError>(())
    /// ```
    pub fn paths(&self) -> &PathSet {
        &self.inner.paths
    }

    /// The id of a registered class.
    ///
    /// ```
    /// use safeguard::DataClass;
    /// let policy = safeguard::policy::Policy::default();
    /// assert!(policy.class_id(&DataClass::Payment).is_some());
    /// assert!(policy.class_id(&DataClass::custom("never-used")).is_none());
    /// ```
    pub fn class_id(&self, class: &DataClass) -> Option<ClassId> {
        self.inner
            .classes
            .iter()
            .position(|c| c == class)
            .map(|i| ClassId(i as u16))
    }

    /// The class behind an id. Ids come from this policy; a foreign id out of range maps to
    /// [`DataClass::Credential`], the most restrictive class.
    ///
    /// ```
    /// let policy = safeguard::policy::Policy::default();
    /// let id = policy.classify_name("iban").unwrap();
    /// assert_eq!(policy.class_of(id), &safeguard::DataClass::Payment);
    /// ```
    pub fn class_of(&self, id: ClassId) -> &DataClass {
        self.inner
            .classes
            .get(id.index())
            .unwrap_or(&DataClass::Credential)
    }

    /// All registered classes, indexed by [`ClassId::index`].
    ///
    /// ```
    /// let policy = safeguard::policy::Policy::default();
    /// assert!(policy.classes().len() >= 6);
    /// ```
    pub fn classes(&self) -> &[DataClass] {
        &self.inner.classes
    }

    /// The rule of a class.
    ///
    /// ```
    /// use safeguard::policy::Policy;
    /// let policy = Policy::default();
    /// let id = policy.class_id(&safeguard::DataClass::Credential).unwrap();
    /// assert!(!policy.rule(id).is_revealable());
    /// ```
    pub fn rule(&self, id: ClassId) -> ClassRule {
        self.inner
            .rules
            .get(id.index())
            .copied()
            .unwrap_or_else(|| ClassRule::erase().never_reveal())
    }

    /// The detectors for free text, if enabled.
    ///
    /// ```
    /// assert!(safeguard::policy::Policy::default().detectors().is_some());
    /// ```
    pub fn detectors(&self) -> Option<&Scanner> {
        self.inner.detectors.as_ref()
    }

    /// The key ring for pseudonyms, if configured.
    ///
    /// ```
    /// assert!(safeguard::policy::Policy::default().keys().is_none());
    /// ```
    pub fn keys(&self) -> Option<&KeyRing> {
        self.inner.keys.as_deref()
    }

    /// How [`Action::Erase`] renders in JSON.
    ///
    /// ```
    /// use safeguard::policy::{Erasure, Policy};
    /// assert_eq!(Policy::default().erasure(), Erasure::Null);
    /// ```
    pub fn erasure(&self) -> Erasure {
        self.inner.erasure
    }

    /// The disposition of a class for a caller.
    ///
    /// ```
    /// use safeguard::policy::{Disposition, Policy};
    /// use safeguard::{DataClass, Principal};
    /// let policy = Policy::default();
    /// let health = policy.class_id(&DataClass::Health).unwrap();
    /// let doctor = Principal::new("d1").with_clearance(DataClass::Health);
    /// assert_eq!(policy.disposition(health, Some(&doctor)), Disposition::Reveal);
    /// ```
    pub fn disposition(&self, id: ClassId, principal: Option<&Principal>) -> Disposition {
        let class = self.class_of(id);
        if *class == DataClass::Public {
            return Disposition::Reveal;
        }
        let rule = self.rule(id);
        match principal.and_then(|p| p.clearance_for(class)) {
            Some(c) if c.is_full() && rule.revealable && class.is_revealable() => {
                Disposition::Reveal
            }
            Some(_) => Disposition::Redact(rule.partial_action()),
            None => Disposition::Redact(rule.default),
        }
    }

    /// The caller's view: every class's disposition, computed once per request.
    ///
    /// ```
    /// use safeguard::policy::{Policy, Rendered};
    /// let policy = Policy::default();
    /// let id = policy.classify_name("email").unwrap();
    /// assert_eq!(policy.view(None).render(id, "a@b.example", None), Rendered::Null);
    /// ```
    pub fn view(&self, principal: Option<&Principal>) -> View {
        let dispositions = (0..self.inner.classes.len())
            .map(|i| self.disposition(ClassId(i as u16), principal))
            .collect();
        View {
            policy: self.clone(),
            dispositions,
        }
    }

    /// Redacts the sensitive values the detectors find in free text, for `principal` (`None` for
    /// logs and anonymous callers: everything found is redacted). Erased values become their
    /// class marker (`[REDACTED:payment]`); masks and pseudonyms apply as in JSON. Without
    /// detectors, the text is returned as it is.
    ///
    /// ```
    /// use safeguard::policy::Policy;
    /// let policy = Policy::default();
    /// let line = "payment failed for card 4111 1111 1111 1111";
    /// let clean = policy.redact_str(line, None);
    /// assert_eq!(clean, "payment failed for card [REDACTED:payment]");
    /// ```
    pub fn redact_str<'a>(&self, text: &'a str, principal: Option<&Principal>) -> Cow<'a, str> {
        match principal {
            None => self.redact_str_with(text, |id| self.disposition(id, None)),
            Some(p) => self.redact_str_with(text, |id| self.disposition(id, Some(p))),
        }
    }

    /// [`Policy::redact_str`] over bytes; invalid UTF-8 outside findings is kept as it is.
    ///
    /// ```
    /// let policy = safeguard::policy::Policy::default();
    /// let clean = policy.redact_bytes(b"ssn=123-45-6789 \xff", None);
    /// assert!(!clean.windows(11).any(|w| w == b"123-45-6789"));
    /// ```
    pub fn redact_bytes<'a>(&self, text: &'a [u8], principal: Option<&Principal>) -> Cow<'a, [u8]> {
        self.redact_bytes_with(text, |id| self.disposition(id, principal))
    }

    fn redact_str_with<'a>(
        &self,
        text: &'a str,
        disposition: impl Fn(ClassId) -> Disposition,
    ) -> Cow<'a, str> {
        match self.redact_bytes_with(text.as_bytes(), disposition) {
            Cow::Borrowed(_) => Cow::Borrowed(text),
            // Findings are replaced by valid UTF-8 and matches start and end on char boundaries
            // of the valid input, so the output is valid; the fallback is never taken.
            Cow::Owned(bytes) => Cow::Owned(
                String::from_utf8(bytes)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            ),
        }
    }

    fn redact_bytes_with<'a>(
        &self,
        text: &'a [u8],
        disposition: impl Fn(ClassId) -> Disposition,
    ) -> Cow<'a, [u8]> {
        let Some(scanner) = self.detectors() else {
            return Cow::Borrowed(text);
        };
        scanner.redact_with(text, |finding, matched, out| {
            // A detector class the policy does not know is treated as a credential.
            let id = self.class_id(&finding.class);
            let disposition = match id {
                Some(id) => disposition(id),
                None => Disposition::Redact(Action::Erase),
            };
            let value = String::from_utf8_lossy(matched);
            match self.render(id, disposition, &value, None) {
                Rendered::Reveal => out.extend_from_slice(matched),
                // In free text an erased value says what kind of value it was, never the value.
                Rendered::Null | Rendered::Remove => {
                    out.extend_from_slice(finding.class.marker().as_bytes())
                }
                Rendered::Text(text) => out.extend_from_slice(text.as_bytes()),
            }
        })
    }

    fn render(
        &self,
        id: Option<ClassId>,
        disposition: Disposition,
        value: &str,
        field_tag: Option<&[u8]>,
    ) -> Rendered {
        let action = match disposition {
            Disposition::Reveal => return Rendered::Reveal,
            Disposition::Redact(action) => action,
        };
        match action {
            Action::Erase => match self.inner.erasure {
                Erasure::Null => Rendered::Null,
                Erasure::Marker => Rendered::Text(Cow::Borrowed(ERASED)),
            },
            Action::Remove => Rendered::Remove,
            Action::Replace => Rendered::Text(
                id.and_then(|id| self.inner.markers.get(id.index()))
                    .cloned()
                    .unwrap_or(Cow::Borrowed(ERASED)),
            ),
            Action::Mask { keep_last } => Rendered::Text(Cow::Owned(mask(value, keep_last))),
            Action::Pseudonymize { per_field } => match self.keys() {
                Some(keys) => Rendered::Text(Cow::Owned(
                    keys.pseudonym(value.as_bytes(), if per_field { field_tag } else { None }),
                )),
                // Unreachable for built policies (build checks for keys); fail closed anyway.
                None => Rendered::Null,
            },
        }
    }
}

/// Masks all but the last `keep_last` characters with `*`; values of `keep_last` characters or
/// fewer are masked whole.
///
/// ```
/// use safeguard::policy::mask;
/// assert_eq!(mask("4111111111111111", 4), "************1111");
/// assert_eq!(mask("1234", 4), "****");
/// assert_eq!(mask("€uro", 1), "***o");
/// ```
pub fn mask(value: &str, keep_last: usize) -> String {
    let len = value.chars().count();
    let keep = if len > keep_last { keep_last } else { 0 };
    let mut out = String::with_capacity(value.len());
    out.extend(std::iter::repeat_n('*', len - keep));
    out.extend(value.chars().skip(len - keep));
    out
}

/// The hasher of the exact field-name table: FxHash-style multiply-rotate over 8-byte words.
/// The table is fixed when the policy is built and only looked up with names read from bodies,
/// so colliding names cannot grow it or slow other lookups much; SipHash's flooding resistance
/// buys nothing here and cost a third of every classification.
#[derive(Clone, Copy, Default)]
struct NameHasher(u64);

const NAME_HASH_K: u64 = 0xf135_7aea_2e62_a9c5;

impl NameHasher {
    #[inline]
    fn mix(&mut self, word: u64) {
        self.0 = (self.0 ^ word).wrapping_mul(NAME_HASH_K).rotate_left(26);
    }
}

impl Hasher for NameHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            self.mix(u64::from_le_bytes(w));
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.mix(u64::from_le_bytes(w));
        }
    }

    #[inline]
    fn write_usize(&mut self, n: usize) {
        self.mix(n as u64);
    }

    #[inline]
    fn finish(&self) -> u64 {
        // hashbrown takes the bucket from the low bits and a tag from the top 7: spread both.
        let h = self.0;
        (h ^ (h >> 29)).wrapping_mul(NAME_HASH_K) ^ (h >> 32)
    }
}

/// The name fragments in rule order, indexed by first byte: a lookup compares, at each position
/// of the name, only the fragments that start with the byte found there.
#[derive(Default)]
struct Fragments {
    list: Vec<(Box<[u8]>, ClassId)>,
    /// For each byte value, the indices into `list` (ascending) of the fragments starting with it.
    by_first: Vec<Vec<u32>>,
}

impl Fragments {
    fn new(list: Vec<(Box<[u8]>, ClassId)>) -> Self {
        let mut by_first = vec![Vec::new(); 256];
        for (i, (fragment, _)) in list.iter().enumerate() {
            // Empty fragments are never kept (see `PolicyBuilder::build`).
            if let (Some(&first), Ok(i)) = (fragment.first(), u32::try_from(i)) {
                by_first[usize::from(first)].push(i);
            }
        }
        Self { list, by_first }
    }

    /// The class of the first fragment (in rule order) that `name` contains.
    #[inline]
    fn find(&self, name: &[u8]) -> Option<ClassId> {
        if self.list.is_empty() {
            return None;
        }
        let mut best = u32::MAX;
        for (at, &b) in name.iter().enumerate() {
            let Some(candidates) = self.by_first.get(usize::from(b)) else {
                continue;
            };
            for &k in candidates {
                if k >= best {
                    break;
                }
                if let Some((fragment, _)) = self.list.get(k as usize) {
                    if name[at..].starts_with(fragment) {
                        best = k;
                        break;
                    }
                }
            }
        }
        self.list.get(best as usize).map(|(_, id)| *id)
    }
}

/// One caller's view of a policy: the disposition of every class, computed once.
///
/// ```
/// use safeguard::policy::{Policy, Rendered};
/// use safeguard::{DataClass, Principal};
///
/// let policy = Policy::default();
/// let analyst = Principal::new("a1").with_clearance(DataClass::Personal);
/// let view = policy.view(Some(&analyst));
/// let email = policy.classify_name("email").unwrap();
/// let password = policy.classify_name("password").unwrap();
/// assert_eq!(view.render(email, "a@b.example", None), Rendered::Reveal);
/// assert_eq!(view.render(password, "hunter2", None), Rendered::Null);
/// ```
#[derive(Clone, Debug)]
pub struct View {
    policy: Policy,
    dispositions: Box<[Disposition]>,
}

impl View {
    /// The policy this view was made from.
    ///
    /// ```
    /// let policy = safeguard::policy::Policy::default();
    /// let view = policy.view(None);
    /// assert_eq!(view.policy().classes().len(), policy.classes().len());
    /// ```
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The caller's disposition for a class.
    ///
    /// ```
    /// use safeguard::policy::{Action, Disposition, Policy};
    /// let policy = Policy::default();
    /// let id = policy.classify_name("token").unwrap();
    /// assert_eq!(policy.view(None).disposition(id), Disposition::Redact(Action::Erase));
    /// ```
    pub fn disposition(&self, id: ClassId) -> Disposition {
        self.dispositions
            .get(id.index())
            .copied()
            .unwrap_or(Disposition::Redact(Action::Erase))
    }

    /// Whether every class is revealed to this caller (engines may then pass bodies through).
    ///
    /// ```
    /// assert!(!safeguard::policy::Policy::default().view(None).reveals_all());
    /// ```
    pub fn reveals_all(&self) -> bool {
        self.dispositions.iter().all(|d| *d == Disposition::Reveal)
    }

    /// Applies the caller's disposition for `id` to a scalar value given as text (a string's
    /// decoded content, or a number's or boolean's literal). `field_tag` is the field's canonical
    /// name, used by per-field pseudonyms.
    ///
    /// ```
    /// use safeguard::policy::{Policy, Rendered};
    /// let policy = Policy::default();
    /// let id = policy.classify_name("ssn").unwrap();
    /// assert_eq!(policy.view(None).render(id, "123-45-6789", Some(b"ssn")), Rendered::Null);
    /// ```
    pub fn render(&self, id: ClassId, value: &str, field_tag: Option<&[u8]>) -> Rendered {
        self.policy
            .render(Some(id), self.disposition(id), value, field_tag)
    }

    /// Applies the caller's disposition for `id` to a value that cannot be shown in part (an
    /// object or an array, or a value too long to buffer): revealed, removed, or erased. Masks and
    /// pseudonyms of structures are not meaningful, so they erase.
    ///
    /// ```
    /// use safeguard::policy::{Policy, Rendered};
    /// let policy = Policy::default();
    /// let id = policy.classify_name("address").unwrap();
    /// assert_eq!(policy.view(None).render_whole(id), Rendered::Null);
    /// ```
    pub fn render_whole(&self, id: ClassId) -> Rendered {
        match self.disposition(id) {
            Disposition::Reveal => Rendered::Reveal,
            Disposition::Redact(Action::Remove) => Rendered::Remove,
            Disposition::Redact(Action::Replace) => {
                self.policy
                    .render(Some(id), Disposition::Redact(Action::Replace), "", None)
            }
            Disposition::Redact(_) => {
                self.policy
                    .render(Some(id), Disposition::Redact(Action::Erase), "", None)
            }
        }
    }

    /// Redacts what the detectors find in free text, per this caller's dispositions.
    ///
    /// ```
    /// let policy = safeguard::policy::Policy::default();
    /// let clean = policy.view(None).redact_str("contact: jane.doe@example.com");
    /// assert!(!clean.contains("jane.doe@example.com"));
    /// ```
    pub fn redact_str<'a>(&self, text: &'a str) -> Cow<'a, str> {
        self.policy.redact_str_with(text, |id| self.disposition(id))
    }

    /// [`View::redact_str`] over bytes.
    ///
    /// ```
    /// let policy = safeguard::policy::Policy::default();
    /// let clean = policy.view(None).redact_bytes(b"key AKIAIOSFODNN7EXAMPLE");
    /// assert!(!clean.windows(20).any(|w| w == b"AKIAIOSFODNN7EXAMPLE"));
    /// ```
    pub fn redact_bytes<'a>(&self, text: &'a [u8]) -> Cow<'a, [u8]> {
        self.policy
            .redact_bytes_with(text, |id| self.disposition(id))
    }
}

/// Counts of redacted and revealed values per class: what audit evidence needs, never the
/// values.
///
/// ```
/// use safeguard::policy::{Policy, Tally};
/// use safeguard::DataClass;
/// let policy = Policy::default();
/// let mut tally = Tally::default();
/// tally.record(policy.classify_name("ssn").unwrap(), false);
/// tally.record(policy.classify_name("email").unwrap(), true);
/// let summary = tally.summary(&policy);
/// assert_eq!(summary, vec![(DataClass::Personal, 1, 1)]);
/// assert_eq!(tally.redacted(), 1);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    // (redacted, revealed) by class index; grows on demand.
    counts: Vec<(u64, u64)>,
}

impl Tally {
    /// Records one classified value, redacted or revealed.
    ///
    /// ```
    /// let policy = safeguard::policy::Policy::default();
    /// let mut tally = safeguard::policy::Tally::default();
    /// tally.record(policy.classify_name("token").unwrap(), false);
    /// assert_eq!(tally.redacted(), 1);
    /// ```
    #[inline]
    pub fn record(&mut self, id: ClassId, revealed: bool) {
        if self.counts.len() <= id.index() {
            self.counts.resize(id.index() + 1, (0, 0));
        }
        let entry = &mut self.counts[id.index()];
        if revealed {
            entry.1 += 1;
        } else {
            entry.0 += 1;
        }
    }

    /// Adds another tally's counts.
    ///
    /// ```
    /// let policy = safeguard::policy::Policy::default();
    /// let id = policy.classify_name("token").unwrap();
    /// let (mut a, mut b) = (safeguard::policy::Tally::default(), safeguard::policy::Tally::default());
    /// a.record(id, false);
    /// b.record(id, false);
    /// a.merge(&b);
    /// assert_eq!(a.redacted(), 2);
    /// ```
    pub fn merge(&mut self, other: &Tally) {
        if self.counts.len() < other.counts.len() {
            self.counts.resize(other.counts.len(), (0, 0));
        }
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            mine.0 += theirs.0;
            mine.1 += theirs.1;
        }
    }

    /// Total redacted values.
    ///
    /// ```
    /// assert_eq!(safeguard::policy::Tally::default().redacted(), 0);
    /// ```
    pub fn redacted(&self) -> u64 {
        self.counts.iter().map(|c| c.0).sum()
    }

    /// Total revealed values.
    ///
    /// ```
    /// assert_eq!(safeguard::policy::Tally::default().revealed(), 0);
    /// ```
    pub fn revealed(&self) -> u64 {
        self.counts.iter().map(|c| c.1).sum()
    }

    /// Whether nothing was recorded.
    ///
    /// ```
    /// assert!(safeguard::policy::Tally::default().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.redacted() == 0 && self.revealed() == 0
    }

    /// `(class, redacted, revealed)` for every class with a count, in class order.
    ///
    /// ```
    /// let policy = safeguard::policy::Policy::default();
    /// assert!(safeguard::policy::Tally::default().summary(&policy).is_empty());
    /// ```
    pub fn summary(&self, policy: &Policy) -> Vec<(DataClass, u64, u64)> {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, c)| c.0 + c.1 > 0)
            .map(|(i, c)| (policy.class_of(ClassId(i as u16)).clone(), c.0, c.1))
            .collect()
    }
}

enum NameRule {
    Exact(String, DataClass),
    Fragment(String, DataClass),
    Path(String, DataClass),
}

/// Builds a [`Policy`]. Starts from the secure defaults; [`PolicyBuilder::without_defaults`]
/// starts from nothing.
///
/// ```
/// use safeguard::policy::{Action, ClassRule, Erasure, Policy};
/// use safeguard::DataClass;
///
/// let policy = Policy::builder()
///     .field("patient_notes", DataClass::Health)
///     .field_containing("secret", DataClass::Credential)
///     .path("$.orders[*].shipping.street", DataClass::Personal)
///     .public_field("token_count")
///     .class(DataClass::Health, ClassRule::new(Action::Replace))
///     .erase_as(Erasure::Marker)
///     .build()?;
/// assert!(policy.classify_name("tokenCount").map(|id| policy.class_of(id)) == Some(&DataClass::Public));
/// # Ok::<(), safeguard::policy::PolicyError>(())
/// ```
#[must_use]
pub struct PolicyBuilder {
    rules: Vec<NameRule>,
    removed: Vec<String>,
    class_rules: Vec<(DataClass, ClassRule)>,
    detectors: Option<Scanner>,
    keys: Option<Arc<KeyRing>>,
    erasure: Erasure,
}

impl Default for PolicyBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for PolicyBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyBuilder")
            .field("rules", &self.rules.len())
            .finish_non_exhaustive()
    }
}

impl PolicyBuilder {
    /// The secure defaults (same as [`Policy::builder`]).
    ///
    /// ```
    /// let policy = safeguard::policy::PolicyBuilder::new().build()?;
    /// assert!(policy.classify_name("cvv").is_some());
    /// # Ok::<(), safeguard::policy::PolicyError>(())
    /// ```
    pub fn new() -> Self {
        let mut builder = Self {
            rules: Vec::new(),
            removed: Vec::new(),
            class_rules: Vec::new(),
            detectors: Some(Scanner::new()),
            keys: None,
            erasure: Erasure::Null,
        };
        for (name, class) in defaults::FIELD_NAMES {
            builder = builder.field(name, class.clone());
        }
        for (fragment, class) in defaults::FIELD_FRAGMENTS {
            builder = builder.field_containing(fragment, class.clone());
        }
        builder.class_rules = defaults::class_rules();
        builder
    }

    /// Drops the default field names and fragments (class rules and detectors stay).
    ///
    /// ```
    /// let policy = safeguard::policy::Policy::builder().without_defaults().build()?;
    /// assert!(policy.classify_name("password").is_none());
    /// # Ok::<(), safeguard::policy::PolicyError>(())
    /// ```
    pub fn without_defaults(mut self) -> Self {
        self.rules.clear();
        self
    }

    /// Classifies a field name (compared canonically) at any depth.
    ///
    /// ```
    /// use safeguard::DataClass;
    /// let policy = safeguard::policy::Policy::builder().field("Member-No", DataClass::Personal).build()?;
    /// assert!(policy.classify_name("memberNo").is_some());
    /// # Ok::<(), safeguard::policy::PolicyError>(())
    /// ```
    pub fn field(mut self, name: &str, class: impl Into<DataClass>) -> Self {
        self.rules
            .push(NameRule::Exact(name.to_owned(), class.into()));
        self
    }

    /// Classifies every field whose canonical name contains `fragment` (e.g. `password`
    /// matches `dbPassword` and `password_hash`). Exact name rules win over fragments.
    ///
    /// ```
    /// use safeguard::DataClass;
    /// let policy = safeguard::policy::Policy::builder()
    ///     .without_defaults()
    ///     .field_containing("diagnos", DataClass::Health)
    ///     .build()?;
    /// assert!(policy.classify_name("primaryDiagnosis").is_some());
    /// # Ok::<(), safeguard::policy::PolicyError>(())
    /// ```
    pub fn field_containing(mut self, fragment: &str, class: impl Into<DataClass>) -> Self {
        self.rules
            .push(NameRule::Fragment(fragment.to_owned(), class.into()));
        self
    }

    /// Classifies the values at a JSON path. Path rules win over name rules. An invalid path
    /// makes [`PolicyBuilder::build`] fail.
    ///
    /// ```
    /// use safeguard::DataClass;
    /// let policy = safeguard::policy::Policy::builder().path("$..notes", DataClass::Health).build()?;
    /// assert!(!policy.paths().is_empty());
    /// # Ok::<(), safeguard::policy::PolicyError>(())
    /// ```
    pub fn path(mut self, path: &str, class: impl Into<DataClass>) -> Self {
        self.rules
            .push(NameRule::Path(path.to_owned(), class.into()));
        self
    }

    /// Marks a field name as public: never redacted by name, even when it contains a classified
    /// fragment (e.g. `token_count` under the `token` fragment). Detectors still scan its value
    /// when they are enabled on values.
    ///
    /// ```
    /// use safeguard::DataClass;
    /// let policy = safeguard::policy::Policy::builder().public_field("max_tokens").build()?;
    /// assert_eq!(policy.class_of(policy.classify_name("maxTokens").unwrap()), &DataClass::Public);
    /// # Ok::<(), safeguard::policy::PolicyError>(())
    /// ```
    pub fn public_field(self, name: &str) -> Self {
        self.field(name, DataClass::Public)
    }

    /// Removes a field name (and any fragment equal to it) from the rules so far, e.g. a default
    /// you do not want.
    ///
    /// ```
    /// let policy = safeguard::policy::Policy::builder().without_field("address").build()?;
    /// assert!(policy.classify_name("address").is_none());
    /// # Ok::<(), safeguard::policy::PolicyError>(())
    /// ```
    pub fn without_field(mut self, name: &str) -> Self {
        self.removed.push(canonical_name(name));
        self
    }

    /// Sets the rule of a class (replacing the default rule).
    ///
    /// ```
    /// use safeguard::policy::{Action, ClassRule, Policy, Rendered};
    /// use safeguard::DataClass;
    /// let policy = Policy::builder().class(DataClass::Personal, ClassRule::new(Action::Replace)).build()?;
    /// let id = policy.classify_name("email").unwrap();
    /// assert_eq!(policy.view(None).render(id, "a@b.example", None), Rendered::Text("[REDACTED:personal]".into()));
    /// # Ok::<(), safeguard::policy::PolicyError>(())
    /// ```
    pub fn class(mut self, class: impl Into<DataClass>, rule: ClassRule) -> Self {
        let class = class.into();
        self.class_rules.retain(|(c, _)| *c != class);
        self.class_rules.push((class, rule));
        self
    }

    /// Replaces the detectors for free text.
    ///
    /// ```
    /// use safeguard::detect::Scanner;
    /// let policy = safeguard::policy::Policy::builder().detectors(Scanner::new()).build()?;
    /// assert!(policy.detectors().is_some());
    /// # Ok::<(), safeguard::policy::PolicyError>(())
    /// ```
    pub fn detectors(mut self, scanner: Scanner) -> Self {
        self.detectors = Some(scanner);
        self
    }

    /// Turns the detectors off: free text is not scanned.
    ///
    /// ```
    /// let policy = safeguard::policy::Policy::builder().without_detectors().build()?;
    /// assert!(policy.detectors().is_none());
    /// # Ok::<(), safeguard::policy::PolicyError>(())
    /// ```
    pub fn without_detectors(mut self) -> Self {
        self.detectors = None;
        self
    }

    /// Sets the key ring for [`Action::Pseudonymize`].
    ///
    /// ```
    /// use safeguard::keys::{KeyRing, SecretKey};
    /// use safeguard::policy::{Action, ClassRule, Policy};
    /// use safeguard::DataClass;
    /// # let key = SecretKey::from_bytes(vec![7u8; 32])?; // from KeyRing::from_env in production
    /// let policy = Policy::builder()
    ///     .keys(KeyRing::new("k1", key)?)
    ///     .class(DataClass::Personal, ClassRule::new(Action::Pseudonymize { per_field: true }))
    ///     .build()?;
    /// let id = policy.classify_name("email").unwrap();
    /// let out = policy.view(None).render(id, "a@b.example", Some(b"email"));
    /// assert!(matches!(out, safeguard::policy::Rendered::Text(t) if t.starts_with("hmac:k1:")));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn keys(mut self, keys: KeyRing) -> Self {
        self.keys = Some(Arc::new(keys));
        self
    }

    /// How [`Action::Erase`] renders in JSON.
    ///
    /// ```
    /// use safeguard::policy::{Erasure, Policy};
    /// let policy = Policy::builder().erase_as(Erasure::Marker).build()?;
    /// assert_eq!(policy.erasure(), Erasure::Marker);
    /// # Ok::<(), safeguard::policy::PolicyError>(())
    /// ```
    pub fn erase_as(mut self, erasure: Erasure) -> Self {
        self.erasure = erasure;
        self
    }

    /// Builds the policy, checking paths and keys.
    ///
    /// ```
    /// assert!(safeguard::policy::Policy::builder().build().is_ok());
    /// ```
    pub fn build(self) -> Result<Policy, PolicyError> {
        let mut classes: Vec<DataClass> = DataClass::BUILT_IN.to_vec();
        let mut intern = |class: &DataClass| -> Result<ClassId, PolicyError> {
            if let Some(i) = classes.iter().position(|c| c == class) {
                return Ok(ClassId(i as u16));
            }
            let id = u16::try_from(classes.len()).map_err(|_| PolicyError::TooManyClasses)?;
            classes.push(class.clone());
            Ok(ClassId(id))
        };
        let mut names = HashMap::default();
        let mut fragments = Vec::new();
        let mut paths = PathSet::default();
        let mut class_ids = Vec::new();
        for (class, _) in &self.class_rules {
            class_ids.push(intern(class)?);
        }
        for rule in &self.rules {
            match rule {
                NameRule::Exact(name, class) => {
                    let canonical = canonical_name(name);
                    if !self.removed.contains(&canonical) {
                        // Later rules for the same name win, so users can reclassify defaults.
                        names.insert(canonical.into_bytes().into_boxed_slice(), intern(class)?);
                    }
                }
                NameRule::Fragment(fragment, class) => {
                    let canonical = canonical_name(fragment);
                    if !self.removed.contains(&canonical) && !canonical.is_empty() {
                        let id = intern(class)?;
                        fragments
                            .retain(|(f, _): &(Box<[u8]>, ClassId)| **f != *canonical.as_bytes());
                        fragments.push((canonical.into_bytes().into_boxed_slice(), id));
                    }
                }
                NameRule::Path(path, class) => {
                    let path = JsonPath::parse(path)?;
                    paths.push(path, intern(class)?);
                }
            }
        }
        let mut rules = vec![ClassRule::erase(); classes.len()];
        for ((_, rule), id) in self.class_rules.iter().zip(&class_ids) {
            rules[id.index()] = *rule;
        }
        // Credentials are never revealed, whatever rule the user wrote.
        for (class, rule) in classes.iter().zip(rules.iter_mut()) {
            if !class.is_revealable() {
                rule.revealable = false;
            }
        }
        if self.keys.is_none() {
            for (i, rule) in rules.iter().enumerate() {
                let pseudonymizes = |a: Action| matches!(a, Action::Pseudonymize { .. });
                if pseudonymizes(rule.default) || pseudonymizes(rule.partial_action()) {
                    return Err(PolicyError::MissingKeys {
                        class: classes[i].clone(),
                    });
                }
            }
        }
        let markers = classes.iter().map(DataClass::marker).collect();
        Ok(Policy {
            inner: Arc::new(Inner {
                classes,
                rules,
                markers,
                names,
                fragments: Fragments::new(fragments),
                paths,
                detectors: self.detectors,
                keys: self.keys,
                erasure: self.erasure,
                engine_cache: Mutex::new(None),
            }),
        })
    }

    fn build_defaults(self) -> Policy {
        // The defaults hold no paths and no pseudonyms, so they always build; the fallback
        // (no rules at all, everything at default deny) is never taken.
        self.build().unwrap_or_else(|_| Policy {
            inner: Arc::new(Inner {
                classes: DataClass::BUILT_IN.to_vec(),
                rules: vec![ClassRule::erase().never_reveal(); DataClass::BUILT_IN.len()],
                markers: DataClass::BUILT_IN.iter().map(DataClass::marker).collect(),
                names: HashMap::default(),
                fragments: Fragments::default(),
                paths: PathSet::default(),
                detectors: Some(Scanner::new()),
                keys: None,
                erasure: Erasure::Null,
                engine_cache: Mutex::new(None),
            }),
        })
    }
}

#[cfg(test)]
mod tests;
