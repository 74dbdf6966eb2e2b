"""Batch padding: `pad_sequences` and `create_padding_mask`."""

from __future__ import annotations

from typing import Literal, Optional

import numpy as np

from . import _native
from ._lists import INT64_MAX, TokenLists, num_rows, token_lists
from ._native import ffi, lib

_SIDES = {"right": lib.FAX_PAD_RIGHT, "left": lib.FAX_PAD_LEFT}


def pad_sequences(
    sequences,
    target_length: Optional[int] = None,
    pad_value: int = 0,
    padding_side: Literal["right", "left"] = "right",
    pad_to_multiple_of: Optional[int] = None,
    return_tensors: Optional[Literal["np", "pt"]] = None,
    out: Optional[np.ndarray] = None,
):
    """Pad token lists to one length.

    Every row becomes `L = max(longest row, target_length)` tokens, rounded up to a multiple
    of `pad_to_multiple_of`; rows longer than `target_length` are kept whole. `sequences` is
    a list of int lists, a list of 1-D integer numpy arrays, a `(values, offsets)` tuple of
    numpy arrays, or a pyarrow (Large)ListArray / ChunkedArray of integer lists.

    Returns a list of lists (`return_tensors=None`), an int64 numpy array `[n, L]` ("np") or
    a torch tensor sharing that array's memory ("pt"). `out=` is an int64 C-contiguous array
    `[n, L]` to write into instead of allocating (needs "np" or "pt").
    """
    side = _side_code(padding_side)
    target = _size_arg(target_length, "target_length", 0, allow_none=True) or 0
    multiple = _size_arg(pad_to_multiple_of, "pad_to_multiple_of", 1, allow_none=True) or 1
    pad = _int64_arg(pad_value, "pad_value")
    if return_tensors not in (None, "np", "pt"):
        raise ValueError(f"return_tensors must be None, 'np' or 'pt', got {return_tensors!r}")
    if out is not None and return_tensors is None:
        raise ValueError("out= needs return_tensors='np' or 'pt'")
    torch = _torch() if return_tensors == "pt" else None

    chunks = token_lists(sequences)
    structs = [c.c_struct() for c in chunks]
    width = max(_chunk_width(s, target, multiple) for s in structs)
    if return_tensors is None and chunks[0].rows is not None:
        return _pad_python_rows(chunks[0].rows, width, pad, padding_side)

    result = _output(out, num_rows(chunks), width)
    start = 0
    for chunk, struct in zip(chunks, structs):
        rows = result[start : start + chunk.num_rows]
        _native.check(lib.fax_pad_sequences(struct, width, pad, side, ffi.from_buffer("int64_t[]", rows, require_writable=True), rows.size))
        start += chunk.num_rows
    if return_tensors is None:
        return result.tolist()
    return torch.from_numpy(result) if torch is not None else result


def create_padding_mask(current_length: int, target_length: int) -> list[int]:
    """Position ids for the padding of a row: `list(range(target_length - current_length))`.

    Built by Python's `range`: one C call could only add cost to a list Python must build.
    """
    current = _size_arg(current_length, "current_length", 0)
    target = _size_arg(target_length, "target_length", 0)
    return list(range(max(target - current, 0)))


def _chunk_width(struct, target: int, multiple: int) -> int:
    width = ffi.new("size_t *")
    _native.check(lib.fax_pad_width(struct, target, multiple, width))
    return width[0]


def _pad_python_rows(rows: list, width: int, pad: int, side: str) -> list:
    """List in, list out: reuse the input's int objects. Making new ints from an int64 array
    (`tolist`) costs more than the whole padding (see bench/bench_pad.py)."""
    padding = [pad] * width
    if side == "right":
        return [row + padding[len(row):] for row in _as_lists(rows)]
    return [padding[len(row):] + row for row in _as_lists(rows)]


def _as_lists(rows: list) -> list:
    """Rows as lists (a row may also be a tuple or a 1-D array; they are already checked)."""
    if all(type(r) is list for r in rows):
        return rows
    return [_as_list(r) for r in rows]


def _as_list(row) -> list:
    if type(row) is list:
        return row
    return row.tolist() if isinstance(row, np.ndarray) else list(row)


def _output(out: Optional[np.ndarray], n: int, width: int) -> np.ndarray:
    if out is None:
        return np.empty((n, width), dtype=np.int64)
    if not isinstance(out, np.ndarray) or out.dtype != np.int64:
        raise TypeError("out must be an int64 numpy array")
    if out.shape != (n, width):
        raise ValueError(f"out has shape {out.shape}, the padded batch is {(n, width)}")
    if not (out.flags.c_contiguous and out.flags.writeable):
        raise ValueError("out must be C-contiguous and writable")
    return out


def _side_code(padding_side) -> int:
    try:
        return _SIDES[padding_side]
    except (KeyError, TypeError):
        raise ValueError(f"padding_side must be 'right' or 'left', got {padding_side!r}") from None


def _size_arg(value, name: str, minimum: int, allow_none: bool = False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not minimum <= value <= INT64_MAX:
        raise ValueError(f"{name} must be between {minimum} and 2**63 - 1, got {value}")
    return int(value)


def _int64_arg(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not -INT64_MAX - 1 <= value <= INT64_MAX:
        raise ValueError(f"{name} is outside the int64 range: {value}")
    return int(value)


def _torch():
    try:
        import torch
    except ImportError as exc:
        raise ImportError("return_tensors='pt' needs PyTorch: pip install torch") from exc
    return torch
