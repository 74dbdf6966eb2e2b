"""Accept token lists in every form users have and describe them to C as `FaxLists`.

Forms: a list of lists of ints; a list of 1-D integer numpy arrays; a `(values, offsets)`
tuple of numpy arrays (Arrow layout); a pyarrow `ListArray` / `LargeListArray` /
`ChunkedArray` of integer lists. numpy and Arrow buffers are passed to C without a copy;
Python lists are copied once into a flat int64 buffer, which also checks every token.
"""

from __future__ import annotations

import array
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any

import numpy as np

from ._native import ffi, lib

INT64_MAX = 2**63 - 1

_VALUE_DTYPES = {
    np.dtype(np.uint8): lib.FAX_DTYPE_UINT8,
    np.dtype(np.int8): lib.FAX_DTYPE_INT8,
    np.dtype(np.int16): lib.FAX_DTYPE_INT16,
    np.dtype(np.int32): lib.FAX_DTYPE_INT32,
    np.dtype(np.int64): lib.FAX_DTYPE_INT64,
}
_OFFSET_DTYPES = {
    np.dtype(np.int32): lib.FAX_DTYPE_INT32,
    np.dtype(np.int64): lib.FAX_DTYPE_INT64,
}
_EMPTY_OFFSETS = np.zeros(1, dtype=np.int64)


@dataclass
class TokenLists:
    """One chunk of token lists in Arrow layout; holds the buffers C reads.

    `rows` is the original Python list when the input was one (kernels that return Python
    lists reuse its int objects instead of creating new ones).
    """

    values: Any  # np.ndarray, or array.array('q') for Python input
    offsets: Any
    num_rows: int
    rows: list | None = None
    _struct: Any = field(default=None, repr=False)
    _buffers: Any = field(default=None, repr=False)

    def c_struct(self):
        """A `FaxLists *` describing this chunk. Valid only while `self` is alive: the struct
        holds raw pointers, so `self` keeps the buffers (and their cdata) referenced."""
        if self._struct is None:
            values = ffi.from_buffer(self.values)
            offsets = ffi.from_buffer(self.offsets)
            s = ffi.new("FaxLists *")
            s.values, s.values_len = values, len(self.values)
            s.values_dtype = _dtype_code(self.values, _VALUE_DTYPES)
            s.offsets, s.num_rows = offsets, self.num_rows
            s.offsets_dtype = _dtype_code(self.offsets, _OFFSET_DTYPES)
            self._struct, self._buffers = s, (values, offsets)
        return self._struct


def _dtype_code(buf, codes) -> int:
    if isinstance(buf, array.array):
        return lib.FAX_DTYPE_INT64  # only 'q' arrays are made here
    return codes[buf.dtype]


def token_lists(sequences) -> list[TokenLists]:
    """Normalise `sequences` into chunks (one, or one per ChunkedArray chunk)."""
    if type(sequences).__module__.startswith("pyarrow"):
        return _from_arrow(sequences)
    if type(sequences).__module__.startswith("datasets"):
        return _from_arrow(_datasets_column(sequences))
    if isinstance(sequences, tuple) and len(sequences) == 2 and all(
        isinstance(x, np.ndarray) for x in sequences
    ):
        return [_from_values_offsets(*sequences)]
    if isinstance(sequences, np.ndarray):
        raise TypeError(
            "sequences: a numpy array is ambiguous; pass a list of 1-D arrays or a "
            "(values, offsets) tuple"
        )
    if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__iter__"):
        raise TypeError(f"sequences must be a list of token lists, got {type(sequences).__name__}")
    rows = sequences if isinstance(sequences, list) else list(sequences)
    if rows and all(isinstance(r, np.ndarray) for r in rows):
        return [_from_numpy_rows(rows)]
    return [_from_python_rows(rows)]


def _from_python_rows(rows: list) -> TokenLists:
    """Copy Python rows into an int64 buffer. array('q') checks every token on the way: it
    refuses floats, strings and None (TypeError) and ints outside int64 (OverflowError)."""
    flat = array.array("q")
    for i, row in enumerate(rows):
        try:
            if type(row) is list:
                flat.fromlist(row)
            else:
                flat.extend(_row_items(row, i))
        except TypeError as exc:
            raise TypeError(f"sequences[{i}]: tokens must be integers ({exc})") from None
        except OverflowError:
            raise ValueError(f"sequences[{i}]: a token is outside the int64 range") from None
    offsets = array.array("q", accumulate(map(len, rows), initial=0))
    return TokenLists(flat, offsets, len(rows), rows)


def _row_items(row, i: int):
    if isinstance(row, (str, bytes)) or not hasattr(row, "__iter__"):
        raise TypeError(f"expected a list of ints, got {type(row).__name__}")
    if isinstance(row, np.ndarray):
        return _int64_values(row, f"sequences[{i}]").tolist()
    return row


def _from_numpy_rows(rows: list) -> TokenLists:
    for i, r in enumerate(rows):
        if r.ndim != 1:
            raise ValueError(f"sequences[{i}] must be 1-D, got shape {r.shape}")
        _check_int_dtype(r.dtype, f"sequences[{i}]")
    lengths = [r.shape[0] for r in rows]
    if not _same_dtype(rows):  # concatenate would promote int64 + uint64 to float64
        rows = [_int64_values(r, f"sequences[{i}]") for i, r in enumerate(rows)]
    values = _token_values(np.concatenate(rows), "sequences")
    offsets = np.fromiter(accumulate(lengths, initial=0), dtype=np.int64, count=len(rows) + 1)
    return TokenLists(values, offsets, len(rows))


def _same_dtype(rows: list) -> bool:
    first = rows[0].dtype
    return all(r.dtype == first for r in rows)


def _from_values_offsets(values: np.ndarray, offsets: np.ndarray) -> TokenLists:
    if values.ndim != 1 or offsets.ndim != 1:
        raise ValueError("(values, offsets) must both be 1-D arrays")
    if offsets.shape[0] < 1:
        raise ValueError("offsets must have num_rows + 1 entries (at least one)")
    values = _token_values(values, "values")
    _check_int_dtype(offsets.dtype, "offsets")
    if offsets.dtype not in _OFFSET_DTYPES:
        offsets = _int64_values(offsets, "offsets")
    return TokenLists(values, np.ascontiguousarray(offsets), offsets.shape[0] - 1)


def _check_int_dtype(dtype: np.dtype, what: str) -> None:
    if dtype.kind not in "iu":
        raise TypeError(f"{what}: tokens must be integers, got dtype {dtype}")


def _int64_values(a: np.ndarray, what: str) -> np.ndarray:
    """Cast an integer array to int64, refusing values that do not fit."""
    _check_int_dtype(a.dtype, what)
    if a.dtype == np.uint64 and a.size and int(a.max()) > INT64_MAX:
        raise ValueError(f"{what}: a token is outside the int64 range")
    return a.astype(np.int64)


def _token_values(values: np.ndarray, what: str) -> np.ndarray:
    """Values as one of the four token dtypes C reads, contiguous and native-endian."""
    _check_int_dtype(values.dtype, what)
    native = values.dtype.newbyteorder("=")
    if native in _VALUE_DTYPES:
        return np.ascontiguousarray(values, dtype=native)
    return _int64_values(values, what)


def one_token_lists(sequences) -> TokenLists:
    """Like `token_lists`, for kernels that need all rows in one buffer: the chunks of a
    ChunkedArray are combined (a copy) when there is more than one."""
    chunks = token_lists(sequences)
    if len(chunks) == 1:
        return chunks[0]
    import pyarrow as pa

    return _from_arrow_array(_as_chunked(sequences).combine_chunks(), pa)


def _as_chunked(sequences):
    return _datasets_column(sequences) if type(sequences).__module__.startswith("datasets") else sequences


def _datasets_column(column):
    """The Arrow data behind a `datasets` column (`ds["input_ids"]` in datasets >= 4)."""
    source, name = getattr(column, "source", None), getattr(column, "column_name", None)
    if name is None or not hasattr(getattr(source, "data", None), "column"):
        raise TypeError(f"sequences: expected a column of a datasets.Dataset, got {type(column).__name__}")
    column = source.data.column(name)
    indices = getattr(source, "_indices", None)
    if indices is not None:  # after shuffle/select the rows are column[indices] (a gather copy)
        column = column.take(indices.column(0))
    return column


def _from_arrow(data) -> list[TokenLists]:
    import pyarrow as pa

    if isinstance(data, pa.ChunkedArray):
        chunks = [_from_arrow_array(c, pa) for c in data.chunks]
        return chunks or [TokenLists(np.zeros(0, np.int64), _EMPTY_OFFSETS, 0)]
    if isinstance(data, pa.Array):
        return [_from_arrow_array(data, pa)]
    raise TypeError(f"sequences: expected a pyarrow ListArray or ChunkedArray, got {type(data).__name__}")


def _from_arrow_array(arr, pa) -> TokenLists:
    t = arr.type
    if not (pa.types.is_list(t) or pa.types.is_large_list(t)):
        raise TypeError(f"sequences: expected an Arrow list of integers, got {t}")
    if not pa.types.is_integer(t.value_type):
        raise TypeError(f"sequences: tokens must be integers, got Arrow type {t.value_type}")
    if arr.null_count:
        raise ValueError(f"sequences: row {_first_null(arr)} is null")
    # .offsets honours a slice (offsets[0] may be > 0); .values is the whole child array.
    offsets = arr.offsets.to_numpy(zero_copy_only=True)
    child = arr.values
    if child.null_count:
        raise ValueError("sequences: a token is null")
    values = _token_values(child.to_numpy(zero_copy_only=True), "sequences")
    return TokenLists(values, offsets, len(arr))


def _first_null(arr) -> int:
    return arr.is_null().to_numpy(zero_copy_only=False).argmax().item()


def num_rows(chunks: list[TokenLists]) -> int:
    return sum(c.num_rows for c in chunks)
