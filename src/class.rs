//! Data classes: what kind of sensitive data a value is.
//!
//! Compliance frameworks name a handful of categories; [`DataClass`] has one variant for each and
//! a [`DataClass::custom`] escape hatch for the categories an organisation adds itself.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

/// The category a sensitive value belongs to.
///
/// The built-in classes follow what SOC 2, HIPAA, PCI DSS and GDPR reviews ask about. Custom
/// classes are identified by a lowercase name.
///
/// ```
/// use safeguard::DataClass;
///
/// assert_eq!(DataClass::Payment.name(), "payment");
/// assert_eq!(DataClass::custom("Biometric").name(), "biometric");
/// assert_eq!(DataClass::from_name("phi"), DataClass::Health);
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum DataClass {
    /// Personal data (PII, GDPR "personal data"): names, e-mail addresses, phone numbers,
    /// national identifiers, dates of birth.
    Personal,
    /// Health data (HIPAA PHI): diagnoses, prescriptions, medical record numbers.
    Health,
    /// Payment data (PCI DSS cardholder data): card numbers, IBANs, account numbers.
    Payment,
    /// Credentials and secrets: passwords, tokens, API keys, private keys, CVV codes.
    ///
    /// Credentials are never revealed, whatever the caller's clearance.
    Credential,
    /// Internal data that must not leave the organisation (internal ids, hostnames).
    Internal,
    /// Public data: never redacted.
    Public,
    /// A class defined by the user, by lowercase name.
    Custom(Arc<str>),
}

impl DataClass {
    /// A user-defined class. The name is trimmed and lowercased; names that equal a built-in
    /// class (or one of its aliases, see [`DataClass::from_name`]) give that built-in class.
    ///
    /// ```
    /// use safeguard::DataClass;
    /// assert_eq!(DataClass::custom("Trade Secret").name(), "trade secret");
    /// assert_eq!(DataClass::custom("PCI"), DataClass::Payment);
    /// ```
    pub fn custom(name: &str) -> Self {
        Self::from_name(name)
    }

    /// Parses a class name: the built-in names (`personal`, `health`, `payment`, `credential`,
    /// `internal`, `public`), their common aliases (`pii`, `phi`, `pci`, `secret`), or a custom
    /// class for any other name.
    ///
    /// ```
    /// use safeguard::DataClass;
    /// assert_eq!(DataClass::from_name("PII"), DataClass::Personal);
    /// assert_eq!(DataClass::from_name("secret"), DataClass::Credential);
    /// ```
    pub fn from_name(name: &str) -> Self {
        let lower = name.trim().to_lowercase();
        match lower.as_str() {
            "personal" | "pii" => Self::Personal,
            "health" | "phi" => Self::Health,
            "payment" | "pci" => Self::Payment,
            "credential" | "credentials" | "secret" => Self::Credential,
            "internal" => Self::Internal,
            "public" => Self::Public,
            _ => Self::Custom(Arc::from(lower)),
        }
    }

    /// The class's lowercase name, as used in redaction markers and audit events.
    ///
    /// ```
    /// use safeguard::DataClass;
    /// assert_eq!(DataClass::Credential.name(), "credential");
    /// ```
    pub fn name(&self) -> &str {
        match self {
            Self::Personal => "personal",
            Self::Health => "health",
            Self::Payment => "payment",
            Self::Credential => "credential",
            Self::Internal => "internal",
            Self::Public => "public",
            Self::Custom(name) => name,
        }
    }

    /// The built-in classes, in a stable order.
    ///
    /// ```
    /// use safeguard::DataClass;
    /// assert_eq!(DataClass::BUILT_IN.len(), 6);
    /// ```
    pub const BUILT_IN: [DataClass; 6] = [
        DataClass::Personal,
        DataClass::Health,
        DataClass::Payment,
        DataClass::Credential,
        DataClass::Internal,
        DataClass::Public,
    ];

    /// Whether values of this class may ever be shown in clear to a cleared caller.
    /// Only [`DataClass::Credential`] answers `false`.
    ///
    /// ```
    /// use safeguard::DataClass;
    /// assert!(!DataClass::Credential.is_revealable());
    /// assert!(DataClass::Health.is_revealable());
    /// ```
    pub fn is_revealable(&self) -> bool {
        !matches!(self, Self::Credential)
    }

    /// The marker that replaces a value of this class, e.g. `[REDACTED:payment]`.
    ///
    /// ```
    /// use safeguard::DataClass;
    /// assert_eq!(DataClass::Payment.marker(), "[REDACTED:payment]");
    /// ```
    pub fn marker(&self) -> Cow<'static, str> {
        match self {
            Self::Personal => Cow::Borrowed("[REDACTED:personal]"),
            Self::Health => Cow::Borrowed("[REDACTED:health]"),
            Self::Payment => Cow::Borrowed("[REDACTED:payment]"),
            Self::Credential => Cow::Borrowed("[REDACTED:credential]"),
            Self::Internal => Cow::Borrowed("[REDACTED:internal]"),
            Self::Public => Cow::Borrowed("[REDACTED:public]"),
            Self::Custom(name) => Cow::Owned(format!("[REDACTED:{name}]")),
        }
    }
}

impl fmt::Debug for DataClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for DataClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl From<&str> for DataClass {
    fn from(name: &str) -> Self {
        Self::from_name(name)
    }
}

/// How much of a class a caller is cleared to see.
///
/// ```
/// use safeguard::{Clearance, DataClass};
///
/// let c = Clearance::partial(DataClass::Payment);
/// assert_eq!(c.class(), &DataClass::Payment);
/// assert!(!c.is_full());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Clearance {
    class: DataClass,
    full: bool,
}

impl Clearance {
    /// Full clearance: values of `class` are revealed (except credentials, which never are).
    ///
    /// ```
    /// use safeguard::{Clearance, DataClass};
    /// assert!(Clearance::full(DataClass::Health).is_full());
    /// ```
    pub fn full(class: DataClass) -> Self {
        Self { class, full: true }
    }

    /// Partial clearance: values of `class` get the class rule's partial action (typically a
    /// mask that keeps the last characters) instead of its default action.
    ///
    /// ```
    /// use safeguard::{Clearance, DataClass};
    /// assert!(!Clearance::partial(DataClass::Payment).is_full());
    /// ```
    pub fn partial(class: DataClass) -> Self {
        Self { class, full: false }
    }

    /// The class this clearance is for.
    ///
    /// ```
    /// use safeguard::{Clearance, DataClass};
    /// assert_eq!(Clearance::full(DataClass::Personal).class(), &DataClass::Personal);
    /// ```
    pub fn class(&self) -> &DataClass {
        &self.class
    }

    /// Whether this is a full clearance.
    ///
    /// ```
    /// use safeguard::{Clearance, DataClass};
    /// assert!(Clearance::full(DataClass::Personal).is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.full
    }
}

impl From<DataClass> for Clearance {
    fn from(class: DataClass) -> Self {
        Self::full(class)
    }
}
