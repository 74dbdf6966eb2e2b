//! Best fit (best-fit decreasing): each item into the open bin with the smallest room that
//! fits it, the open bins kept by room in a B-tree or, for small capacities, in buckets.

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap};

use super::bit_levels::BitLevels;
use super::placements::{Current, Placements};

/// Best fit over `order`: each item into the open bin with the smallest room that fits it,
/// lowest index among equal rooms.
pub(super) fn best_fit(
    lengths: &[i64],
    order: &[u32],
    capacity: i64,
    max_items: u32,
    open: &mut impl OpenBins,
) -> Placements {
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
pub(super) trait OpenBins {
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
pub(super) struct RoomBuckets {
    heaps: Vec<BinaryHeap<Reverse<u32>>>,
    nonempty: BitLevels,
}

impl RoomBuckets {
    pub(super) fn new(capacity: usize) -> Self {
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
