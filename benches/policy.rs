//! Policy core benches: keyed pseudonyms, masks and name classification.
//!
//! Target (issue 2): an HMAC pseudonym of a 20-byte value takes under 1 µs.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use safeguard::DataClass;
use safeguard::keys::{KeyRing, SecretKey};
use safeguard::policy::{Action, ClassRule, Policy, mask};

fn random_key() -> SecretKey {
    use ring::rand::SecureRandom;
    let mut bytes = vec![0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .expect("system randomness");
    SecretKey::from_bytes(bytes).expect("32-byte key")
}

fn pseudonyms(c: &mut Criterion) {
    let ring = KeyRing::new("k1", random_key()).expect("key ring");
    let value = b"alice.smith@corp.com"; // 20 bytes
    assert_eq!(value.len(), 20);
    let mut group = c.benchmark_group("pseudonym");
    group.bench_function("hmac_20_bytes", |b| {
        b.iter(|| ring.pseudonym(black_box(value), None))
    });
    group.bench_function("hmac_20_bytes_field_tagged", |b| {
        b.iter(|| ring.pseudonym(black_box(value), Some(b"email")))
    });
    let mut out = String::with_capacity(64);
    group.bench_function("hmac_20_bytes_into_buffer", |b| {
        b.iter(|| {
            out.clear();
            ring.write_pseudonym(black_box(value), None, &mut out);
            out.len()
        })
    });
    let policy = Policy::builder()
        .keys(KeyRing::new("k1", random_key()).expect("key ring"))
        .class(
            DataClass::Personal,
            ClassRule::new(Action::Pseudonymize { per_field: true }),
        )
        .build()
        .expect("policy");
    let view = policy.view(None);
    let email = policy.classify_name("email").expect("email is classified");
    group.bench_function("view_render_pseudonym_20_bytes", |b| {
        b.iter(|| view.render(email, black_box("alice.smith@corp.com"), Some(b"email")))
    });
    group.finish();
}

fn names_and_masks(c: &mut Criterion) {
    let policy = Policy::default();
    let mut group = c.benchmark_group("policy");
    group.bench_function("classify_canonical_hit", |b| {
        b.iter(|| policy.classify_canonical(black_box(b"cardnumber")))
    });
    group.bench_function("classify_canonical_miss", |b| {
        b.iter(|| policy.classify_canonical(black_box(b"createdat")))
    });
    group.bench_function("classify_name_raw", |b| {
        b.iter(|| policy.classify_name(black_box("Card-Number")))
    });
    group.bench_function("mask_16_keep_4", |b| {
        b.iter(|| mask(black_box("4111111111111111"), 4))
    });
    group.finish();
}

criterion_group!(benches, pseudonyms, names_and_masks);
criterion_main!(benches);
