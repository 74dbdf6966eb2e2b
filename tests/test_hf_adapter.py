"""fast_axolotl._hf, the one module that reads `datasets` internals, against `datasets`' public
API as the oracle (`with_format("arrow")`, `ds[column]`, `select`, `map(new_fingerprint=...)`),
on plain, memory-mapped, shuffled, selected, filtered, sharded, concatenated and sliced
datasets: a `datasets` upgrade that changes the internals fails here first."""

from __future__ import annotations

import datasets
import numpy as np
import pyarrow as pa
import pytest

from fast_axolotl import _hf

ROWS = 40


def base() -> datasets.Dataset:
    rng = np.random.default_rng(0)
    return datasets.Dataset.from_dict(
        {
            "text": [f"row {i}" for i in range(ROWS)],
            "ids": [rng.integers(0, 1000, int(rng.integers(0, 7))).tolist() for _ in range(ROWS)],
            "n": list(range(ROWS)),
        },
        info=datasets.DatasetInfo(description="the base"),
        split="train",
    )


def memory_mapped(tmp_path) -> datasets.Dataset:
    base().save_to_disk(str(tmp_path / "saved"))
    return datasets.load_from_disk(str(tmp_path / "saved"))


CASES = {
    "plain": lambda tmp: base(),
    "memory-mapped": memory_mapped,
    "memory-mapped shuffled": lambda tmp: memory_mapped(tmp).shuffle(seed=4),
    "shuffled": lambda tmp: base().shuffle(seed=0),
    "selected": lambda tmp: base().select([5, 1, 1, 9, 0, 39]),
    "filtered": lambda tmp: base().filter(lambda row: row["n"] % 3 == 0),
    "sharded": lambda tmp: base().shard(3, 1, contiguous=False),
    "sharded contiguous": lambda tmp: base().shard(3, 1, contiguous=True),
    "shuffled then sharded": lambda tmp: base().shuffle(seed=1).shard(4, 2),
    "concatenated": lambda tmp: datasets.concatenate_datasets([base().shuffle(seed=2), base().select(range(5, 10))]),
    "sliced": lambda tmp: base().select(range(10, 30)),
    "shuffled then sliced": lambda tmp: base().shuffle(seed=3).select(range(2, 12)),
    "skip take": lambda tmp: base().skip(5).take(10),
    "empty": lambda tmp: base().select([]),
    "flattened": lambda tmp: base().shuffle(seed=5).flatten_indices(),
}


@pytest.fixture(params=list(CASES))
def dataset(request, tmp_path) -> datasets.Dataset:
    return CASES[request.param](tmp_path)


def arrow(ds: datasets.Dataset) -> pa.Table:
    return ds.with_format("arrow")[:]


def test_table_is_the_rows_in_order(dataset):
    assert _hf.table(dataset).equals(arrow(dataset))


def test_column_is_the_column_in_order(dataset):
    for name in dataset.column_names:
        got = _hf.column(dataset, name)
        assert isinstance(got, pa.ChunkedArray)
        assert got.to_pylist() == dataset[name][:] == arrow(dataset).column(name).to_pylist()


def test_stored_rows_index_to_the_rows(dataset):
    stored, indices = _hf.stored_rows(dataset)
    assert isinstance(stored, pa.Table)
    if indices is None:
        assert stored.equals(arrow(dataset))
    else:
        assert indices.dtype == np.int64
        assert stored.take(pa.array(indices)).equals(arrow(dataset))
    mapping = _hf.indices(dataset)
    assert (mapping is None) == (indices is None)
    assert _hf.stored_table(dataset).equals(stored)


def test_column_of_a_datasets_column(dataset):
    for name in dataset.column_names:
        got = _hf.column_of(dataset[name])
        assert got is not None
        assert got.to_pylist() == list(dataset[name])


def test_column_of_anything_else_is_none():
    assert _hf.column_of([1, 2]) is None
    assert _hf.column_of(pa.chunked_array([[1]])) is None
    streamed = datasets.IterableDataset.from_generator(lambda: iter([{"a": 1}]))
    assert _hf.column_of(streamed["a"]) is None


def test_select_is_datasets_select(dataset):
    positions = [i for i in range(len(dataset)) if i % 2 == 0][::-1]
    before = arrow(dataset)
    got = _hf.select(dataset, np.array(positions, np.int64), "a-fingerprint")
    want = dataset.select(positions)
    assert arrow(got).equals(arrow(want))
    assert got.column_names == want.column_names and got.features == want.features
    assert _hf.fingerprint(got) == "a-fingerprint"
    assert arrow(dataset).equals(before)  # the input is untouched
    # No data copied: the selection reads the same stored table.
    assert _hf.stored_table(got).equals(_hf.stored_table(dataset))
    # ... and writes no file (the mapping is in memory).
    assert {f["filename"] for f in got.cache_files} <= {f["filename"] for f in dataset.cache_files}
    if len(dataset):
        assert arrow(_hf.select(dataset, [], "empty")).num_rows == 0


def test_fingerprint_is_the_one_datasets_sets(dataset):
    if not len(dataset):
        pytest.skip("map of an empty dataset returns it unchanged")
    mapped = dataset.map(lambda row: row, new_fingerprint="fixed-fingerprint")
    assert _hf.fingerprint(mapped) == "fixed-fingerprint"
    assert _hf.fingerprint(dataset) == _hf.fingerprint(dataset)


def test_new_fingerprint_follows_input_transform_and_args(dataset):
    one = _hf.new_fingerprint(dataset, "t", {"args": "1"})
    assert one == _hf.new_fingerprint(dataset, "t", {"args": "1"})
    assert one != _hf.fingerprint(dataset)
    assert (
        len({one, _hf.new_fingerprint(dataset, "t", {"args": "2"}), _hf.new_fingerprint(dataset, "u", {"args": "1"})})
        == 3
    )
    other = _hf.from_table(arrow(dataset), None, None, "other")
    assert _hf.new_fingerprint(other, "t", {"args": "1"}) != one


def test_from_table_keeps_info_split_and_fingerprint(dataset):
    data = arrow(dataset)
    got = _hf.from_table(data, dataset.info.copy(), dataset.split, "from-table")
    assert arrow(got).equals(data)
    assert got.info.description == "the base" and got.split == dataset.split
    assert _hf.fingerprint(got) == "from-table"
    assert got.cache_files == []
    assert got[:] == dataset[:]


def test_cache_file_path_is_where_map_writes(tmp_path):
    ds = memory_mapped(tmp_path)
    path = _hf.cache_file_path(ds, "abc123")
    mapped = ds.map(lambda row: {"m": row["n"] * 2}, new_fingerprint="abc123")
    assert [f["filename"] for f in mapped.cache_files] == [path]
    # from_cache_file gives map's result back, with the fingerprint map set.
    got = _hf.from_cache_file(path, mapped.info, ds.split, "abc123")
    assert arrow(got).equals(arrow(mapped))
    assert _hf.fingerprint(got) == _hf.fingerprint(mapped)
    assert got.cache_files == mapped.cache_files and got.split == ds.split
