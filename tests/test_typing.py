"""What type checkers see matches what runs: the lazy kernels' `if TYPE_CHECKING:` imports in
fast_axolotl/__init__.py, `__all__`, and fast_axolotl/_abi.pyi's `Lib` against the C header.
(The mypy gate itself runs in scripts/test.sh and .pre-commit-config.yaml.)"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import fast_axolotl

PACKAGE = Path(fast_axolotl.__file__).resolve().parent


def _type_checking_imports() -> dict[str, str]:
    """{name: module} of the imports under `if TYPE_CHECKING:` in __init__.py."""
    tree = ast.parse((PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    blocks = [n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING"]
    assert len(blocks) == 1
    found = {}
    for node in blocks[0].body:
        assert isinstance(node, ast.ImportFrom), ast.unparse(node)
        if node.module == "typing":  # the annotations' names
            continue
        assert node.level == 1, ast.unparse(node)
        for alias in node.names:
            assert alias.asname is None, ast.unparse(node)
            found[alias.name] = node.module
    return found


def test_type_checking_imports_are_the_lazy_names():
    expected = dict(fast_axolotl._KERNELS)
    expected.update({name: "axolotl.patches" for name in fast_axolotl._INTEGRATION})
    assert _type_checking_imports() == expected


def test_all_lists_every_public_name_once():
    names = fast_axolotl.__all__
    assert len(names) == len(set(names))
    assert set(fast_axolotl._KERNELS) | set(fast_axolotl._INTEGRATION) <= set(names)
    for name in names:
        assert getattr(fast_axolotl, name) is not None


def test_import_stays_lazy():
    code = (
        "import sys, fast_axolotl; "
        "print(sorted(m for m in ('numpy', 'pyarrow', 'fast_axolotl._native', 'fast_axolotl._types') "
        "if m in sys.modules))"
    )
    env = {**os.environ, "FAST_AXOLOTL_DISABLE": "1"}  # the Axolotl/TRL hook aside
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _header() -> str:
    return (PACKAGE / "fastaxo.h").read_text(encoding="utf-8")


def _abi_lib() -> ast.ClassDef:
    tree = ast.parse((PACKAGE / "_abi.pyi").read_text(encoding="utf-8"))
    (lib,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Lib"]
    return lib


def test_abi_stub_has_every_header_function_with_its_arity():
    body = re.sub(r"//[^\n]*", "", _header())
    header = {name: args for name, args in re.findall(r"\b(fax_\w+)\(([^)]*)\);", body)}
    stub = {n.name: n for n in _abi_lib().body if isinstance(n, ast.FunctionDef)}
    assert set(stub) == set(header)
    for name, args in header.items():
        arity = 0 if args.strip() == "void" else len(args.split(","))
        params = stub[name].args
        assert len(params.posonlyargs) + len(params.args) - 1 == arity, name  # less self


def test_abi_stub_has_every_header_constant():
    defines = set(re.findall(r"^#define\s+(FAX_\w+)\s+-?\d+\s*$", _header(), re.M))
    stub = {n.target.id for n in _abi_lib().body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}
    assert stub == defines
