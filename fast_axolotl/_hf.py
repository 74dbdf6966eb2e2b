"""The one module that touches `datasets` internals (`Dataset._indices`, `.data.table`,
`_fingerprint`, `InMemoryTable`, `_get_cache_file_path`, a `Column`'s `source`): every other
module reads and builds `datasets.Dataset`s through these functions. tests/test_hf_adapter.py
checks each against `datasets`' public API, so an upgrade that changes the internals fails
there first.

A Dataset stores an Arrow table and, after `shuffle`/`select`/`filter`, an indices mapping:
row i of the dataset is stored row `indices[i]`. "Logical" below means in the dataset's row
order (the mapping applied)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import datasets
    import pyarrow as pa


def stored_table(dataset: Any) -> "pa.Table":
    """The stored Arrow table of `dataset`, in storage order (no indices mapping applied)."""
    data = dataset.data
    return data.table if hasattr(data, "table") else data


def indices(dataset: Any) -> "Optional[pa.ChunkedArray]":
    """The indices mapping (uint64 stored row per logical row), or None when rows are stored
    in order."""
    mapping = getattr(dataset, "_indices", None)
    return None if mapping is None else mapping.column(0)


def stored_rows(dataset: Any) -> "tuple[pa.Table, Optional[npt.NDArray[np.int64]]]":
    """(stored table, int64 indices mapping as numpy or None): read columns per stored row,
    then index the result (cheaper than `take` on the Arrow data)."""
    mapping = indices(dataset)
    positions = None if mapping is None else mapping.to_numpy().astype(np.int64, copy=False)
    return stored_table(dataset), positions


def table(dataset: Any) -> "pa.Table":
    """The Arrow table of `dataset` in logical order (a gather copy when it has a mapping),
    as `dataset.with_format("arrow")[:]` gives it."""
    stored, mapping = stored_table(dataset), indices(dataset)
    return stored if mapping is None else stored.take(mapping)


def column(dataset: Any, name: str) -> "pa.ChunkedArray":
    """One column of `dataset` in logical order, as `dataset.with_format("arrow")[name]`."""
    data, mapping = stored_table(dataset).column(name), indices(dataset)
    return data if mapping is None else data.take(mapping)


def column_of(values: object) -> "Optional[pa.ChunkedArray]":
    """The Arrow data of a `datasets` column object (`dataset[name]` in datasets >= 4, a lazy
    `Column`) in logical order, or None when `values` is not a column of a `datasets.Dataset`
    (e.g. of an IterableDataset)."""
    source, name = getattr(values, "source", None), getattr(values, "column_name", None)
    data = getattr(source, "data", None)
    if name is None or not hasattr(data, "column"):
        return None
    return column(source, name)


def fingerprint(dataset: Any) -> str:
    """The fingerprint `datasets` identifies the dataset's content and history by."""
    return dataset._fingerprint


def new_fingerprint(dataset: Any, transform: str, args: dict) -> str:
    """The fingerprint after `transform` with `args` (as `datasets`' own transforms derive it)."""
    from datasets.fingerprint import update_fingerprint

    return update_fingerprint(fingerprint(dataset), transform, args)


def from_table(
    data: "pa.Table", info: "Optional[datasets.DatasetInfo]", split: Any, fingerprint: str
) -> "datasets.Dataset":
    """An in-memory Dataset of `data` with `info`, `split` and `fingerprint` (given, so that
    `datasets` does not hash every value of the table)."""
    from datasets import Dataset
    from datasets.table import InMemoryTable

    return Dataset(InMemoryTable(data), info=info, split=split, fingerprint=fingerprint)


def cache_file_path(dataset: Any, fingerprint: str) -> str:
    """The cache file `map` would write the result with `fingerprint` to (beside the input's
    cache files, or a temporary one when caching is off)."""
    return dataset._get_cache_file_path(fingerprint)


def from_cache_file(path: str, info: Any, split: Any, fingerprint: str) -> "datasets.Dataset":
    """The Dataset memory-mapped from the Arrow file `path`, with `fingerprint` (as `map` sets
    it; `Dataset.from_file` takes none)."""
    from datasets import Dataset

    result = Dataset.from_file(path, info=info, split=split)
    result._fingerprint = fingerprint
    return result


def select(dataset: Any, positions: "npt.ArrayLike", fingerprint: str) -> "datasets.Dataset":
    """`dataset.select(positions)` without copying data or writing an indices cache file (what
    `filter` returns): a copy whose indices mapping is the old one taken at `positions`."""
    import copy

    import pyarrow as pa
    from datasets.table import InMemoryTable

    mapping = pa.array(np.asarray(positions, np.uint64), pa.uint64())
    old = indices(dataset)
    if old is not None:
        mapping = old.take(mapping)
    result = copy.deepcopy(dataset)
    result._indices = InMemoryTable(pa.table({"indices": mapping}))
    result._fingerprint = fingerprint
    return result
