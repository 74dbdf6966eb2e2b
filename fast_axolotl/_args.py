"""Argument checks and output conversion shared by the kernels' Python functions."""

from __future__ import annotations

from typing import Optional

import numpy as np

from ._lists import INT64_MAX

RETURN_TENSORS = (None, "np", "pt")


def size_arg(value, name: str, minimum: int, allow_none: bool = False) -> Optional[int]:
    """A non-negative size as a Python int; bools and floats are refused."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not minimum <= value <= INT64_MAX:
        raise ValueError(f"{name} must be between {minimum} and 2**63 - 1, got {value}")
    return int(value)


def int64_arg(value, name: str) -> int:
    """A token id or padding value: any int that fits int64."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not -INT64_MAX - 1 <= value <= INT64_MAX:
        raise ValueError(f"{name} is outside the int64 range: {value}")
    return int(value)


def choice_arg(value, name: str, choices: dict):
    """The code of one of `choices` (a dict from accepted values to codes)."""
    try:
        return choices[value]
    except (KeyError, TypeError):
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}; got {value!r}") from None


def check_return_tensors(return_tensors):
    """Validate `return_tensors`; returns the torch module for "pt" (a clear ImportError if
    torch is missing), else None."""
    if return_tensors not in RETURN_TENSORS:
        raise ValueError(f"return_tensors must be None, 'np' or 'pt', got {return_tensors!r}")
    if return_tensors != "pt":
        return None
    try:
        import torch
    except ImportError as exc:
        raise ImportError("return_tensors='pt' needs PyTorch: pip install torch") from exc
    return torch


def convert(array: np.ndarray, return_tensors, torch):
    """An int64 result in the form asked for: list of lists, the array, or a tensor sharing it."""
    if return_tensors is None:
        return array.tolist()
    return torch.from_numpy(array) if torch is not None else array


def matrix(out: Optional[np.ndarray], rows: int, width: int, name: str = "out") -> np.ndarray:
    """A `[rows, width]` int64 array to write into: `out` after checks, or a new one."""
    if out is None:
        return np.empty((rows, width), dtype=np.int64)
    if not isinstance(out, np.ndarray) or out.dtype != np.int64:
        raise TypeError(f"{name} must be an int64 numpy array")
    if out.shape != (rows, width):
        raise ValueError(f"{name} has shape {out.shape}, the result is {(rows, width)}")
    if not (out.flags.c_contiguous and out.flags.writeable):
        raise ValueError(f"{name} must be C-contiguous and writable")
    return out


def int64_buffer(ffi, array: np.ndarray):
    """A writable `int64_t *` on an int64 array (kept alive by the cdata)."""
    return ffi.from_buffer("int64_t[]", array, require_writable=True)
