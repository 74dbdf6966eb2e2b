//! The decreasing sort of the `*Decreasing` strategies: a counting sort when lengths are
//! small, a comparison sort otherwise.

use std::cmp::Reverse;

use super::use_buckets;

/// Item indices by length, longest first; equal lengths keep their input order.
pub(super) fn decreasing_order(lengths: &[i64], capacity: i64) -> Vec<u32> {
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
