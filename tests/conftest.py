from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import fast_axolotl.axolotl

# `import fast_axolotl` patches Axolotl (now, or through an import hook when Axolotl is
# imported): tests start from Axolotl's own objects, and install the patches they test.
fast_axolotl.axolotl.uninstall()

REPO = Path(__file__).resolve().parent.parent

# FAST_AXOLOTL_STRICT=1 (fast_axolotl/axolotl/fallback.py), for this process and the ones it
# starts: a patch's fast path that raises ValueError/TypeError (a bug, or an input a kernel
# refuses) fails the test instead of silently running the original; a declared `Fallback`
# still falls back. A test that asserts such a fallback opts out with `not_strict`.
os.environ.setdefault("FAST_AXOLOTL_STRICT", "1")


@pytest.fixture
def not_strict(monkeypatch):
    """Patches fall back on a fast path's ValueError/TypeError, as they do for users."""
    monkeypatch.setenv("FAST_AXOLOTL_STRICT", "0")


# The real tokenizers' fixtures (llama3_tokenizer, qwen_tokenizer, ...), for every module.
pytest_plugins = ["tokenizer_fixtures"]


def run(cmd, **kwargs) -> subprocess.CompletedProcess:
    """Run a command, capture its output as text, and never read stdin."""
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    return subprocess.run(cmd, stdin=subprocess.DEVNULL, **kwargs)


def run_python(code: str, env=None) -> subprocess.CompletedProcess:
    """Run `code` in a fresh interpreter: a crash there cannot take the test run down."""
    return run([sys.executable, "-c", code], env=env)


# The test tiers (pyproject.toml lists the markers; scripts/test.sh runs each tier in turn).
# Whole modules get their tier here; a test elsewhere that needs Axolotl or torch carries
# `@pytest.mark.axolotl` itself. Unmarked tests are the fast tier: `pytest` alone runs them,
# and they need neither Axolotl, torch nor Ray.
MODULE_TIERS = {
    "test_axolotl_collators.py": "axolotl",
    "test_axolotl_import_hook.py": "axolotl",
    "test_axolotl_loader.py": "axolotl",
    "test_axolotl_patches.py": "axolotl",
    "test_axolotl_stages.py": "axolotl",
    "test_chat_template_render.py": "axolotl",  # Axolotl's bundled templates are the inputs
    "test_tokenize_abi.py": "axolotl",
    "test_tokenize_chat.py": "axolotl",
    "test_tokenize_strategies.py": "axolotl",
    "test_trl.py": "axolotl",
    "test_torch_loader.py": "axolotl",
    "test_axolotl_e2e.py": "e2e",
    "test_axolotl_own_tests.py": "e2e",
    "test_ray.py": "ray",
    "test_release.py": "release",
    "test_packaging.py": "release",
    "test_memory.py": "memory",
    "test_bench.py": "slow",
    "test_scale.py": "slow",
    "test_fuzz_rust.py": "slow",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        tier = MODULE_TIERS.get(item.path.name)
        if tier is not None:
            item.add_marker(getattr(pytest.mark, tier))


def compile_c(source, exe, cc_flags=(), required: bool = False):
    """Compiles and links the C program `source` against the library the tests load, with the
    header installed next to it (the one that matches it). Without a C compiler: a failure
    when `required`, else a skip."""
    import shutil

    from fast_axolotl import _native

    cc = shutil.which("cc")
    if cc is None:
        if required:
            pytest.fail("a C compiler (cc) is needed")
        pytest.skip("no C compiler")
    lib = _native.library_path()
    cmd = [cc, "-std=c99", "-Wall", "-Werror", "-g", *cc_flags, "-I", str(lib.parent), str(source), str(lib)]
    result = run([*cmd, f"-Wl,-rpath,{lib.parent}", "-o", str(exe)])
    assert result.returncode == 0, result.stderr
    return exe


@pytest.fixture(scope="session")
def native():
    from fast_axolotl import _native

    return _native
