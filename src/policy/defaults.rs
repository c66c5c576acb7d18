//! The secure defaults: field names that compliance reviews expect redacted out of the box.

use crate::class::DataClass;
use crate::class::DataClass::{Credential, Health, Payment, Personal};

use super::{Action, ClassRule};

/// Exact field names (canonicalized when the policy is built).
pub(super) const FIELD_NAMES: &[(&str, DataClass)] = &[
    // Credentials and secrets: never revealed.
    ("password", Credential),
    ("passwd", Credential),
    ("pwd", Credential),
    ("passphrase", Credential),
    ("secret", Credential),
    ("token", Credential),
    ("access_token", Credential),
    ("refresh_token", Credential),
    ("id_token", Credential),
    ("client_secret", Credential),
    ("api_key", Credential),
    ("apikey", Credential),
    ("x-api-key", Credential),
    ("authorization", Credential),
    ("proxy-authorization", Credential),
    ("cookie", Credential),
    ("set-cookie", Credential),
    ("session", Credential),
    ("session_id", Credential),
    ("private_key", Credential),
    ("credentials", Credential),
    ("connection_string", Credential),
    ("cvv", Credential),
    ("cvv2", Credential),
    ("cvc", Credential),
    ("cvc2", Credential),
    ("card_security_code", Credential),
    ("security_code", Credential),
    ("pin", Credential),
    ("otp", Credential),
    ("totp", Credential),
    ("mfa_code", Credential),
    // Payment data.
    ("card_number", Payment),
    ("cardnumber", Payment),
    ("card_no", Payment),
    ("pan", Payment),
    ("credit_card", Payment),
    ("cc_number", Payment),
    ("iban", Payment),
    ("account_number", Payment),
    ("bank_account", Payment),
    ("bank_account_number", Payment),
    ("routing_number", Payment),
    ("sort_code", Payment),
    // Personal data.
    ("ssn", Personal),
    ("social_security_number", Personal),
    ("national_id", Personal),
    ("tax_id", Personal),
    ("passport_number", Personal),
    ("passport", Personal),
    ("drivers_license", Personal),
    ("driver_license", Personal),
    ("date_of_birth", Personal),
    ("dob", Personal),
    ("birth_date", Personal),
    ("birthdate", Personal),
    ("birthday", Personal),
    ("email", Personal),
    ("email_address", Personal),
    ("phone", Personal),
    ("phone_number", Personal),
    ("mobile", Personal),
    ("mobile_number", Personal),
    ("address", Personal),
    ("street_address", Personal),
    ("home_address", Personal),
    ("first_name", Personal),
    ("last_name", Personal),
    ("full_name", Personal),
    ("ip_address", Personal),
    // Health data.
    ("diagnosis", Health),
    ("diagnoses", Health),
    ("medical_record_number", Health),
    ("mrn", Health),
    ("prescription", Health),
    ("prescriptions", Health),
    ("medication", Health),
    ("medications", Health),
    ("allergies", Health),
    ("blood_type", Health),
    ("health_insurance_number", Health),
];

/// Name fragments: any field whose canonical name contains one is classified. Chosen so that
/// variants such as `dbPassword`, `stripe_secret_key`, `csrfToken`, `creditCardNumber` and
/// `contactEmail` are caught; fields like `token_count` can be marked public.
pub(super) const FIELD_FRAGMENTS: &[(&str, DataClass)] = &[
    ("password", Credential),
    ("passwd", Credential),
    ("secret", Credential),
    ("token", Credential),
    ("apikey", Credential),
    ("privatekey", Credential),
    ("credential", Credential),
    ("cardnumber", Payment),
    ("creditcard", Payment),
    ("accountnumber", Payment),
    ("email", Personal),
    ("phonenumber", Personal),
    ("dateofbirth", Personal),
    ("socialsecurity", Personal),
];

/// Default class rules: erase for callers without clearance (default deny); partially cleared
/// callers see the last 4 characters of payment and personal data and a class marker for
/// health data; credentials are never revealed.
pub(super) fn class_rules() -> Vec<(DataClass, ClassRule)> {
    vec![
        (
            Payment,
            ClassRule::erase().partial(Action::Mask { keep_last: 4 }),
        ),
        (
            Personal,
            ClassRule::erase().partial(Action::Mask { keep_last: 4 }),
        ),
        (Health, ClassRule::erase().partial(Action::Replace)),
        (Credential, ClassRule::erase().never_reveal()),
    ]
}
