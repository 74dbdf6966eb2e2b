"""Axolotl's own tests of its data pipeline pass with fast-axolotl's patches in place: the
same tests as without them (scripts/axolotl-own-tests.sh runs both), and the patches ran.
About a minute: two pytest runs of Axolotl's tests, in their own processes."""

from __future__ import annotations

import json
import os
import sys

import pytest
from conftest import REPO, run

pytest.importorskip("axolotl")

SCRIPT = REPO / "scripts" / "axolotl-own-tests.sh"
CACHED = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "fast-axolotl")


def test_axolotl_own_tests_pass_the_same_with_fast_axolotl(tmp_path):
    result = run(["bash", str(SCRIPT), str(tmp_path)], env={**os.environ, "PYTHON": sys.executable})
    if result.returncode and not os.path.isdir(os.path.join(CACHED, "axolotl-0.19.0", "tests")):
        pytest.skip(f"Axolotl's sdist could not be downloaded: {result.stderr[-500:]}")
    assert result.returncode == 0, result.stdout + result.stderr
    without = (tmp_path / "without.passed").read_text().split()
    with_patches = (tmp_path / "with.passed").read_text().split()
    assert set(with_patches) == set(without) and len(without) >= 57
    stats = json.loads((tmp_path / "stats.json").read_text())
    ran = {name for name, s in stats.items() if s["calls"]}
    # Their dedupe tests go through _deduplicate_dataset, the multipack ones through the
    # sampler: its generate_batches patch, or the packer's when that one is not active.
    assert "dedupe" in ran and ran & {"sampler_batches", "pack_parallel"}, stats
    assert "fast-axolotl: dedupe " in result.stdout  # the summary line the script prints
