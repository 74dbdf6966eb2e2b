"""The wheel: built by the hatchling hook, tagged py3-none-<platform>, installable anywhere."""

from __future__ import annotations

import os
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, run

import fast_axolotl
from fast_axolotl._libname import library_filename


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    built = run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(out), str(REPO)])
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (path,) = out.glob("*.whl")
    return path


def test_wheel_name_and_contents(wheel):
    check_wheel(wheel)


def check_wheel(wheel: Path) -> None:
    """Named fast_axolotl-<version>-py3-none-<platform>.whl, with the library, header, py.typed
    and the benchmark scripts."""
    platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
    assert wheel.name == f"fast_axolotl-{fast_axolotl.__version__}-py3-none-{platform}.whl"
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"fast_axolotl/{library_filename()}", "fast_axolotl/fastaxo.h", "fast_axolotl/py.typed"} <= names
    scripts = {p.relative_to(REPO).as_posix() for p in (REPO / "fast_axolotl" / "bench").glob("*.py")}
    assert len(scripts) > 10 and scripts <= names


def install_in_fresh_venv(wheel: Path, tmp_path: Path) -> Path:
    """A new venv with only `wheel` (and its dependencies) installed; its python."""
    venv = tmp_path / "venv"
    assert run([sys.executable, "-m", "venv", str(venv)]).returncode == 0
    python = venv / "bin" / "python"
    installed = run([str(python), "-m", "pip", "install", "--quiet", str(wheel)])
    assert installed.returncode == 0, installed.stderr[-3000:]
    return python


def venv_env() -> dict:
    """This environment minus what could point the fresh venv back at this checkout."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FASTAXO_LIB", "FASTAXO_BENCH_OLD_PYTHON")}


def check_imports_and_runs(python: Path, cwd: Path) -> None:
    """The installed package loads its library, reports the same versions as this checkout
    and runs a kernel."""
    code = (
        "import fast_axolotl as fa; print(fa.is_available(), fa.get_version()); print(fa.pad_sequences([[1], [2, 3]]))"
    )
    result = run([str(python), "-c", code], cwd=cwd, env=venv_env())
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"True {fast_axolotl.get_version()}",
        "[[1, 0], [2, 3]]",
    ]


def test_wheel_installs_into_a_fresh_venv(wheel, tmp_path):
    python = install_in_fresh_venv(wheel, tmp_path)
    check_imports_and_runs(python, cwd=tmp_path)
    check_bench_runs(python, cwd=tmp_path)


def check_bench_runs(python: Path, cwd: Path) -> None:
    """`fast-axolotl bench` from the installed wheel alone (no checkout, no 0.2.0 venv): the
    script runs on data it makes, and the baseline it cannot have is a row saying so."""
    command = [str(python), "-m", "fast_axolotl", "bench", "--quick", "--only", "bench_pad", "--out", "report.md"]
    result = run(command, cwd=cwd, env=venv_env(), timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = (cwd / "report.md").read_text(encoding="utf-8")
    assert "## bench_pad.py" in report and "FAILED" not in report
    assert "| list→list | fast_axolotl (ours) |" in report and "not available" in report


# What cargo names a cdylib `fastaxo` on each platform (the other platforms cannot run here:
# the release workflow builds and tests their wheels).
@pytest.mark.parametrize(
    "platform, name",
    [
        ("linux", "libfastaxo.so"),
        ("freebsd14", "libfastaxo.so"),
        ("darwin", "libfastaxo.dylib"),
        ("win32", "fastaxo.dll"),
        ("cygwin", "fastaxo.dll"),
    ],
)
def test_library_file_name_per_platform(platform, name):
    assert library_filename(platform) == name


def test_loader_and_build_hook_name_the_same_file(monkeypatch):
    """The build hook reads the name from the same module, by path, and copies that file."""
    import importlib.util

    from fast_axolotl import _native

    spec = importlib.util.spec_from_file_location("cargo_build", REPO / "build_hooks" / "cargo_build.py")
    hook = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hook)
    for platform in ("linux", "darwin", "win32"):
        monkeypatch.setattr(sys, "platform", platform)
        assert hook._load_package_module(REPO, "_libname").library_filename() == library_filename(platform)
    monkeypatch.undo()
    assert _native.LIBRARY_NAME == library_filename() and _native.library_path().name == library_filename()


def test_release_workflow_builds_every_platform():
    """The wheel workflow covers Linux, macOS and Windows, one CPython each (py3-none wheels)."""
    text = (REPO / ".github" / "workflows" / "wheels.yml").read_text(encoding="utf-8")
    assert all(os_name in text for os_name in ("ubuntu-", "macos-", "windows-"))
    assert 'CIBW_BUILD: "cp311-*"' in text
