//! The authenticated caller of a request.

use std::fmt;
use std::sync::Arc;

use crate::class::{Clearance, DataClass};

/// Who is calling: subject id, tenant, roles, permissions and data clearances.
///
/// The `Authorize` layer inserts a `Principal` into the request extensions; services that
/// authenticate in their own layer insert it themselves. The redaction layers read it to decide
/// what the caller may see. A request without a `Principal` is anonymous and cleared for nothing.
///
/// A `Principal` is cheap to clone (one `Arc`).
///
/// ```
/// use safeguard::{Clearance, DataClass, Principal};
///
/// let alice = Principal::new("user-42")
///     .with_tenant("acme")
///     .with_role("support")
///     .with_permission("tickets:read")
///     .with_clearance(Clearance::partial(DataClass::Payment));
///
/// assert_eq!(alice.subject(), "user-42");
/// assert_eq!(alice.tenant(), Some("acme"));
/// assert!(alice.has_role("support"));
/// assert!(alice.has_permission("tickets:read"));
/// assert_eq!(alice.clearance_for(&DataClass::Payment), Some(&Clearance::partial(DataClass::Payment)));
/// assert_eq!(alice.clearance_for(&DataClass::Health), None);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Principal {
    inner: Arc<Inner>,
}

#[derive(Clone, PartialEq, Eq)]
struct Inner {
    subject: Box<str>,
    tenant: Option<Box<str>>,
    roles: Vec<Box<str>>,
    permissions: Vec<Box<str>>,
    clearances: Vec<Clearance>,
}

impl Principal {
    /// A principal with a subject id and nothing else.
    ///
    /// ```
    /// let p = safeguard::Principal::new("svc-billing");
    /// assert_eq!(p.subject(), "svc-billing");
    /// assert!(p.roles().next().is_none());
    /// ```
    pub fn new(subject: impl Into<String>) -> Self {
        Self {
            inner: Arc::new(Inner {
                subject: subject.into().into_boxed_str(),
                tenant: None,
                roles: Vec::new(),
                permissions: Vec::new(),
                clearances: Vec::new(),
            }),
        }
    }

    fn edit(&mut self) -> &mut Inner {
        Arc::make_mut(&mut self.inner)
    }

    /// Binds the principal to a tenant.
    ///
    /// ```
    /// let p = safeguard::Principal::new("u1").with_tenant("acme");
    /// assert_eq!(p.tenant(), Some("acme"));
    /// ```
    pub fn with_tenant(mut self, tenant: impl Into<String>) -> Self {
        self.edit().tenant = Some(tenant.into().into_boxed_str());
        self
    }

    /// Adds a role.
    ///
    /// ```
    /// let p = safeguard::Principal::new("u1").with_role("admin");
    /// assert!(p.has_role("admin"));
    /// ```
    pub fn with_role(mut self, role: impl Into<String>) -> Self {
        let role = role.into().into_boxed_str();
        let inner = self.edit();
        if !inner.roles.contains(&role) {
            inner.roles.push(role);
        }
        self
    }

    /// Adds several roles.
    ///
    /// ```
    /// let p = safeguard::Principal::new("u1").with_roles(["a", "b"]);
    /// assert!(p.has_role("a") && p.has_role("b"));
    /// ```
    pub fn with_roles<I, R>(self, roles: I) -> Self
    where
        I: IntoIterator<Item = R>,
        R: Into<String>,
    {
        roles.into_iter().fold(self, Self::with_role)
    }

    /// Adds a permission.
    ///
    /// ```
    /// let p = safeguard::Principal::new("u1").with_permission("reports:read");
    /// assert!(p.has_permission("reports:read"));
    /// ```
    pub fn with_permission(mut self, permission: impl Into<String>) -> Self {
        let permission = permission.into().into_boxed_str();
        let inner = self.edit();
        if !inner.permissions.contains(&permission) {
            inner.permissions.push(permission);
        }
        self
    }

    /// Adds several permissions.
    ///
    /// ```
    /// let p = safeguard::Principal::new("u1").with_permissions(["a:read", "a:write"]);
    /// assert!(p.has_permission("a:write"));
    /// ```
    pub fn with_permissions<I, P>(self, permissions: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        permissions.into_iter().fold(self, Self::with_permission)
    }

    /// Adds a clearance. A [`DataClass`] converts into a full clearance. A later clearance for
    /// the same class replaces the earlier one.
    ///
    /// ```
    /// use safeguard::{Clearance, DataClass, Principal};
    /// let p = Principal::new("u1").with_clearance(DataClass::Health);
    /// assert!(p.clearance_for(&DataClass::Health).unwrap().is_full());
    /// ```
    pub fn with_clearance(mut self, clearance: impl Into<Clearance>) -> Self {
        let clearance = clearance.into();
        let inner = self.edit();
        inner.clearances.retain(|c| c.class() != clearance.class());
        inner.clearances.push(clearance);
        self
    }

    /// The subject id (user id, service account, API client).
    ///
    /// ```
    /// assert_eq!(safeguard::Principal::new("u1").subject(), "u1");
    /// ```
    pub fn subject(&self) -> &str {
        &self.inner.subject
    }

    /// The tenant, if the principal is bound to one.
    ///
    /// ```
    /// assert_eq!(safeguard::Principal::new("u1").tenant(), None);
    /// ```
    pub fn tenant(&self) -> Option<&str> {
        self.inner.tenant.as_deref()
    }

    /// The roles, in the order they were added.
    ///
    /// ```
    /// let p = safeguard::Principal::new("u1").with_role("a");
    /// assert_eq!(p.roles().collect::<Vec<_>>(), ["a"]);
    /// ```
    pub fn roles(&self) -> impl Iterator<Item = &str> {
        self.inner.roles.iter().map(|r| &**r)
    }

    /// The permissions, in the order they were added.
    ///
    /// ```
    /// let p = safeguard::Principal::new("u1").with_permission("x");
    /// assert_eq!(p.permissions().collect::<Vec<_>>(), ["x"]);
    /// ```
    pub fn permissions(&self) -> impl Iterator<Item = &str> {
        self.inner.permissions.iter().map(|p| &**p)
    }

    /// The clearances.
    ///
    /// ```
    /// use safeguard::{DataClass, Principal};
    /// let p = Principal::new("u1").with_clearance(DataClass::Personal);
    /// assert_eq!(p.clearances().count(), 1);
    /// ```
    pub fn clearances(&self) -> impl Iterator<Item = &Clearance> {
        self.inner.clearances.iter()
    }

    /// Whether the principal has `role` (exact, case-sensitive).
    ///
    /// ```
    /// assert!(!safeguard::Principal::new("u1").has_role("admin"));
    /// ```
    pub fn has_role(&self, role: &str) -> bool {
        self.inner.roles.iter().any(|r| &**r == role)
    }

    /// Whether the principal has `permission` (exact, case-sensitive).
    ///
    /// ```
    /// assert!(!safeguard::Principal::new("u1").has_permission("x"));
    /// ```
    pub fn has_permission(&self, permission: &str) -> bool {
        self.inner.permissions.iter().any(|p| &**p == permission)
    }

    /// The principal's clearance for `class`, if any.
    ///
    /// ```
    /// use safeguard::{DataClass, Principal};
    /// assert!(Principal::new("u1").clearance_for(&DataClass::Payment).is_none());
    /// ```
    pub fn clearance_for(&self, class: &DataClass) -> Option<&Clearance> {
        self.inner.clearances.iter().find(|c| c.class() == class)
    }
}

impl fmt::Debug for Principal {
    // Ids, roles and clearances are not secrets; they are what an access log needs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Principal")
            .field("subject", &self.inner.subject)
            .field("tenant", &self.inner.tenant)
            .field("roles", &self.inner.roles)
            .field("permissions", &self.inner.permissions)
            .field("clearances", &self.inner.clearances)
            .finish()
    }
}
