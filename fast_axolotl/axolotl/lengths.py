"""`axolotl.utils.samplers.utils.get_dataset_lengths` straight from the Arrow columns.

The original, branch by branch (it returns an int64 array built from Python ints):
- a `length` column: its values;
- else `position_ids`: `row[-1] + 1` per row (the last sample of a packed row ends there);
- else `len(row)` of `input_ids`; with `from_arrow=True` read from `dataset.data`, that is
  the stored table in storage order, ignoring shuffle/select.
We compute each per stored row from the Arrow buffers, then apply the dataset's indices
mapping. Rows whose Python form would not give a plain int (nulls, empty position_ids, non
integer values) and empty results go to the original, which raises or returns what it does.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from datasets import Dataset

from fast_axolotl import _hf

from .fallback import Fallback

INT64_MAX = np.iinfo(np.int64).max


def get_dataset_lengths(dataset, from_arrow=False):
    table, indices = _stored_rows(dataset)
    names = dataset.column_names
    if "length" in names:
        lengths, valid = _per_row(table.column("length"), _integers)
    elif "position_ids" in names:
        lengths, valid = _per_row(table.column("position_ids"), _last_plus_one)
    elif "input_ids" in names:
        lengths, valid = _per_row(table.column("input_ids"), _list_lengths)
        if from_arrow:
            indices = None
    else:
        raise Fallback("no length, position_ids or input_ids column")
    if indices is not None:
        lengths, valid = lengths[indices], valid[indices]
    if lengths.size == 0 or not valid.all():
        raise Fallback("empty dataset, or rows without an integer length")
    return lengths


def _stored_rows(dataset):
    """(stored pyarrow Table, int64 indices mapping or None) of a plain datasets.Dataset."""
    if not isinstance(dataset, Dataset):
        raise Fallback(f"not a datasets.Dataset: {type(dataset).__name__}")
    if dataset.format["type"] is not None:  # dataset[column] would give arrays or tensors
        raise Fallback(f"dataset has the format {dataset.format['type']!r}")
    return _hf.stored_rows(dataset)


def _per_row(column: pa.ChunkedArray, per_chunk):
    """(int64 value, valid flag) per stored row, `per_chunk` applied to each chunk."""
    parts = [per_chunk(chunk) for chunk in column.chunks]
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, bool)
    lengths, valid = zip(*parts)
    return np.concatenate(lengths), np.concatenate(valid)


def _is_int(arrow_type) -> bool:
    """Integers that int64 holds (uint64 may not)."""
    return pa.types.is_integer(arrow_type) and arrow_type != pa.uint64()


def _not_null(array: pa.Array) -> np.ndarray:
    return ~array.is_null().to_numpy(zero_copy_only=False)


def _integers(chunk: pa.Array):
    if not _is_int(chunk.type):
        raise Fallback(f"length column of type {chunk.type}")
    return chunk.fill_null(0).to_numpy().astype(np.int64), _not_null(chunk)


def _offsets(chunk: pa.Array) -> np.ndarray:
    """Row offsets into `chunk.values` (slices included) of a list column."""
    if not (pa.types.is_list(chunk.type) or pa.types.is_large_list(chunk.type)):
        raise Fallback(f"column of type {chunk.type}, not a list")
    return chunk.offsets.to_numpy().astype(np.int64, copy=False)


def _list_lengths(chunk: pa.Array):
    return np.diff(_offsets(chunk)), _not_null(chunk)


def _last_plus_one(chunk: pa.Array):
    offsets = _offsets(chunk)
    values = chunk.values  # the whole child array: offsets index into it
    if not _is_int(values.type) or values.null_count:
        raise Fallback(f"position_ids of type {chunk.type} (or with nulls)")
    ends = offsets[1:]
    filled = ends > offsets[:-1]  # row[-1] of an empty row raises in the original
    last = np.zeros(ends.size, np.int64)
    last[filled] = values.to_numpy()[ends[filled] - 1]
    return last + 1, _not_null(chunk) & filled & (last < INT64_MAX)
