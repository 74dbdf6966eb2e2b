"""Exact row dedupe straight from Arrow, with the semantics of Axolotl's
`_deduplicate_dataset`: a row is dropped iff `str(row)` of an earlier row (or of a row in
`seen`) prints the same. Rust hashes every row canonically from the Arrow buffers (see
docs/dedupe.md for the rules); no Python row objects are made."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional, cast

import numpy as np

from . import _native
from ._args import size_arg
from ._native import ffi, lib
from ._seen import Seen
from ._types import Dataset, Tabular, TabularT

if TYPE_CHECKING:
    import numpy.typing as npt

    Digests = npt.NDArray[np.uint8]

__all__ = ["Seen", "row_digests", "dedupe_table", "deduplicate_dataset"]


def row_digests(data: Tabular, num_threads: int = 0) -> Digests:
    """`(n, 32)` uint8 SHA-256 digests of the rows of a pyarrow Table / RecordBatch or a
    `datasets.Dataset` (in its logical order after shuffle/select)."""
    threads = size_arg(num_threads, "num_threads", 0)
    table, indices = _arrow_rows(data)
    if indices is not None:
        return _picked_digests(table, indices, threads)
    digests = np.empty((table.num_rows, 32), dtype=np.uint8)
    step = _rows_per_call(table)
    for start in range(0, table.num_rows, step):
        part = table.slice(start, step)
        _digest_into(part, None, digests[start : start + part.num_rows], threads)
    return digests


def dedupe_table(
    data: Tabular, seen: Optional[Seen] = None, num_threads: int = 0
) -> tuple[npt.NDArray[np.int64], Seen]:
    """Indices (int64, increasing) of the rows to keep: the first occurrence of each row,
    minus rows already in `seen`. Returns them and `seen` (a new `Seen` when None), which
    now holds every kept row, for a second call on another dataset."""
    if seen is None:
        seen = Seen()
    elif not isinstance(seen, Seen):
        raise TypeError(f"seen must be a fast_axolotl.dedupe.Seen or None, got {type(seen).__name__}")
    digests = row_digests(data, num_threads)
    step = 1 << 20  # rows a Seen.insert call: short, so Ctrl-C is seen between them too
    kept = [seen.insert(digests[start : start + step]) + start for start in range(0, len(digests), step)]
    return np.concatenate([np.empty(0, dtype=np.int64), *kept]), seen


# Rows are hashed in calls of about this much Arrow data each (~0.1 s of hashing on one
# core): Ctrl-C (a KeyboardInterrupt, raised between two calls) stops a long dedupe within
# a fraction of a second, and each call imports and validates only its own slice.
BYTES_PER_CALL = 64 << 20


def _rows_per_call(table: Any) -> int:
    return max(1, int(BYTES_PER_CALL * table.num_rows // max(1, table.nbytes)))


def _picked_digests(table: Any, indices: npt.NDArray[np.int64], threads: int) -> Digests:
    """The digests of the rows `indices` picks, in their order: hashed in increasing row
    order, each call on a slice of the table of at most _rows_per_call rows (and as many
    picks), then put in place."""
    order = np.argsort(indices, kind="stable")
    picked = indices[order]
    if picked.size and (picked[0] < 0 or picked[-1] >= table.num_rows):
        bad = picked[0] if picked[0] < 0 else picked[-1]
        raise IndexError(f"row index {bad} out of range for a table of {table.num_rows} rows")
    digests = np.empty((indices.size, 32), dtype=np.uint8)
    step, start = _rows_per_call(table), 0
    while start < picked.size:
        first = int(picked[start])
        end = min(start + step, int(np.searchsorted(picked, first + step)))
        part = np.empty((end - start, 32), dtype=np.uint8)
        local = np.ascontiguousarray(picked[start:end] - first)
        _digest_into(table.slice(first, int(local[-1]) + 1), local, part, threads)
        digests[order[start:end]] = part
        start = end
    return digests


def _digest_into(table: Any, indices: Optional[npt.NDArray[np.int64]], digests: Digests, threads: int) -> None:
    """The digests of the rows of `table` (or of the rows `indices` picks) into `digests`, in
    one C call."""
    stream = ffi.new("struct ArrowArrayStream *")
    table.to_reader()._export_to_c(int(ffi.cast("uintptr_t", stream)))
    index_ptr = ffi.NULL if indices is None else ffi.from_buffer("int64_t[]", indices)
    out = ffi.from_buffer("uint8_t[]", digests, require_writable=True)
    count = digests.shape[0]
    _native.check(lib.fax_row_digests(stream, index_ptr, 0 if indices is None else count, threads, out, count))


def deduplicate_dataset(dataset: TabularT, seen_hashes: Optional[Seen] = None) -> tuple[TabularT, Seen]:
    """Axolotl's `_deduplicate_dataset(dataset, seen_hashes=None) -> (Dataset, seen)`:
    `dataset.select(kept)` and the seen set (a `Seen`, not a set of hex strings). A pyarrow
    Table or RecordBatch gives `take(kept)` (their `select` picks columns, not rows)."""
    import pyarrow as pa

    kept, seen = dedupe_table(dataset, seen_hashes)
    if isinstance(dataset, (pa.Table, pa.RecordBatch)):
        taken: TabularT = dataset.take(kept)
        return taken, seen
    # Not a pyarrow table, so a Dataset (pyarrow is untyped: its isinstance does not narrow).
    selected: TabularT = cast("Dataset", dataset).select(kept)
    return selected, seen


def _arrow_rows(data: object) -> tuple[Any, Optional[npt.NDArray[np.int64]]]:
    """(pyarrow Table, int64 indices or None) for the supported inputs."""
    import pyarrow as pa

    if isinstance(data, pa.Table):
        return data, None
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data]), None
    if type(data).__module__.startswith("datasets"):
        return _dataset_rows(data)
    raise TypeError(f"expected a pyarrow Table or RecordBatch or a datasets.Dataset, got {type(data).__name__}")


def _decodes(feature: object) -> bool:
    """A datasets feature that iteration turns into an object (Image, Audio, Video...)."""
    return bool(getattr(feature, "decode", False)) and hasattr(feature, "decode_example")


def _dataset_rows(dataset: Any) -> tuple[Any, Optional[npt.NDArray[np.int64]]]:
    fmt = getattr(dataset, "format", {}).get("type")
    if fmt not in (None, "python", "arrow"):
        raise ValueError(
            f"the dataset has format {fmt!r}: str(row) would print its tensors, not its values; "
            "call dataset.reset_format() first"
        )
    decoded = [name for name, feature in (getattr(dataset, "features", None) or {}).items() if _decodes(feature)]
    if decoded:
        raise ValueError(
            f"columns {decoded} are decoded by datasets (Image, Audio, ...): str(row) prints the decoded "
            "objects (with memory addresses), so Axolotl's rule cannot be reproduced from the Arrow data"
        )
    from . import _hf

    return _hf.stored_rows(dataset)
