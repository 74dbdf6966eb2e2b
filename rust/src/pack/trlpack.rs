//! Best-fit decreasing as TRL's `pack_dataset` does it (`trl.data_utils._pack_bfd`), bin for
//! bin: items longest first (equal lengths in input order), each into the bin with the
//! smallest room that fits it, and among bins of equal room the one that reached that room
//! first; a new bin when none fits. TRL packs each `datasets.map` batch on its own, so the
//! items come in groups that are packed independently (in parallel) and concatenated.
//!
//! `pack::pack_bins`' best fit breaks ties by the lowest bin index instead, which can differ.

use std::cmp::Reverse;
use std::collections::btree_map::Entry;
use std::collections::BTreeMap;

use crate::error::{Error, Result};
use crate::pack::Packing;

/// Packs every group `lengths[group_offsets[g] .. group_offsets[g + 1]]` on its own into bins
/// of `capacity`; bins are listed group by group, each in the order it was opened, its items
/// (indices into `lengths`) in the order they were placed. Every length must be in
/// `1..=capacity` (TRL drops empty rows and truncates or splits long ones first).
pub fn pack_groups(lengths: &[i64], group_offsets: &[usize], capacity: i64) -> Result<Packing> {
    check_args(lengths, group_offsets, capacity)?;
    use rayon::prelude::*;
    let groups: Vec<(Vec<u32>, Vec<u32>)> = crate::threads::run_with_threads(0, || {
        group_offsets.par_windows(2).map(|w| pack_group(lengths, w[0], w[1], capacity)).collect()
    });
    let mut packing = Packing { order: Vec::with_capacity(lengths.len()), bin_offsets: vec![0], oversize: 0 };
    for (order, sizes) in groups {
        packing.order.extend(order.into_iter().map(i64::from));
        for size in sizes {
            let end = packing.bin_offsets[packing.bin_offsets.len() - 1] + i64::from(size);
            packing.bin_offsets.push(end);
        }
    }
    Ok(packing)
}

fn check_args(lengths: &[i64], group_offsets: &[usize], capacity: i64) -> Result<()> {
    if capacity < 1 {
        return Err(Error::invalid(format!("capacity must be at least 1, got {capacity}")));
    }
    if u32::try_from(lengths.len()).is_err() {
        return Err(Error::invalid("at most u32::MAX items"));
    }
    if let Some(i) = lengths.iter().position(|&len| len < 1 || len > capacity) {
        return Err(Error::invalid(format!("lengths[{i}] = {} is outside 1..={capacity}", lengths[i])));
    }
    let ordered = group_offsets.windows(2).all(|w| w[0] <= w[1]);
    if group_offsets.first() != Some(&0) || group_offsets.last() != Some(&lengths.len()) || !ordered {
        return Err(Error::invalid("group_offsets must rise from 0 to the number of items"));
    }
    Ok(())
}

/// One group's bins, as TRL's segment tree and `space_to_bin` queues make them: a map from
/// room to the queue of bins with that room finds the smallest room that fits in log time.
/// The queues are linked lists threaded through `next` (one slot per bin), so placing an
/// item allocates nothing.
fn pack_group(lengths: &[i64], start: usize, end: usize, capacity: i64) -> (Vec<u32>, Vec<u32>) {
    let mut items: Vec<u32> = (start as u32..end as u32).collect();
    // Stable: equal lengths keep their input order, as Arrow's sort does.
    items.sort_by_key(|&i| Reverse(lengths[i as usize]));
    let mut bin_of: Vec<u32> = Vec::with_capacity(items.len());
    let mut next: Vec<u32> = Vec::new(); // the bin after each one in its room's queue
    let mut queues: BTreeMap<i64, (u32, u32)> = BTreeMap::new(); // room -> (first, last) bin
    for &item in &items {
        let len = lengths[item as usize];
        let (bin, room) = match queues.range_mut(len..).next() {
            Some((&room, queue)) => {
                let bin = queue.0;
                if bin == queue.1 {
                    queues.remove(&room);
                } else {
                    queue.0 = next[bin as usize];
                }
                (bin, room)
            }
            None => {
                next.push(NONE);
                (next.len() as u32 - 1, capacity)
            }
        };
        bin_of.push(bin);
        if room > len {
            next[bin as usize] = NONE;
            match queues.entry(room - len) {
                Entry::Occupied(mut queue) => {
                    let queue = queue.get_mut();
                    next[queue.1 as usize] = bin;
                    queue.1 = bin;
                }
                Entry::Vacant(slot) => {
                    slot.insert((bin, bin));
                }
            }
        }
    }
    by_bin(&items, &bin_of, next.len())
}

/// `(items bin by bin, each bin's item count)`: a counting sort of the placements by bin,
/// stable, so each bin lists its items in the order they were placed.
fn by_bin(items: &[u32], bin_of: &[u32], num_bins: usize) -> (Vec<u32>, Vec<u32>) {
    let mut sizes = vec![0u32; num_bins];
    for &bin in bin_of {
        sizes[bin as usize] += 1;
    }
    let mut slots: Vec<usize> = sizes
        .iter()
        .scan(0usize, |end, &size| {
            let start = *end;
            *end += size as usize;
            Some(start)
        })
        .collect();
    let mut order = vec![0u32; items.len()];
    for (&item, &bin) in items.iter().zip(bin_of) {
        order[slots[bin as usize]] = item;
        slots[bin as usize] += 1;
    }
    (order, sizes)
}

const NONE: u32 = u32::MAX;

#[cfg(test)]
mod tests {
    use super::*;

    /// TRL's `_pack_bfd` binning, transcribed: a linear scan for the smallest room stands in
    /// for its segment tree; bins of equal room are served first come, first served.
    fn reference(lengths: &[i64], capacity: i64) -> Vec<Vec<u32>> {
        let mut items: Vec<u32> = (0..lengths.len() as u32).collect();
        items.sort_by_key(|&i| Reverse(lengths[i as usize]));
        let mut bins: Vec<(Vec<u32>, i64, u64)> = Vec::new(); // items, room, when it got that room
        for (tick, item) in items.into_iter().enumerate() {
            let len = lengths[item as usize];
            let best =
                (0..bins.len()).filter(|&b| bins[b].1 >= len && bins[b].1 > 0).min_by_key(|&b| (bins[b].1, bins[b].2));
            let b = best.unwrap_or_else(|| {
                bins.push((Vec::new(), capacity, 0));
                bins.len() - 1
            });
            bins[b].0.push(item);
            bins[b].1 -= len;
            bins[b].2 = tick as u64;
        }
        bins.into_iter().map(|b| b.0).collect()
    }

    fn bins_of(p: &Packing) -> Vec<Vec<u32>> {
        p.bin_offsets
            .windows(2)
            .map(|w| p.order[w[0] as usize..w[1] as usize].iter().map(|&i| i as u32).collect())
            .collect()
    }

    #[test]
    fn matches_reference_on_random_inputs() {
        let mut rng = crate::testutil::Rng(7);
        for _ in 0..300 {
            let capacity = 1 + rng.below(40) as i64;
            let n = rng.below(60) as usize;
            let lengths: Vec<i64> = (0..n).map(|_| 1 + rng.below(capacity as u64) as i64).collect();
            let got = pack_groups(&lengths, &[0, n], capacity).unwrap();
            assert_eq!(bins_of(&got), reference(&lengths, capacity), "{lengths:?} cap {capacity}");
        }
    }

    #[test]
    fn ties_go_to_the_bin_that_reached_the_room_first() {
        // 14 and 12 open bins 0 and 1 (rooms 6 and 8); 7 goes to bin 1 (room 1), then 5 to
        // bin 0 (room 1): bin 1 reached room 1 first, so the last item goes there (the
        // lowest index among equal rooms would pick bin 0).
        let got = pack_groups(&[14, 12, 7, 5, 1], &[0, 5], 20).unwrap();
        assert_eq!(bins_of(&got), vec![vec![0, 3], vec![1, 2, 4]]);
    }

    #[test]
    fn groups_are_packed_on_their_own() {
        let lengths = [3, 3, 3, 3];
        let got = pack_groups(&lengths, &[0, 2, 2, 4], 6).unwrap();
        assert_eq!(bins_of(&got), vec![vec![0, 1], vec![2, 3]]);
        let whole = pack_groups(&lengths, &[0, 4], 6).unwrap();
        assert_eq!(bins_of(&whole), vec![vec![0, 1], vec![2, 3]]);
        let split = pack_groups(&lengths, &[0, 1, 2, 3, 4], 6).unwrap();
        assert_eq!(bins_of(&split), vec![vec![0], vec![1], vec![2], vec![3]]);
    }

    #[test]
    fn refuses_what_trl_never_packs() {
        assert!(pack_groups(&[0], &[0, 1], 4).is_err());
        assert!(pack_groups(&[5], &[0, 1], 4).is_err());
        assert!(pack_groups(&[1], &[0, 1], 0).is_err());
        assert!(pack_groups(&[1, 1], &[0, 1], 4).is_err());
        assert!(pack_groups(&[1, 1], &[0, 2, 1, 2], 4).is_err());
        assert_eq!(pack_groups(&[], &[0], 4).unwrap().bin_offsets, vec![0]);
    }
}
