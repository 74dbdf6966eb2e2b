//! What first fit and best fit share: the placements made so far and the bin in use.

/// The bin of each item in the order the items were placed, grouped into a packing at the
/// end. Kept in placement order, not by item, so that recording and grouping read and write
/// it sequentially even when the items come in sorted order.
pub(super) struct Placements {
    bins: Vec<u32>,
    /// Items in each bin so far; its length is the number of bins.
    counts: Vec<u32>,
}

impl Placements {
    pub(super) fn new(num_items: usize) -> Self {
        Placements { bins: Vec::with_capacity(num_items), counts: Vec::new() }
    }

    pub(super) fn num_bins(&self) -> usize {
        self.counts.len()
    }

    /// Places the next item into a new bin and returns the bin's index.
    pub(super) fn open(&mut self) -> usize {
        let bin = self.counts.len();
        self.counts.push(1);
        self.bins.push(bin as u32);
        bin
    }

    /// Places the next item into `bin` and returns how many items the bin now holds.
    pub(super) fn add(&mut self, bin: usize) -> u32 {
        self.bins.push(bin as u32);
        self.counts[bin] += 1;
        self.counts[bin]
    }

    /// `(order, bin_offsets)` by a counting sort on the bin; `placed` lists the items in the
    /// order they were placed, which each bin keeps.
    pub(super) fn group(self, placed: impl Iterator<Item = u32>) -> (Vec<i64>, Vec<i64>) {
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

/// The bin the previous item went into, kept out of the search structure while further
/// items of the same length fit it, which saves a search per item in the runs of equal
/// lengths that a decreasing sort makes. It stays the answer for that length. First fit: the
/// bins left of it had no room for `len` and, as rooms only shrink, still have none. Best
/// fit: no other open bin has a room in `len..old_room` (it would have been chosen), and the
/// bin's room is now below `old_room`, so it is strictly the tightest. A new bin qualifies
/// too: no open bin had room for `len` at all.
pub(super) struct Current {
    pub(super) bin: usize,
    pub(super) room: i64,
    len: i64,
}

impl Current {
    pub(super) fn new(bin: usize, room: i64, len: i64) -> Self {
        Current { bin, room, len }
    }

    pub(super) fn takes(&self, len: i64, placed: &Placements, max_items: u32) -> bool {
        len == self.len && self.room >= len && placed.counts[self.bin] < max_items
    }

    /// The room to put back into the search structure, or None if the bin takes nothing more
    /// (it holds an oversize item, or max_items).
    pub(super) fn room_left(&self, placed: &Placements, max_items: u32) -> Option<i64> {
        (self.room >= 0 && placed.counts[self.bin] < max_items).then_some(self.room)
    }
}
