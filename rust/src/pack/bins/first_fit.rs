//! First fit (Axolotl's `pack_group`, and first-fit decreasing): the lowest-index bin with
//! room, found in a max-segment tree over the bins' rooms.

use super::placements::{Current, Placements};

/// First fit over `items` (any order): the lowest-index bin with room, found in a `RoomTree`.
pub(super) fn first_fit(
    lengths: &[i64],
    items: impl Iterator<Item = u32>,
    capacity: i64,
    max_items: u32,
) -> Placements {
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
