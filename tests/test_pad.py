"""pad_sequences and create_padding_mask against a pure-Python reference."""

from __future__ import annotations

import math
import sys

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fast_axolotl as fa

DTYPES = ["int8", "int16", "int32", "int64"]
FORMS = ["lists", "numpy_rows", "values_offsets", "arrow", "arrow_large", "arrow_sliced", "chunked"]


def reference_pad(rows, target_length=None, pad_value=0, padding_side="right", pad_to_multiple_of=None):
    width = max([len(r) for r in rows] + [target_length or 0])
    if pad_to_multiple_of:
        width = math.ceil(width / pad_to_multiple_of) * pad_to_multiple_of
    if padding_side == "right":
        return [list(r) + [pad_value] * (width - len(r)) for r in rows]
    return [[pad_value] * (width - len(r)) + list(r) for r in rows]


def as_form(rows, form, dtype, offsets_dtype="int64"):
    """The same token lists in each input form pad_sequences accepts."""
    if form == "lists":
        return rows
    if form == "numpy_rows":
        return [np.array(r, dtype=dtype) for r in rows] if rows else []
    if form == "values_offsets":
        # Arrow-like layout with junk before the first row and after the last.
        values = np.array([99] + [t for r in rows for t in r] + [98], dtype=dtype)
        offsets = np.cumsum([1] + [len(r) for r in rows]).astype(offsets_dtype)
        return values, offsets
    value_type = pa.from_numpy_dtype(np.dtype(dtype))
    if form == "arrow":
        return pa.array(rows, pa.list_(value_type))
    if form == "arrow_large":
        return pa.array(rows, pa.large_list(value_type))
    if form == "arrow_sliced":
        padded = [[1, 2, 3]] + rows + [[4]]
        return pa.array(padded, pa.list_(value_type)).slice(1, len(rows))
    if form == "chunked":
        half = len(rows) // 2
        return pa.chunked_array([rows[:half], rows[half:]], pa.list_(value_type))
    raise AssertionError(form)


@st.composite
def batches(draw):
    dtype = draw(st.sampled_from(DTYPES))
    info = np.iinfo(dtype)
    token = st.integers(int(info.min), int(info.max))
    rows = draw(st.lists(st.lists(token, max_size=12), max_size=10))
    return rows, dtype


@settings(max_examples=300, deadline=None)
@given(
    batch=batches(),
    form=st.sampled_from(FORMS),
    offsets_dtype=st.sampled_from(["int32", "int64"]),
    target=st.one_of(st.none(), st.integers(0, 20)),
    multiple=st.one_of(st.none(), st.integers(1, 9)),
    pad_value=st.integers(-(2**63), 2**63 - 1),
    side=st.sampled_from(["right", "left"]),
    return_tensors=st.sampled_from([None, "np"]),
)
def test_matches_reference(batch, form, offsets_dtype, target, multiple, pad_value, side, return_tensors):
    rows, dtype = batch
    expected = reference_pad(rows, target, pad_value, side, multiple)
    result = fa.pad_sequences(
        as_form(rows, form, dtype, offsets_dtype),
        target_length=target,
        pad_value=pad_value,
        padding_side=side,
        pad_to_multiple_of=multiple,
        return_tensors=return_tensors,
    )
    if return_tensors == "np":
        assert result.dtype == np.int64
        assert result.shape == (len(rows), len(expected[0]) if expected else reference_width(rows, target, multiple))
        result = result.tolist()
    assert result == expected


def reference_width(rows, target, multiple):
    return len(reference_pad([[]], target, 0, "right", multiple)[0])


def test_large_batch_uses_threads_and_matches():
    # 3000 x ~300 crosses the kernel's parallel threshold.
    rng = np.random.default_rng(0)
    lengths = rng.integers(0, 300, 3000)
    rows = [rng.integers(0, 50_000, n).tolist() for n in lengths]
    arr = pa.array(rows, pa.list_(pa.int32()))
    for side in ("left", "right"):
        got = fa.pad_sequences(arr, target_length=256, padding_side=side, pad_value=-1, return_tensors="np")
        assert got.tolist() == reference_pad(rows, 256, -1, side)


def test_rows_longer_than_target_are_kept_whole():
    assert fa.pad_sequences([[1, 2, 3, 4], [5]], target_length=2) == [[1, 2, 3, 4], [5, 0, 0, 0]]


def test_list_output_reuses_python_ints_and_does_not_mutate_input():
    big = 10**12
    rows = [[big], [1, 2]]
    out = fa.pad_sequences(rows, target_length=3)
    assert out == [[big, 0, 0], [1, 2, 0]]
    assert out[0][0] is rows[0][0]
    assert rows == [[big], [1, 2]]


def test_list_output_rows_are_new_lists_with_shared_padding_values():
    rows = [[1], [2], [3, 4]]
    got = fa.pad_sequences(rows, target_length=3)
    assert got == [[1, 0, 0], [2, 0, 0], [3, 4, 0]]
    got[0][1] = 9  # rows of one length must not share a list
    assert got[1] == [2, 0, 0] and rows == [[1], [2], [3, 4]]


def test_list_path_refuses_a_huge_result():
    with pytest.raises(ValueError, match="target_length"):
        fa.pad_sequences([[1], [2]], target_length=2**62)


class _Index:
    def __index__(self):
        return 3


@pytest.mark.parametrize(
    "token",
    [
        True,
        np.int64(5),
        np.int32(-4),
        np.uint64(2**63),
        np.uint64(7),
        2**63 - 1,
        -(2**63),
        2**63,
        1.0,
        np.float64(1),
        np.bool_(True),
        "1",
        None,
        _Index(),
    ],
)
def test_list_path_accepts_the_tokens_the_array_path_accepts(token):
    """Lists out check tokens without the int64 copy: the same tokens pass and fail."""

    def outcome(return_tensors):
        try:
            fa.pad_sequences([[1], [token]], return_tensors=return_tensors)
        except Exception as exc:  # the type is what is compared
            return type(exc)
        return None

    assert outcome(None) == outcome("np")


def test_out_array_is_written_and_returned():
    out = np.full((2, 4), 77, dtype=np.int64)
    got = fa.pad_sequences([[1, 2], [3]], pad_to_multiple_of=4, pad_value=-5, return_tensors="np", out=out)
    assert got is out
    assert out.tolist() == [[1, 2, -5, -5], [3, -5, -5, -5]]


def test_numpy_rows_of_mixed_dtypes():
    rows = [np.array([1, 2], np.uint8), np.array([2**40], np.int64), np.array([3], np.uint64)]
    assert fa.pad_sequences(rows) == [[1, 2], [2**40, 0], [3, 0]]


def test_empty_batch():
    assert fa.pad_sequences([]) == []
    assert fa.pad_sequences([], target_length=3, return_tensors="np").shape == (0, 3)
    assert fa.pad_sequences([[], []], return_tensors="np").shape == (2, 0)


@pytest.mark.axolotl
def test_pt_returns_tensor_sharing_memory():
    torch = pytest.importorskip("torch")
    t = fa.pad_sequences([[1, 2], [3]], return_tensors="pt")
    assert t.dtype == torch.int64 and t.tolist() == [[1, 2], [3, 0]]
    out = np.empty((2, 3), np.int64)
    t = fa.pad_sequences(pa.array([[1], [2, 3, 4]]), return_tensors="pt", out=out)
    assert t.data_ptr() == out.ctypes.data and t.tolist() == [[1, 0, 0], [2, 3, 4]]


def test_pt_without_torch_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    with pytest.raises(ImportError, match="needs PyTorch"):
        fa.pad_sequences([[1]], return_tensors="pt")


BAD_ARGUMENTS = [
    (dict(padding_side="center"), ValueError, "padding_side"),
    (dict(padding_side=None), ValueError, "padding_side"),
    (dict(target_length=-1), ValueError, "target_length"),
    (dict(target_length="5"), TypeError, "target_length"),
    (dict(target_length=2.0), TypeError, "target_length"),
    (dict(pad_to_multiple_of=0), ValueError, "pad_to_multiple_of"),
    (dict(pad_to_multiple_of=-8), ValueError, "pad_to_multiple_of"),
    (dict(pad_value=2**63), ValueError, "pad_value"),
    (dict(pad_value=1.5), TypeError, "pad_value"),
    (dict(return_tensors="tf"), ValueError, "return_tensors"),
    (dict(out=np.zeros((2, 3), np.int64)), ValueError, "out= needs"),
    (dict(return_tensors="np", out=np.zeros((2, 3), np.int64)), ValueError, "shape"),
    (dict(return_tensors="np", out=np.zeros((2, 2), np.int32)), TypeError, "int64"),
    (dict(return_tensors="np", out=np.zeros((2, 4), np.int64)[:, ::2]), ValueError, "contiguous"),
]


@pytest.mark.parametrize("kwargs, error, message", BAD_ARGUMENTS)
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        fa.pad_sequences([[1, 2], [3]], **kwargs)


BAD_SEQUENCES = [
    ([[1, 2.5]], TypeError, r"sequences\[0\]: tokens must be integers"),
    ([[1], ["7"]], TypeError, r"sequences\[1\]: tokens must be integers"),
    ([[None]], TypeError, "tokens must be integers"),
    ([[2**63]], ValueError, "outside the int64 range"),
    ([[-(2**63) - 1]], ValueError, "outside the int64 range"),
    ([5], TypeError, r"sequences\[0\] must be a list of ints, got int"),
    (["abc"], TypeError, r"sequences\[0\] must be a list of ints, got str"),
    ("abc", TypeError, "list of token lists"),
    (None, TypeError, "list of token lists"),
    (np.zeros((2, 2), np.int64), TypeError, "ambiguous"),
    ([np.array([1.0, 2.0])], TypeError, "tokens must be integers, got dtype float64"),
    ([np.array([True])], TypeError, "dtype bool"),
    ([np.zeros((2, 2), np.int64)], ValueError, "1-D"),
    ([np.array([2**63], np.uint64)], ValueError, "outside the int64 range"),
    ((np.array([1, 2]), np.array([0, 3])), ValueError, "offsets point past the values"),
    ((np.array([1, 2]), np.array([0, 2, 1])), ValueError, "not monotonic"),
    ((np.array([1, 2]), np.array([-1, 1])), ValueError, "must not be negative"),
    ((np.array([1, 2]), np.array([], np.int64)), ValueError, "at least one"),
    ((np.array([1.5]), np.array([0, 1])), TypeError, "dtype float64"),
    ((np.array([1]), np.array([0.0, 1.0])), TypeError, "offsets"),
    (pa.array([[1], None], pa.list_(pa.int64())), ValueError, "row 1 is null"),
    (pa.array([[1, None]], pa.list_(pa.int64())), ValueError, "token is null"),
    (pa.array([[1.5]], pa.list_(pa.float32())), TypeError, "tokens must be integers"),
    (pa.array(["a"]), TypeError, "list of integers"),
]


@pytest.mark.parametrize("sequences, error, message", BAD_SEQUENCES)
@pytest.mark.parametrize("return_tensors", [None, "np"])
def test_bad_sequences(sequences, error, message, return_tensors):
    with pytest.raises(error, match=message):
        fa.pad_sequences(sequences, return_tensors=return_tensors)


@given(st.integers(0, 5000), st.integers(0, 5000))
def test_create_padding_mask(current, target):
    assert fa.create_padding_mask(current, target) == list(range(max(target - current, 0)))


@pytest.mark.parametrize("args, error", [((-1, 3), ValueError), ((0, -3), ValueError), ((1.0, 3), TypeError)])
def test_create_padding_mask_bad(args, error):
    with pytest.raises(error):
        fa.create_padding_mask(*args)


def test_datasets_column_honours_shuffle_and_select():
    datasets = pytest.importorskip("datasets")
    rows = [[i] * (i % 5) for i in range(40)]
    ds = datasets.Dataset.from_dict({"input_ids": rows})
    for view in (ds, ds.shuffle(seed=3), ds.select([7, 2, 30])):
        expected = reference_pad(view["input_ids"][:], 6)
        assert fa.pad_sequences(view["input_ids"], target_length=6) == expected
        assert fa.pad_sequences(view["input_ids"], target_length=6, return_tensors="np").tolist() == expected
