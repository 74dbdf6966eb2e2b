"""`python -m fast_axolotl`: the `fast-axolotl` command."""

import sys

from .cli import main

sys.exit(main())
