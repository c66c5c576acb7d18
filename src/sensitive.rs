//! [`Sensitive<T>`]: a value that never shows itself by accident.
//!
//! Wrap a field in `Sensitive` and it prints as `[REDACTED:<class>]` in `Debug`, `Display`,
//! `tracing` fields (which use `Debug`/`Display`), panics and serialized output, while
//! deserializing transparently from the plain value. Reading it takes an explicit
//! [`Sensitive::expose`].
//!
//! ```
//! use safeguard::sensitive::{Payment, Sensitive};
//!
//! #[derive(Debug, serde::Serialize, serde::Deserialize)]
//! struct Charge {
//!     amount: u64,
//!     card: Sensitive<String, Payment>,
//! }
//!
//! let charge: Charge = serde_json::from_str(r#"{"amount": 990, "card": "4111111111111111"}"#)?;
//! assert_eq!(charge.card.expose(), "4111111111111111");
//! assert!(!format!("{charge:?}").contains("4111"));
//! assert_eq!(serde_json::to_string(&charge)?, r#"{"amount":990,"card":"[REDACTED:payment]"}"#);
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::fmt;
use std::marker::PhantomData;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::class::DataClass;

/// A data class known at compile time, for [`Sensitive<T, C>`].
///
/// Implement it for your own marker types to add classes:
///
/// ```
/// use safeguard::sensitive::{Classification, Sensitive};
/// use safeguard::DataClass;
///
/// struct Biometric;
/// impl Classification for Biometric {
///     const NAME: &'static str = "biometric";
/// }
///
/// let print = Sensitive::<_, Biometric>::new(vec![1u8, 2, 3]);
/// assert_eq!(format!("{print:?}"), "[REDACTED:biometric]");
/// assert_eq!(Biometric::class(), DataClass::custom("biometric"));
/// ```
pub trait Classification {
    /// The class's name, as in [`DataClass::name`].
    const NAME: &'static str;

    /// The class as a [`DataClass`].
    fn class() -> DataClass {
        DataClass::from_name(Self::NAME)
    }
}

macro_rules! classes {
    ($($(#[$doc:meta])* $ty:ident => $name:literal),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
        pub struct $ty;
        impl Classification for $ty {
            const NAME: &'static str = $name;
        }
    )*};
}

classes! {
    /// Marker for [`DataClass::Personal`].
    ///
    /// ```
    /// use safeguard::sensitive::{Classification, Personal};
    /// assert_eq!(Personal::class(), safeguard::DataClass::Personal);
    /// ```
    Personal => "personal",
    /// Marker for [`DataClass::Health`].
    ///
    /// ```
    /// use safeguard::sensitive::{Classification, Health};
    /// assert_eq!(Health::class(), safeguard::DataClass::Health);
    /// ```
    Health => "health",
    /// Marker for [`DataClass::Payment`].
    ///
    /// ```
    /// use safeguard::sensitive::{Classification, Payment};
    /// assert_eq!(Payment::class(), safeguard::DataClass::Payment);
    /// ```
    Payment => "payment",
    /// Marker for [`DataClass::Credential`].
    ///
    /// ```
    /// use safeguard::sensitive::{Classification, Credential};
    /// assert_eq!(Credential::class(), safeguard::DataClass::Credential);
    /// ```
    Credential => "credential",
    /// Marker for [`DataClass::Internal`].
    ///
    /// ```
    /// use safeguard::sensitive::{Classification, Internal};
    /// assert_eq!(Internal::class(), safeguard::DataClass::Internal);
    /// ```
    Internal => "internal",
}

/// A value of class `C` (default [`Personal`]) that prints and serializes as a marker.
///
/// - `Debug` and `Display` write `[REDACTED:<class>]`, whatever `T` is.
/// - `Serialize` writes the marker string; use [`expose`] with `#[serde(serialize_with)]` on a
///   field that must carry the value (e.g. towards a trusted store).
/// - `Deserialize` is transparent: it reads a plain `T`.
/// - `PartialEq`/`Eq`/`Hash`/`Clone`/`Default` follow `T`.
///
/// ```
/// use safeguard::sensitive::{Credential, Sensitive};
///
/// let token: Sensitive<&str, Credential> = Sensitive::new("ghp_abc123");
/// assert_eq!(token.to_string(), "[REDACTED:credential]");
/// assert_eq!(*token.expose(), "ghp_abc123");
/// tracing::info!(token = ?token, "called upstream"); // logs the marker
/// ```
pub struct Sensitive<T, C = Personal> {
    value: T,
    class: PhantomData<fn() -> C>,
}

impl<T, C: Classification> Sensitive<T, C> {
    /// Wraps a value.
    ///
    /// ```
    /// let ssn = safeguard::sensitive::Sensitive::<_, safeguard::sensitive::Personal>::new("123-45-6789");
    /// assert_eq!(format!("{ssn}"), "[REDACTED:personal]");
    /// ```
    pub fn new(value: T) -> Self {
        Self {
            value,
            class: PhantomData,
        }
    }

    /// The value, for code that needs it. The name makes every read visible in review.
    ///
    /// ```
    /// use safeguard::sensitive::{Payment, Sensitive};
    /// let iban = Sensitive::<String, Payment>::new("DE89370400440532013000".into());
    /// assert!(iban.expose().starts_with("DE"));
    /// ```
    pub fn expose(&self) -> &T {
        &self.value
    }

    /// Mutable access to the value.
    ///
    /// ```
    /// use safeguard::sensitive::Sensitive;
    /// let mut s = Sensitive::<String>::new("a".into());
    /// s.expose_mut().push('b');
    /// assert_eq!(s.expose(), "ab");
    /// ```
    pub fn expose_mut(&mut self) -> &mut T {
        &mut self.value
    }

    /// Unwraps the value.
    ///
    /// ```
    /// use safeguard::sensitive::Sensitive;
    /// assert_eq!(Sensitive::<u32>::new(7).into_inner(), 7);
    /// ```
    pub fn into_inner(self) -> T {
        self.value
    }

    /// The value's class.
    ///
    /// ```
    /// use safeguard::sensitive::{Health, Sensitive};
    /// assert_eq!(Sensitive::<_, Health>::new("flu").class(), safeguard::DataClass::Health);
    /// ```
    pub fn class(&self) -> DataClass {
        C::class()
    }
}

impl<T, C: Classification> From<T> for Sensitive<T, C> {
    fn from(value: T) -> Self {
        Self::new(value)
    }
}

fn write_marker<C: Classification>(f: &mut fmt::Formatter<'_>) -> fmt::Result {
    write!(f, "[REDACTED:{}]", C::NAME)
}

impl<T, C: Classification> fmt::Debug for Sensitive<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_marker::<C>(f)
    }
}

impl<T, C: Classification> fmt::Display for Sensitive<T, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_marker::<C>(f)
    }
}

impl<T: Clone, C> Clone for Sensitive<T, C> {
    fn clone(&self) -> Self {
        Self {
            value: self.value.clone(),
            class: PhantomData,
        }
    }
}

impl<T: Copy, C> Copy for Sensitive<T, C> {}

impl<T: Default, C> Default for Sensitive<T, C> {
    fn default() -> Self {
        Self {
            value: T::default(),
            class: PhantomData,
        }
    }
}

impl<T: PartialEq, C> PartialEq for Sensitive<T, C> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Eq, C> Eq for Sensitive<T, C> {}

impl<T: std::hash::Hash, C> std::hash::Hash for Sensitive<T, C> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.value.hash(state);
    }
}

impl<T, C: Classification> Serialize for Sensitive<T, C> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("[REDACTED:{}]", C::NAME))
    }
}

impl<'de, T: Deserialize<'de>, C: Classification> Deserialize<'de> for Sensitive<T, C> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(Self::new)
    }
}

/// Serializes the wrapped value itself, for `#[serde(serialize_with = "...")]` on fields that must
/// carry it (e.g. a request to a trusted backend).
///
/// ```
/// use safeguard::sensitive::{expose, Payment, Sensitive};
///
/// #[derive(serde::Serialize)]
/// struct ToVault {
///     #[serde(serialize_with = "expose")]
///     pan: Sensitive<String, Payment>,
/// }
/// let body = serde_json::to_string(&ToVault { pan: Sensitive::new("4111111111111111".into()) })?;
/// assert_eq!(body, r#"{"pan":"4111111111111111"}"#);
/// # Ok::<(), serde_json::Error>(())
/// ```
pub fn expose<T: Serialize, C: Classification, S: Serializer>(
    value: &Sensitive<T, C>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    value.expose().serialize(serializer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints_the_value_in_any_format() {
        let secret = Sensitive::<_, Credential>::new("s3cr3t-value");
        for shown in [
            format!("{secret}"),
            format!("{secret:?}"),
            format!("{secret:#?}"),
            format!("{:?}", Some(&secret)),
            serde_json::to_string(&secret).unwrap(),
        ] {
            assert!(!shown.contains("s3cr3t"), "{shown}");
            assert!(shown.contains("[REDACTED:credential]"), "{shown}");
        }
    }

    #[test]
    fn deserializes_transparently_and_compares_by_value() {
        let a: Sensitive<u32> = serde_json::from_str("42").unwrap();
        assert_eq!(*a.expose(), 42);
        assert_eq!(a, Sensitive::new(42));
        assert_eq!(a.class(), DataClass::Personal);
    }
}
