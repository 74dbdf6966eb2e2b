"""`fast-axolotl bench`: run the benchmark scripts of a source checkout (`bench/bench_*.py`)
and write one Markdown report.

The scripts are not shipped in the wheel: they compare against pure Python, numpy, Axolotl
and fast-axolotl 0.2.0 in its own venv (`.venv-fa020`), which are development set-ups, not
part of the library. So the command needs a checkout (git clone or the unpacked sdist) and
finds its `bench/` directory: `--bench-dir`, else $FASTAXO_BENCH_DIR, else the checkout this
package is imported from (an editable install); otherwise it fails and says so.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Optional

BENCH_DIR_ENV = "FASTAXO_BENCH_DIR"
HARNESS = "harness.py"


def find_bench_dir(explicit: Optional[str] = None) -> Path:
    """The directory holding harness.py and the bench_*.py scripts."""
    given = explicit or os.environ.get(BENCH_DIR_ENV)
    if given:  # asked for: that one or an error, never a silent fallback
        if not (Path(given) / HARNESS).is_file():
            raise FileNotFoundError(f"{given} is not a benchmark directory (no {HARNESS} in it)")
        return Path(given).resolve()
    checkout = Path(__file__).resolve().parent.parent / "bench"
    if (checkout / HARNESS).is_file():
        return checkout
    raise FileNotFoundError(
        "the benchmark scripts are not installed with the wheel: run `fast-axolotl bench` from a "
        "source checkout (git clone or the sdist, installed with `pip install -e .`), or pass "
        f"--bench-dir DIR (or set {BENCH_DIR_ENV}) to its bench/ directory"
    )


def bench_scripts(bench_dir: Path, only: Optional[list[str]] = None) -> list[Path]:
    scripts = sorted(bench_dir.glob("bench_*.py"))
    if only:
        wanted = {name if name.endswith(".py") else f"{name}.py" for name in only}
        unknown = wanted - {s.name for s in scripts}
        if unknown:
            raise ValueError(f"no such benchmark script in {bench_dir}: {', '.join(sorted(unknown))}")
        scripts = [s for s in scripts if s.name in wanted]
    if not scripts:
        raise FileNotFoundError(f"no bench_*.py scripts in {bench_dir}")
    return scripts


def run_script(script: Path, quick: bool, tmp: Path) -> dict:
    """Run one script with --json; its report, or the reason it has none."""
    out = tmp / f"{script.stem}.json"
    cmd = [sys.executable, str(script), "--json", str(out)] + (["--quick"] if quick else [])
    load_before = _load()
    start = time.perf_counter()
    # cwd: the checkout, as the scripts document (python bench/bench_x.py from the repo root).
    proc = subprocess.run(cmd, cwd=script.parent.parent, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    run = {"script": script.name, "seconds": time.perf_counter() - start, "load": (load_before, _load())}
    if proc.returncode != 0 or not out.is_file():
        tail = proc.stderr.strip().splitlines()[-15:]
        run["error"] = f"exit code {proc.returncode}" + ("\n" + "\n".join(tail) if tail else "")
    else:
        run["report"] = json.loads(out.read_text())
    return run


def run_all(scripts: list[Path], quick: bool, progress) -> list[dict]:
    runs = []
    with (
        tempfile.TemporaryDirectory(prefix="fastaxo-bench-") as tmp,
        progress(total=len(scripts), unit="script") as bar,
    ):
        for script in scripts:
            bar.set_description(script.name)
            runs.append(run_script(script, quick, Path(tmp)))
            bar.update(1)
    return runs


def load_harness(bench_dir: Path) -> ModuleType:
    """bench/harness.py as a module: its Markdown rendering is the one the scripts print."""
    spec = importlib.util.spec_from_file_location("fastaxo_bench_harness", bench_dir / HARNESS)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {bench_dir / HARNESS}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def markdown(runs: list[dict], harness, quick: bool, machine: dict, skipped: list[str]) -> str:
    """The report: how to read it, the machine (as it was when the run started), then each
    script's results, or its failure; `skipped`: the scripts left out with --only."""
    command = (
        "fast-axolotl bench"
        + (" --quick" if quick else "")
        + "".join(f" --only {r['script']}" for r in runs if skipped)
    )
    lines = [
        "# fast-axolotl benchmarks",
        "",
        f"Written by `{command}` on {machine['date']} "
        f"({sum(r['seconds'] for r in runs) / 60:.1f} min). Every number below comes from this one run: "
        "each implementation's output is checked against the reference before it is timed; times are "
        "medians; ratio = the baseline's median / this median, so > 1 is faster and a ratio below 1 is "
        'a loss, marked "(slower)". The load average before and after each script shows how busy '
        "the machine was: other processes on the same cores make every timing noisier.",
        "",
        harness.machine_markdown(machine),
    ]
    if skipped:
        lines[4:4] = [f"**Not run this time** (`--only`): {', '.join(skipped)}.", ""]
    for run in runs:
        lines += ["", f"## {run['script']}", "", _run_line(run)]
        if "error" in run:
            lines += ["", "**FAILED** — no results:", "", "```", run["error"], "```"]
            continue
        params = " ".join(f"{k}={v}" for k, v in run["report"]["params"].items())
        lines += ["", f"Parameters: {params}", harness.results_markdown(run["report"], heading="###")]
    return "\n".join(lines) + "\n"


def _run_line(run: dict) -> str:
    before, after = run["load"]
    return f"Ran {run['seconds']:.0f} s; load average {before} before, {after} after ({os.cpu_count()} cores)."


def _load() -> str:
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "unknown"


def failures(runs: list[dict]) -> list[str]:
    return [r["script"] for r in runs if "error" in r]
