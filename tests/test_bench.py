"""The benchmark scripts run and check their outputs (timings are not asserted here)."""

from __future__ import annotations

import json
import os
import sys

from conftest import REPO, run


def test_bench_pad_quick(tmp_path):
    out = tmp_path / "pad.json"
    env = {**os.environ, "FASTAXO_BENCH_OLD_PYTHON": str(tmp_path / "missing-python")}
    result = run(
        [sys.executable, str(REPO / "bench" / "bench_pad.py"), "--quick", "--n", "300", "--json", str(out)],
        env=env,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    timed = {(r["case"], r["impl"]) for r in report["results"] if r["timing"]}
    assert ("Arrow→np", "fast_axolotl (ours)") in timed and ("list→list", "pure Python") in timed
    missing = [r for r in report["results"] if r["impl"] == "fast-axolotl 0.2.0"]
    assert missing and missing[0]["timing"] is None and "not available" in missing[0]["note"]
