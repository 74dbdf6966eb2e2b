"""fast-axolotl inside Axolotl: patches that swap Axolotl's data-pipeline functions for the
Rust kernels, with identical results, and the plugin that installs them.

In an Axolotl config: `plugins: [fast_axolotl.axolotl.FastAxolotlPlugin]` (the plugin runs in
every process Axolotl starts, `axolotl train`'s relaunched one included). By hand:
`fast_axolotl.axolotl.install()`. Importing this package does not import Axolotl; `install()`
and `FastAxolotlPlugin` do.
"""

from __future__ import annotations

from .patches import PATCHES, Fallback, install, stats, uninstall

__all__ = ["FastAxolotlPlugin", "PATCHES", "Fallback", "install", "uninstall", "stats"]


def __getattr__(name: str):
    # The plugin subclasses Axolotl's BasePlugin: defined on first access only (PEP 562).
    if name == "FastAxolotlPlugin":
        from .plugin import FastAxolotlPlugin

        return FastAxolotlPlugin
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
