//! Bin packing of sequence lengths into fixed-capacity bins (sample packing).
//!
//! `FirstFit` and `NextFit` reproduce Axolotl 0.19.0's packers in
//! `axolotl/utils/samplers/multipack.py` bin for bin and item for item:
//!
//! - `FirstFit` is `pack_group`: items in the given order (it does not sort, whatever its
//!   docstring says), each into the lowest-index bin with `remaining >= length` and fewer
//!   than `bin_size` items, else into a new bin. Its parameters map to ours as follows:
//!   `bin_capacity` is `capacity`; `bin_size` is the most items a bin may hold, our
//!   `max_items_per_bin` (`MultipackBatchSampler` passes `bin_size or batch_max_len`, never
//!   "no limit"); `max_bins` with `safe_mode` makes `pack_group` drop every item that would
//!   need a bin beyond the first `max_bins`. We do not cover `max_bins`/`safe_mode`: their
//!   only caller, `pack_parallel`, passes `max_bins = len(group)`, and a group of `n` items
//!   never needs more than `n` bins, so the drop never happens there (nor does the
//!   "more bins than items" safety break). `pack_parallel` cuts the lengths into groups of
//!   `group_size` consecutive items and packs each on its own; a caller reproduces it by
//!   calling `pack_bins` per group and adding the group's start to the indices.
//! - `NextFit` is `allocate_sequentially` before its rank filter: it returns every bin, and
//!   a caller that wants rank `r` of `num_ranks` keeps bins `r, r + num_ranks, ...`.
//!   Axolotl has no item limit there; ours, when given, also closes the current bin.
//!
//! An item longer than the capacity gets a bin of its own in every strategy. In Axolotl this
//! falls out of the arithmetic: the new bin's remaining capacity is `capacity - length < 0`,
//! and no later item, not even one of length 0, passes `remaining >= length` there.

mod best_fit;
mod bit_levels;
mod decreasing;
mod first_fit;
mod next_fit;
mod placements;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;

use crate::error::{Error, Result};

use best_fit::{best_fit, RoomBuckets};
use decreasing::decreasing_order;
use first_fit::first_fit;
use next_fit::next_fit;

/// Up to this capacity (or the item count, if larger) best fit keeps a bucket per room value,
/// and up to this length the decreasing sort is a counting sort: both beat comparisons but
/// cost memory per unit.
const BUCKETS_MIN_CAPACITY: i64 = 1 << 16;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    FirstFit,
    NextFit,
    BestFitDecreasing,
    FirstFitDecreasing,
}

/// A packing: bin i holds items `order[bin_offsets[i]..bin_offsets[i+1]]` (indices into lengths).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Packing {
    pub order: Vec<i64>,
    pub bin_offsets: Vec<i64>,
    /// How many items are longer than the capacity (each sits alone in its bin).
    pub oversize: usize,
}

/// Packs items of `lengths` into bins of `capacity`; `order` lists each bin's items in the
/// order they were placed, so for `FirstFit` and `NextFit` by increasing index.
/// Takes at most `u32::MAX` items: indices are kept as u32 to halve the memory traffic.
pub fn pack_bins(
    lengths: &[i64],
    capacity: i64,
    strategy: Strategy,
    max_items_per_bin: Option<usize>,
) -> Result<Packing> {
    check_args(lengths, capacity, max_items_per_bin)?;
    // No bin can hold more than u32::MAX items, so a larger limit is no limit.
    let max_items = max_items_per_bin.map_or(u32::MAX, |m| u32::try_from(m).unwrap_or(u32::MAX));
    let n = lengths.len() as u32;
    let (order, bin_offsets) = match strategy {
        Strategy::NextFit => next_fit(lengths, capacity, max_items),
        Strategy::FirstFit => first_fit(lengths, 0..n, capacity, max_items).group(0..n),
        Strategy::FirstFitDecreasing => {
            let order = decreasing_order(lengths, capacity);
            let placed = first_fit(lengths, order.iter().copied(), capacity, max_items);
            placed.group(order.into_iter())
        }
        Strategy::BestFitDecreasing => {
            let order = decreasing_order(lengths, capacity);
            let placed = if use_buckets(lengths.len(), capacity) {
                best_fit(lengths, &order, capacity, max_items, &mut RoomBuckets::new(capacity as usize))
            } else {
                best_fit(lengths, &order, capacity, max_items, &mut BTreeSet::new())
            };
            placed.group(order.into_iter())
        }
    };
    let oversize = lengths.iter().filter(|&&len| len > capacity).count();
    Ok(Packing { order, bin_offsets, oversize })
}

/// `pack_bins` on consecutive groups of `group_size` items, packed independently (in
/// parallel) and concatenated in group order, with indices into the whole of `lengths`: what
/// Axolotl's `pack_parallel` does with `pack_group`. `group_size == 0` means one group.
pub fn pack_bins_grouped(
    lengths: &[i64],
    capacity: i64,
    strategy: Strategy,
    max_items_per_bin: Option<usize>,
    group_size: usize,
) -> Result<Packing> {
    if group_size == 0 || group_size >= lengths.len() {
        return pack_bins(lengths, capacity, strategy, max_items_per_bin);
    }
    use rayon::prelude::*;
    let groups: Vec<Packing> = crate::threads::run_with_threads(0, || {
        lengths
            .par_chunks(group_size)
            .map(|group| pack_bins(group, capacity, strategy, max_items_per_bin))
            .collect::<Result<_>>()
    })?;
    let bins: usize = groups.iter().map(|g| g.bin_offsets.len() - 1).sum();
    let mut all =
        Packing { order: Vec::with_capacity(lengths.len()), bin_offsets: Vec::with_capacity(bins + 1), oversize: 0 };
    all.bin_offsets.push(0);
    for (g, packing) in groups.into_iter().enumerate() {
        let (start, base) = ((g * group_size) as i64, all.order.len() as i64);
        all.order.extend(packing.order.iter().map(|&i| i + start));
        all.bin_offsets.extend(packing.bin_offsets[1..].iter().map(|&o| o + base));
        all.oversize += packing.oversize;
    }
    Ok(all)
}

fn check_args(lengths: &[i64], capacity: i64, max_items_per_bin: Option<usize>) -> Result<()> {
    if capacity < 1 {
        return Err(Error::invalid(format!("bin capacity must be at least 1, got {capacity}")));
    }
    if max_items_per_bin == Some(0) {
        return Err(Error::invalid("max_items_per_bin must be at least 1"));
    }
    if u32::try_from(lengths.len()).is_err() {
        return Err(Error::invalid(format!("{} items: bin packing takes at most {} at once", lengths.len(), u32::MAX)));
    }
    if let Some(i) = lengths.iter().position(|&len| len < 0) {
        return Err(Error::invalid(format!("lengths[{i}] is {}: lengths must not be negative", lengths[i])));
    }
    Ok(())
}

/// Whether `size` (a capacity or a length) is small enough for arrays with an entry per unit.
fn use_buckets(num_items: usize, size: i64) -> bool {
    size <= BUCKETS_MIN_CAPACITY.max(num_items as i64)
}
