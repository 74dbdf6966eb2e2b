"""fast-axolotl inside Axolotl: patches that swap Axolotl's data-pipeline functions for the
Rust kernels, with identical results, and the plugin that installs them.

`import fast_axolotl` installs them (hook.py): at once for the Axolotl modules already
imported, the others as Axolotl imports them. In an Axolotl config, `plugins:
[fast_axolotl.axolotl.FastAxolotlPlugin]` does it in every process Axolotl starts, `axolotl
train`'s relaunched one included, and adds the config keys (plugin.py). By hand: `install()`
and `uninstall()`. FAST_AXOLOTL_DISABLE=1 turns all of it off. Importing this package does
not import Axolotl.
"""

from __future__ import annotations

from .fallback import Fallback
from .patches import install, stats, summary, uninstall
from .registry import PATCHES
from .settings import settings

__all__ = ["FastAxolotlPlugin", "PATCHES", "Fallback", "install", "uninstall", "stats", "summary", "settings"]


def __getattr__(name: str):
    # The plugin subclasses Axolotl's BasePlugin: defined on first access only (PEP 562).
    if name == "FastAxolotlPlugin":
        from .plugin import FastAxolotlPlugin

        return FastAxolotlPlugin
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
