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

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

use crate::error::{Error, Result};

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

/// A packing: bin i holds items order[bin_offsets[i]..bin_offsets[i+1]] (indices into lengths).
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

/// `allocate_sequentially`: only the newest bin is open; an item that does not fit closes it.
/// Bins hold consecutive items, so the order is just 0..n. Returns `(order, bin_offsets)`.
fn next_fit(lengths: &[i64], capacity: i64, max_items: u32) -> (Vec<i64>, Vec<i64>) {
    let mut bin_offsets = Vec::new();
    // Room -1 fits nothing, so the first item opens the first bin.
    let mut remaining = -1i64;
    let mut count = 0u32;
    for (item, &len) in lengths.iter().enumerate() {
        if len <= remaining && count < max_items {
            remaining -= len;
            count += 1;
        } else {
            // Axolotl skips closing an empty bin; here every bin holds the item that opened it.
            bin_offsets.push(item as i64);
            remaining = capacity - len;
            count = 1;
        }
    }
    bin_offsets.push(lengths.len() as i64);
    ((0..lengths.len() as i64).collect(), bin_offsets)
}

/// The bin of each item in the order the items were placed, grouped into a packing at the
/// end. Kept in placement order, not by item, so that recording and grouping read and write
/// it sequentially even when the items come in sorted order.
struct Placements {
    bins: Vec<u32>,
    /// Items in each bin so far; its length is the number of bins.
    counts: Vec<u32>,
}

impl Placements {
    fn new(num_items: usize) -> Self {
        Placements { bins: Vec::with_capacity(num_items), counts: Vec::new() }
    }

    fn num_bins(&self) -> usize {
        self.counts.len()
    }

    /// Places the next item into a new bin and returns the bin's index.
    fn open(&mut self) -> usize {
        let bin = self.counts.len();
        self.counts.push(1);
        self.bins.push(bin as u32);
        bin
    }

    /// Places the next item into `bin` and returns how many items the bin now holds.
    fn add(&mut self, bin: usize) -> u32 {
        self.bins.push(bin as u32);
        self.counts[bin] += 1;
        self.counts[bin]
    }

    /// `(order, bin_offsets)` by a counting sort on the bin; `placed` lists the items in the
    /// order they were placed, which each bin keeps.
    fn group(self, placed: impl Iterator<Item = u32>) -> (Vec<i64>, Vec<i64>) {
        let mut bin_offsets = Vec::with_capacity(self.counts.len() + 1);
        let mut next = Vec::with_capacity(self.counts.len());
        let mut total = 0usize;
        bin_offsets.push(0i64);
        for &count in &self.counts {
            next.push(total);
            total += count as usize;
            bin_offsets.push(total as i64);
        }
        let mut order = vec![0i64; self.bins.len()];
        for (item, &bin) in placed.zip(&self.bins) {
            let slot = &mut next[bin as usize];
            order[*slot] = i64::from(item);
            *slot += 1;
        }
        (order, bin_offsets)
    }
}

/// First fit over `items` (any order): the lowest-index bin with room, found in a `RoomTree`.
fn first_fit(lengths: &[i64], items: impl Iterator<Item = u32>, capacity: i64, max_items: u32) -> Placements {
    let mut placed = Placements::new(lengths.len());
    let mut tree = RoomTree::new(capacity);
    let mut current: Option<Current> = None;
    for item in items {
        let len = lengths[item as usize];
        if let Some(cur) = current.as_mut() {
            // Bins left of it had no room for `len` and still have none: it is the first fit.
            if cur.takes(len, &placed, max_items) {
                cur.room -= len;
                placed.add(cur.bin);
                continue;
            }
            tree.set(cur.bin, cur.room_left(&placed, max_items).unwrap_or(-1));
        }
        // An oversize item fits no bin.
        let fit = if len <= capacity { tree.leftmost_fit(len) } else { None };
        current = Some(match fit {
            Some(bin) if bin < placed.num_bins() => {
                placed.add(bin);
                Current::new(bin, tree.room(bin) - len, len)
            }
            // Bins not opened yet have room `capacity`, so the search may land on the next one.
            _ => Current::new(placed.open(), capacity - len, len),
        });
    }
    placed
}

/// The bin the previous item went into, kept out of the search structure while further
/// items of the same length fit it, which saves a search per item in the runs of equal
/// lengths that a decreasing sort makes. It stays the answer for that length. First fit: the
/// bins left of it had no room for `len` and, as rooms only shrink, still have none. Best
/// fit: no other open bin has a room in `len..old_room` (it would have been chosen), and the
/// bin's room is now below `old_room`, so it is strictly the tightest. A new bin qualifies
/// too: no open bin had room for `len` at all.
struct Current {
    bin: usize,
    room: i64,
    len: i64,
}

impl Current {
    fn new(bin: usize, room: i64, len: i64) -> Self {
        Current { bin, room, len }
    }

    fn takes(&self, len: i64, placed: &Placements, max_items: u32) -> bool {
        len == self.len && self.room >= len && placed.counts[self.bin] < max_items
    }

    /// The room to put back into the search structure, or None if the bin takes nothing more
    /// (it holds an oversize item, or max_items).
    fn room_left(&self, placed: &Placements, max_items: u32) -> Option<i64> {
        (self.room >= 0 && placed.counts[self.bin] < max_items).then_some(self.room)
    }
}

/// Max-segment tree over the bins' rooms: finds the leftmost bin with room for a length in
/// O(log bins) instead of scanning every open bin.
struct RoomTree {
    /// `node[1]` is the root, `node[leaves + b]` bin `b`'s room (`capacity` for bins not
    /// opened yet, -1 for a bin that takes nothing more), `node[i]` the max of its children.
    node: Vec<i64>,
    capacity: i64,
}

impl RoomTree {
    fn new(capacity: i64) -> Self {
        RoomTree { node: vec![capacity; 2 * 64], capacity }
    }

    fn leaves(&self) -> usize {
        self.node.len() / 2
    }

    fn room(&self, bin: usize) -> i64 {
        self.node[self.leaves() + bin]
    }

    /// The lowest bin (opened or not) with room >= `len`.
    fn leftmost_fit(&self, len: i64) -> Option<usize> {
        if self.node[1] < len {
            return None;
        }
        let leaves = self.leaves();
        let mut i = 1;
        // `leaves` is a power of two: this many halvings reach a leaf.
        for _ in 0..leaves.trailing_zeros() {
            // Branch-free: which child to take is unpredictable, a mispredict costs more.
            i = 2 * i + usize::from(self.node[2 * i] < len);
        }
        Some(i - leaves)
    }

    /// Sets a bin's room; rooms only ever shrink.
    fn set(&mut self, bin: usize, room: i64) {
        if bin >= self.leaves() {
            self.grow();
        }
        let mut i = self.leaves() + bin;
        self.node[i] = room;
        while i > 1 {
            i /= 2;
            let max = self.node[2 * i].max(self.node[2 * i + 1]);
            // Once an ancestor keeps its value, all above it do too.
            if self.node[i] == max {
                break;
            }
            self.node[i] = max;
        }
    }

    /// Doubles the bins the tree covers; the rebuilds cost O(1) amortised per bin.
    fn grow(&mut self) {
        let old = self.leaves();
        let leaves = 2 * old;
        let mut node = vec![self.capacity; 2 * leaves];
        node[leaves..leaves + old].copy_from_slice(&self.node[old..]);
        for i in (1..leaves).rev() {
            node[i] = node[2 * i].max(node[2 * i + 1]);
        }
        self.node = node;
    }
}

/// Item indices by length, longest first; equal lengths keep their input order.
fn decreasing_order(lengths: &[i64], capacity: i64) -> Vec<u32> {
    // Only lengths that fit need a bucket each, so a huge capacity with short items still
    // gets the counting sort.
    let longest_fitting = lengths.iter().copied().filter(|&len| len <= capacity).max();
    let longest_fitting = longest_fitting.unwrap_or(0);
    if use_buckets(lengths.len(), longest_fitting) {
        return decreasing_order_counting(lengths, capacity, longest_fitting);
    }
    // The index makes every key distinct, so the faster unstable sort is still deterministic.
    let mut keys: Vec<(Reverse<i64>, u32)> =
        lengths.iter().enumerate().map(|(i, &len)| (Reverse(len), i as u32)).collect();
    keys.sort_unstable();
    keys.into_iter().map(|(_, i)| i).collect()
}

/// Counting sort with a bucket per length `0..=longest_fitting`, all oversize lengths sharing
/// one more bucket that is then sorted on its own (oversize items are few, their lengths
/// anything).
fn decreasing_order_counting(lengths: &[i64], capacity: i64, longest_fitting: i64) -> Vec<u32> {
    // Bucket 0 holds the oversize lengths, bucket k > 0 length longest_fitting + 1 - k.
    let top = longest_fitting as usize + 1;
    let bucket = |len: i64| {
        if len > capacity {
            0
        } else {
            top - len as usize
        }
    };
    let mut starts = vec![0usize; top + 2];
    for &len in lengths {
        starts[bucket(len) + 1] += 1;
    }
    for k in 1..starts.len() {
        starts[k] += starts[k - 1];
    }
    let oversize_end = starts[1];
    let mut order = vec![0u32; lengths.len()];
    for (item, &len) in lengths.iter().enumerate() {
        let slot = &mut starts[bucket(len)];
        order[*slot] = item as u32;
        *slot += 1;
    }
    order[..oversize_end].sort_by_key(|&i| Reverse(lengths[i as usize]));
    order
}

/// Best fit over `order`: each item into the open bin with the smallest room that fits it,
/// lowest index among equal rooms.
fn best_fit(lengths: &[i64], order: &[u32], capacity: i64, max_items: u32, open: &mut impl OpenBins) -> Placements {
    let mut placed = Placements::new(lengths.len());
    let mut current: Option<Current> = None;
    for &item in order {
        let len = lengths[item as usize];
        if let Some(cur) = current.as_mut() {
            if cur.takes(len, &placed, max_items) {
                cur.room -= len;
                placed.add(cur.bin);
                continue;
            }
            if let Some(room) = cur.room_left(&placed, max_items) {
                open.push(room, cur.bin as u32);
            }
        }
        let fit = if len <= capacity { open.pop_fit(len) } else { None };
        current = Some(match fit {
            Some((room, bin)) => {
                placed.add(bin as usize);
                Current::new(bin as usize, room - len, len)
            }
            None => Current::new(placed.open(), capacity - len, len),
        });
    }
    placed
}

/// The open bins of best fit, by room.
trait OpenBins {
    fn push(&mut self, room: i64, bin: u32);

    /// Removes and returns `(room, bin)` of the bin with the smallest room >= `len`
    /// (0 <= len <= capacity), lowest index among equal rooms.
    fn pop_fit(&mut self, len: i64) -> Option<(i64, u32)>;
}

/// For any capacity: ordered by (room, bin), the first entry at or after (len, 0) fits best.
impl OpenBins for BTreeSet<(i64, u32)> {
    fn push(&mut self, room: i64, bin: u32) {
        self.insert((room, bin));
    }

    fn pop_fit(&mut self, len: i64) -> Option<(i64, u32)> {
        let fit = *self.range((len, 0)..).next()?;
        self.remove(&fit);
        Some(fit)
    }
}

/// Open bins for small capacities: a min-heap of bin indices per room value
/// `0..=capacity`, and a bitset of the non-empty ones to find the tightest room >= len in a
/// few word operations.
struct RoomBuckets {
    heaps: Vec<BinaryHeap<Reverse<u32>>>,
    nonempty: BitLevels,
}

impl RoomBuckets {
    fn new(capacity: usize) -> Self {
        RoomBuckets {
            heaps: (0..=capacity).map(|_| BinaryHeap::new()).collect(),
            nonempty: BitLevels::new(capacity + 1),
        }
    }
}

impl OpenBins for RoomBuckets {
    fn push(&mut self, room: i64, bin: u32) {
        self.heaps[room as usize].push(Reverse(bin));
        self.nonempty.insert(room as usize);
    }

    fn pop_fit(&mut self, len: i64) -> Option<(i64, u32)> {
        let room = self.nonempty.next_at_or_after(len as usize)?;
        let Reverse(bin) = self.heaps[room].pop()?;
        if self.heaps[room].is_empty() {
            self.nonempty.remove(room);
        }
        Some((room as i64, bin))
    }
}

/// A set of integers `0..size` as a bitset plus summary levels (a bit per non-zero word of
/// the level below), so finding the next member reads one word per level.
struct BitLevels {
    levels: Vec<Vec<u64>>,
}

impl BitLevels {
    fn new(size: usize) -> Self {
        let mut levels = Vec::new();
        let mut words = size.div_ceil(64).max(1);
        loop {
            levels.push(vec![0u64; words]);
            if words == 1 {
                break;
            }
            words = words.div_ceil(64);
        }
        BitLevels { levels }
    }

    fn insert(&mut self, x: usize) {
        let mut x = x;
        for level in &mut self.levels {
            level[x / 64] |= 1 << (x % 64);
            x /= 64;
        }
    }

    fn remove(&mut self, x: usize) {
        let mut x = x;
        for level in &mut self.levels {
            level[x / 64] &= !(1 << (x % 64));
            if level[x / 64] != 0 {
                break;
            }
            x /= 64;
        }
    }

    /// The smallest member >= `x`, if any.
    fn next_at_or_after(&self, x: usize) -> Option<usize> {
        let mut x = x;
        let mut level = 0;
        // Climb until a word has a member at or after x, then take the lowest bit downwards.
        loop {
            let words = &self.levels[level];
            let w = x / 64;
            if w >= words.len() {
                return None;
            }
            let bits = words[w] & (!0u64 << (x % 64));
            if bits != 0 {
                x = w * 64 + bits.trailing_zeros() as usize;
                break;
            }
            if level + 1 == self.levels.len() {
                return None;
            }
            level += 1;
            x = w + 1;
        }
        while level > 0 {
            level -= 1;
            x = x * 64 + self.levels[level][x].trailing_zeros() as usize;
        }
        Some(x)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::testutil::Rng;

    fn to_packing(bins: Vec<Vec<usize>>, lengths: &[i64], capacity: i64) -> Packing {
        let mut bin_offsets = vec![0i64];
        let mut order = Vec::new();
        for bin in bins {
            order.extend(bin.iter().map(|&i| i as i64));
            bin_offsets.push(order.len() as i64);
        }
        let oversize = lengths.iter().filter(|&&len| len > capacity).count();
        Packing { order, bin_offsets, oversize }
    }

    /// The rules written out with linear scans over every bin. `FirstFit` and `NextFit` are
    /// line-by-line translations of Axolotl 0.19.0's `pack_group` (with `max_bins = n`, as
    /// `pack_parallel` calls it) and `allocate_sequentially` (plus the optional item limit).
    fn reference(lengths: &[i64], capacity: i64, strategy: Strategy, max_items: Option<usize>) -> Packing {
        let bin_size = max_items.unwrap_or(usize::MAX);
        let mut bins: Vec<Vec<usize>> = Vec::new();
        let mut remaining: Vec<i64> = Vec::new();
        match strategy {
            Strategy::FirstFit => {
                for (seq_id, &size) in lengths.iter().enumerate() {
                    let mut add_new_bin = true;
                    for bin_idx in 0..remaining.len() {
                        if remaining[bin_idx] >= size && bins[bin_idx].len() < bin_size {
                            remaining[bin_idx] -= size;
                            bins[bin_idx].push(seq_id);
                            add_new_bin = false;
                            break;
                        }
                    }
                    if add_new_bin {
                        remaining.push(capacity - size);
                        bins.push(vec![seq_id]);
                    }
                }
            }
            Strategy::NextFit => {
                let mut current_bin: Vec<usize> = Vec::new();
                let mut remaining_capacity = capacity;
                for (idx, &size) in lengths.iter().enumerate() {
                    if size <= remaining_capacity && current_bin.len() < bin_size {
                        current_bin.push(idx);
                        remaining_capacity -= size;
                    } else {
                        if !current_bin.is_empty() {
                            bins.push(std::mem::take(&mut current_bin));
                        }
                        current_bin = vec![idx];
                        remaining_capacity = capacity - size;
                    }
                }
                if !current_bin.is_empty() {
                    bins.push(current_bin);
                }
            }
            Strategy::BestFitDecreasing | Strategy::FirstFitDecreasing => {
                let mut order: Vec<usize> = (0..lengths.len()).collect();
                order.sort_by_key(|&i| Reverse(lengths[i]));
                let mut alone: Vec<bool> = Vec::new();
                for i in order {
                    let len = lengths[i];
                    let mut fits =
                        (0..bins.len()).filter(|&b| !alone[b] && bins[b].len() < bin_size && remaining[b] >= len);
                    let chosen = if strategy == Strategy::FirstFitDecreasing {
                        fits.next()
                    } else {
                        fits.min_by_key(|&b| (remaining[b], b))
                    };
                    match chosen {
                        Some(b) => {
                            remaining[b] -= len;
                            bins[b].push(i);
                        }
                        None => {
                            remaining.push(capacity - len);
                            bins.push(vec![i]);
                            alone.push(len > capacity);
                        }
                    }
                }
            }
        }
        to_packing(bins, lengths, capacity)
    }

    fn bins_of(p: &Packing) -> Vec<Vec<i64>> {
        p.bin_offsets.windows(2).map(|w| p.order[w[0] as usize..w[1] as usize].to_vec()).collect()
    }

    /// Properties every packing has, whatever the strategy.
    fn check_invariants(p: &Packing, lengths: &[i64], capacity: i64, max_items: Option<usize>) {
        let mut seen = vec![false; lengths.len()];
        for &i in &p.order {
            assert!(!seen[i as usize], "item {i} placed twice");
            seen[i as usize] = true;
        }
        assert!(seen.iter().all(|&s| s), "an item is missing");
        assert_eq!(p.bin_offsets[0], 0);
        let mut fitting_total = 0i128;
        for bin in bins_of(p) {
            assert!(!bin.is_empty());
            assert!(bin.len() <= max_items.unwrap_or(usize::MAX));
            let sum: i128 = bin.iter().map(|&i| lengths[i as usize] as i128).sum();
            let single_oversize = bin.len() == 1 && lengths[bin[0] as usize] > capacity;
            assert!(sum <= capacity as i128 || single_oversize, "bin {bin:?} overflows");
            if !single_oversize {
                fitting_total += sum;
            }
        }
        let oversize = lengths.iter().filter(|&&len| len > capacity).count();
        assert_eq!(p.oversize, oversize);
        let lower_bound = (fitting_total + capacity as i128 - 1) / capacity as i128 + oversize as i128;
        assert!((p.bin_offsets.len() - 1) as i128 >= lower_bound);
    }

    const ALL: [Strategy; 4] =
        [Strategy::FirstFit, Strategy::NextFit, Strategy::BestFitDecreasing, Strategy::FirstFitDecreasing];

    fn random_lengths(rng: &mut Rng, n: usize, capacity: i64) -> Vec<i64> {
        let cap = capacity as u64;
        (0..n)
            .map(|_| match rng.below(10) {
                0 => 0,
                1 => (cap + 1 + rng.below(cap + 5)) as i64,
                2 => (1 + rng.below(cap.div_ceil(8))) as i64,
                _ => (1 + rng.below(cap)) as i64,
            })
            .collect()
    }

    #[test]
    fn matches_reference_on_random_inputs() {
        let mut rng = Rng(0x9e3779b97f4a7c15);
        for round in 0..3000 {
            let n = rng.below(if round % 50 == 0 { 1500 } else { 40 }) as usize;
            let capacity = match rng.below(4) {
                0 => 1 + rng.below(4) as i64,
                1 => 1 + rng.below(60) as i64,
                2 => 1 + rng.below(1000) as i64,
                // Past the bucket threshold: the comparison-based paths.
                _ => BUCKETS_MIN_CAPACITY + 1 + rng.below(1 << 40) as i64,
            };
            let mut lengths = random_lengths(&mut rng, n, capacity);
            if round % 3 == 0 {
                // Few distinct lengths: long runs of equal lengths, in and out of order.
                let palette = random_lengths(&mut rng, 3, capacity);
                lengths = (0..n).map(|_| palette[rng.below(3) as usize]).collect();
            }
            let max_items = match rng.below(3) {
                0 => None,
                _ => Some(1 + rng.below(6) as usize),
            };
            for strategy in ALL {
                let got = pack_bins(&lengths, capacity, strategy, max_items).unwrap();
                let want = reference(&lengths, capacity, strategy, max_items);
                assert_eq!(got, want, "{strategy:?} cap {capacity} max {max_items:?} {lengths:?}");
                check_invariants(&got, &lengths, capacity, max_items);
            }
        }
    }

    #[test]
    fn bucket_and_ordered_paths_agree() {
        // Small capacities normally take the bucket paths; force the other ones too.
        let mut rng = Rng(0x2545f4914f6cdd1d);
        for _ in 0..2000 {
            let n = rng.below(80) as usize;
            let capacity = 1 + rng.below(40) as i64;
            let lengths = random_lengths(&mut rng, n, capacity);
            let max_items = [u32::MAX, 1, 2, 3][rng.below(4) as usize];
            let order = decreasing_order(&lengths, capacity);
            let mut sorted: Vec<u32> = (0..n as u32).collect();
            sorted.sort_by_key(|&i| Reverse(lengths[i as usize]));
            assert_eq!(order, sorted);
            let buckets = &mut RoomBuckets::new(capacity as usize);
            let a = best_fit(&lengths, &order, capacity, max_items, buckets).group(order.iter().copied());
            let b = best_fit(&lengths, &order, capacity, max_items, &mut BTreeSet::new()).group(order.iter().copied());
            assert_eq!(a, b);
        }
    }

    #[test]
    fn bit_levels_find_next() {
        let mut set = BitLevels::new(300_000);
        let members = [0usize, 63, 64, 4095, 4096, 70_000, 299_999];
        for &m in &members {
            set.insert(m);
        }
        assert_eq!(set.next_at_or_after(1), Some(63));
        assert_eq!(set.next_at_or_after(65), Some(4095));
        assert_eq!(set.next_at_or_after(4097), Some(70_000));
        assert_eq!(set.next_at_or_after(300_000), None);
        set.remove(70_000);
        assert_eq!(set.next_at_or_after(4097), Some(299_999));
        set.remove(299_999);
        assert_eq!(set.next_at_or_after(4097), None);
        assert_eq!(set.next_at_or_after(0), Some(0));
    }

    fn bins(lengths: &[i64], capacity: i64, strategy: Strategy, max_items: Option<usize>) -> Vec<Vec<i64>> {
        bins_of(&pack_bins(lengths, capacity, strategy, max_items).unwrap())
    }

    #[test]
    fn first_fit_matches_axolotl_pack_group() {
        // Expected bins printed by axolotl 0.19.0's numba-jitted `pack_group(np.array(lengths,
        // dtype=np.int32), 0, 10, len(lengths), bin_size, True)`; capacity 10 throughout.
        let check = |lengths: &[i64], bin_size: usize, want: &[&[i64]]| {
            let got = bins(lengths, 10, Strategy::FirstFit, Some(bin_size));
            assert_eq!(got, want, "{lengths:?}");
        };
        check(&[5, 3, 8, 2, 7, 1, 0, 4], 1000, &[&[0, 1, 3, 6], &[2, 5], &[4], &[7]]);
        // Oversize 12 and 15 sit alone; the zeros join bin 0, not theirs.
        check(&[3, 12, 0, 5, 15, 2, 10, 0, 7, 3], 1000, &[&[0, 2, 3, 5, 7], &[1], &[4], &[6], &[8, 9]]);
        check(&[12, 0, 0, 10, 0, 4, 6, 0], 1000, &[&[0], &[1, 2, 3, 4, 7], &[5, 6]]);
        check(&[4, 4, 4, 1, 1, 1, 2, 2, 9, 0], 2, &[&[0, 1], &[2, 3], &[4, 5], &[6, 7], &[8, 9]]);
        check(&[1, 1, 1, 1, 1, 1, 1], 3, &[&[0, 1, 2], &[3, 4, 5], &[6]]);
        // A full bin (room 0) still takes zeros.
        check(&[10, 0, 5, 5, 0, 11, 0, 3, 0], 1000, &[&[0, 1, 4, 6, 8], &[2, 3], &[5], &[7]]);
        check(&[11, 0, 2, 9, 1, 0, 12, 0], 3, &[&[0], &[1, 2, 4], &[3, 5, 7], &[6]]);
    }

    #[test]
    fn next_fit_matches_axolotl_allocate_sequentially() {
        // Expected bins printed by axolotl 0.19.0's numba-jitted `allocate_sequentially(
        // np.array(lengths, dtype=np.int32), 0, 10, 1)` (rank 0 of 1); capacity 10 throughout.
        let check = |lengths: &[i64], want: &[&[i64]]| {
            assert_eq!(bins(lengths, 10, Strategy::NextFit, None), want, "{lengths:?}");
        };
        check(&[5, 3, 8, 2, 7, 1, 0, 4], &[&[0, 1], &[2, 3], &[4, 5, 6], &[7]]);
        // An oversize item closes the current bin, and the next item, even a 0, closes its.
        check(&[3, 12, 0, 5, 15, 2, 10, 0, 7, 3], &[&[0], &[1], &[2, 3], &[4], &[5], &[6, 7], &[8, 9]]);
        check(&[12, 0, 0, 10, 0, 4, 6, 0], &[&[0], &[1, 2, 3, 4], &[5, 6, 7]]);
        check(&[4, 4, 4, 1, 1, 1, 2, 2, 9, 0], &[&[0, 1], &[2, 3, 4, 5, 6], &[7], &[8, 9]]);
        check(&[1, 1, 1, 1, 1, 1, 1], &[&[0, 1, 2, 3, 4, 5, 6]]);
        check(&[10, 0, 5, 5, 0, 11, 0, 3, 0], &[&[0, 1], &[2, 3, 4], &[5], &[6, 7, 8]]);
        check(&[11, 0, 2, 9, 1, 0, 12, 0], &[&[0], &[1, 2], &[3, 4, 5], &[6], &[7]]);
        // With an item limit the bin also closes when full by count.
        let got = bins(&[1, 1, 1, 1, 1], 10, Strategy::NextFit, Some(2));
        assert_eq!(got, vec![vec![0, 1], vec![2, 3], vec![4]]);
    }

    #[test]
    fn decreasing_strategies_by_hand() {
        // Placed as 8(2) 7(4) 5(0) 4(7) 3(1) 2(3) 1(5) 0(6); the 0 joins bin 0, whose room is 0.
        let lengths = [5, 3, 8, 2, 7, 1, 0, 4];
        let want = vec![vec![2, 3, 6], vec![4, 1], vec![0, 7, 5]];
        assert_eq!(bins(&lengths, 10, Strategy::FirstFitDecreasing, None), want);
        assert_eq!(bins(&lengths, 10, Strategy::BestFitDecreasing, None), want);
        // Placed as 7(2) 4(0) 4(3) 1(1): the 1 sees rooms 3 (bin 0) and 2 (bin 1); first fit
        // takes bin 0, best fit the tighter bin 1.
        let lengths = [4, 1, 7, 4];
        assert_eq!(bins(&lengths, 10, Strategy::FirstFitDecreasing, None), vec![vec![2, 1], vec![0, 3]]);
        assert_eq!(bins(&lengths, 10, Strategy::BestFitDecreasing, None), vec![vec![2], vec![0, 3, 1]]);
        // Equal rooms: best fit takes the lowest bin index.
        assert_eq!(bins(&[7, 7, 3], 10, Strategy::BestFitDecreasing, None), vec![vec![0, 2], vec![1]]);
        // Oversize items come first and sit alone; the 0 joins a real bin, not theirs.
        for strategy in [Strategy::BestFitDecreasing, Strategy::FirstFitDecreasing] {
            let p = pack_bins(&[20, 0, 15, 4], 10, strategy, None).unwrap();
            assert_eq!(bins_of(&p), vec![vec![0], vec![2], vec![3, 1]]);
            assert_eq!(p.oversize, 2);
        }
        // The item limit makes a bin full whatever its room.
        let p = bins(&[1, 1, 1, 1, 1], 10, Strategy::BestFitDecreasing, Some(2));
        assert_eq!(p, vec![vec![0, 1], vec![2, 3], vec![4]]);
    }

    #[test]
    fn extreme_lengths_and_capacities() {
        let lengths = [i64::MAX, 0, 5, i64::MAX - 1, 1, 0, 3];
        for capacity in [1, 10, i64::MAX - 1, i64::MAX] {
            for strategy in ALL {
                for max_items in [None, Some(1), Some(2)] {
                    let got = pack_bins(&lengths, capacity, strategy, max_items).unwrap();
                    assert_eq!(got, reference(&lengths, capacity, strategy, max_items), "{strategy:?} {capacity}");
                    check_invariants(&got, &lengths, capacity, max_items);
                }
            }
        }
    }

    #[test]
    fn empty_input() {
        for strategy in ALL {
            let p = pack_bins(&[], 8, strategy, Some(2)).unwrap();
            assert_eq!(p, Packing { order: vec![], bin_offsets: vec![0], oversize: 0 });
        }
    }

    #[test]
    fn invalid_arguments() {
        for strategy in ALL {
            let err = pack_bins(&[1, 2, -3, 4], 10, strategy, None).unwrap_err();
            assert!(matches!(&err, Error::InvalidArgument(m) if m.contains("lengths[2]")), "{err}");
            for capacity in [0, -5] {
                let err = pack_bins(&[1], capacity, strategy, None).unwrap_err();
                assert!(matches!(err, Error::InvalidArgument(_)));
            }
            let err = pack_bins(&[1], 10, strategy, Some(0)).unwrap_err();
            assert!(matches!(err, Error::InvalidArgument(_)));
        }
    }

    /// Lognormal lengths (median 300, sigma 1) clipped to [16, 8192], like tokenized chat
    /// data; the normal draw is Box-Muller on two uniforms.
    fn realistic_lengths(n: usize) -> Vec<i64> {
        let mut rng = Rng(0xdeadbeefcafef00d);
        let mut uniform = || (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
        let (median, sigma) = (300f64, 1.0);
        (0..n)
            .map(|_| {
                let z = (-2.0 * (1.0 - uniform()).ln()).sqrt() * (2.0 * std::f64::consts::PI * uniform()).cos();
                ((median.ln() + sigma * z).exp() as i64).clamp(16, 8192)
            })
            .collect()
    }

    /// `cargo test --release --lib pack::tests::timing -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn timing_one_million() {
        let lengths = realistic_lengths(1_000_000);
        for strategy in ALL {
            for max_items in [None, Some(16)] {
                let mut best = f64::MAX;
                let mut num_bins = 0;
                for _ in 0..5 {
                    let start = std::time::Instant::now();
                    let p = pack_bins(&lengths, 8192, strategy, max_items).unwrap();
                    best = best.min(start.elapsed().as_secs_f64());
                    num_bins = p.bin_offsets.len() - 1;
                }
                println!("{strategy:?} max_items {max_items:?}: {num_bins} bins, best of 5 {:.1} ms", best * 1e3);
            }
        }
    }

    /// `cargo test --release --lib pack::tests::timing_groups -- --ignored --nocapture`:
    /// Axolotl's sampler case, groups of 100,000 packed first fit, up to 200 items a bin.
    #[test]
    #[ignore]
    fn timing_groups() {
        let lengths = realistic_lengths(100_000);
        let start = std::time::Instant::now();
        for _ in 0..100 {
            pack_bins(&lengths, 8192, Strategy::FirstFit, Some(200)).unwrap();
        }
        println!("first fit, 100,000 items: {:.2} ms a group", start.elapsed().as_secs_f64() * 10.0);
    }

    #[test]
    fn grouped_equals_packing_each_group() {
        let lengths: Vec<i64> = (0..1000).map(|i| (i * 7919 % 500) as i64).collect();
        let all = pack_bins_grouped(&lengths, 600, Strategy::FirstFit, Some(8), 300).unwrap();
        let mut order = Vec::new();
        let mut offsets = vec![0i64];
        for (g, group) in lengths.chunks(300).enumerate() {
            let p = pack_bins(group, 600, Strategy::FirstFit, Some(8)).unwrap();
            let base = order.len() as i64;
            order.extend(p.order.iter().map(|&i| i + 300 * g as i64));
            offsets.extend(p.bin_offsets[1..].iter().map(|&o| o + base));
        }
        assert_eq!((all.order, all.bin_offsets), (order, offsets));
    }
}
