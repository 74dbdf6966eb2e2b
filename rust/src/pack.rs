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

/// Up to this capacity (or the item count, if larger) the decreasing strategies use
/// per-capacity buckets, which are faster than comparisons but cost memory per capacity unit.
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
pub fn pack_bins(
    lengths: &[i64],
    capacity: i64,
    strategy: Strategy,
    max_items_per_bin: Option<usize>,
) -> Result<Packing> {
    check_args(lengths, capacity, max_items_per_bin)?;
    let max_items = max_items_per_bin.unwrap_or(usize::MAX);
    let placed = match strategy {
        Strategy::FirstFit => first_fit(lengths, 0..lengths.len(), capacity, max_items),
        Strategy::NextFit => next_fit(lengths, capacity, max_items),
        Strategy::FirstFitDecreasing => {
            let order = decreasing_order(lengths, capacity);
            first_fit(lengths, order.into_iter(), capacity, max_items)
        }
        Strategy::BestFitDecreasing => {
            let order = decreasing_order(lengths, capacity);
            if use_buckets(lengths.len(), capacity) {
                best_fit_buckets(lengths, &order, capacity, max_items)
            } else {
                best_fit_ordered(lengths, &order, capacity, max_items)
            }
        }
    };
    let oversize = lengths.iter().filter(|&&len| len > capacity).count();
    Ok(placed.into_packing(oversize))
}

fn check_args(lengths: &[i64], capacity: i64, max_items_per_bin: Option<usize>) -> Result<()> {
    if capacity < 1 {
        return Err(Error::invalid(format!("bin capacity must be at least 1, got {capacity}")));
    }
    if max_items_per_bin == Some(0) {
        return Err(Error::invalid("max_items_per_bin must be at least 1"));
    }
    if let Some(i) = lengths.iter().position(|&len| len < 0) {
        return Err(Error::invalid(format!(
            "lengths[{i}] is {}: lengths must not be negative",
            lengths[i]
        )));
    }
    Ok(())
}

fn use_buckets(num_items: usize, capacity: i64) -> bool {
    capacity <= BUCKETS_MIN_CAPACITY.max(i64::try_from(num_items).unwrap_or(i64::MAX))
}

/// Items in placement order with the bin each went into; grouped by bin at the end.
struct Placements {
    items: Vec<usize>,
    bins: Vec<usize>,
    /// Items in each bin so far; its length is the number of bins.
    counts: Vec<usize>,
}

impl Placements {
    fn with_capacity(num_items: usize) -> Self {
        Placements {
            items: Vec::with_capacity(num_items),
            bins: Vec::with_capacity(num_items),
            counts: Vec::new(),
        }
    }

    fn num_bins(&self) -> usize {
        self.counts.len()
    }

    /// Puts `item` into a new bin and returns the bin's index.
    fn open(&mut self, item: usize) -> usize {
        self.counts.push(0);
        let bin = self.counts.len() - 1;
        self.add(bin, item);
        bin
    }

    /// Puts `item` into `bin` and returns how many items the bin now holds.
    fn add(&mut self, bin: usize, item: usize) -> usize {
        self.items.push(item);
        self.bins.push(bin);
        self.counts[bin] += 1;
        self.counts[bin]
    }

    /// A stable counting sort by bin, so each bin keeps its items in placement order.
    fn into_packing(self, oversize: usize) -> Packing {
        let mut bin_offsets = Vec::with_capacity(self.counts.len() + 1);
        let mut total = 0usize;
        bin_offsets.push(0i64);
        for &count in &self.counts {
            total += count;
            bin_offsets.push(total as i64);
        }
        let mut next: Vec<usize> = bin_offsets[..self.counts.len()].iter().map(|&o| o as usize).collect();
        let mut order = vec![0i64; self.items.len()];
        for (&item, &bin) in self.items.iter().zip(&self.bins) {
            order[next[bin]] = item as i64;
            next[bin] += 1;
        }
        Packing {
            order,
            bin_offsets,
            oversize,
        }
    }
}

/// `allocate_sequentially`: only the newest bin is open; an item that does not fit closes it.
fn next_fit(lengths: &[i64], capacity: i64, max_items: usize) -> Placements {
    let mut placed = Placements::with_capacity(lengths.len());
    let mut bin = 0;
    let mut remaining = 0;
    for (item, &len) in lengths.iter().enumerate() {
        if placed.num_bins() > 0 && len <= remaining && placed.counts[bin] < max_items {
            placed.add(bin, item);
            remaining -= len;
        } else {
            // Axolotl only closes a non-empty bin; ours never is empty, as each opens with an item.
            bin = placed.open(item);
            remaining = capacity - len;
        }
    }
    placed
}

/// First fit over `items` (any order): the lowest-index bin with room, found in a `RoomTree`.
fn first_fit(
    lengths: &[i64],
    items: impl Iterator<Item = usize>,
    capacity: i64,
    max_items: usize,
) -> Placements {
    let mut placed = Placements::with_capacity(lengths.len());
    let mut tree = RoomTree::new(capacity);
    for item in items {
        let len = lengths[item];
        if placed.num_bins() == tree.leaves() {
            tree.grow();
        }
        // A bin not opened yet has room `capacity`, so unless the item is oversize the search
        // finds either an open bin or exactly the next new one.
        let (bin, room) = match tree.leftmost_fit(len) {
            Some(bin) if bin < placed.num_bins() => (bin, tree.room(bin) - len),
            _ => (placed.num_bins(), capacity - len),
        };
        let count = if bin < placed.num_bins() {
            placed.add(bin, item)
        } else {
            placed.open(item)
        };
        // A negative room (an oversize item's bin, or a bin full by count) fits nothing.
        tree.set(bin, if count < max_items { room } else { -1 });
    }
    placed
}

/// Max-segment tree over the bins' remaining capacity: finds the leftmost bin with room for
/// a length in O(log bins) instead of scanning every open bin.
struct RoomTree {
    /// `node[1]` is the root, `node[leaves + b]` is bin `b`, `node[i]` the max of its children.
    node: Vec<i64>,
    capacity: i64,
}

impl RoomTree {
    fn new(capacity: i64) -> Self {
        let mut tree = RoomTree {
            node: Vec::new(),
            capacity,
        };
        tree.resize(64);
        tree
    }

    fn leaves(&self) -> usize {
        self.node.len() / 2
    }

    fn room(&self, bin: usize) -> i64 {
        self.node[self.leaves() + bin]
    }

    /// Doubles the bins the tree covers; amortised O(1) per bin.
    fn grow(&mut self) {
        self.resize(self.leaves() * 2);
    }

    fn resize(&mut self, leaves: usize) {
        let old = self.leaves();
        let mut node = vec![self.capacity; 2 * leaves];
        node[leaves..leaves + old].copy_from_slice(&self.node[old..]);
        for i in (1..leaves).rev() {
            node[i] = node[2 * i].max(node[2 * i + 1]);
        }
        self.node = node;
    }

    fn leftmost_fit(&self, len: i64) -> Option<usize> {
        if self.node[1] < len {
            return None;
        }
        let leaves = self.leaves();
        let mut i = 1;
        while i < leaves {
            i *= 2;
            if self.node[i] < len {
                i += 1;
            }
        }
        Some(i - leaves)
    }

    fn set(&mut self, bin: usize, room: i64) {
        let mut i = self.leaves() + bin;
        self.node[i] = room;
        while i > 1 {
            i /= 2;
            let max = self.node[2 * i].max(self.node[2 * i + 1]);
            // Rooms only shrink; once an ancestor keeps its value, all above it do too.
            if self.node[i] == max {
                break;
            }
            self.node[i] = max;
        }
    }
}

/// Item indices by length, longest first; equal lengths keep their input order.
fn decreasing_order(lengths: &[i64], capacity: i64) -> Vec<usize> {
    if use_buckets(lengths.len(), capacity) {
        return decreasing_order_counting(lengths, capacity);
    }
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    // The index makes every key distinct, so the faster unstable sort is still deterministic.
    order.sort_unstable_by_key(|&i| (Reverse(lengths[i]), i));
    order
}

/// Counting sort on lengths `0..=capacity`, all oversize lengths sharing one bucket that is
/// then sorted on its own (oversize items are few; their lengths can be anything).
fn decreasing_order_counting(lengths: &[i64], capacity: i64) -> Vec<usize> {
    let oversize = capacity as usize + 1;
    let bucket = |len: i64| (len as u64).min(oversize as u64) as usize;
    let mut starts = vec![0usize; oversize + 2];
    for &len in lengths {
        starts[oversize - bucket(len) + 1] += 1;
    }
    for k in 1..starts.len() {
        starts[k] += starts[k - 1];
    }
    let mut order = vec![0usize; lengths.len()];
    for (item, &len) in lengths.iter().enumerate() {
        let k = oversize - bucket(len);
        order[starts[k]] = item;
        starts[k] += 1;
    }
    // After the scatter starts[0] is where the oversize bucket ends; sort_by_key is stable.
    order[..starts[0]].sort_by_key(|&i| Reverse(lengths[i]));
    order
}

/// Best fit with the open bins in a set ordered by (room, bin): the first entry at or after
/// (len, 0) is the tightest bin that fits, lowest index among equals.
fn best_fit_ordered(lengths: &[i64], order: &[usize], capacity: i64, max_items: usize) -> Placements {
    let mut placed = Placements::with_capacity(lengths.len());
    let mut open: BTreeSet<(i64, usize)> = BTreeSet::new();
    for &item in order {
        let len = lengths[item];
        if let Some(&(room, bin)) = open.range((len, 0)..).next() {
            open.remove(&(room, bin));
            if placed.add(bin, item) < max_items {
                open.insert((room - len, bin));
            }
        } else {
            let bin = placed.open(item);
            // An oversize item's bin and a bin already full by count never enter the set.
            if len <= capacity && max_items > 1 {
                open.insert((capacity - len, bin));
            }
        }
    }
    placed
}

/// Best fit with the open bins in `RoomBuckets`; same result as `best_fit_ordered`.
fn best_fit_buckets(lengths: &[i64], order: &[usize], capacity: i64, max_items: usize) -> Placements {
    let mut placed = Placements::with_capacity(lengths.len());
    let mut open = RoomBuckets::new(capacity as usize);
    for &item in order {
        let len = lengths[item];
        if let Some((room, bin)) = open.pop_fit(len) {
            if placed.add(bin, item) < max_items {
                open.push(room - len as usize, bin);
            }
        } else {
            let bin = placed.open(item);
            if len <= capacity && max_items > 1 {
                open.push((capacity - len) as usize, bin);
            }
        }
    }
    placed
}

/// Open bins by room for small capacities: a min-heap of bin indices per room value
/// `0..=capacity`, and a bitset of the non-empty ones to find the tightest room >= len in a
/// few word operations.
struct RoomBuckets {
    heaps: Vec<BinaryHeap<Reverse<usize>>>,
    nonempty: BitLevels,
}

impl RoomBuckets {
    fn new(capacity: usize) -> Self {
        RoomBuckets {
            heaps: (0..=capacity).map(|_| BinaryHeap::new()).collect(),
            nonempty: BitLevels::new(capacity + 1),
        }
    }

    fn push(&mut self, room: usize, bin: usize) {
        self.heaps[room].push(Reverse(bin));
        self.nonempty.insert(room);
    }

    /// Removes and returns the open bin with the smallest room >= `len`, lowest index first.
    fn pop_fit(&mut self, len: i64) -> Option<(usize, usize)> {
        let room = self.nonempty.next_at_or_after(usize::try_from(len).ok()?)?;
        let Reverse(bin) = self.heaps[room].pop()?;
        if self.heaps[room].is_empty() {
            self.nonempty.remove(room);
        }
        Some((room, bin))
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
