"""Accept token lists in every form users have and describe them to C as `FaxLists`.

Forms: a list of lists of ints; a list of 1-D integer numpy arrays; a `(values, offsets)`
tuple of numpy arrays (Arrow layout); a pyarrow `ListArray` / `LargeListArray` /
`ChunkedArray` of integer lists. numpy and Arrow buffers are passed to C without a copy;
Python lists are copied once into a flat int64 buffer, which also checks every token.
"""

from __future__ import annotations

import array
import struct
from collections.abc import Mapping, Set
from dataclasses import dataclass, field
from itertools import accumulate
from operator import countOf
from typing import TYPE_CHECKING, Any, Callable, Iterable, Union, cast

import numpy as np

from ._native import ffi, lib

if TYPE_CHECKING:
    from types import ModuleType

    import numpy.typing as npt

    from ._abi import CData, FaxLists

# A buffer C reads: a numpy array, or array('q') for Python input.
Buffer = Union["npt.NDArray[Any]", "array.array[int]"]

INT64_MAX = 2**63 - 1

_VALUE_DTYPES: dict[np.dtype[Any], int] = {
    np.dtype(np.uint8): lib.FAX_DTYPE_UINT8,
    np.dtype(np.int8): lib.FAX_DTYPE_INT8,
    np.dtype(np.int16): lib.FAX_DTYPE_INT16,
    np.dtype(np.int32): lib.FAX_DTYPE_INT32,
    np.dtype(np.int64): lib.FAX_DTYPE_INT64,
}
_OFFSET_DTYPES: dict[np.dtype[Any], int] = {
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

    values: Buffer
    offsets: Buffer
    num_rows: int
    rows: list[Any] | None = None
    _struct: FaxLists | None = field(default=None, repr=False)
    _buffers: tuple[CData, CData] | None = field(default=None, repr=False)

    def c_struct(self) -> FaxLists:
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


def _dtype_code(buf: Buffer, codes: Mapping[np.dtype[Any], int]) -> int:
    if isinstance(buf, array.array):
        return lib.FAX_DTYPE_INT64  # only 'q' arrays are made here
    return codes[buf.dtype]


def token_lists(sequences: object, name: str = "sequences") -> list[TokenLists]:
    """Normalise `sequences` into chunks (one, or one per ChunkedArray chunk); errors name
    the argument `name`."""
    if type(sequences).__module__.startswith("pyarrow"):
        return _from_arrow(sequences, name)
    if type(sequences).__module__.startswith("datasets"):
        return _from_arrow(_datasets_column(sequences, name), name)
    if isinstance(sequences, tuple) and len(sequences) == 2 and all(isinstance(x, np.ndarray) for x in sequences):
        return [_from_values_offsets(*sequences, name)]
    if isinstance(sequences, np.ndarray):
        raise TypeError(f"{name}: a numpy array is ambiguous; pass a list of 1-D arrays or a (values, offsets) tuple")
    if _not_a_sequence(sequences):
        raise TypeError(f"{name} must be a list of token lists, got {type(sequences).__name__}")
    rows = sequences if isinstance(sequences, list) else list(cast("Iterable[Any]", sequences))
    if rows and all(isinstance(r, np.ndarray) for r in rows):
        return [_from_numpy_rows(rows, name)]
    return [_from_python_rows(rows, name)]


def _not_a_sequence(obj: object) -> bool:
    """True for what iterates but is no ordered list of items: a str or bytes (characters),
    a dict (keys) or a set (no order); and for what does not iterate at all."""
    return isinstance(obj, (str, bytes, Mapping, Set)) or not hasattr(obj, "__iter__")


def _from_python_rows(rows: list[Any], name: str) -> TokenLists:
    """Copy Python rows into an int64 buffer. array('q') checks every token on the way: it
    refuses floats, strings and None (TypeError) and ints outside int64 (OverflowError)."""
    flat = array.array("q")
    for i, row in enumerate(rows):
        if type(row) is not list:
            row = _row_list(row, f"{name}[{i}]")
        try:
            flat.fromlist(row)
        except TypeError as exc:
            raise TypeError(f"{name}[{i}]: tokens must be integers ({exc})") from None
        except OverflowError:
            raise ValueError(f"{name}[{i}]: a token is outside the int64 range") from None
    offsets = array.array("q", accumulate(map(len, rows), initial=0))
    # A Python bool in a row is read as 0/1, as numpy, torch and Axolotl's collators read it:
    # refusing it would cost a type check per token on the hot path (attention masks).
    return TokenLists(flat, offsets, len(rows), rows)


def list_rows(sequences: object) -> list[list[Any]] | None:
    """`sequences` when it is a list of lists, the form list-out kernels build from directly
    (reusing the int objects); else None."""
    if isinstance(sequences, list) and all(type(r) is list for r in sequences):
        return sequences
    return None


def check_list_rows(rows: list[list[Any]], name: str) -> None:
    """Check what `_from_python_rows` checks (every token an int in the int64 range) without
    copying: for kernels that return lists, the copy is all waste. One struct pack per row
    accepts and refuses the same tokens as array('q'), for less than array's per-item append
    (bench_pad.py times it); on a failure `_from_python_rows` raises its error, which names
    the row."""
    packers: dict[int, Callable[..., bytes]] = {}
    try:
        for row in rows:
            pack = packers.get(len(row))
            if pack is None:
                pack = packers[len(row)] = struct.Struct(f"{len(row)}q").pack
            pack(*row)
    except struct.error:
        _from_python_rows(rows, name)
        raise


def _row_list(row: Any, what: str) -> list[Any]:
    """A row that is not a list (a tuple, a 1-D array...) as one; a row must have a length,
    which the offsets are made of."""
    if _not_a_sequence(row) or not hasattr(row, "__len__"):
        raise TypeError(f"{what} must be a list of ints, got {type(row).__name__}")
    if isinstance(row, np.ndarray):
        rows: list[Any] = _int64_values(row, what).tolist()
        return rows
    return list(row)


def holds_bool(
    values: npt.NDArray[np.int64],
    objects: Callable[[], Iterable[object]],
    objects_at: Callable[[npt.NDArray[np.intp]], Iterable[object]],
) -> bool:
    """Whether the Python objects converted to the int64 array `values` included a bool
    (numpy takes True as 1; used for lengths and indices, where a bool is a mistake). Only objects converted to 0 or 1 can have been
    bools, and in token ids, lengths or indices they are few (a BOS per row): looking at just
    those, `objects_at(positions)`, keeps the check off the per-item cost. When they are many
    (attention masks), one C-level pass over all of them, `objects()`, is cheaper."""
    as_unsigned = values.view(np.uint64)  # negatives become huge: one comparison finds 0 and 1
    if values.size == 0 or as_unsigned.min() > 1:
        return False
    where = np.flatnonzero(as_unsigned <= 1)
    dense = 4 * where.size > values.size
    items = objects if dense else lambda: objects_at(where)
    # Counting exact ints compares types by identity; searching for bool pays a full type
    # comparison per item. So count first, and search only when something is not an int.
    if countOf(map(type, items()), int) == (values.size if dense else where.size):
        return False
    return bool in map(type, items())


def _from_numpy_rows(rows: list[npt.NDArray[Any]], name: str) -> TokenLists:
    for i, r in enumerate(rows):
        if r.ndim != 1:
            raise ValueError(f"{name}[{i}] must be 1-D, got shape {r.shape}")
        _check_int_dtype(r.dtype, f"{name}[{i}]")
    lengths = [r.shape[0] for r in rows]
    if not _same_dtype(rows):  # concatenate would promote int64 + uint64 to float64
        rows = [_int64_values(r, f"{name}[{i}]") for i, r in enumerate(rows)]
    values = _token_values(np.concatenate(rows), name)
    offsets = np.fromiter(accumulate(lengths, initial=0), dtype=np.int64, count=len(rows) + 1)
    return TokenLists(values, offsets, len(rows))


def _same_dtype(rows: list[npt.NDArray[Any]]) -> bool:
    first = rows[0].dtype
    return all(r.dtype == first for r in rows)


def _from_values_offsets(values: npt.NDArray[Any], offsets: npt.NDArray[Any], name: str) -> TokenLists:
    if values.ndim != 1 or offsets.ndim != 1:
        raise ValueError(f"{name}: (values, offsets) must both be 1-D arrays")
    if offsets.shape[0] < 1:
        raise ValueError(f"{name}: offsets must have num_rows + 1 entries (at least one)")
    values = _token_values(values, f"{name}: values")
    _check_int_dtype(offsets.dtype, f"{name}: offsets")
    if offsets.dtype not in _OFFSET_DTYPES:
        offsets = _int64_values(offsets, f"{name}: offsets")
    return TokenLists(values, np.ascontiguousarray(offsets), offsets.shape[0] - 1)


def _check_int_dtype(dtype: np.dtype[Any], what: str) -> None:
    if dtype.kind not in "iu":
        raise TypeError(f"{what}: tokens must be integers, got dtype {dtype}")


def _int64_values(a: npt.NDArray[Any], what: str) -> npt.NDArray[np.int64]:
    """Cast an integer array to int64, refusing values that do not fit."""
    _check_int_dtype(a.dtype, what)
    if a.dtype == np.uint64 and a.size and int(a.max()) > INT64_MAX:
        raise ValueError(f"{what}: a token is outside the int64 range")
    return a.astype(np.int64)


def _token_values(values: npt.NDArray[Any], what: str) -> npt.NDArray[Any]:
    """Values as one of the four token dtypes C reads, contiguous and native-endian."""
    _check_int_dtype(values.dtype, what)
    native = values.dtype.newbyteorder("=")
    if native in _VALUE_DTYPES:
        return np.ascontiguousarray(values, dtype=native)
    return _int64_values(values, what)


def one_token_lists(sequences: object, name: str = "sequences") -> TokenLists:
    """Like `token_lists`, for kernels that need all rows in one buffer: the chunks of a
    ChunkedArray are combined (a copy) when there is more than one."""
    chunks = token_lists(sequences, name)
    if len(chunks) == 1:
        return chunks[0]
    import pyarrow as pa

    return _from_arrow_array(_as_chunked(sequences, name).combine_chunks(), pa, name)


def _as_chunked(sequences: Any, name: str) -> Any:
    if type(sequences).__module__.startswith("datasets"):
        return _datasets_column(sequences, name)
    return sequences


def _datasets_column(column: object, what: str) -> Any:
    """The Arrow data behind a `datasets` column (`ds["input_ids"]` in datasets >= 4)."""
    from . import _hf

    arrow = _hf.column_of(column)  # after shuffle/select: the rows in order (a gather copy)
    if arrow is None:
        raise TypeError(f"{what}: expected a column of a datasets.Dataset, got {type(column).__name__}")
    return arrow


def _from_arrow(data: Any, name: str) -> list[TokenLists]:
    import pyarrow as pa

    if isinstance(data, pa.ChunkedArray):
        chunks = [_from_arrow_array(c, pa, name) for c in data.chunks]
        return chunks or [TokenLists(np.zeros(0, np.int64), _EMPTY_OFFSETS, 0)]
    if isinstance(data, pa.Array):
        return [_from_arrow_array(data, pa, name)]
    raise TypeError(f"{name}: expected a pyarrow ListArray or ChunkedArray, got {type(data).__name__}")


def _from_arrow_array(arr: Any, pa: ModuleType, name: str) -> TokenLists:
    t = arr.type
    if not (pa.types.is_list(t) or pa.types.is_large_list(t)):
        raise TypeError(f"{name}: expected an Arrow list of integers, got {t}")
    if not pa.types.is_integer(t.value_type):
        raise TypeError(f"{name}: tokens must be integers, got Arrow type {t.value_type}")
    if arr.null_count:
        raise ValueError(f"{name}: row {_first_null(arr)} is null")
    # .offsets honours a slice (offsets[0] may be > 0); .values is the whole child array.
    offsets = arr.offsets.to_numpy(zero_copy_only=True)
    child = arr.values
    if child.null_count:
        raise ValueError(f"{name}: a token is null")
    values = _token_values(child.to_numpy(zero_copy_only=True), name)
    return TokenLists(values, offsets, len(arr))


def _first_null(arr: Any) -> int:
    return int(arr.is_null().to_numpy(zero_copy_only=False).argmax())


def num_rows(chunks: list[TokenLists]) -> int:
    return sum(c.num_rows for c in chunks)
