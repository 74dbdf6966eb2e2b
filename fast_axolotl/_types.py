"""Names for the argument types of the public API, for annotations."""

from __future__ import annotations

import os
from typing import Any, Sequence, Union

import numpy as np
import pyarrow as pa

# Token lists: Python lists of ints, 1-D numpy rows, (values, offsets) numpy pairs, Arrow
# list arrays or chunked arrays, `datasets` columns, torch tensors.
Tokens = Union[Sequence[Sequence[int]], np.ndarray, tuple, pa.Array, pa.ChunkedArray, Any]
# 1-D integers: a list, a numpy array or an Arrow array.
Ints = Union[Sequence[int], np.ndarray, pa.Array]
# Tabular data: a pyarrow Table or RecordBatch, or a `datasets.Dataset`.
Tabular = Union[pa.Table, pa.RecordBatch, Any]
# Strings or bytes to hash: Python lists, or an Arrow string/binary array.
Rows = Union[Sequence[Union[str, bytes]], pa.Array, pa.ChunkedArray]
PathArg = Union[str, bytes, os.PathLike]
