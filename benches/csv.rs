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

/// One row of 10 columns: mostly benign, a few formula-like and quoted cells.
fn row(i: usize, out: &mut Vec<u8>) {
    use std::io::Write;
    let _ = match i % 16 {
        0 => writeln!(
            out,
            "{i},alice{i},=HYPERLINK(\"\"),-{i}.5,foo@example.org,\"Smith, J\",2024-01-0{},+1 555 {i},note {i},{}",
            i % 9,
            i * 7
        ),
        5 => writeln!(
            out,
            "{i},bob{i},@SUM(A1),{i}.25,bar@example.org,\"say \"\"hi\"\"\",2024-02-1{},-{i},memo,{}",
            i % 9,
            i * 3
        ),
        _ => writeln!(
            out,
            "{i},user{i},plain text {i},{i}.75,user{i}@example.org,City {},2024-03-2{},{},comment number {i},{}",
            i % 50,
            i % 9,
            i * 11,
            i % 1000
        ),
    };
}

fn export(bytes: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes + 256);
    let mut i = 0;
    while out.len() < bytes {
        row(i, &mut out);
        i += 1;
    }
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
    let before = vm_hwm_kib();
    let mut rw = nz.rewriter();
    let (mut fed, mut i, mut max_out) = (0usize, 0usize, 0usize);
    while fed < total {
        rows.clear();
        while rows.len() < CHUNK {
            row(i, &mut rows);
            i += 1;
        }
        out.clear();
        rw.feed(&rows, &mut out).expect("no reject");
        max_out = max_out.max(out.capacity());
        black_box(&out);
        fed += rows.len();
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
