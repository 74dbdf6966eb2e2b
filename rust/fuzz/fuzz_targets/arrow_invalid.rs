//! `fax_row_digests` on Arrow data that is memory-valid (every buffer as long as the C data
//! interface says) but breaks Arrow's other rules: dictionary keys out of range, list or
//! string offsets that decrease. Such data arrives from any producer that skips validation
//! (pyarrow's `from_buffers`, `DictionaryArray.from_arrays(safe=False)`). The library must
//! answer with an error status (or OK when the data happens to be valid), never a panic.
#![no_main]

use std::sync::Arc;

use arbitrary::Arbitrary;
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::types::Int8Type;
use arrow_array::*;
use arrow_buffer::Buffer;
use arrow_data::ArrayData;
use arrow_schema::{DataType, Field, Schema};
use fastaxo::ffi::*;
use fastaxo_fuzz::{expect_status, last_error};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Bad {
    DictKeys { keys: Vec<i8>, dict_len: u8 },
    ListOffsets { offsets: Vec<u8>, child_len: u8 },
    StrOffsets { offsets: Vec<u8>, data_len: u8 },
}

/// Offsets clamped into `0..=limit` (memory stays valid); at least one.
fn clamp(offsets: &[u8], limit: u8) -> Vec<i32> {
    let mut o: Vec<i32> = offsets.iter().map(|&x| x.min(limit) as i32).collect();
    if o.is_empty() {
        o.push(0);
    }
    o
}

fn monotonic(o: &[i32]) -> bool {
    o.windows(2).all(|w| w[0] <= w[1])
}

/// The column and whether it is valid Arrow data.
fn column(bad: &Bad) -> (ArrayRef, bool) {
    match bad {
        Bad::DictKeys { keys, dict_len } => {
            let values: ArrayRef = Arc::new(StringArray::from_iter_values((0..*dict_len).map(|i| i.to_string())));
            let valid = keys.iter().all(|&k| k >= 0 && (k as u8) < *dict_len);
            // SAFETY (of this program): keys out of range break Arrow's rule, not memory.
            let dict = unsafe { DictionaryArray::<Int8Type>::new_unchecked(Int8Array::from(keys.clone()), values) };
            (Arc::new(dict), valid)
        }
        Bad::ListOffsets { offsets, child_len } => {
            let o = clamp(offsets, *child_len);
            let child = Int32Array::from_iter_values(0..*child_len as i32).into_data();
            let field = Arc::new(Field::new("item", DataType::Int32, true));
            let builder = ArrayData::builder(DataType::List(field))
                .len(o.len() - 1)
                .add_buffer(Buffer::from_vec(o.clone()))
                .add_child_data(child);
            // SAFETY (of this program): offsets within the child; only their order may be wrong.
            (make_array(unsafe { builder.build_unchecked() }), monotonic(&o))
        }
        Bad::StrOffsets { offsets, data_len } => {
            let mut o = clamp(offsets, *data_len);
            let last = o.len() - 1;
            o[last] = *data_len as i32; // the importer sizes the data buffer from the last offset
            let data = Buffer::from_vec(vec![b'a'; *data_len as usize]);
            let builder = ArrayData::builder(DataType::Utf8)
                .len(o.len() - 1)
                .add_buffer(Buffer::from_vec(o.clone()))
                .add_buffer(data);
            // An empty array's data is sized 0 on import whatever its one offset says, so
            // only offset 0 is valid there.
            let valid = monotonic(&o) && (o.len() > 1 || o[0] == 0);
            (make_array(unsafe { builder.build_unchecked() }), valid)
        }
    }
}

fuzz_target!(|bad: Bad| {
    let (array, valid) = column(&bad);
    let n = array.len();
    let schema = Arc::new(Schema::new(vec![Field::new("c", array.data_type().clone(), true)]));
    // SAFETY (of this program): one column of the batch's length.
    let batch = unsafe { RecordBatch::new_unchecked(schema.clone(), vec![array], n) };
    let reader = RecordBatchIterator::new(vec![Ok(batch)], schema);
    let mut stream = FFI_ArrowArrayStream::new(Box::new(reader));
    let mut out = vec![[0u8; 32]; n];
    let status = unsafe { fax_row_digests(&mut stream, std::ptr::null(), 0, 1, out.as_mut_ptr().cast(), n) };
    if valid {
        expect_status("fax_row_digests(valid)", status, FAX_OK);
    } else if status != FAX_ERR_FORMAT && status != FAX_ERR_INVALID_ARGUMENT {
        let message = last_error();
        eprintln!("fax_row_digests: status {status} ({message}) on invalid Arrow data {bad:?}");
        panic!("fax_row_digests: status {status} ({message}) on invalid Arrow data");
    }
});
