"""The settings the patches read in this process: the plugin's config keys, as its
register(cfg) read them (their defaults hold without the plugin), and FAST_AXOLOTL_DISABLE.

`Settings` is the one table of those keys, their types and defaults: the plugin's config
model (plugin.FastAxolotlArgs) is made from it."""

from __future__ import annotations

import os
from typing import Any, Literal


def disabled() -> bool:
    """FAST_AXOLOTL_DISABLE set (to anything but "" or "0") turns every patch off."""
    return os.environ.get("FAST_AXOLOTL_DISABLE", "") not in ("", "0")


class Settings:
    """The plugin's config keys (plugin.FastAxolotlArgs), as its register(cfg) read them;
    the defaults hold without the plugin."""

    fast_axolotl: bool = True  # False: nothing is patched
    # "bfd": the pack_parallel patch packs best-fit decreasing
    fast_axolotl_packing: Literal["first_fit", "bfd"] = "first_fit"
    dataset_use_rust_streaming: bool = False  # read by the loader patch

    def __init__(self) -> None:
        self.reset()

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))

    def reset(self) -> None:
        vars(self).update(defaults())


def defaults() -> dict[str, Any]:
    """Each config key and its default, in the order of the table."""
    return {key: getattr(Settings, key) for key in Settings.__annotations__}


settings = Settings()
