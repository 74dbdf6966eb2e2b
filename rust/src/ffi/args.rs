//! Raw arguments as safe values: UTF-8 text given as pointer and length, and options objects
//! given as JSON (so that an option can be added without changing a signature).

use std::os::raw::c_char;

use super::lists::slice;
use crate::error::{Error, Result};

/// `len` bytes at `text` as UTF-8, naming the argument `what` when they are not.
///
/// # Safety
/// `text` must be NULL with `len == 0`, or point to `len` readable bytes for the call.
pub(super) unsafe fn utf8_arg<'a>(text: *const c_char, len: usize, what: &str) -> Result<&'a str> {
    // SAFETY: the caller promises `len` readable bytes at `text` for the call.
    let bytes = unsafe { slice::<u8>(text.cast(), len, what) }?;
    std::str::from_utf8(bytes).map_err(|e| Error::invalid(format!("{what} is not UTF-8: {e}")))
}

/// An optional JSON options object (NULL or blank = the defaults); an unknown key or a
/// value of the wrong type is `InvalidArgument` naming `what`.
///
/// # Safety
/// As `utf8_arg`.
pub(super) unsafe fn json_options<T: serde::de::DeserializeOwned + Default>(
    json: *const c_char,
    len: usize,
    what: &str,
) -> Result<T> {
    if json.is_null() {
        return Ok(T::default());
    }
    // SAFETY: the caller's contract, as for utf8_arg.
    let text = unsafe { utf8_arg(json, len, "options_json") }?;
    if text.trim().is_empty() {
        return Ok(T::default());
    }
    serde_json::from_str(text).map_err(|e| Error::invalid(format!("{what} options: {e}")))
}
