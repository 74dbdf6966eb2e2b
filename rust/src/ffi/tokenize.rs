//! C exports of dataset tokenization: a prompt-strategy handle made from a tokenizer handle
//! (`ffi/tokenizer.rs`) and a JSON plan, and one call that tokenizes the rows of an Arrow C
//! stream.

use std::os::raw::c_char;

use arrow_array::ffi::{FFI_ArrowArray, FFI_ArrowSchema};
use arrow_array::ffi_stream::FFI_ArrowArrayStream;
use std::sync::Arc;

use arrow_array::{ArrayRef, StructArray};

use super::args::utf8_arg;
use super::arrow::{export, read_stream};
use super::guard;
use super::tokenizer::FaxTokenizer;
use crate::error::Error;
use crate::tokenize::batch::{tokenize_batches, Strategy};
use crate::tokenize::Plan;

/// A prompt strategy (one of Axolotl's dataset `type`s) compiled from a plan. Thread-safe
/// for `fax_prompt_strategy_tokenize`. Free with `fax_prompt_strategy_free`.
pub struct FaxPromptStrategy(Strategy);

/// Compiles the plan `plan_json` (a JSON object whose "strategy" names the dataset type, e.g.
/// "chat_template", with every option stated; docs/tokenize.md) for `tokenizer` into `*out`.
/// A malformed plan or a chat template that does not compile is `FAX_ERR_INVALID_ARGUMENT`
/// (the message names the template line).
#[no_mangle]
pub unsafe extern "C" fn fax_prompt_strategy_new(
    tokenizer: *const FaxTokenizer,
    plan_json: *const c_char,
    plan_len: usize,
    out: *mut *mut FaxPromptStrategy,
) -> i32 {
    guard(|| {
        // SAFETY: caller's contract for every pointer.
        let out = unsafe { out.as_mut() }.ok_or_else(|| Error::invalid("out is NULL"))?;
        let tokenizer =
            // SAFETY: the caller's contract (the export's doc comment).
            unsafe { tokenizer.as_ref() }.ok_or_else(|| Error::invalid("tokenizer is NULL"))?;
        // SAFETY: as above, the caller's contract.
        let plan = Plan::from_json(unsafe { utf8_arg(plan_json, plan_len, "plan_json") }?)?;
        let strategy = Strategy::new(plan, tokenizer.shared())?;
        *out = Box::into_raw(Box::new(FaxPromptStrategy(strategy)));
        Ok(())
    })
}

/// Frees a strategy from `fax_prompt_strategy_new`; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn fax_prompt_strategy_free(strategy: *mut FaxPromptStrategy) {
    super::guard_value((), || {
        if !strategy.is_null() {
            // SAFETY: from fax_prompt_strategy_new, freed once (caller's contract).
            drop(unsafe { Box::from_raw(strategy) });
        }
    })
}

/// Tokenizes every row of the record batches in `rows` (consumed and released) on
/// `num_threads` threads (0 = all cores) and writes one struct array into `out_array` /
/// `out_schema` (the caller releases both): per output row, `row` (int64, the input row,
/// counted across batches; a chunking strategy gives several output rows per input row),
/// `status` (int8: 0 = tokenized, 1 = not modelled here: run the original code on that row,
/// `message` (utf8) says why), and `input_ids`, `labels`, `attention_mask` (list<int64>,
/// empty for status 1). Rows keep their input order.
#[no_mangle]
pub unsafe extern "C" fn fax_prompt_strategy_tokenize(
    strategy: *const FaxPromptStrategy,
    rows: *mut FFI_ArrowArrayStream,
    num_threads: usize,
    out_array: *mut FFI_ArrowArray,
    out_schema: *mut FFI_ArrowSchema,
) -> i32 {
    guard(|| {
        // SAFETY: caller's contract for every pointer; the stream is consumed first so that
        // it is released on every path.
        let batches = unsafe { read_stream(rows) }?;
        let strategy =
            // SAFETY: the caller's contract (the export's doc comment).
            unsafe { strategy.as_ref() }.ok_or_else(|| Error::invalid("strategy is NULL"))?;
        if out_array.is_null() || out_schema.is_null() {
            return Err(Error::invalid("out_array and out_schema must not be NULL"));
        }
        let output = tokenize_batches(&strategy.0, &batches, num_threads)?;
        let output: ArrayRef = Arc::new(StructArray::from(output));
        // SAFETY: both are non-NULL (checked above) and writable (caller's contract).
        unsafe { export(&output, out_array, out_schema) }?;
        Ok(())
    })
}

// Both handles are shared across threads by callers (docs above).
const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<FaxPromptStrategy>();
};
