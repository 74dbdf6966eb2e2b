"""`datasets` loading of local files through the reader: `load_dataset` (memory-mapped from a
cache file of the inputs, with `split` slices, or streamed as an IterableDataset)."""

from __future__ import annotations

import hashlib
import os
import re
from typing import TYPE_CHECKING, Iterator, Optional, Sequence, Union

import pyarrow as pa

from .. import errors
from .._types import PathArg
from ._ipc import write_stream_file
from ._readahead import _read_ahead
from ._stream import list_inputs, open_reader

if TYPE_CHECKING:
    import datasets


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


def _cache_file(paths, dataset_type, columns, cache_dir) -> str:
    """A cache file name that changes with the inputs (path, size, mtime of every file the
    reader reads: `list_inputs`) and the options."""
    from ..__about__ import __version__

    if cache_dir is None:
        import datasets.config

        cache_dir = os.path.join(str(datasets.config.HF_DATASETS_CACHE), "fast_axolotl")
    key = hashlib.sha256(repr((__version__, dataset_type, list(columns or []))).encode())
    for path in paths:
        for file in list_inputs(path, dataset_type)[0]:
            info = os.stat(file)
            key.update(repr((os.path.abspath(file), info.st_size, info.st_mtime_ns)).encode())
    return os.path.join(os.fspath(cache_dir), f"{key.hexdigest()[:32]}.arrow")


_SPLIT = re.compile(r"^\s*train\s*(\[.*\])?\s*$")


def _apply_split(dataset, split: object):
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
