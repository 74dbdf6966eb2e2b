"""Shared benchmark harness for the benchmark scripts (fast_axolotl/bench/bench_*.py).

A script builds a `Bench` from the common flags (`parser()`), times each implementation with
`Bench.time` (this interpreter) or `Bench.time_other` (another interpreter, by default the
fast-axolotl 0.2.0 venv, on the same data), declares its goals with `Bench.goal`, then calls
`Bench.report`, which prints Markdown and, with --json, writes the same numbers as JSON
(`results_markdown` turns that JSON back into the Markdown; `fast-axolotl bench` uses it).

Run as a script, this file is the child side of `time_other`: `python harness.py IN OUT`.
So it imports only the standard library at top level: the other venv may lack the rest.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import json
import os
import pickle
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path
from statistics import median
from typing import Callable, Optional

OLD_PYTHON_ENV = "FASTAXO_BENCH_OLD_PYTHON"
DEFAULT_OLD_PYTHON = Path(".venv-fa020", "bin", "python")  # relative to the working directory

# Upper bound on timed runs and on seconds spent per implementation: slow baselines stop
# at the time budget, fast ones get all their runs.
NORMAL = {"repeat": 20, "budget": 1.0}
QUICK = {"repeat": 3, "budget": 0.2}
MIN_RUNS = 3  # a median needs a few runs, even past the budget

NOT_CHECKED = object()


@dataclass
class Timing:
    median: float  # seconds
    min: float  # seconds
    runs: int


def timeit(fn: Callable, repeat: int = NORMAL["repeat"], warmup: int = 1, budget: float = NORMAL["budget"]) -> Timing:
    """Time `fn()`: `warmup` untimed calls, then up to `repeat` timed ones, stopping early once
    `budget` seconds are spent (after at least MIN_RUNS)."""
    for _ in range(warmup):
        fn()
    times = []
    gc_was_on = gc.isenabled()
    gc.disable()  # as the stdlib timeit does: a collection of earlier garbage must not land in a random run
    try:
        while len(times) < repeat:
            start = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - start)
            del result  # freeing the output is the caller's business, keep it out of the time
            if len(times) >= MIN_RUNS and sum(times) >= budget:
                break
    finally:
        if gc_was_on:
            gc.enable()
    return Timing(median=median(times), min=min(times), runs=len(times))


@contextlib.contextmanager
def axolotl_patched(on: bool):
    """Axolotl as shipped (on=False) or with every fast-axolotl patch installed; imported
    here lazily, since harness.py also runs in the fast-axolotl 0.2.0 venv."""
    import fast_axolotl.axolotl as fx

    fx.uninstall()
    if on:
        fx.install()
    try:
        yield
    finally:
        fx.uninstall()


def old_python() -> Path:
    """The fast-axolotl 0.2.0 interpreter: $FASTAXO_BENCH_OLD_PYTHON, else the one in
    .venv-fa020/ of the working directory (scripts/setup-old-venv.sh makes it); absolute,
    since it runs in a temporary directory."""
    return Path(os.environ.get(OLD_PYTHON_ENV) or DEFAULT_OLD_PYTHON).absolute()


def run_in_python(python: Path, code: str, data, timeit_args: dict):
    """Run `code` in another interpreter on `data`; return (first result, Timing, its version).

    `code` sees the unpickled `data` as a global and must define `fn`, a no-argument callable.
    """
    with tempfile.TemporaryDirectory(prefix="fastaxo-bench-") as tmp:
        in_path, out_path = Path(tmp, "in.pkl"), Path(tmp, "out.pkl")
        with open(in_path, "wb") as f:
            pickle.dump({"code": code, "data": data, "timeit": timeit_args}, f)
        # -I: only the child's own site-packages, never this checkout (same module name).
        proc = subprocess.run(
            [str(python), "-I", __file__, str(in_path), str(out_path)], capture_output=True, text=True, cwd=tmp
        )
        if proc.returncode != 0:
            raise RuntimeError(f"{python} failed (exit {proc.returncode}):\n{proc.stderr}")
        report = json.loads(proc.stdout.strip().splitlines()[-1])
        with open(out_path, "rb") as f:
            result = pickle.load(f)
    return result, Timing(**report["timing"]), report["python"]


def _child_main(in_path: str, out_path: str) -> None:
    with open(in_path, "rb") as f:
        job = pickle.load(f)
    namespace = {"data": job["data"]}
    exec(job["code"], namespace)
    fn = namespace["fn"]
    result = fn()  # also the warmup
    timing = timeit(fn, warmup=0, **job["timeit"])
    with open(out_path, "wb") as f:
        pickle.dump(result, f)
    print(json.dumps({"timing": asdict(timing), "python": platform.python_version()}))


def check_same(got, expected, what: str) -> None:
    """A `compare` for Bench.time_other: raise unless `got` equals `expected` in type and values (numpy arrays: shape and values)."""
    import numpy as np

    if isinstance(expected, dict):
        same = isinstance(got, dict) and got.keys() == expected.keys()
        if same:
            for key in expected:
                check_same(got[key], expected[key], f"{what} [{key}]")
    elif isinstance(expected, np.ndarray):
        same = isinstance(got, np.ndarray) and np.array_equal(got, expected)
    else:
        same = type(got) is type(expected) and got == expected
    if not same:
        raise AssertionError(f"{what}: result differs from the reference")


def machine_info() -> dict:
    """The machine and the versions a report's numbers belong to; the load average shows
    how busy the machine was (other processes add noise to every timing)."""
    from fast_axolotl.cli._info import cpu_model  # here, not at the top: see the module doc

    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "ram": _ram(),
        "load average (1, 5, 15 min)": _load_average(),
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "pyarrow": _version("pyarrow"),
        "fast-axolotl": _version("fast-axolotl"),
        "axolotl": _version("axolotl"),
        "datasets": _version("datasets"),
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
    }


def _ram() -> str:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _load_average() -> str:
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def parser(description: Optional[str]) -> argparse.ArgumentParser:
    """Flags every bench script has; scripts add their own before parsing."""
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer repeats (smoke test, CI)")
    p.add_argument("--json", metavar="PATH", help="also write all results to PATH as JSON")
    return p


def axolotl_as_shipped() -> None:
    """`import fast_axolotl` patches Axolotl's functions as Axolotl imports them (the import
    hook): a baseline named after Axolotl must run Axolotl's own code, so undo that. Call it
    before importing anything from Axolotl."""
    import fast_axolotl.axolotl

    fast_axolotl.axolotl.uninstall()


class Bench:
    """Collects timings and goals of one bench run, then prints and saves them."""

    def __init__(self, args: argparse.Namespace):
        axolotl_as_shipped()
        self.params = vars(args)
        self.json_path = args.json
        self.timeit_args = QUICK if args.quick else NORMAL
        self.rows: list[dict] = []
        self.goals: list[dict] = []
        self.baselines: dict[str, str] = {}  # case -> implementation its ratios are against

    def time(
        self,
        case: str,
        impl: str,
        fn: Callable,
        expected=NOT_CHECKED,
        note: str = "",
        repeat: Optional[int] = None,
        once: bool = False,
    ):
        """Time `fn` here; first check its result against `expected` unless that is NOT_CHECKED.
        Returns the first result. `repeat` caps the timed runs; `once` times a single call
        (no warmup), for baselines that take many seconds."""
        gc_was_on = gc.isenabled()
        if once:
            gc.disable()  # as in timeit()
        start = time.perf_counter()
        result = fn()  # the warmup, or with `once` the one timed call
        elapsed = time.perf_counter() - start
        if gc_was_on:
            gc.enable()
        if expected is not NOT_CHECKED:
            check_same(result, expected, f"{case} / {impl}")
        if once:
            self._add(case, impl, Timing(median=elapsed, min=elapsed, runs=1), note=note)
            return result
        args = dict(self.timeit_args)
        if repeat is not None:
            args["repeat"] = min(args["repeat"], repeat)
        self._add(case, impl, timeit(fn, warmup=0, **args), note=note)
        return result

    def time_other(
        self, case: str, impl: str, code: str, data, expected, python: Optional[Path] = None, compare: Callable = None
    ) -> None:
        """Time `code` (see run_in_python) in `python`, default old_python(); a missing
        interpreter gives a "not available" row instead of an error."""
        python = python or old_python()
        if not python.exists():
            self._add(case, impl, None, note=f"not available: {python} not found")
            return
        result, timing, version = run_in_python(python, code, data, self.timeit_args)
        note = (compare or check_same)(result, expected, f"{case} / {impl}") or ""
        self._add(case, impl, timing, note=f"python {version} at {python}{'; ' + note if note else ''}")

    def _add(self, case: str, impl: str, timing: Optional[Timing], note: str = "") -> None:
        self.rows.append({"case": case, "impl": impl, "timing": asdict(timing) if timing else None, "note": note})

    def median(self, case: str, impl: str) -> Optional[float]:
        for row in self.rows:
            if row["case"] == case and row["impl"] == impl and row["timing"]:
                return row["timing"]["median"]
        return None

    def ratio(self, case: str, impl: str, baseline: str) -> Optional[float]:
        """baseline time / impl time: > 1 means impl is faster than the baseline."""
        base, own = self.median(case, baseline), self.median(case, impl)
        return base / own if base and own else None

    def goal(self, text: str, case: str, impl: str, baseline: str, need: float) -> None:
        """A goal is reached when ratio(case, impl, baseline) >= need."""
        ratio = self.ratio(case, impl, baseline)
        status = "not available" if ratio is None else ("reached" if ratio >= need else "NOT reached")
        self.goals.append({"goal": text, "ratio": ratio, "need": need, "status": status})

    def baseline(self, case: str, impl: str) -> None:
        """Ratios of `case` in the table are against `impl` instead of report()'s default."""
        self.baselines[case] = impl

    def check(self, text: str, measured: str, ok: Optional[bool]) -> None:
        """A goal that is not a ratio (a time limit, a bin count): `ok` None = not available."""
        status = "not available" if ok is None else ("reached" if ok else "NOT reached")
        self.goals.append({"goal": text, "measured": measured, "status": status})

    def report(self, baseline: str) -> None:
        """Print machine info, the results table (ratios vs `baseline`) and the goals; write JSON."""
        report = self.as_dict(baseline)
        print(machine_markdown(report["machine"], report["params"]))
        print(results_markdown(report))
        if self.json_path:
            with open(self.json_path, "w") as f:
                json.dump(report, f, indent=2)
            print(f"\nJSON written to {self.json_path}")

    def as_dict(self, baseline: str) -> dict:
        """Everything a report shows; each result row carries its baseline (`against`) and
        ratio, so the Markdown can be made from the JSON alone."""
        rows = []
        for row in self.rows:
            against = self.baselines.get(row["case"], baseline)
            rows.append({**row, "against": against, "ratio": self.ratio(row["case"], row["impl"], against)})
        params = {k: v for k, v in self.params.items() if k != "json"}
        return {"machine": machine_info(), "params": params, "results": rows, "goals": self.goals}


def machine_markdown(machine: dict, params: Optional[dict] = None, heading: str = "##") -> str:
    lines = [f"{heading} Machine", ""] + [f"- {key}: {value}" for key, value in machine.items()]
    if params is not None:
        lines.append("- params: " + " ".join(f"{k}={v}" for k, v in params.items()))
    return "\n".join(lines)


def results_markdown(report: dict, heading: str = "##") -> str:
    """The results table, the notes and the goals of one report (as_dict / the JSON)."""
    lines = [
        "",
        f"{heading} Results",
        "",
        "| case | implementation | median ms | ratio | against |",
        "|---|---|---:|---:|---|",
    ]
    for row in report["results"]:
        ms = f"{row['timing']['median'] * 1e3:.2f}" if row["timing"] else "not available"
        lines.append(f"| {row['case']} | {row['impl']} | {ms} | {ratio_text(row)} | {row['against']} |")
    notes = [f"- {r['case']} / {r['impl']}: {r['note']}" for r in report["results"] if r["note"]]
    if notes:
        lines += [""] + notes
    if report["goals"]:
        lines += ["", f"{heading} Goals", ""] + [_goal_line(g) for g in report["goals"]]
    return "\n".join(lines)


def ratio_text(row: dict) -> str:
    """baseline time / this time; a ratio below 1 is a loss and says so."""
    if row["impl"] == row["against"] and row["timing"]:
        return "baseline"
    ratio = row["ratio"]
    if not ratio:
        return "-"
    return _times(ratio) if ratio >= 1 else f"{_times(ratio)} (slower)"


def _goal_line(goal: dict) -> str:
    if "measured" in goal:
        return f"- {goal['goal']}: {goal['measured']}: {goal['status']}"
    return f"- {goal['goal']}: {goal_ratio_text(goal)}: {goal['status']}"


def goal_ratio_text(goal: dict) -> str:
    """A ratio goal's measurement against its need: "1.23x (need >= 2.00x)"."""
    measured = _times(goal["ratio"]) if goal["ratio"] is not None else "n/a"
    return f"{measured} (need >= {_times(goal['need'])})"


def _times(ratio: float) -> str:
    return f"{ratio:.2f}x"


if __name__ == "__main__":
    _child_main(*sys.argv[1:])
