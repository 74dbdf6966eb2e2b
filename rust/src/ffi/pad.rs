//! C exports of the padding kernel (`crate::pad`).

use super::guard;
use super::lists::{lists_from_c, FaxLists};
use crate::error::Error;
use crate::pad::{pad_into, padded_width, Side};

pub const FAX_PAD_RIGHT: u32 = 0;
pub const FAX_PAD_LEFT: u32 = 1;

/// Plans a padded batch: writes to `*width` the row width `fax_pad_sequences` needs, the
/// longest row or `target_length` (whichever is larger) rounded up to a multiple of
/// `pad_to_multiple_of` (1 = no rounding; 0 is an error). Validates `lists` on the way.
#[no_mangle]
pub unsafe extern "C" fn fax_pad_width(
    lists: *const FaxLists,
    target_length: usize,
    pad_to_multiple_of: usize,
    width: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: the caller passes valid lists and a writable `width`.
        let lists = unsafe { lists_from_c(lists) }?;
        // SAFETY: as above, the caller's contract.
        let out = unsafe { width.as_mut() }.ok_or_else(|| Error::invalid("width is NULL"))?;
        *out = padded_width(lists.max_len(), Some(target_length), Some(pad_to_multiple_of))?;
        Ok(())
    })
}

/// Pads every row of `lists` to `width` tokens with `pad_value` on `side` (`FAX_PAD_RIGHT` or
/// `FAX_PAD_LEFT`), writing the row-major int64 matrix `[lists->num_rows, width]` into `out`,
/// which holds `out_len` elements (must equal `num_rows * width`; may be NULL when 0).
/// A row longer than `width` -> `FAX_ERR_BUFFER_TOO_SMALL` (rows are never truncated).
/// Thread-safe: concurrent calls share nothing but the read-only inputs.
#[no_mangle]
pub unsafe extern "C" fn fax_pad_sequences(
    lists: *const FaxLists,
    width: usize,
    pad_value: i64,
    side: u32,
    out: *mut i64,
    out_len: usize,
) -> i32 {
    guard(|| {
        let side = match side {
            FAX_PAD_RIGHT => Side::Right,
            FAX_PAD_LEFT => Side::Left,
            other => return Err(Error::invalid(format!("side must be FAX_PAD_RIGHT or FAX_PAD_LEFT, got {other}"))),
        };
        // SAFETY: the caller passes valid lists and an `out` of `out_len` writable elements.
        let lists = unsafe { lists_from_c(lists) }?;
        // SAFETY: as above, the caller's contract.
        let out = unsafe { super::lists::slice_mut::<i64>(out, out_len, "out") }?;
        pad_into(&lists, pad_value, side, out, width)
    })
}
