//! `fax_reader_open` + the Arrow C stream it returns, on arbitrary file contents: a crafted
//! or damaged CSV, JSON lines, text, Parquet, Arrow IPC file, possibly gzip/zstd-compressed.
//! Input layout (so seeds are plain files with a 3-byte header): byte 0 picks the file name's
//! extension, byte 1 the format option (or detection), byte 2 the batch size (0 = invalid);
//! the rest is the file. Opening returns a status (never a panic); every `get_next` returns 0,
//! EIO or EINVAL with a message, never a crash; an abandoned stream is released cleanly.
#![no_main]

use std::ffi::{CStr, CString};
use std::path::PathBuf;

use arrow_array::ffi::FFI_ArrowArray;
use arrow_array::ffi::FFI_ArrowSchema;
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use fastaxo::ffi::*;
use libfuzzer_sys::fuzz_target;

const EXTENSIONS: [&str; 12] = [
    "csv",
    "jsonl",
    "json",
    "txt",
    "parquet",
    "arrow",
    "feather",
    "csv.gz",
    "jsonl.zst",
    "bin",
    "",
    "parquet.gz",
];
const FORMATS: [&str; 9] = [
    "parquet", "arrow", "feather", "csv", "json", "jsonl", "text", "CSV.ZST", "nonsense",
];
const EIO: i32 = 5;
const EINVAL: i32 = 22;

fn scratch_file(ext: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fastaxo-fuzz-reader-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir.join(if ext.is_empty() {
        "input".to_string()
    } else {
        format!("input.{ext}")
    })
}

fuzz_target!(|data: &[u8]| {
    let [ext, format, batch, ref content @ ..] = *data else {
        return;
    };
    let path = scratch_file(EXTENSIONS[ext as usize % EXTENSIONS.len()]);
    std::fs::write(&path, content).expect("writing the scratch file");
    let c_path = CString::new(path.to_str().unwrap()).unwrap();
    let format = (format as usize % (FORMATS.len() + 1)).checked_sub(1).map(|i| FORMATS[i]);
    let options = format!(
        r#"{{"format": {}, "batch_size": {}, "num_threads": {}}}"#,
        format.map_or("null".to_string(), |f| format!("{f:?}")),
        batch as usize % 9,
        1 + (batch as usize >> 6)
    );
    let mut stream = FFI_ArrowArrayStream::empty();
    let status = unsafe { fax_reader_open(c_path.as_ptr(), options.as_ptr().cast(), options.len(), &mut stream) };
    assert!(
        status != FAX_ERR_PANIC,
        "fax_reader_open panicked: {}",
        fastaxo_fuzz::last_error()
    );
    assert!((0..=6).contains(&status), "unknown status {status}");
    if status != FAX_OK {
        assert!(
            !fastaxo_fuzz::last_error().is_empty(),
            "status {status} without a message"
        );
        return;
    }
    drain(&mut stream, (batch >> 4) as usize);
});

/// Reads the schema and up to `limit` batches (all when 0), then releases the stream early.
fn drain(stream: &mut FFI_ArrowArrayStream, limit: usize) {
    let mut schema = FFI_ArrowSchema::empty();
    let rc = unsafe { (stream.get_schema().unwrap())(stream, &mut schema) };
    check_rc(stream, rc);
    let mut read = 0;
    while rc == 0 && (limit == 0 || read < limit) {
        let mut array = FFI_ArrowArray::empty();
        let rc = unsafe { (stream.get_next().unwrap())(stream, &mut array) };
        check_rc(stream, rc);
        if rc != 0 || array.is_released() {
            break;
        }
        read += 1;
        drop(array); // releases the batch
    }
    drop(schema);
    unsafe { (stream.release().unwrap())(stream) };
}

fn check_rc(stream: &mut FFI_ArrowArrayStream, rc: i32) {
    if rc == 0 {
        return;
    }
    let message = unsafe { (stream.get_last_error().unwrap())(stream) };
    let text = if message.is_null() {
        String::new()
    } else {
        unsafe { CStr::from_ptr(message) }.to_string_lossy().into_owned()
    };
    assert!(rc == EIO || rc == EINVAL, "get_next/get_schema returned {rc}: {text}");
    assert!(!text.is_empty(), "error {rc} without a message");
    assert!(!text.contains("Rust panic"), "the stream caught a panic: {text}");
}
