"""The wheel: built by the hatchling hook, tagged py3-none-<platform>, installable anywhere."""

from __future__ import annotations

import sys
import sysconfig
import zipfile

import pytest

import fast_axolotl
from conftest import REPO, run


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(out), str(REPO)])
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (path,) = out.glob("*.whl")
    return path


def test_wheel_name_and_contents(wheel):
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    assert wheel.name == f"fast_axolotl-{fast_axolotl.__version__}-py3-none-{platform}.whl"
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"fast_axolotl/libfastaxo.so", "fast_axolotl/fastaxo.h", "fast_axolotl/py.typed"} <= names


def test_wheel_installs_into_a_fresh_venv(wheel, tmp_path):
    venv = tmp_path / "venv"
    assert run([sys.executable, "-m", "venv", str(venv)]).returncode == 0
    python = venv / "bin" / "python"
    installed = run([str(python), "-m", "pip", "install", "--quiet", str(wheel)])
    assert installed.returncode == 0, installed.stderr[-3000:]
    code = "import fast_axolotl as fa; print(fa.is_available(), fa.get_version()); print(fa.pad_sequences([[1], [2, 3]]))"
    result = run([str(python), "-c", code], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"True {fast_axolotl.get_version()}",
        "[[1, 0], [2, 3]]",
    ]
