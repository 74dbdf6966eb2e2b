"""`axolotl.utils.samplers.multipack.pack_parallel` and `allocate_sequentially` on
`fast_axolotl.pack_bins`, returning what the numba originals return: lists of lists of
Python ints (and Python ints for the totals)."""

from __future__ import annotations

import multiprocessing
import operator

import numpy as np

import fast_axolotl as fa

from .fallback import Fallback


def pack_parallel(
    sequence_lengths,
    bin_capacity,
    group_size,
    bin_size,
    num_processes=None,
    safe_mode=True,
    mp_start_method="fork",
):
    """First fit per group of `group_size` items, at most `bin_size` items a bin.

    `safe_mode` only drops items once a group has `max_bins` bins, and pack_parallel sets
    `max_bins = len(group)`, which first fit never exceeds: nothing is dropped either way.
    `num_processes` and `mp_start_method` only choose where the groups are packed.
    """
    # Arguments the original's process pool refuses (or, for an unknown start method, logs
    # about in a way that fails on some Pythons): the original shows what it does.
    if num_processes is not None and num_processes < 1:
        raise Fallback(f"num_processes={num_processes!r}")
    if mp_start_method and mp_start_method not in multiprocessing.get_all_start_methods():
        raise Fallback(f"mp_start_method={mp_start_method!r}")
    order, offsets = fa.pack_bins(
        sequence_lengths, bin_capacity, "first_fit", max_items_per_bin=bin_size, group_size=group_size
    )
    return bin_lists(order, offsets[:-1], offsets[1:])


def allocate_sequentially(sequence_lengths, rank, bin_capacity, num_ranks):
    """Next fit over all items; returns bins rank, rank + num_ranks, ..., the sum of all
    lengths and `number of bins * bin_capacity`, as the original does."""
    rank, num_ranks = operator.index(rank), operator.index(num_ranks)
    if rank < 0 or num_ranks < 1:
        raise Fallback(f"rank={rank}, num_ranks={num_ranks}")  # numba's range/indexing rules
    order, offsets = fa.pack_bins(sequence_lengths, bin_capacity, "next_fit")
    starts, ends = offsets[:-1][rank::num_ranks], offsets[1:][rank::num_ranks]
    total_used = int(np.sum(sequence_lengths, dtype=np.int64))
    return bin_lists(order, starts, ends), total_used, (offsets.size - 1) * int(bin_capacity)


def bin_lists(values: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> list[list[int]]:
    """`[values[a:b] for a, b in zip(starts, ends)]` as lists of Python ints. (One flat list
    sliced per bin: a tolist per bin of a view was no faster in a loop of its own, and 15%
    slower inside generate_batches.)"""
    flat = values.tolist()
    return [flat[a:b] for a, b in zip(starts.tolist(), ends.tolist())]
