"""Packing kernels against pure-Python references."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_pad import DTYPES, as_form

import fast_axolotl as fa

FORMS = ["lists", "numpy_rows", "values_offsets", "arrow", "arrow_large", "arrow_sliced", "chunked"]
EOS, PAD, LABEL_PAD = 99, 0, -100


def reference_pack(rows, max_length, overflow="split", eos=EOS, pad=PAD, label_pad=LABEL_PAD):
    """The greedy rule spelled out on Python lists; returns (dict of rows, counts)."""
    packed, current = [], []
    counts = {"split": 0, "truncated": 0, "dropped": 0}

    def flush():
        if current:
            packed.append(current[:])
            current.clear()

    for i, row in enumerate(rows):
        item = list(row) + [eos]
        if len(item) <= max_length:
            if len(current) + len(item) > max_length:
                flush()
            current.extend(item)
            continue
        if overflow == "error":
            raise ValueError(f"sequence {i}")
        if overflow == "drop":
            counts["dropped"] += 1
            continue
        flush()
        if overflow == "truncate":
            counts["truncated"] += 1
            item = list(row[: max_length - 1]) + [eos]
        else:
            counts["split"] += 1
        for token in item:
            current.append(token)
            if len(current) == max_length:
                flush()
    flush()
    out = {
        "input_ids": [r + [pad] * (max_length - len(r)) for r in packed],
        "labels": [r + [label_pad] * (max_length - len(r)) for r in packed],
        "attention_mask": [[1] * len(r) + [0] * (max_length - len(r)) for r in packed],
    }
    return out, counts


@st.composite
def token_rows(draw, max_tokens=12, max_rows=12):
    dtype = draw(st.sampled_from(DTYPES))
    info = np.iinfo(dtype)
    rows = draw(st.lists(st.lists(st.integers(int(info.min), int(info.max)), max_size=max_tokens), max_size=max_rows))
    return rows, dtype


@settings(max_examples=300, deadline=None)
@given(
    batch=token_rows(),
    form=st.sampled_from(FORMS),
    max_length=st.integers(2, 10),
    overflow=st.sampled_from(["split", "truncate", "drop"]),
    return_tensors=st.sampled_from([None, "np"]),
)
def test_pack_sequences_matches_reference(batch, form, max_length, overflow, return_tensors):
    rows, dtype = batch
    expected, counts = reference_pack(rows, max_length, overflow)
    got = fa.pack_sequences(
        as_form(rows, form, dtype), max_length, PAD, EOS, overflow=overflow, return_tensors=return_tensors
    )
    assert got.overflow == counts
    for key, want in expected.items():
        value = got[key]
        if return_tensors == "np":
            assert value.dtype == np.int64 and value.shape == (len(want), max_length)
            value = value.tolist()
        assert value == want, key


@settings(max_examples=300, deadline=None)
@given(
    rows=st.lists(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=30), max_size=12),
    max_length=st.integers(2, 10),
    overflow=st.sampled_from(["split", "truncate", "drop"]),
)
def test_pack_sequences_lists_out_equal_arrays_out(rows, max_length, overflow):
    """Lists out and arrays out: the same rows and counts."""
    got = fa.pack_sequences(rows, max_length, PAD, EOS, overflow=overflow)
    arrays = fa.pack_sequences(rows, max_length, PAD, EOS, overflow=overflow, return_tensors="np")
    assert got.overflow == arrays.overflow
    assert {k: v for k, v in got.items()} == {k: v.tolist() for k, v in arrays.items()}


@pytest.mark.parametrize("length", [7, 8, 9, 16, 17])
def test_pack_sequences_list_split_at_row_ends(length):
    """Sequences ending exactly at a row's end put their EOS on the next row."""
    rows = [[5], list(range(1, length + 1)), [6]]
    expected, counts = reference_pack(rows, 8)
    got = fa.pack_sequences(rows, 8, PAD, EOS)
    assert dict(got) == expected and got.overflow == counts


@pytest.mark.parametrize(
    "sequences, error, message",
    [
        ([[1, 2.5]], TypeError, r"sequences\[0\]: tokens must be integers"),
        ([[1], ["7"]], TypeError, r"sequences\[1\]: tokens must be integers"),
        ([[2**63]], ValueError, "outside the int64 range"),
        ([[1], [1, 2, 3, 4, 5], [2.0]], TypeError, r"sequences\[2\]"),
    ],
)
def test_pack_sequences_checks_list_tokens(sequences, error, message):
    with pytest.raises(error, match=message):
        fa.pack_sequences(sequences, 4, PAD, EOS, overflow="error")


def test_pack_sequences_refuses_a_huge_result():
    with pytest.raises(ValueError, match="max_length"):
        fa.pack_sequences([[1]], 2**62, PAD, EOS)


def test_pack_sequences_large_batch_parallel():
    rng = np.random.default_rng(1)
    rows = [rng.integers(0, 32000, n).tolist() for n in rng.integers(10, 700, 4000)]
    expected, counts = reference_pack(rows, 512)
    got = fa.pack_sequences(pa.array(rows, pa.list_(pa.int32())), 512, PAD, EOS, return_tensors="np")
    assert got.overflow == counts and counts["split"] > 0
    assert {k: v.tolist() for k, v in got.items()} == expected


def test_pack_sequences_one_huge_sequence():
    row = list(range(1, 1001))
    got = fa.pack_sequences([row], 64, PAD, EOS, return_tensors="np")
    flat = got["input_ids"][got["attention_mask"] == 1].tolist()
    assert flat == row + [EOS] and got.overflow["split"] == 1


def test_pack_sequences_overflow_error_names_the_sequence():
    with pytest.raises(ValueError, match="sequence 1 has 5 tokens"):
        fa.pack_sequences([[1], [1, 2, 3, 4, 5], [2]], 4, PAD, EOS, overflow="error")


def test_pack_sequences_empty():
    got = fa.pack_sequences([], 8, PAD, EOS, return_tensors="np")
    assert got["input_ids"].shape == (0, 8) and got.overflow == {"split": 0, "truncated": 0, "dropped": 0}


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        (dict(max_length=1), ValueError, "max_length"),
        (dict(max_length=-3), ValueError, "max_length"),
        (dict(max_length=4.0), TypeError, "max_length"),
        (dict(overflow="wrap"), ValueError, "overflow"),
        (dict(eos_token_id=2**64), ValueError, "eos_token_id"),
        (dict(return_tensors="tf"), ValueError, "return_tensors"),
    ],
)
def test_pack_sequences_bad_arguments(kwargs, error, message):
    args = dict(sequences=[[1, 2]], max_length=4, pad_token_id=PAD, eos_token_id=EOS) | kwargs
    with pytest.raises(error, match=message):
        fa.pack_sequences(**args)


def reference_concat(ids, labels, masks, max_length, pad=PAD, label_pad=LABEL_PAD):
    out = {}
    for key, stream, fill in (("input_ids", ids, pad), ("labels", labels, label_pad), ("attention_mask", masks, 0)):
        flat = [t for row in stream for t in row]
        rows = [flat[i : i + max_length] for i in range(0, len(flat), max_length)]
        out[key] = [r + [fill] * (max_length - len(r)) for r in rows]
    return out


@settings(max_examples=200, deadline=None)
@given(
    batch=token_rows(),
    form=st.sampled_from(FORMS),
    max_length=st.integers(1, 9),
    return_tensors=st.sampled_from([None, "np"]),
)
def test_concatenate_and_pack_matches_reference(batch, form, max_length, return_tensors):
    rows, dtype = batch
    labels = [[-100 if t % 3 == 0 else t for t in r] for r in rows]
    masks = [[1] * len(r) for r in rows]
    got = fa.concatenate_and_pack(
        as_form(rows, form, dtype), labels, as_form(masks, form, "int8"), max_length, PAD, return_tensors=return_tensors
    )
    expected = reference_concat(rows, labels, masks, max_length)
    for key, want in expected.items():
        value = got[key].tolist() if return_tensors == "np" else got[key]
        assert value == want, key


@pytest.mark.parametrize(
    "labels, masks, message",
    [([[1, 2]], [[1, 1], [1]], "sequences"), ([[1, 2], [3, 4]], [[1, 1], [1]], "sequence 1")],
)
def test_concatenate_streams_must_match(labels, masks, message):
    with pytest.raises(ValueError, match=message):
        fa.concatenate_and_pack([[1, 2], [3]], labels, masks, 4, PAD)


def reference_gather(rows, labels, order, bin_offsets, width):
    out = {k: [] for k in ("input_ids", "labels", "position_ids", "attention_mask")}
    for b in range(len(bin_offsets) - 1):
        items = order[bin_offsets[b] : bin_offsets[b + 1]]
        ids = [t for i in items for t in rows[i]]
        labs = [t for i in items for t in labels[i]]
        pos = [p for i in items for p in range(len(rows[i]))]
        mask = [k + 1 for k, i in enumerate(items) for _ in rows[i]]
        fill = width - len(ids)
        out["input_ids"].append(ids + [PAD] * fill)
        out["labels"].append(labs + [LABEL_PAD] * fill)
        out["position_ids"].append(pos + [0] * fill)
        out["attention_mask"].append(mask + [0] * fill)
    return out


@settings(max_examples=200, deadline=None)
@given(batch=token_rows(), form=st.sampled_from(FORMS), data=st.data())
def test_gather_packed_matches_reference(batch, form, data):
    rows, dtype = batch
    order = data.draw(st.permutations(range(len(rows))))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(rows)), max_size=4)))
    bin_offsets = [0, *cuts, len(rows)]
    width = max([sum(len(rows[i]) for i in order[a:b]) for a, b in zip(bin_offsets, bin_offsets[1:])] + [0])
    width += data.draw(st.integers(0, 3))
    labels = [[t // 2 for t in r] for r in rows] if data.draw(st.booleans()) else None
    got = fa.gather_packed(
        as_form(rows, form, dtype), np.array(order, dtype=np.int64), bin_offsets, width, labels=labels
    )
    expected = reference_gather(rows, labels or rows, order, bin_offsets, width)
    assert {k: v.tolist() for k, v in got.items()} == expected


def test_gather_packed_bad_packings():
    rows = [[1, 2], [3]]
    with pytest.raises(ValueError, match="order"):
        fa.gather_packed(rows, [0, 5], [0, 2], 8)
    with pytest.raises(ValueError, match="bin 0 holds 3 tokens"):
        fa.gather_packed(rows, [0, 1], [0, 2], 2)
    with pytest.raises(ValueError, match="bin_offsets"):
        fa.gather_packed(rows, [0, 1], [0, 3], 8)
    with pytest.raises(TypeError, match="order"):
        fa.gather_packed(rows, [0.5, 1], [0, 2], 8)


@settings(max_examples=100, deadline=None)
@given(batch=token_rows(), form=st.sampled_from(FORMS), data=st.data())
def test_gather_packed_lists_is_the_padded_gather_unpadded(batch, form, data):
    from fast_axolotl.packing import gather_packed_lists

    rows, dtype = batch
    order = data.draw(st.permutations(range(len(rows))))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(rows)), max_size=4)))
    bin_offsets = [0, *cuts, len(rows)]
    lengths = [sum(len(rows[i]) for i in order[a:b]) for a, b in zip(bin_offsets, bin_offsets[1:])]
    labels = [[t // 2 for t in r] for r in rows] if data.draw(st.booleans()) else None
    got, row_offsets = gather_packed_lists(as_form(rows, form, dtype), order, bin_offsets, labels=labels)
    assert row_offsets.tolist() == np.concatenate([[0], np.cumsum(lengths)]).tolist()
    padded = reference_gather(rows, labels or rows, order, bin_offsets, max(lengths + [0]))
    for name, values in got.items():
        assert values.tolist() == [t for row, n in zip(padded[name], lengths) for t in row[:n]]


def test_gather_packed_lists_bad_packings():
    from fast_axolotl.packing import gather_packed_lists

    with pytest.raises(ValueError, match="order"):
        gather_packed_lists([[1, 2], [3]], [0, 5], [0, 2])
    with pytest.raises(ValueError, match="bin_offsets"):
        gather_packed_lists([[1, 2], [3]], [0, 1], [0, 3])


def test_pack_sequences_datasets_column_after_shuffle():
    datasets = pytest.importorskip("datasets")
    rows = [list(range(1, 1 + i % 7)) for i in range(50)]
    ds = datasets.Dataset.from_dict({"input_ids": rows}).shuffle(seed=5)
    expected, counts = reference_pack(ds["input_ids"][:], 8)
    got = fa.pack_sequences(ds["input_ids"], 8, PAD, EOS)
    assert dict(got) == expected and got.overflow == counts
