"""Hatchling build hook: builds the native library with cargo (libfastaxo.so, libfastaxo.dylib
or fastaxo.dll: fast_axolotl/_libname.py) and puts it inside the package.

Used for `pip install .`, `pip install -e .` and `pip wheel .`. The library and its header go
into fast_axolotl/ (git-ignored, so they are listed as artifacts: hatchling would otherwise
leave them out silently). The wheel is tagged py3-none-<platform>: cffi's ABI mode does not
link libpython, so one wheel serves every Python 3 on the platform.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

HEADER = "fastaxo.h"


def _load_package_module(root: Path, name: str):
    """fast_axolotl/<name>.py by path: the package itself cannot be imported while building."""
    spec = importlib.util.spec_from_file_location(f"_fastaxo{name}", root / "fast_axolotl" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _replace(source: Path, target: Path) -> None:
    """Copy to a temporary name, then rename over `target`: a process that has the old
    library mapped (an editable install in use) keeps its inode instead of crashing on a
    file truncated under it."""
    temporary = target.with_name(f".{target.name}.tmp")
    shutil.copy2(source, temporary)
    os.replace(temporary, target)


def _target_dir(root: Path) -> Path:
    """Where cargo puts what it builds: $CARGO_TARGET_DIR (relative to rust/, where cargo
    runs) when set, so builds can share compiled crates, else rust/target."""
    crate = root / "rust"
    return crate / os.environ.get("CARGO_TARGET_DIR", "target")


class CargoBuildHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        if self.target_name != "wheel":
            return  # the sdist ships the Rust sources; the wheel build compiles them
        root = Path(self.root)
        package = root / "fast_axolotl"
        self._cargo_build(root)
        library = _load_package_module(root, "_libname").library_filename()
        _replace(_target_dir(root) / "release" / library, package / library)
        header = root / "include" / HEADER
        self._check_header(root, header.read_text(encoding="utf-8"))
        _replace(header, package / HEADER)

        build_data["artifacts"] += [f"fast_axolotl/{library}", f"fast_axolotl/{HEADER}"]
        build_data["pure_python"] = False
        build_data["tag"] = f"py3-none-{sysconfig.get_platform().replace('-', '_').replace('.', '_')}"

    def _cargo_build(self, root: Path) -> None:
        cmd = ["cargo", "build", "--release", "--locked", "-p", "fastaxo"]
        features = os.environ.get("FASTAXO_CARGO_FEATURES")
        if features:
            cmd += ["--features", features]
        self.app.display_info(f"fast-axolotl: {' '.join(cmd)}")
        try:
            subprocess.run(cmd, cwd=root / "rust", check=True)
        except FileNotFoundError as exc:
            raise RuntimeError(
                "fast-axolotl needs a Rust toolchain (cargo) to build from source: https://rustup.rs"
            ) from exc

    def _check_header(self, root: Path, header: str) -> None:
        """Fail the build, not the first import, if cffi cannot parse the header."""
        from cffi import FFI

        FFI().cdef(_load_package_module(root, "_cdef").cdef_from_header(header))
