//! C exports that read Arrow data through the Arrow C stream interface.

use arrow_array::ffi_stream::{RecordBatchStreamReader, FFI_ArrowArrayStream};
use arrow_array::RecordBatch;

use super::guard;
use super::lists::{slice, slice_mut};
use crate::error::{Error, Result};
use crate::rowhash::hash_rows;
use crate::seen::Digest;

/// Takes ownership of `stream` (also on failure) and reads all its batches; their buffers stay
/// the producer's memory (no copy) until the batches are dropped.
///
/// # Safety
/// `stream` must be NULL or a valid, unreleased `ArrowArrayStream`.
unsafe fn read_stream(stream: *mut FFI_ArrowArrayStream) -> Result<Vec<RecordBatch>> {
    if stream.is_null() {
        return Err(Error::invalid("stream is NULL"));
    }
    // SAFETY: caller's contract; from_raw moves the struct out and marks the original released.
    let reader = unsafe { RecordBatchStreamReader::from_raw(stream) }.map_err(|e| Error::Format(e.to_string()))?;
    reader.collect::<std::result::Result<_, _>>().map_err(|e| Error::Format(e.to_string()))
}

/// Digests of the rows of the record batches in `stream` (consumed and released), for exact
/// dedupe with the semantics of `str(row)` (see docs/dedupe.md): row `j` of the output is the
/// 32-byte SHA-256 of physical row `indices[j]`, or of row `j` when `indices` is NULL.
/// `digests` holds `32 * num_digests` bytes; `num_digests` must equal the number of rows
/// hashed. `num_threads` 0 = all cores.
#[no_mangle]
pub unsafe extern "C" fn fax_row_digests(
    stream: *mut FFI_ArrowArrayStream,
    indices: *const i64,
    num_indices: usize,
    num_threads: usize,
    digests: *mut u8,
    num_digests: usize,
) -> i32 {
    guard(|| {
        // SAFETY: caller's contract for every pointer.
        let batches = unsafe { read_stream(stream) }?;
        let rows = if indices.is_null() { None } else { Some(unsafe { slice::<i64>(indices.cast(), num_indices, "indices") }?) };
        let out = unsafe { slice_mut(digests.cast::<Digest>(), num_digests, "digests") }?;
        hash_rows(&batches, rows, num_threads, out)
    })
}
