"""The per-row passes of `axolotl preprocess` that are not tokenization, computed from the
Arrow columns instead of Python rows, with the result Axolotl's own pass gives:

- `drop_outside_range`: `axolotl.utils.data.utils._drop_outside_range` (the default
  `excess_length_strategy: drop`), a batched `filter(filter_sequences_by_length)`;
- `filter_short_sequences` and `truncate_long_sequences`: `_filter_short_sequences` and
  `_truncate_long_sequences` (`excess_length_strategy: truncate`);
- `process_datasets_for_packing`: `axolotl.utils.trainer.process_datasets_for_packing`,
  its `filter(drop_no_trainable_tokens)` and `map(add_position_ids)` for sample packing.

A `filter` is reproduced as `datasets` itself leaves it: the same table, an indices mapping
(uint64) of the kept rows composed with the dataset's own. A `map` gives a new table of the
rows in their logical order, where `map` writes its result (memory-mapped from the cache
file map would use; in memory when the input has no files), the columns with the types
`map` gives them (added: position_ids list<int64>, length int64). Fingerprints are derived
from the input's, so `datasets`' cache never mistakes one result for another.

Not modelled (the original runs): IterableDatasets, formatted datasets, attached indexes,
empty datasets, null or non-list token columns, an eval dataset, PoSE, group_by_length,
columns the map would overwrite, and every case where the original raises (too long rows
with `excess_length_strategy: raise`, nothing left to train on) so it raises its own error.
"""

from __future__ import annotations

import copy
import os

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasets import Dataset, Features, List, Value

from fast_axolotl import _hf
from fast_axolotl.reader import write_stream_file

from .fallback import Fallback

# Part of every fingerprint made here: a change in what these passes compute changes it.
VERSION = "fast-axolotl stages 1"
IGNORE_INDEX = -100
# Rows per Arrow chunk of the tables made here: `map` writes batches of 1000 rows, and
# datasets' later passes (save_to_disk's gather through an indices mapping) are much slower
# on one chunk of every row than on chunks of this size.
ROWS_PER_CHUNK = 1000
TRUNCATED = ("input_ids", "attention_mask", "labels", "position_ids")  # truncate_long_seq's columns


# --- Axolotl's functions ------------------------------------------------------------------


def drop_outside_range(dataset, max_len, min_len, raise_on_long, filter_kwargs):
    """`_drop_outside_range`: keep rows with min_len (or 2) <= len(input_ids) <= max_len."""
    lengths = _list_lengths(_plain(dataset), "input_ids")
    low = min_len or 2
    if raise_on_long and (lengths > max_len).any():
        raise Fallback("a row is too long and the original raises for it")
    kept = _filtered(dataset, (lengths >= low) & (lengths <= max_len), "drop_outside_range", (max_len, low))
    dropped = len(dataset) - len(kept)
    if not raise_on_long and dropped > 0:
        _axolotl_log("axolotl.utils.data.utils").info(
            f"Dropped {dropped} sequences outside valid range ([{min_len}, {max_len}])"
        )
    return kept, (0 if raise_on_long else dropped)


def filter_short_sequences(dataset, min_len, filter_kwargs):
    """`_filter_short_sequences`: keep rows with len(input_ids) >= min_len (or 2)."""
    low = min_len or 2
    lengths = _list_lengths(_plain(dataset), "input_ids")
    kept = _filtered(dataset, lengths >= low, "filter_short_sequences", low)
    dropped = len(dataset) - len(kept)
    if dropped > 0:
        _axolotl_log("axolotl.utils.data.utils").info(f"Dropped {dropped} short sequences (<{min_len} tokens)")
    return kept, dropped


def truncate_long_sequences(dataset, max_len, map_kwargs):
    """`_truncate_long_sequences` (a batched map of truncate_long_seq): rows whose input_ids
    are longer than max_len keep their first max_len items in input_ids, attention_mask,
    labels and position_ids; the other columns stay as they are."""
    if type(max_len) is not int or max_len < 0:
        raise Fallback(f"max_len={max_len!r}")  # negative: Python's slice counts from the end
    table = _logical_table(_plain(dataset))
    lengths = _list_lengths(table.column("input_ids"), "input_ids")
    for name in TRUNCATED:
        if name not in table.column_names:
            continue
        # The original cuts every column of a row by input_ids' length: with equal lengths,
        # cutting every row at max_len is the same.
        if not np.array_equal(_list_lengths(table.column(name), name), lengths):
            raise Fallback(f"{name} rows differ in length from input_ids")
        column = table.column(name)
        table = table.set_column(table.column_names.index(name), name, pc.list_slice(column, 0, max_len))
    _axolotl_log("axolotl.utils.data.utils").info(f"Truncated long sequences to max length {max_len}")
    fingerprint = new_fingerprint(dataset, "truncate_long_seq", max_len)
    return _mapped(dataset, table, copy.deepcopy(dataset.info), fingerprint)


def process_datasets_for_packing(cfg, train_dataset, eval_dataset):
    """The train-set half of Axolotl's function for the usual sample-packing config."""
    if eval_dataset is not None:
        raise Fallback("an eval dataset")  # filtered row by row there, with other edge rules
    if cfg.use_pose or cfg.group_by_length:
        raise Fallback("PoSE or group_by_length")
    # Nothing below changes the input: a refusal at any point leaves the original a clean start.
    dataset = _drop_columns(cfg, _plain(train_dataset))
    prior_len = len(dataset)
    dataset = _filtered(dataset, _has_trainable_tokens(dataset), "drop_no_trainable_tokens", None)
    dropped = prior_len - len(dataset)
    if dropped:
        _axolotl_log("axolotl.utils.trainer").warning(f"Dropped {dropped} samples with no trainable tokens")
    if len(dataset) == 0:
        raise Fallback("no rows left: the original raises")
    if cfg.sample_packing:
        dataset = with_position_ids(dataset)
    return dataset, None


# --- the passes ---------------------------------------------------------------------------


def with_position_ids(dataset: Dataset) -> Dataset:
    """`dataset.map(add_position_ids, batched=True)`: position_ids 0..len-1 and length per row,
    appended to the rows in logical order."""
    names = dataset.column_names
    if "position_ids" in names or "length" in names:
        raise Fallback("position_ids or length exists: map would overwrite it in place")
    table = _logical_table(dataset)
    lengths = _list_lengths(table.column("input_ids"), "input_ids")
    table = table.append_column("position_ids", _ranges(lengths))
    table = table.append_column("length", pa.array(lengths, pa.int64()))
    info = copy.deepcopy(dataset.info)
    info.features = Features({**dataset.features, "position_ids": List(Value("int64")), "length": Value("int64")})
    fingerprint = new_fingerprint(dataset, "add_position_ids", None)
    return _mapped(dataset, table, info, fingerprint)


def _mapped(dataset: Dataset, table: pa.Table, info, fingerprint: str) -> Dataset:
    return mapped(dataset, table.to_batches(), table.schema, info, fingerprint)


def mapped(
    dataset: Dataset, batches, schema: pa.Schema, info, fingerprint: str, keep_in_memory: bool = False
) -> Dataset:
    """The result of a map of `dataset` (its record `batches`, made as they are written),
    where `map` leaves it: for an input backed by files, memory-mapped from the cache file
    `map` would use (beside the input's, or a temporary one when caching is off, as in
    `axolotl preprocess`); in memory otherwise. Not always in memory: `save_to_disk`
    pickles an in-memory table into its worker (8 s of a 100k-row preprocess), a
    memory-mapped one by its file name, and the tokens need not stay in RAM."""
    if keep_in_memory or not dataset.cache_files:
        table = pa.Table.from_batches(list(batches), schema=schema)
        return _hf.from_table(table, info, dataset.split, fingerprint)
    path = _hf.cache_file_path(dataset, fingerprint)
    if not os.path.exists(path):  # named by the fingerprint: an existing file holds this result
        write_stream_file(path, batches, lambda: schema)
    return _hf.from_cache_file(path, info, dataset.split, fingerprint)


def _ranges(lengths: np.ndarray) -> pa.ChunkedArray:
    """list<int64> rows 0..length-1, in chunks of ROWS_PER_CHUNK rows (as _logical_table's;
    also, list<int64> has int32 offsets, which one array of all rows could overflow)."""
    chunks = []
    for start in range(0, lengths.size, ROWS_PER_CHUNK):
        part = lengths[start : start + ROWS_PER_CHUNK]
        offsets = np.zeros(part.size + 1, np.int64)
        np.cumsum(part, out=offsets[1:])
        if offsets[-1] > np.iinfo(np.int32).max:
            raise Fallback("rows too long for list<int64> offsets in one chunk")
        values = np.arange(offsets[-1], dtype=np.int64) - np.repeat(offsets[:-1], part)
        chunks.append(pa.ListArray.from_arrays(offsets.astype(np.int32), values))
    return pa.chunked_array(chunks, pa.list_(pa.int64()))


def _filtered(dataset: Dataset, keep: np.ndarray, name: str, args) -> Dataset:
    """What `dataset.filter(...)` returns for this mask: a copy with a new indices mapping."""
    return _hf.select(dataset, np.flatnonzero(keep), new_fingerprint(dataset, name, args))


def _has_trainable_tokens(dataset: Dataset) -> np.ndarray:
    """Per row (logical order): any label != -100 (an empty row has none)."""
    offsets, values = _lists(dataset, "labels")
    trainable = np.zeros(values.size + 1, np.int64)
    np.cumsum(values != IGNORE_INDEX, out=trainable[1:])
    return trainable[offsets[1:]] > trainable[offsets[:-1]]


def _drop_columns(cfg, dataset: Dataset) -> Dataset:
    """The columns the original removes for some model types, removed the same way."""
    if cfg.model_config_type in ["mamba", "gemma3"]:
        dataset = dataset.remove_columns("attention_mask")
    if cfg.model_config_type in ["falcon", "mistral"] and "token_type_ids" in dataset.column_names:
        dataset = dataset.remove_columns("token_type_ids")
    return dataset


# --- reading the Arrow columns ------------------------------------------------------------


def _plain(dataset) -> Dataset:
    """The datasets this models: a non-empty, unformatted datasets.Dataset without indexes."""
    if not isinstance(dataset, Dataset):
        raise Fallback(f"not a datasets.Dataset: {type(dataset).__name__}")
    columns = dataset.format["columns"]
    if dataset.format["type"] is not None or set(columns) != set(dataset.column_names):
        raise Fallback("a formatted dataset")
    if dataset.list_indexes():
        raise Fallback("a dataset with indexes")
    if len(dataset) == 0:
        raise Fallback("an empty dataset")
    return dataset


def _logical_table(dataset: Dataset) -> pa.Table:
    """The stored table in row order of the dataset (its indices mapping applied), in chunks
    of ROWS_PER_CHUNK rows that own their buffers. Not zero-copy slices: a sliced list
    array's `.values` is its parent's whole child array, and `datasets` casts `.values` of
    every batch it writes (save_to_disk): slices made that quadratic in time and memory
    (24 GB at 100k rows)."""
    table = _hf.table(dataset)
    batches = [pa.concat_batches([batch]) for batch in table.to_batches(max_chunksize=ROWS_PER_CHUNK)]
    return pa.Table.from_batches(batches, table.schema)


def _column(dataset: Dataset, name: str) -> pa.Array:
    """One list column of the rows in logical order, as one array."""
    if name not in dataset.column_names:
        raise Fallback(f"no {name} column")
    return _checked(_hf.column(dataset, name), name)


def _checked(column: pa.ChunkedArray, name: str) -> pa.Array:
    """The column as one list array without nulls (what the original's len() and loops take)."""
    array = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if not (pa.types.is_list(array.type) or pa.types.is_large_list(array.type)):
        raise Fallback(f"{name} is {array.type}, not a list")
    if array.null_count or array.values.null_count:
        raise Fallback(f"{name} has nulls")
    return array


def _list_lengths(source, name: str) -> np.ndarray:
    """Row lengths of a list column of a dataset (logical order) or of a ChunkedArray."""
    array = _column(source, name) if isinstance(source, Dataset) else _checked(source, name)
    return np.diff(array.offsets.to_numpy().astype(np.int64, copy=False))


def _lists(dataset: Dataset, name: str):
    """(offsets from 0, values) of a list column of integers, rows in logical order."""
    array = _column(dataset, name)
    if not pa.types.is_integer(array.type.value_type):
        raise Fallback(f"{name} values are {array.type.value_type}")
    offsets = array.offsets.to_numpy().astype(np.int64, copy=False)
    values = array.values.to_numpy(zero_copy_only=False)
    return offsets - offsets[0], values[offsets[0] : offsets[-1]]


def new_fingerprint(dataset: Dataset, name: str, args) -> str:
    """The new fingerprint of `dataset` after our transform `name` with `args` (a repr-able
    value that changes whenever the result would)."""
    return _hf.new_fingerprint(dataset, f"{VERSION}: {name}", {"args": repr(args)})


def _axolotl_log(module: str):
    """The logger of the Axolotl module whose messages we repeat (so they read the same)."""
    import importlib

    return importlib.import_module(module).LOG
