"""The patch machinery: each patch swaps one Axolotl function for a fast one that returns the
same result, and runs the original instead (counted) for inputs the fast one does not model.

Nothing here imports Axolotl or a kernel at import time: `install()` does, so that
`import fast_axolotl.axolotl` cannot change how Axolotl itself imports.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import logging
import sys
import threading
from typing import Callable, Optional

LOG = logging.getLogger(__name__)


class Fallback(Exception):
    """Raised by a fast path for an input it does not model: the original runs instead."""


# What a fast path raises for an input it does not handle: its own refusal, or a kernel's
# ValueError/TypeError for an unsupported input (the original then decides what is valid).
DECLINED = (Fallback, ValueError, TypeError)


def _call_original(original: Callable, *args, **kwargs):
    """The default fallback: the original, with the call's own arguments."""
    return original(*args, **kwargs)


def _load(spec: str) -> Callable:
    """'module:function', the module relative to this package."""
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(f".{module}", __package__), name)


def _is_axolotl_module(name: str) -> bool:
    return name == "axolotl" or name.startswith("axolotl.")


class Patch:
    """Replaces `module.attribute` with the function `fast` ('module:function' in this
    package, loaded by `install`), guarded: when `fast` declines a call, `fallback(original,
    *args, **kwargs)` runs (default: the original with the same arguments)."""

    def __init__(self, name: str, module: str, attribute: str, fast: str, fallback: Optional[str] = None):
        self.name, self.module, self.attribute = name, module, attribute
        self._fast, self._fallback = fast, fallback
        self.original = self.replacement = None
        self.fast_calls = self.fallbacks = 0
        self.last_fallback: Optional[str] = None
        self._lock = threading.Lock()

    def install(self) -> str:
        if self.replacement is not None:
            return "already active"
        try:
            original = getattr(self._owner(), self._name)
        except Exception as error:  # an Axolotl without this function, or one that fails to import
            return f"skipped: {self.module}.{self.attribute} unavailable ({type(error).__name__}: {error})"
        try:
            replacement = self._guarded(original)
        except ImportError as error:  # the native library is missing or does not match
            return f"skipped: fast path unavailable ({error})"
        self.original, self.replacement = original, replacement
        self._rebind(original, replacement)
        return "installed"

    def uninstall(self) -> str:
        if self.replacement is None:
            return "not active"
        self._rebind(self.replacement, self.original)
        self.original = self.replacement = None
        return "uninstalled"

    def stats(self) -> dict:
        with self._lock:
            return {
                "active": self.replacement is not None,
                "fast_calls": self.fast_calls,
                "fallbacks": self.fallbacks,
                "last_fallback": self.last_fallback,
            }

    def _guarded(self, original: Callable) -> Callable:
        fast = _load(self._fast)
        fallback = _load(self._fallback) if self._fallback else _call_original

        @functools.wraps(original, updated=())  # not the __dict__ of a numba dispatcher
        def replacement(*args, **kwargs):
            try:
                result = fast(*args, **kwargs)
            except DECLINED as why:
                self._count_fallback(why)
                return fallback(original, *args, **kwargs)
            with self._lock:
                self.fast_calls += 1
            return result

        return replacement

    def _count_fallback(self, why: Exception) -> None:
        reason = f"{type(why).__name__}: {why}"
        with self._lock:
            self.fallbacks += 1
            self.last_fallback = reason
        LOG.warning("fast-axolotl: %s fell back to Axolotl's own function (%s)", self.name, reason)

    @property
    def _name(self) -> str:
        return self.attribute.rpartition(".")[2]

    def _owner(self):
        """What holds the function: the module, or for "Class.method" the class in it."""
        owner = importlib.import_module(self.module)
        for part in self.attribute.split(".")[:-1]:
            owner = getattr(owner, part)
        return owner

    def _rebind(self, old: Callable, new: Callable) -> None:
        """Point every loaded Axolotl module that holds `old` under our name at `new`: the
        defining module and those that imported it by name (`from .utils import f`). Modules
        imported later copy whatever these hold, so they get the right one too. A method
        lives in its class alone (importers hold the class), so only the class changes."""
        if "." in self.attribute:
            owner = self._owner()
            if owner.__dict__.get(self._name) is old:
                setattr(owner, self._name, new)
            return
        for name, module in list(sys.modules.items()):
            if _is_axolotl_module(name) and getattr(module, "__dict__", {}).get(self.attribute) is old:
                setattr(module, self.attribute, new)


DATA_UTILS, MULTIPACK, SAMPLER_UTILS, BATCHING = (
    "axolotl.utils.data.utils", "axolotl.utils.samplers.multipack", "axolotl.utils.samplers.utils",
    "axolotl.utils.collators.batching",
)
# Each: name, the module that defines the function, its name (or "Class.method"), our fast
# path (and fallback).
PATCHES = (
    Patch("dedupe", DATA_UTILS, "_deduplicate_dataset", "dedupe:deduplicate", "dedupe:fallback"),
    Patch("pack_parallel", MULTIPACK, "pack_parallel", "multipack:pack_parallel"),
    Patch("allocate_sequentially", MULTIPACK, "allocate_sequentially", "multipack:allocate_sequentially"),
    Patch("get_dataset_lengths", SAMPLER_UTILS, "get_dataset_lengths", "lengths:get_dataset_lengths"),
    # Collator classes are imported by name (core/builders/causal.py): patch the classes' __call__.
    Patch("seq2seq_collator", BATCHING, "DataCollatorForSeq2Seq.__call__", "collators:collate"),
    Patch("v2_collator", BATCHING, "V2BatchSamplerDataCollatorForSeq2Seq.__call__", "collators:collate_bins"),
)

_LOCK = threading.Lock()


def _axolotl_installed() -> bool:
    try:
        return importlib.util.find_spec("axolotl") is not None
    except (ImportError, ValueError):
        return False


def install() -> dict[str, str]:
    """Apply every patch that can apply; idempotent. Returns each patch's outcome:
    "installed", "already active" or "skipped: <why>"."""
    if not _axolotl_installed():
        return {patch.name: "skipped: Axolotl is not installed" for patch in PATCHES}
    with _LOCK:
        return {patch.name: patch.install() for patch in PATCHES}


def uninstall() -> dict[str, str]:
    """Put the original objects back; returns each patch's outcome ("uninstalled" or
    "not active")."""
    with _LOCK:
        return {patch.name: patch.uninstall() for patch in PATCHES}


def stats() -> dict[str, dict]:
    """Per patch: `active`, `fast_calls`, `fallbacks` (since import) and `last_fallback`."""
    return {patch.name: patch.stats() for patch in PATCHES}
