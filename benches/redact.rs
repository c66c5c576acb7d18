//! RedactResponse benches: the streaming rewriter against the serde_json way (parse to `Value`,
//! walk redacting per the same policy, serialize) and against serde_json's `IgnoredAny`
//! validation pass, on a 1.2 MB and a 2.5 KB body of user records; the layer's overhead over a
//! bare service; and the peak memory of redacting a 100 MB body (printed before the criterion
//! runs, so the process high-water mark is not inflated by them).

use std::hint::black_box;

use bytes::Bytes;
use criterion::{Criterion, Throughput, criterion_group};
use http_body_util::{BodyExt, Full};
use safeguard::json::{Config, Redactor};
use safeguard::policy::{Disposition, Policy, Rendered, View};
use safeguard::response::RedactResponseLayer;
use serde_json::Value;
use tower::{Layer, ServiceExt};

fn record(i: usize) -> String {
    format!(
        r#"{{"id":{i},"username":"user_{i}","name":"Jane Roe {i}","email":"user{i}@example.com","password":"pbkdf2_sha256$260000$abcdefgh$Zm9vYmFy{i}","phone":"+1-555-01{:02}","address":{{"street":"{i} Main Street","city":"Springfield","zip":"62704","country":"US"}},"roles":["user","editor"],"created_at":"2024-01-{:02}T10:00:00Z","active":true,"balance":{}.25,"preferences":{{"theme":"dark","language":"en","newsletter":false}},"card_number":"4111111111111111","notes":"Customer since 2019; prefers e-mail contact. Ticket #{i} resolved."}}"#,
        i % 100,
        i % 28 + 1,
        i * 7
    )
}

fn records(bytes: usize) -> Vec<u8> {
    let mut out = String::from("[");
    let mut i = 0;
    while out.len() < bytes {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&record(i));
        i += 1;
    }
    out.push(']');
    out.into_bytes()
}

/// The serde_json way, with the same policy and view.
fn serde_way(policy: &Policy, view: &View, input: &[u8]) -> Vec<u8> {
    let mut value: Value = serde_json::from_slice(input).expect("valid");
    walk(policy, view, &mut value);
    serde_json::to_vec(&value).expect("serializes")
}

fn walk(policy: &Policy, view: &View, value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|key, val| {
                let Some(id) = policy.classify_name(key) else {
                    walk(policy, view, val);
                    return true;
                };
                if view.disposition(id) == Disposition::Reveal {
                    walk(policy, view, val);
                    return true;
                }
                let rendered = match val {
                    Value::String(s) => view.render(id, s, Some(key.as_bytes())),
                    Value::Number(n) => view.render(id, &n.to_string(), Some(key.as_bytes())),
                    Value::Bool(b) => view.render(id, &b.to_string(), Some(key.as_bytes())),
                    _ => view.render_whole(id),
                };
                match rendered {
                    Rendered::Remove => return false,
                    Rendered::Reveal => {}
                    Rendered::Null => *val = Value::Null,
                    Rendered::Text(t) => *val = Value::String(t.into_owned()),
                }
                true
            });
        }
        Value::Array(items) => items.iter_mut().for_each(|v| walk(policy, view, v)),
        _ => {}
    }
}

fn engine(view: &View, input: &[u8], out: &mut Vec<u8>) {
    out.clear();
    let mut r = Redactor::with_config(view.clone(), Config::default());
    // Bodies arrive in chunks; 16 KiB is typical of hyper.
    for chunk in input.chunks(16 * 1024) {
        r.feed(chunk, out).expect("valid");
    }
    r.finish(out).expect("complete");
}

fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Redacts a 100 MB body generated chunk by chunk and reports the peak memory it added.
fn hundred_megabytes() {
    let policy = Policy::default();
    let before = peak_kib();
    let record = record(1);
    let mut chunk = Vec::with_capacity(64 * 1024);
    let mut out = Vec::with_capacity(80 * 1024);
    let mut r = Redactor::new(policy.view(None));
    let start = std::time::Instant::now();
    r.feed(b"[", &mut out).expect("valid");
    let mut total = 1usize;
    while total < 100 * 1024 * 1024 {
        chunk.clear();
        while chunk.len() + record.len() < 64 * 1024 {
            chunk.extend_from_slice(record.as_bytes());
            chunk.push(b',');
        }
        total += chunk.len();
        out.clear();
        r.feed(&chunk, &mut out).expect("valid");
    }
    out.clear();
    r.feed(b"{}]", &mut out).expect("valid");
    r.finish(&mut out).expect("complete");
    let elapsed = start.elapsed();
    let after = peak_kib();
    println!(
        "redact/100MB: {} MB in {:.0} ms ({:.0} MB/s); engine buffer high-water {} B; \
         process peak (VmHWM) before {:?} KiB, after {:?} KiB, added {:?} KiB \
         (includes the 64 KiB input chunk and the output buffer)",
        total / 1_000_000,
        elapsed.as_secs_f64() * 1e3,
        total as f64 / 1e6 / elapsed.as_secs_f64(),
        r.high_water(),
        before,
        after,
        before.zip(after).map(|(b, a)| a.saturating_sub(b)),
    );
}

fn bench_bodies(c: &mut Criterion) {
    let policy = Policy::default();
    let view = policy.view(None);
    for (name, size) in [("1.2MB", 1_200_000), ("2.5KB", 2_500)] {
        let input = records(size);
        let mut group = c.benchmark_group(format!("redact/{name}"));
        group.throughput(Throughput::Bytes(input.len() as u64));
        // Sanity: both ways agree on the redacted document.
        let mut out = Vec::new();
        engine(&view, &input, &mut out);
        let ours: Value = serde_json::from_slice(&out).expect("engine output parses");
        let theirs: Value =
            serde_json::from_slice(&serde_way(&policy, &view, &input)).expect("serde output");
        assert_eq!(ours, theirs);

        group.bench_function("safeguard", |b| {
            let mut out = Vec::with_capacity(input.len());
            b.iter(|| engine(&view, black_box(&input), &mut out))
        });
        group.bench_function("safeguard_pooled", |b| {
            // As the layer runs it: a rewriter from its pool, reset per body (warm key cache).
            let mut out = Vec::with_capacity(input.len());
            let mut r = Redactor::new(view.clone());
            b.iter(|| {
                out.clear();
                r.reset(view.clone(), Config::default());
                for chunk in black_box(&input).chunks(16 * 1024) {
                    r.feed(chunk, &mut out).expect("valid");
                }
                r.finish(&mut out).expect("complete");
            })
        });
        group.bench_function("serde_json_value_walk", |b| {
            b.iter(|| serde_way(&policy, &view, black_box(&input)))
        });
        group.bench_function("serde_json_ignored_any", |b| {
            b.iter(|| {
                serde_json::from_slice::<serde::de::IgnoredAny>(black_box(&input)).expect("valid")
            })
        });
        group.bench_function("copy_through", |b| {
            let mut out = Vec::with_capacity(input.len());
            b.iter(|| {
                out.clear();
                out.extend_from_slice(black_box(&input));
            })
        });
        group.finish();
    }
}

fn bench_layer(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let body = Bytes::from(records(2_500));
    let make = {
        let body = body.clone();
        move || {
            let body = body.clone();
            tower::service_fn(move |_req: http::Request<()>| {
                let body = body.clone();
                async move {
                    Ok::<_, std::convert::Infallible>(
                        http::Response::builder()
                            .header("content-type", "application/json")
                            .body(Full::new(body))
                            .expect("response"),
                    )
                }
            })
        }
    };
    let mut group = c.benchmark_group("redact/layer-2.5KB");
    group.throughput(Throughput::Bytes(body.len() as u64));
    let bare = make();
    group.bench_function("bare_service", |b| {
        b.iter(|| {
            rt.block_on(async {
                let res = bare
                    .clone()
                    .oneshot(http::Request::new(()))
                    .await
                    .expect("ok");
                res.into_body().collect().await.expect("body").to_bytes()
            })
        })
    });
    let layered = RedactResponseLayer::new(Policy::default()).layer(make());
    group.bench_function("with_redact_response", |b| {
        b.iter(|| {
            rt.block_on(async {
                let res = layered
                    .clone()
                    .oneshot(http::Request::new(()))
                    .await
                    .expect("ok");
                res.into_body().collect().await.expect("body").to_bytes()
            })
        })
    });
    let text = RedactResponseLayer::new(Policy::default()).layer(tower::service_fn(
        move |_req: http::Request<()>| {
            let body = body.clone();
            async move {
                Ok::<_, std::convert::Infallible>(
                    http::Response::builder()
                        .header("content-type", "text/plain")
                        .body(Full::new(body))
                        .expect("response"),
                )
            }
        },
    ));
    group.bench_function("with_redact_response_text_plain", |b| {
        b.iter(|| {
            rt.block_on(async {
                let res = text
                    .clone()
                    .oneshot(http::Request::new(()))
                    .await
                    .expect("ok");
                res.into_body().collect().await.expect("body").to_bytes()
            })
        })
    });
    group.finish();
}

criterion_group!(benches, bench_bodies, bench_layer);

fn main() {
    hundred_megabytes();
    benches();
    Criterion::default().configure_from_args().final_summary();
}
