"""fast_axolotl/bench/harness.py on a fake clock: the medians, ratios, losses and goal statuses it reports
are the ones the timings it measured give (tests/test_bench.py runs the real scripts)."""

from __future__ import annotations

import argparse
import json
import types

import pytest

from fast_axolotl.bench import harness


class FakeClock:
    """time.perf_counter for the harness: time passes only when a timed function says so.
    Durations are powers of two, so every sum, median and ratio is exact."""

    def __init__(self):
        self.now = 0.0

    def perf_counter(self) -> float:
        return self.now

    def takes(self, *seconds: float):
        """A function whose calls take `seconds` in turn (the last one repeats)."""
        calls = iter(seconds)
        last = [seconds[-1]]

        def fn():
            last[0] = next(calls, last[0])
            self.now += last[0]
            return "result"

        return fn


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(harness, "time", types.SimpleNamespace(perf_counter=fake.perf_counter))
    return fake


def test_timeit_reports_what_it_measured(clock):
    # warmup 1 s (not counted), then 2, 8, 4 s: the budget stops it after MIN_RUNS
    timing = harness.timeit(clock.takes(1.0, 2.0, 8.0, 4.0), repeat=10, budget=0.5)
    assert (timing.median, timing.min, timing.runs) == (4.0, 2.0, harness.MIN_RUNS)
    # under budget, it stops at `repeat`
    timing = harness.timeit(clock.takes(0.25, 0.125, 0.5, 0.0625, 0.25), repeat=4, budget=100.0)
    assert (timing.median, timing.min, timing.runs) == ((0.125 + 0.25) / 2, 0.0625, 4)


def test_ratios_losses_and_goals_come_from_the_timings(clock, capsys, tmp_path):
    out = tmp_path / "report.json"
    bench = harness.Bench(argparse.Namespace(quick=True, json=str(out)))
    bench.time("pad", "baseline", clock.takes(0.75))
    bench.time("pad", "ours", clock.takes(0.25))  # 3x faster
    bench.time("pad", "loser", clock.takes(1.0))  # 0.75x: a loss
    bench.time("pad", "once", clock.takes(0.125), once=True)  # one timed call
    bench.goal("ours 3x", "pad", "ours", "baseline", need=3.0)  # exactly at the threshold
    bench.goal("ours 3.01x", "pad", "ours", "baseline", need=3.01)  # just above it
    bench.goal("loser 0.7x", "pad", "loser", "baseline", need=0.7)
    bench.goal("missing", "pad", "nobody", "baseline", need=1.0)
    bench.report(baseline="baseline")
    printed = capsys.readouterr().out

    report = json.loads(out.read_text())
    ratios = {r["impl"]: r["ratio"] for r in report["results"]}
    assert ratios == {"baseline": 1.0, "ours": 3.0, "loser": 0.75, "once": 6.0}
    medians = {r["impl"]: r["timing"]["median"] for r in report["results"]}
    assert medians == {"baseline": 0.75, "ours": 0.25, "loser": 1.0, "once": 0.125}
    assert report["results"][3]["timing"]["runs"] == 1

    rows = [line for line in printed.splitlines() if line.startswith("| pad |")]
    assert rows == [
        "| pad | baseline | 750.00 | baseline | baseline |",
        "| pad | ours | 250.00 | 3.00x | baseline |",
        "| pad | loser | 1000.00 | 0.75x (slower) | baseline |",
        "| pad | once | 125.00 | 6.00x | baseline |",
    ]
    goals = [line for line in printed.splitlines() if line.startswith("- ") and "need" in line]
    assert goals == [
        "- ours 3x: 3.00x (need >= 3.00x): reached",
        "- ours 3.01x: 3.00x (need >= 3.01x): NOT reached",
        "- loser 0.7x: 0.75x (need >= 0.70x): reached",
        "- missing: n/a (need >= 1.00x): not available",
    ]
    # The Markdown `fast-axolotl bench` makes from the JSON is the one printed.
    assert harness.results_markdown(report) in printed


def test_baseline_per_case(clock, capsys):
    bench = harness.Bench(argparse.Namespace(quick=True, json=None))
    bench.time("a", "python", clock.takes(0.5))
    bench.time("a", "numpy", clock.takes(0.25))
    bench.time("a", "ours", clock.takes(0.125))
    bench.baseline("a", "numpy")
    rows = {r["impl"]: r["ratio"] for r in bench.as_dict("python")["results"]}
    assert rows == {"python": 0.5, "numpy": 1.0, "ours": 2.0}
