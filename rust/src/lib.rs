//! fastaxo: data-pipeline kernels for LLM fine-tuning (fast-axolotl).
//!
//! Each kernel is a safe Rust module usable from Rust directly; `ffi` holds the only
//! `unsafe` code: thin `extern "C"` wrappers that form the C ABI in `include/fastaxo.h`.

pub mod dedupe;
pub mod error;
pub mod lists;
pub mod pack;
pub mod pad;
pub mod read;
pub mod threads;
pub mod tokenize;

#[cfg(test)]
mod testutil;

pub mod ffi;

pub use error::{Error, Result};
// docs/custom-trainers.md and examples/custom_trainer.rs use these paths.
pub use pack::{segments, trlpack};

/// Every Rust allocation of the library. A reader's batches are large buffers freed soon after
/// they are handed out: glibc's malloc returns such buffers to the kernel and the next batch
/// faults its pages in again, where mimalloc reuses them (as pyarrow's own pool does).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Version of this library, the same as the Python package's.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
