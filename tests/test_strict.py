"""FAST_AXOLOTL_STRICT=1: a patch's fast path that raises ValueError/TypeError (a bug, or an
input a kernel refuses) fails instead of silently running the original; a declared
`Fallback` still falls back. Without it, both fall back, counted."""

from __future__ import annotations

import sys
import types

import pytest

from fast_axolotl.axolotl import registry
from fast_axolotl.axolotl.fallback import Fallback


def original(x):
    return ("original", x)


def fast(x):
    if x == "bug":
        raise ValueError("a bug in the fast path")
    if x == "unmodelled":
        raise Fallback("an input the fast path does not model")
    return ("fast", x)


@pytest.fixture
def patch(monkeypatch):
    module = types.ModuleType("fake_axolotl_module")
    module.target = original
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setattr(registry, "_load", lambda spec: {"fast": fast}[spec])
    p = registry.Patch("fake", module.__name__, "target", "fast", package=module.__name__)
    assert p.install() == "installed" and module.target is not original
    yield p, module
    p.uninstall()


@pytest.mark.parametrize("value", ["", "0"])
def test_without_strict_both_fall_back(patch, monkeypatch, value):
    monkeypatch.setenv("FAST_AXOLOTL_STRICT", value)
    p, module = patch
    assert module.target("ok") == ("fast", "ok")
    assert module.target("bug") == ("original", "bug")
    assert module.target("unmodelled") == ("original", "unmodelled")
    assert p.stats()["fallbacks"] == 2 and p.stats()["calls"] == 1


def test_strict_raises_what_is_not_a_declared_fallback(patch, monkeypatch):
    monkeypatch.setenv("FAST_AXOLOTL_STRICT", "1")
    p, module = patch
    assert module.target("ok") == ("fast", "ok")
    with pytest.raises(ValueError, match="a bug in the fast path"):
        module.target("bug")
    assert module.target("unmodelled") == ("original", "unmodelled")
    assert p.stats()["fallbacks"] == 1
