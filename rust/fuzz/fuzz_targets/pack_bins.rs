//! `fax_pack_bins` with any lengths (negative too), capacity, strategy code, item limit, group
//! size and NULL pointers: the predicted status, and on success exactly the bins of the plain
//! reference (a scan over every bin per item) for all four strategies.
#![no_main]

use arbitrary::Arbitrary;
use fastaxo::ffi::*;
use fastaxo_fuzz::{expect_status, reference};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Lengths {
    Small(Vec<u8>),
    Medium(Vec<u16>),
    Any(Vec<i64>),
}

#[derive(Arbitrary, Debug)]
enum Capacity {
    Small(u8),
    Medium(u16),
    Any(i64),
}

#[derive(Arbitrary, Debug)]
struct Input {
    lengths: Lengths,
    capacity: Capacity,
    strategy: u8,
    max_items: u8,
    group_size: u8,
    /// NULL for lengths, order, bin_offsets, num_bins, oversize.
    nulls: [bool; 5],
}

fuzz_target!(|input: Input| {
    let lengths: Vec<i64> = match &input.lengths {
        Lengths::Small(v) => v.iter().map(|&x| x as i64).collect(),
        Lengths::Medium(v) => v.iter().map(|&x| x as i64).collect(),
        Lengths::Any(v) => v.clone(),
    };
    let capacity = match input.capacity {
        Capacity::Small(c) => c as i64,
        Capacity::Medium(c) => c as i64,
        Capacity::Any(c) => c,
    };
    let strategy = (input.strategy % 5) as u32; // 4: unknown
    let (max_items, group_size) = (input.max_items as usize, input.group_size as usize);
    let n = lengths.len();
    let mut order = vec![-1i64; n];
    let mut offsets = vec![-1i64; n + 1];
    let (mut num_bins, mut oversize) = (usize::MAX, usize::MAX);
    let [nl, no, nb, nn, nv] = input.nulls;
    let status = unsafe {
        fax_pack_bins(
            if nl { std::ptr::null() } else { lengths.as_ptr() },
            n,
            capacity,
            strategy,
            max_items,
            group_size,
            if no { std::ptr::null_mut() } else { order.as_mut_ptr() },
            if nb { std::ptr::null_mut() } else { offsets.as_mut_ptr() },
            if nn { std::ptr::null_mut() } else { &mut num_bins },
            if nv { std::ptr::null_mut() } else { &mut oversize },
        )
    };
    let bad_pointer = (nl || no) && n > 0 || nb || nn || nv;
    let ok = strategy < 4 && !bad_pointer && capacity >= 1 && lengths.iter().all(|&l| l >= 0);
    expect_status(
        "fax_pack_bins",
        status,
        if ok { FAX_OK } else { FAX_ERR_INVALID_ARGUMENT },
    );
    if !ok {
        return;
    }
    let bins = reference::pack_bins_grouped(&lengths, capacity, strategy, max_items, group_size);
    assert_eq!(num_bins, bins.len());
    let want_order: Vec<i64> = bins.iter().flatten().map(|&i| i as i64).collect();
    let mut want_offsets = vec![0i64];
    for b in &bins {
        want_offsets.push(want_offsets[want_offsets.len() - 1] + b.len() as i64);
    }
    assert_eq!(order, want_order);
    assert_eq!(offsets[..num_bins + 1], want_offsets[..]);
    assert_eq!(oversize, lengths.iter().filter(|&&l| l > capacity).count());
});
