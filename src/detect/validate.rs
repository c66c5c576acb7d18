//! Checksum and structure validators used by the built-in detectors.
//!
//! They are public so that custom detectors (see
//! [`ScannerBuilder::custom_validated`](super::ScannerBuilder::custom_validated)) and callers that
//! check single values (a form field, a JSON value) can reuse them. Every function takes raw bytes,
//! never panics, and answers `false` for anything it does not recognise.

/// A payment card scheme, recognised from the issuer prefix (IIN) and the number's length.
///
/// ```
/// use safeguard::detect::validate::{card_scheme, CardScheme};
/// assert_eq!(card_scheme(b"4111111111111111"), Some(CardScheme::Visa));
/// assert_eq!(card_scheme(b"378282246310005"), Some(CardScheme::Amex));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CardScheme {
    /// Visa: prefix 4; 13, 16 or 19 digits.
    Visa,
    /// Mastercard: 51–55 and the 2-series 2221–2720; 16 digits.
    Mastercard,
    /// American Express: 34, 37; 15 digits.
    Amex,
    /// Discover: 6011, 644–649, 65, 622126–622925; 16–19 digits.
    Discover,
    /// JCB: 3528–3589; 16–19 digits.
    Jcb,
    /// Diners Club: 300–305, 3095, 36, 38, 39; 14–19 digits.
    DinersClub,
    /// UnionPay: 62; 16–19 digits.
    UnionPay,
    /// Maestro: 50, 56–58, 6304, 6759, 6761–6763, 5893; 12–19 digits.
    Maestro,
    /// Mir: 2200–2204; 16–19 digits.
    Mir,
}

/// (scheme, inclusive prefix range, prefix digit count, allowed lengths as a bitmask by length).
const fn lens(list: &[usize]) -> u32 {
    let mut mask = 0u32;
    let mut i = 0;
    while i < list.len() {
        mask |= 1 << list[i];
        i += 1;
    }
    mask
}

const L16_19: u32 = lens(&[16, 17, 18, 19]);
const L12_19: u32 = lens(&[12, 13, 14, 15, 16, 17, 18, 19]);

/// The issuer table. Order matters only where ranges overlap (622126–622925 is Discover inside
/// UnionPay's 62): the first row that matches prefix *and* length wins.
const SCHEMES: &[(CardScheme, u32, u32, usize, u32)] = &[
    (CardScheme::Visa, 4, 4, 1, lens(&[13, 16, 19])),
    (CardScheme::Mastercard, 51, 55, 2, lens(&[16])),
    (CardScheme::Mastercard, 2221, 2720, 4, lens(&[16])),
    (CardScheme::Amex, 34, 34, 2, lens(&[15])),
    (CardScheme::Amex, 37, 37, 2, lens(&[15])),
    (CardScheme::Discover, 6011, 6011, 4, L16_19),
    (CardScheme::Discover, 644, 649, 3, L16_19),
    (CardScheme::Discover, 65, 65, 2, L16_19),
    (CardScheme::Discover, 622126, 622925, 6, L16_19),
    (CardScheme::Jcb, 3528, 3589, 4, L16_19),
    (
        CardScheme::DinersClub,
        300,
        305,
        3,
        lens(&[14, 16, 17, 18, 19]),
    ),
    (
        CardScheme::DinersClub,
        3095,
        3095,
        4,
        lens(&[14, 16, 17, 18, 19]),
    ),
    (
        CardScheme::DinersClub,
        36,
        36,
        2,
        lens(&[14, 16, 17, 18, 19]),
    ),
    (
        CardScheme::DinersClub,
        38,
        39,
        2,
        lens(&[14, 16, 17, 18, 19]),
    ),
    (CardScheme::UnionPay, 62, 62, 2, L16_19),
    (CardScheme::Maestro, 50, 50, 2, L12_19),
    (CardScheme::Maestro, 56, 58, 2, L12_19),
    (CardScheme::Maestro, 5893, 5893, 4, L12_19),
    (CardScheme::Maestro, 6304, 6304, 4, L12_19),
    (CardScheme::Maestro, 6759, 6759, 4, L12_19),
    (CardScheme::Maestro, 6761, 6763, 4, L12_19),
    (CardScheme::Mir, 2200, 2204, 4, L16_19),
];

/// Copies the ASCII digits of `input` into `buf`, skipping single spaces and dashes used as group
/// separators. Returns the digit count, or `None` for any other byte or more than `buf` holds.
fn digits_of(input: &[u8], buf: &mut [u8; 32]) -> Option<usize> {
    let mut n = 0;
    for &b in input {
        match b {
            b'0'..=b'9' => {
                *buf.get_mut(n)? = b - b'0';
                n += 1;
            }
            b' ' | b'-' => {}
            _ => return None,
        }
    }
    Some(n)
}

/// The Luhn (mod 10) check over ASCII digits; spaces and dashes between digits are ignored.
/// Needs at least two digits; any other byte gives `false`.
///
/// ```
/// use safeguard::detect::validate::luhn;
/// assert!(luhn(b"4111 1111 1111 1111"));
/// assert!(!luhn(b"4111111111111112"));
/// assert!(!luhn(b"41x1"));
/// ```
pub fn luhn(digits: &[u8]) -> bool {
    let mut buf = [0u8; 32];
    match digits_of(digits, &mut buf) {
        Some(n) if n >= 2 => luhn_digits(&buf[..n]),
        _ => false,
    }
}

/// Luhn over digit values (0–9), not ASCII.
pub(crate) fn luhn_digits(d: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &v) in d.iter().rev().enumerate() {
        let v = u32::from(v);
        sum += if i % 2 == 1 {
            let x = v * 2;
            if x > 9 { x - 9 } else { x }
        } else {
            v
        };
    }
    sum % 10 == 0
}

/// The card scheme whose issuer prefix *and* length fit `digits` (ASCII digits, spaces and
/// dashes ignored). It does not run the Luhn check; [`card`] does both.
///
/// ```
/// use safeguard::detect::validate::{card_scheme, CardScheme};
/// assert_eq!(card_scheme(b"2223 0031 2200 3222"), Some(CardScheme::Mastercard));
/// assert_eq!(card_scheme(b"411111111111111"), None); // Visa has no 15-digit numbers
/// ```
pub fn card_scheme(digits: &[u8]) -> Option<CardScheme> {
    let mut buf = [0u8; 32];
    let n = digits_of(digits, &mut buf)?;
    scheme_of(&buf[..n])
}

const POW10: [u32; 6] = [1, 10, 100, 1_000, 10_000, 100_000];

fn scheme_of(d: &[u8]) -> Option<CardScheme> {
    let n = d.len();
    if !(12..=19).contains(&n) {
        return None;
    }
    // The first six digits once; each row compares its own prefix length of them.
    let six = d[..6].iter().fold(0u32, |acc, &v| acc * 10 + u32::from(v));
    SCHEMES.iter().find_map(|&(scheme, lo, hi, plen, lengths)| {
        let prefix = six / POW10[6 - plen];
        (prefix >= lo && prefix <= hi && lengths & (1 << n) != 0).then_some(scheme)
    })
}

/// A plausible payment card number: a known issuer prefix with a length that scheme issues, and
/// a valid Luhn check digit. Spaces and dashes between digits are ignored.
///
/// ```
/// use safeguard::detect::validate::card;
/// assert!(card(b"4111-1111-1111-1111"));
/// assert!(card(b"3782 822463 10005"));
/// assert!(!card(b"4111111111111112")); // Luhn fails
/// assert!(!card(b"9111111111111111")); // no scheme starts with 9
/// ```
pub fn card(digits: &[u8]) -> bool {
    let mut buf = [0u8; 32];
    match digits_of(digits, &mut buf) {
        Some(n) => card_digits(&buf[..n]),
        None => false,
    }
}

/// [`card`] over digit values (0–9).
pub(crate) fn card_digits(d: &[u8]) -> bool {
    scheme_of(d).is_some() && luhn_digits(d)
}

/// A US Social Security number that could have been issued: `AAA-GG-SSSS`, `AAA GG SSSS` or
/// nine bare digits, with area not `000`, `666` or `9xx`, group not `00`, serial not `0000`.
///
/// ```
/// use safeguard::detect::validate::ssn;
/// assert!(ssn(b"123-45-6789"));
/// assert!(ssn(b"123456789"));
/// assert!(!ssn(b"666-12-3456"));
/// assert!(!ssn(b"900-12-3456"));
/// assert!(!ssn(b"123-00-4567"));
/// assert!(!ssn(b"123-45-0000"));
/// assert!(!ssn(b"123-45 6789")); // mixed separators
/// ```
pub fn ssn(value: &[u8]) -> bool {
    let mut d = [0u8; 9];
    match value.len() {
        9 => d.copy_from_slice(value),
        11 => {
            let sep = value[3];
            if (sep != b'-' && sep != b' ') || value[6] != sep {
                return false;
            }
            d[..3].copy_from_slice(&value[..3]);
            d[3..5].copy_from_slice(&value[4..6]);
            d[5..].copy_from_slice(&value[7..]);
        }
        _ => return false,
    }
    ssn_digits(&d)
}

/// The SSA validity rules over nine ASCII digits.
pub(crate) fn ssn_digits(d: &[u8; 9]) -> bool {
    d.iter().all(u8::is_ascii_digit)
        && &d[..3] != b"000"
        && &d[..3] != b"666"
        && d[0] != b'9'
        && &d[3..5] != b"00"
        && &d[5..] != b"0000"
}

/// IBAN country codes and their lengths (SWIFT IBAN registry, plus the French overseas
/// territories that use France's format).
const IBAN_LENGTHS: &[(&[u8; 2], usize)] = &[
    (b"AD", 24),
    (b"AE", 23),
    (b"AL", 28),
    (b"AT", 20),
    (b"AZ", 28),
    (b"BA", 20),
    (b"BE", 16),
    (b"BG", 22),
    (b"BH", 22),
    (b"BI", 27),
    (b"BL", 27),
    (b"BR", 29),
    (b"BY", 28),
    (b"CH", 21),
    (b"CR", 22),
    (b"CY", 28),
    (b"CZ", 24),
    (b"DE", 22),
    (b"DJ", 27),
    (b"DK", 18),
    (b"DO", 28),
    (b"EE", 20),
    (b"EG", 29),
    (b"ES", 24),
    (b"FI", 18),
    (b"FK", 18),
    (b"FO", 18),
    (b"FR", 27),
    (b"GB", 22),
    (b"GE", 22),
    (b"GF", 27),
    (b"GI", 23),
    (b"GL", 18),
    (b"GP", 27),
    (b"GR", 27),
    (b"GT", 28),
    (b"HN", 28),
    (b"HR", 21),
    (b"HU", 28),
    (b"IE", 22),
    (b"IL", 23),
    (b"IQ", 23),
    (b"IS", 26),
    (b"IT", 27),
    (b"JO", 30),
    (b"KW", 30),
    (b"KZ", 20),
    (b"LB", 28),
    (b"LC", 32),
    (b"LI", 21),
    (b"LT", 20),
    (b"LU", 20),
    (b"LV", 21),
    (b"LY", 25),
    (b"MC", 27),
    (b"MD", 24),
    (b"ME", 22),
    (b"MF", 27),
    (b"MK", 19),
    (b"MN", 20),
    (b"MQ", 27),
    (b"MR", 27),
    (b"MT", 31),
    (b"MU", 30),
    (b"NC", 27),
    (b"NI", 28),
    (b"NL", 18),
    (b"NO", 15),
    (b"OM", 23),
    (b"PF", 27),
    (b"PK", 24),
    (b"PL", 28),
    (b"PM", 27),
    (b"PS", 29),
    (b"PT", 25),
    (b"QA", 29),
    (b"RE", 27),
    (b"RO", 24),
    (b"RS", 22),
    (b"RU", 33),
    (b"SA", 24),
    (b"SC", 31),
    (b"SD", 18),
    (b"SE", 24),
    (b"SI", 19),
    (b"SK", 24),
    (b"SM", 27),
    (b"SO", 23),
    (b"ST", 25),
    (b"SV", 28),
    (b"TF", 27),
    (b"TL", 23),
    (b"TN", 24),
    (b"TR", 26),
    (b"UA", 29),
    (b"VA", 22),
    (b"VG", 24),
    (b"WF", 27),
    (b"XK", 20),
    (b"YE", 30),
    (b"YT", 27),
];

/// The IBAN length for a country code (case-insensitive), if the country issues IBANs.
///
/// ```
/// use safeguard::detect::validate::iban_length;
/// assert_eq!(iban_length(b"de"), Some(22));
/// assert_eq!(iban_length(b"US"), None);
/// ```
pub fn iban_length(country: &[u8]) -> Option<usize> {
    let [a, b] = country else { return None };
    let cc = [a.to_ascii_uppercase(), b.to_ascii_uppercase()];
    IBAN_LENGTHS
        .iter()
        .find(|(c, _)| **c == cc)
        .map(|&(_, len)| len)
}

/// A valid IBAN: known country code, that country's length, two check digits and the ISO 13616
/// mod-97 check. Case-insensitive; spaces are ignored (IBANs are printed in groups of four).
///
/// ```
/// use safeguard::detect::validate::iban;
/// assert!(iban(b"DE89 3704 0044 0532 0130 00"));
/// assert!(iban(b"gb82west12345698765432"));
/// assert!(!iban(b"DE89 3704 0044 0532 0130 01")); // checksum fails
/// ```
pub fn iban(value: &[u8]) -> bool {
    let mut buf = [0u8; 34];
    let mut n = 0;
    for &b in value {
        if b == b' ' {
            continue;
        }
        if !b.is_ascii_alphanumeric() {
            return false;
        }
        match buf.get_mut(n) {
            Some(slot) => *slot = b.to_ascii_uppercase(),
            None => return false,
        }
        n += 1;
    }
    iban_compact(&buf[..n])
}

/// mod-97 over an IBAN without spaces, already uppercased.
pub(crate) fn iban_compact(v: &[u8]) -> bool {
    if v.len() < 5 || iban_length(&v[..2]) != Some(v.len()) {
        return false;
    }
    if !v[..2].iter().all(u8::is_ascii_uppercase) || !v[2..4].iter().all(u8::is_ascii_digit) {
        return false;
    }
    // Rearranged: BBAN, then country code and check digits; letters count as 10..35.
    let mut rem = 0u32;
    for &b in v[4..].iter().chain(&v[..4]) {
        rem = match b {
            b'0'..=b'9' => (rem * 10 + u32::from(b - b'0')) % 97,
            b'A'..=b'Z' => (rem * 100 + u32::from(b - b'A') + 10) % 97,
            _ => return false,
        };
    }
    rem == 1
}
