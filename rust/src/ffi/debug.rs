//! Built only with the `test-panic` feature: lets the tests raise a real panic inside an
//! export and check that the guard turns it into `FAX_ERR_PANIC`.

use std::ffi::CStr;
use std::os::raw::c_char;

use super::guard;

/// Panics with `message`; in a rayon worker thread when `in_worker` is non-zero.
#[no_mangle]
pub unsafe extern "C" fn fax_debug_panic(message: *const c_char, in_worker: i32) -> i32 {
    guard(|| {
        let text = if message.is_null() {
            String::from("(null)")
        } else {
            // SAFETY: the caller passes a NUL-terminated string.
            unsafe { CStr::from_ptr(message) }.to_string_lossy().into_owned()
        };
        if in_worker != 0 {
            // From outside the pool, the job runs on one of the kernels' worker threads.
            crate::threads::run_with_threads(0, || rayon::join(|| panic!("{text}"), || ()));
        }
        panic!("{text}");
    })
}
