//! What goes into the log: the withheld body or panic message, bounded, with classified values
//! redacted and control characters escaped (so a body cannot forge log lines or drive a terminal).

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use crate::policy::Policy;

// Credentials inside connection strings are not always caught by value detectors (a password is
// just a word), so they are scrubbed here whatever the policy says.
static URL_PASSWORD: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"(\b[a-zA-Z][\w+.-]*://[^/\s:@]{1,200}):[^/\s@]{1,200}@").ok());
static KV_SECRET: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(password|pwd|passwd|secret|api[_-]?key|access[_-]?token|AccountKey|SharedAccessKey)(\s*[=:]\s*)[^;\s,&]+").ok()
});
// Belt and braces behind the policy's detectors: the obvious classified values are redacted even
// if a user builds a policy with detectors switched off, since logs must never hold them.
static PLACEHOLDER: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(concat!(
        r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
        r"|\b(?:\d[ -]?){12,18}\d\b",
        r"|\beyJ[\w-]+\.[\w-]+\.[\w-]+",
        r"|(?i:bearer\s+)[\w.~+/=-]+",
        r"|\bAKIA[0-9A-Z]{16}\b",
        r"|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
        r"|\b\d{3}-\d{2}-\d{4}\b",
    ))
    .ok()
});

/// Redacts `text` for the log: scrubs credentials, redacts what the policy's detectors find (as
/// for an anonymous principal), then the fallback patterns, and escapes control characters. If a
/// pattern failed to compile the whole text is withheld (fail closed).
pub(crate) fn for_log(policy: &Policy, text: &str) -> String {
    let (Some(url), Some(kv), Some(placeholder)) = (
        URL_PASSWORD.as_ref(),
        KV_SECRET.as_ref(),
        PLACEHOLDER.as_ref(),
    ) else {
        return "[withheld: redaction unavailable]".to_owned();
    };
    let text = url.replace_all(text, "$1:[REDACTED]@");
    let text = kv.replace_all(&text, "$1$2[REDACTED]");
    let text = policy.redact_str(&text, None);
    let text: Cow<'_, str> = placeholder.replace_all(&text, "[REDACTED]");
    escape_controls(&text)
}

/// Escapes newlines, tabs and other control characters so the logged text stays on one line.
pub(crate) fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    out
}

/// The longest prefix of `bytes` no longer than `limit`, as text (invalid UTF-8 replaced).
pub(crate) fn bounded_text(bytes: &[u8], limit: usize) -> String {
    let cut = &bytes[..bytes.len().min(limit)];
    String::from_utf8_lossy(cut).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        /// Whatever surrounds them, planted classified values never reach the log text, and the
        /// log text never spans more than one line.
        #[test]
        fn planted_values_never_logged(
            before in "[ -~\n]{0,60}",
            after in "[ -~\n]{0,60}",
            which in 0usize..5,
        ) {
            let planted = [
                ("4111 1111 1111 1111", "4111 1111 1111 1111"),
                ("jane.doe@example.com", "jane.doe@example.com"),
                ("postgres://svc:Tr0ub4dor@db/x", "Tr0ub4dor"),
                ("Password=Hunter22;", "Hunter22"),
                ("Bearer abcDEF123456789xyz", "abcDEF123456789xyz"),
            ][which];
            let text = format!("{before} {} {after}", planted.0);
            let out = for_log(&Policy::default(), &text);
            prop_assert!(!out.contains(planted.1), "{out}");
            prop_assert!(!out.contains('\n'));
        }
    }

    #[test]
    fn scrubs_credentials_and_values() {
        let out = for_log(
            &Policy::default(),
            "postgres://app:hunter2@db.internal/x failed for bob@example.com\ncard 4111 1111 1111 1111 Password=s3cret;",
        );
        assert!(!out.contains("hunter2"));
        assert!(!out.contains("bob@example.com"));
        assert!(!out.contains("4111 1111"));
        assert!(!out.contains("s3cret"));
        assert!(!out.contains('\n'));
        assert!(out.contains("postgres://app:[REDACTED]@"));
    }
}
