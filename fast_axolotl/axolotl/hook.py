"""`import fast_axolotl` patches Axolotl: at once for the Axolotl modules already imported,
and through an import hook for the ones imported later.

The hook is a meta-path finder for the modules that define patched functions. It lets the
usual finders find such a module and wraps the loader they return: once the module has been
executed (its functions exist, and no one has copied them yet), the module's patches go in.
The wrapper hands the module back to the real loader before it executes, so the module's
`__loader__` and `__spec__.loader` are the usual ones. Nothing is imported ahead of Axolotl
and no module object is made here.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Optional, cast

from . import registry
from .settings import disabled, settings

if TYPE_CHECKING:
    from importlib.abc import Loader

LOG = logging.getLogger(__name__)


class _PatchingLoader:
    """The real loader, plus `install_module` once the module has been executed (the two
    methods the import system calls; not an importlib.abc.Loader, whose import is slow)."""

    def __init__(self, loader, install_module=None):
        self.loader = loader
        self.install_module = install_module

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__spec__.loader = module.__loader__ = self.loader
        self.loader.exec_module(module)
        _install(module.__name__, self.install_module)


class PatchFinder:
    """Finds nothing itself: wraps the loader other finders return for the target modules.
    A subclass hooks another library's patches (fast_axolotl.trl) with its `install_module`."""

    install_module = staticmethod(registry.install_module)

    def __init__(self, targets: frozenset):
        self.targets = targets

    def find_spec(self, fullname, path, target=None):
        if fullname not in self.targets:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if hasattr(spec.loader, "exec_module"):
                    # Not a Loader subclass (see _PatchingLoader), but the import system's use of one.
                    spec.loader = cast("Loader", _PatchingLoader(spec.loader, self.install_module))
                return spec
        return None


def _install(module: str, install_module=None) -> None:
    """Patch a freshly executed module; an import never fails because of a patch."""
    try:
        outcomes = (install_module or registry.install_module)(module)
    except Exception as error:  # noqa: BLE001 - the module itself imported fine
        LOG.warning("fast-axolotl: patching %s failed (%s: %s)", module, type(error).__name__, error)
        return
    LOG.debug("fast-axolotl patches of %s: %s", module, outcomes)


def _finder(kind: Optional[type[PatchFinder]] = None) -> Optional[PatchFinder]:
    kind = kind or PatchFinder
    return next((f for f in sys.meta_path if type(f) is kind), None)


def _loaded(name: str) -> bool:
    """Imported and done executing (a module being imported has `_initializing` set)."""
    module = sys.modules.get(name)
    spec = getattr(module, "__spec__", None)
    return module is not None and not getattr(spec, "_initializing", False)


def activate() -> None:
    """What `import fast_axolotl` does: patch the target modules already imported and hook
    the import of the others (fast_axolotl's __init__ calls this when Axolotl is installed).
    Nothing with FAST_AXOLOTL_DISABLE set or after `fast_axolotl: false`; twice is once."""
    if disabled() or not settings.fast_axolotl:
        return
    hook(PatchFinder, registry.PATCHES)


def hook(kind: type[PatchFinder], patch_list) -> None:
    """Patch the modules of `patch_list` already imported, and hook the import of the others
    with a finder of class `kind` (whose `install_module` installs them); twice is once."""
    targets = frozenset(patch.module for patch in patch_list)
    with registry._LOCK:
        if _finder(kind) is None:
            sys.meta_path.insert(0, kind(targets))
        for module in sorted(targets):
            if _loaded(module):
                _install(module, kind.install_module)


def deactivate(kind: Optional[type[PatchFinder]] = None) -> None:
    """Remove the hook (the patches it installed stay until `uninstall()`)."""
    with registry._LOCK:
        finder = _finder(kind)
        if finder is not None:
            sys.meta_path.remove(finder)


def active(kind: Optional[type[PatchFinder]] = None) -> bool:
    return _finder(kind) is not None
