//! The leak scanner engine on its own: a corpus of leaked bodies per class, a list of ordinary
//! validation messages that must pass, and property tests (chunk-split invariance, no panics).
#![cfg(feature = "errors")]

use proptest::prelude::*;
use safeguard::errors::scan::{WindowScanner, scan};
use safeguard::errors::{RequestPart, classify_rejection};

mod errors_corpus;
use errors_corpus::{CLEAN, LEAKS};

#[test]
fn every_leak_is_found_with_its_class() {
    for (kind, body) in LEAKS {
        let leak = scan(body.as_bytes()).unwrap_or_else(|| panic!("missed leak: {body}"));
        assert_eq!(leak.kind, *kind, "wrong class for: {body}");
    }
}

#[test]
fn no_false_positives_on_validation_messages() {
    for body in CLEAN {
        assert_eq!(scan(body.as_bytes()), None, "false positive: {body}");
    }
}

#[test]
fn axum_rejections_are_classified() {
    let cases: &[(&str, RequestPart)] = &[
        (
            "Failed to deserialize the JSON body into the target type: missing field `email` at line 1 column 13",
            RequestPart::Body,
        ),
        (
            "Failed to parse the request body as JSON: EOF while parsing an object at line 1 column 1",
            RequestPart::Body,
        ),
        (
            "Failed to deserialize query string: invalid digit found in string",
            RequestPart::Query,
        ),
        (
            "Failed to deserialize form body: missing field `name`",
            RequestPart::Body,
        ),
        (
            "Invalid URL: Cannot parse `abc` to a `u32`",
            RequestPart::Path,
        ),
        (
            "Expected request with `Content-Type: application/json`",
            RequestPart::Header,
        ),
        (
            "Form requests must have `Content-Type: application/x-www-form-urlencoded`",
            RequestPart::Header,
        ),
    ];
    for (body, part) in cases {
        assert_eq!(classify_rejection(body.as_bytes()), Some(*part), "{body}");
    }
    for body in CLEAN {
        assert_eq!(classify_rejection(body.as_bytes()), None, "{body}");
    }
}

#[test]
fn window_bounds_what_is_seen() {
    let mut body = vec![b'a'; 100];
    body.extend_from_slice(b"ORA-00942");
    let mut s = WindowScanner::new(64);
    s.push(&body);
    assert_eq!(s.verdict(), None, "leak past the window is not looked at");
    assert_eq!(s.buffered().len(), 64);
    assert_eq!(s.seen(), body.len());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn verdict_is_the_same_for_every_chunk_split(
        index in 0..LEAKS.len(),
        prefix in "[a-z ]{0,40} ",
        cuts in proptest::collection::vec(0usize..200, 0..6),
    ) {
        let body = format!("{prefix}{}", LEAKS[index].1).into_bytes();
        let whole = scan(&body);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (body.len() + 1)).collect();
        cuts.sort_unstable();
        let mut s = WindowScanner::new(4096);
        let mut at = 0;
        for c in cuts.into_iter().chain([body.len()]) {
            s.push(&body[at..c]);
            at = c;
        }
        prop_assert_eq!(s.verdict().map(|l| l.kind), whole.map(|l| l.kind));
        prop_assert!(s.verdict().is_some());
    }

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = scan(&bytes);
        let _ = classify_rejection(&bytes);
    }
}
