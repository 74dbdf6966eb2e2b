//! `fax_row_digests` on record batches of every supported column type (and an unsupported
//! one), with nulls, slices, several batches, any `indices` and wrong output sizes.
//!
//! References, from docs/dedupe.md: digests are equal exactly when the rows print the same
//! (checked on the logical cells: injective, and NaNs alike), and do not depend on integer
//! width, float32 vs float64, List vs LargeList vs FixedSizeList, Utf8 vs LargeUtf8, a
//! dictionary vs its values, slicing, batch boundaries or the order rows are asked in.
#![no_main]

use std::sync::Arc;

use arbitrary::Arbitrary;
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::types::{Int64Type, Int8Type};
use arrow_array::*;
use arrow_buffer::NullBuffer;
use arrow_schema::{Field, Fields, Schema};
use fastaxo::ffi::*;
use fastaxo_fuzz::{expect_status, nudge};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq)]
enum Kind {
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F32,
    F64,
    Bool,
    Utf8,
    Binary,
    List,
    FixedList,
    Struct,
    Dict,
    Null,
    /// Not supported by dedupe: the call must be refused.
    Date32,
}

#[derive(Arbitrary, Debug)]
struct Column {
    kind: Kind,
    /// (null, seed) per row, cycled to the row count.
    cells: Vec<(bool, u64)>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    columns: Vec<Column>,
    num_rows: u8,
    slice_start: u8,
    split_at: u8,
    indices: Option<Vec<i16>>,
    num_digests_delta: i8,
    num_threads: u8,
}

/// A value as `str()` tells values apart.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Null,
    Int(i128),
    Float(u64),
    Bool(bool),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<Cell>),
    Dict(Vec<Cell>),
}

fn float_cell(x: f64) -> Cell {
    Cell::Float(if x.is_nan() { f64::NAN.to_bits() } else { x.to_bits() })
}

/// Small list of ints from a seed: length 0..=3, an element null now and then.
fn list_items(seed: u64, len: usize) -> Vec<Option<i16>> {
    (0..len)
        .map(|k| {
            let x = (seed >> (8 * k + 4)) as i16;
            (x % 7 != 0).then_some(x)
        })
        .collect()
}

fn text(seed: u64) -> String {
    let chars = ['a', 'é', '\'', '"', '\\', '0', '€'];
    (0..seed % 5).map(|k| chars[((seed >> (3 * k)) % 7) as usize]).collect()
}

fn cell(kind: Kind, null: bool, s: u64) -> Cell {
    if null || kind == Kind::Null {
        return Cell::Null;
    }
    match kind {
        Kind::I8 => Cell::Int(s as i8 as i128),
        Kind::I16 => Cell::Int(s as i16 as i128),
        Kind::I32 | Kind::Date32 => Cell::Int(s as i32 as i128),
        Kind::I64 => Cell::Int(s as i64 as i128),
        Kind::U8 => Cell::Int(s as u8 as i128),
        Kind::U16 => Cell::Int(s as u16 as i128),
        Kind::U32 => Cell::Int(s as u32 as i128),
        Kind::U64 => Cell::Int(s as i128),
        Kind::F32 => float_cell(f32::from_bits(s as u32) as f64),
        Kind::F64 => float_cell(f64::from_bits(s)),
        Kind::Bool => Cell::Bool(s & 1 == 1),
        Kind::Utf8 => Cell::Str(text(s)),
        Kind::Dict => Cell::Str(text(s % 4)),
        Kind::Binary => Cell::Bytes(s.to_le_bytes()[..(s % 9) as usize].to_vec()),
        Kind::List => Cell::List(
            list_items(s, (s % 4) as usize)
                .into_iter()
                .map(|x| x.map_or(Cell::Null, |v| Cell::Int(v as i128)))
                .collect(),
        ),
        Kind::FixedList => Cell::List(
            list_items(s, 2)
                .into_iter()
                .map(|x| x.map_or(Cell::Null, |v| Cell::Int(v as i128)))
                .collect(),
        ),
        Kind::Struct => Cell::Dict(vec![Cell::Int(s as i8 as i128), Cell::Str(text(s >> 8))]),
        Kind::Null => unreachable!(),
    }
}

/// The column in its narrow physical form (`wide` = false) or its widest equivalent.
fn array(kind: Kind, cells: &[(bool, u64)], wide: bool) -> ArrayRef {
    let seeds = || cells.iter().map(|&(null, s)| (!null).then_some(s));
    let nulls = Some(NullBuffer::from(cells.iter().map(|c| !c.0).collect::<Vec<bool>>()));
    macro_rules! ints {
        ($narrow:ty, $t:ty) => {
            if wide {
                Arc::new(Int64Array::from_iter(seeds().map(|s| s.map(|s| s as $t as i64)))) as ArrayRef
            } else {
                Arc::new(<$narrow>::from_iter(seeds().map(|s| s.map(|s| s as $t))))
            }
        };
    }
    match kind {
        Kind::I8 => ints!(Int8Array, i8),
        Kind::I16 => ints!(Int16Array, i16),
        Kind::I32 => ints!(Int32Array, i32),
        Kind::I64 => ints!(Int64Array, i64),
        Kind::U8 => ints!(UInt8Array, u8),
        Kind::U16 => ints!(UInt16Array, u16),
        Kind::U32 => ints!(UInt32Array, u32),
        Kind::U64 => Arc::new(UInt64Array::from_iter(seeds())),
        Kind::F32 if wide => Arc::new(Float64Array::from_iter(
            seeds().map(|s| s.map(|s| f32::from_bits(s as u32) as f64)),
        )),
        Kind::F32 => Arc::new(Float32Array::from_iter(
            seeds().map(|s| s.map(|s| f32::from_bits(s as u32))),
        )),
        Kind::F64 => Arc::new(Float64Array::from_iter(seeds().map(|s| s.map(f64::from_bits)))),
        Kind::Bool => Arc::new(BooleanArray::from_iter(seeds().map(|s| s.map(|s| s & 1 == 1)))),
        Kind::Utf8 if wide => Arc::new(LargeStringArray::from_iter(seeds().map(|s| s.map(text)))),
        Kind::Utf8 => Arc::new(StringArray::from_iter(seeds().map(|s| s.map(text)))),
        Kind::Dict if wide => Arc::new(StringArray::from_iter(seeds().map(|s| s.map(|s| text(s % 4))))),
        Kind::Dict => {
            let texts: Vec<Option<String>> = seeds().map(|s| s.map(|s| text(s % 4))).collect();
            Arc::new(
                texts
                    .iter()
                    .map(|t| t.as_deref())
                    .collect::<DictionaryArray<Int8Type>>(),
            )
        }
        Kind::Binary => {
            let bytes: Vec<Option<Vec<u8>>> = seeds()
                .map(|s| s.map(|s| s.to_le_bytes()[..(s % 9) as usize].to_vec()))
                .collect();
            let refs = bytes.iter().map(|b| b.as_deref());
            if wide {
                Arc::new(LargeBinaryArray::from_iter(refs))
            } else {
                Arc::new(BinaryArray::from_iter(refs))
            }
        }
        Kind::List | Kind::FixedList => lists(kind, cells, wide),
        Kind::Struct => {
            // Children hold values on null rows too; the row's null hides them.
            let a: ArrayRef = if wide {
                Arc::new(Int64Array::from_iter_values(cells.iter().map(|c| c.1 as i8 as i64)))
            } else {
                Arc::new(Int8Array::from_iter_values(cells.iter().map(|c| c.1 as i8)))
            };
            let texts = cells.iter().map(|c| Some(text(c.1 >> 8)));
            let b: ArrayRef = if wide {
                Arc::new(LargeStringArray::from_iter(texts))
            } else {
                Arc::new(StringArray::from_iter(texts))
            };
            let fields = Fields::from(vec![
                Field::new("a", a.data_type().clone(), false),
                Field::new("b", b.data_type().clone(), false),
            ]);
            Arc::new(StructArray::new(fields, vec![a, b], nulls))
        }
        Kind::Null => Arc::new(NullArray::new(cells.len())),
        Kind::Date32 => Arc::new(Date32Array::from_iter(seeds().map(|s| s.map(|s| s as i32)))),
    }
}

fn lists(kind: Kind, cells: &[(bool, u64)], wide: bool) -> ArrayRef {
    let items = |&(null, s): &(bool, u64)| {
        let len = if kind == Kind::FixedList { 2 } else { (s % 4) as usize };
        (!null).then(|| list_items(s, len))
    };
    if wide {
        let rows = cells
            .iter()
            .map(|c| items(c).map(|v| v.into_iter().map(|x| x.map(i64::from))));
        return Arc::new(LargeListArray::from_iter_primitive::<Int64Type, _, _>(rows));
    }
    if kind == Kind::List {
        let rows = cells
            .iter()
            .map(|c| items(c).map(|v| v.into_iter().map(|x| x.map(i32::from))));
        return Arc::new(ListArray::from_iter_primitive::<arrow_array::types::Int32Type, _, _>(
            rows,
        ));
    }
    // A null row of a fixed-size list still has its 2 child slots.
    let rows = cells.iter().map(|c| Some(items(&(false, c.1)).unwrap().into_iter()));
    let list = FixedSizeListArray::from_iter_primitive::<arrow_array::types::Int16Type, _, _>(rows, 2);
    let nulls = NullBuffer::from(cells.iter().map(|c| !c.0).collect::<Vec<bool>>());
    let (field, size, values, _) = list.into_parts();
    Arc::new(FixedSizeListArray::new(field, size, values, Some(nulls)))
}

fn batch(input: &Input, n: usize, wide: bool) -> RecordBatch {
    let mut fields = Vec::new();
    let mut arrays = Vec::new();
    for (k, c) in input.columns.iter().take(4).enumerate() {
        let cells: Vec<(bool, u64)> = (0..n)
            .map(|i| {
                if c.cells.is_empty() {
                    (true, 0)
                } else {
                    c.cells[i % c.cells.len()]
                }
            })
            .collect();
        let a = array(c.kind, &cells, wide);
        fields.push(Field::new(format!("c{k}"), a.data_type().clone(), true));
        arrays.push(a);
    }
    let options = RecordBatchOptions::new().with_row_count(Some(n));
    RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), arrays, &options).expect("a consistent batch")
}

/// (status, digests) of `fax_row_digests` on `batches`.
fn digests(
    batches: Vec<RecordBatch>,
    schema: Arc<Schema>,
    indices: Option<&[i64]>,
    num_digests: usize,
    threads: usize,
) -> (i32, Vec<[u8; 32]>) {
    let reader = RecordBatchIterator::new(batches.into_iter().map(Ok), schema);
    let mut stream = FFI_ArrowArrayStream::new(Box::new(reader));
    let mut out = vec![[0u8; 32]; num_digests.min(1 << 16)];
    let ptr = if out.len() == num_digests {
        out.as_mut_ptr().cast()
    } else {
        std::ptr::null_mut()
    };
    let (ip, il) = indices.map_or((std::ptr::null(), 0), |x| (x.as_ptr(), x.len()));
    let status = unsafe { fax_row_digests(&mut stream, ip, il, threads, ptr, num_digests) };
    (status, out)
}

fuzz_target!(|input: Input| {
    let n = input.num_rows as usize % 64;
    let unsupported = input.columns.iter().take(4).any(|c| c.kind == Kind::Date32);
    let narrow = batch(&input, n, false);
    let schema = narrow.schema();
    let threads = input.num_threads as usize % 4;
    let (status, full) = digests(vec![narrow.clone()], schema.clone(), None, n, threads);
    expect_status(
        "fax_row_digests",
        status,
        if unsupported { FAX_ERR_INVALID_ARGUMENT } else { FAX_OK },
    );
    if unsupported {
        return;
    }
    let wide = batch(&input, n, true);
    let (status, wide_digests) = digests(vec![wide.clone()], wide.schema(), None, n, threads);
    expect_status("fax_row_digests(wide)", status, FAX_OK);
    assert_eq!(full, wide_digests, "physical types changed the digests");

    // Equal digests exactly for rows that print the same.
    let rows: Vec<Vec<Cell>> = (0..n)
        .map(|i| {
            input
                .columns
                .iter()
                .take(4)
                .map(|c| {
                    let (null, s) = if c.cells.is_empty() {
                        (true, 0)
                    } else {
                        c.cells[i % c.cells.len()]
                    };
                    cell(c.kind, null, s)
                })
                .collect()
        })
        .collect();
    for i in 0..n {
        for j in 0..i {
            assert_eq!(
                full[i] == full[j],
                rows[i] == rows[j],
                "rows {i} and {j}: {:?} vs {:?}",
                rows[i],
                rows[j]
            );
        }
    }

    // A slice, split in two batches, gives the same digests as the whole.
    let start = (input.slice_start as usize).min(n);
    let split = (input.split_at as usize).min(n - start);
    let parts = vec![
        narrow.slice(start, split),
        narrow.slice(start + split, n - start - split),
    ];
    let (status, sliced) = digests(parts, schema.clone(), None, n - start, threads);
    expect_status("fax_row_digests(slices)", status, FAX_OK);
    assert_eq!(sliced[..], full[start..]);

    // Any indices: refused unless every one is a row; then the digests of those rows.
    if let Some(idx) = &input.indices {
        let idx: Vec<i64> = idx.iter().map(|&i| i as i64).collect();
        let num = nudge(idx.len(), input.num_digests_delta);
        let (status, got) = digests(vec![narrow], schema, Some(&idx), num, threads);
        let ok = num == idx.len() && idx.iter().all(|&i| i >= 0 && (i as usize) < n);
        expect_status(
            "fax_row_digests(indices)",
            status,
            if ok { FAX_OK } else { FAX_ERR_INVALID_ARGUMENT },
        );
        if ok {
            let want: Vec<[u8; 32]> = idx.iter().map(|&i| full[i as usize]).collect();
            assert_eq!(got, want);
        }
    }
});
