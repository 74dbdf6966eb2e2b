"""int64 offsets everywhere: kernels reading a token buffer of more than 2**31 elements.

The buffer is 2 GiB of uint8 tokens from np.zeros, whose pages stay unmapped until written:
only the rows the kernels read (those around and after element 2**31) are filled. An offset,
index or length kept in 32 bits anywhere on the way would wrap and read other tokens (or
fault). The outputs stay small: int64 outputs of 2**31 tokens would need 16 GiB.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from test_packing import EOS, LABEL_PAD, PAD, reference_concat, reference_gather, reference_pack
from test_pad import reference_pad

import fast_axolotl as fa

BIG = 2**31
# Row boundaries of the rows read: one ends just before element 2**31, one straddles it,
# two lie wholly past it.
EDGES = np.array([BIG - 20, BIG - 5, BIG + 3, BIG + 17, BIG + 40], dtype=np.int64)


@pytest.fixture(scope="module")
def big():
    """(a LargeListArray over the whole buffer sliced to the rows past its first, the same
    as (values, offsets), the rows as Python lists for the references)."""
    values = np.zeros(BIG + 64, dtype=np.uint8)
    span = slice(int(EDGES[0]), int(EDGES[-1]))
    values[span] = np.random.default_rng(0).integers(1, 250, EDGES[-1] - EDGES[0], dtype=np.uint8)
    offsets = np.concatenate([[0], EDGES])
    whole = pa.LargeListArray.from_arrays(pa.array(offsets), pa.array(values))
    assert whole.values.buffers()[1].address == values.ctypes.data  # no copy of the 2 GiB
    rows = [values[a:b].tolist() for a, b in zip(EDGES[:-1], EDGES[1:])]
    return whole.slice(1), (values, EDGES), rows


@pytest.mark.parametrize("form", ["arrow", "values_offsets"])
@pytest.mark.parametrize("side", ["right", "left"])
def test_pad_reads_rows_past_two_to_the_31(big, form, side):
    arrow, values_offsets, rows = big
    tokens = arrow if form == "arrow" else values_offsets
    got = fa.pad_sequences(tokens, pad_value=PAD, padding_side=side, return_tensors="np")
    assert got.tolist() == reference_pad(rows, pad_value=PAD, padding_side=side)


@pytest.mark.parametrize("form", ["arrow", "values_offsets"])
def test_pack_sequences_reads_rows_past_two_to_the_31(big, form):
    arrow, values_offsets, rows = big
    tokens = arrow if form == "arrow" else values_offsets
    got = fa.pack_sequences(tokens, 16, PAD, EOS, LABEL_PAD, return_tensors="np")
    expected, counts = reference_pack(rows, 16)
    assert {key: value.tolist() for key, value in got.items()} == expected
    assert got.overflow == counts


def test_concatenate_and_pack_reads_rows_past_two_to_the_31(big):
    arrow, _, rows = big
    labels = [[t if t % 2 else LABEL_PAD for t in row] for row in rows]
    masks = [[1] * len(row) for row in rows]
    got = fa.concatenate_and_pack(arrow, labels, masks, 10, PAD, return_tensors="np")
    expected = reference_concat(rows, labels, masks, 10)
    assert {key: value.tolist() for key, value in got.items()} == expected


def test_gather_packed_reads_rows_past_two_to_the_31(big):
    arrow, _, rows = big
    order, bin_offsets = np.array([3, 0, 1, 2], dtype=np.int64), [0, 1, 3, 4]
    got = fa.gather_packed(arrow, order, bin_offsets, 24)
    assert {key: value.tolist() for key, value in got.items()} == reference_gather(rows, rows, order, bin_offsets, 24)


def test_row_digests_of_rows_past_two_to_the_31(big):
    arrow, _, rows = big
    small = pa.array(rows, pa.large_list(pa.uint8()))  # the same rows in a buffer of 60 tokens
    assert np.array_equal(fa.row_digests(pa.table({"ids": arrow})), fa.row_digests(pa.table({"ids": small})))


@pytest.mark.parametrize("strategy", ["first_fit", "next_fit", "bfd", "ffd"])
def test_pack_bins_lengths_summing_past_two_to_the_32(strategy):
    lengths = [2**31, 2**31, 2**31 + 1, 5]
    order, offsets = fa.pack_bins(lengths, 2**32, strategy)
    bins = [sorted(order[a:b].tolist()) for a, b in zip(offsets[:-1], offsets[1:])]
    # The two 2**31 fill a bin exactly; the rest share the second (any strategy).
    assert sorted(bins) == [[0, 1], [2, 3]]
