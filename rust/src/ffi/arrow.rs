//! C exports that read Arrow data through the Arrow C stream interface.

use std::ffi::CStr;
use std::sync::Arc;

use arrow_array::ffi::{from_ffi_and_data_type, FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{Array, ArrayRef, RecordBatch, RecordBatchOptions, StructArray};
use arrow_schema::{ArrowError, DataType, Schema, SchemaRef};

use super::guard;
use super::lists::{slice, slice_mut};
use crate::dedupe::rowhash::hash_rows;
use crate::dedupe::seen::Digest;
use crate::error::{Error, Result};

/// Takes ownership of `stream` (also on failure) and imports all its batches; their buffers
/// stay the producer's memory (no copy) until the batches are dropped. Every batch is
/// validated in full before use: the C Data Interface promises buffer sizes, not contents,
/// and the kernels index by the offsets and dictionary keys they find there. Arrow's own
/// stream reader skips that validation, hence this loop instead of `RecordBatchStreamReader`.
///
/// # Safety
/// `stream` must be NULL or a valid `ArrowArrayStream`.
pub(crate) unsafe fn read_stream(stream: *mut FFI_ArrowArrayStream) -> Result<Vec<RecordBatch>> {
    if stream.is_null() {
        return Err(Error::invalid("stream is NULL"));
    }
    // SAFETY: caller's contract; from_raw moves the struct out (dropping it releases it) and
    // marks the original released.
    let mut stream = unsafe { FFI_ArrowArrayStream::from_raw(stream) };
    if stream.release().is_none() {
        return Err(Error::invalid("stream is already released"));
    }
    let schema = stream_schema(&mut stream)?;
    let mut batches = Vec::new();
    while let Some(array) = next_array(&mut stream)? {
        let batch = import_batch(array, &schema);
        batches.push(batch.map_err(|e| Error::Format(format!("stream batch {}{e}", batches.len())))?);
    }
    Ok(batches)
}

fn stream_schema(stream: &mut FFI_ArrowArrayStream) -> Result<SchemaRef> {
    let get_schema = stream.get_schema().ok_or_else(|| Error::invalid("stream has no get_schema callback"))?;
    let mut schema = FFI_ArrowSchema::empty();
    // SAFETY: the producer's callback, called on its own unreleased stream.
    let status = unsafe { get_schema(stream, &mut schema) };
    producer_status(stream, status, "get_schema")?;
    let schema = Schema::try_from(&schema).map_err(|e| Error::Format(format!("stream schema: {e}")))?;
    Ok(Arc::new(schema))
}

/// The next batch as the producer wrote it, or None at the end of the stream.
fn next_array(stream: &mut FFI_ArrowArrayStream) -> Result<Option<FFI_ArrowArray>> {
    let get_next = stream.get_next().ok_or_else(|| Error::invalid("stream has no get_next callback"))?;
    let mut array = FFI_ArrowArray::empty();
    // SAFETY: the producer's callback, called on its own unreleased stream.
    let status = unsafe { get_next(stream, &mut array) };
    producer_status(stream, status, "get_next")?;
    Ok((!array.is_released()).then_some(array))
}

/// One batch (a struct array of the schema's fields), validated before any typed array is
/// built on it: building can panic on bad data too, not only the kernels. The error message
/// continues "stream batch N" with the column at fault.
fn import_batch(array: FFI_ArrowArray, schema: &SchemaRef) -> std::result::Result<RecordBatch, String> {
    // SAFETY: the producer's contract covers the buffer pointers and their sizes; what the
    // buffers hold is checked below.
    let data = unsafe { from_ffi_and_data_type(array, DataType::Struct(schema.fields().clone())) };
    let data = data.map_err(|e| format!(": {}", arrow_message(e)))?;
    data.validate_data().map_err(|e| format!(": {}", arrow_message(e)))?;
    for (field, column) in schema.fields().iter().zip(data.child_data()) {
        column.validate_full().map_err(|e| format!(", column {:?}: {}", field.name(), arrow_message(e)))?;
    }
    let rows = data.len();
    let columns = StructArray::from(data).into_parts().1;
    let options = RecordBatchOptions::new().with_row_count(Some(rows));
    RecordBatch::try_new_with_options(schema.clone(), columns, &options).map_err(|e| format!(": {}", arrow_message(e)))
}

/// Arrow's message without the "Invalid argument error: " its Display puts first.
fn arrow_message(error: ArrowError) -> String {
    match error {
        ArrowError::InvalidArgumentError(message) => message,
        other => other.to_string(),
    }
}

/// Ok for status 0, else a format error with the producer's own message when it has one.
fn producer_status(stream: &mut FFI_ArrowArrayStream, status: i32, call: &str) -> Result<()> {
    if status == 0 {
        return Ok(());
    }
    // SAFETY: the C stream interface allows get_last_error right after a failed call; the
    // string is the producer's, valid until the next call, so it is copied at once.
    let detail = stream.get_last_error().map(|last_error| unsafe { last_error(stream) });
    // SAFETY: as above, the caller's contract.
    let detail = detail.filter(|p| !p.is_null()).map(|p| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned());
    let detail = detail.map(|d| format!(": {d}")).unwrap_or_default();
    Err(Error::Format(format!("the stream's {call} failed with code {status}{detail}")))
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
        let rows = if indices.is_null() {
            None
        } else {
            // SAFETY: as above, the caller's contract.
            Some(unsafe { slice::<i64>(indices.cast(), num_indices, "indices") }?)
        };
        // SAFETY: as above, the caller's contract.
        let out = unsafe { slice_mut(digests.cast::<Digest>(), num_digests, "digests") }?;
        hash_rows(&batches, rows, num_threads, out)
    })
}

/// Writes `array` through the C Data Interface; whatever the out-structs held is
/// overwritten, not released, as the interface specifies for outputs.
pub(super) unsafe fn export(
    array: &ArrayRef,
    out_array: *mut FFI_ArrowArray,
    out_schema: *mut FFI_ArrowSchema,
) -> Result<()> {
    let data = array.to_data();
    let schema =
        FFI_ArrowSchema::try_from(data.data_type()).map_err(|e| Error::invalid(format!("output schema: {e}")))?;
    // SAFETY: the caller checked both are non-NULL and writable.
    unsafe {
        std::ptr::write(out_array, FFI_ArrowArray::new(&data));
        std::ptr::write(out_schema, schema);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{Array, ArrayRef, Int32Array, RecordBatchIterator};
    use arrow_buffer::Buffer;
    use arrow_data::ArrayData;
    use arrow_schema::Field;

    /// Exports `column` as a one-batch C stream and imports it as fax_row_digests does.
    fn round_trip(column: ArrayRef) -> Result<Vec<RecordBatch>> {
        let schema = Arc::new(Schema::new(vec![Field::new("c", column.data_type().clone(), true)]));
        let batch = RecordBatch::try_new(schema.clone(), vec![column]).unwrap();
        let reader = RecordBatchIterator::new([Ok(batch)], schema);
        let mut stream = FFI_ArrowArrayStream::new(Box::new(reader));
        // SAFETY: the caller's contract (the export's doc comment).
        unsafe { read_stream(&mut stream) }
    }

    /// Offsets [0, 3, 1, 4] over 4 values: buffers of the right sizes, decreasing offsets.
    fn bad_offsets(data_type: DataType, child: Option<ArrayData>) -> ArrayRef {
        let builder = ArrayData::builder(data_type).len(3).add_buffer(Buffer::from_slice_ref([0i32, 3, 1, 4]));
        let builder = match child {
            Some(c) => builder.add_child_data(c),
            None => builder.add_buffer(Buffer::from_slice_ref(b"abcd")),
        };
        // SAFETY: deliberately invalid, as a foreign producer may hand over; only validated, never read.
        arrow_array::make_array(unsafe { builder.build_unchecked() })
    }

    #[test]
    fn invalid_offsets_are_a_format_error() {
        let values = Int32Array::from(vec![1, 2, 3, 4]).into_data();
        let list = DataType::List(Arc::new(Field::new("item", DataType::Int32, true)));
        for column in [bad_offsets(DataType::Utf8, None), bad_offsets(list, Some(values))] {
            let err = round_trip(column).unwrap_err();
            assert!(
                matches!(&err, Error::Format(m) if m.starts_with("stream batch 0, column \"c\": ") && m.contains("offset")),
                "{err:?}"
            );
        }
    }

    #[test]
    fn valid_data_is_imported() {
        let batches = round_trip(Arc::new(Int32Array::from(vec![1, 2]))).unwrap();
        assert_eq!(batches.len(), 1);
        assert_eq!(batches[0].column(0).len(), 2);
    }
}
