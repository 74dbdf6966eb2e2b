"""Opening a dataset in Rust and reading its Arrow C stream: the formats, `detect_format`,
`Reader` / `open_reader`, and `streaming_dataset_reader`'s batches as Python, Arrow or numpy."""

from __future__ import annotations

import json
import os
import re
import threading
from typing import Iterator, Optional, Sequence, Union, cast

import pyarrow as pa

from .. import _native, errors
from .._args import choice_arg, size_arg
from .._native import check, ffi, lib
from .._types import PathArg
from ._readahead import _read_ahead


def _names(name_of) -> list[str]:
    names, code = [], 0
    while (name := name_of(code)) != ffi.NULL:
        names.append(cast(bytes, ffi.string(name)).decode())
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


def list_inputs(path: PathArg, dataset_type: Optional[str] = None) -> tuple[list[str], Optional[str]]:
    """`(files, format)`: the files the reader reads for `path`, in its order, and the format
    the listing decided (None for a single file; "hf_dataset" for a `save_to_disk`
    directory). The one rule (Rust's): a file is itself; a directory gives its regular files
    (not its subdirectories', following symlinks) sorted by name, without hidden and `_`
    files, and only those with a known format suffix (`.jsonl`, `.parquet.zst`, ...) unless
    `dataset_type` names the format; a glob gives its matching files under the same rule; a
    `save_to_disk` directory gives the files its state.json lists. NotFoundError if `path`
    names nothing or no data file."""
    path_bytes = _path_arg(path)
    options = json.dumps({"format": _format_arg(dataset_type)}).encode()
    size, fmt = ffi.new("size_t *"), ffi.new("int32_t *")
    out, cap = ffi.NULL, 0
    while (status := lib.fax_list_inputs(path_bytes, options, len(options), out, cap, size, fmt)) != lib.FAX_OK:
        if status != lib.FAX_ERR_BUFFER_TOO_SMALL:
            check(status)
        cap = size[0]  # the size needed (again, if the directory grew in between)
        out = ffi.new("char[]", cap)
    listed = cast(bytes, ffi.buffer(out, size[0])[:])
    files = [os.fsdecode(name) for name in listed.split(b"\0")[:-1]]
    return files, (None if fmt[0] < 0 else FORMATS[fmt[0]])


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


_LEFT_BY_FORK: list = []  # readers of a parent process, never touched in its forked child


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
