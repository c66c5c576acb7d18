//! Tour stop: the policy, its actions and clearances, and `Sensitive<T>`, without any server.

use safeguard::keys::{KeyRing, SecretKey};
use safeguard::policy::{Action, ClassRule, Policy, Rendered};
use safeguard::sensitive::{Payment, Sensitive};
use safeguard::{Clearance, DataClass, Principal};

use super::http::{Error, heading};

/// Keys come from the environment (`SAFEGUARD_PSEUDONYM_KEYS=k1:<base64>,...`); without it the
/// tour makes an ephemeral random key, as a demo must run anywhere.
fn key_ring() -> Result<KeyRing, Error> {
    match KeyRing::from_env("SAFEGUARD_PSEUDONYM_KEYS") {
        Ok(ring) => Ok(ring),
        Err(safeguard::keys::KeyError::MissingVar { .. }) => {
            use ring::rand::SecureRandom;
            let mut bytes = vec![0u8; 32];
            ring::rand::SystemRandom::new()
                .fill(&mut bytes)
                .map_err(|_| "no system randomness")?;
            println!("  (SAFEGUARD_PSEUDONYM_KEYS is not set: using an ephemeral random key)");
            Ok(KeyRing::new("demo", SecretKey::from_bytes(bytes)?)?)
        }
        Err(other) => Err(other.into()),
    }
}

fn show(rendered: Rendered, original: &str) -> String {
    match rendered {
        Rendered::Reveal => original.to_owned(),
        Rendered::Null => "null".to_owned(),
        Rendered::Remove => "(field removed)".to_owned(),
        Rendered::Text(text) => text.into_owned(),
    }
}

pub async fn run() -> Result<(), Error> {
    heading("Policy: classes, canonical names, actions, clearances");
    let policy = Policy::builder()
        .field("loyalty_id", DataClass::Personal)
        .path("$.patient.notes", DataClass::Health)
        .keys(key_ring()?)
        .class(
            DataClass::Personal,
            ClassRule::erase().partial(Action::Pseudonymize { per_field: true }),
        )
        .build()?;

    for name in [
        "cardNumber",
        "card_number",
        "CARD-NUMBER",
        "Card Number",
        "dbPassword",
        "title",
    ] {
        let class = policy
            .classify_name(name)
            .map(|id| policy.class_of(id).to_string())
            .unwrap_or_else(|| "not classified".into());
        println!("  field {name:<14} -> {class}");
    }

    let card = policy
        .classify_name("card_number")
        .ok_or("card_number is classified")?;
    let email = policy.classify_name("email").ok_or("email is classified")?;
    let password = policy
        .classify_name("password")
        .ok_or("password is classified")?;
    let callers = [
        ("anonymous", None),
        (
            "support (partial payment + personal)",
            Some(
                Principal::new("support-7")
                    .with_clearance(Clearance::partial(DataClass::Payment))
                    .with_clearance(Clearance::partial(DataClass::Personal)),
            ),
        ),
        (
            "billing (full payment + personal + credential)",
            Some(
                Principal::new("billing-1")
                    .with_clearance(DataClass::Payment)
                    .with_clearance(DataClass::Personal)
                    .with_clearance(DataClass::Credential),
            ),
        ),
    ];
    for (who, principal) in &callers {
        let view = policy.view(principal.as_ref());
        println!("  {who}:");
        println!(
            "    card_number -> {}",
            show(
                view.render(card, "4111111111111111", None),
                "4111111111111111"
            )
        );
        println!(
            "    email       -> {}",
            show(
                view.render(email, "jane@example.com", Some(b"email")),
                "jane@example.com"
            )
        );
        println!(
            "    password    -> {}   (credentials are never revealed)",
            show(view.render(password, "hunter2", None), "hunter2")
        );
    }

    heading("Sensitive<T>: values that never print themselves");
    let pan: Sensitive<&str, Payment> = Sensitive::new("4111111111111111");
    println!(
        "  Debug: {pan:?}   Display: {pan}   JSON: {}",
        serde_json::to_string(&pan)?
    );
    Ok(())
}
