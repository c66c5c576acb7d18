use proptest::prelude::*;

use super::*;
use crate::keys::SecretKey;
use crate::{Clearance, DataClass, Principal};

fn keyed_policy() -> Policy {
    let ring = KeyRing::new("k2", SecretKey::from_bytes(vec![0x42; 32]).unwrap()).unwrap();
    Policy::builder()
        .keys(ring)
        .class(
            DataClass::Personal,
            ClassRule::new(Action::Pseudonymize { per_field: true }),
        )
        .build()
        .unwrap()
}

#[test]
fn default_names_cover_the_issue_list() {
    let policy = Policy::default();
    for name in [
        "password",
        "passwd",
        "secret",
        "token",
        "access_token",
        "refresh_token",
        "client_secret",
        "api_key",
        "authorization",
        "cookie",
        "session",
        "private_key",
        "ssn",
        "card_number",
        "pan",
        "cvv",
        "cvc",
        "iban",
        "account_number",
        "date_of_birth",
        "email",
        "phone",
    ] {
        assert!(
            policy.classify_name(name).is_some(),
            "{name} is not classified"
        );
    }
    for variant in [
        "cardNumber",
        "card_number",
        "card-number",
        "CARD_NUMBER",
        "Card Number",
    ] {
        assert_eq!(
            policy.class_of(policy.classify_name(variant).unwrap()),
            &DataClass::Payment
        );
    }
    for benign in [
        "id",
        "name",
        "title",
        "status",
        "created_at",
        "amount",
        "currency",
    ] {
        assert!(
            policy.classify_name(benign).is_none(),
            "{benign} is classified"
        );
    }
}

#[test]
fn credentials_are_never_revealed() {
    let policy = Policy::builder()
        .class(DataClass::Credential, ClassRule::new(Action::Replace))
        .build()
        .unwrap();
    let root = Principal::new("root").with_clearance(Clearance::full(DataClass::Credential));
    let id = policy.classify_name("password").unwrap();
    assert_eq!(
        policy.view(Some(&root)).render(id, "hunter2", None),
        Rendered::Text("[REDACTED:credential]".into())
    );
}

#[test]
fn clearances_select_dispositions() {
    let policy = Policy::default();
    let pay = policy.class_id(&DataClass::Payment).unwrap();
    let partial = Principal::new("p").with_clearance(Clearance::partial(DataClass::Payment));
    let full = Principal::new("f").with_clearance(Clearance::full(DataClass::Payment));
    let other = Principal::new("o").with_clearance(Clearance::full(DataClass::Health));
    assert_eq!(
        policy.disposition(pay, None),
        Disposition::Redact(Action::Erase)
    );
    assert_eq!(
        policy.disposition(pay, Some(&other)),
        Disposition::Redact(Action::Erase)
    );
    assert_eq!(
        policy.disposition(pay, Some(&partial)),
        Disposition::Redact(Action::Mask { keep_last: 4 })
    );
    assert_eq!(policy.disposition(pay, Some(&full)), Disposition::Reveal);
    let public = policy.class_id(&DataClass::Public).unwrap();
    assert_eq!(policy.disposition(public, None), Disposition::Reveal);
}

#[test]
fn unconfigured_custom_class_is_erased() {
    let policy = Policy::builder()
        .field("gene", DataClass::custom("genetic"))
        .build()
        .unwrap();
    let id = policy.classify_name("gene").unwrap();
    assert_eq!(policy.view(None).render(id, "BRCA1", None), Rendered::Null);
    let cleared = Principal::new("x").with_clearance(DataClass::custom("genetic"));
    assert_eq!(
        policy.view(Some(&cleared)).render(id, "BRCA1", None),
        Rendered::Reveal
    );
}

#[test]
fn path_rules_win_and_fragments_lose_to_exact_names() {
    let policy = Policy::builder()
        .path("$.meta.token", DataClass::Public)
        .public_field("token_count")
        .build()
        .unwrap();
    assert_eq!(
        policy.class_of(policy.classify_name("tokenCount").unwrap()),
        &DataClass::Public
    );
    assert_eq!(
        policy.class_of(policy.classify_name("csrf_token").unwrap()),
        &DataClass::Credential
    );
    let mut states = Vec::new();
    policy.paths().root(&mut states);
    let meta = states.len();
    assert!(
        policy
            .paths()
            .step(&mut states, 0, Step::Key(b"meta"))
            .is_none()
    );
    let id = policy
        .paths()
        .step(&mut states, meta, Step::Key(b"token"))
        .unwrap();
    assert_eq!(policy.class_of(id), &DataClass::Public);
}

#[test]
fn pseudonyms_are_keyed_tagged_and_stable() {
    let policy = keyed_policy();
    let id = policy.classify_name("email").unwrap();
    let view = policy.view(None);
    let a = view.render(id, "a@b.example", Some(b"email"));
    let b = view.render(id, "a@b.example", Some(b"contactemail"));
    assert_ne!(a, b);
    assert_eq!(a, view.render(id, "a@b.example", Some(b"email")));
    let Rendered::Text(text) = a else {
        panic!("expected text")
    };
    assert!(text.starts_with("hmac:k2:"));
    assert!(
        policy
            .keys()
            .unwrap()
            .verify(b"a@b.example", Some(b"email"), &text)
    );
}

#[test]
fn render_whole_never_masks_structures() {
    let policy = Policy::default();
    let pay = policy.class_id(&DataClass::Payment).unwrap();
    let partial = Principal::new("p").with_clearance(Clearance::partial(DataClass::Payment));
    assert_eq!(
        policy.view(Some(&partial)).render_whole(pay),
        Rendered::Null
    );
}

#[test]
fn text_redaction_respects_clearance() {
    let policy = Policy::default();
    let text = "card 4111111111111111 ok";
    assert!(!policy.redact_str(text, None).contains("4111111111111111"));
    let full = Principal::new("f").with_clearance(Clearance::full(DataClass::Payment));
    assert_eq!(policy.redact_str(text, Some(&full)), text);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn mask_never_outputs_the_hidden_part(value in "\\PC{0,40}", keep in 0usize..8) {
        let masked = mask(&value, keep);
        let len = value.chars().count();
        prop_assert_eq!(masked.chars().count(), len);
        let hidden: String = value.chars().take(if len > keep { len - keep } else { len }).collect();
        // Every hidden character became '*': the output is the original only if it already was.
        prop_assert!(masked.chars().take(hidden.chars().count()).all(|c| c == '*'));
        if len > keep && hidden.chars().any(|c| c != '*') {
            prop_assert_ne!(&masked, &value);
        }
    }

    #[test]
    fn pseudonym_never_contains_the_value(value in "[a-zA-Z0-9@.+-]{6,40}") {
        let policy = keyed_policy();
        let id = policy.classify_name("email").unwrap();
        let out = policy.view(None).render(id, &value, Some(b"email"));
        let Rendered::Text(text) = out else { panic!("expected text") };
        let digest = text.strip_prefix("hmac:k2:").unwrap();
        prop_assert_eq!(digest.len(), 22);
        prop_assert!(!text.contains(value.as_str()));
    }

    #[test]
    fn path_matching_agrees_with_a_reference(keys in proptest::collection::vec("[abc]", 1..6)) {
        // `$..b` matches exactly the paths whose last key is `b`; `$.a.*` those of length 2
        // starting with `a`.
        let policy = Policy::builder()
            .without_defaults()
            .path("$..b", DataClass::Personal)
            .path("$.a.*", DataClass::Internal)
            .build()
            .unwrap();
        let mut states = Vec::new();
        policy.paths().root(&mut states);
        let mut start = 0;
        let mut last = None;
        for key in &keys {
            let next = states.len();
            last = policy.paths().step(&mut states, start, Step::Key(key.as_bytes()));
            start = next;
        }
        let expected = if keys.len() == 2 && keys[0] == "a" {
            // Both rules may complete; the first declared wins.
            if keys[1] == "b" { Some(DataClass::Personal) } else { Some(DataClass::Internal) }
        } else if keys.last().map(String::as_str) == Some("b") {
            Some(DataClass::Personal)
        } else {
            None
        };
        prop_assert_eq!(last.map(|id| policy.class_of(id).clone()), expected);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The first-byte index over fragments finds what a plain scan in rule order finds.
    #[test]
    fn fragment_index_agrees_with_a_plain_scan(
        name in "(pass|word|token|email|card|number|secret|key|api|[a-z0-9]){0,8}",
        extra in proptest::collection::vec("(pass|word|card|[a-z]){1,3}", 0..6),
    ) {
        let mut builder = Policy::builder();
        let classes = [DataClass::Internal, DataClass::Health, DataClass::Payment];
        for (fragment, class) in extra.iter().zip(classes.iter().cycle()) {
            builder = builder.field_containing(fragment, class.clone());
        }
        let policy = builder.build().unwrap();
        let canonical = name.as_bytes();
        let reference = policy.inner.names.get(canonical).copied().or_else(|| {
            if canonical.is_empty() {
                return None;
            }
            policy
                .inner
                .fragments
                .list
                .iter()
                .find(|(f, _)| canonical.windows(f.len()).any(|w| w == &f[..]))
                .map(|(_, id)| *id)
        });
        prop_assert_eq!(policy.classify_canonical(canonical), reference);
    }
}
