"""Arrow-native dedupe keeps exactly the rows that sha256(str(row)) keeps (Axolotl's rule)."""

from __future__ import annotations

import hashlib
import math
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fast_axolotl as fa
import fast_axolotl.dedupe as dedupe
from fast_axolotl.dedupe import Seen


def reference_keep(rows, seen=None):
    """Axolotl 0.19.0's _deduplicate_dataset loop on Python rows."""
    seen = set() if seen is None else seen
    kept = []
    for i, row in enumerate(rows):
        digest = hashlib.sha256(str(row).encode("utf-8")).hexdigest()
        if digest not in seen:
            seen.add(digest)
            kept.append(i)
    return kept, seen


FLOATS = st.sampled_from([0.0, -0.0, 1.0, 0.1, math.nan, -math.nan, math.inf, 1e16, 2.5])
TEXT = st.sampled_from(["", "a", "hello", "héllo", "🦎", "e\u0301", "a'b", 'q"'])
MESSAGE = pa.struct([("role", pa.string()), ("content", pa.string())])

# (Arrow type, strategy for one value, None allowed)
COLUMN_KINDS = {
    "int8": (pa.int8(), st.integers(-128, 127)),
    "int32": (pa.int32(), st.integers(-5, 5)),
    "int64": (pa.int64(), st.integers(-(2**63), 2**63 - 1) | st.integers(0, 3)),
    "uint64": (pa.uint64(), st.sampled_from([0, 1, 2**63, 2**64 - 1])),
    "float32": (pa.float32(), FLOATS),
    "float64": (pa.float64(), FLOATS),
    "bool": (pa.bool_(), st.booleans()),
    "string": (pa.string(), TEXT),
    "large_string": (pa.large_string(), TEXT),
    "binary": (pa.binary(), st.sampled_from([b"", b"a", b"\x00\xff"])),
    "list_int32": (pa.list_(pa.int32()), st.lists(st.integers(0, 3), max_size=3)),
    "large_list_int64": (pa.large_list(pa.int64()), st.lists(st.integers(0, 3), max_size=3)),
    "list_float": (pa.list_(pa.float64()), st.lists(FLOATS, max_size=2)),
    "struct": (MESSAGE, st.fixed_dictionaries({"role": TEXT, "content": TEXT})),
    "messages": (
        pa.list_(MESSAGE),
        st.lists(st.fixed_dictionaries({"role": TEXT, "content": TEXT | st.none()}), max_size=2),
    ),
    "nested": (
        pa.list_(pa.list_(pa.int8())),
        st.lists(st.lists(st.integers(0, 2) | st.none(), max_size=2) | st.none(), max_size=2),
    ),
}


@st.composite
def tables(draw):
    kinds = draw(st.lists(st.sampled_from(sorted(COLUMN_KINDS)), min_size=1, max_size=4, unique=True))
    values = {k: COLUMN_KINDS[k][1] | st.none() for k in kinds}
    pool = draw(st.lists(st.fixed_dictionaries(values), min_size=1, max_size=6))
    rows = draw(st.lists(st.sampled_from(pool), max_size=25))  # repeats make duplicates
    schema = pa.schema([(k, COLUMN_KINDS[k][0]) for k in kinds])
    return pa.Table.from_pylist(rows, schema=schema)


@settings(max_examples=300, deadline=None)
@given(table=tables(), threads=st.sampled_from([0, 1, 2]))
def test_dedupe_table_matches_str_row_reference(table, threads):
    kept, seen = fa.dedupe_table(table, num_threads=threads)
    expected, _ = reference_keep(table.to_pylist())
    assert kept.tolist() == expected
    assert len(seen) == len(expected)


@settings(max_examples=100, deadline=None)
@given(table=tables(), data=st.data())
def test_sliced_and_chunked_tables(table, data):
    start = data.draw(st.integers(0, table.num_rows))
    piece = table.slice(start)
    chunked = pa.Table.from_batches(piece.to_batches(max_chunksize=3) or [], schema=piece.schema)
    assert fa.dedupe_table(chunked)[0].tolist() == reference_keep(piece.to_pylist())[0]


@settings(max_examples=100, deadline=None)
@given(first=tables(), data=st.data())
def test_cross_dataset_dedupe(first, data):
    second = first.slice(data.draw(st.integers(0, first.num_rows)))
    kept1, seen = fa.dedupe_table(first)
    kept2, _ = fa.dedupe_table(second, seen)
    ref1, ref_seen = reference_keep(first.to_pylist())
    ref2, _ = reference_keep(second.to_pylist(), ref_seen)
    assert (kept1.tolist(), kept2.tolist()) == (ref1, ref2)


def test_integer_width_does_not_matter_but_kind_does():
    # str() prints int8 5 and int64 5 alike, but 5, 5.0 and True differently.
    a = pa.table({"x": pa.array([5, 1], pa.int8())})
    b = pa.table({"x": pa.array([5, 1], pa.int64())})
    _, seen = fa.dedupe_table(a)
    assert fa.dedupe_table(b, seen)[0].tolist() == []
    for other in (pa.array([5.0, 1.0]), pa.array([True, True]), pa.array(["5", "1"])):
        assert fa.dedupe_table(pa.table({"x": other}), seen)[0].tolist() == [0, 1][: len(set(other.to_pylist()))]


def test_nan_and_negative_zero_like_str():
    t = pa.table({"f": pa.array([float("nan"), -float("nan"), 0.0, -0.0, 0.0], pa.float64())})
    assert str(float("nan")) == str(-float("nan")) and str(0.0) != str(-0.0)
    assert fa.dedupe_table(t)[0].tolist() == [0, 2, 3]


def test_column_names_and_order_count():
    t1 = pa.table({"a": [1], "b": [2]})
    _, seen = fa.dedupe_table(t1)
    assert fa.dedupe_table(pa.table({"b": [2], "a": [1]}), seen)[0].tolist() == [0]
    assert fa.dedupe_table(pa.table({"a": [1], "c": [2]}), seen)[0].tolist() == [0]
    assert fa.dedupe_table(pa.table({"a": [1], "b": [2]}), seen)[0].tolist() == []


def test_dictionary_column_is_its_values():
    plain = pa.table({"s": ["x", "y", "x"]})
    encoded = pa.table({"s": pa.array(["x", "y", "x"]).dictionary_encode()})
    assert fa.dedupe_table(encoded)[0].tolist() == [0, 1]
    _, seen = fa.dedupe_table(plain)
    assert fa.dedupe_table(encoded, seen)[0].tolist() == []


def test_record_batch_and_threads_agree():
    rng = np.random.default_rng(0)
    ids = [rng.integers(0, 50, rng.integers(0, 30)).tolist() for _ in range(3000)]
    ids += ids[:300]
    table = pa.table({"input_ids": pa.array(ids, pa.list_(pa.int32())), "n": pa.array([len(x) for x in ids])})
    d1, d2 = fa.row_digests(table, num_threads=1), fa.row_digests(table.to_batches()[0], num_threads=0)
    assert np.array_equal(d1, d2) and d1.shape == (3300, 32)
    assert fa.dedupe_table(table)[0].tolist() == reference_keep(table.to_pylist())[0]


def test_unsupported_types_are_refused():
    t = pa.table({"d": pa.array([1, 2], pa.date32())})
    with pytest.raises(ValueError, match="column 'd'.*Date32"):
        fa.dedupe_table(t)
    with pytest.raises(TypeError, match="seen"):
        fa.dedupe_table(pa.table({"a": [1]}), seen={"abc"})
    with pytest.raises(TypeError, match="Table"):
        fa.dedupe_table([{"a": 1}])


datasets = pytest.importorskip("datasets")


def dataset_with_duplicates(n=400, seed=0):
    rng = np.random.default_rng(seed)
    base = [
        {
            "input_ids": rng.integers(0, 9, rng.integers(1, 6)).tolist(),
            "messages": [{"role": "user", "content": str(rng.integers(0, 3))}],
            "score": float(rng.choice([0.5, np.nan, -0.0])),
        }
        for _ in range(n // 2)
    ]
    return datasets.Dataset.from_list(base + base[: n // 2])


def as_text(dataset):
    return [str(row) for row in dataset]


@pytest.mark.parametrize("bytes_per_call", [None, 1, 500])  # one call; a row a call; a few rows
@pytest.mark.parametrize("view", ["plain", "shuffled", "selected"])
def test_deduplicate_dataset_equals_axolotl(view, bytes_per_call, monkeypatch):
    if bytes_per_call:
        monkeypatch.setattr(dedupe, "BYTES_PER_CALL", bytes_per_call)
    ds = dataset_with_duplicates()
    if view == "shuffled":
        ds = ds.shuffle(seed=7)
    elif view == "selected":
        ds = ds.select(list(range(350, 10, -3)))
    got, seen = fa.deduplicate_dataset(ds)
    expected, _ = reference_keep(list(ds))  # iterates rows exactly as Axolotl does
    assert isinstance(seen, Seen)
    assert as_text(got) == as_text(ds.select(expected))  # str(): NaN == NaN here


@pytest.mark.axolotl
def test_deduplicate_dataset_against_axolotls_own_function():
    utils = pytest.importorskip("axolotl.utils.data.utils")
    train, evaluation = (
        dataset_with_duplicates(seed=1).shuffle(seed=2),
        dataset_with_duplicates(seed=1).select(range(0, 400, 7)),
    )
    ours_train, seen = fa.deduplicate_dataset(train)
    ours_eval, _ = fa.deduplicate_dataset(evaluation, seen)
    their_train, their_seen = utils._deduplicate_dataset(train)
    their_eval, _ = utils._deduplicate_dataset(evaluation, their_seen)
    assert as_text(ours_train) == as_text(their_train) and len(ours_train) < len(train)
    assert as_text(ours_eval) == as_text(their_eval) and len(ours_eval) < len(evaluation)


def test_formatted_dataset_is_refused():
    ds = dataset_with_duplicates(20).with_format("numpy")
    with pytest.raises(ValueError, match="reset_format"):
        fa.deduplicate_dataset(ds)


def test_int_lists_match_across_widths_and_null_layouts():
    # The same list value must hash alike whatever the column's width or nulls elsewhere.
    narrow = pa.table({"ids": pa.array([[1, 2], [300], []], pa.list_(pa.int16()))})
    _, seen = fa.dedupe_table(narrow)
    wide_with_nulls = pa.table({"ids": pa.array([[1, 2], [None], [300], [], None], pa.large_list(pa.int64()))})
    kept, _ = fa.dedupe_table(wide_with_nulls, seen)
    assert (
        kept.tolist() == [1, 4] == reference_keep(wide_with_nulls.to_pylist(), reference_keep(narrow.to_pylist())[1])[0]
    )
    strings = pa.table({"ids": pa.array([[]], pa.list_(pa.string()))})  # [] prints alike for any type
    assert fa.dedupe_table(strings, seen)[0].tolist() == []


def test_decoded_image_columns_are_refused():
    # str() of a decoded PIL image shows its address: Axolotl keeps identical image rows.
    pytest.importorskip("PIL")
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (2, 2)).save(buf, format="PNG")
    features = datasets.Features({"image": datasets.Image(), "text": datasets.Value("string")})
    row = {"image": {"bytes": buf.getvalue(), "path": None}, "text": "same"}
    ds = datasets.Dataset.from_list([row, row], features=features)
    assert len(reference_keep(list(ds))[0]) == 2  # Axolotl's rule keeps both
    with pytest.raises(ValueError, match="decoded by datasets"):
        fa.deduplicate_dataset(ds)
    undecoded = ds.cast_column("image", datasets.Image(decode=False))
    assert fa.dedupe_table(undecoded)[0].tolist() == reference_keep(list(undecoded))[0] == [0]


@settings(max_examples=100, deadline=None)
@given(table=tables(), data=st.data())
def test_digests_a_slice_a_call_equal_one_call_with_indices(table, data):
    # row_digests hashes the rows `indices` picks in increasing order, a slice of the table
    # at a time; the C function also takes the indices as they are, in one call: the two
    # must agree.
    ffi, lib = fa._native.ffi, fa._native.lib
    picks = data.draw(st.lists(st.integers(0, table.num_rows - 1), max_size=30)) if table.num_rows else []
    indices = np.array(picks, dtype=np.int64)
    bytes_per_call, dedupe.BYTES_PER_CALL = dedupe.BYTES_PER_CALL, data.draw(st.sampled_from([1, 100, 1 << 26]))
    try:
        got = dedupe._picked_digests(table, indices, 0)
    finally:
        dedupe.BYTES_PER_CALL = bytes_per_call
    expected = np.empty((indices.size, 32), dtype=np.uint8)
    if indices.size:  # (NULL indices would mean every row)
        stream = ffi.new("struct ArrowArrayStream *")
        table.to_reader()._export_to_c(int(ffi.cast("uintptr_t", stream)))
        out = ffi.from_buffer("uint8_t[]", expected, require_writable=True)
        fa._native.check(
            lib.fax_row_digests(stream, ffi.from_buffer("int64_t[]", indices), indices.size, 0, out, indices.size)
        )
    assert np.array_equal(got, expected)


@pytest.mark.slow
def test_ctrl_c_stops_a_long_dedupe():
    # One dedupe_table call over this table takes longer than the second Ctrl-C may take.
    script = textwrap.dedent(
        """
        import signal, sys, threading, time
        import numpy as np, pyarrow as pa
        import fast_axolotl as fa
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a background job ignores it
        rows, size = 1_500_000, 2048
        values = pa.py_buffer(np.full(rows * size, ord("a"), dtype=np.uint8))
        offsets = pa.py_buffer(np.arange(0, rows * size + 1, size, dtype=np.int64))
        table = pa.table({"text": pa.Array.from_buffers(pa.large_utf8(), rows, [None, offsets, values])})
        start = time.monotonic()
        fa.dedupe_table(table, num_threads=1)
        print(f"ready {time.monotonic() - start:.2f}", flush=True)
        try:
            while True:
                fa.dedupe_table(table, num_threads=1)
        except KeyboardInterrupt:
            assert threading.active_count() == 1, threading.enumerate()
            print("interrupted", flush=True)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    ready = process.stdout.readline().split()
    assert ready[0] == "ready" and float(ready[1]) > 1.0, ready  # else this shows nothing
    time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    start = time.monotonic()
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 0 and out.strip() == "interrupted", out
    assert time.monotonic() - start < 1.0
