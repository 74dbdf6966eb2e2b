"""What a fast path raises to hand a call back to the original: `Fallback` for an input it
does not model, `Off` when a setting turns it off, and `DECLINED`, every exception that
makes a patch run the original instead."""

from __future__ import annotations

import os


class Fallback(Exception):
    """Raised by a fast path for an input it does not model: the original runs instead."""


class Off(Exception):
    """Raised by a fast path that a setting turns off (the loader without
    `dataset_use_rust_streaming`): the original runs, and that is not a fallback."""


# What a fast path raises for an input it does not handle: its own refusal, or a kernel's
# ValueError/TypeError for an unsupported input (the original then decides what is valid).
DECLINED = (Fallback, ValueError, TypeError)


def strict() -> bool:
    """FAST_AXOLOTL_STRICT set (to anything but "" or "0"): a ValueError or TypeError from a
    fast path propagates instead of running the original. Only a declared `Fallback` still
    falls back: a bug that raises one of those errors fails instead of hiding (for tests)."""
    return os.environ.get("FAST_AXOLOTL_STRICT", "") not in ("", "0")
