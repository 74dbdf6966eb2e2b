"""Names for the argument types of the public API, for annotations.

pyarrow and `datasets` ship no type information, so their classes appear here as the
protocols of what the kernels use of them: any pyarrow Array or ChunkedArray is an
`ArrowArray`, any Table or RecordBatch an `ArrowTable`, a `datasets.Dataset` a `Dataset` and
one of its columns (`ds["input_ids"]`) a `DatasetColumn`. Nothing here is checked at run time:
the kernels check their arguments themselves.
"""

from __future__ import annotations

import os
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar, Union

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


class ArrowArray(Protocol):
    """A pyarrow Array or ChunkedArray (a list, string or binary one, as the kernel needs)."""

    @property
    def type(self) -> Any: ...

    @property
    def null_count(self) -> int: ...

    def __len__(self) -> int: ...


class ArrowTable(Protocol):
    """A pyarrow Table or RecordBatch."""

    @property
    def num_rows(self) -> int: ...

    @property
    def schema(self) -> Any: ...

    def take(self, indices: Any) -> Any: ...


class Dataset(Protocol):
    """A `datasets.Dataset` (its Arrow table, in its logical order after shuffle/select)."""

    @property
    def data(self) -> Any: ...

    def select(self, indices: Any) -> Any: ...


class DatasetColumn(Protocol):
    """A column of a `datasets.Dataset`, `ds["input_ids"]` (datasets >= 4): read from its
    Arrow data."""

    @property
    def source(self) -> Any: ...

    @property
    def column_name(self) -> str: ...


# Token lists: lists of int lists (rows may be tuples, 1-D integer arrays, tensors: any
# sized collection of ints), a `(values, offsets)` pair of numpy arrays in Arrow layout, an
# Arrow list array or chunked array of integer lists, a `datasets` column of them.
Tokens = Union[
    Sequence[Collection[int]],
    Sequence["npt.NDArray[np.integer[Any]]"],
    tuple["npt.NDArray[np.integer[Any]]", "npt.NDArray[np.integer[Any]]"],
    ArrowArray,
    DatasetColumn,
]
# 1-D integers: a list, a numpy array or an Arrow array.
Ints = Union[Sequence[int], "npt.NDArray[np.integer[Any]]", ArrowArray]
# Tabular data: a pyarrow Table or RecordBatch, or a `datasets.Dataset`.
Tabular = Union[ArrowTable, Dataset]
TabularT = TypeVar("TabularT", bound=Tabular)
# Strings or bytes to hash: Python lists, or an Arrow string/binary array or chunked array.
Rows = Union[Sequence[Union[str, bytes]], ArrowArray]
# `pack_bins`' strategies.
PackStrategy = Literal["bfd", "ffd", "first_fit", "next_fit"]
PathArg = Union[str, bytes, os.PathLike[str], os.PathLike[bytes]]
