use super::*;
use crate::policy::{ClassRule, Erasure, Policy};
use crate::{Clearance, DataClass, Principal};

fn redact(policy: &Policy, principal: Option<&Principal>, input: &str) -> Result<String, Error> {
    let (out, _) =
        Redactor::redact_slice(policy.view(principal), Config::default(), input.as_bytes())?;
    Ok(String::from_utf8(out).unwrap())
}

fn bytewise(policy: &Policy, config: Config, input: &[u8]) -> Result<Vec<u8>, Error> {
    let mut r = Redactor::with_config(policy.view(None), config);
    let mut out = Vec::new();
    for b in input {
        r.feed(std::slice::from_ref(b), &mut out)?;
    }
    r.finish(&mut out)?;
    Ok(out)
}

#[test]
fn names_are_matched_after_escapes_and_canonically() {
    let p = Policy::default();
    for key in [
        "password",
        "Password",
        "PASS_WORD",
        "pass\\u0077ord",
        "\\u0070assword",
        "pass-word",
        "dbPassword",
        "ｐａｓｓｗｏｒｄ",
    ] {
        let doc = format!(r#"{{"{key}":"hunter2","x":1}}"#);
        let out = redact(&p, None, &doc).unwrap();
        assert!(!out.contains("hunter2"), "{key}: {out}");
        assert_eq!(out, format!(r#"{{"{key}":null,"x":1}}"#));
    }
}

#[test]
fn duplicates_nested_and_structured_values() {
    let p = Policy::default();
    let out = redact(
        &p,
        None,
        r#"{"token":"a","token":"b","a":{"token":{"x":["s"]},"b":[{"ssn":1},{"ssn":true},{"ssn":null}]}}"#,
    )
    .unwrap();
    assert_eq!(
        out,
        r#"{"token":null,"token":null,"a":{"token":null,"b":[{"ssn":null},{"ssn":null},{"ssn":null}]}}"#
    );
}

#[test]
fn remove_keeps_commas_right() {
    let p = Policy::builder()
        .class(DataClass::Credential, ClassRule::new(Action::Remove))
        .build()
        .unwrap();
    let cases = [
        (r#"{"password":1}"#, "{}"),
        (r#"{"password":1,"a":2}"#, r#"{"a":2}"#),
        (r#"{"a":2,"password":{"x":[1,2]}}"#, r#"{"a":2}"#),
        (
            r#"{"a":1,"password":"x","b":2,"token":[],"c":3}"#,
            r#"{"a":1,"b":2,"c":3}"#,
        ),
        (r#"{"password":"x","token":"y"}"#, "{}"),
        (r#"[{"token":"y"},{"a":{"secret":1}}]"#, r#"[{},{"a":{}}]"#),
    ];
    for (input, want) in cases {
        assert_eq!(redact(&p, None, input).unwrap(), want, "{input}");
        let out = bytewise(&p, Config::default(), input.as_bytes()).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), want);
    }
}

#[test]
fn paths_with_wildcards_and_indexes() {
    let p = Policy::builder()
        .without_defaults()
        .path("$.users[*].note", DataClass::Personal)
        .path("$.items[1]", DataClass::Internal)
        .path("$..deep", DataClass::Health)
        .build()
        .unwrap();
    let out = redact(
        &p,
        None,
        r#"{"note":"keep","users":[{"note":"a","n":1},{"note":{"x":1}}],"items":[1,2,3],"x":{"y":{"deep":"d"}}}"#,
    )
    .unwrap();
    assert_eq!(
        out,
        r#"{"note":"keep","users":[{"note":null,"n":1},{"note":null}],"items":[1,null,3],"x":{"y":{"deep":null}}}"#
    );
}

#[test]
fn clearances_mask_and_reveal() {
    let p = Policy::default();
    let doc = r#"{"card_number":"4111111111111111","email":"a@b.example","password":"pw"}"#;
    let support = Principal::new("s")
        .with_clearance(Clearance::partial(DataClass::Payment))
        .with_clearance(Clearance::full(DataClass::Personal));
    assert_eq!(
        redact(&p, Some(&support), doc).unwrap(),
        r#"{"card_number":"************1111","email":"a@b.example","password":null}"#
    );
    let number = r#"{"card_number":4111111111111111}"#;
    assert_eq!(
        redact(&p, Some(&support), number).unwrap(),
        r#"{"card_number":"************1111"}"#
    );
}

#[test]
fn marker_erasure_and_escaped_values_round_trip() {
    let p = Policy::builder().erase_as(Erasure::Marker).build().unwrap();
    assert_eq!(
        redact(&p, None, r#"{"secret":"a\"b","t":"x\"\u00e9\n"}"#).unwrap(),
        r#"{"secret":"[REDACTED]","t":"x\"\u00e9\n"}"#
    );
}

#[test]
fn numbers_keep_their_text() {
    let p = Policy::default();
    let doc = r#"[0,-0,1.5e+300,-12.0E-3,123456789012345678901234567890,1E400]"#;
    assert_eq!(redact(&p, None, doc).unwrap(), doc);
    assert_eq!(redact(&p, None, " 42 ").unwrap(), "42");
}

#[test]
fn malformed_inputs_fail() {
    let p = Policy::default();
    let bad: &[(&[u8], ErrorKind)] = &[
        (b"", ErrorKind::Truncated),
        (b"   ", ErrorKind::Truncated),
        (b"{", ErrorKind::Truncated),
        (b"{\"a\"", ErrorKind::Truncated),
        (b"{\"a\":1", ErrorKind::Truncated),
        (b"[1,]", ErrorKind::Syntax),
        (b"{\"a\":1,}", ErrorKind::Syntax),
        (b"{\"a\" 1}", ErrorKind::Syntax),
        (b"[01]", ErrorKind::Syntax),
        (b"[1.]", ErrorKind::Syntax),
        (b"[-]", ErrorKind::Syntax),
        (b"[1e]", ErrorKind::Syntax),
        (b"[tru]", ErrorKind::Syntax),
        (b"[nul", ErrorKind::Truncated),
        (b"[1] [2]", ErrorKind::Syntax),
        (b"{\"a\":1}}", ErrorKind::Syntax),
        (b"[\"\\x\"]", ErrorKind::Syntax),
        (b"[\"\\u12G4\"]", ErrorKind::Syntax),
        (b"[\"a\x01\"]", ErrorKind::ControlCharacter),
        (b"[\"\xff\"]", ErrorKind::InvalidUtf8),
        (b"[\"\xc3\"]", ErrorKind::InvalidUtf8),
        (b"[\"\xed\xa0\x80\"]", ErrorKind::InvalidUtf8),
        (b"[\"\xc0\xaf\"]", ErrorKind::InvalidUtf8),
        (b"{\"pass\xffword\":1}", ErrorKind::InvalidUtf8),
        (b"[\"abc", ErrorKind::Truncated),
        (b"'a'", ErrorKind::Syntax),
        (b"\xef\xbb", ErrorKind::Truncated),
        (b"\xef\xbb\xbf\xef\xbb\xbf[]", ErrorKind::Syntax),
        (b"[]\xef\xbb\xbf", ErrorKind::Syntax),
    ];
    for (input, kind) in bad {
        let whole = Redactor::redact_slice(p.view(None), Config::default(), input);
        assert_eq!(
            whole.map(|_| ()).unwrap_err().kind(),
            *kind,
            "{:?}",
            String::from_utf8_lossy(input)
        );
        let split = bytewise(&p, Config::default(), input);
        assert_eq!(
            split.unwrap_err().kind(),
            *kind,
            "bytewise {:?}",
            String::from_utf8_lossy(input)
        );
    }
}

#[test]
fn bom_is_dropped() {
    let p = Policy::default();
    let out = bytewise(&p, Config::default(), b"\xef\xbb\xbf{\"pin\":1}").unwrap();
    assert_eq!(out, b"{\"pin\":null}");
}

#[test]
fn depth_limit() {
    let p = Policy::default();
    let ok = format!("{}{}", "[".repeat(128), "]".repeat(128));
    assert!(redact(&p, None, &ok).is_ok());
    let deep = format!("{}{}", "[".repeat(129), "]".repeat(129));
    assert_eq!(
        redact(&p, None, &deep).unwrap_err().kind(),
        ErrorKind::TooDeep
    );
    // Also inside a skipped (classified) value.
    let hidden = format!("{{\"token\":{}{}}}", "[".repeat(200), "]".repeat(200));
    assert_eq!(
        redact(&p, None, &hidden).unwrap_err().kind(),
        ErrorKind::TooDeep
    );
}

#[test]
fn lines_mode() {
    let p = Policy::default();
    let input = b"{\"ssn\":\"1\"}\r\n\n[1]\n42\n\"x\"";
    let out = bytewise(&p, Config::lines(), input).unwrap();
    assert_eq!(out, b"{\"ssn\":null}\n[1]\n42\n\"x\"\n");
    assert!(bytewise(&p, Config::lines(), b"{\"a\":\n1}\n").is_err());
    assert!(bytewise(&p, Config::lines(), b"1 2\n").is_err());
    assert!(bytewise(&p, Config::lines(), b"{\"a\":1}\n{\"b\"").is_err());
    assert_eq!(bytewise(&p, Config::lines(), b"").unwrap(), b"");
}

#[test]
fn long_keys_fail_closed_and_long_masked_values_are_erased() {
    let p = Policy::default();
    let config = Config::default().max_buffer(1024);
    let key = format!("{{\"{}\":1}}", "k".repeat(200));
    assert_eq!(
        Redactor::redact_slice(p.view(None), config.clone(), key.as_bytes())
            .unwrap_err()
            .kind(),
        ErrorKind::KeyTooLong
    );
    let support = Principal::new("s").with_clearance(Clearance::partial(DataClass::Payment));
    let long = format!("{{\"pan\":\"{}\"}}", "4".repeat(300));
    let (out, _) = Redactor::redact_slice(p.view(Some(&support)), config, long.as_bytes()).unwrap();
    assert_eq!(out, b"{\"pan\":null}");
}

#[test]
fn memory_stays_bounded_on_long_streams() {
    let p = Policy::default();
    let mut r = Redactor::new(p.view(None));
    let mut out = Vec::new();
    r.feed(b"[", &mut out).unwrap();
    let record =
        br#"{"id":1,"name":"x","password":"p","note":"a long note that is not classified"},"#;
    for _ in 0..10_000 {
        out.clear();
        r.feed(record, &mut out).unwrap();
    }
    r.feed(b"1]", &mut out).unwrap();
    r.finish(&mut out).unwrap();
    assert!(r.high_water() < 8 * 1024, "{}", r.high_water());
    assert_eq!(r.tally().redacted(), 10_000);
}

#[test]
fn scan_plain_finds_the_first_special_byte() {
    for len in 0..40 {
        for special in [b'"', b'\\', 0x01, 0x1f, 0x80, 0xff] {
            for at in 0..=len {
                let mut s = vec![b'a'; len];
                if at < len {
                    s[at] = special;
                }
                assert_eq!(scan_plain(&s, 0), at, "len {len} at {at} byte {special}");
            }
        }
    }
    assert_eq!(scan_plain(b" ~\x7f!#", 0), 5);
}

#[test]
fn decode_handles_surrogates() {
    let mut out = Vec::new();
    decode_into(br"a\ud83d\ude00b\ud800c\u0041\/", &mut out);
    assert_eq!(String::from_utf8(out).unwrap(), "a😀b\u{fffd}cA/");
}

mod fast_lane {
    //! The members fast lane must be invisible: whole-chunk input (lane taken) and byte-by-byte
    //! input (lane never completes a member) give the same output, or the same error kind and
    //! offset, for every sequence of tokens.
    use super::*;
    use proptest::prelude::*;

    const TOKENS: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        " ",
        "\"a\"",
        "\"id\"",
        "\"password\"",
        "\"email\"",
        "\"card_number\"",
        "\"pin\"",
        "\"pass\\u0077ord\"",
        "\"x\\n\"",
        "\"\u{e9}\"",
        "\"",
        "1",
        "-0.5e+3",
        "01",
        "-",
        "1.",
        "2E",
        "true",
        "false",
        "null",
        "nul",
        "tru",
        "\"v\"",
        "\"4111111111111111\"",
        "\u{1}",
        "{\"a\":",
        "\"k\":1,",
    ];

    const VALUES: &[&str] = &[
        "\"x\\n\"",
        "\"\u{e9}\"",
        "1",
        "-0.5e+3",
        "0",
        "true",
        "false",
        "null",
        "\"v\"",
        "\"4111111111111111\"",
        "[1,{\"pin\":2}]",
        "{\"email\":\"e\"}",
        "{}",
        "{\"a\":[{\"b\":[]},[[1,\"x\"]],{}]}",
        "[{},[],\"\",null]",
        "[[[[[[0]]]]]]",
    ];

    fn doc() -> impl Strategy<Value = String> {
        prop::collection::vec(prop::sample::select(TOKENS), 0..40).prop_map(|t| t.concat())
    }

    fn policy(remove: bool, mask: bool) -> Policy {
        let mut b = Policy::builder();
        if remove {
            b = b.class(DataClass::Personal, ClassRule::new(Action::Remove));
        }
        if mask {
            b = b.class(
                DataClass::Payment,
                ClassRule::new(Action::Mask { keep_last: 4 }),
            );
        }
        b.build().unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn lane_matches_bytewise(text in doc(), remove in any::<bool>(), mask in any::<bool>()) {
            let p = policy(remove, mask);
            let input = text.as_bytes();
            let whole = Redactor::redact_slice(p.view(None), Config::default(), input)
                .map(|(out, _)| out);
            let bytes = bytewise(&p, Config::default(), input);
            prop_assert_eq!(&whole, &bytes, "{}", text);
        }

        #[test]
        fn lane_matches_bytewise_near_the_depth_limit(text in doc(), depth in 1usize..5) {
            let p = policy(false, false);
            let config = Config::default().max_depth(depth);
            let input = text.as_bytes();
            let whole = Redactor::redact_slice(p.view(None), config.clone(), input)
                .map(|(out, _)| out);
            let bytes = bytewise(&p, config, input);
            prop_assert_eq!(&whole, &bytes, "{}", text);
        }

        #[test]
        fn lane_matches_bytewise_on_valid_records(
            keys in prop::collection::vec(prop::sample::select(&TOKENS[7..14]), 1..12),
            values in prop::collection::vec(prop::sample::select(VALUES), 1..12),
            remove in any::<bool>(),
            mask in any::<bool>(),
        ) {
            let members: Vec<String> =
                keys.iter().zip(values.iter().cycle()).map(|(k, v)| format!("{k}:{v}")).collect();
            let text = format!("[{{{}}},{{{}}}]", members.join(","), members.join(","));
            let p = policy(remove, mask);
            let input = text.as_bytes();
            let whole = Redactor::redact_slice(p.view(None), Config::default(), input)
                .map(|(out, _)| out);
            let bytes = bytewise(&p, Config::default(), input);
            prop_assert_eq!(&whole, &bytes, "{}", text);
        }
    }
}

#[test]
fn key_cache_shared_through_the_policy_is_per_policy_and_per_caller_exact() {
    let doc = br#"{"foo":"f","bar":"b","email":"e@x.example","note":"n"}"#;
    let a = Policy::builder()
        .field("foo", DataClass::Internal)
        .build()
        .unwrap();
    let b = Policy::builder()
        .field("bar", DataClass::Internal)
        .build()
        .unwrap();
    let cleared = Principal::new("p").with_clearance(DataClass::Personal);
    for _ in 0..3 {
        // Each rewriter is fresh; from the second round on they start from a shared cache.
        let (out, _) = Redactor::redact_slice(a.view(None), Config::default(), doc).unwrap();
        assert_eq!(out, br#"{"foo":null,"bar":"b","email":null,"note":"n"}"#);
        let (out, _) = Redactor::redact_slice(b.view(None), Config::default(), doc).unwrap();
        assert_eq!(out, br#"{"foo":"f","bar":null,"email":null,"note":"n"}"#);
        let (out, tally) =
            Redactor::redact_slice(a.view(Some(&cleared)), Config::default(), doc).unwrap();
        assert_eq!(
            out,
            br#"{"foo":null,"bar":"b","email":"e@x.example","note":"n"}"#
        );
        assert_eq!((tally.redacted(), tally.revealed()), (1, 1));
    }
    assert!(a.engine_cache().is_some());
}

#[test]
fn skipped_containers_respect_the_depth_limit_on_every_path() {
    let p = Policy::default();
    for n in 0..7 {
        let arrays = format!("{}1{}", "[".repeat(n), "]".repeat(n));
        let objects = format!("{}1{}", "{\"k\":".repeat(n), "}".repeat(n));
        for inner in [&arrays, &objects] {
            for doc in [
                format!("{{\"a\":{{\"password\":{inner}}},\"b\":2}}"),
                format!("[{{\"password\":{inner},\"email\":[{inner}]}},0]"),
            ] {
                for depth in 1..9 {
                    let config = Config::default().max_depth(depth);
                    let whole =
                        Redactor::redact_slice(p.view(None), config.clone(), doc.as_bytes())
                            .map(|(out, _)| out);
                    let bytes = bytewise(&p, config, doc.as_bytes());
                    assert_eq!(whole, bytes, "{doc} at depth {depth}");
                }
            }
        }
    }
}
