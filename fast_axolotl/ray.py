"""Scale-out on Ray Data: read, global exact dedupe, tokenization and packing over a cluster,
with the rows one machine would give. Ray schedules the tasks and does the shuffle; each task
runs our kernels on Arrow batches. Install with `pip install fast-axolotl[ray]`; every node needs
fast-axolotl installed (the tasks import it). See docs/scale-out.md.

    import fast_axolotl.ray as fr
    ds = fr.read("shards/")                         # one read task per file, a row id column
    fr.write_parquet(fr.dedupe(ds), "deduped/")     # = dedupe_table on the whole data, in order
    tokens = fr.tokenize(fr.read("deduped/"), "tokenizer.json")   # + input_ids, list<int32>
    packed = fr.pack(tokens, max_length=4096)
    fr.write_parquet(packed, "packed/")
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Iterator, Optional, Sequence, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import ray
import ray.data
from ray.data.block import BlockMetadata
from ray.data.datasource import Datasource, FilenameProvider, ReadTask

from . import reader as _reader
from ._packed import PACKED_SCHEMA, fill_lines, packed_chunks, plan_bins, token_list
from ._seen import Seen
from ._types import PackStrategy
from .dedupe import row_digests
from .reader._stream import list_inputs
from .tokenize import tokenizer_json
from .tokenizer import Tokenizer

if TYPE_CHECKING:
    import numpy.typing as npt

StrPath = Union[str, os.PathLike[str]]
# Workers of a map: a pool of that many, a (min, max) autoscaling range, or Ray's default.
Workers = Union[None, int, tuple[int, int]]

__all__ = [
    "ROW_ID",
    "init",
    "read",
    "find_duplicates",
    "drop_rows",
    "dedupe",
    "tokenize",
    "pack",
    "pack_report",
    "write_parquet",
    "Duplicates",
    "PackReport",
]

# The stable global row id read() adds: file index in the high bits, row index within the
# file in the low FILE_ROW_BITS, so ids sort in reading order without knowing file sizes.
ROW_ID = "_fa_row_id"
FILE_ROW_BITS = 40
DIGEST, BUCKET = "_fa_digest", "_fa_bucket"
READ_BATCH_ROWS = 65_536
# Rows per tokenizer call: a few MB of typical documents. A worker takes a read block
# (READ_BATCH_ROWS rows) whole and encodes it in batches of this size.
TOKENIZE_BATCH_ROWS = 4096
# Rows per pack task: bins are planned per batch, so each batch ends with at most one
# part-filled bin; with 1M rows that is far under 0.1% of the bins.
PACK_BATCH_ROWS = 1_000_000


def init(address: Optional[str] = None, **kwargs: Any) -> None:
    """`ray.init` on a cluster's address, or a local cluster when `address` is None or
    "local"; does nothing when Ray is already initialised in this process."""
    if ray.is_initialized():
        return
    kwargs.setdefault("include_dashboard", False)
    ray.init(address=None if address in (None, "local") else address, **kwargs)


# --- read -----------------------------------------------------------------------------


def read(
    paths: Union[StrPath, Sequence[StrPath]],
    dataset_type: Optional[str] = None,
    columns: Optional[Sequence[str]] = None,
    batch_size: int = READ_BATCH_ROWS,
    **read_args: Any,
) -> ray.data.Dataset:
    """A Dataset of the files `paths` stands for (each a file, a directory of shards, a glob or
    a `save_to_disk` directory; the files the single-process reader would read, in its order),
    one read task per file decoded by our reader, plus the int64 column `ROW_ID`.
    Order is preserved, so writing it back gives the rows in reading order."""
    units = list_files(paths, dataset_type)
    source = FileDatasource(units, dataset_type, list(columns) if columns else None, batch_size)
    ds = ray.data.read_datasource(source, **read_args)
    # Ray may otherwise hand blocks on in the order tasks finish; our outputs promise the
    # single-process order (the dataset's context is inherited by what is built from it).
    ds.context.execution_options.preserve_order = True
    return ds


def list_files(
    paths: Union[StrPath, Sequence[StrPath]], dataset_type: Optional[str] = None
) -> list[tuple[str, Optional[str]]]:
    """`(path, dataset_type)` per read task, in reading order: the files the reader reads for
    each directory or glob (`reader.list_inputs`, the one listing rule), read with the
    directory's format; a file, or a `save_to_disk` directory, is one task (the reader reads
    the files its state.json lists)."""
    units: list[tuple[str, Optional[str]]] = []
    for path in [paths] if isinstance(paths, (str, os.PathLike)) else paths:
        path = os.fspath(path)
        files, listed = list_inputs(path, dataset_type)  # raises NotFoundError etc. as the reader
        if listed is None or listed == "hf_dataset":
            units.append((path, None))
        else:
            # The directory's format; each file's compression is its own (a named format is
            # forced anyway).
            units.extend((f, None if dataset_type else listed) for f in files)
    if not units:
        raise ValueError(f"no data files in {paths!r}")
    return units


class FileDatasource(Datasource):
    """One ReadTask per file, each streaming the file through fast_axolotl.reader."""

    def __init__(
        self,
        units: list[tuple[str, Optional[str]]],
        dataset_type: Optional[str],
        columns: Optional[list[str]],
        batch_size: int,
    ) -> None:
        self.units, self.dataset_type = units, dataset_type
        self.columns, self.batch_size = columns, batch_size

    def estimate_inmemory_data_size(self) -> Optional[int]:
        return sum(os.path.getsize(p) for p, _ in self.units if os.path.isfile(p)) or None

    def get_read_tasks(
        self, parallelism: int, per_task_row_limit: Optional[int] = None, data_context: Any = None
    ) -> list[ReadTask]:
        tasks = []
        for index, (path, fmt) in enumerate(self.units):
            read_fn = partial(read_file, index, path, self.dataset_type or fmt, self.columns, self.batch_size)
            size = os.path.getsize(path) if os.path.isfile(path) else None
            meta = BlockMetadata(num_rows=None, size_bytes=size, exec_stats=None, input_files=(path,))
            tasks.append(ReadTask(read_fn, meta, per_task_row_limit=per_task_row_limit))
        return tasks


def read_file(
    index: int, path: str, dataset_type: Optional[str], columns: Optional[list[str]], batch_size: int
) -> Iterator[pa.Table]:
    """The blocks of one read task: the file's batches, each with its ROW_IDs."""
    first = index << FILE_ROW_BITS
    with _reader.open_reader(path, dataset_type, batch_size, task_threads(), columns) as stream:
        for batch in stream:
            ids = pa.array(np.arange(first, first + batch.num_rows, dtype=np.int64))
            first += batch.num_rows
            yield pa.Table.from_batches([batch]).append_column(ROW_ID, ids)


def task_threads() -> int:
    """The CPUs Ray gave this task: Ray already runs one task per CPU, so kernels that took
    every core of the node would oversubscribe it."""
    if not ray.is_initialized():  # get_runtime_context() would start a local cluster
        return 0
    try:
        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1)
    except Exception:  # outside a Ray task
        return 0
    return max(1, int(cpus))


def row_ids(table: pa.Table) -> np.ndarray:
    # Checked per batch, not on the Dataset: its schema is only known once it runs.
    if ROW_ID not in table.column_names:
        raise ValueError(f"the dataset has no {ROW_ID!r} column: make it with fast_axolotl.ray.read()")
    return table[ROW_ID].to_numpy()


# --- dedupe ---------------------------------------------------------------------------


@dataclass
class Duplicates:
    """What find_duplicates found: the sorted ROW_IDs to drop, and the rows it looked at."""

    row_ids: np.ndarray
    rows: int


# Ray's default hash shuffle starts aggregator actors: on a small or busy cluster they took
# a minute to start for a few thousand rows (and twice the sort shuffle's time at 1M-5M rows
# on 2 cores). None: the dataset's DataContext decides.
SHUFFLE_STRATEGY = "sort_shuffle_pull_based"


def dedupe(
    ds: ray.data.Dataset,
    columns: Optional[Sequence[str]] = None,
    buckets: Optional[int] = None,
    shuffle_strategy: Optional[str] = SHUFFLE_STRATEGY,
) -> ray.data.Dataset:
    """The rows `dedupe_table` keeps on the whole dataset, in the same order (first occurrence
    of each row, compared on `columns` or on every column but ROW_ID). Runs the digest shuffle
    now; the returned dataset reads `ds` again to drop the duplicates (see find_duplicates)."""
    return drop_rows(ds, find_duplicates(ds, columns, buckets, shuffle_strategy).row_ids)


def find_duplicates(
    ds: ray.data.Dataset,
    columns: Optional[Sequence[str]] = None,
    buckets: Optional[int] = None,
    shuffle_strategy: Optional[str] = SHUFFLE_STRATEGY,
) -> Duplicates:
    """Global exact dedupe without moving rows: each batch's digests (our kernel, the digest of
    dedupe_table), shuffled as (ROW_ID, digest) by a digest bucket, and in each bucket every
    row but the one with the lowest ROW_ID of its digest is a duplicate. Only 48 bytes a row
    cross the network; the duplicates' ids come back to the driver."""
    if buckets is None:
        buckets = default_buckets()
    keyed = ds.map_batches(
        digest_batch,  # type: ignore[arg-type]  # Ray's UDF type omits the fn_args/fn_kwargs parameters
        batch_format="pyarrow",
        fn_kwargs={"columns": list(columns) if columns else None, "buckets": buckets},
    )
    if shuffle_strategy is not None:
        keyed.context.shuffle_strategy = ray.data.context.ShuffleStrategy(shuffle_strategy)
    found = keyed.groupby(BUCKET, num_partitions=buckets).map_groups(duplicates_in_bucket, batch_format="pyarrow")
    rows, dropped = 0, [np.empty(0, np.int64)]
    table: pa.Table  # batch_format="pyarrow"
    for table in found.iter_batches(batch_format="pyarrow", batch_size=None):
        rows += int(pc.sum(table["rows"]).as_py() or 0)
        dropped.append(table["dropped"].combine_chunks().flatten().to_numpy())
    return Duplicates(np.sort(np.concatenate(dropped)), rows)


def default_buckets() -> int:
    """Two digest buckets (shuffle partitions) per CPU of the cluster: every CPU has reduce
    work, and each map_groups call gets many rows (Ray's default of 200 partitions is mostly
    empty tasks on a small cluster)."""
    cpus = int(ray.cluster_resources().get("CPU", 1)) if ray.is_initialized() else 1
    return 2 * max(1, cpus)


def digest_batch(table: pa.Table, columns: Optional[list[str]], buckets: int) -> pa.Table:
    """(ROW_ID, 32-byte digest, bucket) of every row of a batch."""
    data = table.select(columns if columns else [c for c in table.column_names if c != ROW_ID])
    digests = row_digests(data, num_threads=task_threads())
    # SHA-256 bits are uniform: the first 8 bytes mod `buckets` spread rows evenly.
    bucket = digests[:, :8].copy().view("<u8")[:, 0] % np.uint64(buckets)
    digest_column = pa.FixedSizeBinaryArray.from_buffers(pa.binary(32), len(digests), [None, pa.py_buffer(digests)])
    return pa.table({ROW_ID: row_ids(table), DIGEST: digest_column, BUCKET: pa.array(bucket.astype(np.int64))})


def duplicates_in_bucket(table: pa.Table) -> pa.Table:
    """One row: how many rows the bucket holds, and the ROW_IDs of those that are not the
    first (lowest ROW_ID) of their digest."""
    ids = table[ROW_ID].to_numpy()
    order = np.argsort(ids, kind="stable")
    digests = digest_matrix(table[DIGEST])[order]
    kept = np.zeros(len(ids), dtype=bool)
    kept[Seen().insert(digests)] = True  # Seen keeps each digest's first position
    dropped = ids[order][~kept]
    return pa.table({"rows": pa.array([len(ids)], pa.int64()), "dropped": pa.array([dropped], pa.list_(pa.int64()))})


def digest_matrix(column: Any) -> npt.NDArray[np.uint8]:
    """`(n, 32)` uint8 view of a fixed_size_binary(32) column."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    data = np.frombuffer(array.buffers()[1], dtype=np.uint8)
    return data[array.offset * 32 : (array.offset + len(array)) * 32].reshape(-1, 32)


def drop_rows(ds: ray.data.Dataset, dropped: np.ndarray) -> ray.data.Dataset:
    """`ds` without the rows whose ROW_ID is in the sorted `dropped`. The ids go into the
    object store one slice per input file, and a task fetches only the slices of the files
    its batch comes from: the drop set crosses the network about once, not once per node."""
    dropped = np.asarray(dropped, np.int64)
    files = dropped >> FILE_ROW_BITS
    starts = np.flatnonzero(np.diff(files, prepend=-1))
    ends = np.append(starts[1:], len(dropped))
    slices = {int(files[a]): ray.put(dropped[a:b]) for a, b in zip(starts, ends)}
    return ds.map_batches(drop_batch, batch_format="pyarrow", fn_args=(slices,))  # type: ignore[arg-type]  # Ray's UDF type omits the fn_args/fn_kwargs parameters


def drop_batch(table: pa.Table, slices: dict) -> pa.Table:
    ids = row_ids(table)
    files = [int(f) for f in np.unique(ids >> FILE_ROW_BITS) if int(f) in slices]
    if not files:
        return table
    # Slices of increasing files, each sorted: their concatenation is sorted.
    dropped = np.concatenate(ray.get([slices[f] for f in files]))
    at = np.minimum(np.searchsorted(dropped, ids), len(dropped) - 1)
    return table.filter(pa.array(dropped[at] != ids))


# --- tokenize -------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenizerSource:
    """What a worker builds its Tokenizer from. A Tokenizer holds a native handle, which
    cannot be pickled: the workers get the tokenizer.json text and the options instead."""

    json: str
    split_special_tokens: bool = False
    engine: str = "auto"

    def load(self) -> Tokenizer:
        return Tokenizer(self.json, split_special_tokens=self.split_special_tokens, engine=self.engine)


def tokenize(
    ds: ray.data.Dataset,
    tokenizer: Any,
    column: str = "text",
    output_column: str = "input_ids",
    add_special_tokens: bool = False,
    *,
    split_special_tokens: Optional[bool] = None,
    engine: str = "auto",
    batch_rows: int = TOKENIZE_BATCH_ROWS,
    workers: Workers = None,
    **map_args: Any,
) -> ray.data.Dataset:
    """`ds` plus `output_column`: the token ids (list<int32>) of each row's `column` text, as
    `Tokenizer.encode_batch` gives them in one process. `tokenizer` is a `fast_axolotl.Tokenizer`,
    a tokenizer.json path, its text, or a transformers fast tokenizer; `split_special_tokens` (None: the
    transformers tokenizer's own setting, else False) and `engine` are Tokenizer's options.

    An actor pool does the work (`workers`: its size, a (min, max) range, or None for Ray's
    autoscaling pool): each worker builds the tokenizer once and encodes batches of
    `batch_rows` rows on the CPUs Ray gives it (`num_cpus=` in `map_args`, default 1). A
    fixed pool that takes every CPU starves the read tasks feeding it: Ray Data then waits.
    Lazy; the rows keep their order when the dataset preserves order (as `read()` sets)."""
    if batch_rows < 1:
        raise ValueError(f"batch_rows must be at least 1, got {batch_rows}")
    schema = ds.schema(fetch_if_missing=False)  # known without running ds (e.g. from_arrow), or None
    if schema is not None:
        check_text_column(dict(zip(schema.names, schema.types)), column, output_column)
    source = tokenizer_source(tokenizer, split_special_tokens, engine)
    source.load()  # a tokenizer that cannot be built is refused here, not in every worker
    return ds.map_batches(
        TokenizeBatches,
        batch_size=batch_rows,
        batch_format="pyarrow",
        compute=actor_pool(workers),
        fn_constructor_args=(source, column, output_column, add_special_tokens),
        udf_modifying_row_count=False,
        **map_args,
    )


def tokenizer_source(
    tokenizer: Any, split_special_tokens: Optional[bool] = None, engine: str = "auto"
) -> TokenizerSource:
    """The JSON text a worker needs for `tokenizer` (a `fast_axolotl.Tokenizer`, a
    tokenizer.json path, its text, or a transformers fast tokenizer), with the options."""
    if isinstance(tokenizer, Tokenizer):
        text, own_split = tokenizer.to_str(), tokenizer.split_special_tokens
    elif isinstance(tokenizer, str) and tokenizer.lstrip().startswith("{"):
        text, own_split = tokenizer, False
    else:
        text, own_split = tokenizer_json(tokenizer)  # a transformers fast tokenizer or a path
    split = own_split if split_special_tokens is None else bool(split_special_tokens)
    return TokenizerSource(text, split, engine)


def actor_pool(workers: Workers) -> Optional[ray.data.ActorPoolStrategy]:
    """The compute strategy for `workers`: a pool of that many, a (min, max) autoscaling
    range, or None for Ray's default (autoscaling from 1 worker)."""
    if workers is None:
        return None
    if isinstance(workers, tuple):
        low, high = workers
        return ray.data.ActorPoolStrategy(min_size=low, max_size=high)
    return ray.data.ActorPoolStrategy(size=workers)


def check_text_column(types: dict, column: str, output_column: str) -> None:
    """Refuse a missing or non-string `column`, or an `output_column` that exists already;
    `types` maps each column name to its Arrow type."""
    if column not in types:
        raise ValueError(f"no column {column!r} (columns: {', '.join(types)})")
    kind = types[column]  # a pandas-backed dataset's schema may say `object`: checked per batch
    if isinstance(kind, pa.DataType) and not (
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
    ):
        raise TypeError(f"column {column!r} must hold strings, got {kind}")
    if output_column in types:
        raise ValueError(f"the dataset already has a column {output_column!r}: choose another output_column")


class TokenizeBatches:
    """The map_batches UDF. A callable class, so that Ray runs it in actors: each worker
    parses the tokenizer.json once (about half a second for Llama 3's 9 MB), not per batch."""

    def __init__(self, source: TokenizerSource, column: str, output_column: str, add_special_tokens: bool):
        self.tokenizer = source.load()
        self.column, self.output_column = column, output_column
        self.add_special_tokens = add_special_tokens
        self.num_threads = task_threads()

    def __call__(self, table: pa.Table) -> pa.Table:
        # Checked per batch too: the schema of a dataset that must run first is unknown before.
        check_text_column(dict(zip(table.column_names, table.schema.types)), self.column, self.output_column)
        texts = table[self.column]
        if texts.null_count:
            raise ValueError(f"column {self.column!r} has {texts.null_count} null rows")
        ids = self.tokenizer.encode_batch(
            texts, add_special_tokens=self.add_special_tokens, num_threads=self.num_threads
        )
        return table.append_column(self.output_column, ids)


# --- pack -----------------------------------------------------------------------------


def pack(
    ds: ray.data.Dataset,
    max_length: int,
    strategy: PackStrategy = "bfd",
    column: str = "input_ids",
    batch_rows: int = PACK_BATCH_ROWS,
) -> ray.data.Dataset:
    """Packed rows (input_ids, labels, position_ids, attention_mask; the layout of
    `fast-axolotl pack`), bins planned with pack_bins over batches of `batch_rows` rows.
    `labels` come from the input's `labels` column when it has one, else the tokens."""
    if max_length < 1:
        raise ValueError(f"max_length must be at least 1, got {max_length}")
    return ds.map_batches(
        pack_batch,  # type: ignore[arg-type]  # Ray's UDF type omits the fn_args/fn_kwargs parameters
        batch_size=batch_rows,
        batch_format="pyarrow",
        fn_kwargs={"max_length": max_length, "strategy": strategy, "column": column},
    )


def pack_batch(table: pa.Table, max_length: int, strategy: PackStrategy, column: str) -> pa.Table:
    if column not in table.column_names:
        raise ValueError(f"no column {column!r} (columns: {', '.join(table.column_names)})")
    tokens = token_list(table[column], column)
    labels = token_list(table["labels"], "labels") if "labels" in table.column_names and column != "labels" else None
    order, bin_offsets, _ = plan_bins(tokens, max_length, strategy, column)
    return pa.Table.from_batches(
        list(packed_chunks(tokens, labels, order, bin_offsets, max_length)), schema=PACKED_SCHEMA
    )


@dataclass
class PackReport:
    """The fill of a packed dataset against the lower bound ceil(tokens / max_length)."""

    rows_in: int
    tokens: int
    bins: int
    max_length: int

    @property
    def bound(self) -> int:
        return -(-self.tokens // self.max_length)

    @property
    def fill(self) -> float:
        return self.tokens / (self.bins * self.max_length) if self.bins else 0.0

    def lines(self) -> list[str]:
        return fill_lines(self.rows_in, self.tokens, self.bins, self.max_length)


def pack_report(packed: ray.data.Dataset, max_length: int) -> PackReport:
    """Counts a packed dataset (pack's output, or its Parquet read back): rows in (samples,
    numbered 1..K in attention_mask), tokens and bins. Runs the dataset."""
    counts = packed.map_batches(count_packed, batch_format="pyarrow", batch_size=None)
    totals = np.zeros(3, dtype=np.int64)
    for table in counts.iter_batches(batch_format="pyarrow", batch_size=None):
        totals += [int(pc.sum(table[name]).as_py() or 0) for name in ("samples", "tokens", "bins")]
    return PackReport(int(totals[0]), int(totals[1]), int(totals[2]), max_length)


def count_packed(table: pa.Table) -> pa.Table:
    mask = token_list(table["attention_mask"], "attention_mask")
    offsets = mask.offsets.to_numpy()
    values = mask.values.to_numpy()[offsets[0] : offsets[-1]]
    starts = (offsets[:-1] - offsets[0])[np.diff(offsets) > 0]
    samples = int(np.maximum.reduceat(values, starts).sum()) if len(starts) else 0
    return pa.table({"samples": [samples], "tokens": [len(values)], "bins": [table.num_rows]})


# --- write ----------------------------------------------------------------------------


class OrderedNames(FilenameProvider):
    """part-<task index>-<i>.parquet: the readers sort shards by name, and with preserve_order
    the task index follows the dataset's order, so reading the directory gives it back."""

    def get_filename_for_task(self, write_uuid: str, task_index: int) -> str:
        return f"part-{task_index:06d}-{{i}}.parquet"


def write_parquet(ds: ray.data.Dataset, path: StrPath, **write_args: Any) -> None:
    """A directory of Parquet shards without the ROW_ID column, readable in order by
    fast_axolotl.reader (and so by Axolotl with `dataset_use_rust_streaming: true`).
    Written under a temporary name and renamed: a failed run leaves no half output.
    On a cluster `path` must be on storage every node and the driver share."""
    path = check_output_dir(path)
    partial = os.path.join(
        os.path.dirname(os.path.abspath(path)), f".{os.path.basename(path)}.{uuid.uuid4().hex[:8]}.partial"
    )
    out = ds.map_batches(without_row_id, batch_format="pyarrow")
    try:
        # OVERWRITE: the names carry no write id (APPEND demands one), and `partial` is new.
        out.write_parquet(partial, filename_provider=OrderedNames(), mode=ray.data.SaveMode.OVERWRITE, **write_args)
        if not os.path.isdir(partial):  # no rows at all: still an output directory
            os.makedirs(partial)
        if os.path.isdir(path):
            os.rmdir(path)
        os.replace(partial, path)
    finally:
        if os.path.isdir(partial):
            import shutil

            shutil.rmtree(partial)


def check_output_dir(path: StrPath) -> str:
    """`path` as a str, if it can be an output directory (new, or an empty directory)."""
    path = os.fspath(path)
    if os.path.exists(path) and (not os.path.isdir(path) or os.listdir(path)):
        raise FileExistsError(f"{path}: exists and is not an empty directory")
    return path


def without_row_id(table: pa.Table) -> pa.Table:
    return table.drop_columns([ROW_ID]) if ROW_ID in table.column_names else table
