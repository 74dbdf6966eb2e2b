"""fast-axolotl: Rust kernels for Axolotl's data pipeline, behind a stable C ABI.

`import fast_axolotl` is cheap: the native library is loaded when a kernel is first used.
"""

from __future__ import annotations

import importlib

from .__about__ import __version__
from .errors import (
    BufferTooSmallError,
    FastAxolotlError,
    FastAxolotlIOError,
    FormatError,
    InvalidArgumentError,
    RustPanicError,
)

# Public kernels and the module that defines each; imported on first access (PEP 562).
_KERNELS = {
    "pad_sequences": "padding",
    "create_padding_mask": "padding",
    "pack_sequences": "packing",
    "concatenate_and_pack": "packing",
    "pack_bins": "packing",
    "gather_packed": "packing",
    "parallel_hash_rows": "hashing",
    "deduplicate_indices": "hashing",
    "sha256_backend": "hashing",
    "row_digests": "dedupe",
    "dedupe_table": "dedupe",
    "deduplicate_dataset": "dedupe",
}

__all__ = [
    "__version__",
    "is_available",
    "get_version",
    "FastAxolotlError",
    "InvalidArgumentError",
    "FastAxolotlIOError",
    "FormatError",
    "BufferTooSmallError",
    "RustPanicError",
    *_KERNELS,
]


def __getattr__(name: str):
    module = _KERNELS.get(name)
    if module is None:
        raise AttributeError(f"module 'fast_axolotl' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_KERNELS))


def is_available() -> bool:
    """True when the native library loads and matches this package's ABI."""
    try:
        importlib.import_module("._native", __name__)
    except ImportError:
        return False
    return True


def get_version() -> str:
    """Package, library and ABI versions, e.g. 'fast-axolotl 0.3.0 (libfastaxo 0.3.0, ABI 1)'."""
    from . import _native

    return (
        f"fast-axolotl {__version__} "
        f"(libfastaxo {_native.library_version()}, ABI {_native.lib.fax_abi_version()})"
    )
