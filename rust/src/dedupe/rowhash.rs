//! Row digests straight from Arrow record batches, for exact dedupe with the semantics of
//! Axolotl's `_deduplicate_dataset`: two rows are duplicates iff `str(row)` of their Python
//! dicts prints the same.
//!
//! Instead of printing, each row is written in a canonical binary form and hashed with
//! SHA-256. The form is injective and keeps exactly the distinctions `str()` keeps:
//! - column (and struct field) names and their order;
//! - the kind of value, since `str()` prints each kind differently: None, bool (`True`), int
//!   (`1`), float (`1.0`, `nan`, `-0.0`), str (quoted), bytes (`b'..'`), list, dict;
//! - but not integer width (`int8` 5 and `int64` 5 both print `5`), and every float NaN alike
//!   (all print `nan`); float32 values widen to the float64 that Python would print.
//!
//! `List`, `LargeList` and `FixedSizeList` all print as lists; dictionary-encoded columns as
//! their values. Other Arrow types (dates, decimals, float16, maps, ...) are refused rather
//! than guessed.

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, BooleanArray, OffsetSizeTrait, RecordBatch};
use arrow_buffer::NullBuffer;
use arrow_schema::DataType;
use rayon::prelude::*;
use sha2::{Digest as _, Sha256};

use super::seen::Digest;
use crate::error::{Error, Result};
use crate::threads::run_with_threads;

// One byte per kind of value, so that values `str()` prints differently never meet.
const NULL: u8 = 0;
const BOOL: u8 = 1;
const INT: u8 = 2;
const BIG_UINT: u8 = 3; // a uint64 above i64::MAX
const FLOAT: u8 = 4;
const STR: u8 = 5;
const BYTES: u8 = 6;
const LIST: u8 = 7;
const DICT: u8 = 8;
/// A non-empty list whose elements are all ints within i64: one tag, the narrowest byte
/// width that holds every element (chosen from the values, so equal lists always match),
/// then the elements as little-endian ints of that width. Token columns take this path.
const INT_LIST: u8 = 9;

/// All NaNs print `nan`: they hash as one.
const CANONICAL_NAN: u64 = 0x7ff8_0000_0000_0000;

/// Rows per parallel task: enough to amortise the task, small enough to balance.
const ROWS_PER_TASK: usize = 64;

/// Digests of the rows of `batches` (one table, batch after batch). With `rows`, digest `j` is
/// that of physical row `rows[j]` (a `datasets` indices mapping after shuffle/select);
/// without, of every row in order. `out` holds one digest per row hashed.
pub fn hash_rows(batches: &[RecordBatch], rows: Option<&[i64]>, num_threads: usize, out: &mut [Digest]) -> Result<()> {
    let table = Table::new(batches)?;
    let wanted = rows.map_or(table.num_rows, <[i64]>::len);
    if out.len() != wanted {
        return Err(Error::invalid(format!("room for {} digests, {wanted} rows to hash", out.len())));
    }
    if let Some(rows) = rows {
        if let Some((j, &r)) = rows.iter().enumerate().find(|(_, &r)| r < 0 || r as u64 >= table.num_rows as u64) {
            return Err(Error::invalid(format!("indices[{j}] = {r} is not a row (the table has {})", table.num_rows)));
        }
    }
    let physical = |j: usize| rows.map_or(j, |r| r[j] as usize);
    run_with_threads(num_threads, || {
        out.par_chunks_mut(ROWS_PER_TASK).enumerate().for_each(|(task, chunk)| {
            let mut buf = Vec::new();
            for (k, digest) in chunk.iter_mut().enumerate() {
                buf.clear();
                table.encode_row(physical(task * ROWS_PER_TASK + k), &mut buf);
                *digest = Sha256::digest(&buf).into();
            }
        })
    });
    Ok(())
}

/// The batches with an encoder per column, and where each batch starts.
struct Table<'a> {
    names: Vec<&'a str>,
    batches: Vec<Vec<Enc<'a>>>,
    starts: Vec<usize>,
    num_rows: usize,
}

impl<'a> Table<'a> {
    fn new(batches: &'a [RecordBatch]) -> Result<Self> {
        let mut table = Table { names: Vec::new(), batches: Vec::new(), starts: Vec::new(), num_rows: 0 };
        if let Some(first) = batches.first() {
            table.names = first.schema_ref().fields().iter().map(|f| f.name().as_str()).collect();
        }
        for batch in batches {
            let names: Vec<&str> = batch.schema_ref().fields().iter().map(|f| f.name().as_str()).collect();
            if names != table.names {
                return Err(Error::invalid("all record batches must have the same columns"));
            }
            let columns = batch
                .columns()
                .iter()
                .zip(&names)
                .map(|(c, name)| Enc::new(c.as_ref()).map_err(|e| Error::invalid(format!("column '{name}': {e}"))))
                .collect::<Result<Vec<_>>>()?;
            table.starts.push(table.num_rows);
            table.batches.push(columns);
            table.num_rows += batch.num_rows();
        }
        Ok(table)
    }

    /// A row is written like a dict: its column names and values, in order.
    fn encode_row(&self, row: usize, out: &mut Vec<u8>) {
        let b = self.starts.partition_point(|&s| s <= row) - 1;
        let i = row - self.starts[b];
        out.push(DICT);
        varint(self.names.len() as u64, out);
        for (name, column) in self.names.iter().zip(&self.batches[b]) {
            bytes(name.as_bytes(), out);
            column.encode(i, out);
        }
    }
}

/// A column (or child array) with its concrete type resolved once, not per value.
enum Enc<'a> {
    Null,
    Bool(&'a BooleanArray),
    Int(Ints<'a>, Option<&'a NullBuffer>),
    F32(&'a [f32], Option<&'a NullBuffer>),
    F64(&'a [f64], Option<&'a NullBuffer>),
    Str(Bytes<'a>, Option<&'a NullBuffer>),
    Bin(Bytes<'a>, Option<&'a NullBuffer>),
    List(Offsets<'a>, Box<Enc<'a>>, Option<&'a NullBuffer>),
    Struct(Vec<(&'a str, Enc<'a>)>, Option<&'a NullBuffer>),
    Dict(Ints<'a>, Box<Enc<'a>>, Option<&'a NullBuffer>),
}

enum Ints<'a> {
    I8(&'a [i8]),
    I16(&'a [i16]),
    I32(&'a [i32]),
    I64(&'a [i64]),
    U8(&'a [u8]),
    U16(&'a [u16]),
    U32(&'a [u32]),
    U64(&'a [u64]),
}

/// Variable-width values (strings, binary) through their offsets.
enum Bytes<'a> {
    Small(&'a [i32], &'a [u8]),
    Large(&'a [i64], &'a [u8]),
}

enum Offsets<'a> {
    Small(&'a [i32]),
    Large(&'a [i64]),
    Fixed(usize),
}

fn prim<T: ArrowPrimitiveType>(a: &dyn Array) -> &[T::Native] {
    a.as_primitive::<T>().values()
}

fn var_bytes<O: OffsetSizeTrait>(a: &dyn Array, binary: bool) -> (&[O], &[u8]) {
    if binary {
        let b = a.as_binary::<O>();
        (b.value_offsets(), b.value_data())
    } else {
        let s = a.as_string::<O>();
        (s.value_offsets(), s.value_data())
    }
}

impl<'a> Enc<'a> {
    fn new(a: &'a dyn Array) -> std::result::Result<Self, String> {
        let nulls = a.nulls();
        Ok(match a.data_type() {
            DataType::Null => Enc::Null,
            DataType::Boolean => Enc::Bool(a.as_boolean()),
            DataType::Float32 => Enc::F32(prim::<Float32Type>(a), nulls),
            DataType::Float64 => Enc::F64(prim::<Float64Type>(a), nulls),
            DataType::Utf8 => {
                let (o, v) = var_bytes::<i32>(a, false);
                Enc::Str(Bytes::Small(o, v), nulls)
            }
            DataType::LargeUtf8 => {
                let (o, v) = var_bytes::<i64>(a, false);
                Enc::Str(Bytes::Large(o, v), nulls)
            }
            DataType::Binary => {
                let (o, v) = var_bytes::<i32>(a, true);
                Enc::Bin(Bytes::Small(o, v), nulls)
            }
            DataType::LargeBinary => {
                let (o, v) = var_bytes::<i64>(a, true);
                Enc::Bin(Bytes::Large(o, v), nulls)
            }
            DataType::List(_) => {
                let l = a.as_list::<i32>();
                Enc::List(Offsets::Small(l.value_offsets()), Box::new(Enc::new(l.values().as_ref())?), nulls)
            }
            DataType::LargeList(_) => {
                let l = a.as_list::<i64>();
                Enc::List(Offsets::Large(l.value_offsets()), Box::new(Enc::new(l.values().as_ref())?), nulls)
            }
            DataType::FixedSizeList(_, size) => {
                let l = a.as_fixed_size_list();
                // The child of a sliced fixed-size list starts at the slice: offset 0 is row 0.
                let child: &'a ArrayRef = l.values();
                Enc::List(Offsets::Fixed(*size as usize), Box::new(Enc::new(child.as_ref())?), nulls)
            }
            DataType::Struct(fields) => {
                let s = a.as_struct();
                let children = fields
                    .iter()
                    .zip(s.columns())
                    .map(|(f, c)| Ok((f.name().as_str(), Enc::new(c.as_ref())?)))
                    .collect::<std::result::Result<Vec<_>, String>>()?;
                Enc::Struct(children, nulls)
            }
            DataType::Dictionary(key, _) => {
                let (keys, values) = dictionary_parts(a, key)?;
                Enc::Dict(keys, Box::new(Enc::new(values)?), nulls)
            }
            other => match ints(a, other) {
                Some(ints) => Enc::Int(ints, nulls),
                None => return Err(format!("type {other} is not supported by dedupe")),
            },
        })
    }

    fn encode(&self, i: usize, out: &mut Vec<u8>) {
        if self.is_null(i) {
            out.push(NULL);
            return;
        }
        match self {
            Enc::Null => out.push(NULL),
            Enc::Bool(b) => out.extend([BOOL, b.value(i) as u8]),
            Enc::Int(ints, _) => ints.encode(i, out),
            Enc::F32(v, _) => float(v[i] as f64, out),
            Enc::F64(v, _) => float(v[i], out),
            Enc::Str(v, _) => tagged_bytes(STR, v.get(i), out),
            Enc::Bin(v, _) => tagged_bytes(BYTES, v.get(i), out),
            Enc::List(offsets, child, _) => {
                let (start, end) = offsets.range(i);
                if !child.encode_int_list(start, end, out) {
                    out.push(LIST);
                    varint((end - start) as u64, out);
                    (start..end).for_each(|j| child.encode(j, out));
                }
            }
            Enc::Struct(fields, _) => {
                out.push(DICT);
                varint(fields.len() as u64, out);
                for (name, child) in fields {
                    bytes(name.as_bytes(), out);
                    child.encode(i, out);
                }
            }
            Enc::Dict(keys, values, _) => values.encode(keys.get(i) as usize, out),
        }
    }

    /// Writes values `start..end` as an INT_LIST when they qualify (non-empty, all non-null
    /// ints within i64) and returns whether it did.
    fn encode_int_list(&self, start: usize, end: usize, out: &mut Vec<u8>) -> bool {
        if start == end {
            return false;
        }
        match self {
            Enc::Int(ints, nulls) if !nulls.is_some_and(|n| (start..end).any(|j| n.is_null(j))) => {
                ints.encode_list(start, end, out)
            }
            Enc::Dict(..) => {
                let values: Option<Vec<i128>> = (start..end).map(|j| self.int_at(j)).collect();
                values.is_some_and(|v| write_int_list(&v, out))
            }
            _ => false,
        }
    }

    /// The value at `i` when it is a non-null int (through a dictionary too).
    fn int_at(&self, i: usize) -> Option<i128> {
        match self {
            _ if self.is_null(i) => None,
            Enc::Int(ints, _) => Some(ints.get(i)),
            Enc::Dict(keys, values, _) => values.int_at(keys.get(i) as usize),
            _ => None,
        }
    }

    fn is_null(&self, i: usize) -> bool {
        match self {
            Enc::Null => true,
            Enc::Bool(b) => b.is_null(i),
            Enc::Int(_, n) | Enc::F32(_, n) | Enc::F64(_, n) | Enc::Str(_, n) | Enc::Bin(_, n) => is_null(*n, i),
            Enc::List(_, _, n) | Enc::Struct(_, n) | Enc::Dict(_, _, n) => is_null(*n, i),
        }
    }
}

fn is_null(nulls: Option<&NullBuffer>, i: usize) -> bool {
    nulls.is_some_and(|n| n.is_null(i))
}

fn ints<'a>(a: &'a dyn Array, t: &DataType) -> Option<Ints<'a>> {
    Some(match t {
        DataType::Int8 => Ints::I8(prim::<Int8Type>(a)),
        DataType::Int16 => Ints::I16(prim::<Int16Type>(a)),
        DataType::Int32 => Ints::I32(prim::<Int32Type>(a)),
        DataType::Int64 => Ints::I64(prim::<Int64Type>(a)),
        DataType::UInt8 => Ints::U8(prim::<UInt8Type>(a)),
        DataType::UInt16 => Ints::U16(prim::<UInt16Type>(a)),
        DataType::UInt32 => Ints::U32(prim::<UInt32Type>(a)),
        DataType::UInt64 => Ints::U64(prim::<UInt64Type>(a)),
        _ => return None,
    })
}

fn dictionary_parts<'a>(a: &'a dyn Array, key: &DataType) -> std::result::Result<(Ints<'a>, &'a dyn Array), String> {
    macro_rules! parts {
        ($k:ty, $variant:ident) => {{
            let d = a.as_dictionary::<$k>();
            (Ints::$variant(d.keys().values()), d.values().as_ref())
        }};
    }
    Ok(match key {
        DataType::Int8 => parts!(Int8Type, I8),
        DataType::Int16 => parts!(Int16Type, I16),
        DataType::Int32 => parts!(Int32Type, I32),
        DataType::Int64 => parts!(Int64Type, I64),
        DataType::UInt8 => parts!(UInt8Type, U8),
        DataType::UInt16 => parts!(UInt16Type, U16),
        DataType::UInt32 => parts!(UInt32Type, U32),
        DataType::UInt64 => parts!(UInt64Type, U64),
        other => return Err(format!("dictionary key type {other} is not supported")),
    })
}

impl Ints<'_> {
    fn get(&self, i: usize) -> i128 {
        match self {
            Ints::I8(v) => v[i] as i128,
            Ints::I16(v) => v[i] as i128,
            Ints::I32(v) => v[i] as i128,
            Ints::I64(v) => v[i] as i128,
            Ints::U8(v) => v[i] as i128,
            Ints::U16(v) => v[i] as i128,
            Ints::U32(v) => v[i] as i128,
            Ints::U64(v) => v[i] as i128,
        }
    }

    fn encode(&self, i: usize, out: &mut Vec<u8>) {
        int(self.get(i), out);
    }

    fn encode_list(&self, start: usize, end: usize, out: &mut Vec<u8>) -> bool {
        match self {
            Ints::I8(v) => write_int_list(&v[start..end], out),
            Ints::I16(v) => write_int_list(&v[start..end], out),
            Ints::I32(v) => write_int_list(&v[start..end], out),
            Ints::I64(v) => write_int_list(&v[start..end], out),
            Ints::U8(v) => write_int_list(&v[start..end], out),
            Ints::U16(v) => write_int_list(&v[start..end], out),
            Ints::U32(v) => write_int_list(&v[start..end], out),
            Ints::U64(v) => write_int_list(&v[start..end], out),
        }
    }
}

/// INT_LIST encoding of `values` (non-empty); false when one does not fit i64.
fn write_int_list<T: Copy + Into<i128>>(values: &[T], out: &mut Vec<u8>) -> bool {
    let (lo, hi) = values.iter().fold((i128::MAX, i128::MIN), |(lo, hi), &x| {
        let x = x.into();
        (lo.min(x), hi.max(x))
    });
    if hi > i64::MAX as i128 {
        return false;
    }
    let width = [1u8, 2, 4, 8]
        .into_iter()
        .find(|&w| w == 8 || (lo >= -(1i128 << (8 * w - 1)) && hi < 1i128 << (8 * w - 1)))
        .unwrap_or(8);
    out.push(INT_LIST);
    out.push(width);
    varint(values.len() as u64, out);
    out.reserve(values.len() * width as usize);
    let as_i64 = values.iter().map(|&x| x.into() as i64);
    match width {
        1 => out.extend(as_i64.map(|x| x as u8)),
        2 => as_i64.for_each(|x| out.extend_from_slice(&(x as i16).to_le_bytes())),
        4 => as_i64.for_each(|x| out.extend_from_slice(&(x as i32).to_le_bytes())),
        _ => as_i64.for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
    }
    true
}

impl Bytes<'_> {
    fn get(&self, i: usize) -> &[u8] {
        match self {
            Bytes::Small(o, v) => &v[o[i] as usize..o[i + 1] as usize],
            Bytes::Large(o, v) => &v[o[i] as usize..o[i + 1] as usize],
        }
    }
}

impl Offsets<'_> {
    fn range(&self, i: usize) -> (usize, usize) {
        match self {
            Offsets::Small(o) => (o[i] as usize, o[i + 1] as usize),
            Offsets::Large(o) => (o[i] as usize, o[i + 1] as usize),
            Offsets::Fixed(size) => (i * size, (i + 1) * size),
        }
    }
}

/// An int whatever its Arrow width: zigzag varint of the i64 value (tag INT), or for a
/// uint64 beyond i64 the plain varint (tag BIG_UINT; no i64 has that value).
#[inline]
fn int(x: i128, out: &mut Vec<u8>) {
    if x > i64::MAX as i128 {
        out.push(BIG_UINT);
        varint(x as u64, out);
    } else {
        let x = x as i64;
        out.push(INT);
        varint(((x << 1) ^ (x >> 63)) as u64, out);
    }
}

fn float(x: f64, out: &mut Vec<u8>) {
    let bits = if x.is_nan() { CANONICAL_NAN } else { x.to_bits() };
    out.push(FLOAT);
    out.extend_from_slice(&bits.to_le_bytes());
}

fn tagged_bytes(tag: u8, b: &[u8], out: &mut Vec<u8>) {
    out.push(tag);
    bytes(b, out);
}

fn bytes(b: &[u8], out: &mut Vec<u8>) {
    varint(b.len() as u64, out);
    out.extend_from_slice(b);
}

#[inline]
fn varint(mut x: u64, out: &mut Vec<u8>) {
    while x >= 0x80 {
        out.push(x as u8 | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
}
