"""The two kernels behind `pack_dataset`'s fast path (fast_axolotl.trl): TRL's best-fit
decreasing per `datasets.map` batch, and the gather of row segments from many Arrow buffers
into one. Private: their arguments are what _trl_pack.py has already checked."""

from __future__ import annotations

import numpy as np

from . import _native
from ._args import int64_buffer
from ._native import ffi, lib


def pack_groups(lengths: np.ndarray, group_offsets: np.ndarray, capacity: int) -> tuple[np.ndarray, np.ndarray]:
    """`(order, bin_offsets)` of TRL's "bfd" binning of each group of `lengths` (int64, each in
    1..capacity); `group_offsets` (int64) bound the groups."""
    lengths = np.ascontiguousarray(lengths, dtype=np.int64)
    group_offsets = np.ascontiguousarray(group_offsets, dtype=np.int64)
    n = lengths.size
    order = np.empty(n, dtype=np.int64)
    bin_offsets = np.empty(n + 1, dtype=np.int64)
    num_bins = ffi.new("size_t *")
    _native.check(
        lib.fax_pack_bins_trl(
            ffi.from_buffer("int64_t[]", lengths),
            n,
            capacity,
            ffi.from_buffer("int64_t[]", group_offsets),
            group_offsets.size - 1,
            int64_buffer(ffi, order),
            int64_buffer(ffi, bin_offsets),
            num_bins,
        )
    )
    return order, bin_offsets[: num_bins[0] + 1]


def gather_segments(addresses: np.ndarray, sizes: np.ndarray, out: np.ndarray) -> None:
    """Copy segment i, `sizes[i]` bytes at address `addresses[i]`, into `out` one after the
    other. The caller keeps the memory behind the addresses alive."""
    addresses = np.ascontiguousarray(addresses, dtype=np.uint64)
    sizes = np.ascontiguousarray(sizes, dtype=np.int64)
    address_buffer = ffi.from_buffer(addresses)  # kept alive for the call: the cast below is not
    _native.check(
        lib.fax_gather_segments(
            ffi.cast("const uint8_t *const *", address_buffer),
            ffi.from_buffer("int64_t[]", sizes),
            sizes.size,
            ffi.from_buffer("uint8_t[]", out, require_writable=True),
            out.nbytes,
        )
    )
