//! Canonical field names: `cardNumber`, `card_number`, `card-number`, `CARD_NUMBER` and
//! `Card Number` are one name.

/// The canonical form of a field name: letters lowercased, digits kept, everything else
/// (separators, spaces, punctuation, zero-width and formatting characters) dropped. Full-width
/// ASCII forms (`ｐａｓｓｗｏｒｄ`) fold to ASCII.
///
/// Matching on canonical names is deliberately broad: `pass_word` and `password` are one name, so
/// a variant spelling never walks a secret past a rule.
///
/// ```
/// use safeguard::policy::canonical_name;
///
/// for variant in ["cardNumber", "card_number", "card-number", "CARD_NUMBER", "Card Number"] {
///     assert_eq!(canonical_name(variant), "cardnumber");
/// }
/// assert_eq!(canonical_name("pass\u{200b}word"), "password");
/// assert_eq!(canonical_name("ＰＡＳＳＷＯＲＤ"), "password");
/// ```
pub fn canonical_name(name: &str) -> String {
    let mut out = Vec::with_capacity(name.len());
    canonicalize_into(name.as_bytes(), &mut out);
    // canonicalize_into only pushes whole UTF-8 sequences of chars it decoded.
    String::from_utf8(out).unwrap_or_default()
}

/// Appends the canonical form of `name` (UTF-8 bytes; invalid sequences are dropped) to `out`.
/// Allocation-free when `out` has room, for engines that canonicalize every key they see.
///
/// ```
/// let mut buf = Vec::new();
/// safeguard::policy::canonicalize_into(b"X-Api-Key", &mut buf);
/// assert_eq!(buf, b"xapikey");
/// ```
pub fn canonicalize_into(name: &[u8], out: &mut Vec<u8>) {
    if name.is_ascii() {
        out.extend(
            name.iter()
                .filter(|b| b.is_ascii_alphanumeric())
                .map(u8::to_ascii_lowercase),
        );
        return;
    }
    for chunk in name.utf8_chunks() {
        for c in chunk.valid().chars() {
            push_canonical_char(c, out);
        }
        // Invalid bytes carry no letters: dropping them keeps `pass\xffword` equal to `password`.
    }
}

fn push_canonical_char(c: char, out: &mut Vec<u8>) {
    let c = fold_full_width(c);
    if c.is_ascii() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase() as u8);
        }
    } else if c.is_alphanumeric() {
        let mut buf = [0u8; 4];
        for lower in c.to_lowercase() {
            out.extend_from_slice(lower.encode_utf8(&mut buf).as_bytes());
        }
    }
}

/// Full-width forms U+FF01..=U+FF5E are ASCII 0x21..=0x7E shifted by 0xFEE0.
fn fold_full_width(c: char) -> char {
    match c as u32 {
        cp @ 0xFF01..=0xFF5E => char::from_u32(cp - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn separators_case_and_escapes_fold() {
        assert_eq!(canonical_name("Access-Token"), "accesstoken");
        assert_eq!(canonical_name("access.token"), "accesstoken");
        assert_eq!(canonical_name("  api key "), "apikey");
        assert_eq!(canonical_name("Straße"), "straße");
        assert_eq!(canonical_name("ÉMAIL"), "émail");
        assert_eq!(canonical_name(""), "");
        let mut out = Vec::new();
        canonicalize_into(b"pass\xffword", &mut out);
        assert_eq!(out, b"password");
    }

    proptest! {
        #[test]
        fn canonical_is_idempotent(name in ".{0,40}") {
            let once = canonical_name(&name);
            prop_assert_eq!(canonical_name(&once), once.clone());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let mut out = Vec::new();
            canonicalize_into(&bytes, &mut out);
            prop_assert!(std::str::from_utf8(&out).is_ok());
        }
    }
}
