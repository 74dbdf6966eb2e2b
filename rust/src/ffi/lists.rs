//! `FaxLists`: how token lists (Arrow's values + offsets layout) cross the C boundary.

use std::ffi::c_void;

use crate::error::{Error, Result};
use crate::lists::{Lists, Offsets, Values};

pub const FAX_DTYPE_INT8: u32 = 1;
pub const FAX_DTYPE_INT16: u32 = 2;
pub const FAX_DTYPE_INT32: u32 = 3;
pub const FAX_DTYPE_INT64: u32 = 4;
/// Bytes: uint8 tokens, or the UTF-8/binary data of string rows.
pub const FAX_DTYPE_UINT8: u32 = 5;

/// Borrowed token lists: row `i` is `values[offsets[i] .. offsets[i + 1]]`, as in an Arrow
/// `List`/`LargeList` array (a sliced array may start at `offsets[0] > 0`). Both buffers are
/// read only, and only during the call.
#[repr(C)]
pub struct FaxLists {
    /// `values_len` elements of type `values_dtype`; may be NULL when `values_len` is 0.
    pub values: *const c_void,
    pub values_len: usize,
    /// `FAX_DTYPE_UINT8`, `FAX_DTYPE_INT8`, `FAX_DTYPE_INT16`, `FAX_DTYPE_INT32` or `FAX_DTYPE_INT64`.
    pub values_dtype: u32,
    /// `num_rows + 1` elements of type `offsets_dtype`.
    pub offsets: *const c_void,
    pub num_rows: usize,
    /// `FAX_DTYPE_INT32` (Arrow `List`) or `FAX_DTYPE_INT64` (Arrow `LargeList`).
    pub offsets_dtype: u32,
}

/// Checks what C cannot promise about a buffer of `len` elements of `T`: not NULL unless
/// empty, aligned, and small enough to be one Rust slice. Returns false for an empty buffer.
fn check_buffer<T>(addr: usize, len: usize, what: &str) -> Result<bool> {
    if len == 0 {
        return Ok(false);
    }
    if addr == 0 {
        return Err(Error::invalid(format!("{what} is NULL but its length is {len}")));
    }
    if !addr.is_multiple_of(std::mem::align_of::<T>()) {
        return Err(Error::invalid(format!("{what} is not aligned to {} bytes", std::mem::align_of::<T>())));
    }
    if len.checked_mul(std::mem::size_of::<T>()).is_none_or(|b| b > isize::MAX as usize) {
        return Err(Error::invalid(format!("{what} length {len} is too large")));
    }
    Ok(true)
}

/// Borrows `len` elements at `ptr`.
///
/// # Safety
/// `ptr` must point to `len` readable elements that outlive `'a` (the caller's contract).
pub(crate) unsafe fn slice<'a, T>(ptr: *const c_void, len: usize, what: &str) -> Result<&'a [T]> {
    if !check_buffer::<T>(ptr as usize, len, what)? {
        return Ok(&[]);
    }
    // SAFETY: checked above; validity and lifetime are the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(ptr.cast::<T>(), len) })
}

/// Borrows `len` writable elements at `ptr`.
///
/// # Safety
/// `ptr` must point to `len` writable elements, not aliased during `'a`.
pub(crate) unsafe fn slice_mut<'a, T>(ptr: *mut T, len: usize, what: &str) -> Result<&'a mut [T]> {
    if !check_buffer::<T>(ptr as usize, len, what)? {
        return Ok(&mut []);
    }
    // SAFETY: checked above; validity and exclusivity are the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
}

/// Builds validated `Lists` from a `FaxLists` passed by C.
///
/// # Safety
/// `raw` must be NULL or point to a `FaxLists` whose buffers are valid for the call.
pub(crate) unsafe fn lists_from_c<'a>(raw: *const FaxLists) -> Result<Lists<'a>> {
    // SAFETY: caller's contract; NULL is checked.
    let raw = unsafe { raw.as_ref() }.ok_or_else(|| Error::invalid("lists is NULL"))?;
    let n = raw.values_len;
    // SAFETY: the caller's contract (the export's doc comment).
    let values = unsafe {
        match raw.values_dtype {
            FAX_DTYPE_UINT8 => Values::U8(slice(raw.values, n, "values")?),
            FAX_DTYPE_INT8 => Values::I8(slice(raw.values, n, "values")?),
            FAX_DTYPE_INT16 => Values::I16(slice(raw.values, n, "values")?),
            FAX_DTYPE_INT32 => Values::I32(slice(raw.values, n, "values")?),
            FAX_DTYPE_INT64 => Values::I64(slice(raw.values, n, "values")?),
            other => return Err(Error::invalid(format!("unknown values_dtype {other}"))),
        }
    };
    let m = raw.num_rows.checked_add(1).ok_or_else(|| Error::invalid("num_rows is too large"))?;
    // SAFETY: the caller's contract (the export's doc comment).
    let offsets = unsafe {
        match raw.offsets_dtype {
            FAX_DTYPE_INT32 => Offsets::I32(slice(raw.offsets, m, "offsets")?),
            FAX_DTYPE_INT64 => Offsets::I64(slice(raw.offsets, m, "offsets")?),
            other => {
                return Err(Error::invalid(format!(
                    "offsets_dtype must be FAX_DTYPE_INT32 or FAX_DTYPE_INT64, got {other}"
                )))
            }
        }
    };
    Lists::new(values, offsets)
}
