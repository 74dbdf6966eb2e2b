"""Argument checks and output conversion shared by the kernels' Python functions."""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal, Optional, TypeVar, overload

import numpy as np

from ._lists import INT64_MAX
from .errors import InvalidArgumentError

if TYPE_CHECKING:
    import numpy.typing as npt

    from ._abi import FFI as TypedFFI
    from ._abi import CData

RETURN_TENSORS = (None, "np", "pt")

_Code = TypeVar("_Code")


@overload
def size_arg(value: object, name: str, minimum: int, allow_none: Literal[False] = False) -> int: ...
@overload
def size_arg(value: object, name: str, minimum: int, allow_none: bool) -> Optional[int]: ...
def size_arg(value: object, name: str, minimum: int, allow_none: bool = False) -> Optional[int]:
    """A non-negative size as a Python int; bools and floats are refused."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not minimum <= value <= INT64_MAX:
        raise ValueError(f"{name} must be between {minimum} and 2**63 - 1, got {value}")
    return int(value)


def utf8_arg(text: str, what: str) -> bytes:
    """`text` as UTF-8; a str Python holds but UTF-8 cannot (lone surrogates) is refused."""
    if not isinstance(text, str):
        raise TypeError(f"{what} must be a str, got {type(text).__name__}")
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidArgumentError(f"{what} is not valid UTF-8 text: {error}") from None


def int64_arg(value: object, name: str) -> int:
    """A token id or padding value: any int that fits int64."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not -INT64_MAX - 1 <= value <= INT64_MAX:
        raise ValueError(f"{name} is outside the int64 range: {value}")
    return int(value)


def choice_arg(value: object, name: str, choices: Mapping[Any, _Code]) -> _Code:
    """The code of one of `choices` (a dict from accepted values to codes)."""
    try:
        return choices[value]
    except (KeyError, TypeError):
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}; got {value!r}") from None


def check_return_tensors(return_tensors: object) -> Optional[ModuleType]:
    """Validate `return_tensors`; returns the torch module for "pt" (a clear ImportError if
    torch is missing), else None."""
    # Type first: `in` compares an array elementwise and asks numpy for its truth value.
    if not (return_tensors is None or (isinstance(return_tensors, str) and return_tensors in RETURN_TENSORS)):
        raise ValueError(f"return_tensors must be None, 'np' or 'pt', got {return_tensors!r}")
    if return_tensors != "pt":
        return None
    try:
        import torch
    except ImportError as exc:
        raise ImportError("return_tensors='pt' needs PyTorch: pip install torch") from exc
    module: ModuleType = torch  # torch is Any to mypy ([tool.mypy]: optional, not analysed)
    return module


def convert(array: npt.NDArray[np.int64], return_tensors: object, torch: Optional[ModuleType]) -> Any:
    """An int64 result in the form asked for: list of lists, the array, or a tensor sharing it."""
    if return_tensors is None:
        return array.tolist()
    return torch.from_numpy(array) if torch is not None else array


def check_result_size(rows: int, width: int, width_name: str) -> None:
    """Refuse a `[rows, width]` int64 result larger than this machine's memory, naming the
    argument that set the width: numpy (or a list) would fail with a bare MemoryError or
    "array is too big", which names nothing."""
    needed, memory = rows * width * 8, _memory_bytes()
    if needed > memory:
        raise ValueError(
            f"{width_name}: a [{rows}, {width}] int64 result needs {needed:,} bytes, "
            f"more than this machine's memory ({memory:,} bytes)"
        )


@functools.lru_cache(maxsize=None)
def _memory_bytes() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not POSIX: leave the limit to numpy
        return INT64_MAX


def matrix(out: object, rows: int, width: int, name: str = "out", width_name: str = "width") -> npt.NDArray[np.int64]:
    """A `[rows, width]` int64 array to write into: `out` after checks, or a new one (refused,
    naming `width_name`, when it cannot fit in memory)."""
    if out is None:
        check_result_size(rows, width, width_name)
        return np.empty((rows, width), dtype=np.int64)
    if not isinstance(out, np.ndarray) or out.dtype != np.int64:
        raise TypeError(f"{name} must be an int64 numpy array")
    if out.shape != (rows, width):
        raise ValueError(f"{name} has shape {out.shape}, the result is {(rows, width)}")
    if not (out.flags.c_contiguous and out.flags.writeable):
        raise ValueError(f"{name} must be C-contiguous and writable")
    return out


def int64_buffer(ffi: TypedFFI, array: npt.NDArray[np.int64]) -> CData:
    """A writable `int64_t *` on an int64 array (kept alive by the cdata)."""
    return ffi.from_buffer("int64_t[]", array, require_writable=True)
