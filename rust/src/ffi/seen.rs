//! C exports of the seen-digest set (`crate::dedupe::seen`), an opaque handle.

use super::guard;
use super::lists::{slice, slice_mut};
use crate::dedupe::seen::{Digest, SeenSet};
use crate::error::Error;

/// The digests of rows already kept by exact dedupe. Create with `fax_seen_new`, free with
/// `fax_seen_free`. Not thread-safe: one thread at a time may use a handle.
pub struct FaxSeen(SeenSet);

/// Creates an empty set in `*out`.
#[no_mangle]
pub unsafe extern "C" fn fax_seen_new(out: *mut *mut FaxSeen) -> i32 {
    guard(|| {
        // SAFETY: caller passes NULL or a writable pointer.
        let out = unsafe { out.as_mut() }.ok_or_else(|| Error::invalid("out is NULL"))?;
        *out = Box::into_raw(Box::new(FaxSeen(SeenSet::new())));
        Ok(())
    })
}

/// Frees a set from `fax_seen_new`; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn fax_seen_free(seen: *mut FaxSeen) {
    super::guard_value((), || {
        if !seen.is_null() {
            // SAFETY: `seen` came from fax_seen_new and is freed once (caller's contract).
            drop(unsafe { Box::from_raw(seen) });
        }
    })
}

/// The number of digests in the set, in `*len`.
#[no_mangle]
pub unsafe extern "C" fn fax_seen_len(seen: *const FaxSeen, len: *mut usize) -> i32 {
    guard(|| {
        // SAFETY: caller's contract.
        let (seen, len) = unsafe { (seen.as_ref(), len.as_mut()) };
        let (Some(seen), Some(len)) = (seen, len) else {
            return Err(Error::invalid("seen and len must not be NULL"));
        };
        *len = seen.0.len();
        Ok(())
    })
}

/// Adds `n` 32-byte digests (`digests`, `32 * n` bytes) in order and writes to `kept` (room
/// for `n`) the positions of the new ones (first occurrences not already in the set);
/// `*num_kept` is how many.
#[no_mangle]
pub unsafe extern "C" fn fax_seen_insert(
    seen: *mut FaxSeen,
    digests: *const u8,
    n: usize,
    kept: *mut i64,
    num_kept: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: caller's contract: a live handle, 32 * n digest bytes, n writable slots.
        let seen = unsafe { seen.as_mut() }.ok_or_else(|| Error::invalid("seen is NULL"))?;
        // SAFETY: as above, the caller's contract.
        let digests = unsafe { slice::<Digest>(digests.cast(), n, "digests") }?;
        // SAFETY: as above, the caller's contract.
        let kept = unsafe { slice_mut(kept, n, "kept") }?;
        // SAFETY: as above, the caller's contract.
        let num_kept = unsafe { num_kept.as_mut() }.ok_or_else(|| Error::invalid("num_kept is NULL"))?;
        let new = seen.0.insert_new(digests);
        for (slot, &i) in kept.iter_mut().zip(&new) {
            *slot = i as i64;
        }
        *num_kept = new.len();
        Ok(())
    })
}
