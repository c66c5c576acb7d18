//! The streaming CSV rewriter.

use csv_core::{ReadFieldResult, Reader, ReaderBuilder};

use super::cell::{Neutralizer, Rejected, Strategy, Verdict, write_escaped};

/// Bytes held back at the start of the stream to recognize a BOM and a `sep=X` line.
const PRELUDE_MAX: usize = 16;
const BOM: &[u8] = b"\xef\xbb\xbf";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Prelude,
    Body,
}

/// Rewrites a CSV byte stream chunk by chunk, neutralizing every cell.
///
/// Built by [`Neutralizer::rewriter`]. Parsing is csv-core's (RFC 4180 with its lenient
/// recovery: it never fails); each cell is re-emitted with [`Neutralizer`]'s rules. The output
/// is the same however the input is split into chunks.
///
/// * Memory is bounded: the rewriter holds at most [`max_cell_head`](Neutralizer::max_cell_head)
///   bytes of one cell (8 KiB by default) plus 16 bytes of prelude; longer cells stream through.
/// * A UTF-8 BOM and a `sep=X` first line pass through unchanged; `X` becomes the delimiter.
/// * Record terminators are kept: LF stays LF, CR and CRLF become CRLF. Blank lines are dropped
///   (csv-core skips them).
/// * Malformed input is never emitted raw: an unterminated quoted cell at the end is closed
///   and neutralized; a stray quote inside an unquoted cell is escaped. Bytes that are not
///   UTF-8 pass through unchanged.
///
/// ```
/// let n = safeguard::csv::Neutralizer::new();
/// let mut rw = n.rewriter();
/// let mut out = Vec::new();
/// rw.feed(b"name,total\nalice,=SUM(A1:A9", &mut out).unwrap();
/// rw.feed(b")\nbob,-12.5\n\"=1+1", &mut out).unwrap();
/// rw.finish(&mut out).unwrap();
/// assert_eq!(out, b"name,total\nalice,\"'=SUM(A1:A9)\"\nbob,-12.5\n\"'=1+1\"");
/// assert_eq!((rw.cells(), rw.neutralized()), (7, 2));
/// ```
#[derive(Debug)]
pub struct Rewriter {
    nz: Neutralizer,
    reader: Reader,
    phase: Phase,
    prelude: [u8; PRELUDE_MAX],
    prelude_len: usize,
    /// The head of the current cell (fixed size: `max_head`).
    head: Box<[u8]>,
    head_len: usize,
    /// The current cell overflowed the head and is being streamed inside quotes.
    streaming: bool,
    field: u64,
    record: u64,
    cells: u64,
    neutralized: u64,
    failed: Option<Rejected>,
    finished: bool,
    /// csv-core is between records (nothing of the next record consumed yet).
    at_record_start: bool,
    /// Per byte class for the fast path (see `byte_classes`).
    class: [u8; 256],
    /// The fast path is sound for this delimiter (not a quote or line break).
    fast: bool,
}

impl Neutralizer {
    /// A streaming rewriter with this configuration.
    ///
    /// ```
    /// let mut out = Vec::new();
    /// safeguard::csv::Neutralizer::new().rewriter().rewrite(b"@a,b\n", &mut out).unwrap();
    /// assert_eq!(out, b"\"'@a\",b\n");
    /// ```
    pub fn rewriter(&self) -> Rewriter {
        Rewriter::new(self.clone())
    }
}

fn reader_for(delimiter: u8) -> Reader {
    let mut reader = ReaderBuilder::new().delimiter(delimiter).build();
    // csv-core silently drops a BOM at the start of its first input. The prelude handles the
    // real BOM; prime the reader (empty output: no state change) so a second BOM, which belongs
    // to the first cell, is kept.
    let _ = reader.read_field(b"xxx", &mut []);
    reader
}

impl Rewriter {
    fn new(nz: Neutralizer) -> Self {
        let phase = Phase::Prelude;
        let delimiter = nz.delimiter;
        Self {
            reader: reader_for(nz.delimiter),
            head: vec![0; nz.max_head].into_boxed_slice(),
            nz,
            phase,
            prelude: [0; PRELUDE_MAX],
            prelude_len: 0,
            head_len: 0,
            streaming: false,
            field: 0,
            record: 0,
            cells: 0,
            neutralized: 0,
            failed: None,
            finished: false,
            at_record_start: true,
            class: byte_classes(delimiter),
            fast: fast_delimiter(delimiter),
        }
    }

    /// Number of cells read so far.
    ///
    /// ```
    /// let mut rw = safeguard::csv::Neutralizer::new().rewriter();
    /// rw.rewrite(b"a,b\nc,d\n", &mut Vec::new()).unwrap();
    /// assert_eq!(rw.cells(), 4);
    /// ```
    pub fn cells(&self) -> u64 {
        self.cells
    }

    /// Number of cells neutralized so far.
    ///
    /// ```
    /// let mut rw = safeguard::csv::Neutralizer::new().rewriter();
    /// rw.rewrite(b"=a,+b\n-1,@d\n", &mut Vec::new()).unwrap();
    /// assert_eq!(rw.neutralized(), 3);
    /// ```
    pub fn neutralized(&self) -> u64 {
        self.neutralized
    }

    /// The delimiter in use (changes once a `sep=` line has been read).
    ///
    /// ```
    /// let mut rw = safeguard::csv::Neutralizer::new().rewriter();
    /// rw.rewrite(b"sep=|\na|b\n", &mut Vec::new()).unwrap();
    /// assert_eq!(rw.delimiter(), b'|');
    /// ```
    pub fn delimiter(&self) -> u8 {
        self.nz.delimiter
    }

    /// Bytes of buffer the rewriter owns (fixed at construction: the cell head and prelude).
    ///
    /// ```
    /// let rw = safeguard::csv::Neutralizer::new().max_cell_head(4096).rewriter();
    /// assert!(rw.buffer_bytes() < 4200);
    /// ```
    pub fn buffer_bytes(&self) -> usize {
        self.head.len() + PRELUDE_MAX
    }

    /// Rewrites a whole input: [`feed`](Self::feed) then [`finish`](Self::finish).
    ///
    /// ```
    /// let mut out = Vec::new();
    /// safeguard::csv::Neutralizer::new().rewriter().rewrite(b"+1 555 123\n", &mut out).unwrap();
    /// assert_eq!(out, b"\"'+1 555 123\"\n");
    /// ```
    pub fn rewrite(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), Rejected> {
        self.feed(input, out)?;
        self.finish(out)
    }

    /// Rewrites the next chunk of input, appending to `out`. Output may lag the input by up to
    /// one cell head. Under [`Strategy::Reject`] a dangerous cell fails the rewriter: this call
    /// and every later one return the error.
    ///
    /// ```
    /// use safeguard::csv::{Neutralizer, Strategy};
    /// let mut rw = Neutralizer::new().strategy(Strategy::Reject).rewriter();
    /// let err = rw.feed(b"a,b\nc,=1\n", &mut Vec::new()).unwrap_err();
    /// assert_eq!((err.record, err.field), (Some(1), Some(1)));
    /// ```
    pub fn feed(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), Rejected> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.finished {
            return Ok(());
        }
        if self.phase == Phase::Prelude {
            let take = match input.iter().position(|&b| b == b'\n') {
                Some(nl) => (nl + 1).min(PRELUDE_MAX - self.prelude_len),
                None => input.len().min(PRELUDE_MAX - self.prelude_len),
            };
            self.prelude[self.prelude_len..self.prelude_len + take].copy_from_slice(&input[..take]);
            self.prelude_len += take;
            input = &input[take..];
            let done = self.prelude_len == PRELUDE_MAX
                || self.prelude[..self.prelude_len].contains(&b'\n');
            if !done {
                return Ok(());
            }
            self.end_prelude(out)?;
        }
        let r = self.body(input, out);
        self.fail_on(r)
    }

    /// Ends the stream: flushes the last cell (closing and neutralizing an unterminated quoted
    /// cell) without adding a record terminator the input did not have.
    ///
    /// ```
    /// let mut rw = safeguard::csv::Neutralizer::new().rewriter();
    /// let mut out = Vec::new();
    /// rw.feed(b"a,\"=1+1,b", &mut out).unwrap();
    /// rw.finish(&mut out).unwrap();
    /// assert_eq!(out, b"a,\"'=1+1,b\"");
    /// ```
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), Rejected> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.finished {
            return Ok(());
        }
        if self.phase == Phase::Prelude {
            self.end_prelude(out)?;
        }
        let r = self.eof(out);
        self.finished = true;
        self.fail_on(r)
    }

    fn fail_on(&mut self, r: Result<(), Rejected>) -> Result<(), Rejected> {
        if let Err(e) = &r {
            self.failed = Some(e.clone());
        }
        r
    }

    /// Decides about BOM and `sep=` line, then parses what the prelude held back.
    fn end_prelude(&mut self, out: &mut Vec<u8>) -> Result<(), Rejected> {
        self.phase = Phase::Body;
        let buf = self.prelude;
        let mut rest = &buf[..self.prelude_len];
        if rest.starts_with(BOM) {
            out.extend_from_slice(BOM);
            rest = &rest[BOM.len()..];
        }
        if self.nz.sep_line {
            if let Some((delimiter, len)) = sep_line(rest) {
                out.extend_from_slice(&rest[..len]);
                rest = &rest[len..];
                self.nz.delimiter = delimiter;
                self.reader = reader_for(delimiter);
                self.class = byte_classes(delimiter);
                self.fast = fast_delimiter(delimiter);
            }
        }
        let r = self.body(rest, out);
        self.fail_on(r)
    }

    fn body(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), Rejected> {
        out.reserve(input.len() + input.len() / 8);
        while !input.is_empty() {
            if self.at_record_start && self.fast {
                let n = self.fast_records(input, out)?;
                input = &input[n..];
                if input.is_empty() {
                    break;
                }
            }
            let (res, nin, nout) = self
                .reader
                .read_field(input, &mut self.head[self.head_len..]);
            self.at_record_start = matches!(res, ReadFieldResult::Field { record_end: true });
            let consumed = &input[..nin];
            input = &input[nin..];
            self.head_len += nout;
            match res {
                ReadFieldResult::InputEmpty => {
                    if self.streaming {
                        self.flush_streamed(out);
                    }
                }
                ReadFieldResult::OutputFull => self.overflow(out)?,
                ReadFieldResult::Field { record_end } => {
                    self.end_field(record_end, out)?;
                    if record_end {
                        match consumed.last() {
                            Some(b'\n') => out.push(b'\n'),
                            Some(b'\r') => out.extend_from_slice(b"\r\n"),
                            _ => {}
                        }
                    }
                }
                ReadFieldResult::End => break,
            }
        }
        Ok(())
    }

    /// Fast path for the whole records at the front of `input`: written directly, csv-core
    /// skipped. Returns the bytes consumed (0 when the first record is not for the fast path).
    ///
    /// A record qualifies when it is complete in this chunk and shorter than the cell head, and
    /// its cells are either unquoted without `"` or well-formed quoted cells (an opening `"`,
    /// content with `""` for `"`, a closing `"` followed by the delimiter or the line end);
    /// a lone CR, a blank line, or anything else goes to csv-core. Cells whose output is their
    /// input (the vast majority) are not copied one by one: unchanged spans, across records,
    /// are copied wholesale when a changed cell or the end of the run is reached. The output is
    /// the same as csv-core's path, which the chunk-split property tests check (one byte at a
    /// time never takes the fast path).
    fn fast_records(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, Rejected> {
        // Start of the input not yet copied to `out`.
        let mut pending = 0;
        let mut at = 0;
        let r = loop {
            if at == input.len() {
                break Ok(());
            }
            let saved = (out.len(), pending, self.cells, self.neutralized);
            match self.fast_record(input, at, &mut pending, out) {
                Ok(Some(end)) => {
                    at = end;
                    self.field = 0;
                    self.record += 1;
                }
                Ok(None) => {
                    // Take back what this record wrote.
                    (_, pending, self.cells, self.neutralized) = saved;
                    out.truncate(saved.0);
                    self.field = 0;
                    break Ok(());
                }
                Err(e) => {
                    // Output stops at the end of the last whole record.
                    pending = saved.1;
                    out.truncate(saved.0);
                    break Err(e);
                }
            }
        };
        out.extend_from_slice(&input[pending..at]);
        r.map(|()| at)
    }

    /// One record of the fast path starting at `input[at]`; returns where the next one starts,
    /// or `None` to hand the record to csv-core. `pending` is the start of the bytes not yet
    /// copied to `out`: a changed cell flushes up to its start and moves it past its end.
    fn fast_record(
        &mut self,
        input: &[u8],
        at: usize,
        pending: &mut usize,
        out: &mut Vec<u8>,
    ) -> Result<Option<usize>, Rejected> {
        let limit = input.len().min(at + self.head.len());
        let mut i = at;
        loop {
            if i >= limit {
                return Ok(None);
            }
            let start = i;
            // The cell: (end of its bytes, value, quoted, and for a quoted cell whether `"` is
            // doubled in it, for an unquoted one whether it holds a byte that forces quoting).
            let (end, value, quoted, flag) = if input[i] == b'"' {
                let mut doubled = false;
                i += 1;
                loop {
                    let Some(q) = input[i..limit].iter().position(|&b| b == b'"') else {
                        return Ok(None);
                    };
                    i += q + 1;
                    if input.get(i) == Some(&b'"') && i < limit {
                        doubled = true;
                        i += 1;
                    } else {
                        break;
                    }
                }
                (i, &input[start + 1..i - 1], true, doubled)
            } else {
                let mut needs = false;
                loop {
                    if i == limit {
                        return Ok(None);
                    }
                    match self.class[input[i] as usize] {
                        0 => {}
                        2 => needs = true,
                        _ => break,
                    }
                    i += 1;
                }
                (i, &input[start..i], false, needs)
            };
            // What follows the cell: the delimiter or a line end, else csv-core.
            let (next, record_end) = match input[i..limit] {
                [d, ..] if d == self.nz.delimiter => (i + 1, false),
                [b'\n', ..] => (i + 1, true),
                [b'\r', b'\n', ..] => (i + 2, true),
                _ => return Ok(None),
            };
            if record_end && end == at {
                // a blank line: csv-core skips it
                return Ok(None);
            }
            let only = record_end && self.field == 0;
            self.cells += 1;
            if !self.fast_cell(input, start, end, value, quoted, flag, only, pending, out)? {
                return Ok(None);
            }
            if record_end {
                return Ok(Some(next));
            }
            self.field += 1;
            i = next;
        }
    }

    /// Writes one cell of the fast path if its output differs from `input[start..end]`.
    /// `value` is the cell's content (between the quotes when `quoted`, with `""` still doubled
    /// when `doubled`); unquoted, `doubled` says the cell holds a byte that forces quoting.
    /// Returns `false` when the cell must go to csv-core.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    fn fast_cell(
        &mut self,
        input: &[u8],
        start: usize,
        end: usize,
        value: &[u8],
        quoted: bool,
        doubled: bool,
        only: bool,
        pending: &mut usize,
        out: &mut Vec<u8>,
    ) -> Result<bool, Rejected> {
        if !quoted && !doubled && value.first().is_some_and(u8::is_ascii_alphanumeric) {
            return Ok(true);
        }
        if quoted && doubled {
            // `"` doubled inside: the verdict on the escaped content is the verdict on the
            // value (the scan skips quotes; `"` is never part of a multi-byte character, nor a
            // plain number), and the value needs quotes: a safe cell is its input.
            match self.nz.verdict(value, true) {
                Verdict::Safe => return Ok(true),
                Verdict::Dangerous(_) => {
                    let prefix = match self.nz.strategy {
                        Strategy::Prefix => b'\'',
                        Strategy::TabPrefix => b'\t',
                        // offsets into the unescaped value: csv-core's path
                        Strategy::Strip | Strategy::Reject => return Ok(false),
                    };
                    out.extend_from_slice(&input[*pending..start]);
                    out.extend_from_slice(&[b'"', prefix]);
                    out.extend_from_slice(&input[start + 1..end]);
                    *pending = end;
                    self.neutralized += 1;
                    return Ok(true);
                }
                Verdict::Undecided => return Ok(false),
            }
        }
        if !doubled && self.nz.unchanged(value, quoted, only) {
            return Ok(true);
        }
        out.extend_from_slice(&input[*pending..start]);
        *pending = end;
        let changed = self
            .nz
            .write_field(value, only, out)
            .map_err(|_| self.rejected())?;
        self.neutralized += u64::from(changed);
        Ok(true)
    }

    fn eof(&mut self, out: &mut Vec<u8>) -> Result<(), Rejected> {
        // csv-core needs empty input calls until End; two suffice (last field, then End), the
        // bound only guards against a loop.
        for _ in 0..4 {
            let (res, _, nout) = self.reader.read_field(&[], &mut self.head[self.head_len..]);
            self.head_len += nout;
            match res {
                ReadFieldResult::Field { record_end } => self.end_field(record_end, out)?,
                ReadFieldResult::End => break,
                ReadFieldResult::InputEmpty | ReadFieldResult::OutputFull => {}
            }
        }
        Ok(())
    }

    fn rejected(&self) -> Rejected {
        Rejected {
            record: Some(self.record),
            field: Some(self.field),
        }
    }

    /// The current cell is longer than the head: decide from the head, open the quoted field
    /// and stream the rest.
    fn overflow(&mut self, out: &mut Vec<u8>) -> Result<(), Rejected> {
        if !self.streaming {
            self.streaming = true;
            let head = &self.head[..self.head_len];
            let mut start = 0;
            let prefix = match self.nz.verdict(head, false) {
                Verdict::Safe => None,
                // Undecided: the head is all whitespace; a trigger may follow, so neutralize.
                v => {
                    self.neutralized += 1;
                    match self.nz.strategy {
                        Strategy::Prefix => Some(b'\''),
                        Strategy::TabPrefix => Some(b'\t'),
                        Strategy::Reject => return Err(self.rejected()),
                        Strategy::Strip => match strip_head(&self.nz, head, v) {
                            Some(cut) => {
                                start = cut;
                                None
                            }
                            None => Some(b'\''),
                        },
                    }
                }
            };
            out.push(b'"');
            if let Some(p) = prefix {
                out.push(p);
            }
            write_escaped(&self.head[start..self.head_len], out);
            self.head_len = 0;
            return Ok(());
        }
        self.flush_streamed(out);
        Ok(())
    }

    fn flush_streamed(&mut self, out: &mut Vec<u8>) {
        write_escaped(&self.head[..self.head_len], out);
        self.head_len = 0;
    }

    fn end_field(&mut self, record_end: bool, out: &mut Vec<u8>) -> Result<(), Rejected> {
        self.cells += 1;
        if self.streaming {
            self.flush_streamed(out);
            out.push(b'"');
            self.streaming = false;
        } else {
            let only = record_end && self.field == 0;
            let changed = self
                .nz
                .write_field(&self.head[..self.head_len], only, out)
                .map_err(|_| self.rejected())?;
            self.neutralized += u64::from(changed);
            self.head_len = 0;
        }
        if record_end {
            self.field = 0;
            self.record += 1;
        } else {
            self.field += 1;
            out.push(self.nz.delimiter);
        }
        Ok(())
    }
}

/// Whether the fast path can split on this delimiter as csv-core does.
fn fast_delimiter(delimiter: u8) -> bool {
    !matches!(delimiter, b'"' | b'\r' | b'\n')
}

/// Byte classes of the fast path: 0 = plain, 1 = delimiter, 2 = forces quoting, 3 = quote or
/// line break (ends the line or hands it to csv-core).
fn byte_classes(delimiter: u8) -> [u8; 256] {
    let mut class = [0; 256];
    for b in [b',', b';', b'\t'] {
        class[b as usize] = 2;
    }
    class[delimiter as usize] = 1;
    for b in [b'"', b'\r', b'\n'] {
        class[b as usize] = 3;
    }
    class
}

/// Where to cut a dangerous head under `Strip`, if the head shows where the dangerous part
/// ends.
fn strip_head(nz: &Neutralizer, head: &[u8], mut v: Verdict) -> Option<usize> {
    let mut cut = 0;
    loop {
        match v {
            Verdict::Safe => return Some(cut),
            Verdict::Undecided => return None,
            Verdict::Dangerous(end) => {
                cut += end;
                v = nz.verdict(&head[cut..], false);
            }
        }
    }
}

/// Recognizes `sep=X` followed by LF or CRLF (case-insensitive `sep`); returns the delimiter
/// and the line length.
fn sep_line(s: &[u8]) -> Option<(u8, usize)> {
    if s.len() < 6 || !s[..4].eq_ignore_ascii_case(b"sep=") {
        return None;
    }
    let d = s[4];
    if matches!(d, b'"' | b'\r' | b'\n') {
        return None;
    }
    match &s[5..] {
        [b'\n', ..] => Some((d, 6)),
        [b'\r', b'\n', ..] => Some((d, 7)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(nz: &Neutralizer, input: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        nz.rewriter().rewrite(input, &mut out).unwrap();
        out
    }

    #[test]
    fn terminators_and_bom() {
        let n = Neutralizer::new();
        assert_eq!(run(&n, b"a,b\r\nc,d\r\n"), b"a,b\r\nc,d\r\n");
        assert_eq!(run(&n, b"\xef\xbb\xbf=a\n"), b"\xef\xbb\xbf\"'=a\"\n");
        assert_eq!(
            run(&n, b"\xef\xbb\xbfsep=;\r\n=a;b\r\n"),
            b"\xef\xbb\xbfsep=;\r\n\"'=a\";b\r\n"
        );
        assert_eq!(
            run(&n, b"\xef\xbb\xbf\xef\xbb\xbf=a"),
            b"\xef\xbb\xbf\"'\xef\xbb\xbf=a\""
        );
        assert_eq!(run(&n, b"\"\"\n"), b"\"\"\n");
        assert_eq!(run(&n, b"a,\n"), b"a,\n");
        assert_eq!(run(&n, b"sep=,"), b"sep=,");
        assert_eq!(run(&n, b""), b"");
    }

    #[test]
    fn long_cells() {
        let n = Neutralizer::new().max_cell_head(64);
        let spaces = " ".repeat(100);
        let out = run(&n, format!("{spaces}x,y\n").as_bytes());
        assert_eq!(out, format!("\"'{spaces}x\",y\n").as_bytes());
        let safe = "a\"".repeat(100);
        let out = run(
            &n,
            format!("\"{}\",y\n", safe.replace('"', "\"\"")).as_bytes(),
        );
        assert_eq!(
            out,
            format!("\"{}\",y\n", safe.replace('"', "\"\"")).as_bytes()
        );
        let strip = Neutralizer::new()
            .max_cell_head(64)
            .strategy(Strategy::Strip);
        let out = run(&strip, format!("=@{}\n", "b".repeat(100)).as_bytes());
        assert_eq!(out, format!("\"{}\"\n", "b".repeat(100)).as_bytes());
    }
}
