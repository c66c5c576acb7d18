//! Property tests of the path canonicalizer and the decision engine.
#![cfg(feature = "authorize")]

use http::Method;
use proptest::prelude::*;
use safeguard::Principal;
use safeguard::authz::{Reason, Requirement, RuleSet, canonicalize};

/// Paths built from the pieces bypasses are made of.
fn path() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "/",
        "/",
        "/",
        "a",
        "b",
        "admin",
        ".",
        "..",
        "%2e",
        "%2E",
        "%2f",
        "%2F",
        "%5c",
        "%25",
        "%252e",
        "%32",
        "%41",
        "%61",
        "%7e",
        "%7E",
        "~",
        "-",
        "_",
        ";",
        "\\",
        "%3b",
        "%00",
        "%0a",
        "%20",
        " ",
        "%",
        "%g",
        "%c0%ae",
        "%c3%a9",
        "%ef%bc%8e",
        "%e2%80%8b",
        "é",
        "#",
        "?",
        "@",
        ":",
        "+",
        "=",
        "!",
        "*",
        "'",
        "(",
        ")",
        ",",
    ]);
    prop::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

fn percent_decode(s: &str) -> Vec<u8> {
    percent_encoding::percent_decode_str(s).collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn canonical_paths_are_fixed_points_without_traversal(raw in path()) {
        let Ok(canonical) = canonicalize(&raw) else { return Ok(()) };
        // Idempotent.
        let again = canonicalize(&canonical);
        prop_assert_eq!(again.as_deref(), Ok(canonical.as_ref()));
        // No `..`/`.` segment and no `//`, raw or after any number of decodings.
        let mut text = canonical.to_string();
        for _ in 0..3 {
            prop_assert!(text.starts_with('/'));
            prop_assert!(!text.contains("//"), "{}", text);
            for seg in text.split('/') {
                prop_assert!(seg != "." && seg != "..", "{}", text);
            }
            prop_assert!(!text.contains('\\') && !text.contains(';') && !text.contains('\0'));
            let decoded = percent_decode(&text);
            prop_assert!(!decoded.iter().any(|b| *b < 0x20 || *b == 0x7f));
            text = String::from_utf8_lossy(&decoded).into_owned();
        }
    }

    #[test]
    fn canonicalize_never_panics(raw in ".*") {
        let _ = canonicalize(&raw);
    }

    /// The engine agrees with itself: a path and its canonical spelling get the same verdict,
    /// and nothing but `/public/...` is reachable anonymously.
    #[test]
    fn decisions_depend_on_the_canonical_path_only(raw in path()) {
        let rules = RuleSet::builder()
            .rule("pub", Method::GET, "/public/{*p}", Requirement::public())
            .rule("admin", Method::GET, "/admin", Requirement::any_role(["admin"]))
            .rule("user", Method::GET, "/u/{id}", Requirement::owner("id"))
            .build()
            .unwrap();
        let alice = Principal::new("alice");
        for target in [raw.clone(), format!("/public/{raw}"), format!("/public{raw}")] {
            let v = rules.decide(&Method::GET, &target, Some(&alice)).now().unwrap();
            if let Ok(c) = canonicalize(&target) {
                let again = rules.decide(&Method::GET, &c, Some(&alice)).now().unwrap();
                prop_assert_eq!(v, again);
                if v.is_allowed() {
                    prop_assert!(c.starts_with("/public/"), "{} allowed as {}", target, c);
                }
            } else {
                prop_assert!(matches!(v.reason(), Reason::InvalidPath(_)));
            }
        }
    }
}
