//! The one guard around every export, and the thread-local last error.

use std::cell::RefCell;
use std::os::raw::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, Once};

use super::{
    FAX_ERR_BUFFER_TOO_SMALL, FAX_ERR_FORMAT, FAX_ERR_INVALID_ARGUMENT, FAX_ERR_IO, FAX_ERR_NOT_FOUND, FAX_ERR_PANIC,
    FAX_OK,
};
use crate::error::{Error, Result};

/// Why the calling thread's last failed call failed.
#[derive(Default)]
struct LastError {
    message: String,
    status: i32,
    /// For `FAX_ERR_BUFFER_TOO_SMALL`: the size the output needed; 0 otherwise.
    needed: usize,
}

thread_local! {
    static LAST_ERROR: RefCell<LastError> = RefCell::new(LastError::default());
    /// Where the last panic on this thread happened, from the panic hook.
    static PANIC_AT: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Where the last panic of any thread happened: a panic in a rayon worker is resumed on the
/// calling thread, whose own record is empty.
static LAST_PANIC_AT: Mutex<Option<String>> = Mutex::new(None);

fn set_last_error(status: i32, message: String, needed: usize) {
    LAST_ERROR.with(|e| *e.borrow_mut() = LastError { message, status, needed });
}

/// Makes `err` the calling thread's last error.
pub(crate) fn record_error(err: &Error) {
    let needed = match err {
        Error::BufferTooSmall { needed, .. } => *needed,
        _ => 0,
    };
    set_last_error(status_of(err), err.to_string(), needed);
}

/// Makes a caught panic the calling thread's last error; returns its message.
pub(crate) fn record_panic(payload: &(dyn std::any::Any + Send)) -> String {
    let message = panic_message(payload);
    set_last_error(FAX_ERR_PANIC, message.clone(), 0);
    message
}

/// The default hook prints panics to stderr; a library loaded into a training process must
/// not, since the guard reports them as `FAX_ERR_PANIC` with the message instead. The hook
/// keeps where the panic happened for that message.
pub(crate) fn silence_panics() {
    static QUIET: Once = Once::new();
    QUIET.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let at = info.location().map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
            PANIC_AT.with(|p| *p.borrow_mut() = at.clone());
            *LAST_PANIC_AT.lock().unwrap_or_else(|e| e.into_inner()) = at;
        }))
    });
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    let here = PANIC_AT.with(|p| p.borrow_mut().take());
    let at = here.or_else(|| LAST_PANIC_AT.lock().unwrap_or_else(|e| e.into_inner()).take());
    let at = at.map_or(String::new(), |at| format!(" (at {at})"));
    format!("Rust panic inside fastaxo (a bug, please report it): {text}{at}")
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
            record_error(&err);
            status_of(&err)
        }
        Err(payload) => {
            record_panic(payload.as_ref());
            FAX_ERR_PANIC
        }
    }
}

/// The guard for the few exports that return a value instead of a status.
pub(crate) fn guard_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    silence_panics();
    catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| {
        record_panic(payload.as_ref());
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
            let msg = &e.borrow().message;
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

/// The status of the calling thread's last failure (`FAX_OK` before any): the status the
/// failed call returned, or, after a reader's stream failed in `get_next` on this thread,
/// the status that failure stands for (`FAX_ERR_IO`, `FAX_ERR_FORMAT`, `FAX_ERR_PANIC`, ...),
/// which the stream's errno cannot tell apart.
#[no_mangle]
pub extern "C" fn fax_last_error_status() -> i32 {
    guard_value(FAX_ERR_PANIC, || LAST_ERROR.with(|e| e.borrow().status))
}

/// After `FAX_ERR_BUFFER_TOO_SMALL`: the size the output needed (in the unit of the call's
/// capacity argument: elements, or bytes for text); 0 after any other failure.
#[no_mangle]
pub extern "C" fn fax_last_error_needed() -> usize {
    guard_value(0, || LAST_ERROR.with(|e| e.borrow().needed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_error() -> String {
        // SAFETY: the caller's contract (the export's doc comment).
        let n = unsafe { fax_last_error_message(std::ptr::null_mut(), 0) };
        let mut buf = vec![0 as c_char; n + 1];
        // SAFETY: the caller's contract (the export's doc comment).
        assert_eq!(unsafe { fax_last_error_message(buf.as_mut_ptr(), buf.len()) }, n);
        let bytes: Vec<u8> = buf[..n].iter().map(|&c| c as u8).collect();
        assert_eq!(buf[n], 0);
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn panics_become_a_status() {
        assert_eq!(guard(|| panic!("boom {}", 42)), FAX_ERR_PANIC);
        let message = last_error();
        assert!(message.contains("boom 42 (at "), "{message}");
        assert!(message.contains(&format!("{}:", file!())), "{message}");
        assert_eq!(fax_last_error_status(), FAX_ERR_PANIC);
        let in_pool = || -> Result<()> {
            use rayon::prelude::*;
            (0..4).into_par_iter().for_each(|i| assert!(i < 3, "worker saw {i}"));
            Ok(())
        };
        assert_eq!(guard(in_pool), FAX_ERR_PANIC);
        let message = last_error();
        assert!(message.contains("worker saw 3 (at ") && message.contains(file!()), "{message}");
    }

    #[test]
    fn errors_map_to_statuses_and_truncate() {
        assert_eq!(guard(|| Err(Error::invalid("bad width"))), FAX_ERR_INVALID_ARGUMENT);
        assert_eq!(last_error(), "bad width");
        let mut small = [1 as c_char; 4];
        // SAFETY: the caller's contract (the export's doc comment).
        assert_eq!(unsafe { fax_last_error_message(small.as_mut_ptr(), 4) }, 9);
        assert_eq!(small.map(|c| c as u8), *b"bad\0");
        assert_eq!((fax_last_error_status(), fax_last_error_needed()), (FAX_ERR_INVALID_ARGUMENT, 0));
        let too_small = || Err(Error::BufferTooSmall { needed: 77, message: "needs 77".into() });
        assert_eq!(guard(too_small), FAX_ERR_BUFFER_TOO_SMALL);
        assert_eq!((fax_last_error_status(), fax_last_error_needed()), (FAX_ERR_BUFFER_TOO_SMALL, 77));
        assert_eq!(guard(|| Ok(())), FAX_OK);
    }
}
