//! Access review: the access matrix of a rule set, and a coverage check for test suites.

use std::fmt;
use std::fmt::Write as _;

use http::Method;
use serde::Serialize;

use super::rules::{Node, RuleSet};

/// A column of the access matrix: who is asking.
///
/// ```
/// use safeguard::authz::Subject;
/// assert_eq!(Subject::Role("admin".into()).to_string(), "role:admin");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Subject {
    /// No principal.
    Anonymous,
    /// A principal with no roles and no permissions.
    Authenticated,
    /// A principal with exactly this role.
    Role(String),
    /// A principal with exactly this permission.
    Permission(String),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Anonymous => f.write_str("anonymous"),
            Self::Authenticated => f.write_str("authenticated"),
            Self::Role(r) => write!(f, "role:{r}"),
            Self::Permission(p) => write!(f, "permission:{p}"),
        }
    }
}

/// A cell of the access matrix.
///
/// ```
/// use safeguard::authz::Access;
/// assert_eq!(Access::Conditional.as_str(), "conditional");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Access {
    /// Always allowed.
    Allowed,
    /// Always denied.
    Denied,
    /// Depends on the request: ownership, tenant or a custom predicate.
    Conditional,
}

impl Access {
    /// `allowed`, `denied` or `conditional`.
    ///
    /// ```
    /// assert_eq!(safeguard::authz::Access::Allowed.as_str(), "allowed");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Denied => "denied",
            Self::Conditional => "conditional",
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Self::Allowed => "yes",
            Self::Denied => "-",
            Self::Conditional => "cond",
        }
    }
}

/// One row of the access matrix: a rule.
#[derive(Clone, Debug, Serialize)]
pub struct AccessRow {
    /// The rule id.
    pub rule: String,
    /// The method.
    pub method: String,
    /// The route template.
    pub route: String,
    /// The requirement, as text.
    pub requirement: String,
    /// One cell per column, in column order.
    pub access: Vec<Access>,
}

/// Route × subject → allowed, for access reviews. Columns are anonymous, authenticated, then
/// every role and every permission any rule names (sorted). Render it with
/// [`to_text`](Self::to_text), [`to_json`](Self::to_json) or [`to_csv`](Self::to_csv).
///
/// ```
/// use http::Method;
/// use safeguard::authz::{Access, Requirement, RuleSet};
///
/// let rules = RuleSet::builder()
///     .rule("health", Method::GET, "/health", Requirement::public())
///     .rule("admin", Method::GET, "/admin", Requirement::any_role(["admin"]))
///     .rule("me", Method::GET, "/users/{id}", Requirement::owner("id"))
///     .build()
///     .unwrap();
/// let m = rules.access_matrix();
/// assert_eq!(m.columns().iter().map(|c| c.to_string()).collect::<Vec<_>>(), ["anonymous", "authenticated", "role:admin"]);
/// assert_eq!(m.rows()[1].access, [Access::Denied, Access::Denied, Access::Allowed]);
/// assert_eq!(m.rows()[2].access[1], Access::Conditional);
/// assert!(m.to_csv().starts_with("rule,method,route,requirement,anonymous,authenticated,role:admin\n"));
/// ```
#[derive(Clone, Debug)]
pub struct AccessMatrix {
    columns: Vec<Subject>,
    rows: Vec<AccessRow>,
}

impl AccessMatrix {
    /// The columns.
    ///
    /// ```
    /// let m = safeguard::authz::RuleSet::builder().build().unwrap().access_matrix();
    /// assert_eq!(m.columns().len(), 2);
    /// ```
    pub fn columns(&self) -> &[Subject] {
        &self.columns
    }

    /// The rows, one per rule, in rule order.
    ///
    /// ```
    /// let m = safeguard::authz::RuleSet::builder().build().unwrap().access_matrix();
    /// assert!(m.rows().is_empty());
    /// ```
    pub fn rows(&self) -> &[AccessRow] {
        &self.rows
    }

    /// An aligned plain-text table.
    ///
    /// ```
    /// use http::Method;
    /// use safeguard::authz::{Requirement, RuleSet};
    /// let rules = RuleSet::builder().rule("h", Method::GET, "/h", Requirement::public()).build().unwrap();
    /// let text = rules.access_matrix().to_text();
    /// assert!(text.lines().nth(1).unwrap().contains("GET"));
    /// ```
    pub fn to_text(&self) -> String {
        let mut header = vec!["rule".to_owned(), "method".to_owned(), "route".to_owned()];
        header.extend(self.columns.iter().map(ToString::to_string));
        let mut lines = vec![header];
        for row in &self.rows {
            let mut line = vec![row.rule.clone(), row.method.clone(), row.route.clone()];
            line.extend(row.access.iter().map(|a| a.symbol().to_owned()));
            lines.push(line);
        }
        let cols = lines[0].len();
        let widths: Vec<usize> = (0..cols)
            .map(|c| {
                lines
                    .iter()
                    .map(|l| l[c].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for line in &lines {
            let mut text = String::new();
            for (c, cell) in line.iter().enumerate() {
                let _ = write!(text, "{cell:<w$}  ", w = widths[c]);
            }
            out.push_str(text.trim_end());
            out.push('\n');
        }
        out
    }

    /// A JSON document: `{"columns": [...], "rows": [{"rule", "method", "route", "requirement",
    /// "access": {"<column>": "allowed" | "denied" | "conditional"}}]}`.
    ///
    /// ```
    /// use http::Method;
    /// use safeguard::authz::{Requirement, RuleSet};
    /// let rules = RuleSet::builder().rule("h", Method::GET, "/h", Requirement::public()).build().unwrap();
    /// let json = rules.access_matrix().to_json();
    /// assert_eq!(json["rows"][0]["access"]["anonymous"], "allowed");
    /// ```
    pub fn to_json(&self) -> serde_json::Value {
        let columns: Vec<String> = self.columns.iter().map(ToString::to_string).collect();
        let rows: Vec<serde_json::Value> = self
            .rows
            .iter()
            .map(|row| {
                let access: serde_json::Map<String, serde_json::Value> = columns
                    .iter()
                    .zip(&row.access)
                    .map(|(c, a)| (c.clone(), serde_json::Value::from(a.as_str())))
                    .collect();
                serde_json::json!({
                    "rule": row.rule,
                    "method": row.method,
                    "route": row.route,
                    "requirement": row.requirement,
                    "access": access,
                })
            })
            .collect();
        serde_json::json!({ "columns": columns, "rows": rows })
    }

    /// CSV (RFC 4180), one row per rule. Cells that a spreadsheet would read as a formula
    /// (starting with `=`, `+`, `-`, `@`, tab or CR) are prefixed with `'`, since role names
    /// are user input too.
    ///
    /// ```
    /// use http::Method;
    /// use safeguard::authz::{Requirement, RuleSet};
    /// let rules = RuleSet::builder().rule("=cmd", Method::GET, "/h", Requirement::any_role(["a,b"])).build().unwrap();
    /// let csv = rules.access_matrix().to_csv();
    /// assert!(csv.contains("'=cmd,GET,/h"));
    /// assert!(csv.contains("\"role:a,b\""));
    /// ```
    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        let mut header = vec![
            "rule".to_owned(),
            "method".to_owned(),
            "route".to_owned(),
            "requirement".to_owned(),
        ];
        header.extend(self.columns.iter().map(ToString::to_string));
        csv_line(&mut out, &header);
        for row in &self.rows {
            let mut line = vec![
                row.rule.clone(),
                row.method.clone(),
                row.route.clone(),
                row.requirement.clone(),
            ];
            line.extend(row.access.iter().map(|a| a.as_str().to_owned()));
            csv_line(&mut out, &line);
        }
        out
    }
}

impl fmt::Display for AccessMatrix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

fn csv_line(out: &mut String, cells: &[String]) {
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let mut cell = cell.clone();
        if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            cell.insert(0, '\'');
        }
        if cell.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&cell.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(&cell);
        }
    }
    out.push('\n');
}

fn role_of(s: &Subject) -> Option<&str> {
    match s {
        Subject::Role(r) => Some(r),
        _ => None,
    }
}

fn permission_of(s: &Subject) -> Option<&str> {
    match s {
        Subject::Permission(p) => Some(p),
        _ => None,
    }
}

fn static_access(node: &Node, who: &Subject) -> Access {
    use Access::*;
    let has = |list: &[Box<str>], pick: fn(&Subject) -> Option<&str>| {
        pick(who).is_some_and(|x| list.iter().any(|s| &**s == x))
    };
    let only = |list: &[Box<str>], pick: fn(&Subject) -> Option<&str>| {
        list.iter().all(|s| pick(who) == Some(&**s))
    };
    let role: fn(&Subject) -> Option<&str> = role_of;
    let perm: fn(&Subject) -> Option<&str> = permission_of;
    let yes = |b: bool| if b { Allowed } else { Denied };
    if matches!(node, Node::Public) {
        return Allowed;
    }
    if *who == Subject::Anonymous {
        return match node {
            Node::Custom(_) => Conditional,
            Node::All(_) | Node::Any(_) => combine(node, who),
            _ => Denied,
        };
    }
    match node {
        Node::Public | Node::Authenticated => Allowed,
        Node::AnyRole(r) => yes(has(r, role)),
        Node::AllRoles(r) => yes(only(r, role)),
        Node::AnyPermission(p) => yes(has(p, perm)),
        Node::AllPermissions(p) => yes(only(p, perm)),
        Node::Owner(_) | Node::Tenant(_) | Node::Custom(_) => Conditional,
        Node::All(_) | Node::Any(_) => combine(node, who),
    }
}

fn combine(node: &Node, who: &Subject) -> Access {
    match node {
        Node::All(children) => {
            let cells: Vec<Access> = children.iter().map(|c| static_access(c, who)).collect();
            if cells.contains(&Access::Denied) {
                Access::Denied
            } else if cells.iter().all(|a| *a == Access::Allowed) {
                Access::Allowed
            } else {
                Access::Conditional
            }
        }
        Node::Any(children) => {
            let cells: Vec<Access> = children.iter().map(|c| static_access(c, who)).collect();
            if cells.contains(&Access::Allowed) {
                Access::Allowed
            } else if cells.iter().all(|a| *a == Access::Denied) {
                Access::Denied
            } else {
                Access::Conditional
            }
        }
        other => static_access(other, who),
    }
}

fn collect_names(node: &Node, roles: &mut Vec<String>, perms: &mut Vec<String>) {
    match node {
        Node::AnyRole(r) | Node::AllRoles(r) => roles.extend(r.iter().map(|s| s.to_string())),
        Node::AnyPermission(p) | Node::AllPermissions(p) => {
            perms.extend(p.iter().map(|s| s.to_string()))
        }
        Node::All(c) | Node::Any(c) => c.iter().for_each(|n| collect_names(n, roles, perms)),
        _ => {}
    }
}

/// Routes that no rule covers, as returned by [`RuleSet::assert_covers`].
///
/// ```
/// use http::Method;
/// use safeguard::authz::RuleSet;
/// let err = RuleSet::builder().build().unwrap().assert_covers(&[(Method::GET, "/new")]).unwrap_err();
/// assert_eq!(err.missing(), [(Method::GET, "/new".to_owned())]);
/// assert!(err.to_string().contains("GET /new"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Uncovered {
    missing: Vec<(Method, String)>,
}

impl Uncovered {
    /// The uncovered method + route pairs.
    ///
    /// ```
    /// use http::Method;
    /// let err = safeguard::authz::RuleSet::builder().build().unwrap()
    ///     .assert_covers(&[(Method::POST, "/x")]).unwrap_err();
    /// assert_eq!(err.missing().len(), 1);
    /// ```
    pub fn missing(&self) -> &[(Method, String)] {
        &self.missing
    }
}

impl fmt::Display for Uncovered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} route(s) have no authorization rule (they are denied by default):",
            self.missing.len()
        )?;
        for (m, r) in &self.missing {
            writeln!(f, "  {m} {r}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Uncovered {}

impl RuleSet {
    /// The access matrix of the rule set (see [`AccessMatrix`]).
    ///
    /// ```
    /// use http::Method;
    /// use safeguard::authz::{Requirement, RuleSet};
    /// let rules = RuleSet::builder().rule("r", Method::GET, "/r", Requirement::any_permission(["r:read"])).build().unwrap();
    /// assert!(rules.access_matrix().to_text().contains("permission:r:read"));
    /// ```
    pub fn access_matrix(&self) -> AccessMatrix {
        let mut roles = Vec::new();
        let mut perms = Vec::new();
        for rule in self.rules() {
            collect_names(&rule.requirement().0, &mut roles, &mut perms);
        }
        roles.sort();
        roles.dedup();
        perms.sort();
        perms.dedup();
        let mut columns = vec![Subject::Anonymous, Subject::Authenticated];
        columns.extend(roles.into_iter().map(Subject::Role));
        columns.extend(perms.into_iter().map(Subject::Permission));
        let rows = self
            .rules()
            .map(|rule| AccessRow {
                rule: rule.id().to_owned(),
                method: rule.method().to_string(),
                route: rule.route().to_owned(),
                requirement: rule.requirement().to_string(),
                access: columns
                    .iter()
                    .map(|c| static_access(&rule.requirement().0, c))
                    .collect(),
            })
            .collect();
        AccessMatrix { columns, rows }
    }

    /// Checks that every `(method, route template)` has a rule (HEAD counts as GET). Put the
    /// service's route list in a test: a route added without a rule then fails the suite
    /// instead of silently answering 403 in production.
    ///
    /// ```
    /// use http::Method;
    /// use safeguard::authz::{Requirement, RuleSet};
    /// let rules = RuleSet::builder().rule("r", Method::GET, "/users/{id}", Requirement::owner("id")).build().unwrap();
    /// assert!(rules.assert_covers(&[(Method::GET, "/users/{id}"), (Method::HEAD, "/users/{id}")]).is_ok());
    /// let err = rules.assert_covers(&[(Method::DELETE, "/users/{id}")]).unwrap_err();
    /// assert_eq!(err.missing()[0].0, Method::DELETE);
    /// ```
    pub fn assert_covers(&self, routes: &[(Method, &str)]) -> Result<(), Uncovered> {
        let missing: Vec<(Method, String)> = routes
            .iter()
            .filter(|(m, r)| self.rule_for_route(m, r).is_err())
            .map(|(m, r)| (m.clone(), (*r).to_owned()))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Uncovered { missing })
        }
    }
}
