"""fast-axolotl inside TRL (custom trainers): patches that swap TRL 1.9's data functions for
the Rust kernels, with identical results.

- `trl.data_utils.pack_dataset`, strategies "bfd", "bfd_split" and "wrapped" (_trl_pack.py);
- `DataCollatorForLanguageModeling.torch_call`, which its `__call__` runs (_trl_collate.py).

`import fast_axolotl` installs them when TRL is installed, as it does Axolotl's: at once for
the TRL modules already imported, the others as they are imported (the same import hook and
patch machinery as fast_axolotl.axolotl). By hand: `install()` and `uninstall()` (the very
same objects back). FAST_AXOLOTL_DISABLE=1 turns all of it off. Calls a fast path does not
model run TRL's own function and are counted as fallbacks in `stats()` (and
`fast_axolotl.stats()`). Importing this module imports neither TRL nor the native library.
"""

from __future__ import annotations

import importlib.util

from .axolotl import hook
from .axolotl.registry import _LOCK, Patch
from .axolotl.settings import disabled

__all__ = ["PATCHES", "install", "uninstall", "stats"]

DATA_UTILS, SFT_TRAINER = "trl.data_utils", "trl.trainer.sft_trainer"
PATCHES = (
    # sft_trainer.py and trl/__init__ import pack_dataset by name: the rebinding covers them.
    Patch(
        "trl_pack_dataset",
        DATA_UTILS,
        "pack_dataset",
        "fast_axolotl._trl_pack:pack_dataset",
        rows="fast_axolotl._trl_pack:rows",
        package="trl",
    ),
    # __call__ (DataCollatorMixin's) runs torch_call for return_tensors="pt", the only type TRL supports.
    Patch(
        "trl_collator",
        SFT_TRAINER,
        "DataCollatorForLanguageModeling.torch_call",
        "fast_axolotl._trl_collate:torch_call",
        package="trl",
    ),
)


def install_module(module: str) -> dict[str, str]:
    """Apply the patches of one TRL module (the import hook calls this once it is executed)."""
    with _LOCK:
        return {patch.name: patch.install() for patch in PATCHES if patch.module == module}


class TrlPatchFinder(hook.PatchFinder):
    """The import hook for TRL's modules."""

    install_module = staticmethod(install_module)


def _trl_installed() -> bool:
    try:
        return importlib.util.find_spec("trl") is not None
    except (ImportError, ValueError):  # sys.modules["trl"] is None, or has no spec
        return False


def install() -> dict[str, str]:
    """Apply every patch that can apply; idempotent. Returns each patch's outcome:
    "installed", "already active" or "skipped: <why>"."""
    if disabled():
        return {patch.name: "skipped: FAST_AXOLOTL_DISABLE is set" for patch in PATCHES}
    if not _trl_installed():
        return {patch.name: "skipped: TRL is not installed" for patch in PATCHES}
    with _LOCK:
        return {patch.name: patch.install() for patch in PATCHES}


def uninstall() -> dict[str, str]:
    """Put TRL's own objects back and remove the import hook."""
    with _LOCK:
        hook.deactivate(TrlPatchFinder)
        return {patch.name: patch.uninstall() for patch in PATCHES}


def activate() -> None:
    """What `import fast_axolotl` does with TRL installed: patch the TRL modules already
    imported and hook the import of the others."""
    if not disabled() and _trl_installed():
        hook.hook(TrlPatchFinder, PATCHES)


def stats() -> dict[str, dict]:
    """Per patch, as `fast_axolotl.axolotl.stats()`: `active`, `calls`, `rows`, `seconds`,
    `fallbacks`, `last_fallback`."""
    return {patch.name: patch.stats() for patch in PATCHES}


def used() -> bool:
    """Whether any patch is active or was called (`fast_axolotl.stats()` then lists them)."""
    return any(s["active"] or s["calls"] or s["fallbacks"] for s in stats().values())
