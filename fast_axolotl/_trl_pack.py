"""`trl.data_utils.pack_dataset` (TRL 1.9) without `datasets.map`: the same rows, columns,
types and format, built from the Arrow buffers directly.

TRL packs each `map` batch on its own (`batch_size`, 1000 by default; with `num_proc`, the
batches of each contiguous shard). This walks the very batches `map` would hand TRL's
function (the same `Dataset.iter` calls) and reproduces what that function does to each:

- "bfd" / "bfd_split": empty rows dropped, long rows truncated or split into `seq_length`
  pieces, then TRL's best-fit decreasing (its order and tie-breaking, one Rust call for all
  batches, in parallel) and one gather per column on all cores; `seq_lengths` added.
- "wrapped": each batch's tokens cut into `seq_length` rows: offsets only, no copy. Like
  TRL's `_pack_wrapped`, the rows index each column's `values` from the start of its
  buffer: for a batch that is a slice of a larger Arrow chunk, TRL's rows start at the
  chunk's first token, not the batch's (a TRL quirk, reproduced so the output is TRL's).

Not modelled (TRL's own function runs): IterableDataset, `map_kwargs` other than
batch_size / num_proc / desc / load_from_cache_file / keep_in_memory / writer_batch_size,
an empty dataset, columns that are not null-free lists of integers or floats, columns whose
rows differ in length, an existing `seq_lengths` column (bfd), seq_length < 1. Differences
that are not in the rows: the result is an in-memory dataset (no cache file, its own
fingerprint).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from ._trl_kernels import gather_segments, pack_groups
from .axolotl.fallback import Fallback

OVERFLOW = {"bfd": "truncate", "bfd_split": "split", "wrapped": None}
# map() arguments that do not change which rows TRL's function sees or what it returns.
HARMLESS_MAP_KWARGS = {"desc", "load_from_cache_file", "keep_in_memory", "writer_batch_size"}
DEFAULT_BATCH_SIZE = 1000  # datasets.Dataset.map's


def pack_dataset(dataset, seq_length, strategy="bfd", map_kwargs=None):
    """trl.data_utils.pack_dataset."""
    from datasets import Dataset, DatasetDict
    from trl.data_utils import _get_dataset_format

    batch_size, num_proc = _check_args(seq_length, strategy, dict(map_kwargs or {}))
    format = _get_dataset_format(dataset)

    def pack(ds):
        if type(ds) is not Dataset:
            raise Fallback(f"a {type(ds).__name__}")
        return _pack(ds, seq_length, OVERFLOW[strategy], batch_size, num_proc)

    if isinstance(dataset, DatasetDict):
        packed = DatasetDict({split: pack(ds) for split, ds in dataset.items()})
    else:
        packed = pack(dataset)
    if strategy != "wrapped" and "columns" in format:
        format["columns"] = format["columns"] + ["seq_lengths"]
    return packed.with_format(**format)


def rows(dataset, *args, **kwargs) -> int:
    """The rows a call packed (all splits of a DatasetDict)."""
    if hasattr(dataset, "values") and callable(dataset.values):
        return sum(len(ds) for ds in dataset.values())
    return len(dataset)


def _check_args(seq_length, strategy, map_kwargs: dict) -> tuple:
    """`(batch_size, num_proc)` of the map TRL would run, or Fallback."""
    if strategy not in OVERFLOW:
        raise Fallback(f"strategy {strategy!r}")
    if type(seq_length) is not int or seq_length < 1:
        raise Fallback(f"seq_length {seq_length!r}")
    batch_size = map_kwargs.pop("batch_size", DEFAULT_BATCH_SIZE)
    num_proc = map_kwargs.pop("num_proc", None)
    unknown = set(map_kwargs) - HARMLESS_MAP_KWARGS
    if unknown:
        raise Fallback(f"map_kwargs {sorted(unknown)}")
    if batch_size is not None and type(batch_size) is not int:
        raise Fallback(f"batch_size {batch_size!r}")
    if num_proc is not None and (type(num_proc) is not int or num_proc < 1):
        raise Fallback(f"num_proc {num_proc!r}")
    return batch_size, num_proc


def _pack(ds, seq_length: int, overflow, batch_size, num_proc):
    from datasets.fingerprint import Hasher

    from . import _hf

    if len(ds) == 0 or not ds.column_names:
        raise Fallback("an empty dataset")
    if overflow is not None and "seq_lengths" in ds.column_names:
        raise Fallback("a seq_lengths column already")
    batches = [_columns(batch) for batch in _map_batches(ds, batch_size, num_proc)]
    if overflow is None:
        table = pa.concat_tables([_wrapped(columns, ds.column_names, seq_length) for columns in batches])
    else:
        table = _bfd(batches, ds.column_names, seq_length, overflow)
    # Without a fingerprint, Dataset() hashes every token of the table.
    fingerprint = Hasher.hash(
        ("fast_axolotl.trl.pack_dataset", _hf.fingerprint(ds), seq_length, overflow, batch_size, num_proc)
    )
    info = ds.info.copy()
    info.features = None  # taken from the packed table, as map() does
    return _hf.from_table(table, info, ds.split, fingerprint)


def _map_batches(ds, batch_size, num_proc):
    """The Arrow tables `ds.map(batched=True, batch_size=..., num_proc=...)` passes its
    function: each contiguous shard (datasets caps num_proc at the row count) in batches."""
    shards = [ds]
    if num_proc is not None and num_proc > 1:
        count = min(num_proc, len(ds))
        shards = [ds.shard(num_shards=count, index=i, contiguous=True) for i in range(count)]
    for shard in shards:
        size = batch_size if batch_size is not None and batch_size > 0 else shard.num_rows
        yield from shard.with_format("arrow").iter(size)


def _columns(batch: pa.Table) -> list:
    """The batch's columns as TRL's function reads them (one array each), checked as it
    checks them, plus what the gather needs: no nulls, fixed-width numbers."""
    columns = [column.chunks[0] for column in batch.combine_chunks().columns]
    first = columns[0].offsets if columns else None
    for column in columns:
        if not (pa.types.is_list(column.type) or pa.types.is_large_list(column.type)):
            raise Fallback(f"a {column.type} column")
        value_type = column.type.value_type
        if not (pa.types.is_integer(value_type) or pa.types.is_floating(value_type)):
            raise Fallback(f"a list<{value_type}> column")
        if column.null_count or column.values.null_count:
            raise Fallback("nulls")
        if not column.offsets.equals(first):
            raise Fallback("columns whose rows differ in length")
    return columns


def _wrapped(columns: list, names: list, seq_length: int) -> pa.Table:
    """TRL's `_pack_wrapped` on one batch."""
    offsets = columns[0].offsets.to_numpy()
    total = int(offsets[-1] - offsets[0])
    cuts = np.append(np.arange(0, total, seq_length), total)
    packed = [type(c).from_arrays(pa.array(cuts.astype(_offset_dtype(c))), c.values) for c in columns]
    return pa.Table.from_arrays(packed, names=names)


def _offset_dtype(column) -> np.dtype:
    return np.dtype(np.int64 if pa.types.is_large_list(column.type) else np.int32)


def _bfd(batches: list, names: list, seq_length: int, overflow: str) -> pa.Table:
    """TRL's `_pack_bfd` on every batch: one binning call, one gather per column."""
    pieces = [_pieces(columns[0].offsets.to_numpy(), seq_length, overflow) for columns in batches]
    if any(p[1].size == 0 for p in pieces):  # TRL's pc.take of an empty list fails: let it
        raise Fallback("a map batch of empty rows only")
    lengths = np.concatenate([p[1] for p in pieces])
    groups = np.cumsum([0] + [p[1].size for p in pieces])
    order, bin_offsets = pack_groups(lengths, groups, seq_length)
    batch_of = np.repeat(np.arange(len(batches)), np.diff(groups))[order]
    starts, lengths = np.concatenate([p[0] for p in pieces])[order], lengths[order]
    ends = np.cumsum(lengths)
    row_ends = ends[bin_offsets[1:] - 1] if order.size else np.zeros(0, np.int64)
    row_offsets = np.concatenate([[0], row_ends])
    packed = []
    for i in range(len(names)):
        column = [columns[i] for columns in batches]
        packed.append(_gathered(column, batch_of, starts, lengths, row_offsets))
    first = batches[0][0]
    seq_lengths = pa.ListArray.from_arrays(
        pa.array(bin_offsets.astype(np.int32)), pa.array(lengths.astype(_offset_dtype(first)))
    )
    return pa.Table.from_arrays(packed + [seq_lengths], names=list(names) + ["seq_lengths"])


def _pieces(offsets: np.ndarray, seq_length: int, overflow: str) -> tuple:
    """`(starts, lengths)` of what TRL bins from one batch, in its order: each non-empty row
    truncated to `seq_length`, or split into `seq_length` pieces and a shorter last one;
    starts index the column's `values`."""
    offsets = offsets.astype(np.int64)
    row_lengths = np.diff(offsets)
    kept = np.flatnonzero(row_lengths > 0)
    starts, row_lengths = offsets[:-1][kept], row_lengths[kept]
    if overflow == "truncate":
        return starts, np.minimum(row_lengths, seq_length)
    counts = -(-row_lengths // seq_length)
    first_piece = np.cumsum(counts) - counts
    rank = np.arange(int(counts.sum())) - np.repeat(first_piece, counts)
    skip = rank * seq_length
    return np.repeat(starts, counts) + skip, np.minimum(np.repeat(row_lengths, counts) - skip, seq_length)


def _gathered(column: list, batch_of, starts, lengths, row_offsets) -> pa.Array:
    """One output column: the pieces, in bin order, from each batch's array of the column."""
    first = column[0]
    value_type = first.type.value_type
    width = value_type.bit_width // 8
    bases = np.array([_address(c.values) for c in column], dtype=np.uint64)
    addresses = bases[batch_of] + (starts * width).astype(np.uint64)
    # Arrow's pool, not numpy's: the pool reuses pages the process already has, where a fresh
    # multi-GB numpy array pays first-touch page faults, slow on a VM (BENCHMARK.md, TRL section).
    out = pa.allocate_buffer(int(row_offsets[-1]) * width)
    gather_segments(addresses, lengths * width, np.frombuffer(out, dtype=np.uint8))
    values = pa.Array.from_buffers(value_type, int(row_offsets[-1]), [None, out])
    return type(first).from_arrays(pa.array(row_offsets.astype(_offset_dtype(first))), values)


def _address(values: pa.Array) -> int:
    """Where element 0 of a fixed-width array is."""
    data = values.buffers()[1]
    return (data.address if data is not None else 0) + values.offset * (values.type.bit_width // 8)
