"""SHA-256 of string/bytes rows for exact dedupe: `parallel_hash_rows`, `deduplicate_indices`
and `sha256_backend`. Rows are hashed in Rust on all cores; every digest equals hashlib's.

Rows are a list of str and/or bytes, or a pyarrow string/large_string/binary/large_binary
Array or ChunkedArray, read where it lives (no copy). For a list of str, encoding the rows
to UTF-8 and making the hex strings cost more than the hashing: both are done in bulk, a
chunk of rows at a time (fast_axolotl/bench/bench_hash.py measures it).
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Literal, Optional, TypeVar, Union, cast, overload

import numpy as np

from . import _native
from ._args import size_arg
from ._lists import TokenLists, _first_null, num_rows
from ._native import ffi, lib
from ._seen import Seen
from ._types import Rows

if TYPE_CHECKING:
    from types import ModuleType

    import numpy.typing as npt

    from ._abi import CData

    # A chunk's digests, `(rows, 32)` uint8, and the pending hashing of one chunk.
    Digests = npt.NDArray[np.uint8]
    Pending = Optional[tuple[Future[None], Digests]]

_T = TypeVar("_T")
_EMPTY_VALUES = np.zeros(0, np.uint8)
_EMPTY_OFFSETS = np.zeros(1, np.int64)
_SEPARATOR = b"\n"  # between hex digests in Rust's output; never a hex digit
# Rows are encoded and hashed in chunks of about _CHUNK_BYTES (bench_hash.py: smaller chunks
# cost more per row, bigger ones leave the cache and cost page faults).
_CHUNK_BYTES = 1 << 20
_FIRST_CHUNK_ROWS, _MIN_CHUNK_ROWS, _MAX_CHUNK_ROWS = 1024, 64, 8192
_HEX_CHUNK = 2048  # digests made into strings together (8192 and more is slower)


@overload
def parallel_hash_rows(rows: Rows, num_threads: int = 0, return_digests: Literal[False] = False) -> list[str]: ...
@overload
def parallel_hash_rows(rows: Rows, num_threads: int = 0, *, return_digests: Literal[True]) -> Digests: ...
@overload
def parallel_hash_rows(rows: Rows, num_threads: int, return_digests: Literal[True]) -> Digests: ...
@overload
def parallel_hash_rows(rows: Rows, num_threads: int = 0, return_digests: bool = False) -> Union[list[str], Digests]: ...
def parallel_hash_rows(rows: Rows, num_threads: int = 0, return_digests: bool = False) -> Union[list[str], Digests]:
    """SHA-256 of every row: a list of hex strings, each equal to
    `hashlib.sha256(row.encode("utf-8")).hexdigest()` (a bytes row is hashed as it is).

    With `return_digests=True`, a `(n, 32)` uint8 numpy array of the raw digests instead.
    `num_threads`: 0 = all cores; more than the cores is capped; the result never depends on
    it. A None or Arrow null row, or a row that is neither str nor bytes, is a TypeError naming
    its index; a str that UTF-8 cannot encode (a lone surrogate) raises the UnicodeEncodeError
    that `row.encode("utf-8")` raises.
    """
    threads = size_arg(num_threads, "num_threads", 0)
    if return_digests:
        return _digests(rows, threads)
    hexes: list[str] = []
    _digests(rows, threads, each=lambda part: hexes.extend(_hex_list(part, threads)))
    return hexes


def deduplicate_indices(
    rows: Rows, existing_hashes: Optional[Iterable[str]] = None, num_threads: int = 0
) -> tuple[list[int], list[str]]:
    """Exact dedupe: `(unique_indices, new_hashes)`.

    `unique_indices` lists the rows kept, in order: the first occurrence of each distinct row,
    minus rows whose hex digest is in `existing_hashes` (hex strings, as `new_hashes` of an
    earlier call). `new_hashes` are the kept rows' hex digests, in the same order. `rows` and
    `num_threads` as in `parallel_hash_rows`; a malformed hex string is a ValueError.
    """
    threads = size_arg(num_threads, "num_threads", 0)
    digests = _digests(rows, threads)
    seen = Seen()
    if existing_hashes is not None:
        seen.insert(_digests_from_hex(existing_hashes))
    kept = seen.insert(digests)
    return kept.tolist(), _hex_list(digests[kept], threads)


def sha256_backend() -> str:
    """The SHA-256 code in use on this CPU: "sha-ni", "aarch64-sha2" or "soft/asm"."""
    return _native.c_string(lib.fax_sha256_backend()).decode("ascii")


def _byte_chunks(rows: object) -> tuple[int, Iterator[TokenLists]]:
    """`(number of rows, chunks of bytes rows)`. Arrow chunks are the array's own buffers; a
    list is encoded a chunk at a time, as it is hashed: small buffers that the allocator
    reuses and that are still in cache when hashed (one big buffer costs more in page faults
    than all the hashing)."""
    if type(rows).__module__.startswith("pyarrow"):
        chunks = _from_arrow(rows)
        return num_rows(chunks), iter(chunks)
    if isinstance(rows, (str, bytes)) or not hasattr(rows, "__iter__"):
        raise TypeError(f"rows must be a list of str or bytes, got {type(rows).__name__}")
    items = rows if isinstance(rows, list) else list(cast("Iterable[Any]", rows))
    return len(items), _python_chunks(items)


def _python_chunks(rows: list[Any]) -> Iterator[TokenLists]:
    start, size = 0, _FIRST_CHUNK_ROWS
    while start < len(rows):
        chunk = rows[start : start + size]
        try:
            encoded = _from_str_rows(chunk)
        except TypeError:  # not all str (a UnicodeEncodeError, a ValueError, goes to the caller)
            encoded = _from_mixed(chunk, start)
        yield encoded
        start += len(chunk)
        size = _chunk_rows(encoded)


def _chunk_rows(last: TokenLists) -> int:
    """Rows for the next chunk: about _CHUNK_BYTES, at the last chunk's mean row size."""
    mean = max(len(last.values) // last.num_rows, 1)
    return min(max(_CHUNK_BYTES // mean, _MIN_CHUNK_ROWS), _MAX_CHUNK_ROWS)


def _from_str_rows(rows: list[Any]) -> TokenLists:
    """All-ASCII rows are joined and encoded at once (their byte lengths are their str
    lengths): 5x cheaper than one encode per row, which the other rows get."""
    if all(map(str.isascii, rows)):
        data, lengths = "".join(rows).encode("ascii"), map(len, rows)
    else:
        # Raises, for the first bad row, the UnicodeEncodeError of hashlib's row.encode("utf-8").
        encoded = list(map(str.encode, rows))
        data, lengths = b"".join(encoded), map(len, encoded)
    return TokenLists(np.frombuffer(data, np.uint8), _offsets(lengths, len(rows)), len(rows))


def _from_mixed(rows: list[Any], start: int) -> TokenLists:
    """str and bytes rows together: each row encoded (or taken) on its own, checked in order."""
    encoded = [row if type(row) is bytes else _row_bytes(row, start + i) for i, row in enumerate(rows)]
    values = np.frombuffer(b"".join(encoded), np.uint8)
    return TokenLists(values, _offsets(map(len, encoded), len(rows)), len(rows))


def _row_bytes(row: object, i: int) -> bytes | bytearray:
    if isinstance(row, (bytes, bytearray)):
        return row
    if isinstance(row, str):
        return row.encode("utf-8")
    if row is None:
        raise TypeError(f"rows[{i}] is None; expected str or bytes")
    raise TypeError(f"rows[{i}]: expected str or bytes, got {type(row).__name__}")


def _offsets(lengths: Iterable[int], n: int) -> npt.NDArray[np.int64]:
    offsets = np.zeros(n + 1, np.int64)
    np.cumsum(np.fromiter(lengths, np.int64, n), out=offsets[1:])
    return offsets


def _from_arrow(data: Any) -> list[TokenLists]:
    import pyarrow as pa

    if isinstance(data, pa.ChunkedArray):
        arrays = data.chunks
    elif isinstance(data, pa.Array):
        arrays = [data]
    else:
        raise TypeError(f"rows: expected a pyarrow Array or ChunkedArray, got {type(data).__name__}")
    chunks, start = [], 0
    for arr in arrays:
        chunks.append(_from_arrow_array(arr, start, pa))
        start += len(arr)
    return chunks


def _from_arrow_array(arr: Any, start: int, pa: ModuleType) -> TokenLists:
    t = arr.type
    offset_dtype: type[np.int32 | np.int64]
    if pa.types.is_large_string(t) or pa.types.is_large_binary(t):
        offset_dtype = np.int64
    elif pa.types.is_string(t) or pa.types.is_binary(t):
        offset_dtype = np.int32
    else:
        raise TypeError(f"rows: expected an Arrow string or binary array, got {t}")
    if arr.null_count:
        raise TypeError(f"rows[{start + _first_null(arr)}] is null; expected str or bytes")
    n = len(arr)
    if n == 0:  # Arrow allows an empty offsets buffer here
        return TokenLists(_EMPTY_VALUES, _EMPTY_OFFSETS, 0)
    _, offsets, data = arr.buffers()
    # The buffers are the unsliced array's: a slice starts `arr.offset` rows in.
    offsets = np.frombuffer(offsets, offset_dtype)[arr.offset : arr.offset + n + 1]
    values = np.frombuffer(data, np.uint8) if data is not None else _EMPTY_VALUES
    return TokenLists(values, offsets, n)


def _digests(rows: object, threads: int, each: Optional[Callable[[Digests], None]] = None) -> Digests:
    """The `(n, 32)` digests of `rows`; `each(part)` is called with each chunk's digests, in
    order, as soon as they are ready.

    With more than one chunk, a helper thread hashes chunk k (in Rust, without the GIL) while
    this thread encodes chunk k + 1 and runs `each` on chunk k - 1 (the hex strings): the
    Python work overlaps the hashing instead of following it (bench_hash.py: ~25% faster).
    """
    n, chunks = _byte_chunks(rows)
    out = np.empty((n, 32), np.uint8)
    submit = _helper().submit if n > _FIRST_CHUNK_ROWS else _call_now
    pending: Pending = None
    start = 0
    for chunk in chunks:
        part = out[start : start + chunk.num_rows]
        start += chunk.num_rows
        job = submit(_hash_into, chunk, part, threads)
        _finish(pending, each)
        pending = (job, part)
    _finish(pending, each)
    return out


def _hash_into(chunk: TokenLists, part: Digests, threads: int) -> None:
    _native.check(lib.fax_hash_rows(chunk.c_struct(), threads, _writable(part), part.size))


def _finish(pending: Pending, each: Optional[Callable[[Digests], None]]) -> None:
    """Wait for a chunk's hashing (raising its error, if any), then hand its digests on."""
    if pending is not None:
        job, part = pending
        job.result()
        if each is not None:
            each(part)


def _call_now(fn: Callable[..., _T], *args: Any) -> Future[_T]:
    """`Executor.submit` on this thread: one chunk has nothing to overlap with."""
    job: Future[_T] = Future()
    try:
        job.set_result(fn(*args))
    except Exception as exc:  # raised by job.result(), as from the helper
        job.set_exception(exc)
    return job


_HELPER: Optional[tuple[int, ThreadPoolExecutor]] = None


def _helper() -> ThreadPoolExecutor:
    """The one helper thread, made on first use, and again in a forked child (which has no
    copy of the parent's threads)."""
    global _HELPER
    if _HELPER is None or _HELPER[0] != os.getpid():
        _HELPER = (os.getpid(), ThreadPoolExecutor(1, thread_name_prefix="fast_axolotl-hash"))
    return _HELPER[1]


def _hex_list(digests: Digests, threads: int) -> list[str]:
    """Rust writes the hex digests of a chunk into one buffer, separated; one decode and one
    split make the strings (cheaper than slicing them out one by one). Chunks, as for the
    rows: small buffers are reused, big ones cost page faults."""
    hexes: list[str] = []
    for start in range(0, len(digests), _HEX_CHUNK):
        part = digests[start : start + _HEX_CHUNK]
        text = bytearray(65 * len(part) - 1)
        _native.check(
            lib.fax_hash_hex(ffi.from_buffer(part), len(part), _SEPARATOR, _writable(text), len(text), threads)
        )
        hexes += text.decode("ascii").split(_SEPARATOR.decode())
    return hexes


def _writable(buffer: npt.NDArray[Any] | bytearray) -> CData:
    return ffi.from_buffer("uint8_t[]", buffer, require_writable=True)


def _digests_from_hex(hashes: Iterable[str]) -> Digests:
    """Hex digests (64 hex characters each) as a `(n, 32)` uint8 array."""
    if isinstance(hashes, (str, bytes)):
        raise TypeError("existing_hashes must be an iterable of hex strings, not one string")
    try:
        items = iter(hashes)
    except TypeError:  # not iterable: Python's own message names no argument
        raise TypeError(f"existing_hashes must be an iterable of hex strings, got {type(hashes).__name__}") from None
    strings = list(items)
    raw = b""
    try:
        # One join and one fromhex for all; the length checks keep strings from running into
        # each other (fromhex also skips whitespace).
        raw = bytes.fromhex("".join(strings))
        ok = len(raw) == 32 * len(strings) and all(len(h) == 64 for h in strings)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise _bad_hex(strings)
    return np.frombuffer(raw, np.uint8).reshape(-1, 32)


def _bad_hex(hashes: list[Any]) -> Exception:
    """The error naming the first malformed hash (found one by one, only after a failure)."""
    for i, h in enumerate(hashes):
        if not isinstance(h, str):
            return TypeError(f"existing_hashes[{i}]: expected a hex string, got {type(h).__name__}")
        try:
            ok = len(h) == 64 and len(bytes.fromhex(h)) == 32
        except ValueError:
            ok = False
        if not ok:
            return ValueError(f"existing_hashes[{i}] is not a SHA-256 hex digest (64 hex digits): {h!r}")
    return ValueError("existing_hashes holds malformed hex digests")
