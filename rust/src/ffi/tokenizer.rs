//! C exports of the tokenizer: a handle loaded from a tokenizer.json (the fast engine
//! wherever it applies, else the `tokenizers` crate), what it runs on, and one call that
//! encodes the texts of an Arrow C stream into Arrow lists.

use std::os::raw::c_char;
use std::sync::Arc;

use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::ffi_stream::FFI_ArrowArrayStream;

use super::args::{json_options, utf8_arg};
use super::arrow::{export, read_stream};
use super::guard;
use super::lists::slice_mut;
use crate::error::Error;
use crate::tokenize::encode_batch::{encode_batch, BatchOptions};
use crate::tokenize::{Encoder, EngineChoice, Tokenizer};

/// A tokenizer loaded from a Hugging Face tokenizer.json. Thread-safe: any number of
/// strategies and threads may share it. Free with `fax_tokenizer_free`.
pub struct FaxTokenizer(Arc<Tokenizer>);

impl FaxTokenizer {
    pub(super) fn shared(&self) -> Arc<dyn Encoder> {
        self.0.clone()
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TokenizerOptions {
    /// transformers' `split_special_tokens`: special-token text is tokenized as plain text.
    #[serde(default)]
    split_special_tokens: bool,
    /// "auto" (the fast engine if it models the tokenizer), "fast" (an error if it does
    /// not) or "tokenizers".
    #[serde(default)]
    engine: EngineChoice,
}

/// Loads the tokenizer JSON `json` (`json_len` bytes: a tokenizer.json, or what
/// transformers' `tokenizer.backend_tokenizer.to_str()` gives) into `*out`. `options_json`
/// (NULL = defaults) is a JSON object: `{"split_special_tokens": false, "engine": "auto"}`.
/// Truncation and padding are off, whatever the JSON says, as in transformers' calls. A JSON
/// the tokenizers library cannot read is `FAX_ERR_FORMAT`; `"engine": "fast"` for a
/// tokenizer the fast engine does not model is `FAX_ERR_INVALID_ARGUMENT` saying why.
#[no_mangle]
pub unsafe extern "C" fn fax_tokenizer_new(
    json: *const c_char,
    json_len: usize,
    options_json: *const c_char,
    options_len: usize,
    out: *mut *mut FaxTokenizer,
) -> i32 {
    guard(|| {
        // SAFETY: caller's contract for every pointer.
        let out = unsafe { out.as_mut() }.ok_or_else(|| Error::invalid("out is NULL"))?;
        // SAFETY: as above, the caller's contract.
        let json = unsafe { utf8_arg(json, json_len, "json") }?;
        // SAFETY: as above, the caller's contract.
        let options: TokenizerOptions = unsafe { json_options(options_json, options_len, "tokenizer") }?;
        let tokenizer = Tokenizer::from_json(json, options.split_special_tokens, options.engine)?;
        *out = Box::into_raw(Box::new(FaxTokenizer(Arc::new(tokenizer))));
        Ok(())
    })
}

/// Frees a tokenizer from `fax_tokenizer_new`; NULL is a no-op. Strategies made from it keep
/// what they need.
#[no_mangle]
pub unsafe extern "C" fn fax_tokenizer_free(tokenizer: *mut FaxTokenizer) {
    super::guard_value((), || {
        if !tokenizer.is_null() {
            // SAFETY: from fax_tokenizer_new, freed once (caller's contract).
            drop(unsafe { Box::from_raw(tokenizer) });
        }
    })
}

/// Writes a JSON object describing `tokenizer` into `out` (`out_cap` bytes, no NUL added)
/// and its length into `*out_len`: `{"engine": "fast" | "tokenizers", "reason": null | "why
/// the fast engine does not serve it"}`. A buffer too small is `FAX_ERR_BUFFER_TOO_SMALL`
/// with `*out_len` set to the size needed.
#[no_mangle]
pub unsafe extern "C" fn fax_tokenizer_info(
    tokenizer: *const FaxTokenizer,
    out: *mut c_char,
    out_cap: usize,
    out_len: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: caller's contract: a live handle, `out_cap` writable bytes, writable `out_len`.
        let tokenizer = unsafe { tokenizer.as_ref() }.ok_or_else(|| Error::invalid("tokenizer is NULL"))?;
        let out_len =
            // SAFETY: the caller's contract (the export's doc comment).
            unsafe { out_len.as_mut() }.ok_or_else(|| Error::invalid("out_len is NULL"))?;
        let info = serde_json::json!({"engine": tokenizer.0.engine(), "reason": tokenizer.0.not_fast()}).to_string();
        *out_len = info.len();
        if info.len() > out_cap {
            return Err(Error::BufferTooSmall {
                needed: info.len(),
                message: format!("the info is {} bytes, the buffer holds {out_cap}", info.len()),
            });
        }
        // SAFETY: the caller's contract (the export's doc comment).
        let out = unsafe { slice_mut(out.cast::<u8>(), info.len(), "out") }?;
        out.copy_from_slice(info.as_bytes());
        Ok(())
    })
}

/// Encodes every text of `texts` (an Arrow C stream, consumed and released, whose batches
/// have one column of utf8, large_utf8 or utf8_view; a null text is an error) on all cores
/// and writes the ids as one array into `ids_array` / `ids_schema`: `list<int32>` (texts in
/// order; `large_list<int32>` if they hold more than 2**31 - 1 tokens). `options_json` (NULL
/// = defaults): `{"add_special_tokens": false, "offsets": false, "num_threads": 0}`. With
/// `"offsets": true`, each token's span in its text in code points (start, end) goes to
/// `offsets_array` / `offsets_schema` as `list<fixed_size_list<int64, 2>>` (else they may be
/// NULL and are not written). The caller releases what is written.
#[no_mangle]
pub unsafe extern "C" fn fax_tokenizer_encode(
    tokenizer: *const FaxTokenizer,
    texts: *mut FFI_ArrowArrayStream,
    options_json: *const c_char,
    options_len: usize,
    ids_array: *mut FFI_ArrowArray,
    ids_schema: *mut FFI_ArrowSchema,
    offsets_array: *mut FFI_ArrowArray,
    offsets_schema: *mut FFI_ArrowSchema,
) -> i32 {
    guard(|| {
        // SAFETY: caller's contract for every pointer; the stream is consumed first so that
        // it is released on every path.
        let batches = unsafe { read_stream(texts) }?;
        let tokenizer =
            // SAFETY: the caller's contract (the export's doc comment).
            unsafe { tokenizer.as_ref() }.ok_or_else(|| Error::invalid("tokenizer is NULL"))?;
        // SAFETY: as above, the caller's contract.
        let options: BatchOptions = unsafe { json_options(options_json, options_len, "encode") }?;
        if ids_array.is_null() || ids_schema.is_null() {
            return Err(Error::invalid("ids_array and ids_schema must not be NULL"));
        }
        if options.offsets && (offsets_array.is_null() || offsets_schema.is_null()) {
            return Err(Error::invalid("offsets_array and offsets_schema must not be NULL when offsets are asked for"));
        }
        let mut columns = Vec::with_capacity(batches.len());
        for batch in &batches {
            if batch.num_columns() != 1 {
                return Err(Error::invalid(format!("texts batches must have one column, not {}", batch.num_columns())));
            }
            columns.push(batch.column(0).clone());
        }
        let (ids, offsets) = encode_batch(&tokenizer.0, &columns, options)?;
        // SAFETY: the out-pointers are non-NULL (checked) and writable (caller's contract).
        unsafe { export(&ids, ids_array, ids_schema) }?;
        if let Some(offsets) = offsets {
            // SAFETY: the caller's contract (the export's doc comment).
            unsafe { export(&offsets, offsets_array, offsets_schema) }?;
        }
        Ok(())
    })
}

// The handle is shared across threads by callers (docs above).
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<FaxTokenizer>();
};
