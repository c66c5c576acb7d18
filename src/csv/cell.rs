//! Cell classification, neutralization and RFC 4180 quoting.

use std::borrow::Cow;
use std::fmt;

/// What a [`Neutralizer`] does with a dangerous cell.
///
/// ```
/// use safeguard::csv::{Neutralizer, Strategy};
///
/// let quote = Neutralizer::new();
/// assert_eq!(quote.neutralize("=1+1").unwrap(), "'=1+1");
/// let tab = Neutralizer::new().strategy(Strategy::TabPrefix);
/// assert_eq!(tab.neutralize("=1+1").unwrap(), "\t=1+1");
/// let strip = Neutralizer::new().strategy(Strategy::Strip);
/// assert_eq!(strip.neutralize("=1+1").unwrap(), "1+1");
/// let reject = Neutralizer::new().strategy(Strategy::Reject);
/// assert!(reject.neutralize("=1+1").is_err());
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Strategy {
    /// Prefix the cell with an apostrophe `'` and quote it (the OWASP recommendation; the
    /// default). Spreadsheets show the cell as text.
    #[default]
    Prefix,
    /// Prefix the cell with a TAB inside a quoted field. Unlike `'`, the TAB survives a save
    /// and reload in Excel; it is lost by importers told to trim spaces.
    TabPrefix,
    /// Remove the leading trigger (and the whitespace and quotes before it), repeatedly, until
    /// the cell is no longer dangerous. Lossy: `=1+1` becomes `1+1`.
    Strip,
    /// Refuse the export: the cell is reported as a [`Rejected`] error.
    Reject,
}

/// A dangerous cell met under [`Strategy::Reject`].
///
/// ```
/// use safeguard::csv::{Neutralizer, Strategy};
///
/// let err = Neutralizer::new().strategy(Strategy::Reject).neutralize("@SUM(1+1)").unwrap_err();
/// assert!(err.to_string().contains("formula"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejected {
    /// Zero-based record (row) index of the cell, when known (the streaming rewriter knows it).
    pub record: Option<u64>,
    /// Zero-based field (column) index of the cell, when known.
    pub field: Option<u64>,
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The cell's content is deliberately not printed: it is attacker-controlled data.
        f.write_str("CSV cell starts like a spreadsheet formula and the policy rejects it")?;
        if let (Some(r), Some(c)) = (self.record, self.field) {
            write!(f, " (record {r}, field {c})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Rejected {}

/// The smallest head a cell can be classified from.
pub(crate) const MIN_HEAD: usize = 64;
/// The default number of bytes of a cell buffered before it is streamed.
pub(crate) const DEFAULT_MAX_HEAD: usize = 8 * 1024;

/// Decides which cells are dangerous and rewrites them.
///
/// A cell is dangerous when, after any leading whitespace (ASCII and Unicode, NBSP included),
/// invisible characters (zero-width spaces and joiners, BOM, bidi marks, soft hyphen, control
/// characters, bytes that are not UTF-8) and quote characters (`"`, `'`, typographic and
/// full-width quotes), its first character is
///
/// * `=`, `+`, `-` or `@`,
/// * TAB, CR or LF (these count wherever they appear in the leading run), or
/// * a compatibility form of `=`, `+`, `-` or `@`: every character whose NFKC normalization starts
///   with one of them (full-width `＝＋－＠`, small forms `﹦﹢﹣﹫`, superscript and subscript
///   `⁼₌⁺₊`, `⩵`, `⩶`, Hebrew alternative plus `﬩`), checked against NFKC by a test.
///   U+2212 MINUS SIGN and its superscript and subscript forms `⁻₋` are triggers too although
///   NFKC does not map them to `-`: spreadsheets accept U+2212 as a minus sign in some locales,
///   and a stray `'` before a value that starts with it costs little.
///
/// Two cells are safe by construction, which makes neutralizing idempotent: a cell whose very
/// first byte is `'` (already prefixed) and, under [`Strategy::TabPrefix`], a cell whose first
/// byte is TAB.
///
/// Plain numbers (`-1.5`, `+3`, `1e5`, `-0.5E-3`: optional sign, digits with an optional
/// fraction, optional exponent, nothing else) are left alone unless
/// [`allow_numbers(false)`](Neutralizer::allow_numbers). Phone numbers and ranges with
/// separators (`+1 555 123`, `-1-2`) are not plain numbers and are neutralized.
///
/// ```
/// use safeguard::csv::Neutralizer;
///
/// let n = Neutralizer::new();
/// assert!(n.is_dangerous(b"=HYPERLINK(\"http://evil.example\")"));
/// assert!(n.is_dangerous(" \u{a0}\"@SUM(1+1)".as_bytes()));
/// assert!(n.is_dangerous("\u{ff1d}1+1".as_bytes()));
/// assert!(!n.is_dangerous(b"-1.5"));
/// assert!(n.is_dangerous(b"+1 555 123"));
/// assert!(!n.is_dangerous(b"foo@example.org"));
/// assert_eq!(n.neutralize("-1-2").unwrap(), "'-1-2");
/// ```
#[derive(Clone, Debug)]
pub struct Neutralizer {
    pub(crate) strategy: Strategy,
    pub(crate) allow_numbers: bool,
    pub(crate) delimiter: u8,
    pub(crate) sep_line: bool,
    pub(crate) max_head: usize,
}

impl Default for Neutralizer {
    fn default() -> Self {
        Self::new()
    }
}

/// The result of scanning the head of a cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Not dangerous.
    Safe,
    /// Dangerous; the trigger character ends at this byte offset.
    Dangerous(usize),
    /// The head ended inside the leading run; more bytes are needed.
    Undecided,
}

impl Neutralizer {
    /// A neutralizer with the defaults: [`Strategy::Prefix`], plain numbers allowed, `,` as
    /// delimiter, `sep=` lines honoured, cells buffered up to 8 KiB.
    ///
    /// ```
    /// let n = safeguard::csv::Neutralizer::new();
    /// assert_eq!(n.neutralize("=1+1").unwrap(), "'=1+1");
    /// ```
    pub fn new() -> Self {
        Self {
            strategy: Strategy::Prefix,
            allow_numbers: true,
            delimiter: b',',
            sep_line: true,
            max_head: DEFAULT_MAX_HEAD,
        }
    }

    /// Sets what happens to dangerous cells.
    ///
    /// ```
    /// use safeguard::csv::{Neutralizer, Strategy};
    /// let n = Neutralizer::new().strategy(Strategy::Strip);
    /// assert_eq!(n.neutralize("@SUM(A1)").unwrap(), "SUM(A1)");
    /// ```
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Whether plain numbers with a leading sign (`-1.5`, `+3`) stay as they are (default
    /// `true`). With `false` they are neutralized like any other cell starting with `-` or `+`.
    ///
    /// ```
    /// let n = safeguard::csv::Neutralizer::new().allow_numbers(false);
    /// assert_eq!(n.neutralize("-1.5").unwrap(), "'-1.5");
    /// ```
    pub fn allow_numbers(mut self, allow: bool) -> Self {
        self.allow_numbers = allow;
        self
    }

    /// The field delimiter (default `,`). The streaming layer uses TAB for
    /// `text/tab-separated-values`, and a `sep=` first line overrides it.
    ///
    /// ```
    /// let n = safeguard::csv::Neutralizer::new().delimiter(b';');
    /// let mut out = Vec::new();
    /// n.rewriter().rewrite(b"a;=1\n", &mut out).unwrap();
    /// assert_eq!(out, b"a;\"'=1\"\n");
    /// ```
    pub fn delimiter(mut self, delimiter: u8) -> Self {
        self.delimiter = delimiter;
        self
    }

    /// The configured delimiter.
    ///
    /// ```
    /// assert_eq!(safeguard::csv::Neutralizer::new().get_delimiter(), b',');
    /// ```
    pub fn get_delimiter(&self) -> u8 {
        self.delimiter
    }

    /// Whether a `sep=X` first line (Excel's delimiter hint) sets the delimiter (default
    /// `true`). The line itself is passed through intact. Honouring it matters for safety: the
    /// spreadsheet splits cells on that delimiter, so the rewriter must too.
    ///
    /// ```
    /// let n = safeguard::csv::Neutralizer::new();
    /// let mut out = Vec::new();
    /// n.rewriter().rewrite(b"sep=;\na;=1\n", &mut out).unwrap();
    /// assert_eq!(out, b"sep=;\na;\"'=1\"\n");
    /// ```
    pub fn sep_line(mut self, honour: bool) -> Self {
        self.sep_line = honour;
        self
    }

    /// The most bytes of one cell the streaming rewriter holds (default 8 KiB, at least 64).
    ///
    /// Cells up to this size are classified exactly (plain numbers recognized) and quoted only
    /// when needed. A longer cell is classified from its first `max` bytes, always quoted, and
    /// streamed through: if its leading whitespace alone fills the head, or it starts with a
    /// trigger, it is neutralized (a number is never that long). [`Strategy::Strip`] falls back
    /// to the `'` prefix when the head holds no character to keep. Memory per rewriter is this
    /// buffer plus a few hundred bytes, whatever the size of the export.
    ///
    /// ```
    /// let n = safeguard::csv::Neutralizer::new().max_cell_head(64);
    /// let big = format!("={}\n", "A".repeat(1000));
    /// let mut out = Vec::new();
    /// n.rewriter().rewrite(big.as_bytes(), &mut out).unwrap();
    /// assert!(out.starts_with(b"\"'=AAA"));
    /// ```
    pub fn max_cell_head(mut self, max: usize) -> Self {
        self.max_head = max.max(MIN_HEAD);
        self
    }

    /// Whether the cell (its unquoted content) would be neutralized.
    ///
    /// ```
    /// let n = safeguard::csv::Neutralizer::new();
    /// assert!(n.is_dangerous(b"\t=1+1"));
    /// assert!(!n.is_dangerous(b"'=1+1")); // already neutralized
    /// assert!(!n.is_dangerous(b"Test | Foo"));
    /// ```
    pub fn is_dangerous(&self, cell: &[u8]) -> bool {
        matches!(
            self.verdict(cell, true),
            Verdict::Dangerous(_) | Verdict::Undecided
        )
    }

    /// Neutralizes one cell value (no CSV quoting: use [`Writer`](super::Writer) or
    /// [`Rewriter`](super::Rewriter) for whole files). Safe cells are borrowed unchanged.
    ///
    /// ```
    /// use std::borrow::Cow;
    /// let n = safeguard::csv::Neutralizer::new();
    /// assert!(matches!(n.neutralize("plain").unwrap(), Cow::Borrowed("plain")));
    /// assert_eq!(n.neutralize("=cmd|' /C calc'!A0").unwrap(), "'=cmd|' /C calc'!A0");
    /// // idempotent
    /// assert_eq!(n.neutralize("'=cmd|' /C calc'!A0").unwrap(), "'=cmd|' /C calc'!A0");
    /// ```
    pub fn neutralize<'a>(&self, cell: &'a str) -> Result<Cow<'a, str>, Rejected> {
        match self.neutralize_bytes(cell.as_bytes())? {
            Cow::Borrowed(_) => Ok(Cow::Borrowed(cell)),
            // Prefixes are ASCII and stripping cuts after a whole character, so the bytes are
            // still UTF-8; the lossy conversion never replaces anything.
            Cow::Owned(v) => Ok(Cow::Owned(String::from_utf8_lossy(&v).into_owned())),
        }
    }

    /// Like [`neutralize`](Self::neutralize) for bytes that may not be UTF-8 (passed through
    /// unchanged).
    ///
    /// ```
    /// let n = safeguard::csv::Neutralizer::new();
    /// assert_eq!(&*n.neutralize_bytes(b"\xff=1").unwrap(), b"'\xff=1");
    /// ```
    pub fn neutralize_bytes<'a>(&self, cell: &'a [u8]) -> Result<Cow<'a, [u8]>, Rejected> {
        let Verdict::Dangerous(end) = self.verdict(cell, true) else {
            return Ok(Cow::Borrowed(cell));
        };
        match self.strategy {
            Strategy::Prefix => Ok(Cow::Owned(prefixed(b'\'', cell))),
            Strategy::TabPrefix => Ok(Cow::Owned(prefixed(b'\t', cell))),
            Strategy::Strip => Ok(Cow::Owned(self.strip(cell, end).to_vec())),
            Strategy::Reject => Err(Rejected {
                record: None,
                field: None,
            }),
        }
    }

    /// Removes triggers from the front until the rest is safe (a complete cell).
    fn strip<'a>(&self, cell: &'a [u8], mut end: usize) -> &'a [u8] {
        let mut rest = cell;
        loop {
            rest = &rest[end..];
            match self.verdict(rest, true) {
                Verdict::Dangerous(e) => end = e,
                _ => return rest,
            }
        }
    }

    /// Writes one cell as a CSV field: neutralized if dangerous, quoted per RFC 4180 when it
    /// contains the delimiter, `"`, CR or LF, and also when it contains `,`, `;` or TAB (the
    /// delimiters a spreadsheet may pick instead of ours, so a cell cannot split in two there).
    /// Neutralized cells are always quoted, as OWASP recommends. `only_field` says the cell is
    /// the whole record, in which case an empty cell is written `""` so the record survives.
    /// Returns whether the cell was neutralized.
    pub(crate) fn write_field(
        &self,
        cell: &[u8],
        only_field: bool,
        out: &mut Vec<u8>,
    ) -> Result<bool, Rejected> {
        let verdict = self.verdict(cell, true);
        let Verdict::Dangerous(end) = verdict else {
            if cell.is_empty() {
                if only_field {
                    out.extend_from_slice(b"\"\"");
                }
            } else if self.needs_quotes(cell) {
                write_quoted(None, cell, out);
            } else {
                out.extend_from_slice(cell);
            }
            return Ok(false);
        };
        match self.strategy {
            Strategy::Prefix => write_quoted(Some(b'\''), cell, out),
            Strategy::TabPrefix => write_quoted(Some(b'\t'), cell, out),
            Strategy::Strip => {
                let rest = self.strip(cell, end);
                if rest.is_empty() {
                    if only_field {
                        out.extend_from_slice(b"\"\"");
                    }
                } else if self.needs_quotes(rest) {
                    write_quoted(None, rest, out);
                } else {
                    out.extend_from_slice(rest);
                }
            }
            Strategy::Reject => {
                return Err(Rejected {
                    record: None,
                    field: None,
                });
            }
        }
        Ok(true)
    }

    /// Whether [`write_field`](Self::write_field) writes `cell` exactly as it came: as is
    /// (`quoted` false; the caller knows it holds no byte that forces quoting) or between the
    /// quotes it came in (`quoted`; `cell` holds no `"`).
    #[inline]
    pub(crate) fn unchanged(&self, cell: &[u8], quoted: bool, only_field: bool) -> bool {
        if cell.is_empty() {
            return quoted == only_field;
        }
        if !quoted && cell.first().is_some_and(u8::is_ascii_alphanumeric) {
            return true;
        }
        self.verdict(cell, true) == Verdict::Safe && self.needs_quotes(cell) == quoted
    }

    /// Whether a safe cell must be quoted. Besides RFC 4180's reasons, a cell starting with `'`
    /// is quoted like a neutralized one, so that rewriting an export twice gives the same bytes,
    /// and so is a cell starting with a BOM.
    #[inline]
    fn needs_quotes(&self, cell: &[u8]) -> bool {
        let d = self.delimiter;
        cell.first() == Some(&b'\'')
            // a leading BOM would be taken for the file's BOM and dropped by readers
            || cell.starts_with(b"\xef\xbb\xbf")
            || cell.iter().any(|&b| b == d || QUOTE_BYTES[b as usize])
    }

    /// Classifies a cell, or the head of one when `complete` is false.
    #[inline]
    pub(crate) fn verdict(&self, cell: &[u8], complete: bool) -> Verdict {
        let Some(&first) = cell.first() else {
            return if complete {
                Verdict::Safe
            } else {
                Verdict::Undecided
            };
        };
        // Fast path: most cells start with a letter or digit.
        if first.is_ascii_alphanumeric() || first == b'\'' {
            return Verdict::Safe;
        }
        if first == b'\t' && self.strategy == Strategy::TabPrefix {
            return Verdict::Safe;
        }
        let v = scan(cell, complete);
        if let Verdict::Dangerous(_) = v {
            if complete && self.allow_numbers && is_plain_number(cell) {
                return Verdict::Safe;
            }
        }
        v
    }
}

fn prefixed(prefix: u8, cell: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(cell.len() + 1);
    v.push(prefix);
    v.extend_from_slice(cell);
    v
}

/// Bytes that force quoting besides the delimiter: quote, CR, LF, and the separators a
/// spreadsheet may split on instead of ours.
static QUOTE_BYTES: [bool; 256] = {
    let mut t = [false; 256];
    t[b'"' as usize] = true;
    t[b'\r' as usize] = true;
    t[b'\n' as usize] = true;
    t[b',' as usize] = true;
    t[b';' as usize] = true;
    t[b'\t' as usize] = true;
    t
};

/// Writes `"` + prefix + cell with `"` doubled + `"`.
pub(crate) fn write_quoted(prefix: Option<u8>, cell: &[u8], out: &mut Vec<u8>) {
    out.reserve(cell.len() + 3);
    out.push(b'"');
    if let Some(p) = prefix {
        out.push(p);
    }
    write_escaped(cell, out);
    out.push(b'"');
}

/// Writes the cell with every `"` doubled.
#[inline]
pub(crate) fn write_escaped(mut cell: &[u8], out: &mut Vec<u8>) {
    while let Some(i) = cell.iter().position(|&b| b == b'"') {
        out.extend_from_slice(&cell[..=i]);
        out.push(b'"');
        cell = &cell[i + 1..];
    }
    out.extend_from_slice(cell);
}

/// Scans the leading run of a cell for a trigger.
fn scan(cell: &[u8], complete: bool) -> Verdict {
    let mut i = 0;
    while i < cell.len() {
        let b = cell[i];
        if b < 0x80 {
            match b {
                b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r' | b'\n' => {
                    return Verdict::Dangerous(i + 1);
                }
                // other C0 controls, space, DEL and ASCII quotes are skipped
                0..=0x20 | 0x7f | b'"' | b'\'' => i += 1,
                _ => return Verdict::Safe,
            }
            continue;
        }
        match decode(&cell[i..]) {
            Decoded::Char(c, n) => {
                if is_trigger(c) {
                    return Verdict::Dangerous(i + n);
                }
                if is_skippable(c) {
                    i += n;
                } else {
                    return Verdict::Safe;
                }
            }
            // A byte that is not UTF-8 may be whitespace in the encoding the reader guesses
            // (0xA0 is NBSP in Latin-1): skip it.
            Decoded::Invalid => i += 1,
            Decoded::Truncated => {
                return if complete {
                    Verdict::Safe
                } else {
                    Verdict::Undecided
                };
            }
        }
    }
    if complete {
        Verdict::Safe
    } else {
        Verdict::Undecided
    }
}

enum Decoded {
    Char(char, usize),
    Invalid,
    /// A valid start of a multi-byte sequence cut by the end of the slice.
    Truncated,
}

/// Decodes one UTF-8 character at the start of `s` (whose first byte is not ASCII).
fn decode(s: &[u8]) -> Decoded {
    let n = match s[0] {
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return Decoded::Invalid,
    };
    if s.len() < n {
        // Only a truncation if the bytes present could still be valid.
        return match std::str::from_utf8(s) {
            Err(e) if e.error_len().is_none() => Decoded::Truncated,
            _ => Decoded::Invalid,
        };
    }
    match std::str::from_utf8(&s[..n]) {
        Ok(t) => t
            .chars()
            .next()
            .map_or(Decoded::Invalid, |c| Decoded::Char(c, n)),
        Err(_) => Decoded::Invalid,
    }
}

/// (Internal, exposed for tests.) Non-ASCII characters that act as `=`, `+`, `-` or `@` in a spreadsheet.
pub const COMPAT_TRIGGERS: &[char] = &[
    // =
    '\u{207C}', '\u{208C}', '\u{2A75}', '\u{2A76}', '\u{FE66}', '\u{FF1D}', // +
    '\u{207A}', '\u{208A}', '\u{FB29}', '\u{FE62}', '\u{FF0B}', // -
    '\u{FE63}', '\u{FF0D}', // @
    '\u{FE6B}', '\u{FF20}',
    // U+2212 MINUS SIGN and the forms NFKC maps to it: not `-` under NFKC, treated as one.
    '\u{2212}', '\u{207B}', '\u{208B}',
];

#[inline]
fn is_trigger(c: char) -> bool {
    COMPAT_TRIGGERS.contains(&c)
}

/// Whitespace, invisible and quote characters skipped before the first significant one.
fn is_skippable(c: char) -> bool {
    c.is_whitespace()
        || c.is_control()
        || matches!(
            c,
            // zero-width and invisible formatting characters, BOM
            '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}'
                | '\u{17B5}' | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{2800}'
                | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}' | '\u{FFA0}'
                | '\u{FFF9}'..='\u{FFFB}'
                // quotes
                | '\u{00AB}' | '\u{00BB}' | '\u{2018}'..='\u{201F}' | '\u{2039}' | '\u{203A}'
                | '\u{300C}'..='\u{300F}' | '\u{301D}'..='\u{301F}' | '\u{FF02}' | '\u{FF07}'
                | '\u{FE41}'..='\u{FE44}'
        )
}

/// The strict plain-number grammar: `[+-]? (digits ('.' digits?)? | '.' digits) ([eE] [+-]? digits)?`.
pub(crate) fn is_plain_number(s: &[u8]) -> bool {
    let mut i = 0;
    if matches!(s.first(), Some(b'+' | b'-')) {
        i = 1;
    }
    let int_start = i;
    while i < s.len() && s[i].is_ascii_digit() {
        i += 1;
    }
    let mut digits = i - int_start;
    if i < s.len() && s[i] == b'.' {
        i += 1;
        let frac = i;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
        }
        digits += i - frac;
    }
    if digits == 0 {
        return false;
    }
    if i < s.len() && matches!(s[i], b'e' | b'E') {
        i += 1;
        if i < s.len() && matches!(s[i], b'+' | b'-') {
            i += 1;
        }
        let exp = i;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp {
            return false;
        }
    }
    i == s.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        for ok in ["-1.5", "+3", "1e5", "-0.5E-3", "-.5", "12.", "+0"] {
            assert!(is_plain_number(ok.as_bytes()), "{ok}");
        }
        for bad in [
            "-",
            "+",
            "-1-2",
            "+1 555 123",
            "1e",
            "-1e+",
            "--1",
            "-1,5",
            "",
            ".",
            "-.e1",
        ] {
            assert!(!is_plain_number(bad.as_bytes()), "{bad}");
        }
    }

    #[test]
    fn head_verdicts() {
        let n = Neutralizer::new();
        assert_eq!(n.verdict(b"   ", false), Verdict::Undecided);
        assert_eq!(n.verdict(b"   ", true), Verdict::Safe);
        assert_eq!(n.verdict(b"  =", false), Verdict::Dangerous(3));
        assert_eq!(n.verdict(b" \xef\xbc", false), Verdict::Undecided);
        assert_eq!(n.verdict(b" \xef\xbc", true), Verdict::Safe);
        assert_eq!(
            n.verdict("\u{ff1d}".as_bytes(), true),
            Verdict::Dangerous(3)
        );
    }
}
