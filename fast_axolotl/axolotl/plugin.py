"""`FastAxolotlPlugin`: Axolotl calls `register(cfg)` first, before the config is validated
and before any data is loaded, which is where the patches go in (importing this module
has already patched the Axolotl modules loaded so far: see hook.py).

Config keys (`FastAxolotlArgs`, merged into Axolotl's config model):
- `fast_axolotl: false` turns every patch off;
- `fast_axolotl_packing: bfd` makes the multipack sampler's bins best-fit decreasing (fewer,
  fuller bins); the default "first_fit" gives Axolotl's own bins;
- `dataset_use_rust_streaming: true` lets the loader patch read local files itself.
"""

from __future__ import annotations

import logging
from typing import get_type_hints

from axolotl.integrations.base import BasePlugin
from pydantic import ValidationError, create_model

from .patches import SUMMARY_LOG, install, log_summary, uninstall
from .settings import Settings, defaults, settings

LOG = logging.getLogger(__name__)


# fast-axolotl's config keys: the pydantic model of settings.Settings' keys, types and defaults.
_TYPES = get_type_hints(Settings)
FastAxolotlArgs = create_model(
    "FastAxolotlArgs",
    __doc__="fast-axolotl's config keys.",
    **{key: (_TYPES[key], default) for key, default in defaults().items()},
)


class FastAxolotlPlugin(BasePlugin):
    """Installs fast-axolotl's patches (see `fast_axolotl.stats()` for their use)."""

    def get_input_args(self) -> str:
        return f"{FastAxolotlArgs.__module__}.{FastAxolotlArgs.__name__}"

    def register(self, cfg):
        if not _read_settings(cfg):
            uninstall()  # Axolotl rejects the config next
        elif not settings.fast_axolotl:
            uninstall()
            SUMMARY_LOG.info("fast-axolotl: off (fast_axolotl: false): Axolotl's own functions run")
        else:
            _report(install())

    def on_config_validation_error(self, cfg):
        # Axolotl asks plugins to undo what register() did when it rejects the config.
        settings.reset()
        LOG.info("fast-axolotl patches: %s", uninstall())

    def post_train_unload(self, cfg):
        log_summary()


def _read_settings(cfg) -> bool:
    """Our keys of the (not yet validated) config into `settings`, read as Axolotl's
    validation will read them; False if they are invalid."""
    ours = {key: cfg[key] for key in FastAxolotlArgs.model_fields if cfg.get(key) is not None}
    try:
        args = FastAxolotlArgs(**ours)
    except ValidationError:
        return False
    for key, value in args.model_dump().items():
        setattr(settings, key, value)
    return True


def _report(outcomes: dict) -> None:
    skipped = {name: why for name, why in outcomes.items() if why.startswith("skipped")}
    SUMMARY_LOG.info(
        "fast-axolotl: %d patches active, %s%s",
        len(outcomes) - len(skipped),
        settings.as_dict(),
        f"; skipped: {skipped}" if skipped else "",
    )
