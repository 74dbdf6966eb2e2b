"""The patch registry: `Patch`, the machinery that installs and uninstalls one patch (the
fast path guarded by its fallback, rebound where Axolotl holds the original, its counts),
and `PATCHES`, the record of every Axolotl patch.

Nothing here imports Axolotl or a kernel at import time: `Patch.install` does (called by
patches.install() or by the import hook in hook.py, when Axolotl imports the module a patch
targets), so that `import fast_axolotl` cannot change how Axolotl itself imports.
"""

from __future__ import annotations

import functools
import importlib
import logging
import sys
import threading
import time
from collections.abc import Mapping
from typing import Callable, Optional, cast

from .fallback import DECLINED, Fallback, Off, strict

# The logger these messages always had (they were written by patches.py).
LOG = logging.getLogger("fast_axolotl.axolotl.patches")

# Called whenever a patch goes in: patches.py adds the run summary's at-exit registration
# (the summary reads this registry, so the registry does not import it).
ON_INSTALL: list[Callable[[], None]] = []


def _call_original(original: Callable, *args, **kwargs):
    """The default fallback: the original, with the call's own arguments."""
    return original(*args, **kwargs)


def _load(spec: str) -> Callable:
    """'module:function', the module relative to this package (or absolute, for the patches
    of other libraries: 'fast_axolotl.x:function')."""
    module, _, name = spec.partition(":")
    module = module if module.startswith("fast_axolotl.") else f".{module}"
    return getattr(importlib.import_module(module, __package__), name)


def _in_package(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def first_length(*args, **kwargs) -> int:
    """The default row count of a call: the length of its first positional argument that has
    one and is not a mapping (a config) or a string: the dataset, the list of lengths."""
    for arg in args:
        if hasattr(arg, "__len__") and not isinstance(arg, (Mapping, str, bytes)):
            return len(arg)
    return 0


class Patch:
    """Replaces `module.attribute` with the function `fast` ('module:function' in this
    package, loaded by `install`), guarded: when `fast` declines a call, `fallback(original,
    *args, **kwargs)` runs (default: the original with the same arguments). `rows(*args,
    **kwargs)` ('module:function', default `first_length`) says how many rows a call
    handled, for `stats()`."""

    def __init__(
        self,
        name: str,
        module: str,
        attribute: str,
        fast: str,
        fallback: Optional[str] = None,
        rows: Optional[str] = None,
        local: bool = False,
        package: str = "axolotl",
    ):
        self.name, self.module, self.attribute = name, module, attribute
        # The library whose modules `_rebind` looks through (fast_axolotl.trl patches TRL).
        self.package = package
        # local: rebind in `module` only (a library function that other modules import too).
        self.local = local
        self._fast, self._fallback, self._rows = fast, fallback, rows
        self.original: Optional[Callable] = None
        self.replacement: Optional[Callable] = None
        self.calls = self.rows = self.fallbacks = 0
        # Rows inside calls the fast path handled that it left to Axolotl's own code.
        self.fallback_rows = 0
        self.seconds = 0.0
        self.last_fallback: Optional[str] = None
        self._lock = threading.Lock()

    def install(self) -> str:
        if self.replacement is not None:
            return "already active"
        try:
            owner = self._owner()
        except Exception as error:  # an Axolotl without this module, or one that fails to import
            return f"skipped: {self.module} unavailable ({type(error).__name__}: {error})"
        if self.replacement is not None:  # importing the module ran the import hook, which installed it
            return "installed"
        original = getattr(owner, self._name, None)
        if original is None:  # an Axolotl without this function
            return f"skipped: {self.module}.{self.attribute} unavailable"
        try:
            replacement = self._guarded(original)
        except Exception as error:  # the native library is missing or does not match, say
            LOG.warning("fast-axolotl: %s not patched (%s: %s)", self.name, type(error).__name__, error)
            return f"skipped: fast path unavailable ({type(error).__name__}: {error})"
        self.original, self.replacement = original, replacement
        self._rebind(original, replacement)
        for on_install in ON_INSTALL:
            on_install()
        return "installed"

    def uninstall(self) -> str:
        if self.replacement is None:
            return "not active"
        self._rebind(self.replacement, cast(Callable, self.original))  # set with the replacement
        self.original = self.replacement = None
        return "uninstalled"

    def stats(self) -> dict:
        """`calls`: calls the fast path handled, `rows`: the rows (or sequences, or features)
        in them, `seconds`: the time they took; `fallbacks`: calls that ran the original;
        `fallback_rows`: rows of handled calls that ran Axolotl's own code."""
        with self._lock:
            return {
                "active": self.replacement is not None,
                "calls": self.calls,
                "rows": self.rows,
                "seconds": self.seconds,
                "fallbacks": self.fallbacks,
                "fallback_rows": self.fallback_rows,
                "last_fallback": self.last_fallback,
            }

    def _guarded(self, original: Callable) -> Callable:
        fast = _load(self._fast)
        fallback = _load(self._fallback) if self._fallback else _call_original
        count_rows = _load(self._rows) if self._rows else first_length

        @functools.wraps(original, updated=())  # not the __dict__ of a numba dispatcher
        def replacement(*args, **kwargs):
            start = time.perf_counter()
            try:
                result = fast(*args, **kwargs)
            except Off:
                return original(*args, **kwargs)
            except DECLINED as why:
                if strict() and not isinstance(why, Fallback):
                    raise
                self._count_fallback(why)
                return fallback(original, *args, **kwargs)
            self._count_call(time.perf_counter() - start, _rows_of(count_rows, args, kwargs))
            return result

        replacement.__fast_axolotl_patch__ = self.name  # type: ignore[attr-defined]  # who installed it
        return replacement

    def _count_call(self, seconds: float, rows: int) -> None:
        with self._lock:
            self.calls += 1
            self.rows += rows
            self.seconds += seconds

    def count_fallback_rows(self, rows: int) -> None:
        with self._lock:
            self.fallback_rows += rows

    def _count_fallback(self, why: Exception) -> None:
        reason = f"{type(why).__name__}: {why}"
        with self._lock:
            self.fallbacks += 1
            self.last_fallback = reason
            first = self.fallbacks == 1
        # Once a patch, loud; a collator may fall back on every batch (the summary counts them).
        LOG.log(
            logging.WARNING if first else logging.DEBUG,
            "fast-axolotl: %s fell back to the original function (%s)",
            self.name,
            reason,
        )

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
        if "." in self.attribute or self.local:
            owner = self._owner()
            if owner.__dict__.get(self._name) is old:
                setattr(owner, self._name, new)
            return
        for name, module in list(sys.modules.items()):
            if _in_package(name, self.package) and getattr(module, "__dict__", {}).get(self.attribute) is old:
                setattr(module, self.attribute, new)


def _rows_of(count_rows: Callable, args: tuple, kwargs: dict) -> int:
    """Rows are statistics: a call the fast path handled never fails over counting them."""
    try:
        return int(count_rows(*args, **kwargs))
    except (TypeError, ValueError, KeyError, IndexError, AttributeError):
        return 0


DATA_UTILS, MULTIPACK, SAMPLER_UTILS, BATCHING, STREAMING = (
    "axolotl.utils.data.utils",
    "axolotl.utils.samplers.multipack",
    "axolotl.utils.samplers.utils",
    "axolotl.utils.collators.batching",
    "axolotl.utils.data.streaming",
)
# Each: name, the module that defines the function, its name (or "Class.method"), our fast
# path (and fallback, and row count).
FEATURES = "collators:feature_count"  # a collator's rows: the features of the batch
PATCHES = (
    Patch("dedupe", DATA_UTILS, "_deduplicate_dataset", "dedupe:deduplicate", "dedupe:fallback"),
    Patch("pack_parallel", MULTIPACK, "pack_parallel", "strategy:pack_parallel"),  # first fit, or BFD if configured
    Patch("allocate_sequentially", MULTIPACK, "allocate_sequentially", "multipack:allocate_sequentially"),
    Patch("get_dataset_lengths", SAMPLER_UTILS, "get_dataset_lengths", "lengths:get_dataset_lengths"),
    # Collator classes are imported by name (core/builders/causal.py): patch the classes' __call__.
    Patch("seq2seq_collator", BATCHING, "DataCollatorForSeq2Seq.__call__", "collators:collate", rows=FEATURES),
    Patch(
        "v1_collator",
        BATCHING,
        "BatchSamplerDataCollatorForSeq2Seq.__call__",
        "collators:collate_v1_bins",
        rows=FEATURES,
    ),
    Patch(
        "v2_collator",
        BATCHING,
        "V2BatchSamplerDataCollatorForSeq2Seq.__call__",
        "collators:collate_bins",
        rows=FEATURES,
    ),
    Patch(
        "pretraining_collator",
        BATCHING,
        "PretrainingBatchSamplerDataCollatorForSeq2Seq.__call__",
        "collators:collate_pretraining",
        rows=FEATURES,
    ),
    Patch("encode_streaming", STREAMING, "encode_streaming", "streaming:encode_streaming", rows="streaming:texts"),
    # The per-row filter/map passes of preprocessing (stages.py); process_datasets_for_packing
    # is imported by name (utils/data/sft.py): the rebinding covers it.
    Patch("drop_outside_range", DATA_UTILS, "_drop_outside_range", "stages:drop_outside_range"),
    Patch("filter_short_sequences", DATA_UTILS, "_filter_short_sequences", "stages:filter_short_sequences"),
    Patch("truncate_long_sequences", DATA_UTILS, "_truncate_long_sequences", "stages:truncate_long_sequences"),
    Patch(
        "process_datasets_for_packing",
        "axolotl.utils.trainer",
        "process_datasets_for_packing",
        "stages:process_datasets_for_packing",
    ),
    # The tokenization map of a prompt strategy (the class is imported by name: patch its method).
    Patch(
        "tokenize_prompts",
        "axolotl.datasets",
        "TokenizedPromptDataset.process",
        "tokenization:process",
        rows="tokenization:rows",
    ),
    # Local files through the Rust reader, only with `dataset_use_rust_streaming: true`.
    Patch("local_loader", "axolotl.utils.data.shared", "_load_from_local_path", "loader:load_from_local_path"),
    # sft.py's own binding of datasets.load_dataset (pretraining streams through it).
    Patch("streaming_loader", "axolotl.utils.data.sft", "load_dataset", "loader:load_streaming", local=True),
    # The whole of generate_batches (__len__ and __iter__ call it): the Python around the packer
    # (sampler.py).
    Patch(
        "sampler_batches",
        MULTIPACK,
        "MultipackBatchSampler.generate_batches",
        "sampler:generate_batches",
        "sampler:generate_batches_fallback",
        rows="sampler:sampler_rows",
    ),
    # __len__'s repeated draws count bins without making the batches they drop.
    Patch(
        "sampler_len", MULTIPACK, "MultipackBatchSampler.__len__", "sampler:sampler_len", rows="sampler:sampler_rows"
    ),
)

# Reentrant: installing a patch imports its module, and the import hook installs that
# module's patches from inside that import.
_LOCK = threading.RLock()


def install_module(module: str) -> dict[str, str]:
    """Apply the patches of one Axolotl module (the import hook calls this once the module
    has been executed)."""
    with _LOCK:
        return {patch.name: patch.install() for patch in PATCHES if patch.module == module}


def count_fallback_rows(name: str, rows: int) -> None:
    """Counts rows that patch `name` left to Axolotl's code inside a call it handled."""
    next(patch for patch in PATCHES if patch.name == name).count_fallback_rows(rows)
