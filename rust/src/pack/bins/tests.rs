//! Tests of bin packing: every strategy against a plain reference and Axolotl's own output.

use std::cmp::Reverse;
use std::collections::BTreeSet;

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

/// `cargo test --release --lib pack::bins::tests::timing -- --ignored --nocapture`
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

/// `cargo test --release --lib pack::bins::tests::timing_groups -- --ignored --nocapture`:
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
