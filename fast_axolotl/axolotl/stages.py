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
import functools
import gc
import os
import queue
import threading
import time
from typing import NamedTuple

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datasets import Dataset, Features, List, Value
from datasets.fingerprint import update_fingerprint
from datasets.table import InMemoryTable

import fast_axolotl as fa
from fast_axolotl.reader import write_stream_file

from .multipack import bin_lists
from .patches import Fallback

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
        return Dataset(InMemoryTable(table), info=info, split=dataset.split, fingerprint=fingerprint)
    path = dataset._get_cache_file_path(fingerprint)
    if not os.path.exists(path):  # named by the fingerprint: an existing file holds this result
        write_stream_file(path, batches, lambda: schema)
    result = Dataset.from_file(path, info=info, split=dataset.split)
    result._fingerprint = fingerprint  # from_file takes none; map sets its new one the same way
    return result


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
    positions = np.flatnonzero(keep).astype(np.uint64)
    indices = pa.array(positions, pa.uint64())
    if dataset._indices is not None:
        indices = dataset._indices.column(0).take(indices)
    result = copy.deepcopy(dataset)
    result._indices = InMemoryTable(pa.table({"indices": indices}))
    result._fingerprint = new_fingerprint(dataset, name, args)
    return result


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
    columns = dataset._format_columns
    if dataset._format_type is not None or (columns is not None and set(columns) != set(dataset.column_names)):
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
    table = dataset.data.table
    if dataset._indices is not None:
        table = table.take(dataset._indices.column(0))
    batches = [pa.concat_batches([batch]) for batch in table.to_batches(max_chunksize=ROWS_PER_CHUNK)]
    return pa.Table.from_batches(batches, table.schema)


def _column(dataset: Dataset, name: str) -> pa.Array:
    """One list column of the rows in logical order, as one array."""
    if name not in dataset.column_names:
        raise Fallback(f"no {name} column")
    column = dataset.data.table.column(name)
    if dataset._indices is not None:
        column = column.take(dataset._indices.column(0))
    return _checked(column, name)


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
    return update_fingerprint(dataset._fingerprint, f"{VERSION}: {name}", {"args": repr(args)})


def _axolotl_log(module: str):
    """The logger of the Axolotl module whose messages we repeat (so they read the same)."""
    import importlib

    return importlib.import_module(module).LOG


# --- the multipack sampler's batches ------------------------------------------------------
# Not a preprocessing pass, but the same kind of per-row Python around a kernel: with
# pack_parallel patched, most of MultipackBatchSampler.generate_batches' time is the Python
# mapping of 1M packed positions back to dataset indices.


def generate_batches(sampler, set_stats=False):
    """`MultipackBatchSampler.generate_batches`: the same batches (lists of bins of dataset
    indices, Python ints), the same efficiency statistics, the same sampler draw. What the
    original does after packing (gc.collect()) frees memory only; it is left out."""
    if sampler._batches is not None:
        return sampler._batches
    # A million new lists and ints would set off full garbage collections over the whole
    # heap (seconds in a trainer's process); none of them is in a reference cycle.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _generate_batches(sampler, set_stats)
    finally:
        if collecting:
            gc.enable()


def _generate_batches(sampler, set_stats):
    lengths, bins = _packed_bins(sampler)
    dropped = _dropped_bins(sampler, len(bins))
    size = sampler.batch_size
    if size == 1:  # the trainer's sampler (one bin per batch): no slice per batch
        batches = [[bin_indices] for bin_indices in bins]
    else:
        batches = [bins[i : i + size] for i in range(0, len(bins), size)]
    if dropped:  # the original drops an incomplete last batch
        batches.pop()
    if set_stats:
        _count_statistics(sampler, lengths, len(bins), bins[len(bins) - dropped :])
    sampler._batches = batches
    return batches


class _Packed(NamedTuple):
    positions: np.ndarray  # the draw: dataset indices
    lengths: np.ndarray  # their lengths
    order: np.ndarray  # pack_bins' result: positions' indices, bin after bin
    offsets: np.ndarray

    @property
    def bins(self) -> int:
        return self.offsets.size - 1


def _packed(sampler) -> _Packed:
    """One draw from the sampler, packed."""
    strategy, positions, lengths = _draw(sampler)
    order, offsets = fa.pack_bins(lengths, sampler.batch_max_len, strategy, **_limits(sampler))
    del sampler._fast_axolotl_drawn
    return _Packed(positions, lengths, order, offsets)


def _draw(sampler) -> tuple[str, np.ndarray, np.ndarray]:
    """The packing strategy, the sampler's draw (dataset indices) and their lengths."""
    sampler.__dict__.pop("_fast_axolotl_drawn", None)  # left by a call that raised
    strategy = _packing_strategy(sampler)  # every refusal comes before the draw below
    positions = _drawn_indices(sampler)  # draws from the sampler (and its RNG) as the original
    return strategy, positions, sampler.lengths[positions]


# Making the lists of a million packed indices (Python ints) takes as long as packing them.
# _packed_bins packs in parts of whole groups (so the bins are _packed's) on a thread and
# makes the lists of each part while the thread packs the next: pack_bins releases the GIL,
# so the two run at once on two cores. A part is at least _PART_ITEMS items (a call costs
# ~0.1 ms); with Axolotl's groups of 100,000 it is one group.
_PART_ITEMS = 50_000


def _packed_bins(sampler) -> tuple[np.ndarray, list[list[int]]]:
    """One draw from the sampler: the lengths drawn, and the bins as lists of dataset
    indices (Python ints), as the original makes them."""
    strategy, positions, lengths = _draw(sampler)
    limits = _limits(sampler)
    parts = _parts(len(lengths), limits.get("group_size", 0))
    packings = queue.SimpleQueue()

    def pack_parts():
        for start, end in parts:
            try:
                packings.put(fa.pack_bins(lengths[start:end], sampler.batch_max_len, strategy, **limits))
            except BaseException as error:  # raised in the caller's thread
                packings.put(error)
                return

    threading.Thread(target=pack_parts, name="fast-axolotl-pack", daemon=True).start()
    bins = []
    for start, end in parts:
        packing = packings.get()
        if isinstance(packing, BaseException):
            raise packing
        order, offsets = packing
        bins += bin_lists(positions[start:end][order], offsets[:-1], offsets[1:])
    del sampler._fast_axolotl_drawn
    return lengths, bins


def _parts(items: int, group_size: int) -> list[tuple[int, int]]:
    """Consecutive ranges of whole groups of `group_size` items (0: one group), each of at
    least _PART_ITEMS items but the last."""
    size = group_size * -(-_PART_ITEMS // group_size) if 0 < group_size < items else items
    return [(start, min(start + size, items)) for start in range(0, items, max(1, size))]


def _bin_lists(packed: _Packed, first: int, end: int) -> list[list[int]]:
    """Bins first..end-1 as the original makes them: lists of dataset indices (Python ints)."""
    bounds = packed.offsets[first : end + 1]
    indices = packed.positions[packed.order[bounds[0] : bounds[-1]]]
    bounds = bounds - bounds[0]
    return bin_lists(indices, bounds[:-1], bounds[1:])


def _dropped_bins(sampler, bins: int) -> int:
    """How many of `bins` the original drops: an incomplete last batch, with drop_last."""
    rest = bins % sampler.batch_size
    return rest if sampler.drop_last else 0


def _count_statistics(sampler, lengths: np.ndarray, bins: int, dropped_batch: list[list[int]]) -> None:
    """The original's efficiency statistics of one draw (`lengths` packed into `bins`), with
    its expressions (numpy types included), the dropped batch's tokens and slots left out."""
    if sampler.sequential:  # allocate_sequentially's totals
        total_used, total_slots = int(np.sum(lengths, dtype=np.int64)), bins * int(sampler.batch_max_len)
    else:
        total_used, total_slots = lengths.sum(), bins * sampler.batch_max_len
    if dropped_batch:
        total_slots -= len(dropped_batch) * sampler.batch_max_len
        total_used -= sum(sampler.lengths[idx] for bin_indices in dropped_batch for idx in bin_indices)
    sampler.total_tokens_used += total_used
    sampler.total_token_slots += total_slots


def sampler_len(sampler):
    """`MultipackBatchSampler.__len__`: the fewest batches of num_count_samples fresh draws
    (gathered across ranks), the sampler's batches left from the last draw, as the original.
    The draws whose batches the original drops at once (all but the last) are only counted
    (and their statistics kept): no lists of a million ints made to be dropped. Only with
    generate_batches patched and a sampler drawn whole."""
    if not _batches_are_ours(sampler) or _whole_draw(sampler.sampler) is None:
        raise Fallback("generate_batches is not patched here, or the sampler is iterated")
    samples = sampler.num_count_samples
    if not isinstance(samples, int) or samples < 1:
        raise Fallback(f"num_count_samples={samples!r}")
    _packing_strategy(sampler)  # its refusals, before anything changes
    if sampler._len_across_ranks is not None:
        if sampler._batches is None:
            sampler._batches = sampler.generate_batches(set_stats=True)
        return sampler._len_across_ranks
    if sampler._batches is None:  # the original generates them, and drops them in its loop
        packed = _packed(sampler)
        dropped = _dropped_bins(sampler, packed.bins)
        _count_statistics(sampler, packed.lengths, packed.bins, _bin_lists(packed, packed.bins - dropped, packed.bins))
    log, counts = _axolotl_log("axolotl.utils.samplers.multipack"), []
    for sample in range(samples):
        sampler._batches = None
        start_time = time.time()
        if sample == samples - 1:  # the batches the sampler keeps
            counts.append(len(sampler.generate_batches(set_stats=False)))
        else:
            counts.append(_batch_count(sampler, _packed(sampler)))
        log.debug(f"generate_batches time: {time.time() - start_time}")
    sampler._len_across_ranks = sampler.gather_len_batches(min(counts))
    return sampler._len_across_ranks


def _batches_are_ours(sampler) -> bool:
    from .patches import PATCHES

    patch = next(patch for patch in PATCHES if patch.name == "sampler_batches")
    return patch.replacement is not None and type(sampler).generate_batches is patch.replacement


def _batch_count(sampler, packed: _Packed) -> int:
    """len(generate_batches()) of one draw."""
    return -(-packed.bins // sampler.batch_size) - (1 if _dropped_bins(sampler, packed.bins) else 0)


def generate_batches_fallback(original, sampler, set_stats=False):
    """The original, on the draw the fast path already took from the sampler, if it did."""
    drawn = sampler.__dict__.pop("_fast_axolotl_drawn", None)
    if drawn is None:
        return original(sampler, set_stats)
    if isinstance(drawn, np.ndarray):  # the original's bins hold what the sampler yields: ints
        drawn = drawn.tolist()
    source, sampler.sampler = sampler.sampler, drawn
    try:
        return original(sampler, set_stats)
    finally:
        sampler.sampler = source


def _drawn_indices(sampler) -> np.ndarray:
    """What iterating `sampler.sampler` yields, as an int64 array, left in
    `sampler._fast_axolotl_drawn` (a fallback from here on must reuse this draw). The
    samplers in _WHOLE_DRAWS (the ones Axolotl and its trainer use) are drawn whole, with
    the torch calls their __iter__ makes, instead of one Python int at a time (a million
    indices take ~120 ms that way, more than packing them); others are iterated."""
    source = sampler.sampler
    draw = _whole_draw(source)
    drawn = sampler._fast_axolotl_drawn = list(source) if draw is None else draw(source)
    positions = np.asarray(drawn)
    if positions.ndim != 1 or not np.issubdtype(positions.dtype, np.integer):
        raise Fallback("the sampler yields other than integers")
    return positions


def _whole_draw(source):
    """The function that draws `source` whole (see _drawn_indices), or None."""
    kind = type(source)
    draw = _WHOLE_DRAWS.get((kind.__module__, kind.__qualname__))
    if draw is None or (draw is not _sequential and not _draws_permutations(source)):
        return None
    return draw if _replica_draws_as(kind, kind.__iter__, draw) else None


def _sequential(source) -> np.ndarray:
    return np.arange(len(source.data_source), dtype=np.int64)


def _draws_permutations(source) -> bool:
    """A random sampler without replacement over a non-empty source: whole permutations.
    (With replacement it draws 32 indices per torch call; an empty source raises.)"""
    return not source.replacement and len(source.data_source) > 0


def _permutations(source) -> np.ndarray:
    """RandomSampler.__iter__ without replacement: num_samples // n permutations of range(n),
    then the first num_samples % n of one more, drawn from the same generator."""
    import torch

    n, num_samples, generator = len(source.data_source), source.num_samples, source.generator
    if generator is None:  # the original seeds a fresh generator from torch's global RNG
        seed = int(torch.empty((), dtype=torch.int64).random_().item())
        generator = torch.Generator()
        generator.manual_seed(seed)
    # int32 draws the same permutation from the same random numbers as the original's int64
    # (a test checks it on a million), in two thirds of the time.
    dtype = torch.int32 if n < 2**31 else torch.int64
    whole, rest = divmod(num_samples, n)
    parts = [torch.randperm(n, generator=generator, dtype=dtype) for _ in range(whole)]
    if rest or n >= _RANDPERM_SHUFFLES_BELOW:
        parts.append(torch.randperm(n, generator=generator, dtype=dtype)[:rest])
    else:  # the original draws one more permutation and keeps none of it
        _advance_as_randperm(generator, n)
    return parts[0].numpy() if len(parts) == 1 else torch.cat(parts).numpy()


# torch's randperm on the CPU shuffles range(n) below this n: one 32-bit draw from the
# generator per item but the last (`generator->random() % (n - i)`).
_RANDPERM_SHUFFLES_BELOW = (2**32 - 1) // 20


def _advance_as_randperm(generator, n: int) -> None:
    """Leaves `generator` as torch.randperm(n) would: int32 random_() takes one 32-bit draw
    per element too, without the shuffle's random accesses (4 ms instead of 10 for a
    million). A test compares the generator's state with randperm's on a million."""
    import torch

    torch.empty(n - 1, dtype=torch.int32).random_(generator=generator)


def _seeded_permutations(source) -> np.ndarray:
    """accelerate's SeedableRandomSampler.__iter__ (what the trainer's accelerate puts in
    place of a RandomSampler): its generator reseeded with initial_seed + epoch, the
    RandomSampler draw, then the next epoch."""
    import torch

    if source.generator is None:
        source.generator = torch.Generator(
            device=torch.get_default_device() if hasattr(torch, "get_default_device") else "cpu"
        )
        source.generator.manual_seed(source.initial_seed)
    source.generator.manual_seed(source.epoch + source.initial_seed)
    drawn = _permutations(source)
    source.set_epoch(source.epoch + 1)
    return drawn


_WHOLE_DRAWS = {
    ("torch.utils.data.sampler", "SequentialSampler"): _sequential,
    ("torch.utils.data.sampler", "RandomSampler"): _permutations,
    ("accelerate.data_loader", "SeedableRandomSampler"): _seeded_permutations,
}


@functools.cache
def _replica_draws_as(kind, iter_function, replica) -> bool:
    """Whether `replica` yields what `iter_function` (`kind.__iter__`, as installed) yields
    and leaves the same state behind: torch's global RNG, the sampler's generator, its
    epoch. Checked once per process on small samplers, two draws each: a torch or accelerate
    whose samplers draw otherwise gets them iterated. fork_rng puts the global RNG back."""
    import torch

    def run(draw, make):
        with torch.random.fork_rng(devices=[]):
            source = make()
            drawn = [[int(i) for i in draw(source)] for _ in range(2)]
            generator = getattr(source, "generator", None)
            states = [torch.get_rng_state()] + ([generator.get_state()] if generator is not None else [])
            return drawn, [state.tolist() for state in states], getattr(source, "epoch", None)

    if replica is _sequential:
        makers = [functools.partial(kind, range(n)) for n in (1, 9)]
    else:
        makers = [
            lambda n=n, num=num, seeded=seeded: kind(
                range(n), num_samples=num, generator=torch.Generator().manual_seed(5) if seeded else None
            )
            for seeded in (True, False)
            for n, num in ((9, None), (9, 4), (5, 12))
        ]
    try:
        return all(run(iter_function, make) == run(replica, make) for make in makers)
    except Exception:  # a sampler that cannot be made or drawn this way: iterate it
        return False


def _packing_strategy(sampler) -> str:
    """pack_bins' strategy for this sampler, or Fallback for what the original refuses or
    does in another way (its errors are its own)."""
    import multiprocessing

    from .patches import settings

    if np.asarray(sampler.lengths).dtype.kind not in "iu" or (sampler.lengths.size and sampler.lengths.min() < 0):
        raise Fallback("negative or non-integer lengths")
    if int(sampler.batch_size) < 1 or int(sampler.batch_max_len) < 1:
        raise Fallback("batch_size or batch_max_len below 1")
    if sampler.sequential:
        return "next_fit"
    processes = sampler.num_processes or 1
    if (min(4, processes) if processes else 4) < 1 or int(sampler.group_size) < 1:
        raise Fallback("num_processes or group_size below 1")
    if sampler.mp_start_method and sampler.mp_start_method not in multiprocessing.get_all_start_methods():
        raise Fallback(f"mp_start_method={sampler.mp_start_method!r}")
    if int(sampler.bin_size or sampler.batch_max_len) < 1:
        raise Fallback("bin_size below 1")
    return "bfd" if settings.fast_axolotl_packing == "bfd" else "first_fit"


def _limits(sampler) -> dict:
    if sampler.sequential:
        return {}
    return {"max_items_per_bin": int(sampler.bin_size or sampler.batch_max_len), "group_size": int(sampler.group_size)}


def sampler_rows(sampler, set_stats=False) -> int:
    """stats() rows of a generate_batches call: the lengths it packs."""
    return len(sampler.lengths)
