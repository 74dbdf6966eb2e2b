//! C exports of TRL's best-fit decreasing (`crate::pack::trlpack`) and the segment gather
//! (`crate::pack::segments`) that builds its packed columns.

use super::guard;
use super::lists::{slice, slice_mut};
use crate::error::Error;
use crate::pack::segments::concat_into;
use crate::pack::trlpack::pack_groups;

/// Packs `n` item `lengths` (each in 1..=`capacity`) as TRL's `pack_dataset` "bfd" does:
/// each group `group_offsets[g] .. group_offsets[g+1]` (`num_groups + 1` rising offsets from
/// 0 to `n`) on its own, longest first, into the bin with the smallest room that fits, bins of
/// equal room first come first served. Writes `order` (`n` item indices, bin by bin) and
/// `bin_offsets` (room for `n + 1`; the first `*num_bins + 1` are written).
#[no_mangle]
#[allow(clippy::too_many_arguments, reason = "the C signature: one argument per buffer and length")]
pub unsafe extern "C" fn fax_pack_bins_trl(
    lengths: *const i64,
    n: usize,
    capacity: i64,
    group_offsets: *const i64,
    num_groups: usize,
    order: *mut i64,
    bin_offsets: *mut i64,
    num_bins: *mut usize,
) -> i32 {
    guard(|| {
        let offsets_cap = n.checked_add(1).ok_or_else(|| Error::invalid("n is too large"))?;
        let groups_len = num_groups.checked_add(1).ok_or_else(|| Error::invalid("num_groups is too large"))?;
        // SAFETY: caller's contract: `lengths` and `order` hold n elements, `bin_offsets`
        // n + 1, `group_offsets` num_groups + 1.
        let (lengths, groups, order_out, offsets_out) = unsafe {
            (
                slice::<i64>(lengths.cast(), n, "lengths")?,
                slice::<i64>(group_offsets.cast(), groups_len, "group_offsets")?,
                slice_mut(order, n, "order")?,
                slice_mut(bin_offsets, offsets_cap, "bin_offsets")?,
            )
        };
        // SAFETY: caller's contract: `num_bins` is NULL or points to a writable size_t.
        let Some(num_bins) = (unsafe { num_bins.as_mut() }) else {
            return Err(Error::invalid("num_bins must not be NULL"));
        };
        let groups = groups
            .iter()
            .map(|&g| usize::try_from(g).map_err(|_| Error::invalid("group_offsets must not be negative")))
            .collect::<Result<Vec<usize>, Error>>()?;
        let packing = pack_groups(lengths, &groups, capacity)?;
        order_out.copy_from_slice(&packing.order);
        offsets_out[..packing.bin_offsets.len()].copy_from_slice(&packing.bin_offsets);
        *num_bins = packing.bin_offsets.len() - 1;
        Ok(())
    })
}

/// Copies `n` segments into `out` one after the other, on all cores: segment i is the
/// `sizes[i]` bytes at `sources[i]`. `out_len` (bytes) must equal the sum of `sizes`.
/// Every `sources[i]` must be readable for `sizes[i]` bytes (NULL only when that is 0) and
/// none may overlap `out`.
#[no_mangle]
pub unsafe extern "C" fn fax_gather_segments(
    sources: *const *const u8,
    sizes: *const i64,
    n: usize,
    out: *mut u8,
    out_len: usize,
) -> i32 {
    guard(|| {
        // SAFETY: caller's contract: `sources` and `sizes` hold n elements, `out` out_len bytes.
        let (sources, sizes, out) = unsafe {
            (
                slice::<*const u8>(sources.cast(), n, "sources")?,
                slice::<i64>(sizes.cast(), n, "sizes")?,
                slice_mut(out, out_len, "out")?,
            )
        };
        let mut parts: Vec<&[u8]> = Vec::with_capacity(n);
        for (i, (&source, &size)) in sources.iter().zip(sizes).enumerate() {
            let size = usize::try_from(size).map_err(|_| Error::invalid(format!("sizes[{i}] is negative")))?;
            // SAFETY: caller's contract: each source is readable for its size.
            parts.push(unsafe { slice::<u8>(source.cast(), size, "sources[i]")? });
        }
        concat_into(&parts, out)?;
        Ok(())
    })
}
