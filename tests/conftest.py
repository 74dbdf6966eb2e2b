from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import fast_axolotl.axolotl

# `import fast_axolotl` patches Axolotl (now, or through an import hook when Axolotl is
# imported): tests start from Axolotl's own objects, and install the patches they test.
fast_axolotl.axolotl.uninstall()

REPO = Path(__file__).resolve().parent.parent


def run(cmd, **kwargs) -> subprocess.CompletedProcess:
    """Run a command, capture its output as text, and never read stdin."""
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, **kwargs)


def run_python(code: str, env=None) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter: a crash there cannot take the test run down."""
    return run([sys.executable, "-c", code], env=env)


@pytest.fixture(scope="session")
def native():
    from fast_axolotl import _native

    return _native
