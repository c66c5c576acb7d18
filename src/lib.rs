//! # safeguard
//!
//! Tower layers that keep sensitive data where it belongs in axum and hyper services.
//!
//! (Crate docs are completed as the layers land.)
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod audit;
pub mod class;
pub mod detect;
pub mod keys;
pub mod policy;
pub mod principal;
pub mod problem;
pub mod sensitive;

#[cfg(feature = "authorize")]
pub mod authz;
#[cfg(feature = "csv")]
pub mod csv;
#[cfg(feature = "errors")]
pub mod errors;
#[cfg(feature = "csv")]
pub mod export;
#[cfg(feature = "redact")]
pub mod json;
#[cfg(feature = "log")]
pub mod log;
#[cfg(feature = "redact")]
pub mod response;
#[cfg(all(
    feature = "authorize",
    feature = "redact",
    feature = "errors",
    feature = "csv",
    feature = "log"
))]
pub mod stack;

pub use class::{Clearance, DataClass};
pub use principal::Principal;
#[cfg(all(
    feature = "authorize",
    feature = "redact",
    feature = "errors",
    feature = "csv",
    feature = "log"
))]
pub use stack::SafeguardLayer;
