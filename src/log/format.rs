//! Redacting field and event formatters for `tracing-subscriber`'s `fmt` layer.

use std::borrow::{Borrow, Cow};
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, RwLock};

use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::{FormatTime, SystemTime};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields};
use tracing_subscriber::registry::LookupSpan;

use super::scrub::scrub_view_str;
use crate::policy::{Action, ClassId, Disposition, Policy, Rendered, View, canonical_name};

/// Most distinct field names remembered per formatter (names are `&'static str`, so the set
/// is finite in practice; past the limit names are classified on every use).
const NAME_CACHE_LIMIT: usize = 4096;

/// Scratch buffers above this size are released after use, so one huge value does not pin
/// memory for the life of a thread.
const SCRATCH_KEEP: usize = 16 * 1024;

/// Integers with at least this many digits are scanned by the detectors (a card number or a
/// national id recorded as a number); shorter ones cannot hold one.
const SCAN_INTEGERS_FROM: u64 = 100_000_000;

#[derive(Default)]
struct PtrHasher(u64);

impl Hasher for PtrHasher {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0.rotate_left(5) ^ n).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Field names are `&'static str`: their address and length identify them, which is much
/// cheaper to hash than canonicalizing the name on every event.
type NameCache = HashMap<(usize, usize), Option<ClassId>, BuildHasherDefault<PtrHasher>>;

struct Shared {
    view: View,
    names: RwLock<NameCache>,
}

impl Shared {
    fn new(policy: &Policy) -> Arc<Self> {
        Arc::new(Self {
            view: policy.view(None),
            names: RwLock::new(NameCache::default()),
        })
    }

    fn classify(&self, name: &'static str) -> Option<ClassId> {
        let key = (name.as_ptr() as usize, name.len());
        if let Ok(names) = self.names.read() {
            if let Some(hit) = names.get(&key) {
                return *hit;
            }
        }
        let id = self.view.policy().classify_name(name);
        if let Ok(mut names) = self.names.write() {
            if names.len() < NAME_CACHE_LIMIT {
                names.insert(key, id);
            }
        }
        id
    }
}

thread_local! {
    static SCRATCH: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Runs `f` with a cleared scratch string: the thread's buffer, taken out for the call (so a
/// `Debug` impl that logs while being formatted gets a fresh one) and put back if not oversized.
fn with_scratch<R>(f: impl FnOnce(&mut String) -> R) -> R {
    let mut buf = SCRATCH
        .try_with(|cell| {
            cell.try_borrow_mut()
                .map(|mut b| std::mem::take(&mut *b))
                .ok()
        })
        .ok()
        .flatten()
        .unwrap_or_default();
    buf.clear();
    let out = f(&mut buf);
    if buf.capacity() <= SCRATCH_KEEP {
        let _ = SCRATCH.try_with(|cell| {
            if let Ok(mut slot) = cell.try_borrow_mut() {
                *slot = buf;
            }
        });
    }
    out
}

/// A value as tracing hands it over.
enum Value<'a> {
    Str(&'a str),
    Debug(&'a dyn fmt::Debug),
    Error(&'a (dyn std::error::Error + 'static)),
    Int(i128),
    Float(f64),
    Bool(bool),
}

impl Value<'_> {
    /// Writes the value as free text (what the detectors see and masks apply to).
    fn write_text(&self, out: &mut String) {
        let _ = match self {
            Self::Str(s) => {
                out.push_str(s);
                Ok(())
            }
            Self::Debug(d) => write!(out, "{d:?}"),
            Self::Error(e) => write_error(out, *e),
            Self::Int(n) => write!(out, "{n}"),
            Self::Float(x) => write!(out, "{x}"),
            Self::Bool(b) => write!(out, "{b}"),
        };
    }

    /// Whether the value must be scanned (numbers and booleans only when they are long enough
    /// to be a card or id number).
    fn needs_scan(&self) -> bool {
        match self {
            Self::Str(_) | Self::Debug(_) | Self::Error(_) => true,
            Self::Int(n) => n.unsigned_abs() >= u128::from(SCAN_INTEGERS_FROM),
            Self::Float(_) | Self::Bool(_) => false,
        }
    }
}

fn write_error(out: &mut String, err: &(dyn std::error::Error + 'static)) -> fmt::Result {
    write!(out, "{err}")?;
    let mut source = err.source();
    let mut depth = 0;
    while let Some(cause) = source {
        // A cyclic or absurdly deep chain stops here.
        if depth == 32 {
            break;
        }
        write!(out, ": {cause}")?;
        source = cause.source();
        depth += 1;
    }
    Ok(())
}

/// What a classified field becomes.
enum Verdict<'a> {
    /// Not classified, or revealed: format and scan as usual.
    Scan,
    /// Leave the field out.
    Remove,
    /// Erased: JSON `null`, in text the class marker.
    Erased(Cow<'static, str>),
    /// Write this text instead of the value.
    Text(Cow<'a, str>),
}

fn verdict(shared: &Shared, name: &'static str, value: &Value<'_>) -> Verdict<'static> {
    if name == "message" {
        return Verdict::Scan;
    }
    let Some(id) = shared.classify(name) else {
        return Verdict::Scan;
    };
    let rendered = match shared.view.disposition(id) {
        Disposition::Reveal => return Verdict::Scan,
        // Masks and pseudonyms are computed from the value; the other actions never look at
        // it, so it is not even formatted.
        Disposition::Redact(Action::Mask { .. } | Action::Pseudonymize { .. }) => {
            with_scratch(|buf| {
                value.write_text(buf);
                let tag = canonical_name(name);
                shared.view.render(id, buf, Some(tag.as_bytes()))
            })
        }
        Disposition::Redact(_) => shared.view.render(id, "", None),
    };
    match rendered {
        Rendered::Reveal => Verdict::Scan,
        Rendered::Remove => Verdict::Remove,
        Rendered::Null => Verdict::Erased(shared.view.policy().class_of(id).marker()),
        Rendered::Text(text) => Verdict::Text(text),
    }
}

fn display_name(name: &str) -> &str {
    name.strip_prefix("r#").unwrap_or(name)
}

/// Writes `text` with control characters escaped, so a value cannot forge a log line
/// (`\n`) or drive a terminal (ANSI escapes).
fn write_escaped_controls(w: &mut Writer<'_>, text: &str) -> fmt::Result {
    if !text.bytes().any(|b| b.is_ascii_control() && b != b'\t') && !text.contains('\u{9b}') {
        return w.write_str(text);
    }
    for c in text.chars() {
        match c {
            '\t' => w.write_char(c)?,
            '\n' => w.write_str("\\n")?,
            '\r' => w.write_str("\\r")?,
            c if c.is_control() => write!(w, "\\u{{{:x}}}", c as u32)?,
            c => w.write_char(c)?,
        }
    }
    Ok(())
}

/// Writes a JSON string literal.
fn write_json_str(w: &mut impl fmt::Write, text: &str) -> fmt::Result {
    w.write_char('"')?;
    let mut start = 0;
    for (i, b) in text.bytes().enumerate() {
        let escape: Option<&str> = match b {
            b'"' => Some("\\\""),
            b'\\' => Some("\\\\"),
            b'\n' => Some("\\n"),
            b'\r' => Some("\\r"),
            b'\t' => Some("\\t"),
            0..=0x1f | 0x7f => None,
            _ => continue,
        };
        w.write_str(&text[start..i])?;
        match escape {
            Some(e) => w.write_str(e)?,
            None => write!(w, "\\u{b:04x}")?,
        }
        start = i + 1;
    }
    w.write_str(&text[start..])?;
    w.write_char('"')
}

/// The redacting field formatter for `fmt()` text output (the counterpart of
/// `tracing_subscriber`'s `DefaultFields`, same `name=value` layout).
///
/// Every event and span field (the formatted fields of spans, `#[instrument]` arguments
/// included, are produced by this formatter) goes through the policy:
///
/// - a field whose name the policy classifies (`password`, `user.password`, `api_key`,
///   `cardNumber`, ...) gets its class's action for a reader without clearance: by default the
///   value becomes its class marker, e.g. `[REDACTED:credential]` (a removed field is left out;
///   masks and pseudonyms apply);
/// - string values, `Debug`-recorded values, errors, long integers and the message are scanned
///   for classified `name=value` pairs and by the policy's detectors (see
///   [`scrub_str`](super::scrub_str));
/// - control characters in messages and `Debug` values are escaped, so a value cannot forge a
///   log line.
///
/// [`Sensitive<T>`](crate::sensitive::Sensitive) values print as their marker.
///
/// ```
/// use safeguard::log::{Capture, SafeFields};
/// use safeguard::policy::Policy;
///
/// let logs = Capture::new();
/// let subscriber = tracing_subscriber::fmt()
///     .fmt_fields(SafeFields::new(&Policy::default()))
///     .with_ansi(false)
///     .with_writer(logs.clone())
///     .finish();
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::info!(user = "bob", password = "hunter2", "paid with 4111 1111 1111 1111");
/// });
/// let out = logs.contents();
/// assert!(out.contains(r#"user="bob" password=[REDACTED:credential]"#), "{out}");
/// assert!(!out.contains("hunter2"));
/// ```
#[derive(Clone)]
pub struct SafeFields {
    shared: Arc<Shared>,
}

impl fmt::Debug for SafeFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SafeFields").finish_non_exhaustive()
    }
}

impl SafeFields {
    /// A field formatter for `policy`, as seen by a reader without clearance.
    ///
    /// ```
    /// // By value or by reference: `Policy` is an `Arc` inside.
    /// let fields = safeguard::log::SafeFields::new(safeguard::policy::Policy::default());
    /// let _builder = tracing_subscriber::fmt().fmt_fields(fields);
    /// ```
    pub fn new(policy: impl Borrow<Policy>) -> Self {
        let policy = policy.borrow();
        Self {
            shared: Shared::new(policy),
        }
    }
}

struct TextVisitor<'a, 'w> {
    shared: &'a Shared,
    writer: Writer<'w>,
    empty: bool,
    result: fmt::Result,
}

impl TextVisitor<'_, '_> {
    fn record(&mut self, field: &Field, value: Value<'_>) {
        if self.result.is_err() {
            return;
        }
        self.result = self.write(field, value);
    }

    fn write(&mut self, field: &Field, value: Value<'_>) -> fmt::Result {
        let name = field.name();
        let is_message = name == "message";
        let verdict = verdict(self.shared, name, &value);
        if matches!(verdict, Verdict::Remove) {
            return Ok(());
        }
        if !self.empty {
            self.writer.write_char(' ')?;
        }
        self.empty = false;
        if !is_message {
            self.writer.write_str(display_name(name))?;
            self.writer.write_char('=')?;
        }
        match verdict {
            Verdict::Remove => Ok(()),
            Verdict::Erased(marker) => self.writer.write_str(&marker),
            Verdict::Text(text) => write_escaped_controls(&mut self.writer, &text),
            Verdict::Scan => match value {
                Value::Str(s) => {
                    let clean = scrub_view_str(&self.shared.view, s);
                    if is_message {
                        write_escaped_controls(&mut self.writer, &clean)
                    } else {
                        write!(self.writer, "{clean:?}")
                    }
                }
                Value::Float(x) => write!(self.writer, "{x}"),
                Value::Bool(b) => write!(self.writer, "{b}"),
                Value::Int(n) if !value.needs_scan() => write!(self.writer, "{n}"),
                _ => {
                    let writer = &mut self.writer;
                    let view = &self.shared.view;
                    with_scratch(|buf| {
                        value.write_text(buf);
                        write_escaped_controls(writer, &scrub_view_str(view, buf))
                    })
                }
            },
        }
    }
}

macro_rules! visit_methods {
    () => {
        fn record_str(&mut self, field: &Field, value: &str) {
            self.record(field, Value::Str(value));
        }
        fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
            self.record(field, Value::Debug(value));
        }
        fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
            self.record(field, Value::Error(value));
        }
        fn record_i64(&mut self, field: &Field, value: i64) {
            self.record(field, Value::Int(i128::from(value)));
        }
        fn record_u64(&mut self, field: &Field, value: u64) {
            self.record(field, Value::Int(i128::from(value)));
        }
        fn record_i128(&mut self, field: &Field, value: i128) {
            self.record(field, Value::Int(value));
        }
        fn record_u128(&mut self, field: &Field, value: u128) {
            match i128::try_from(value) {
                Ok(v) => self.record(field, Value::Int(v)),
                Err(_) => self.record(field, Value::Debug(&value)),
            }
        }
        fn record_f64(&mut self, field: &Field, value: f64) {
            self.record(field, Value::Float(value));
        }
        fn record_bool(&mut self, field: &Field, value: bool) {
            self.record(field, Value::Bool(value));
        }
    };
}

impl Visit for TextVisitor<'_, '_> {
    visit_methods!();
}

impl<'writer> FormatFields<'writer> for SafeFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'writer>, fields: R) -> fmt::Result {
        let mut visitor = TextVisitor {
            shared: &self.shared,
            writer,
            empty: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

/// The redacting field formatter for JSON output: writes fields as JSON object members
/// (`"name":value`, numbers and booleans as JSON numbers and booleans), with the same policy
/// as [`SafeFields`]. Pair it with [`SafeJson`], which only accepts this field formatter, so
/// span fields are always the redacted ones.
///
/// A classified field follows the policy's [`Erasure`](crate::policy::Erasure): `null` by
/// default, or the `[REDACTED]` marker.
///
/// ```
/// use safeguard::log::{SafeJson, SafeJsonFields};
/// let policy = safeguard::policy::Policy::default();
/// let _builder = tracing_subscriber::fmt()
///     .fmt_fields(SafeJsonFields::new(&policy))
///     .event_format(SafeJson::new());
/// ```
#[derive(Clone)]
pub struct SafeJsonFields {
    shared: Arc<Shared>,
}

impl fmt::Debug for SafeJsonFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SafeJsonFields").finish_non_exhaustive()
    }
}

impl SafeJsonFields {
    /// A JSON field formatter for `policy`, as seen by a reader without clearance.
    ///
    /// ```
    /// let fields = safeguard::log::SafeJsonFields::new(&safeguard::policy::Policy::default());
    /// assert!(format!("{fields:?}").starts_with("SafeJsonFields"));
    /// ```
    pub fn new(policy: impl Borrow<Policy>) -> Self {
        let policy = policy.borrow();
        Self {
            shared: Shared::new(policy),
        }
    }
}

struct JsonVisitor<'a, 'w> {
    shared: &'a Shared,
    writer: Writer<'w>,
    empty: bool,
    result: fmt::Result,
}

impl JsonVisitor<'_, '_> {
    fn record(&mut self, field: &Field, value: Value<'_>) {
        if self.result.is_err() {
            return;
        }
        self.result = self.write(field, value);
    }

    fn write(&mut self, field: &Field, value: Value<'_>) -> fmt::Result {
        let name = field.name();
        let verdict = verdict(self.shared, name, &value);
        if matches!(verdict, Verdict::Remove) {
            return Ok(());
        }
        if !self.empty {
            self.writer.write_char(',')?;
        }
        self.empty = false;
        write_json_str(&mut self.writer, display_name(name))?;
        self.writer.write_char(':')?;
        match verdict {
            Verdict::Remove => Ok(()),
            Verdict::Erased(_) => self.writer.write_str("null"),
            Verdict::Text(text) => write_json_str(&mut self.writer, &text),
            Verdict::Scan => match value {
                Value::Str(s) => {
                    write_json_str(&mut self.writer, &scrub_view_str(&self.shared.view, s))
                }
                Value::Float(x) if x.is_finite() => write!(self.writer, "{x}"),
                Value::Bool(b) => write!(self.writer, "{b}"),
                Value::Int(n) if !value.needs_scan() => write!(self.writer, "{n}"),
                _ => {
                    let writer = &mut self.writer;
                    let view = &self.shared.view;
                    with_scratch(|buf| {
                        value.write_text(buf);
                        let clean = scrub_view_str(view, buf);
                        match (&value, &clean) {
                            // A long number the detectors left alone stays a number.
                            (Value::Int(_), Cow::Borrowed(_)) => writer.write_str(&clean),
                            _ => write_json_str(writer, &clean),
                        }
                    })
                }
            },
        }
    }
}

impl Visit for JsonVisitor<'_, '_> {
    visit_methods!();
}

impl<'writer> FormatFields<'writer> for SafeJsonFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'writer>, fields: R) -> fmt::Result {
        let mut visitor = JsonVisitor {
            shared: &self.shared,
            writer,
            empty: true,
            result: Ok(()),
        };
        fields.record(&mut visitor);
        visitor.result
    }

    fn add_fields(
        &self,
        current: &'writer mut FormattedFields<Self>,
        fields: &tracing::span::Record<'_>,
    ) -> fmt::Result {
        // Members are comma-separated (the default would add a space).
        let had_fields = !current.fields.is_empty();
        let at = current.fields.len();
        if had_fields {
            current.fields.push(',');
        }
        self.format_fields(current.as_writer(), fields)?;
        if had_fields && current.fields.len() == at + 1 {
            // Nothing was recorded (every field removed): drop the dangling comma.
            current.fields.truncate(at);
        }
        Ok(())
    }
}

/// A JSON event formatter whose fields, and the fields of every span in scope, come from
/// [`SafeJsonFields`]: one object per line,
///
/// ```text
/// {"timestamp":"…","level":"INFO","fields":{"message":"…",…},"target":"…","span":{"name":"…",…},"spans":[{"name":"…",…}]}
/// ```
///
/// (the layout of `tracing_subscriber`'s JSON format). It implements `FormatEvent` only with
/// [`SafeJsonFields`], so a subscriber cannot pair it with a field formatter that leaves span
/// fields unredacted.
///
/// ```
/// use safeguard::log::{Capture, SafeJson, SafeJsonFields};
///
/// let logs = Capture::new();
/// let policy = safeguard::policy::Policy::default();
/// let subscriber = tracing_subscriber::fmt()
///     .fmt_fields(SafeJsonFields::new(&policy))
///     .event_format(SafeJson::new().without_time())
///     .with_writer(logs.clone())
///     .finish();
/// tracing::subscriber::with_default(subscriber, || {
///     let span = tracing::info_span!("login", api_key = "k-123", user = "bob");
///     let _e = span.enter();
///     tracing::info!(attempt = 2, "checking");
/// });
/// let line = logs.contents();
/// let json: serde_json::Value = serde_json::from_str(&line).unwrap();
/// assert_eq!(json["fields"]["attempt"], 2);
/// assert_eq!(json["span"]["user"], "bob");
/// assert!(json["span"]["api_key"].is_null());
/// assert!(!line.contains("k-123"));
/// ```
#[derive(Clone, Debug)]
pub struct SafeJson {
    time: bool,
    target: bool,
    current_span: bool,
    span_list: bool,
}

impl Default for SafeJson {
    fn default() -> Self {
        Self::new()
    }
}

impl SafeJson {
    /// The formatter with timestamp, level, target, current span and span list.
    ///
    /// ```
    /// let _f = safeguard::log::SafeJson::new();
    /// ```
    pub fn new() -> Self {
        Self {
            time: true,
            target: true,
            current_span: true,
            span_list: true,
        }
    }

    /// Leaves the timestamp out (e.g. when the collector stamps lines itself).
    ///
    /// ```
    /// let _f = safeguard::log::SafeJson::new().without_time();
    /// ```
    pub fn without_time(mut self) -> Self {
        self.time = false;
        self
    }

    /// Whether to write the event's target (default: yes).
    ///
    /// ```
    /// let _f = safeguard::log::SafeJson::new().with_target(false);
    /// ```
    pub fn with_target(mut self, yes: bool) -> Self {
        self.target = yes;
        self
    }

    /// Whether to write the current span as `"span"` (default: yes).
    ///
    /// ```
    /// let _f = safeguard::log::SafeJson::new().with_current_span(false);
    /// ```
    pub fn with_current_span(mut self, yes: bool) -> Self {
        self.current_span = yes;
        self
    }

    /// Whether to write every span in scope, root first, as `"spans"` (default: yes).
    ///
    /// ```
    /// let _f = safeguard::log::SafeJson::new().with_span_list(false);
    /// ```
    pub fn with_span_list(mut self, yes: bool) -> Self {
        self.span_list = yes;
        self
    }
}

fn write_span<S>(
    w: &mut Writer<'_>,
    span: &tracing_subscriber::registry::SpanRef<'_, S>,
) -> fmt::Result
where
    S: for<'a> LookupSpan<'a>,
{
    w.write_str("{\"name\":")?;
    write_json_str(w, span.name())?;
    let extensions = span.extensions();
    if let Some(fields) = extensions.get::<FormattedFields<SafeJsonFields>>() {
        if !fields.fields.is_empty() {
            w.write_char(',')?;
            w.write_str(&fields.fields)?;
        }
    }
    w.write_char('}')
}

impl<S> FormatEvent<S, SafeJsonFields> for SafeJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, SafeJsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        writer.write_char('{')?;
        if self.time {
            writer.write_str("\"timestamp\":\"")?;
            SystemTime.format_time(&mut writer)?;
            writer.write_str("\",")?;
        }
        write!(writer, "\"level\":\"{}\",\"fields\":{{", meta.level())?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writer.write_char('}')?;
        if self.target {
            writer.write_str(",\"target\":")?;
            write_json_str(&mut writer, meta.target())?;
        }
        if self.current_span {
            let current = event
                .parent()
                .and_then(|id| ctx.span(id))
                .or_else(|| ctx.lookup_current());
            if let Some(span) = current {
                writer.write_str(",\"span\":")?;
                write_span(&mut writer, &span)?;
            }
        }
        if self.span_list {
            if let Some(scope) = ctx.event_scope() {
                writer.write_str(",\"spans\":[")?;
                for (i, span) in scope.from_root().enumerate() {
                    if i > 0 {
                        writer.write_char(',')?;
                    }
                    write_span(&mut writer, &span)?;
                }
                writer.write_char(']')?;
            }
        }
        writer.write_str("}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_escape_controls() {
        let mut out = String::new();
        write_json_str(&mut out, "a\"b\\c\nd\u{1}e").unwrap();
        assert_eq!(out, r#""a\"b\\c\nd\u0001e""#);
        let parsed: String = serde_json::from_str(&out).unwrap();
        assert_eq!(parsed, "a\"b\\c\nd\u{1}e");
    }

    #[test]
    fn scratch_survives_reentrance() {
        let outer = with_scratch(|a| {
            a.push_str("outer");
            let inner = with_scratch(|b| {
                b.push_str("inner");
                b.clone()
            });
            format!("{a}+{inner}")
        });
        assert_eq!(outer, "outer+inner");
    }
}
