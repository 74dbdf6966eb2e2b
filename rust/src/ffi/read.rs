//! C exports of the streaming reader: a file, directory or pattern as an Arrow C stream.

use std::ffi::CStr;
use std::os::raw::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_schema::{ArrowError, SchemaRef};

use super::guard::{guard, panic_message};
use crate::error::{Error, Result};
use crate::read::{self, ArrowBatches, ReadOptions, COMPRESSIONS, FORMATS};

/// Options of `fax_reader_open`; pass NULL for the defaults (detect the format, 1024 rows
/// per batch, all cores, all columns).
#[repr(C)]
pub struct FaxReadOptions {
    /// A format name ("parquet", "arrow", "feather", "csv", "json", "jsonl", "text",
    /// "hf_dataset", optionally with ".zst"/".gz"), case-insensitive; NULL = detect.
    pub format: *const c_char,
    /// Rows per batch, at least 1; every batch but the last has exactly this many.
    pub batch_size: usize,
    /// Decoding threads; 0 = all cores.
    pub num_threads: usize,
    /// Names of the columns to read, in the order wanted; NULL = all, in the file's order.
    pub columns: *const *const c_char,
    pub num_columns: usize,
}

/// UTF-8 text of a NUL-terminated string argument.
///
/// # Safety
/// `text` must be NULL or a valid NUL-terminated string.
unsafe fn text_arg(text: *const c_char, name: &str) -> Result<String> {
    if text.is_null() {
        return Err(Error::invalid(format!("{name} is NULL")));
    }
    // SAFETY: caller's contract.
    let text = unsafe { CStr::from_ptr(text) };
    text.to_str().map(str::to_owned).map_err(|_| Error::invalid(format!("{name} is not UTF-8")))
}

/// A path argument: any bytes but NUL (Unix paths need not be UTF-8).
///
/// # Safety
/// `path` must be NULL or a valid NUL-terminated string.
unsafe fn path_arg(path: *const c_char) -> Result<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    if path.is_null() {
        return Err(Error::invalid("path is NULL"));
    }
    // SAFETY: caller's contract.
    let bytes = unsafe { CStr::from_ptr(path) }.to_bytes();
    Ok(PathBuf::from(std::ffi::OsStr::from_bytes(bytes)))
}

/// # Safety
/// `options` must be NULL or point to a valid `FaxReadOptions` whose strings are valid.
unsafe fn read_options(options: *const FaxReadOptions) -> Result<ReadOptions> {
    // SAFETY: caller's contract.
    let Some(o) = (unsafe { options.as_ref() }) else { return Ok(ReadOptions::default()) };
    let format = if o.format.is_null() { None } else { Some(unsafe { text_arg(o.format, "format") }?) };
    let columns = if o.columns.is_null() {
        None
    } else {
        let names = unsafe { super::lists::slice::<*const c_char>(o.columns.cast(), o.num_columns, "columns") }?;
        Some(names.iter().map(|&n| unsafe { text_arg(n, "a column name") }).collect::<Result<Vec<_>>>()?)
    };
    Ok(ReadOptions { format, batch_size: o.batch_size, threads: o.num_threads, columns })
}

/// Opens `path` (a file, a directory of shards, a glob pattern, or a directory written by
/// `datasets`' `save_to_disk`) and writes an Arrow C stream of its record batches into `out`;
/// the caller releases it (`out->release(out)`). Errors found while opening (missing path:
/// `FAX_ERR_NOT_FOUND`; unreadable or malformed file: `FAX_ERR_IO`/`FAX_ERR_FORMAT`; bad
/// options: `FAX_ERR_INVALID_ARGUMENT`) are returned here; errors found later end the stream
/// with `get_next` returning EIO (I/O) or EINVAL (format), described by `get_last_error`.
/// Decoding happens in `get_next`, a few batches ahead at most: memory does not grow with the
/// file. As for any Arrow C stream, one thread at a time may call its callbacks, and none
/// after `release`.
///
/// # Safety
/// `path` must be a NUL-terminated string, `options` NULL or valid, `out` a writable
/// `struct ArrowArrayStream` (its old content is overwritten, not released).
#[no_mangle]
pub unsafe extern "C" fn fax_reader_open(path: *const c_char, options: *const FaxReadOptions, out: *mut FFI_ArrowArrayStream) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(Error::invalid("out is NULL"));
        }
        // SAFETY: caller's contract for every pointer.
        let path = unsafe { path_arg(path) }?;
        let options = unsafe { read_options(options) }?;
        let reader = read::open(&path, &options)?;
        let stream = FFI_ArrowArrayStream::new(Box::new(Guarded(ArrowBatches(reader))));
        // SAFETY: `out` is writable (caller's contract); write does not drop the old value.
        unsafe { std::ptr::write(out, stream) };
        Ok(())
    })
}

/// Writes the format and compression `path` has (`*format` = a `fax_format_name` code,
/// `*compression` = a `fax_compression_name` code), from its name, confirmed by its content.
///
/// # Safety
/// `path` must be a NUL-terminated string; `format` and `compression` writable.
#[no_mangle]
pub unsafe extern "C" fn fax_detect_format(path: *const c_char, format: *mut i32, compression: *mut i32) -> i32 {
    guard(|| {
        if format.is_null() || compression.is_null() {
            return Err(Error::invalid("format and compression must not be NULL"));
        }
        // SAFETY: caller's contract.
        let path = unsafe { path_arg(path) }?;
        let (f, c) = read::detect_path(&path)?;
        unsafe {
            *format = f.code();
            *compression = c.code();
        }
        Ok(())
    })
}

/// The name of format `code` (0, 1, ... until NULL): a static string, never freed.
#[no_mangle]
pub extern "C" fn fax_format_name(code: i32) -> *const c_char {
    usize::try_from(code).ok().and_then(|i| FORMATS.get(i)).map_or(std::ptr::null(), |(_, n)| n.as_ptr())
}

/// The name of compression `code` (0 = "none", 1, ... until NULL): a static string.
#[no_mangle]
pub extern "C" fn fax_compression_name(code: i32) -> *const c_char {
    usize::try_from(code).ok().and_then(|i| COMPRESSIONS.get(i)).map_or(std::ptr::null(), |(_, n, _)| n.as_ptr())
}

/// The exported stream's reader: a panic while decoding becomes an error of the stream (the
/// C stream callbacks cannot unwind into the caller).
struct Guarded(ArrowBatches);

impl Iterator for Guarded {
    type Item = std::result::Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        super::guard::silence_panics();
        catch_unwind(AssertUnwindSafe(|| self.0.next()))
            .unwrap_or_else(|payload| Some(Err(ArrowError::ComputeError(panic_message(payload.as_ref())))))
    }
}

impl RecordBatchReader for Guarded {
    fn schema(&self) -> SchemaRef {
        self.0.schema()
    }
}
