//! C exports of SHA-256 row hashing (`crate::dedupe::hash`).

use std::ffi::CString;
use std::os::raw::c_char;
use std::sync::OnceLock;

use super::lists::{lists_from_c, slice, slice_mut, FaxLists};
use super::{guard, guard_value};
use crate::dedupe::hash::{hash_rows_into, sha256_backend, write_hex};
use crate::dedupe::seen::Digest;
use crate::error::Error;

/// Hashes every row of `rows` with SHA-256 and writes the 32-byte digests, in row order, to
/// `digests`: `digests_len` bytes, which must equal `32 * rows->num_rows` (may be NULL when 0).
/// `rows` holds bytes (`values_dtype` `FAX_DTYPE_UINT8`): the UTF-8 data of string rows or
/// binary rows, in Arrow's `String`/`Binary` layout. `num_threads`: 0 = all cores, more than
/// the cores is capped; the digests do not depend on it. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn fax_hash_rows(
    rows: *const FaxLists,
    num_threads: usize,
    digests: *mut u8,
    digests_len: usize,
) -> i32 {
    guard(|| {
        if !digests_len.is_multiple_of(32) {
            return Err(Error::invalid(format!("digests_len {digests_len} is not a multiple of 32")));
        }
        // SAFETY: the caller passes valid rows and `digests_len` writable bytes.
        let rows = unsafe { lists_from_c(rows) }?;
        // SAFETY: as above, the caller's contract.
        let out = unsafe { slice_mut::<Digest>(digests.cast(), digests_len / 32, "digests") }?;
        hash_rows_into(&rows, out, num_threads)
    })
}

/// Writes the `n` 32-byte digests at `digests` as lowercase hex into `hex`: 64 characters per
/// digest, back to back when `separator` is 0 (`hex_len` = `64 * n`), else with that byte
/// between consecutive digests (`hex_len` = `65 * n - 1`, 0 when `n` is 0). No NUL is written.
/// `num_threads` as in `fax_hash_rows`. Thread-safe.
#[no_mangle]
pub unsafe extern "C" fn fax_hash_hex(
    digests: *const u8,
    n: usize,
    separator: c_char,
    hex: *mut c_char,
    hex_len: usize,
    num_threads: usize,
) -> i32 {
    guard(|| {
        let separator = (separator != 0).then_some(separator as u8);
        // SAFETY: the caller passes `32 * n` readable bytes and `hex_len` writable ones.
        let digests = unsafe { slice::<Digest>(digests.cast(), n, "digests") }?;
        // SAFETY: as above, the caller's contract.
        let hex = unsafe { slice_mut::<u8>(hex.cast(), hex_len, "hex") }?;
        write_hex(digests, separator, hex, num_threads)
    })
}

/// The SHA-256 implementation in use on this CPU: "sha-ni", "aarch64-sha2" or "soft/asm".
/// A static NUL-terminated string, never freed.
#[no_mangle]
pub extern "C" fn fax_sha256_backend() -> *const c_char {
    static NAME: OnceLock<CString> = OnceLock::new();
    guard_value(std::ptr::null(), || {
        NAME.get_or_init(|| CString::new(sha256_backend()).expect("a backend name has no NUL")).as_ptr()
    })
}
