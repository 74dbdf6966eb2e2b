//! C exports of sequence packing (`crate::pack::seqpack`): plan with `*_rows`, then fill.

use super::guard;
use super::lists::{lists_from_c, slice_mut, FaxLists};
use crate::error::{Error, Result};
use crate::pack::seqpack::{concat_rows, concatenate_and_pack, fill_pack, plan_pack, Overflow, PackValues};

pub const FAX_OVERFLOW_SPLIT: u32 = 0;
pub const FAX_OVERFLOW_TRUNCATE: u32 = 1;
pub const FAX_OVERFLOW_DROP: u32 = 2;
pub const FAX_OVERFLOW_ERROR: u32 = 3;

/// How many sequences `fax_pack_sequences` split, truncated or dropped.
#[repr(C)]
pub struct FaxPackCounts {
    pub split: usize,
    pub truncated: usize,
    pub dropped: usize,
}

fn overflow_from(code: u32) -> Result<Overflow> {
    match code {
        FAX_OVERFLOW_SPLIT => Ok(Overflow::Split),
        FAX_OVERFLOW_TRUNCATE => Ok(Overflow::Truncate),
        FAX_OVERFLOW_DROP => Ok(Overflow::Drop),
        FAX_OVERFLOW_ERROR => Ok(Overflow::Error),
        other => Err(Error::invalid(format!("unknown overflow rule {other}"))),
    }
}

fn write<T>(ptr: *mut T, value: T, what: &str) -> Result<()> {
    // SAFETY: the caller passes NULL or a writable pointer.
    let slot = unsafe { ptr.as_mut() }.ok_or_else(|| Error::invalid(format!("{what} is NULL")))?;
    *slot = value;
    Ok(())
}

/// Plans `fax_pack_sequences`: writes the number of rows to `*rows`. Each sequence is followed
/// by EOS; greedy in input order; `overflow` (`FAX_OVERFLOW_*`) decides what happens to a
/// sequence with `len + 1 > max_length` (`FAX_OVERFLOW_ERROR` fails here, naming it).
#[no_mangle]
pub unsafe extern "C" fn fax_pack_sequences_rows(
    lists: *const FaxLists,
    max_length: usize,
    overflow: u32,
    rows: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: caller's contract.
        let lists = unsafe { lists_from_c(lists) }?;
        let plan = plan_pack(&lists, max_length, overflow_from(overflow)?)?;
        write(rows, plan.num_rows(), "rows")
    })
}

/// Packs `lists` into three row-major `[rows, max_length]` int64 matrices of `out_len`
/// elements each (`rows` from `fax_pack_sequences_rows`): tokens + EOS then `pad_token_id`;
/// labels = tokens where the mask is 1, `label_pad_id` elsewhere; mask 1 / 0. `counts`
/// (may be NULL) receives how many sequences were split, truncated or dropped.
#[no_mangle]
pub unsafe extern "C" fn fax_pack_sequences(
    lists: *const FaxLists,
    max_length: usize,
    pad_token_id: i64,
    eos_token_id: i64,
    label_pad_id: i64,
    overflow: u32,
    input_ids: *mut i64,
    labels: *mut i64,
    attention_mask: *mut i64,
    out_len: usize,
    counts: *mut FaxPackCounts,
) -> i32 {
    guard(|| {
        // SAFETY: caller's contract: valid lists, three outputs of out_len elements.
        let lists = unsafe { lists_from_c(lists) }?;
        let plan = plan_pack(&lists, max_length, overflow_from(overflow)?)?;
        let values = PackValues { pad_token_id, eos_token_id, label_pad_id };
        // SAFETY: the caller's contract (the export's doc comment).
        let (ids, labs, mask) = unsafe {
            (
                slice_mut(input_ids, out_len, "input_ids")?,
                slice_mut(labels, out_len, "labels")?,
                slice_mut(attention_mask, out_len, "attention_mask")?,
            )
        };
        fill_pack(&lists, &plan, max_length, values, ids, labs, mask)?;
        if !counts.is_null() {
            let c = plan.counts;
            write(counts, FaxPackCounts { split: c.split, truncated: c.truncated, dropped: c.dropped }, "counts")?;
        }
        Ok(())
    })
}

/// Plans `fax_concatenate_and_pack`: `*rows` = total tokens / max_length, rounded up. The
/// three streams must have the same number of sequences with the same lengths.
#[no_mangle]
pub unsafe extern "C" fn fax_concatenate_rows(
    input_ids: *const FaxLists,
    labels: *const FaxLists,
    attention_mask: *const FaxLists,
    max_length: usize,
    rows: *mut usize,
) -> i32 {
    guard(|| {
        // SAFETY: caller's contract.
        let (a, b, c) = unsafe { (lists_from_c(input_ids)?, lists_from_c(labels)?, lists_from_c(attention_mask)?) };
        write(rows, concat_rows(&a, &b, &c, max_length)?, "rows")
    })
}

/// Concatenates each stream and cuts it into `[rows, max_length]` row-major int64 matrices of
/// `out_len` elements; the last row is padded (`pad_token_id`, `label_pad_id`, mask 0).
#[no_mangle]
pub unsafe extern "C" fn fax_concatenate_and_pack(
    input_ids: *const FaxLists,
    labels: *const FaxLists,
    attention_mask: *const FaxLists,
    max_length: usize,
    pad_token_id: i64,
    label_pad_id: i64,
    out_input_ids: *mut i64,
    out_labels: *mut i64,
    out_attention_mask: *mut i64,
    out_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: caller's contract.
        let (a, b, c) = unsafe { (lists_from_c(input_ids)?, lists_from_c(labels)?, lists_from_c(attention_mask)?) };
        // SAFETY: as above, the caller's contract.
        let (o1, o2, o3) = unsafe {
            (
                slice_mut(out_input_ids, out_len, "out_input_ids")?,
                slice_mut(out_labels, out_len, "out_labels")?,
                slice_mut(out_attention_mask, out_len, "out_attention_mask")?,
            )
        };
        concatenate_and_pack(&a, &b, &c, max_length, pad_token_id, label_pad_id, o1, o2, o3)
    })
}
