"""Release artifacts and documentation: `python -m build` makes an sdist with everything the
Rust build needs and a wheel built from that sdist, both pass `twine check`, the wheel
installs and runs in a fresh venv; the C example in docs/c-abi.md compiles and runs.

The sdist→wheel build compiles the Rust library and its crates from the unpacked sdist
(sources from cargo's cache, no network), so this module is the slow one of the suite:
minutes, nearly all of it cargo.
"""

from __future__ import annotations

import os
import re
import sys
import tarfile
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest
from conftest import REPO, compile_c, run
from test_packaging import check_bench_runs, check_imports_and_runs, check_wheel, install_in_fresh_venv, venv_env

import fast_axolotl

BUILD_TIMEOUT = 3600
# This module checks what the artifacts hold and that they install, not how fast the library
# is: the sdist is built with scripts/test.sh's profile (no LTO, 16 codegen units; a real
# release uses rust/Cargo.toml's profile as is) into the checkout's rust/target, so the crates
# the test build compiled are reused and only fastaxo itself compiles again.
QUICK_PROFILE = {
    "CARGO_PROFILE_RELEASE_LTO": "false",
    "CARGO_PROFILE_RELEASE_CODEGEN_UNITS": "16",
    "CARGO_TARGET_DIR": str(REPO / "rust" / "target"),
}


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict:
    """sdist and wheel from `python -m build` (the wheel is built from the sdist). No build
    isolation: the build dependencies (hatchling, cffi) come from this venv, not from PyPI."""
    out = tmp_path_factory.mktemp("dist")
    cmd = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(REPO)]
    built = run(cmd, timeout=BUILD_TIMEOUT, env={**os.environ, **QUICK_PROFILE})
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (sdist,) = out.glob("*.tar.gz")
    (wheel,) = out.glob("*.whl")
    return {"sdist": sdist, "wheel": wheel}


def tracked_files(folder: str) -> set[str]:
    """Files git tracks under `folder` (read-only git query), relative to the repo."""
    listed = run(["git", "ls-files", folder], cwd=REPO)
    assert listed.returncode == 0, listed.stderr
    return set(listed.stdout.split())


def test_sdist_holds_the_rust_build(dist):
    with tarfile.open(dist["sdist"]) as tar:
        prefix = f"fast_axolotl-{fast_axolotl.__version__}/"
        names = {n.removeprefix(prefix) for n in tar.getnames()}
    # What `cargo build --locked -p fastaxo` reads: the workspace manifest and lock file, the
    # crate's sources and the workspace's other member (rust/fuzz is not part of the build).
    rust_build = (
        tracked_files("rust/src")
        | tracked_files("rust/gen-header")
        | tracked_files("rust/gen-unicode")
        | {"rust/Cargo.toml", "rust/Cargo.lock"}
    )
    assert {"rust/src/lib.rs", "rust/gen-header/Cargo.toml", "rust/gen-unicode/Cargo.toml"} <= rust_build
    assert rust_build <= names, f"missing from the sdist: {sorted(rust_build - names)}"
    needed = {
        "include/fastaxo.h",
        "build_hooks/cargo_build.py",
        "pyproject.toml",
        "LICENSE",
        "README.md",
        "fast_axolotl/py.typed",
    }
    assert needed <= names, f"missing from the sdist: {sorted(needed - names)}"
    assert not any(n.startswith("rust/target/") or n.endswith(".so") for n in names)


def test_wheel_from_sdist_has_library_and_metadata(dist):
    check_wheel(dist["wheel"])
    with zipfile.ZipFile(dist["wheel"]) as whl:
        (meta_name,) = [n for n in whl.namelist() if n.endswith(".dist-info/METADATA")]
        meta = HeaderParser().parsestr(whl.read(meta_name).decode())
        names = whl.namelist()
    assert meta["License-Expression"] == "MIT"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    classifiers = meta.get_all("Classifier")
    assert {f"Programming Language :: Python :: 3.{minor}" for minor in range(10, 14)} <= set(classifiers)
    assert meta.get_all("Project-URL")
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    assert "fast-axolotl = fast_axolotl.cli:main" in zipfile.ZipFile(dist["wheel"]).read(entry_points).decode()


def test_twine_check_passes(dist):
    result = run([sys.executable, "-m", "twine", "check", "--strict", str(dist["sdist"]), str(dist["wheel"])])
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2


def test_wheel_from_sdist_installs_and_runs(dist, tmp_path):
    python = install_in_fresh_venv(dist["wheel"], tmp_path)
    check_imports_and_runs(python, cwd=tmp_path)
    command = python.parent / "fast-axolotl"
    info = run([str(command), "info"], cwd=tmp_path, env=venv_env())
    assert info.returncode == 0, info.stderr
    assert str(python.parent.parent) in info.stdout  # the library of the fresh venv, not this checkout's
    check_bench_runs(python, cwd=tmp_path)  # the scripts ship in the wheel built from the sdist too


# --- docs/c-abi.md: its example program is compiled and run --------------------------------


def docs_example(path: Path) -> str:
    """The C block that follows the "compiled and run by tests/test_release.py" marker."""
    text = path.read_text()
    match = re.search(r"<!-- compiled and run by tests/test_release.py -->\s*```c\n(.*?)```", text, re.S)
    assert match, f"{path} has no marked C example"
    return match.group(1)


def pad_left(rows: list[list[int]], multiple: int, pad: int = 0) -> list[list[int]]:
    """Pure-Python reference: left-pad to the longest row rounded up to `multiple`."""
    width = -(-max(map(len, rows)) // multiple) * multiple
    return [[pad] * (width - len(r)) + r for r in rows]


def test_c_abi_doc_example_compiles_and_runs(native, tmp_path):
    source = tmp_path / "example.c"
    source.write_text(docs_example(REPO / "docs" / "c-abi.md"))
    exe = compile_c(source, tmp_path / "example", required=True)
    result = run([str(exe)])
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"libfastaxo {fast_axolotl.__version__}, ABI {native.ABI_VERSION}"
    # The example pads {7, 8, 9} and {5} on the left to a multiple of 4, then passes a bad dtype.
    assert [list(map(int, line.split())) for line in lines[1:3]] == pad_left([[7, 8, 9], [5]], 4)
    assert lines[3] == "error: unknown values_dtype 99"
