//! The C ABI: the only `unsafe` code of the crate. Every export is a thin wrapper that
//! checks raw arguments, builds safe views and calls a kernel inside `guard`.
//!
//! Conventions (docs/c-abi.md): fallible calls return an `int32_t` status (`FAX_OK` = 0) and
//! give results through out-pointers or caller-allocated buffers; after a failure,
//! `fax_last_error_message` tells the calling thread why. No export lets a panic escape.

#![allow(unsafe_code, reason = "the C ABI: the one module of the crate where unsafe code lives")]
#![allow(
    clippy::missing_safety_doc,
    reason = "each export's doc comment (copied into the header) states its pointer contract; a separate Safety heading would only repeat it"
)]

mod args;
mod arrow;
#[cfg(feature = "test-panic")]
mod debug;
mod gather;
mod guard;
mod hash;
mod lists;
mod pack;
mod pad;
mod read;
mod seen;
mod seqpack;
mod template;
mod tokenize;
mod tokenizer;
mod trlpack;

pub use arrow::*;
#[cfg(feature = "test-panic")]
pub use debug::*;
pub use gather::*;
pub use guard::*;
pub use hash::*;
pub use lists::*;
pub use pack::*;
pub use pad::*;
pub use read::*;
pub use seen::*;
pub use seqpack::*;
pub use template::*;
pub use tokenize::*;
pub use tokenizer::*;
pub use trlpack::*;

use std::os::raw::c_char;

/// Bumped on every change that breaks callers compiled against an older header.
pub const FAX_ABI_VERSION: u32 = 2;

/// Success.
pub const FAX_OK: i32 = 0;
/// An argument is out of range, malformed or inconsistent with another.
pub const FAX_ERR_INVALID_ARGUMENT: i32 = 1;
/// Reading or writing a file failed.
pub const FAX_ERR_IO: i32 = 2;
/// Input data is not in the format it claims.
pub const FAX_ERR_FORMAT: i32 = 3;
/// An output buffer is too small; `fax_last_error_needed` gives the size needed.
pub const FAX_ERR_BUFFER_TOO_SMALL: i32 = 4;
/// A bug: Rust panicked inside the call. The process is intact; the message says where.
pub const FAX_ERR_PANIC: i32 = 5;
/// A path names no file (missing, or a pattern that matches nothing). Added in ABI 1 with the
/// reader; callers must treat any non-zero status they do not know as an error.
pub const FAX_ERR_NOT_FOUND: i32 = 6;

/// The ABI version of the loaded library; compare with `FAX_ABI_VERSION` from the header.
#[no_mangle]
pub extern "C" fn fax_abi_version() -> u32 {
    guard_value(0, || FAX_ABI_VERSION)
}

/// The library version, e.g. "0.3.0": a static NUL-terminated string, never freed.
#[no_mangle]
pub extern "C" fn fax_version_string() -> *const c_char {
    static VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "\0");
    guard_value(std::ptr::null(), || VERSION.as_ptr().cast())
}
