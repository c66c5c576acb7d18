//! Bad input for the JSON rewriter: depth bombs, huge bodies, invalid UTF-8, BOMs, very long
//! strings and numbers. Memory is checked through the rewriter's own buffer accounting.

use safeguard::json::{Config, ErrorKind, Redactor};
use safeguard::policy::Policy;
use safeguard::{Clearance, DataClass, Principal};

fn feed_all(
    r: &mut Redactor,
    chunks: impl IntoIterator<Item = Vec<u8>>,
) -> Result<Vec<u8>, ErrorKind> {
    let mut out = Vec::new();
    for chunk in chunks {
        r.feed(&chunk, &mut out).map_err(|e| e.kind())?;
    }
    r.finish(&mut out).map_err(|e| e.kind())?;
    Ok(out)
}

#[test]
fn a_million_brackets_is_refused_early() {
    let policy = Policy::default();
    for open in [b'[', b'{'] {
        let bomb = if open == b'[' {
            vec![b'['; 1_000_000]
        } else {
            b"{\"a\":".repeat(200_000)
        };
        let mut r = Redactor::new(policy.view(None));
        let err = r.feed(&bomb, &mut Vec::new()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooDeep);
        assert!(err.offset() < 2_000, "refused at {}", err.offset());
        assert!(r.high_water() < 16 * 1024);
    }
}

#[test]
fn truncated_everywhere_is_an_error() {
    let policy = Policy::default();
    let doc = br#"{"a":[1,2.5,{"password":"x\u0041"}],"b":true,"c":null,"d":"\u00e9"}"#;
    for cut in 0..doc.len() {
        let mut r = Redactor::new(policy.view(None));
        let res = feed_all(&mut r, [doc[..cut].to_vec()]);
        assert_eq!(res, Err(ErrorKind::Truncated), "cut at {cut}");
    }
    assert!(feed_all(&mut Redactor::new(policy.view(None)), [doc.to_vec()]).is_ok());
}

#[test]
fn invalid_utf8_in_strings_fails_closed_in_every_position() {
    let policy = Policy::default();
    for bad in [
        &b"\xff"[..],
        b"\xc3(",
        b"\xe2\x82",
        b"\xf0\x28\x8c\x28",
        b"\xed\xbf\xbf",
        b"\xf5\x80\x80\x80",
    ] {
        for template in [
            "{\"k\":\"a#b\"}",
            "{\"a#b\":1}",
            "{\"password\":\"a#b\"}",
            "[\"#\"]",
        ] {
            let doc: Vec<u8> = template
                .as_bytes()
                .iter()
                .flat_map(|&c| if c == b'#' { bad.to_vec() } else { vec![c] })
                .collect();
            let mut r = Redactor::new(policy.view(None));
            let bytewise: Vec<Vec<u8>> = doc.iter().map(|b| vec![*b]).collect();
            let res = feed_all(&mut r, bytewise);
            assert!(
                matches!(res, Err(ErrorKind::InvalidUtf8) | Err(ErrorKind::Syntax)),
                "{:?}: {res:?}",
                String::from_utf8_lossy(&doc)
            );
        }
    }
    // Valid multi-byte text split inside a sequence is fine.
    let doc = "{\"k\":\"é€😀\"}".as_bytes();
    let mut r = Redactor::new(policy.view(None));
    let out = feed_all(&mut r, doc.iter().map(|b| vec![*b])).unwrap();
    assert_eq!(out, doc);
}

#[test]
fn bom_is_accepted_once_at_the_start() {
    let policy = Policy::default();
    let mut r = Redactor::new(policy.view(None));
    let out = feed_all(&mut r, [b"\xef".to_vec(), b"\xbb\xbf {\"ssn\":1}".to_vec()]).unwrap();
    assert_eq!(out, b"{\"ssn\":null}");
    let mut r = Redactor::new(policy.view(None));
    assert!(feed_all(&mut r, [b" \xef\xbb\xbf{}".to_vec()]).is_err());
}

#[test]
fn very_long_strings_stream_without_buffering() {
    let policy = Policy::default();
    let long = "x".repeat(10 * 1024 * 1024);
    // Unclassified: streamed through.
    let mut r = Redactor::new(policy.view(None));
    let doc = format!("{{\"note\":\"{long}\",\"password\":\"{long}\"}}");
    let chunks: Vec<Vec<u8>> = doc
        .as_bytes()
        .chunks(64 * 1024)
        .map(<[u8]>::to_vec)
        .collect();
    let out = feed_all(&mut r, chunks).unwrap();
    assert_eq!(
        out.len(),
        long.len() + "{\"note\":\"\",\"password\":null}".len()
    );
    assert!(r.high_water() < 8 * 1024, "held {}", r.high_water());
    // Masked for a partially cleared caller, but too long to buffer: erased.
    let support = Principal::new("s").with_clearance(Clearance::partial(DataClass::Payment));
    let mut r = Redactor::new(policy.view(Some(&support)));
    let doc = format!("{{\"card_number\":\"{long}\"}}");
    let chunks: Vec<Vec<u8>> = doc
        .as_bytes()
        .chunks(64 * 1024)
        .map(<[u8]>::to_vec)
        .collect();
    assert_eq!(feed_all(&mut r, chunks).unwrap(), b"{\"card_number\":null}");
    assert!(
        r.high_water() <= Config::default().buffer_limit(),
        "held {}",
        r.high_water()
    );
    assert_eq!(r.oversized(), 1);
}

#[test]
fn huge_numbers_keep_their_text() {
    let policy = Policy::default();
    let digits = "7".repeat(1_000_000);
    let doc = format!("[-{digits}.{digits}e-{digits},{{\"pin\":{digits}}}]");
    let mut r = Redactor::new(policy.view(None));
    let chunks: Vec<Vec<u8>> = doc.as_bytes().chunks(4096).map(<[u8]>::to_vec).collect();
    let out = feed_all(&mut r, chunks).unwrap();
    assert_eq!(
        out,
        format!("[-{digits}.{digits}e-{digits},{{\"pin\":null}}]").as_bytes()
    );
    assert!(r.high_water() < 8 * 1024);
}

#[test]
fn long_keys_are_refused_not_guessed() {
    let policy = Policy::default();
    let doc = format!("{{\"{}password\":\"x\"}}", "a".repeat(9000));
    let mut r = Redactor::new(policy.view(None));
    assert_eq!(
        feed_all(&mut r, [doc.into_bytes()]),
        Err(ErrorKind::KeyTooLong)
    );
}

/// A 100 MB body of user records, generated as it streams, with memory checked through the
/// rewriter's buffer accounting (the process-level figure is in the bench report).
#[test]
fn hundred_megabytes_stream_in_bounded_memory() {
    let policy = Policy::default();
    let mut r = Redactor::new(policy.view(None));
    let record = br#"{"id":12345,"name":"Jane Roe","email":"jane@example.com","password":"hunter2","address":{"street":"1 Main St","city":"Springfield"},"roles":["a","b"],"balance":1234.5},"#;
    let mut chunk = Vec::with_capacity(64 * 1024);
    let mut out = Vec::with_capacity(128 * 1024);
    let mut total = 0usize;
    r.feed(b"[", &mut out).unwrap();
    let mut records = 0u64;
    while total < 100 * 1024 * 1024 {
        chunk.clear();
        while chunk.len() + record.len() < 64 * 1024 {
            chunk.extend_from_slice(record);
            records += 1;
        }
        total += chunk.len();
        out.clear();
        r.feed(&chunk, &mut out).unwrap();
        assert!(!out.windows(7).any(|w| w == b"hunter2"));
    }
    out.clear();
    r.feed(b"{}]", &mut out).unwrap();
    r.finish(&mut out).unwrap();
    assert!(r.high_water() < 16 * 1024, "held {}", r.high_water());
    // email, password and address per record.
    assert_eq!(r.tally().redacted(), records * 3);
}

#[test]
fn detectors_redact_free_text_values_when_enabled() {
    let policy = Policy::default();
    let doc = br#"{"note":"card 4111 1111 1111 1111, mail ann@example.com","list":["ssn 123-45-6789"],"n":1}"#;
    let config = Config::default().detect_values(true);
    // Split everywhere: the detectors see whole values.
    let mut r = Redactor::with_config(policy.view(None), config.clone());
    let out = feed_all(&mut r, doc.iter().map(|b| vec![*b])).unwrap();
    let text = String::from_utf8(out.clone()).unwrap();
    assert!(!text.contains("4111 1111 1111 1111"), "{text}");
    assert!(!text.contains("ann@example.com"), "{text}");
    assert!(!text.contains("123-45-6789"), "{text}");
    assert!(serde_json::from_slice::<serde_json::Value>(&out).is_ok());
    assert!(r.tally().redacted() >= 3, "{:?}", r.tally());
    let (whole, _) = Redactor::redact_slice(policy.view(None), config, doc).unwrap();
    assert_eq!(whole, out);
    // Off by default: free text is left alone.
    let (plain, _) = Redactor::redact_slice(policy.view(None), Config::default(), doc).unwrap();
    assert_eq!(plain, doc);
}
