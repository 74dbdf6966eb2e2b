"""`Seen`: the set of row digests already kept, shared by the dedupe functions."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

from . import _native
from ._native import ffi, lib

if TYPE_CHECKING:
    import numpy.typing as npt


class Seen:
    """The digests of rows already kept: pass it to the next call to drop rows of another
    dataset that were seen here (cross-dataset dedupe). One call at a time uses it."""

    def __init__(self) -> None:
        out = ffi.new("FaxSeen **")
        _native.check(lib.fax_seen_new(out))
        self._handle = ffi.gc(out[0], lib.fax_seen_free)
        self._lock = threading.Lock()

    def __len__(self) -> int:
        size = ffi.new("size_t *")
        with self._lock:
            _native.check(lib.fax_seen_len(self._handle, size))
        return int(size[0])

    def insert(self, digests: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Add `(n, 32)` uint8 digests in order; return the positions of the new ones."""
        rows = np.ascontiguousarray(digests, dtype=np.uint8)
        if rows.ndim != 2 or rows.shape[1] != 32:
            raise ValueError(f"digests must have shape (n, 32), got {rows.shape}")
        n = rows.shape[0]
        kept = np.empty(n, dtype=np.int64)
        num_kept = ffi.new("size_t *")
        with self._lock:
            _native.check(
                lib.fax_seen_insert(
                    self._handle,
                    ffi.from_buffer("uint8_t[]", rows),
                    n,
                    ffi.from_buffer("int64_t[]", kept, require_writable=True),
                    num_kept,
                )
            )
        return kept[: num_kept[0]]
