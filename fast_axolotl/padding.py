"""Batch padding: `pad_sequences` and `create_padding_mask`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Optional, Union, overload

if TYPE_CHECKING:
    import numpy.typing as npt
    import torch

import numpy as np

from . import _native
from ._args import (
    check_result_size,
    check_return_tensors,
    choice_arg,
    convert,
    int64_arg,
    int64_buffer,
    matrix,
    size_arg,
)
from ._lists import TokenLists, check_list_rows, list_rows, num_rows, token_lists
from ._native import ffi, lib
from ._types import Tokens

_SIDES = {"right": lib.FAX_PAD_RIGHT, "left": lib.FAX_PAD_LEFT}


@overload
def pad_sequences(
    sequences: Tokens,
    target_length: Optional[int] = None,
    pad_value: int = 0,
    padding_side: Literal["right", "left"] = "right",
    pad_to_multiple_of: Optional[int] = None,
    return_tensors: None = None,
    out: None = None,
) -> list[list[int]]: ...
@overload
def pad_sequences(
    sequences: Tokens,
    target_length: Optional[int],
    pad_value: int,
    padding_side: Literal["right", "left"],
    pad_to_multiple_of: Optional[int],
    return_tensors: Literal["np"],
    out: Optional[npt.NDArray[np.int64]] = None,
) -> npt.NDArray[np.int64]: ...
@overload
def pad_sequences(
    sequences: Tokens,
    target_length: Optional[int],
    pad_value: int,
    padding_side: Literal["right", "left"],
    pad_to_multiple_of: Optional[int],
    return_tensors: Literal["pt"],
    out: Optional[npt.NDArray[np.int64]] = None,
) -> torch.Tensor: ...
@overload
def pad_sequences(
    sequences: Tokens,
    target_length: Optional[int] = None,
    pad_value: int = 0,
    padding_side: Literal["right", "left"] = "right",
    pad_to_multiple_of: Optional[int] = None,
    *,
    return_tensors: Literal["np"],
    out: Optional[npt.NDArray[np.int64]] = None,
) -> npt.NDArray[np.int64]: ...
@overload
def pad_sequences(
    sequences: Tokens,
    target_length: Optional[int] = None,
    pad_value: int = 0,
    padding_side: Literal["right", "left"] = "right",
    pad_to_multiple_of: Optional[int] = None,
    *,
    return_tensors: Literal["pt"],
    out: Optional[npt.NDArray[np.int64]] = None,
) -> torch.Tensor: ...
@overload
def pad_sequences(
    sequences: Tokens,
    target_length: Optional[int] = None,
    pad_value: int = 0,
    padding_side: Literal["right", "left"] = "right",
    pad_to_multiple_of: Optional[int] = None,
    return_tensors: Optional[Literal["np", "pt"]] = None,
    out: Optional[npt.NDArray[np.int64]] = None,
) -> Union[list[list[int]], npt.NDArray[np.int64], torch.Tensor]: ...
def pad_sequences(
    sequences: Tokens,
    target_length: Optional[int] = None,
    pad_value: int = 0,
    padding_side: Literal["right", "left"] = "right",
    pad_to_multiple_of: Optional[int] = None,
    return_tensors: Optional[Literal["np", "pt"]] = None,
    out: Optional[npt.NDArray[np.int64]] = None,
) -> Union[list[list[int]], npt.NDArray[np.int64], torch.Tensor]:
    """Pad token lists to one length.

    Every row becomes `L = max(longest row, target_length)` tokens, rounded up to a multiple
    of `pad_to_multiple_of`; rows longer than `target_length` are kept whole. `sequences` is
    a list of int lists, a list of 1-D integer numpy arrays, a `(values, offsets)` tuple of
    numpy arrays, or a pyarrow (Large)ListArray / ChunkedArray of integer lists.

    Returns a list of lists (`return_tensors=None`), an int64 numpy array `[n, L]` ("np") or
    a torch tensor sharing that array's memory ("pt"). `out=` is an int64 C-contiguous array
    `[n, L]` to write into instead of allocating (needs "np" or "pt").
    """
    side = choice_arg(padding_side, "padding_side", _SIDES)
    target = size_arg(target_length, "target_length", 0, allow_none=True) or 0
    multiple = size_arg(pad_to_multiple_of, "pad_to_multiple_of", 1, allow_none=True) or 1
    pad = int64_arg(pad_value, "pad_value")
    torch = check_return_tensors(return_tensors)
    if out is not None and return_tensors is None:
        raise ValueError("out= needs return_tensors='np' or 'pt'")

    widths = f"target_length={target_length}, pad_to_multiple_of={pad_to_multiple_of}"
    rows = list_rows(sequences) if return_tensors is None else None
    if rows is not None:
        check_list_rows(rows, "sequences")
        width = _list_width(rows, target, multiple)
        check_result_size(len(rows), width, widths)
        return _pad_python_rows(rows, width, pad, padding_side)
    chunks = token_lists(sequences)
    width = max(_chunk_width(c, target, multiple) for c in chunks)
    if out is None:
        check_result_size(num_rows(chunks), width, widths)
    if return_tensors is None and chunks[0].rows is not None:
        rows = chunks[0].rows
        del chunks  # drop the flat copy first: the new lists then reuse its memory
        return _pad_python_rows(rows, width, pad, padding_side)

    result = matrix(out, num_rows(chunks), width)
    start = 0
    for chunk in chunks:
        block = result[start : start + chunk.num_rows]
        _native.check(lib.fax_pad_sequences(chunk.c_struct(), width, pad, side, int64_buffer(ffi, block), block.size))
        start += chunk.num_rows
    return convert(result, return_tensors, torch)


def create_padding_mask(current_length: int, target_length: int) -> list[int]:
    """Position ids for the padding of a row: `list(range(target_length - current_length))`.

    Built by Python's `range`: one C call could only add cost to a list Python must build.
    """
    current = size_arg(current_length, "current_length", 0)
    target = size_arg(target_length, "target_length", 0)
    check_result_size(1, max(target - current, 0), "target_length")
    return list(range(max(target - current, 0)))


def _chunk_width(chunk: TokenLists, target: int, multiple: int) -> int:
    """`fax_pad_width` from the chunk's offsets, without its validation: `fax_pad_sequences`
    validates the offsets, and planning in C would validate them a second time. A valid row
    never holds more tokens than there are values: the clamp keeps invalid offsets from
    sizing a huge result before that validation names them."""
    lengths = np.diff(np.asarray(chunk.offsets, dtype=np.int64))
    return _round_width(min(int(lengths.max(initial=0)), len(chunk.values)), target, multiple)


def _list_width(rows: list[list[Any]], target: int, multiple: int) -> int:
    """`fax_pad_width` for Python rows: lengths are all it needs, and Python has them."""
    return _round_width(max(map(len, rows), default=0), target, multiple)


def _round_width(longest: int, target: int, multiple: int) -> int:
    """The longest row or `target`, whichever is larger, rounded up to `multiple`."""
    return -(-max(longest, target) // multiple) * multiple


def _pad_python_rows(rows: list[list[Any]], width: int, pad: int, side: str) -> list[list[Any]]:
    """List in, list out: reuse the input's int objects. Making new ints from an int64 array
    (`tolist`) costs more than the whole padding (see fast_axolotl/bench/bench_pad.py). Rows of a length
    share one padding list, made once: a concatenation per row is then all that is left."""
    rows = _as_lists(rows)
    padding = [pad] * width
    tails = {n: padding[n:] for n in set(map(len, rows))}
    if side == "right":
        return [row + tails[len(row)] for row in rows]
    return [tails[len(row)] + row for row in rows]


def _as_lists(rows: list[Any]) -> list[list[Any]]:
    """Rows as lists (a row may also be a tuple or a 1-D array; they are already checked)."""
    if all(type(r) is list for r in rows):
        return rows
    return [_as_list(r) for r in rows]


def _as_list(row: Any) -> list[Any]:
    if type(row) is list:
        return row
    return row.tolist() if isinstance(row, np.ndarray) else list(row)
