"""fast-axolotl: Rust kernels for Axolotl's data pipeline, behind a stable C ABI.

`import fast_axolotl` is cheap: the native library is loaded when a kernel is first used.
With Axolotl installed it also patches Axolotl's data pipeline, with identical results: the
modules already imported at once, the others when Axolotl imports them (an import hook;
`fast_axolotl.axolotl.uninstall()` undoes both, FAST_AXOLOTL_DISABLE=1 prevents them).
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
    NotFoundError,
    RustPanicError,
)

# For type checkers only: the names `__getattr__` serves, from the same modules (tests/
# test_typing.py keeps the two in step). At run time nothing here is imported, `typing`
# included (its import costs more than the rest of `import fast_axolotl`): type checkers
# take any `TYPE_CHECKING` as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .axolotl.patches import install, uninstall
    from .chat_template import ChatTemplate, render_chat_template
    from .dedupe import dedupe_table, deduplicate_dataset, row_digests
    from .hashing import deduplicate_indices, parallel_hash_rows, sha256_backend
    from .packing import concatenate_and_pack, gather_packed, pack_bins, pack_sequences
    from .padding import create_padding_mask, pad_sequences
    from .reader import (
        RustStreamingDataset,
        create_rust_streaming_dataset,
        detect_format,
        list_supported_formats,
        load_dataset,
        open_reader,
        should_use_rust_streaming,
        streaming_dataset_reader,
    )
    from .tokenize import tokenize_dataset
    from .tokenizer import Tokenizer

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
    "open_reader": "reader",
    "streaming_dataset_reader": "reader",
    "load_dataset": "reader",
    "detect_format": "reader",
    "list_supported_formats": "reader",
    "RustStreamingDataset": "reader",
    "create_rust_streaming_dataset": "reader",
    "should_use_rust_streaming": "reader",
    "ChatTemplate": "chat_template",
    "render_chat_template": "chat_template",
    "tokenize_dataset": "tokenize",
    "Tokenizer": "tokenizer",
}

# The Axolotl integration's switches, the very objects of fast_axolotl.axolotl (0.2.0's API
# had them at the top level).
_INTEGRATION = ("install", "uninstall")

# Written out (not built from _KERNELS) so that type checkers and linters see the exports;
# tests/test_typing.py checks that it lists every kernel.
__all__ = [
    "__version__",
    "is_available",
    "get_version",
    "stats",
    "install",
    "uninstall",
    "FastAxolotlError",
    "InvalidArgumentError",
    "NotFoundError",
    "FastAxolotlIOError",
    "FormatError",
    "BufferTooSmallError",
    "RustPanicError",
    "pad_sequences",
    "create_padding_mask",
    "pack_sequences",
    "concatenate_and_pack",
    "pack_bins",
    "gather_packed",
    "parallel_hash_rows",
    "deduplicate_indices",
    "sha256_backend",
    "row_digests",
    "dedupe_table",
    "deduplicate_dataset",
    "open_reader",
    "streaming_dataset_reader",
    "load_dataset",
    "detect_format",
    "list_supported_formats",
    "RustStreamingDataset",
    "create_rust_streaming_dataset",
    "should_use_rust_streaming",
    "ChatTemplate",
    "render_chat_template",
    "tokenize_dataset",
    "Tokenizer",
]


def __getattr__(name: str) -> Any:
    if name in _INTEGRATION:
        from .axolotl import patches

        return getattr(patches, name)
    module = _KERNELS.get(name)
    if module is None:
        raise AttributeError(f"module 'fast_axolotl' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_KERNELS) | set(_INTEGRATION))


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

    return f"fast-axolotl {__version__} (libfastaxo {_native.library_version()}, ABI {_native.lib.fax_abi_version()})"


def stats() -> dict[str, Any]:
    """What each Axolotl patch did in this process: `fast_axolotl.axolotl.stats()`; and the
    TRL patches' (`fast_axolotl.trl.stats()`) once one of them is active or was called."""
    import sys

    from .axolotl.patches import stats as patch_stats

    result = patch_stats()
    trl = sys.modules.get(f"{__name__}.trl")
    if trl is not None and trl.used():
        result.update(trl.stats())
    return result


def _installed(package: str) -> bool:
    from importlib.util import find_spec

    try:
        return find_spec(package) is not None
    except (ImportError, ValueError):  # sys.modules[package] is None, or has no spec
        return False


def _activate_patches() -> None:
    """Patch Axolotl and TRL if they are installed (fast_axolotl.axolotl.hook,
    fast_axolotl.trl). Without them, nothing more is imported: `import fast_axolotl` stays
    cheap."""
    if _installed("axolotl"):
        from .axolotl.hook import activate

        activate()
    if _installed("trl"):
        from .trl import activate as activate_trl

        activate_trl()


# Last: the hook's patches load kernels from this package, which must be complete by then.
_activate_patches()
