"""Streaming reads of local datasets: Parquet, Arrow IPC/Feather, JSON, JSONL, CSV and text,
plain or .zst/.gz, a file, a directory of shards, a glob, or a `save_to_disk` directory.

Rust decodes (on every core, a few batches ahead at most) and hands the batches over as an
Arrow C stream: nothing is copied on the way into pyarrow, and the GIL is free while Rust
works. Every batch but the last has exactly `batch_size` rows.
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import threading
from typing import TYPE_CHECKING, Iterator, Optional, Sequence, Union

import pyarrow as pa

from . import _native, errors
from ._args import choice_arg, size_arg
from ._native import check, ffi, lib
from ._types import PathArg

if TYPE_CHECKING:
    import datasets


def _names(name_of) -> list[str]:
    names, code = [], 0
    while (name := name_of(code)) != ffi.NULL:
        names.append(ffi.string(name).decode())
        code += 1
    return names


FORMATS = _names(lib.fax_format_name)
COMPRESSIONS = _names(lib.fax_compression_name)  # "none", "gzip", "zstd"
_SUFFIX = {"gzip": "gz", "zstd": "zst"}


def list_supported_formats() -> list[str]:
    """Every `dataset_type` accepted: the base formats, their .zst/.gz forms, hf_dataset."""
    bases = [f for f in FORMATS if f != "hf_dataset"]
    compressed = [f"{f}.{_SUFFIX[c]}" for f in bases for c in COMPRESSIONS if c in _SUFFIX]
    return bases + compressed + ["hf_dataset"]


def detect_format(path: PathArg) -> tuple[str, Optional[str]]:
    """`(base, compression)` of a file, directory or pattern, e.g. ("jsonl", "zstd"),
    ("parquet", None), ("hf_dataset", None): from the name, confirmed by the content."""
    fmt, compression = ffi.new("int32_t *"), ffi.new("int32_t *")
    check(lib.fax_detect_format(_path_arg(path), fmt, compression))
    name = COMPRESSIONS[compression[0]]
    return FORMATS[fmt[0]], (None if name == "none" else name)


def _path_arg(path) -> bytes:
    if not isinstance(path, (str, bytes, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    return os.fsencode(path)


def _format_arg(dataset_type) -> Optional[str]:
    if dataset_type is None or isinstance(dataset_type, str):
        return dataset_type
    raise TypeError(f"dataset_type must be a str or None, got {type(dataset_type).__name__}")


def _columns_arg(columns) -> Optional[list[str]]:
    if columns is None:
        return None
    if isinstance(columns, (str, bytes)) or not all(isinstance(c, str) for c in columns):
        raise TypeError("columns must be a list of column names (str) or None")
    return list(columns)


def _open_stream(path, dataset_type, batch_size, num_threads, columns) -> pa.RecordBatchReader:
    """Opens `path` in Rust and imports the C stream into pyarrow (a move, not a copy)."""
    path_bytes = _path_arg(path)
    batch_size = size_arg(batch_size, "batch_size", 1)
    num_threads = size_arg(num_threads, "num_threads", 0, allow_none=True) or 0
    options = json.dumps(
        {
            "format": _format_arg(dataset_type),
            "batch_size": batch_size,
            "num_threads": num_threads,
            "columns": _columns_arg(columns),
        }
    ).encode()
    stream = ffi.new("struct ArrowArrayStream *")
    check(lib.fax_reader_open(path_bytes, options, len(options), stream))
    return pa.RecordBatchReader._import_from_c(int(ffi.cast("uintptr_t", stream)))


# What arrow-rs's error Display puts before our message.
_ARROW_PREFIX = re.compile(r"^(Parser error|Io error|Invalid argument error|Compute error|External error): ")


def _translate(error: Exception, path) -> errors.FastAxolotlError:
    """A failure reported through the C stream, as our own exception class: the stream's
    errno (EIO or EINVAL) cannot say which, the library's last status on this thread (the
    one that called `get_next`) does."""
    status = lib.fax_last_error_status()
    if status in _native.ERROR_STATUSES and _native.last_error_message() in str(error):
        return _native.last_error(status)
    message = _ARROW_PREFIX.sub("", str(error))  # not ours: an error of pyarrow's side
    if isinstance(error, OSError) and not isinstance(error, pa.ArrowInvalid):
        return errors.FastAxolotlIOError(message)
    return errors.FormatError(message)


class Reader:
    """An open dataset: iterate for `pyarrow.RecordBatch`es, or hand it to anything that takes
    an Arrow C stream (`pa.table(reader)`, `pa.RecordBatchReader.from_stream(reader)`,
    polars, DuckDB) — which consumes it. Close it (or use `with`) to free it early.
    Threads may share it: one reads at a time, and each batch goes to one of them."""

    def __init__(
        self,
        path,
        dataset_type=None,
        batch_size: int = 1000,
        num_threads: Optional[int] = None,
        columns: Optional[Sequence[str]] = None,
    ):
        self.path = os.fspath(path) if isinstance(path, os.PathLike) else path
        self._reader: Optional[pa.RecordBatchReader] = _open_stream(
            path, dataset_type, batch_size, num_threads, columns
        )
        self.schema: pa.Schema = self._reader.schema
        # pyarrow's reader and the C stream under it crash when read by two threads at once,
        # or closed while read: one thread at a time, each batch to one of them.
        self._lock = threading.RLock()
        self._pid = os.getpid()

    def _locked(self) -> threading.RLock:
        """The lock, in the process that opened the reader: a child forked while a thread
        of the parent was reading holds a copy of the lock (and of the decoder) mid-read."""
        if os.getpid() != self._pid:
            raise RuntimeError(
                f"the reader of {self.path} was opened in the parent of this forked process: open the file again here"
            )
        return self._lock

    def _take(self) -> pa.RecordBatchReader:
        if self._reader is None:
            raise ValueError(f"the reader of {self.path} is closed or already consumed")
        return self._reader

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        while True:
            with self._locked():
                try:
                    batch = self._take().read_next_batch()
                except StopIteration:
                    return
                except (pa.ArrowException, OSError) as error:
                    translated = _translate(error, self.path)  # before close: a call may reset the last error
                    self.close()
                    raise translated from None
            yield batch

    def read_all(self) -> pa.Table:
        """Every remaining batch as one table (the whole dataset in memory)."""
        return pa.Table.from_batches(list(self), schema=self.schema)

    def __arrow_c_stream__(self, requested_schema=None):
        # The consumer owns the stream from here (its errors are pyarrow's, not ours).
        with self._locked():
            reader, self._reader = self._take(), None
        return reader.__arrow_c_stream__(requested_schema)

    def close(self) -> None:
        """Stops reading and frees the decoder's buffers (the stream is released); a thread
        reading the reader meanwhile gets its batch, then a ValueError. In a forked child the
        parent's reader is only let go of, never freed: its state may be mid-read."""
        if os.getpid() != self._pid:
            if self._reader is not None:
                _LEFT_BY_FORK.append(self._reader)
                self._reader = None
            return
        with self._lock:
            reader, self._reader = self._reader, None
            if reader is not None:
                reader.close()

    def __enter__(self) -> "Reader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_reader(
    path: PathArg,
    dataset_type: Optional[str] = None,
    batch_size: int = 1000,
    num_threads: Optional[int] = None,
    columns: Optional[Sequence[str]] = None,
) -> Reader:
    """Opens a file, directory, glob or `save_to_disk` directory for streaming; see `Reader`.
    `dataset_type`: "parquet", "arrow", "feather", "csv", "json", "jsonl", "text",
    "hf_dataset" (case-insensitive, optionally ".zst"/".gz") or None to detect.
    `num_threads`: None = all cores. Missing path: `NotFoundError` (a FileNotFoundError)."""
    return Reader(path, dataset_type, batch_size, num_threads, columns)


def streaming_dataset_reader(
    file_path: PathArg,
    dataset_type: Optional[str] = None,
    batch_size: int = 1000,
    num_threads: Optional[int] = 4,
    columns: Optional[Sequence[str]] = None,
    output: str = "python",
) -> Iterator[Union[dict, pa.RecordBatch]]:
    """Yields batches of exactly `batch_size` rows (the last may be shorter), as
    `output` = "python" (dict column -> list), "arrow" (`pyarrow.RecordBatch`, no copy) or
    "numpy" (dict column -> numpy array; list columns -> list of arrays, views of the batch)."""
    convert = choice_arg(output, "output", {"python": pa.RecordBatch.to_pydict, "arrow": None, "numpy": _to_numpy})
    with open_reader(file_path, dataset_type, batch_size, num_threads, columns) as reader:
        if convert is None:
            yield from reader
            return
        # Converting a batch holds the GIL about as long as Rust takes to decode one: a
        # thread reads the next batches meanwhile (the GIL is free while Rust decodes).
        for batch in _read_ahead(reader):
            yield convert(batch)


_END = object()
_LEFT_BY_FORK: list = []  # readers of a parent process, never touched in its forked child


def _read_ahead(batches: Iterator, depth: int = 2) -> Iterator:
    """The items of `batches`, taken from it by a worker thread at most `depth` ahead of
    the caller. The worker's error is raised after the items it read before it; the worker
    ends (within one item) as soon as the caller stops, raises or drops this generator."""
    ready: queue.Queue = queue.Queue(depth)
    stop = threading.Event()

    def hand_over(item) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.05)
                return True
            except queue.Full:
                pass
        return False

    def work() -> None:
        try:
            for batch in batches:
                if not hand_over((batch, None)):
                    return
            hand_over((_END, None))
        except BaseException as error:  # re-raised in the caller's thread
            hand_over((_END, error))

    worker = threading.Thread(target=work, name="fast_axolotl read-ahead", daemon=True)
    worker.start()
    pid = os.getpid()
    try:
        while True:
            if os.getpid() != pid:  # the worker is the parent's: waiting for it would hang
                raise RuntimeError("a read started before this process was forked cannot go on here: start it again")
            item, error = ready.get()
            if item is _END:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        worker.join()


def _to_numpy(batch: pa.RecordBatch) -> dict:
    out = {}
    for name, column in zip(batch.schema.names, batch.columns):
        kind = column.type
        if pa.types.is_list(kind) or pa.types.is_large_list(kind):
            if column.null_count:
                raise ValueError(f"column {name!r} holds null lists; read it with output='arrow'")
            # flatten() starts at the slice's first value; offsets are absolute.
            values = column.flatten().to_numpy(zero_copy_only=False)
            offsets = column.offsets.to_numpy() - column.offsets[0].as_py()
            out[name] = [values[offsets[i] : offsets[i + 1]] for i in range(len(column))]
        else:
            out[name] = column.to_numpy(zero_copy_only=False)
    return out


# --- datasets --------------------------------------------------------------------------


def load_dataset(
    path_or_paths: Union[PathArg, Sequence[PathArg]],
    dataset_type: Optional[str] = None,
    columns: Optional[Sequence[str]] = None,
    split: Optional[str] = None,
    streaming: bool = False,
    cache_dir: Optional[PathArg] = None,
    num_threads: Optional[int] = None,
) -> Union["datasets.Dataset", "datasets.IterableDataset"]:
    """A `datasets.Dataset` of one or more files (each a file, directory, glob or
    `save_to_disk` directory; all with the same columns), memory-mapped: the batches stream
    into an Arrow IPC stream file in `cache_dir` (default: the datasets cache), reused while
    the inputs' sizes and modification times stay the same. `split`: None, "train" or a slice
    such as "train[:500]" or "train[10%:20%]" (the only split of local files is "train").
    `streaming=True` gives a `datasets.IterableDataset` instead, read as it is iterated."""
    import datasets

    paths = [path_or_paths] if isinstance(path_or_paths, (str, bytes, os.PathLike)) else list(path_or_paths)
    if not paths:
        raise ValueError("path_or_paths is empty")
    if streaming:
        if split not in (None, "train"):
            raise ValueError(f"streaming=True reads the whole split; got split={split!r}")
        return _iterable_dataset(paths, dataset_type, columns, num_threads)
    target = _cache_file(paths, dataset_type, columns, cache_dir)
    if not os.path.exists(target):
        _write_stream_file(paths, dataset_type, columns, num_threads, target)
    dataset = datasets.Dataset.from_file(target)
    return _apply_split(dataset, split)


def _batches(paths, dataset_type, columns, num_threads) -> Iterator[pa.RecordBatch]:
    """The batches of every path in turn, read ahead while the caller writes or converts
    them. 1,000 rows a batch, as `datasets` writes its files: larger batches of long rows
    read slower (10,000 rows of 1,100 tokens make 44 MB of fresh memory a batch)."""
    return _read_ahead(_batches_in_turn(paths, dataset_type, columns, num_threads, 1000))


def _batches_in_turn(paths, dataset_type, columns, num_threads, batch_size) -> Iterator[pa.RecordBatch]:
    schema = None
    for path in paths:
        with open_reader(path, dataset_type, batch_size, num_threads, columns) as reader:
            if schema is None:
                schema = reader.schema
            elif not reader.schema.equals(schema):
                raise errors.FormatError(
                    f"{os.fspath(path)}: columns {reader.schema} differ from the first input's {schema}"
                )
            yield from reader


def _first_schema(paths, dataset_type, columns) -> pa.Schema:
    with open_reader(paths[0], dataset_type, 1, 1, columns) as reader:
        return reader.schema


def _write_stream_file(paths, dataset_type, columns, num_threads, target: str) -> None:
    """Streams the batches into `target` (see write_stream_file)."""
    batches = _batches(paths, dataset_type, columns, num_threads)
    write_stream_file(target, batches, lambda: _first_schema(paths, dataset_type, columns))


def write_stream_file(target: str, batches, empty_schema) -> None:
    """`batches` into an Arrow IPC stream file (datasets' cache format) at `target`, written
    under a temporary name, then renamed: a failed or interrupted write leaves no half file
    that a later run would take as complete. `empty_schema()` gives the schema of a file
    without batches."""
    os.makedirs(os.path.dirname(target), exist_ok=True)
    partial = f"{target}.{os.getpid()}.partial"
    try:
        writer = None
        for batch in batches:
            if writer is None:
                writer = pa.ipc.new_stream(partial, batch.schema)
            writer.write_batch(batch)
        if writer is None:  # no rows: still a dataset with the right columns
            writer = pa.ipc.new_stream(partial, empty_schema())
        writer.close()
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.remove(partial)


def _cache_file(paths, dataset_type, columns, cache_dir) -> str:
    """A cache file name that changes with the inputs (path, size, mtime of every file) and
    the options."""
    from . import __version__

    if cache_dir is None:
        import datasets.config

        cache_dir = os.path.join(str(datasets.config.HF_DATASETS_CACHE), "fast_axolotl")
    key = hashlib.sha256(repr((__version__, dataset_type, list(columns or []))).encode())
    for path in paths:
        for file in _files_of(os.fspath(path)):
            info = os.stat(file)
            key.update(repr((os.path.abspath(file), info.st_size, info.st_mtime_ns)).encode())
    return os.path.join(os.fspath(cache_dir), f"{key.hexdigest()[:32]}.arrow")


def _files_of(path: str) -> list[str]:
    import glob

    if os.path.isdir(path):
        return sorted(os.path.join(root, f) for root, _, files in os.walk(path) for f in files)
    if os.path.exists(path):
        return [path]
    matches = sorted(glob.glob(path))
    if not matches:
        raise errors.NotFoundError(f"{path}: no such file or directory")
    return matches


_SPLIT = re.compile(r"^\s*train\s*(\[.*\])?\s*$")


def _apply_split(dataset, split: Optional[str]):
    """`split` as `datasets` reads it ("train", "train[:500]", "train[10%:20%]")."""
    if split is None:
        return dataset
    if not isinstance(split, str) or not _SPLIT.match(split):
        raise ValueError(f"local files have one split, 'train' (optionally sliced like 'train[:500]'); got {split!r}")
    from datasets import ReadInstruction

    instructions = ReadInstruction.from_spec(split).to_absolute({"train": len(dataset)})
    indices = [i for instruction in instructions for i in range(instruction.from_, instruction.to)]
    if indices == list(range(len(dataset))):
        return dataset
    return dataset.select(indices)


def _iterable_dataset(paths, dataset_type, columns, num_threads):
    import datasets

    features = datasets.Features.from_arrow_schema(_first_schema(paths, dataset_type, columns))

    def rows(paths):
        for batch in _batches(paths, dataset_type, columns, num_threads):
            yield from batch.to_pylist()

    return datasets.IterableDataset.from_generator(
        rows, features=features, gen_kwargs={"paths": [os.fspath(p) for p in paths]}
    )


# --- the API of fast-axolotl 0.2.0, kept working ---------------------------------------


class RustStreamingDataset:
    """Iterates over a file in batches (dict column -> list), as fast-axolotl 0.2.0 did."""

    def __init__(
        self,
        file_path,
        dataset_type=None,
        batch_size: int = 1000,
        num_threads: int = 4,
        dataset_keep_in_memory: bool = False,
    ):
        self.file_path, self.dataset_type = file_path, dataset_type
        self.batch_size, self.num_threads = batch_size, num_threads
        self.dataset_keep_in_memory = dataset_keep_in_memory
        self.output = "python"

    def __iter__(self) -> Iterator[dict]:
        return streaming_dataset_reader(
            self.file_path, self.dataset_type, self.batch_size, self.num_threads, output=self.output
        )

    def with_format(self, format):  # the 0.2.0 signature
        """A copy whose batches are dicts of lists (None, "python"), a pyarrow RecordBatch
        ("arrow") or dicts of numpy arrays ("numpy", "np")."""
        outputs = {None: "python", "python": "python", "arrow": "arrow", "numpy": "numpy", "np": "numpy"}
        if format not in outputs:
            raise ValueError(f"format must be one of None, 'python', 'arrow', 'numpy', 'np', got {format!r}")
        copy = RustStreamingDataset(
            self.file_path, self.dataset_type, self.batch_size, self.num_threads, self.dataset_keep_in_memory
        )
        copy.output = outputs[format]
        return copy


def create_rust_streaming_dataset(
    file_path: PathArg,
    dataset_type: Optional[str] = None,
    batch_size: int = 1000,
    num_threads: int = 4,
    dataset_keep_in_memory: bool = False,
) -> RustStreamingDataset:
    return RustStreamingDataset(file_path, dataset_type, batch_size, num_threads, dataset_keep_in_memory)


def should_use_rust_streaming(
    file_path: PathArg, dataset_config: Optional[dict] = None, cfg: Optional[dict] = None
) -> bool:
    """True when the config asks for the Rust reader (`dataset_use_rust_streaming: true`, not
    `dataset_keep_in_memory`) and `file_path` exists in a format it reads."""
    cfg = cfg or {}
    get = cfg.get if hasattr(cfg, "get") else lambda key, default=None: getattr(cfg, key, default)
    if not get("dataset_use_rust_streaming", False) or get("dataset_keep_in_memory", False):
        return False
    try:
        detect_format(file_path)
    except (errors.FastAxolotlError, TypeError):
        return False
    return True
