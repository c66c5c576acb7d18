//! JSON path rules (`$.card.number`, `$..password`, `$.users[*].ssn`) and their incremental
//! matcher.
//!
//! Streaming engines never hold the whole document, so paths are matched one step at a time:
//! each value's match states are computed from its parent's states and the key or index that
//! leads to it (an NFA over path segments). Keys are compared by canonical name, like field-name
//! rules.

use std::fmt;

use super::ClassId;
use super::name::canonicalize_into;

/// Why a JSON path could not be parsed.
///
/// ```
/// use safeguard::policy::JsonPath;
/// let err = JsonPath::parse("card.number").unwrap_err();
/// assert!(err.to_string().contains("must start with '$'"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathError {
    path: String,
    reason: &'static str,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid JSON path {:?}: {}", self.path, self.reason)
    }
}

impl std::error::Error for PathError {}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Segment {
    /// `.name` or `['name']`: a member with this canonical name.
    Child(Box<[u8]>),
    /// `.*` or `[*]`: any member or element.
    Any,
    /// `[3]`: the element at this index.
    Index(usize),
    /// `..name`: a member with this canonical name at any depth below.
    Descendant(Box<[u8]>),
    /// `..*`: any value at any depth below.
    DescendantAny,
}

/// A parsed JSON path: `$` followed by `.name`, `['name']`, `.*`, `[*]`, `[N]`, `..name` or
/// `..*` segments. Names compare canonically (see [`canonical_name`](super::canonical_name)).
///
/// Paths follow JSONPath semantics: `$.user.ssn` does not match `{"user": [{"ssn": 1}]}`; write
/// `$.user[*].ssn`, or use a field-name rule, which matches at any depth.
///
/// ```
/// use safeguard::policy::JsonPath;
/// assert!(JsonPath::parse("$.users[*].ssn").is_ok());
/// assert!(JsonPath::parse("$..password").is_ok());
/// assert!(JsonPath::parse("$['card number'][0]").is_ok());
/// assert!(JsonPath::parse("$.a[").is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonPath {
    source: String,
    segments: Vec<Segment>,
}

impl JsonPath {
    /// Parses a path.
    ///
    /// ```
    /// use safeguard::policy::JsonPath;
    /// let path = JsonPath::parse("$.card.number")?;
    /// assert_eq!(path.as_str(), "$.card.number");
    /// # Ok::<(), safeguard::policy::PathError>(())
    /// ```
    pub fn parse(path: &str) -> Result<Self, PathError> {
        let err = |reason| PathError {
            path: path.to_owned(),
            reason,
        };
        let rest = path
            .trim()
            .strip_prefix('$')
            .ok_or_else(|| err("a path must start with '$'"))?;
        let bytes = rest.as_bytes();
        let mut segments = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'.' if bytes.get(i + 1) == Some(&b'.') => {
                    let (name, next) = dotted_name(rest, i + 2)
                        .ok_or_else(|| err("'..' must be followed by a name or '*'"))?;
                    segments.push(match name {
                        None => Segment::DescendantAny,
                        Some(name) => Segment::Descendant(name),
                    });
                    i = next;
                }
                b'.' => {
                    let (name, next) = dotted_name(rest, i + 1)
                        .ok_or_else(|| err("'.' must be followed by a name or '*'"))?;
                    segments.push(match name {
                        None => Segment::Any,
                        Some(name) => Segment::Child(name),
                    });
                    i = next;
                }
                b'[' => {
                    let close = rest[i..]
                        .find(']')
                        .map(|at| i + at)
                        .ok_or_else(|| err("unclosed '['"))?;
                    let inner = rest[i + 1..close].trim();
                    segments.push(
                        bracket(inner)
                            .ok_or_else(|| err("brackets hold '*', an index or a quoted name"))?,
                    );
                    i = close + 1;
                }
                _ => return Err(err("expected '.', '..' or '['")),
            }
        }
        if segments.is_empty() {
            return Err(err("the root '$' alone selects the whole document"));
        }
        Ok(Self {
            source: path.trim().to_owned(),
            segments,
        })
    }

    /// The path as written.
    ///
    /// ```
    /// let path = safeguard::policy::JsonPath::parse("$..token")?;
    /// assert_eq!(path.as_str(), "$..token");
    /// # Ok::<(), safeguard::policy::PathError>(())
    /// ```
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl std::str::FromStr for JsonPath {
    type Err = PathError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Reads a name (or `*`) after a dot; returns `None` for `*`, and the index after it.
fn dotted_name(rest: &str, start: usize) -> Option<(Option<Box<[u8]>>, usize)> {
    let tail = &rest[start..];
    if tail.starts_with('*') {
        return Some((None, start + 1));
    }
    let len = tail.find(['.', '[']).unwrap_or(tail.len());
    if len == 0 {
        return None;
    }
    Some((Some(canonical(&tail[..len])), start + len))
}

fn bracket(inner: &str) -> Option<Segment> {
    if inner == "*" {
        return Some(Segment::Any);
    }
    if let Ok(index) = inner.parse::<usize>() {
        return Some(Segment::Index(index));
    }
    let quoted = inner
        .strip_prefix('\'')
        .and_then(|s| s.strip_suffix('\''))
        .or_else(|| inner.strip_prefix('"').and_then(|s| s.strip_suffix('"')))?;
    Some(Segment::Child(canonical(quoted)))
}

fn canonical(name: &str) -> Box<[u8]> {
    let mut out = Vec::new();
    canonicalize_into(name.as_bytes(), &mut out);
    out.into_boxed_slice()
}

/// One step from a value to a child: a member key (canonical) or an array index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step<'a> {
    /// An object member, by canonical name.
    Key(&'a [u8]),
    /// An array element.
    Index(usize),
}

/// A position inside one path rule: which rule, how many segments matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PathState {
    rule: u32,
    matched: u32,
}

/// The compiled path rules of a policy, matched incrementally.
///
/// An engine keeps one flat `Vec<PathState>`; each open container records where its states start.
///
/// ```
/// use safeguard::policy::{Policy, Step};
/// use safeguard::DataClass;
///
/// let policy = Policy::builder().path("$.users[*].ssn", DataClass::Personal).build()?;
/// let paths = policy.paths();
/// let mut states = Vec::new();
/// paths.root(&mut states);                                      // $
/// let users = states.len();
/// assert!(paths.step(&mut states, 0, Step::Key(b"users")).is_none());   // $.users
/// let first = states.len();
/// assert!(paths.step(&mut states, users, Step::Index(0)).is_none());    // $.users[0]
/// let class = paths.step(&mut states, first, Step::Key(b"ssn"));        // $.users[0].ssn
/// assert_eq!(policy.class_of(class.unwrap()), &DataClass::Personal);
/// # Ok::<(), safeguard::policy::PolicyError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct PathSet {
    rules: Vec<(JsonPath, ClassId)>,
}

impl PathSet {
    pub(crate) fn push(&mut self, path: JsonPath, class: ClassId) {
        self.rules.push((path, class));
    }

    /// Whether there are no path rules (engines can skip path tracking entirely).
    ///
    /// ```
    /// let policy = safeguard::policy::Policy::builder().without_defaults().build()?;
    /// assert!(policy.paths().is_empty());
    /// # Ok::<(), safeguard::policy::PolicyError>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Appends the states of the document root to `states`.
    ///
    /// ```
    /// let policy = safeguard::policy::Policy::builder()
    ///     .path("$.a", safeguard::DataClass::Internal)
    ///     .build()?;
    /// let mut states = Vec::new();
    /// policy.paths().root(&mut states);
    /// assert_eq!(states.len(), 1);
    /// # Ok::<(), safeguard::policy::PolicyError>(())
    /// ```
    pub fn root(&self, states: &mut Vec<PathState>) {
        states.extend((0..self.rules.len()).map(|rule| PathState {
            rule: rule as u32,
            matched: 0,
        }));
    }

    /// Computes the states of a child reached by `step` from the parent states
    /// `states[parent_start..]`, appends them to `states`, and returns the class of the first
    /// rule that the child completes (rules keep their declaration order).
    ///
    /// ```
    /// use safeguard::policy::{Policy, Step};
    /// let policy = Policy::builder().path("$..password", safeguard::DataClass::Credential).build()?;
    /// let mut states = Vec::new();
    /// policy.paths().root(&mut states);
    /// let deep = states.len();
    /// assert!(policy.paths().step(&mut states, 0, Step::Key(b"a")).is_none());
    /// assert!(policy.paths().step(&mut states, deep, Step::Key(b"password")).is_some());
    /// # Ok::<(), safeguard::policy::PolicyError>(())
    /// ```
    pub fn step(
        &self,
        states: &mut Vec<PathState>,
        parent_start: usize,
        step: Step<'_>,
    ) -> Option<ClassId> {
        let parent_end = states.len();
        let mut completed: Option<(u32, ClassId)> = None;
        for i in parent_start.min(parent_end)..parent_end {
            let state = states[i];
            let Some((path, class)) = self.rules.get(state.rule as usize) else {
                continue;
            };
            let Some(segment) = path.segments.get(state.matched as usize) else {
                continue;
            };
            let (advance, stay) = match (segment, step) {
                (Segment::Child(name), Step::Key(key)) => (&**name == key, false),
                (Segment::Child(_), Step::Index(_)) => (false, false),
                (Segment::Any, _) => (true, false),
                (Segment::Index(want), Step::Index(index)) => (*want == index, false),
                (Segment::Index(_), Step::Key(_)) => (false, false),
                (Segment::Descendant(name), Step::Key(key)) => (&**name == key, true),
                (Segment::Descendant(_), Step::Index(_)) => (false, true),
                (Segment::DescendantAny, _) => (true, true),
            };
            let mut add = |next: PathState| {
                if !states[parent_end..].contains(&next) {
                    states.push(next);
                }
            };
            if stay {
                add(state);
            }
            if advance {
                let next = PathState {
                    rule: state.rule,
                    matched: state.matched + 1,
                };
                if next.matched as usize == path.segments.len() {
                    if completed.is_none_or(|(rule, _)| state.rule < rule) {
                        completed = Some((state.rule, *class));
                    }
                } else {
                    add(next);
                }
            }
        }
        completed.map(|(_, class)| class)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(path: &str) -> Vec<Segment> {
        JsonPath::parse(path).unwrap().segments
    }

    #[test]
    fn parses_every_segment_form() {
        assert_eq!(
            segs("$.card.number"),
            [
                Segment::Child(b"card"[..].into()),
                Segment::Child(b"number"[..].into())
            ]
        );
        assert_eq!(
            segs("$.users[*].SSN"),
            [
                Segment::Child(b"users"[..].into()),
                Segment::Any,
                Segment::Child(b"ssn"[..].into())
            ]
        );
        assert_eq!(
            segs("$..Pass_Word"),
            [Segment::Descendant(b"password"[..].into())]
        );
        assert_eq!(segs("$..*"), [Segment::DescendantAny]);
        assert_eq!(
            segs("$['card number'][2]"),
            [Segment::Child(b"cardnumber"[..].into()), Segment::Index(2)]
        );
        for bad in ["", "$", "a.b", "$.", "$..", "$.a[", "$[x]", "$a", "$.a[']"] {
            assert!(JsonPath::parse(bad).is_err(), "{bad} should not parse");
        }
    }
}
