//! The last line of defense: a `MakeWriter` that scans every finished line, and a capture
//! writer for tests and demos.

use std::borrow::Borrow;
use std::fmt;
use std::io::{self, Write};
use std::sync::{Arc, Mutex, PoisonError};

use tracing::Metadata;
use tracing_subscriber::fmt::MakeWriter;

use super::scrub::{redact_json, scrub_view_bytes};
use crate::policy::{Policy, View};

/// Default longest line buffered before it is scanned and written in pieces: 64 KiB.
pub const DEFAULT_MAX_LINE: usize = 64 * 1024;

/// Smallest accepted line limit (a smaller one would cut ordinary values in two).
const MIN_MAX_LINE: usize = 256;

/// Wraps any `MakeWriter` so that every line written through it is scanned for classified
/// `name=value` pairs and by the policy's detectors before it reaches the inner writer: for
/// services that keep their own formatter (or `tracing_subscriber`'s defaults) and want a last
/// line of defense.
///
/// A line that is one JSON object (the output of a JSON formatter) is redacted as JSON, member
/// by member (classified member names get their class's action, strings are scanned), so it
/// stays valid JSON; any other line is scanned as text.
///
/// Each writer buffers bytes until a newline (`fmt` writes one event per writer, ending in a
/// newline), then scans the line and writes it; what is left when the writer is dropped or
/// flushed is scanned and written too. Lines longer than the limit
/// ([`DEFAULT_MAX_LINE`], see [`SafeWriter::max_line`]) are scanned and written in pieces cut
/// at the last blank before the limit where there is one, so memory stays bounded; a secret
/// that straddles a cut without a blank could escape the detectors, which is why the formatters
/// ([`SafeFields`](super::SafeFields), [`SafeJson`](super::SafeJson)) remain the first line.
///
/// ```
/// use safeguard::log::{Capture, SafeWriter};
/// use safeguard::policy::Policy;
///
/// let logs = Capture::new();
/// // The stock formatter writes `password="hunter2"`; the writer catches it.
/// let subscriber = tracing_subscriber::fmt()
///     .with_ansi(false)
///     .with_writer(SafeWriter::new(&Policy::default(), logs.clone()))
///     .finish();
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::info!(password = "hunter2", user = "bob", "login");
/// });
/// let out = logs.contents();
/// assert!(out.contains("password=\"[REDACTED:credential]\"") && out.contains("user=\"bob\""), "{out}");
/// ```
#[derive(Clone)]
pub struct SafeWriter<M> {
    inner: M,
    view: View,
    max_line: usize,
}

impl<M> fmt::Debug for SafeWriter<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SafeWriter")
            .field("max_line", &self.max_line)
            .finish_non_exhaustive()
    }
}

impl<M> SafeWriter<M> {
    /// Wraps `inner`, scanning with `policy` as seen by a reader without clearance.
    ///
    /// ```
    /// let w = safeguard::log::SafeWriter::new(&safeguard::policy::Policy::default(), std::io::stderr);
    /// let _subscriber = tracing_subscriber::fmt().with_writer(w).finish();
    /// ```
    pub fn new(policy: impl Borrow<Policy>, inner: M) -> Self {
        let policy = policy.borrow();
        Self {
            inner,
            view: policy.view(None),
            max_line: DEFAULT_MAX_LINE,
        }
    }

    /// Sets the longest line buffered before it is written in pieces (at least 256 bytes).
    ///
    /// ```
    /// let w = safeguard::log::SafeWriter::new(&safeguard::policy::Policy::default(), std::io::sink)
    ///     .max_line(16 * 1024);
    /// assert_eq!(w.max_line_len(), 16 * 1024);
    /// ```
    pub fn max_line(mut self, bytes: usize) -> Self {
        self.max_line = bytes.max(MIN_MAX_LINE);
        self
    }

    /// The line limit in bytes.
    ///
    /// ```
    /// let w = safeguard::log::SafeWriter::new(&safeguard::policy::Policy::default(), std::io::sink);
    /// assert_eq!(w.max_line_len(), safeguard::log::DEFAULT_MAX_LINE);
    /// ```
    pub fn max_line_len(&self) -> usize {
        self.max_line
    }

    /// Wraps one `io::Write` directly (no `MakeWriter`), e.g. a file or a socket.
    ///
    /// ```
    /// use std::io::Write;
    /// let policy = safeguard::policy::Policy::default();
    /// let w = safeguard::log::SafeWriter::new(&policy, ());
    /// let mut out = Vec::new();
    /// {
    ///     let mut line = w.wrap(&mut out);
    ///     line.write_all(b"GET /pay?card_number=4111111111111111 200\n")?;
    /// }
    /// assert_eq!(out, b"GET /pay?card_number=[REDACTED:payment] 200\n");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn wrap<W: Write>(&self, writer: W) -> SafeLineWriter<'_, W> {
        SafeLineWriter {
            inner: writer,
            view: &self.view,
            buf: Vec::new(),
            max_line: self.max_line,
        }
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for SafeWriter<M> {
    type Writer = SafeLineWriter<'a, M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        self.wrap(self.inner.make_writer())
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Self::Writer {
        self.wrap(self.inner.make_writer_for(meta))
    }
}

/// A whole JSON object on one line (what JSON formatters write) is redacted as JSON: by member
/// name and string by string, so the line stays valid JSON. `None` for anything else.
fn json_line(view: &View, line: &[u8]) -> Option<Vec<u8>> {
    let body = line.strip_suffix(b"\n").unwrap_or(line);
    let body = body.strip_suffix(b"\r").unwrap_or(body);
    if !(body.starts_with(b"{") && body.ends_with(b"}")) {
        return None;
    }
    let mut value: serde_json::Value = serde_json::from_slice(body).ok()?;
    redact_json(view, &mut value);
    let mut out = serde_json::to_vec(&value).ok()?;
    out.extend_from_slice(&line[body.len()..]);
    Some(out)
}

/// The writer [`SafeWriter`] hands out: buffers one line, scans it, writes it.
pub struct SafeLineWriter<'a, W: Write> {
    inner: W,
    view: &'a View,
    buf: Vec<u8>,
    max_line: usize,
}

impl<W: Write> fmt::Debug for SafeLineWriter<'_, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SafeLineWriter")
            .field("buffered", &self.buf.len())
            .finish_non_exhaustive()
    }
}

impl<W: Write> SafeLineWriter<'_, W> {
    fn emit(&mut self, upto: usize) -> io::Result<()> {
        let line = &self.buf[..upto];
        let result = match json_line(self.view, line) {
            Some(clean) => self.inner.write_all(&clean),
            None => self.inner.write_all(&scrub_view_bytes(self.view, line)),
        };
        self.buf.drain(..upto);
        result
    }

    /// Writes out part of an over-long line, cut at the last blank in its second half.
    fn emit_partial(&mut self) -> io::Result<()> {
        let half = self.buf.len() / 2;
        let cut = self.buf[half..]
            .iter()
            .rposition(|b| b.is_ascii_whitespace())
            .map_or(self.buf.len(), |i| half + i + 1);
        self.emit(cut)
    }
}

impl<W: Write> Write for SafeLineWriter<'_, W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut rest = data;
        while !rest.is_empty() {
            let room = self.max_line.saturating_sub(self.buf.len()).max(1);
            let take = rest.len().min(room);
            match rest[..take].iter().position(|&b| b == b'\n') {
                Some(nl) => {
                    self.buf.extend_from_slice(&rest[..=nl]);
                    rest = &rest[nl + 1..];
                    let len = self.buf.len();
                    self.emit(len)?;
                }
                None => {
                    self.buf.extend_from_slice(&rest[..take]);
                    rest = &rest[take..];
                    if self.buf.len() >= self.max_line {
                        self.emit_partial()?;
                    }
                }
            }
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            let len = self.buf.len();
            self.emit(len)?;
        }
        self.inner.flush()
    }
}

impl<W: Write> Drop for SafeLineWriter<'_, W> {
    fn drop(&mut self) {
        // A partial last line is still scanned before it goes out; a write error here has
        // nowhere to go.
        if !self.buf.is_empty() {
            let len = self.buf.len();
            let _ = self.emit(len);
        }
        let _ = self.inner.flush();
    }
}

/// An in-memory `MakeWriter` that keeps everything written to it: for tests and demos that
/// assert on log output. Clones share one buffer.
///
/// ```
/// use safeguard::log::Capture;
/// let logs = Capture::new();
/// let subscriber = tracing_subscriber::fmt().with_ansi(false).with_writer(logs.clone()).finish();
/// tracing::subscriber::with_default(subscriber, || tracing::info!("hello"));
/// assert!(logs.contents().contains("hello"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Capture {
    buf: Arc<Mutex<Vec<u8>>>,
}

impl Capture {
    /// An empty capture.
    ///
    /// ```
    /// assert!(safeguard::log::Capture::new().contents().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything written so far, as (lossy) UTF-8.
    ///
    /// ```
    /// use std::io::Write;
    /// let logs = safeguard::log::Capture::new();
    /// logs.clone().write_all(b"line\n")?;
    /// assert_eq!(logs.contents(), "line\n");
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn contents(&self) -> String {
        let buf = self.buf.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// Empties the capture and returns what it held.
    ///
    /// ```
    /// use std::io::Write;
    /// let logs = safeguard::log::Capture::new();
    /// logs.clone().write_all(b"a")?;
    /// assert_eq!(logs.take(), "a");
    /// assert!(logs.contents().is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn take(&self) -> String {
        let mut buf = self.buf.lock().unwrap_or_else(PoisonError::into_inner);
        let out = String::from_utf8_lossy(&buf).into_owned();
        buf.clear();
        out
    }
}

impl Write for Capture {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let mut buf = self.buf.lock().unwrap_or_else(PoisonError::into_inner);
        buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run(chunks: &[&[u8]], max: usize) -> Vec<u8> {
        let w = SafeWriter::new(Policy::default(), ()).max_line(max);
        let mut out = Vec::new();
        {
            let mut line = w.wrap(&mut out);
            for c in chunks {
                line.write_all(c).unwrap();
            }
        }
        out
    }

    #[test]
    fn lines_are_scanned_whole_across_writes() {
        let out = run(
            &[b"login pass", b"word=hunter2 ok\nnext token=ab", b"c\n"],
            1024,
        );
        assert_eq!(
            out,
            b"login password=[REDACTED:credential] ok\nnext token=[REDACTED:credential]\n"
        );
    }

    #[test]
    fn long_lines_are_bounded_and_cut_at_blanks() {
        let mut line = Vec::new();
        for _ in 0..200 {
            line.extend_from_slice(b"word password=hunter2 ");
        }
        line.push(b'\n');
        let out = run(&[&line], 256);
        let text = String::from_utf8(out).unwrap();
        assert!(!text.contains("hunter2"));
        assert_eq!(text.matches("word").count(), 400);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn output_is_independent_of_write_splits(cut in 0usize..60, cut2 in 0usize..60) {
            let text: &[u8] = b"GET /x?password=hunter2&page=2 200\nuser=bob token=abc\n";
            let (a, b) = text.split_at(cut.min(text.len()));
            let (b, c) = b.split_at(cut2.min(b.len()));
            let out = run(&[a, b, c], 1024);
            prop_assert_eq!(out, run(&[text], 1024));
        }
    }
}
