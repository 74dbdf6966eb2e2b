"""`FastAxolotlPlugin`: Axolotl calls `register(cfg)` first, before the config is validated
and before any data is loaded, which is where the patches go in."""

from __future__ import annotations

import logging

from axolotl.integrations.base import BasePlugin

from .patches import install, uninstall

LOG = logging.getLogger(__name__)


class FastAxolotlPlugin(BasePlugin):
    """Installs fast-axolotl's patches (see `fast_axolotl.axolotl.stats()` for their use)."""

    def register(self, cfg):
        LOG.info("fast-axolotl patches: %s", install())

    def on_config_validation_error(self, cfg):
        # Axolotl asks plugins to undo what register() did when it rejects the config.
        LOG.info("fast-axolotl patches: %s", uninstall())
