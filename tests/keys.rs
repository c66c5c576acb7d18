//! Keys load from the environment and files, with clear errors and no secret in messages.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use safeguard::keys::{KeyError, KeyRing, SecretKey};

fn set(var: &str, value: &str) {
    // SAFETY: each test uses its own variable names; nothing reads them concurrently.
    unsafe { std::env::set_var(var, value) };
}

#[test]
fn ring_from_env_rotates_and_verifies_old_pseudonyms() {
    let old = STANDARD.encode([1u8; 32]);
    let new = URL_SAFE_NO_PAD.encode([2u8; 48]);
    set("SG_TEST_KEYS_OLD", &format!("k1:{old}"));
    set("SG_TEST_KEYS_ROTATED", &format!("k2:{new}, k1:{old}"));
    let before = KeyRing::from_env("SG_TEST_KEYS_OLD").unwrap();
    let after = KeyRing::from_env("SG_TEST_KEYS_ROTATED").unwrap();
    let p_old = before.pseudonym(b"jane@example.com", None);
    let p_new = after.pseudonym(b"jane@example.com", None);
    assert!(p_new.starts_with("hmac:k2:"));
    assert_ne!(p_old, p_new);
    assert!(after.verify(b"jane@example.com", None, &p_old));
    assert!(after.verify(b"jane@example.com", None, &p_new));
}

#[test]
fn env_errors_are_clear_and_never_echo_the_key() {
    set("SG_TEST_KEYS_SHORT", "k1:c2hvcnQta2V5");
    set(
        "SG_TEST_KEYS_BAD64",
        "k1:not*base64*at*all*not*base64*at*all*",
    );
    set(
        "SG_TEST_KEYS_DUP",
        &format!("a:{0},a:{0}", STANDARD.encode([3u8; 32])),
    );
    set(
        "SG_TEST_KEYS_BADID",
        &format!("bad id:{}", STANDARD.encode([3u8; 32])),
    );
    let short = KeyRing::from_env("SG_TEST_KEYS_SHORT").unwrap_err();
    assert!(
        matches!(short, KeyError::TooShort { len: 9, .. }),
        "{short}"
    );
    assert!(!short.to_string().contains("c2hvcnQta2V5"));
    let bad = KeyRing::from_env("SG_TEST_KEYS_BAD64").unwrap_err();
    assert!(matches!(bad, KeyError::InvalidBase64 { .. }), "{bad}");
    assert!(!bad.to_string().contains("not*base64"));
    assert!(matches!(
        KeyRing::from_env("SG_TEST_KEYS_DUP"),
        Err(KeyError::DuplicateId { .. })
    ));
    assert!(matches!(
        KeyRing::from_env("SG_TEST_KEYS_BADID"),
        Err(KeyError::InvalidId { .. })
    ));
    assert!(matches!(
        KeyRing::from_env("SG_TEST_KEYS_NEVER_SET"),
        Err(KeyError::MissingVar { .. })
    ));
    assert!(matches!(
        SecretKey::from_env("SG_TEST_KEYS_NEVER_SET"),
        Err(KeyError::MissingVar { .. })
    ));
}

#[test]
fn key_files_base64_or_raw() {
    let dir = std::env::temp_dir().join(format!("sg-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let b64 = dir.join("b64");
    std::fs::write(&b64, format!("{}\n", STANDARD.encode([5u8; 32]))).unwrap();
    let raw = dir.join("raw");
    std::fs::write(&raw, [0xffu8; 64]).unwrap();
    assert_eq!(SecretKey::from_file(&b64).unwrap().len(), 32);
    assert_eq!(SecretKey::from_file(&raw).unwrap().len(), 64);
    let missing = SecretKey::from_file(dir.join("missing")).unwrap_err();
    assert!(matches!(missing, KeyError::Io { .. }));
    assert!(missing.to_string().contains("missing"));
    let ring = KeyRing::from_files([("new", &b64), ("old", &raw)]).unwrap();
    assert_eq!(ring.active_id(), "new");
    assert!(!format!("{ring:?}").contains("BQUF")); // base64 of the key bytes
    std::fs::remove_dir_all(dir).unwrap();
}
