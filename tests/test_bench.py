"""The benchmark scripts run on small inputs and check every implementation's output against
their reference before timing it (timings are not asserted here)."""

from __future__ import annotations

import json
import os
import sys

import pytest
from conftest import run

SMALL = {
    "bench_pad.py": ["--n", "300"],
    "bench_pack.py": ["--n-bins", "20000"],
    "bench_hash.py": ["--scale", "0.01", "--dedupe-rows", "2000"],
    "bench_ray.py": ["--rows", "3000"],  # starts its own local Ray cluster (~10-30 s)
    "bench_tokenizer.py": ["--mb", "0.2", "--tokenizers", "llama3", "--kinds", "prose"],  # 12 processes (~20 s)
    "bench_trl.py": ["--rows", "3000"],
}


@pytest.mark.parametrize("script", sorted(SMALL))
def test_bench_runs_quick(script, tmp_path):
    if script == "bench_ray.py":
        pytest.importorskip("ray")
    out = tmp_path / "result.json"
    env = {**os.environ, "FASTAXO_BENCH_OLD_PYTHON": str(tmp_path / "missing-python")}
    module = f"fast_axolotl.bench.{script.removesuffix('.py')}"
    cmd = [sys.executable, "-m", module, "--quick", "--json", str(out), *SMALL[script]]
    result = run(cmd, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(out.read_text())
    ours = [r for r in report["results"] if "ours" in r["impl"] or r["impl"].startswith("fast_axolotl")]
    assert ours and all(r["timing"] for r in ours)
    old = [r for r in report["results"] if r["impl"] == "fast-axolotl 0.2.0"]
    assert all(r["timing"] is None and "not available" in r["note"] for r in old)
    for goal in report["goals"]:  # a ratio goal's status is its ratio against its need
        if "need" in goal:
            reached = None if goal["ratio"] is None else goal["ratio"] >= goal["need"]
            assert goal["status"] == {None: "not available", True: "reached", False: "NOT reached"}[reached], goal
    check_ratios_and_table(report, result.stdout)


def check_ratios_and_table(report: dict, printed: str) -> None:
    """Each row's ratio is its baseline's median over its own (recomputed from the timings),
    and the printed table shows it, marking a ratio below 1 as a loss."""
    medians = {(r["case"], r["impl"]): r["timing"]["median"] for r in report["results"] if r["timing"]}
    table = [line for line in printed.splitlines() if line.startswith("| ")]
    for row in report["results"]:
        own, base = medians.get((row["case"], row["impl"])), medians.get((row["case"], row["against"]))
        expected = base / own if own and base else None
        assert row["ratio"] == pytest.approx(expected) if expected else row["ratio"] is None
        (line,) = [t for t in table if t.startswith(f"| {row['case']} | {row['impl']} |")]
        ratio_cell = line.split("|")[4].strip()
        if row["impl"] == row["against"] and own:
            assert ratio_cell == "baseline"
        elif expected:
            assert ratio_cell.startswith(f"{expected:.2f}x") and ratio_cell.endswith("(slower)") == (expected < 1)
