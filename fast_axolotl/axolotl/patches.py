"""The patches as a whole: `install()` and `uninstall()` every Axolotl patch (unless
FAST_AXOLOTL_DISABLE, `fast_axolotl: false` or no Axolotl says otherwise), their `stats()`,
and the run summary logged from them (at exit, and by the plugin after training).

The fallback types (fallback.py), the settings (settings.py) and the registry of patches
(registry.py) have modules of their own; their public names are importable from here too.
"""

from __future__ import annotations

import atexit
import importlib.util
import logging
from typing import Any

# The `X as X` names: this module's before fallback.py, settings.py and registry.py had
# them, still importable from here (the package's own modules import them from those).
from . import registry
from .fallback import DECLINED as DECLINED
from .fallback import Fallback as Fallback
from .fallback import Off as Off
from .registry import _LOCK, PATCHES
from .registry import BATCHING as BATCHING
from .registry import DATA_UTILS as DATA_UTILS
from .registry import FEATURES as FEATURES
from .registry import LOG as LOG
from .registry import MULTIPACK as MULTIPACK
from .registry import SAMPLER_UTILS as SAMPLER_UTILS
from .registry import STREAMING as STREAMING
from .registry import Patch as Patch
from .registry import count_fallback_rows as count_fallback_rows
from .registry import first_length as first_length
from .registry import install_module as install_module
from .settings import Settings as Settings
from .settings import disabled, settings

# The run summary goes to a logger under "axolotl": Axolotl's logging setup shows INFO lines
# of its own namespace only (other loggers' INFO lines are filtered out).
SUMMARY_LOG = logging.getLogger("axolotl.integrations.fast_axolotl")
# Its own level, as Axolotl's loggers have (axolotl.utils.logging.get_logger): accelerate's
# get_logger sets the *root* level to $ACCELERATE_LOG_LEVEL (Axolotl sets it to WARNING), which
# would otherwise drop the line; the handlers still decide what is shown.
SUMMARY_LOG.setLevel(logging.INFO)


def _axolotl_installed() -> bool:
    try:
        return importlib.util.find_spec("axolotl") is not None
    except (ImportError, ValueError):
        return False


def install() -> dict[str, str]:
    """Apply every patch that can apply; idempotent. Returns each patch's outcome:
    "installed", "already active" or "skipped: <why>"."""
    if disabled():
        return {patch.name: "skipped: FAST_AXOLOTL_DISABLE is set" for patch in PATCHES}
    if not settings.fast_axolotl:
        return {patch.name: "skipped: fast_axolotl: false in the config" for patch in PATCHES}
    if not _axolotl_installed():
        return {patch.name: "skipped: Axolotl is not installed" for patch in PATCHES}
    with _LOCK:
        return {patch.name: patch.install() for patch in PATCHES}


def uninstall() -> dict[str, str]:
    """Put the original objects back and remove the import hook; returns each patch's
    outcome ("uninstalled" or "not active")."""
    from . import hook

    with _LOCK:
        hook.deactivate()
        return {patch.name: patch.uninstall() for patch in PATCHES}


def stats() -> dict[str, dict]:
    """Per patch: `active`, `calls`, `rows`, `seconds`, `fallbacks` (since import) and
    `last_fallback` (see `Patch.stats`)."""
    return {patch.name: patch.stats() for patch in PATCHES}


def summary() -> str:
    """One line: what each patch that was called did."""
    parts = []
    for name, s in stats().items():
        if s["calls"] or s["fallbacks"]:
            part = f"{name} {s['calls']} calls / {s['rows']} rows / {s['seconds']:.3f} s"
            part += f" ({s['fallbacks']} fallbacks)" if s["fallbacks"] else ""
            parts.append(part + (f" ({s['fallback_rows']} rows by Axolotl)" if s["fallback_rows"] else ""))
    return "fast-axolotl: " + ("; ".join(parts) if parts else "no patched function was called")


_summary: dict[str, Any] = {"registered": False, "logged": None}


def log_summary() -> None:
    """Log the summary at INFO, unless no patched function was called (a process that only
    launches others, say) or nothing changed since it was last logged."""
    counts = [(s["calls"], s["fallbacks"]) for s in stats().values()]
    if any(calls or fallbacks for calls, fallbacks in counts) and counts != _summary["logged"]:
        _summary["logged"] = counts
        SUMMARY_LOG.info(summary())


def _summary_at_exit() -> None:
    """Once a patch went in, the process ends with the summary line (see log_summary)."""
    if not _summary["registered"]:
        _summary["registered"] = True
        atexit.register(_log_summary_at_exit)


def _log_summary_at_exit() -> None:
    """At exit a handler's stream may already be closed (pytest closes its captured streams
    first): then the line has nowhere to go, and logging would print a traceback instead."""
    raise_exceptions, logging.raiseExceptions = logging.raiseExceptions, False
    try:
        log_summary()
    finally:
        logging.raiseExceptions = raise_exceptions


registry.ON_INSTALL.append(_summary_at_exit)
