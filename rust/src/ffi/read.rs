//! C exports of the streaming reader: a file, directory or pattern as an Arrow C stream.

use std::ffi::CStr;
use std::os::raw::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_schema::{ArrowError, SchemaRef};

use super::args::json_options;
use super::guard::{guard, record_error, record_panic};
use super::lists::slice_mut;
use crate::error::{Error, Result};
use crate::read::{self, to_arrow_error, BatchReader, ReadOptions, COMPRESSIONS, FORMATS};

/// The options of `fax_reader_open`, a JSON object; every key may be left out.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ReaderOptions {
    /// A format name ("parquet", "arrow", "feather", "csv", "json", "jsonl", "text",
    /// "hf_dataset", optionally with ".zst"/".gz"), case-insensitive; absent or null = detect.
    format: Option<String>,
    /// Rows per batch, at least 1; every batch but the last has exactly this many.
    batch_size: usize,
    /// Decoding threads; 0 = all cores.
    num_threads: usize,
    /// The columns to read, in the order wanted; absent or null = all, in the file's order.
    columns: Option<Vec<String>>,
}

impl Default for ReaderOptions {
    fn default() -> Self {
        let d = ReadOptions::default();
        ReaderOptions { format: d.format, batch_size: d.batch_size, num_threads: d.threads, columns: d.columns }
    }
}

impl From<ReaderOptions> for ReadOptions {
    fn from(o: ReaderOptions) -> Self {
        ReadOptions { format: o.format, batch_size: o.batch_size, threads: o.num_threads, columns: o.columns }
    }
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

/// Opens `path` (a file, a directory of shards, a glob pattern, or a directory written by
/// `datasets`' `save_to_disk`) and writes an Arrow C stream of its record batches into `out`;
/// the caller releases it (`out->release(out)`). `options_json` (`options_len` bytes; NULL
/// with 0 = the defaults) is a JSON object: `{"format": null, "batch_size": 1024,
/// "num_threads": 0, "columns": null}` (format: a `fax_format_name`, optionally with
/// ".zst"/".gz", null = detect; num_threads 0 = all cores; columns: names in the order
/// wanted, null = all). Errors found while opening (missing path:
/// `FAX_ERR_NOT_FOUND`; unreadable or malformed file: `FAX_ERR_IO`/`FAX_ERR_FORMAT`; bad
/// options: `FAX_ERR_INVALID_ARGUMENT`) are returned here; errors found later end the stream
/// with `get_next` returning EIO (I/O) or EINVAL (format), described by `get_last_error`;
/// `fax_last_error_status` then gives the status on the thread that called `get_next`.
/// Decoding happens in `get_next`, a few batches ahead at most: memory does not grow with the
/// file. As for any Arrow C stream, one thread at a time may call its callbacks, and none
/// after `release`.
///
/// # Safety
/// `path` must be a NUL-terminated string, `options_json` NULL or `options_len` readable
/// bytes, `out` a writable
/// `struct ArrowArrayStream` (its old content is overwritten, not released).
#[no_mangle]
pub unsafe extern "C" fn fax_reader_open(
    path: *const c_char,
    options_json: *const c_char,
    options_len: usize,
    out: *mut FFI_ArrowArrayStream,
) -> i32 {
    guard(|| {
        if out.is_null() {
            return Err(Error::invalid("out is NULL"));
        }
        // SAFETY: caller's contract for every pointer.
        let path = unsafe { path_arg(path) }?;
        // SAFETY: as above, the caller's contract.
        let options: ReaderOptions = unsafe { json_options(options_json, options_len, "reader") }?;
        let reader = read::open(&path, &options.into())?;
        let stream = FFI_ArrowArrayStream::new(Box::new(Guarded(reader)));
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
        // SAFETY: the caller's contract (the export's doc comment).
        unsafe {
            *format = f.code();
            *compression = c.code();
        }
        Ok(())
    })
}

/// The options of `fax_list_inputs`, a JSON object; every key may be left out.
#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct ListOptions {
    /// As `fax_reader_open`'s: a format name, optionally with ".zst"/".gz"; null = detect.
    format: Option<String>,
}

/// Lists the files `fax_reader_open` reads for `path`, in its order: the file itself; the
/// regular files of a directory (not its subdirectories), sorted by name, hidden and
/// `_`-prefixed ones skipped, and only those whose name has a known format suffix
/// (`fax_format_name`s' extensions, optionally followed by ".zst"/".gz") unless a format is
/// given; the files a glob pattern matches (the same filter); or the data files a
/// `save_to_disk` directory's `state.json` lists. `options_json` (`options_len` bytes; NULL
/// with 0 = the defaults): `{"format": null}` as for `fax_reader_open`. Writes every path
/// followed by one NUL byte into `out` (`out_cap` bytes) and their total length into
/// `*out_len`; a buffer too small is `FAX_ERR_BUFFER_TOO_SMALL` with `*out_len` (and
/// `fax_last_error_needed`) set to the size needed, so `out = NULL, out_cap = 0` asks for it.
/// `*format` (unless `format` is NULL) gets the `fax_format_name` code every file has when the
/// listing decided it (a directory, a pattern, a `save_to_disk` directory: "hf_dataset"), -1
/// for a single file. A path that names nothing, or a directory or pattern without a data
/// file, is `FAX_ERR_NOT_FOUND`; a directory mixing formats or a `DatasetDict` directory is
/// `FAX_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `path` must be a NUL-terminated string, `options_json` NULL or `options_len` readable
/// bytes, `out` NULL or `out_cap` writable bytes, `out_len` writable, `format` NULL or
/// writable.
#[no_mangle]
pub unsafe extern "C" fn fax_list_inputs(
    path: *const c_char,
    options_json: *const c_char,
    options_len: usize,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
    format: *mut i32,
) -> i32 {
    guard(|| {
        use std::os::unix::ffi::OsStrExt;
        // SAFETY: the caller's contract (the export's doc comment).
        let out_len = unsafe { out_len.as_mut() }.ok_or_else(|| Error::invalid("out_len is NULL"))?;
        // SAFETY: caller's contract.
        let path = unsafe { path_arg(path) }?;
        // SAFETY: as above, the caller's contract.
        let options: ListOptions = unsafe { json_options(options_json, options_len, "list") }?;
        let inputs = read::list_files(&path, options.format.as_deref())?;
        let mut listed = Vec::new();
        for file in &inputs.files {
            listed.extend_from_slice(file.as_os_str().as_bytes());
            listed.push(0);
        }
        *out_len = listed.len();
        if listed.len() > out_cap {
            return Err(Error::BufferTooSmall {
                needed: listed.len(),
                message: format!("the list is {} bytes, the buffer holds {out_cap}", listed.len()),
            });
        }
        // SAFETY: the caller's contract: `out_cap` writable bytes.
        let out = unsafe { slice_mut(out.cast::<u8>(), listed.len(), "out") }?;
        out.copy_from_slice(&listed);
        // SAFETY: the caller's contract: NULL or writable.
        if let Some(format) = unsafe { format.as_mut() } {
            *format = inputs.format.map_or(-1, |f| f.code());
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
/// C stream callbacks cannot unwind into the caller), and every error of the stream is also
/// the calling thread's last error, with its status.
struct Guarded(BatchReader);

impl Iterator for Guarded {
    type Item = std::result::Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        super::guard::silence_panics();
        match catch_unwind(AssertUnwindSafe(|| self.0.next())) {
            Ok(Some(Err(err))) => {
                record_error(&err);
                Some(Err(to_arrow_error(err)))
            }
            Ok(item) => item.map(|batch| batch.map_err(to_arrow_error)),
            Err(payload) => {
                let message = record_panic(payload.as_ref());
                Some(Err(ArrowError::ComputeError(message)))
            }
        }
    }
}

impl RecordBatchReader for Guarded {
    fn schema(&self) -> SchemaRef {
        self.0.schema()
    }
}
