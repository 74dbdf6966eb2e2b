//! Shared pieces of the fuzz targets: token lists built from fuzzer bytes and handed to the C
//! ABI as a `FaxLists` (with the inconsistencies a C caller can make: offsets not monotonic or
//! past the values, NULL or misaligned pointers, lengths that disagree), plain reference
//! readings of the same input, and the status checks every target shares.
//!
//! Rule of every target: the buffers handed over are always as long as claimed (anything else
//! is the caller breaking the C contract, which no library can detect); everything else may be
//! wrong, and every wrong input must come back as a status code, never a crash or a panic.

use arbitrary::Arbitrary;
use fastaxo::ffi::*;

pub mod reference;

/// Output buffers are allocated up to this many elements; a larger claimed length is passed
/// with a NULL pointer, which the library must refuse without writing.
pub const MAX_OUT: usize = 1 << 16;

/// A size argument: mostly small, sometimes anything (overflow paths).
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Size {
    Small(u8),
    /// 2**k and its neighbours: where products of sizes overflow.
    PowerOfTwo(u8, i8),
    Any(u64),
}

impl Size {
    pub fn get(self) -> usize {
        match self {
            Size::Small(x) => x as usize,
            Size::PowerOfTwo(k, delta) => nudge(1usize << (k % 64), delta),
            Size::Any(x) => x as usize,
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    U8,
    I8,
    I16,
    I32,
    I64,
    Unknown(u32),
}

impl Dtype {
    pub fn code(self) -> u32 {
        match self {
            Dtype::U8 => FAX_DTYPE_UINT8,
            Dtype::I8 => FAX_DTYPE_INT8,
            Dtype::I16 => FAX_DTYPE_INT16,
            Dtype::I32 => FAX_DTYPE_INT32,
            Dtype::I64 => FAX_DTYPE_INT64,
            // A code that happens to be a known one is moved out of the way: the buffer was
            // written as int64.
            Dtype::Unknown(x) => unknown_code(x),
        }
    }

    /// Bytes per element; unknown codes are stored as int64 (the library must refuse them).
    fn size(self) -> usize {
        match self {
            Dtype::U8 | Dtype::I8 => 1,
            Dtype::I16 => 2,
            Dtype::I32 => 4,
            _ => 8,
        }
    }

    fn known(self) -> bool {
        !matches!(self, Dtype::Unknown(_))
    }

    /// What the library reads back for `v` stored in this type (C's truncating store).
    pub fn narrow(self, v: i64) -> i64 {
        match self {
            Dtype::U8 => v as u8 as i64,
            Dtype::I8 => v as i8 as i64,
            Dtype::I16 => v as i16 as i64,
            Dtype::I32 => v as i32 as i64,
            _ => v,
        }
    }
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum OffsetsDtype {
    I32,
    I64,
    Unknown(u32),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum OffsetsInput {
    /// Monotonic offsets from row lengths (the values are extended to cover them).
    Lengths { start: u8, lengths: Vec<u8> },
    /// Anything: negative, decreasing, past the values.
    Raw(Vec<i64>),
}

/// What breaks the call beyond the offsets: pointers a C caller could get wrong.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    NullValues,
    NullOffsets,
    MisalignValues,
    MisalignOffsets,
    /// Claim fewer values than the buffer holds.
    ShortValues(u8),
    /// Claim fewer rows than the offsets describe.
    FewerRows(u8),
}

#[derive(Arbitrary, Debug, Clone)]
pub struct ListsInput {
    pub values_dtype: Dtype,
    pub offsets_dtype: OffsetsDtype,
    pub values: Vec<i64>,
    pub offsets: OffsetsInput,
    pub fault: Fault,
}

/// A byte buffer holding `elems` stored as `size`-byte little-endian ints starting `shift`
/// bytes into an 8-aligned allocation (shift 1 = a misaligned pointer).
struct Bytes {
    words: Vec<u64>,
    shift: usize,
}

impl Bytes {
    fn new(elems: &[i64], size: usize, shift: usize) -> Self {
        let mut bytes = vec![0u8; shift + elems.len() * size];
        for (i, e) in elems.iter().enumerate() {
            let at = shift + i * size;
            bytes[at..at + size].copy_from_slice(&e.to_le_bytes()[..size]);
        }
        let mut words = vec![0u64; bytes.len().div_ceil(8) + 1];
        for (i, b) in bytes.iter().enumerate() {
            words[i / 8] |= (*b as u64) << (8 * (i % 8));
        }
        Bytes { words, shift }
    }

    fn ptr(&self) -> *const std::ffi::c_void {
        // SAFETY: shift is 0 or 1 and the allocation holds at least one word.
        unsafe { self.words.as_ptr().cast::<u8>().add(self.shift).cast() }
    }
}

/// Token lists as the C caller owns them, and the `FaxLists` describing them.
pub struct Lists {
    _values: Bytes,
    _offsets: Bytes,
    pub raw: FaxLists,
    /// The reference reading: the rows, or None when the library must refuse the lists.
    pub expected: Option<Vec<Vec<i64>>>,
}

impl ListsInput {
    pub fn build(&self) -> Lists {
        let (mut values, offsets) = (self.values.clone(), self.offsets_vec());
        if let (OffsetsInput::Lengths { .. }, Some(&last)) = (&self.offsets, offsets.last()) {
            values.resize(values.len().max(last as usize), 7);
        }
        let values: Vec<i64> = values.iter().map(|&v| self.values_dtype.narrow(v)).collect();
        let offsets: Vec<i64> = match self.offsets_dtype {
            OffsetsDtype::I32 => offsets.iter().map(|&o| o as i32 as i64).collect(),
            _ => offsets,
        };
        let osize = if self.offsets_dtype == OffsetsDtype::I32 { 4 } else { 8 };
        let vbytes = Bytes::new(
            &values,
            self.values_dtype.size(),
            (self.fault == Fault::MisalignValues) as usize,
        );
        let obytes = Bytes::new(&offsets, osize, (self.fault == Fault::MisalignOffsets) as usize);
        let mut values_len = values.len();
        if let Fault::ShortValues(k) = self.fault {
            values_len = values_len.saturating_sub(k as usize);
        }
        let mut num_rows = offsets.len().saturating_sub(1);
        if let Fault::FewerRows(k) = self.fault {
            num_rows = num_rows.saturating_sub(k as usize);
        }
        // No offsets at all: the only honest pointer is NULL (num_rows + 1 >= 1 are claimed).
        let null_offsets = self.fault == Fault::NullOffsets || offsets.is_empty();
        let null_values = self.fault == Fault::NullValues;
        let raw = FaxLists {
            values: if null_values { std::ptr::null() } else { vbytes.ptr() },
            values_len,
            values_dtype: self.values_dtype.code(),
            offsets: if null_offsets { std::ptr::null() } else { obytes.ptr() },
            num_rows,
            offsets_dtype: match self.offsets_dtype {
                OffsetsDtype::I32 => FAX_DTYPE_INT32,
                OffsetsDtype::I64 => FAX_DTYPE_INT64,
                OffsetsDtype::Unknown(c) => unknown_code(c),
            },
        };
        let pointers_ok = !(null_offsets
            || (null_values && values_len > 0)
            || (self.fault == Fault::MisalignValues && self.values_dtype.size() > 1 && values_len > 0)
            || self.fault == Fault::MisalignOffsets);
        let dtypes_ok = self.values_dtype.known() && !matches!(self.offsets_dtype, OffsetsDtype::Unknown(_));
        let expected = (pointers_ok && dtypes_ok)
            .then(|| rows_of(&values[..values_len], &offsets[..num_rows + 1]))
            .flatten();
        Lists {
            _values: vbytes,
            _offsets: obytes,
            raw,
            expected,
        }
    }

    fn offsets_vec(&self) -> Vec<i64> {
        match &self.offsets {
            OffsetsInput::Raw(o) => o.clone(),
            OffsetsInput::Lengths { start, lengths } => {
                let mut o = vec![*start as i64];
                for &l in lengths {
                    o.push(o[o.len() - 1] + l as i64);
                }
                o
            }
        }
    }
}

/// A dtype code that is none of the known ones (1..=5).
fn unknown_code(x: u32) -> u32 {
    if (1..=5).contains(&x) {
        x + 1000
    } else {
        x
    }
}

/// The documented rule, written plainly: offsets non-negative, never decreasing, inside values.
fn rows_of(values: &[i64], offsets: &[i64]) -> Option<Vec<Vec<i64>>> {
    let ok = offsets[0] >= 0
        && offsets.windows(2).all(|w| w[0] <= w[1])
        && offsets[offsets.len() - 1] as u64 <= values.len() as u64;
    ok.then(|| {
        offsets
            .windows(2)
            .map(|w| values[w[0] as usize..w[1] as usize].to_vec())
            .collect()
    })
}

/// The calling thread's last error message.
pub fn last_error() -> String {
    // SAFETY: NULL with 0 asks for the length; then a buffer of that length + 1.
    let n = unsafe { fax_last_error_message(std::ptr::null_mut(), 0) };
    let mut buf = vec![0 as std::os::raw::c_char; n + 1];
    unsafe { fax_last_error_message(buf.as_mut_ptr(), buf.len()) };
    buf[..n].iter().map(|&c| c as u8 as char).collect()
}

/// Fails the run (libFuzzer reports the abort) unless `status` is `expected`; an error must
/// also come with a message.
pub fn expect_status(what: &str, status: i32, expected: i32) {
    if status == expected {
        if status != FAX_OK {
            assert!(!last_error().is_empty(), "{what}: status {status} without a message");
        }
        return;
    }
    let message = if status == FAX_OK { String::new() } else { last_error() };
    // The guard's hook silences panics, so say it before panicking.
    eprintln!("{what}: status {status} ({message}), expected {expected}");
    panic!("{what}: status {status} ({message}), expected {expected}");
}

/// A writable int64 buffer of `len` elements, or NULL when `len` is too large to allocate
/// (the library must then refuse the call).
pub struct Out(pub Vec<i64>, bool);

impl Out {
    pub fn new(len: usize, null: bool) -> Self {
        let null = null || len > MAX_OUT;
        Out(if null { Vec::new() } else { vec![i64::MIN + 7; len] }, null)
    }

    pub fn ptr(&mut self) -> *mut i64 {
        if self.1 {
            std::ptr::null_mut()
        } else {
            self.0.as_mut_ptr()
        }
    }

    /// Whether the library must refuse it for being NULL with a non-zero length.
    pub fn is_bad(&self, len: usize) -> bool {
        self.1 && len > 0
    }
}

/// `base` moved by a small signed amount (lengths that are off by a little), saturating.
pub fn nudge(base: usize, delta: i8) -> usize {
    if delta >= 0 {
        base.saturating_add(delta as usize)
    } else {
        base.saturating_sub(delta.unsigned_abs() as usize)
    }
}
