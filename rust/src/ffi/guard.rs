//! The one guard around every export, and the thread-local last error.

use std::cell::RefCell;
use std::os::raw::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Once;

use super::{FAX_ERR_BUFFER_TOO_SMALL, FAX_ERR_FORMAT, FAX_ERR_INVALID_ARGUMENT, FAX_ERR_IO, FAX_ERR_NOT_FOUND, FAX_ERR_PANIC, FAX_OK};
use crate::error::{Error, Result};

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

fn set_last_error(message: String) {
    LAST_ERROR.with(|e| *e.borrow_mut() = message);
}

/// The default hook prints panics to stderr; a library loaded into a training process must
/// not, since the guard reports them as `FAX_ERR_PANIC` with the message instead.
pub(crate) fn silence_panics() {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| std::panic::set_hook(Box::new(|_| {})));
}

pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    format!("Rust panic inside fastaxo (a bug, please report it): {text}")
}

pub(crate) fn status_of(err: &Error) -> i32 {
    match err {
        Error::InvalidArgument(_) => FAX_ERR_INVALID_ARGUMENT,
        Error::Io(_) => FAX_ERR_IO,
        Error::NotFound(_) => FAX_ERR_NOT_FOUND,
        Error::Format(_) => FAX_ERR_FORMAT,
        Error::BufferTooSmall { .. } => FAX_ERR_BUFFER_TOO_SMALL,
    }
}

/// Runs an export's body: `Ok` -> `FAX_OK`; an error or a panic -> its status, with the
/// message kept for `fax_last_error_message`. Panics in rayon workers reach here too, since
/// rayon resumes them on the calling thread.
pub(crate) fn guard(body: impl FnOnce() -> Result<()>) -> i32 {
    silence_panics();
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => FAX_OK,
        Ok(Err(err)) => {
            let status = status_of(&err);
            set_last_error(err.to_string());
            status
        }
        Err(payload) => {
            set_last_error(panic_message(payload.as_ref()));
            FAX_ERR_PANIC
        }
    }
}

/// The guard for the few exports that return a value instead of a status.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    silence_panics();
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| {
        set_last_error(panic_message(payload.as_ref()));
        fallback
    })
}

/// Copies the calling thread's last error message into `buf` and returns its full length in
/// bytes (without the NUL), so a caller can retry with a larger buffer. When `cap > 0`, writes
/// at most `cap - 1` bytes and a NUL. `buf == NULL` with `cap == 0` asks for the length only.
/// Only meaningful right after a call on the same thread returned a non-zero status.
#[no_mangle]
pub unsafe extern "C" fn fax_last_error_message(buf: *mut c_char, cap: usize) -> usize {
    guard_value(0, || {
        LAST_ERROR.with(|e| {
            let msg = e.borrow();
            if !buf.is_null() && cap > 0 {
                let n = msg.len().min(cap - 1);
                // SAFETY: the caller promises `buf` holds `cap` bytes; we write n + 1 <= cap.
                unsafe {
                    std::ptr::copy_nonoverlapping(msg.as_ptr(), buf.cast::<u8>(), n);
                    *buf.add(n) = 0;
                }
            }
            msg.len()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_error() -> String {
        let n = unsafe { fax_last_error_message(std::ptr::null_mut(), 0) };
        let mut buf = vec![0 as c_char; n + 1];
        assert_eq!(unsafe { fax_last_error_message(buf.as_mut_ptr(), buf.len()) }, n);
        let bytes: Vec<u8> = buf[..n].iter().map(|&c| c as u8).collect();
        assert_eq!(buf[n], 0);
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn panics_become_a_status() {
        assert_eq!(guard(|| panic!("boom {}", 42)), FAX_ERR_PANIC);
        assert!(last_error().ends_with("boom 42"));
        let in_pool = || -> Result<()> {
            use rayon::prelude::*;
            (0..4).into_par_iter().for_each(|i| assert!(i < 3, "worker saw {i}"));
            Ok(())
        };
        assert_eq!(guard(in_pool), FAX_ERR_PANIC);
        assert!(last_error().ends_with("worker saw 3"));
    }

    #[test]
    fn errors_map_to_statuses_and_truncate() {
        assert_eq!(guard(|| Err(Error::invalid("bad width"))), FAX_ERR_INVALID_ARGUMENT);
        assert_eq!(last_error(), "bad width");
        let mut small = [1 as c_char; 4];
        assert_eq!(unsafe { fax_last_error_message(small.as_mut_ptr(), 4) }, 9);
        assert_eq!(small.map(|c| c as u8), *b"bad\0");
        assert_eq!(guard(|| Ok(())), FAX_OK);
    }
}
