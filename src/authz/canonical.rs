//! The request-path canonicalizer: a pure function from a raw request path to its one canonical
//! spelling, or a refusal.
//!
//! Authorization bypasses through paths all work the same way: the guard and the router (or the
//! file system, or a proxy) read one path two ways. The canonicalizer closes that gap by refusing
//! every spelling that two reasonable components could read differently, and by normalizing the
//! few harmless variations (percent-encoded unreserved characters, lowercase hex digits) so the
//! guard matches exactly one string per resource.
//!
//! The full list of what is refused and normalized is on [`canonicalize`].

use std::borrow::Cow;
use std::fmt;

/// Why a request path was refused. The layer answers every one of them with `400 Bad Request`
/// before any rule runs.
///
/// ```
/// use safeguard::authz::{canonicalize, PathError};
/// assert_eq!(canonicalize("/a/%2e%2e/b"), Err(PathError::DotSegment));
/// assert_eq!(PathError::DotSegment.as_str(), "dot_segment");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PathError {
    /// Not an absolute path: empty, `*` (asterisk-form) or `host:port` (authority-form).
    NotAbsolute,
    /// A `.` or `..` segment (raw or encoded), a dots-only segment, or a segment ending in a dot
    /// or a space.
    DotSegment,
    /// An empty segment (`//`).
    EmptySegment,
    /// A `\`, raw or encoded.
    Backslash,
    /// A `;`, raw or encoded (path parameters, `..;`).
    Semicolon,
    /// An encoded `/` (`%2f`).
    EncodedSlash,
    /// A NUL or control character, raw or encoded.
    ControlCharacter,
    /// A `%` not followed by two hex digits.
    MalformedEncoding,
    /// An encoded `%` (`%25`): double encoding.
    DoubleEncoding,
    /// A raw byte that may not appear in a path (space, quote, `#`, non-ASCII, ...).
    InvalidCharacter,
    /// Percent-encoded bytes that are not valid UTF-8 (overlong forms included).
    InvalidUtf8,
    /// A Unicode character that normalizes to `.`, `/` or `\`.
    Confusable,
    /// The path is longer than the configured limit.
    TooLong,
}

impl PathError {
    /// A stable, machine-readable name, used in decision events.
    ///
    /// ```
    /// assert_eq!(safeguard::authz::PathError::EmptySegment.as_str(), "empty_segment");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotAbsolute => "not_absolute",
            Self::DotSegment => "dot_segment",
            Self::EmptySegment => "empty_segment",
            Self::Backslash => "backslash",
            Self::Semicolon => "semicolon",
            Self::EncodedSlash => "encoded_slash",
            Self::ControlCharacter => "control_character",
            Self::MalformedEncoding => "malformed_encoding",
            Self::DoubleEncoding => "double_encoding",
            Self::InvalidCharacter => "invalid_character",
            Self::InvalidUtf8 => "invalid_utf8",
            Self::Confusable => "confusable",
            Self::TooLong => "too_long",
        }
    }
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for PathError {}

/// The default limit on the length of a request path, in bytes.
pub const DEFAULT_MAX_PATH_LEN: usize = 8 * 1024;

/// Canonicalizes a raw request path (the part of the request target before `?`).
///
/// Returns the path unchanged (borrowed, no allocation) when it is already canonical, the
/// canonical spelling when it only differed by encodings of unreserved characters or lowercase
/// hex digits, and an error for every spelling listed below.
/// Idempotent: canonicalizing a canonical path returns it unchanged.
///
/// What is refused (each a [`PathError`]):
///
/// * anything that is not an absolute path (`*`, `host:443`, empty);
/// * dot segments, however spelled: `.`, `..`, `...`, `%2e`, `%2E%2e`, `.%2e`, and segments ending
///   in a dot or a space (`admin.`, `admin%20`), which Windows-backed servers trim;
/// * empty segments (`//`); a single trailing slash is allowed (`/users/` is its own route);
/// * raw or encoded `\` and `;` (`..;/`, `/admin;jsessionid=x`), encoded `/` (`%2f`);
/// * NUL and control characters, raw or encoded (also C1 controls such as `%c2%85`);
/// * malformed percent-encoding (`%`, `%4`, `%zz`) and any encoded `%` (`%25`), the vehicle of
///   double encoding;
/// * raw bytes outside RFC 3986's path characters (spaces, quotes, `#`, `<`, `>`, non-ASCII);
/// * percent-encoded bytes that are not valid UTF-8 (overlong `%c0%ae`, lone `%80`), and Unicode
///   look-alikes that NFKC folds into `.`, `/` or `\` (`%ef%bc%8e`, `%e2%80%a4`, ...).
///
/// What is normalized: `%41` becomes `A` (unreserved characters are decoded, as RFC 3986 says
/// they must be equivalent), and the hex digits of the encodings that remain are uppercased.
///
/// Case is kept: `/Admin` and `/admin` are two paths, exactly as the router sees them. A rule for
/// `/admin` does not match `/Admin`, so `/Admin` has no rule and is denied by default.
///
/// ```
/// use safeguard::authz::{canonicalize, PathError};
///
/// assert_eq!(canonicalize("/users/42").unwrap(), "/users/42");
/// assert_eq!(canonicalize("/%61dmin/r%c3%a9sum%c3%a9").unwrap(), "/admin/r%C3%A9sum%C3%A9");
/// assert_eq!(canonicalize("/admin/..;/x"), Err(PathError::Semicolon));
/// assert_eq!(canonicalize("/admin/.%2e/x"), Err(PathError::DotSegment));
/// assert_eq!(canonicalize("//admin"), Err(PathError::EmptySegment));
/// assert_eq!(canonicalize("/a%252e%252e/"), Err(PathError::DoubleEncoding));
/// ```
#[inline]
pub fn canonicalize(path: &str) -> Result<Cow<'_, str>, PathError> {
    canonicalize_with_limit(path, DEFAULT_MAX_PATH_LEN)
}

/// [`canonicalize`] with a limit on the path length (in bytes, before decoding).
///
/// ```
/// use safeguard::authz::{canonicalize_with_limit, PathError};
/// assert_eq!(canonicalize_with_limit("/abcdef", 4), Err(PathError::TooLong));
/// assert!(canonicalize_with_limit("/abc", 4).is_ok());
/// ```
#[inline]
pub fn canonicalize_with_limit(path: &str, max_len: usize) -> Result<Cow<'_, str>, PathError> {
    if path.len() > max_len {
        return Err(PathError::TooLong);
    }
    let bytes = path.as_bytes();
    if bytes.first() != Some(&b'/') {
        return Err(PathError::NotAbsolute);
    }
    // Most paths have no percent sign: one table-driven pass checks bytes and segments and
    // returns the path as is. Paths with `%` take the full route below.
    if !fast_check(bytes)? {
        return Ok(Cow::Borrowed(path));
    }
    // First pass, no allocation: validate raw bytes and find out whether anything must change.
    let mut needs_rewrite = false;
    let mut has_high = false;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let v = hex_pair(bytes, i)?;
            check_decoded_byte(v)?;
            if is_unreserved(v)
                || bytes[i + 1].is_ascii_lowercase()
                || bytes[i + 2].is_ascii_lowercase()
            {
                needs_rewrite = true;
            }
            if v >= 0x80 {
                has_high = true;
            }
            i += 3;
        } else {
            check_raw_byte(b)?;
            i += 1;
        }
    }
    if has_high {
        check_utf8(bytes)?;
    }
    let out: Cow<'_, str> = if needs_rewrite {
        let mut out = String::with_capacity(path.len());
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            if b == b'%' {
                // Validated in the first pass.
                let v = hex_pair(bytes, i)?;
                if is_unreserved(v) {
                    out.push(char::from(v));
                } else {
                    out.push('%');
                    out.push(char::from(HEX[usize::from(v >> 4)]));
                    out.push(char::from(HEX[usize::from(v & 0xf)]));
                }
                i += 3;
            } else {
                out.push(char::from(b));
                i += 1;
            }
        }
        Cow::Owned(out)
    } else {
        Cow::Borrowed(path)
    };
    check_segments(&out)?;
    Ok(out)
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

const PLAIN: u8 = 0;
const SLASH: u8 = 1;
const DOT: u8 = 2;
const PERCENT: u8 = 3;
const SEMICOLON: u8 = 4;
const BACKSLASH: u8 = 5;
const CONTROL: u8 = 6;
const INVALID: u8 = 7;

/// The class of every byte, as [`check_raw_byte`] sees it (kept in sync by a unit test).
const CLASS: [u8; 256] = {
    let mut t = [INVALID; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = if c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'_'
                    | b'~'
                    | b':'
                    | b'@'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b'='
            ) {
            PLAIN
        } else {
            match c {
                b'/' => SLASH,
                b'.' => DOT,
                b'%' => PERCENT,
                b';' => SEMICOLON,
                b'\\' => BACKSLASH,
                0x00..=0x1f | 0x7f => CONTROL,
                _ => INVALID,
            }
        };
        b += 1;
    }
    t
};

/// Validates a path without percent signs in one pass. `Ok(true)`: a `%` was found and the full
/// check must run instead.
#[inline]
fn fast_check(bytes: &[u8]) -> Result<bool, PathError> {
    let mut seg_len = 0usize;
    let mut all_dots = true;
    let mut last_dot = false;
    for &b in &bytes[1..] {
        match CLASS[usize::from(b)] {
            PLAIN => {
                seg_len += 1;
                all_dots = false;
                last_dot = false;
            }
            DOT => {
                seg_len += 1;
                last_dot = true;
            }
            SLASH => {
                if seg_len == 0 {
                    return Err(PathError::EmptySegment);
                }
                if all_dots || last_dot {
                    return Err(PathError::DotSegment);
                }
                seg_len = 0;
                all_dots = true;
                last_dot = false;
            }
            PERCENT => return Ok(true),
            SEMICOLON => return Err(PathError::Semicolon),
            BACKSLASH => return Err(PathError::Backslash),
            CONTROL => return Err(PathError::ControlCharacter),
            _ => return Err(PathError::InvalidCharacter),
        }
    }
    if seg_len > 0 && (all_dots || last_dot) {
        return Err(PathError::DotSegment);
    }
    Ok(false)
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn hex_pair(bytes: &[u8], i: usize) -> Result<u8, PathError> {
    let hi = bytes.get(i + 1).copied().and_then(hex_val);
    let lo = bytes.get(i + 2).copied().and_then(hex_val);
    match (hi, lo) {
        (Some(hi), Some(lo)) => Ok(hi << 4 | lo),
        _ => Err(PathError::MalformedEncoding),
    }
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// Raw bytes allowed in a path: RFC 3986 `pchar` and `/`, minus `;` (path parameters) and with
/// `%` handled by the caller.
fn check_raw_byte(b: u8) -> Result<(), PathError> {
    match b {
        b if is_unreserved(b) => Ok(()),
        b'/' | b':' | b'@' | b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b','
        | b'=' => Ok(()),
        b';' => Err(PathError::Semicolon),
        b'\\' => Err(PathError::Backslash),
        0x00..=0x1f | 0x7f => Err(PathError::ControlCharacter),
        _ => Err(PathError::InvalidCharacter),
    }
}

fn check_decoded_byte(v: u8) -> Result<(), PathError> {
    match v {
        b'/' => Err(PathError::EncodedSlash),
        b'\\' => Err(PathError::Backslash),
        b';' => Err(PathError::Semicolon),
        b'%' => Err(PathError::DoubleEncoding),
        0x00..=0x1f | 0x7f => Err(PathError::ControlCharacter),
        _ => Ok(()),
    }
}

/// Decodes every percent-encoded run and checks it is valid UTF-8 without C1 controls or
/// characters that compatibility normalization turns into path syntax.
fn check_utf8(bytes: &[u8]) -> Result<(), PathError> {
    // Bounded by the path length limit checked by the caller.
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            decoded.push(hex_pair(bytes, i)?);
            i += 3;
        } else {
            decoded.push(bytes[i]);
            i += 1;
        }
    }
    let text = std::str::from_utf8(&decoded).map_err(|_| PathError::InvalidUtf8)?;
    for c in text.chars() {
        if c.is_control() {
            return Err(PathError::ControlCharacter);
        }
        if CONFUSABLES.contains(&c) {
            return Err(PathError::Confusable);
        }
    }
    Ok(())
}

/// Characters that NFKC (or common "best fit" mappings) fold into `.`, `/` or `\`, plus invisible
/// format characters that make two different paths look the same.
const CONFUSABLES: &[char] = &[
    '\u{2024}', // ONE DOT LEADER -> "."
    '\u{2025}', // TWO DOT LEADER -> ".."
    '\u{2026}', // HORIZONTAL ELLIPSIS -> "..."
    '\u{FE52}', // SMALL FULL STOP -> "."
    '\u{FF0E}', // FULLWIDTH FULL STOP -> "."
    '\u{FF0F}', // FULLWIDTH SOLIDUS -> "/"
    '\u{FF3C}', // FULLWIDTH REVERSE SOLIDUS -> "\"
    '\u{FE68}', // SMALL REVERSE SOLIDUS -> "\"
    '\u{2215}', // DIVISION SLASH (best-fit "/")
    '\u{2044}', // FRACTION SLASH (best-fit "/")
    '\u{29F5}', // REVERSE SOLIDUS OPERATOR (best-fit "\")
    '\u{FF1B}', // FULLWIDTH SEMICOLON -> ";"
    '\u{200B}', // ZERO WIDTH SPACE
    '\u{200C}', // ZERO WIDTH NON-JOINER
    '\u{200D}', // ZERO WIDTH JOINER
    '\u{2060}', // WORD JOINER
    '\u{FEFF}', // ZERO WIDTH NO-BREAK SPACE
    '\u{00A0}', // NO-BREAK SPACE (trimmed like a space)
];

fn check_segments(path: &str) -> Result<(), PathError> {
    // `path` starts with '/', so the first split item is the empty string before it.
    let mut segments = path.split('/').skip(1).peekable();
    while let Some(seg) = segments.next() {
        let last = segments.peek().is_none();
        if seg.is_empty() {
            // A single trailing slash (or the root) is a distinct, legitimate route; an empty
            // segment anywhere else is `//`, which would already have failed on the segment
            // before it.
            if last {
                continue;
            }
            return Err(PathError::EmptySegment);
        }
        if seg.bytes().all(|b| b == b'.') || seg.ends_with('.') {
            return Err(PathError::DotSegment);
        }
        if seg.ends_with("%20") || seg.starts_with("%20") {
            return Err(PathError::DotSegment);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_table_agrees_with_the_byte_check() {
        for b in 0..=255u8 {
            let expected = match check_raw_byte(b) {
                Ok(()) if b == b'/' => SLASH,
                Ok(()) if b == b'.' => DOT,
                Ok(()) => PLAIN,
                Err(PathError::Semicolon) => SEMICOLON,
                Err(PathError::Backslash) => BACKSLASH,
                Err(PathError::ControlCharacter) => CONTROL,
                Err(_) if b == b'%' => PERCENT,
                Err(_) => INVALID,
            };
            assert_eq!(CLASS[usize::from(b)], expected, "byte {b:#04x}");
        }
    }

    #[test]
    fn fast_and_full_paths_agree() {
        for p in [
            "/",
            "/a",
            "/a/",
            "/a/b.c",
            "/.well-known/x",
            "/a/..",
            "/a.",
            "//",
            "/a//b",
            "/...",
        ] {
            let fast = fast_check(p.as_bytes()).map(|_| ());
            let full = {
                let r: Result<(), PathError> = p.bytes().try_for_each(check_raw_byte);
                r.and_then(|()| check_segments(p))
            };
            assert_eq!(fast, full, "{p}");
        }
    }

    #[test]
    fn accepts_and_normalizes() {
        assert_eq!(canonicalize("/").unwrap(), "/");
        assert_eq!(canonicalize("/users/").unwrap(), "/users/");
        assert!(matches!(
            canonicalize("/users/42").unwrap(),
            Cow::Borrowed(_)
        ));
        assert_eq!(canonicalize("/a%7eb").unwrap(), "/a~b");
        assert_eq!(canonicalize("/a%3fb").unwrap(), "/a%3Fb");
        assert_eq!(
            canonicalize("/files/a%20b.txt").unwrap(),
            "/files/a%20b.txt"
        );
        assert_eq!(canonicalize("/v1.2/x").unwrap(), "/v1.2/x");
        assert_eq!(canonicalize("/.well-known/x").unwrap(), "/.well-known/x");
    }

    #[test]
    fn refuses_bypass_classes() {
        use PathError::*;
        let cases: &[(&str, PathError)] = &[
            ("", NotAbsolute),
            ("*", NotAbsolute),
            ("admin", NotAbsolute),
            ("/..", DotSegment),
            ("/.", DotSegment),
            ("/a/./b", DotSegment),
            ("/a/../b", DotSegment),
            ("/a/%2e%2e/b", DotSegment),
            ("/a/%2E%2e/b", DotSegment),
            ("/a/.%2e/b", DotSegment),
            ("/a/%2e/b", DotSegment),
            ("/a/.../b", DotSegment),
            ("/admin.", DotSegment),
            ("/admin./", DotSegment),
            ("/admin%2e", DotSegment),
            ("/admin%20", DotSegment),
            ("/%20admin", DotSegment),
            ("//admin", EmptySegment),
            ("/a//b", EmptySegment),
            ("/a//", EmptySegment),
            ("/a\\b", Backslash),
            ("/a%5cb", Backslash),
            ("/a%5Cb", Backslash),
            ("/a/..;/b", Semicolon),
            ("/admin;x=y", Semicolon),
            ("/a%3bb", Semicolon),
            ("/a%2fb", EncodedSlash),
            ("/a%2Fb", EncodedSlash),
            ("/a%00", ControlCharacter),
            ("/a\0", ControlCharacter),
            ("/a%0a", ControlCharacter),
            ("/a%0D%0Ab", ControlCharacter),
            ("/a%7f", ControlCharacter),
            ("/a\t", ControlCharacter),
            ("/a%c2%85", ControlCharacter),
            ("/a%", MalformedEncoding),
            ("/a%4", MalformedEncoding),
            ("/a%zz", MalformedEncoding),
            ("/a%%32e", MalformedEncoding),
            ("/a%252e%252e", DoubleEncoding),
            ("/a%25", DoubleEncoding),
            ("/a b", InvalidCharacter),
            ("/a#b", InvalidCharacter),
            ("/a\"b", InvalidCharacter),
            ("/a?b", InvalidCharacter),
            ("/é", InvalidCharacter),
            ("/a%c0%ae%c0%ae/", InvalidUtf8),
            ("/a%80", InvalidUtf8),
            ("/a%ef%bc%8e%ef%bc%8e/b", Confusable),
            ("/a%e2%80%a5/b", Confusable),
            ("/a%ef%bc%8fb", Confusable),
        ];
        for (path, err) in cases {
            assert_eq!(canonicalize(path), Err(*err), "{path:?}");
        }
    }
}
