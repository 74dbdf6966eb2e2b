"""The `fast_axolotl_packing` setting: which bins the `pack_parallel` patch returns.

"first_fit" (the default) is Axolotl's own packing, bin for bin (multipack.pack_parallel).
"bfd" packs each group best-fit decreasing instead: usually fewer, fuller bins than Axolotl's
first fit in shuffled order (within a few bins of the lower bound), so the sampler yields
other, fewer batches than Axolotl would. Not always: with a small item limit per bin
(sample_packing_bin_size) and large bins, taking the small items last can need more bins.
"""

from __future__ import annotations

import fast_axolotl as fa

from . import multipack
from .settings import settings


def pack_parallel(
    sequence_lengths,
    bin_capacity,
    group_size,
    bin_size,
    num_processes=None,
    safe_mode=True,
    mp_start_method="fork",
):
    """`pack_parallel` in the configured strategy. BFD packs in this process, so the pool
    arguments do not apply; as with first fit, no item is dropped."""
    if settings.fast_axolotl_packing != "bfd":
        return multipack.pack_parallel(
            sequence_lengths, bin_capacity, group_size, bin_size, num_processes, safe_mode, mp_start_method
        )
    order, offsets = fa.pack_bins(
        sequence_lengths, bin_capacity, "bfd", max_items_per_bin=bin_size, group_size=group_size
    )
    return multipack.bin_lists(order, offsets[:-1], offsets[1:])
