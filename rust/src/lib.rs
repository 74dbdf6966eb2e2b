//! fastaxo: data-pipeline kernels for LLM fine-tuning (fast-axolotl).
//!
//! Each kernel is a safe Rust module usable from Rust directly; `ffi` holds the only
//! `unsafe` code: thin `extern "C"` wrappers that form the C ABI in `include/fastaxo.h`.

pub mod error;
pub mod gather;
pub mod hash;
pub mod lists;
pub mod pack;
pub mod pad;
pub mod read;
pub mod rowhash;
pub mod seen;
pub mod segments;
pub mod seqpack;
pub mod threads;
pub mod tokenize;
pub mod trlpack;

#[cfg(test)]
mod testutil;

pub mod ffi;

pub use error::{Error, Result};

/// Version of this library, the same as the Python package's.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
