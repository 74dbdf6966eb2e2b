//! C export of the packed-batch gather (`crate::pack::gather`).

use super::guard;
use super::lists::{lists_from_c, slice, slice_mut, FaxLists};
use crate::error::{Error, Result};
use crate::lists::Lists;
use crate::pack::gather::{gather_packed, gather_packed_lists, GatherOut, GatherPads};

/// Padding values of `fax_gather_packed`'s four outputs.
#[repr(C)]
pub struct FaxGatherPads {
    pub pad_token_id: i64,
    pub label_pad_id: i64,
    pub position_pad_id: i64,
    pub attention_pad_id: i64,
}

/// Writes one row per bin (`bin_offsets` has `num_bins + 1` entries into `order`, which lists
/// item indices) into four row-major `[num_bins, width]` int64 matrices of `out_len` elements:
/// the items' tokens side by side, their labels (`labels` may be NULL: the tokens), position
/// ids restarting at 0 for every item, and an attention mask numbering the items 1..K.
/// A bin with more than `width` tokens -> `FAX_ERR_BUFFER_TOO_SMALL`.
#[no_mangle]
pub unsafe extern "C" fn fax_gather_packed(
    input_ids: *const FaxLists,
    labels: *const FaxLists,
    order: *const i64,
    order_len: usize,
    bin_offsets: *const i64,
    num_bins: usize,
    width: usize,
    pads: *const FaxGatherPads,
    out_input_ids: *mut i64,
    out_labels: *mut i64,
    out_position_ids: *mut i64,
    out_attention_mask: *mut i64,
    out_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: caller's contract for every pointer; NULL is checked where it is allowed.
        let (ids, labels, order, bin_offsets) =
            unsafe { packing_from_c(input_ids, labels, order, order_len, bin_offsets, num_bins) }?;
        // SAFETY: as above, the caller's contract.
        let p = unsafe { pads.as_ref() }.ok_or_else(|| Error::invalid("pads is NULL"))?;
        let pads = GatherPads {
            pad_token_id: p.pad_token_id,
            label_pad_id: p.label_pad_id,
            position_pad_id: p.position_pad_id,
            attention_pad_id: p.attention_pad_id,
        };
        // SAFETY: the caller's contract (the export's doc comment).
        let out =
            unsafe { outputs_from_c([out_input_ids, out_labels, out_position_ids, out_attention_mask], out_len) }?;
        gather_packed(&ids, labels.as_ref(), order, bin_offsets, width, pads, out)
    })
}

type Packing<'a> = (Lists<'a>, Option<Lists<'a>>, &'a [i64], &'a [i64]);

/// The inputs shared by both gathers: token lists, optional labels, `order`, `bin_offsets`.
unsafe fn packing_from_c<'a>(
    input_ids: *const FaxLists,
    labels: *const FaxLists,
    order: *const i64,
    order_len: usize,
    bin_offsets: *const i64,
    num_bins: usize,
) -> Result<Packing<'a>> {
    // SAFETY: the caller's contract (the exports' doc comments).
    let ids = unsafe { lists_from_c(input_ids) }?;
    // SAFETY: as above; labels may be NULL.
    let labels = if labels.is_null() { None } else { Some(unsafe { lists_from_c(labels) }?) };
    // SAFETY: as above.
    let order = unsafe { slice::<i64>(order.cast(), order_len, "order") }?;
    let n_offsets = num_bins.checked_add(1).ok_or_else(|| Error::invalid("num_bins is too large"))?;
    // SAFETY: as above.
    let bin_offsets = unsafe { slice::<i64>(bin_offsets.cast(), n_offsets, "bin_offsets") }?;
    Ok((ids, labels, order, bin_offsets))
}

/// The four outputs (input_ids, labels, position_ids, attention_mask) of `len` elements.
unsafe fn outputs_from_c<'a>(out: [*mut i64; 4], len: usize) -> Result<GatherOut<'a>> {
    // SAFETY: the caller's contract (the exports' doc comments).
    unsafe {
        Ok(GatherOut {
            input_ids: slice_mut(out[0], len, "out_input_ids")?,
            labels: slice_mut(out[1], len, "out_labels")?,
            position_ids: slice_mut(out[2], len, "out_position_ids")?,
            attention_mask: slice_mut(out[3], len, "out_attention_mask")?,
        })
    }
}

/// `fax_gather_packed` without padding: the bins' rows back to back in four int64 arrays of
/// `out_len` elements (must equal the bins' total tokens), row `i` at
/// `out_row_offsets[i]..out_row_offsets[i + 1]` (`num_bins + 1` entries, written here).
#[no_mangle]
pub unsafe extern "C" fn fax_gather_packed_lists(
    input_ids: *const FaxLists,
    labels: *const FaxLists,
    order: *const i64,
    order_len: usize,
    bin_offsets: *const i64,
    num_bins: usize,
    out_input_ids: *mut i64,
    out_labels: *mut i64,
    out_position_ids: *mut i64,
    out_attention_mask: *mut i64,
    out_len: usize,
    out_row_offsets: *mut i64,
) -> i32 {
    guard(|| {
        // SAFETY: caller's contract for every pointer; NULL is checked where it is allowed.
        let (ids, labels, order, bin_offsets) =
            unsafe { packing_from_c(input_ids, labels, order, order_len, bin_offsets, num_bins) }?;
        // SAFETY: the caller's contract (the export's doc comment).
        let out =
            unsafe { outputs_from_c([out_input_ids, out_labels, out_position_ids, out_attention_mask], out_len) }?;
        // SAFETY: as above, the caller's contract.
        let row_offsets = unsafe { slice_mut(out_row_offsets, bin_offsets.len(), "out_row_offsets") }?;
        gather_packed_lists(&ids, labels.as_ref(), order, bin_offsets, out, row_offsets)
    })
}
