//! C export of bin packing (`crate::pack`).

use super::guard;
use super::lists::{slice, slice_mut};
use crate::error::Error;
use crate::pack::{pack_bins_grouped, Strategy};

pub const FAX_PACK_FIRST_FIT: u32 = 0;
pub const FAX_PACK_NEXT_FIT: u32 = 1;
pub const FAX_PACK_BEST_FIT_DECREASING: u32 = 2;
pub const FAX_PACK_FIRST_FIT_DECREASING: u32 = 3;

/// Packs `n` item `lengths` into bins of `capacity` with `strategy` (`FAX_PACK_*`; first fit
/// and next fit are Axolotl's `pack_group` and `allocate_sequentially`, bin for bin).
/// `max_items_per_bin` 0 = no limit. `group_size` > 0 packs consecutive groups of that many
/// items independently (in parallel) and concatenates them, as Axolotl's `pack_parallel`.
/// Writes `order` (`n` item indices, bin by bin) and `bin_offsets` (room for `n + 1`; the
/// first `*num_bins + 1` are written): bin i holds `order[bin_offsets[i] .. bin_offsets[i+1]]`.
/// `*oversize` = items longer than `capacity` (each alone in a bin).
#[no_mangle]
pub unsafe extern "C" fn fax_pack_bins(
    lengths: *const i64,
    n: usize,
    capacity: i64,
    strategy: u32,
    max_items_per_bin: usize,
    group_size: usize,
    order: *mut i64,
    bin_offsets: *mut i64,
    num_bins: *mut usize,
    oversize: *mut usize,
) -> i32 {
    guard(|| {
        let strategy = match strategy {
            FAX_PACK_FIRST_FIT => Strategy::FirstFit,
            FAX_PACK_NEXT_FIT => Strategy::NextFit,
            FAX_PACK_BEST_FIT_DECREASING => Strategy::BestFitDecreasing,
            FAX_PACK_FIRST_FIT_DECREASING => Strategy::FirstFitDecreasing,
            other => return Err(Error::invalid(format!("unknown packing strategy {other}"))),
        };
        let limit = if max_items_per_bin == 0 { None } else { Some(max_items_per_bin) };
        let offsets_cap = n.checked_add(1).ok_or_else(|| Error::invalid("n is too large"))?;
        // SAFETY: caller's contract: `lengths` and `order` hold n elements, `bin_offsets` n + 1.
        let (lengths, order_out, offsets_out) = unsafe {
            (
                slice::<i64>(lengths.cast(), n, "lengths")?,
                slice_mut(order, n, "order")?,
                slice_mut(bin_offsets, offsets_cap, "bin_offsets")?,
            )
        };
        // SAFETY: the caller's contract (the export's doc comment).
        let (num_bins, oversize) = unsafe { (num_bins.as_mut(), oversize.as_mut()) };
        let (Some(num_bins), Some(oversize)) = (num_bins, oversize) else {
            return Err(Error::invalid("num_bins and oversize must not be NULL"));
        };
        let packing = pack_bins_grouped(lengths, capacity, strategy, limit, group_size)?;
        order_out.copy_from_slice(&packing.order);
        offsets_out[..packing.bin_offsets.len()].copy_from_slice(&packing.bin_offsets);
        *num_bins = packing.bin_offsets.len() - 1;
        *oversize = packing.oversize;
        Ok(())
    })
}
