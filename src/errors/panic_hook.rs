//! A process panic hook that logs panics redacted.
//!
//! [`SanitizeErrors`](super::SanitizeErrors) keeps a panic's message out of the response and logs
//! it redacted under the incident id. But Rust's default panic hook runs first, at the panic
//! itself, and prints the raw message to stderr, which usually ends up in the same log store. A
//! message such as `invalid card 4111 1111 1111 1111 for jane@example.com` would reach the log
//! unredacted that way. The hook here prints the same facts (thread, location, message, and the
//! backtrace when `RUST_BACKTRACE` asks for one) with the message redacted by the policy.
//!
//! A library must not replace a process-wide hook behind the application's back, so this is
//! opt-in: call [`install_panic_hook`] once at startup.

use std::any::Any;
use std::backtrace::{Backtrace, BacktraceStatus};
use std::io::Write;
use std::panic::PanicHookInfo;

use crate::policy::Policy;

use super::layer::DEFAULT_LOG_LIMIT;
use super::redact;

/// The type of a process panic hook, as [`std::panic::take_hook`] returns it.
pub type PanicHook = Box<dyn Fn(&PanicHookInfo<'_>) + Sync + Send + 'static>;

/// Replaces the process's panic hook with [`redacting_panic_hook`] and returns the previous one
/// (to restore it, or to chain to it for panics you choose).
///
/// ```
/// use safeguard::errors::install_panic_hook;
/// use safeguard::policy::Policy;
///
/// let previous = install_panic_hook(Policy::default());
/// let caught = std::panic::catch_unwind(|| panic!("card 4111 1111 1111 1111 declined"));
/// assert!(caught.is_err()); // stderr shows "card [REDACTED] declined"
/// std::panic::set_hook(previous);
/// ```
pub fn install_panic_hook(policy: Policy) -> PanicHook {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(redacting_panic_hook(policy)));
    previous
}

/// A panic hook that reports a panic like the default one (thread, location, message, backtrace
/// when `RUST_BACKTRACE` is set) but with the message redacted by `policy` (its detectors, plus
/// credentials in connection strings and the always-on fallback patterns): the first
/// [`DEFAULT_LOG_LIMIT`] bytes of it, kept on one line.
///
/// The report is an `ERROR` event on target `safeguard::panic` (fields `thread`, `location`,
/// `detail`, `backtrace`) when a tracing subscriber is listening, else a line on stderr. It never
/// panics itself: a panic inside a panic hook would abort the process.
///
/// ```
/// use safeguard::errors::redacting_panic_hook;
/// use safeguard::policy::Policy;
///
/// std::panic::set_hook(Box::new(redacting_panic_hook(Policy::default())));
/// let caught = std::panic::catch_unwind(|| panic!("user jane@example.com has no plan"));
/// assert!(caught.is_err()); // stderr shows "user [REDACTED] has no plan"
/// let _ = std::panic::take_hook();
/// ```
pub fn redacting_panic_hook(policy: Policy) -> impl Fn(&PanicHookInfo<'_>) + Send + Sync + 'static {
    move |info| {
        let report = Report::new(&policy, info.payload(), info.location());
        let backtrace = Backtrace::capture();
        let backtrace = (backtrace.status() == BacktraceStatus::Captured).then_some(backtrace);
        let listening = tracing::dispatcher::get_default(|current| {
            !current.is::<tracing::subscriber::NoSubscriber>()
        });
        if listening {
            match &backtrace {
                Some(trace) => tracing::error!(
                    target: "safeguard::panic",
                    thread = %report.thread,
                    location = %report.location,
                    detail = %report.message,
                    backtrace = %trace,
                    "panicked",
                ),
                None => tracing::error!(
                    target: "safeguard::panic",
                    thread = %report.thread,
                    location = %report.location,
                    detail = %report.message,
                    "panicked",
                ),
            }
        } else {
            // Not `eprintln!`, which panics when stderr is closed.
            let mut line = report.line();
            if let Some(trace) = &backtrace {
                line.push_str(&format!("\nstack backtrace:\n{trace}"));
            }
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
    }
}

/// What the hook reports of one panic, redacted.
struct Report {
    thread: String,
    location: String,
    message: String,
}

impl Report {
    fn new(
        policy: &Policy,
        payload: &(dyn Any + Send),
        location: Option<&std::panic::Location<'_>>,
    ) -> Self {
        let text = super::layer::panic_text(payload);
        let message = redact::for_log(
            policy,
            &redact::bounded_text(text.as_bytes(), DEFAULT_LOG_LIMIT),
        );
        let thread = std::thread::current()
            .name()
            .map(redact::escape_controls)
            .unwrap_or_else(|| "<unnamed>".to_owned());
        let location = location.map_or_else(
            || "<unknown>".to_owned(),
            |l| redact::escape_controls(&format!("{}:{}:{}", l.file(), l.line(), l.column())),
        );
        Self {
            thread,
            location,
            message,
        }
    }

    /// The stderr form, shaped like the default hook's first line.
    fn line(&self) -> String {
        format!(
            "thread '{}' panicked at {}: {}",
            self.thread, self.location, self.message
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_redacts_the_message_and_keeps_the_facts() {
        let payload: Box<dyn Any + Send> = Box::new(String::from(
            "charge failed for jane.doe@example.com\ncard 4111 1111 1111 1111, Password=hunter2",
        ));
        let report = Report::new(&Policy::default(), &*payload, None);
        let line = report.line();
        for secret in ["jane.doe@example.com", "4111 1111 1111 1111", "hunter2"] {
            assert!(!line.contains(secret), "{line}");
        }
        assert!(line.contains("charge failed for"), "{line}");
        assert!(!line.contains('\n'), "{line}");
        assert!(line.contains("<unknown>"), "{line}");
    }

    #[test]
    fn report_bounds_long_messages() {
        let payload: Box<dyn Any + Send> = Box::new("x".repeat(DEFAULT_LOG_LIMIT * 4));
        let report = Report::new(&Policy::default(), &*payload, None);
        assert!(
            report.message.len() <= DEFAULT_LOG_LIMIT,
            "{}",
            report.message.len()
        );
    }

    #[test]
    fn non_string_payloads_are_named_not_printed() {
        let payload: Box<dyn Any + Send> = Box::new(42_u32);
        let report = Report::new(&Policy::default(), &*payload, None);
        assert_eq!(report.message, "panic with a non-string payload");
    }
}
