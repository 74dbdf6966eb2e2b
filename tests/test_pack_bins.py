"""pack_bins: first_fit / next_fit equal Axolotl's own packers; bfd / ffd equal plain
reference implementations; invariants on large realistic inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fast_axolotl as fa


def port_pack_group(sequence_lengths, group_offset, bin_capacity, max_bins, bin_size, safe_mode=True):
    """axolotl 0.19.0 utils/samplers/multipack.py pack_group, without @numba.njit."""
    bins_remaining_space, bins_assigned_sequences = [], []
    for seq_id, size in enumerate(sequence_lengths):
        global_idx = seq_id + group_offset
        add_new_bin = True
        for bin_idx, _ in enumerate(bins_remaining_space):
            if bins_remaining_space[bin_idx] >= size and len(bins_assigned_sequences[bin_idx]) < bin_size:
                bins_remaining_space[bin_idx] -= size
                bins_assigned_sequences[bin_idx].append(global_idx)
                add_new_bin = False
                break
        if add_new_bin:
            if len(bins_remaining_space) >= max_bins and safe_mode:
                continue
            bins_remaining_space.append(bin_capacity - size)
            bins_assigned_sequences.append([global_idx])
            if len(bins_remaining_space) > len(sequence_lengths):
                break
    return bins_assigned_sequences


def port_allocate_sequentially(sequence_lengths, rank, bin_capacity, num_ranks):
    """axolotl 0.19.0 allocate_sequentially (the bins; totals left out)."""
    all_bins, current_bin, remaining = [], [], bin_capacity
    for idx, size in enumerate(sequence_lengths):
        if size <= remaining:
            current_bin.append(idx)
            remaining -= size
        else:
            if current_bin:
                all_bins.append(current_bin)
            current_bin, remaining = [idx], bin_capacity - size
    if current_bin:
        all_bins.append(current_bin)
    return [all_bins[i] for i in range(rank, len(all_bins), num_ranks)]


try:  # Axolotl's own functions are the oracle when Axolotl is installed
    from axolotl.utils.samplers.multipack import allocate_sequentially as _ax_alloc
    from axolotl.utils.samplers.multipack import pack_group as _ax_pack_group

    def oracle_first_fit(lengths, capacity, bin_size):
        return [
            list(b) for b in _ax_pack_group(np.asarray(lengths, np.int64), 0, capacity, len(lengths), bin_size, True)
        ]

    def oracle_next_fit(lengths, capacity):
        return [list(b) for b in _ax_alloc(np.asarray(lengths, np.int64), 0, capacity, 1)[0]]

    ORACLE = "axolotl"
except ImportError:

    def oracle_first_fit(lengths, capacity, bin_size):
        return port_pack_group(lengths, 0, capacity, len(lengths), bin_size)

    def oracle_next_fit(lengths, capacity):
        return port_allocate_sequentially(lengths, 0, capacity, 1)

    ORACLE = "port"


def reference_decreasing(lengths, capacity, limit, best):
    """BFD / FFD spelled out: stable decreasing order; best fit takes the bin with the least
    room left (lowest index on ties), first fit the lowest index; oversize items sit alone."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    bins, room = [], []
    for i in order:
        fits = [b for b in range(len(bins)) if room[b] >= lengths[i] and len(bins[b]) < limit]
        if fits:
            b = min(fits, key=lambda b: (room[b], b)) if best else fits[0]
            bins[b].append(i)
            room[b] -= lengths[i]
        else:
            bins.append([i])
            room.append(capacity - lengths[i] if lengths[i] <= capacity else -1)
    return bins


def as_bins(packing):
    order, offsets = packing
    assert order.dtype == np.int64 and offsets.dtype == np.int64
    return [order[a:b].tolist() for a, b in zip(offsets[:-1], offsets[1:])]


lengths_st = st.lists(st.integers(0, 40), max_size=60)


@settings(max_examples=300, deadline=None)
@given(lengths=lengths_st, capacity=st.integers(1, 35), limit=st.one_of(st.none(), st.integers(1, 6)))
def test_first_fit_is_axolotl_pack_group(lengths, capacity, limit):
    got = fa.pack_bins(np.array(lengths, np.int64), capacity, "first_fit", max_items_per_bin=limit)
    assert as_bins(got) == oracle_first_fit(lengths, capacity, limit or len(lengths) + 1)
    assert got.oversize == sum(x > capacity for x in lengths)


@settings(max_examples=300, deadline=None)
@given(lengths=lengths_st, capacity=st.integers(1, 35))
def test_next_fit_is_axolotl_allocate_sequentially(lengths, capacity):
    assert as_bins(fa.pack_bins(lengths, capacity, "next_fit")) == oracle_next_fit(lengths, capacity)


@settings(max_examples=300, deadline=None)
@given(
    lengths=lengths_st, capacity=st.integers(1, 35), limit=st.one_of(st.none(), st.integers(1, 6)), best=st.booleans()
)
def test_decreasing_strategies_match_reference(lengths, capacity, limit, best):
    got = fa.pack_bins(lengths, capacity, "bfd" if best else "ffd", max_items_per_bin=limit)
    assert as_bins(got) == reference_decreasing(lengths, capacity, limit or len(lengths) + 1, best)


@pytest.mark.axolotl
def test_ports_equal_axolotl():
    pytest.importorskip("axolotl.utils.samplers.multipack")
    rng = np.random.default_rng(3)
    for _ in range(50):
        lengths = rng.integers(0, 60, rng.integers(0, 200)).tolist()
        assert port_pack_group(lengths, 0, 50, len(lengths), 5) == oracle_first_fit(lengths, 50, 5)
        assert port_allocate_sequentially(lengths, 0, 50, 1) == oracle_next_fit(lengths, 50)


def realistic_lengths(n, seed=0):
    rng = np.random.default_rng(seed)
    return np.clip(np.round(rng.lognormal(np.log(300), 1.0, n)), 16, 8192).astype(np.int64)


@pytest.mark.parametrize("capacity", [2048, 8192])
def test_realistic_packings_are_valid(capacity):
    lengths = realistic_lengths(200_000)
    fitting = lengths[lengths <= capacity]
    lower_bound = int((lengths > capacity).sum()) + -(-int(fitting.sum()) // capacity)
    for strategy in ("bfd", "ffd", "first_fit", "next_fit"):
        order, offsets = fa.pack_bins(lengths, capacity, strategy)
        assert np.array_equal(np.sort(order), np.arange(lengths.size))  # every item exactly once
        sums = np.add.reduceat(lengths[order], offsets[:-1])
        sizes = np.diff(offsets)
        assert np.all((sums <= capacity) | (sizes == 1)) and sizes.min() >= 1
        assert len(sizes) >= lower_bound
        if strategy == "bfd":
            assert len(sizes) <= lower_bound * 1.0001 + 1


def test_group_size_is_axolotl_pack_parallel():
    lengths = realistic_lengths(30_000, seed=1)
    got = fa.pack_bins(lengths, 8192, "first_fit", max_items_per_bin=64, group_size=7_000)
    expected = []
    for start in range(0, lengths.size, 7_000):
        group = lengths[start : start + 7_000]
        expected += [[i + start for i in b] for b in oracle_first_fit(group.tolist(), 8192, 64)]
    assert as_bins(got) == expected


@pytest.mark.parametrize(
    "args, kwargs, error, message",
    [
        (([1, -2, 3], 8), {}, ValueError, r"lengths\[1\] is -2"),
        (([1, 2], 0), {}, ValueError, "capacity"),
        (([1, 2], 8), {"strategy": "worst"}, ValueError, "strategy"),
        (([1, 2], 8), {"max_items_per_bin": 0}, ValueError, "max_items_per_bin"),
        (([1.5, 2], 8), {}, TypeError, "lengths"),
        (([[1, 2]], 8), {}, ValueError, "1-D"),
        (([1, 2], 8.0), {}, TypeError, "capacity"),
        (([1, 2], 8), {"group_size": 0}, ValueError, "group_size"),
    ],
)
def test_pack_bins_bad_arguments(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        fa.pack_bins(*args, **kwargs)


def test_pack_bins_empty_and_attributes():
    packing = fa.pack_bins([], 8)
    assert packing.order.size == 0 and packing.bin_offsets.tolist() == [0] and packing.oversize == 0
    packing = fa.pack_bins([9, 1, 8], 8)  # 9 is oversize: alone, and nothing joins it
    assert as_bins(packing) == [[0], [2], [1]] and packing.oversize == 1
