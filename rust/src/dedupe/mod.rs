//! Exact dedupe: the safe core of hashing rows and remembering which digests were seen.
//!
//! - [`hash`]: SHA-256 of string/binary rows and their hex form;
//! - [`rowhash`]: canonical row digests straight from Arrow record batches, with the
//!   semantics of Axolotl's `str(row)` comparison;
//! - [`seen`]: the set of digests already seen, across batches.

pub mod hash;
pub mod rowhash;
pub mod seen;

pub use seen::{Digest, SeenSet};
