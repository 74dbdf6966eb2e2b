"""`fast-axolotl bench`: run the benchmark scripts (`fast_axolotl/bench/bench_*.py`) and
write one Markdown report.

The scripts ship in the wheel and generate their data at run time, so the command works from
an installed package. Baselines that are development set-ups are optional: Axolotl (and
torch), the `bench` extra's tokenizers and fast-axolotl 0.2.0 in its own venv (see
`harness.old_python`); a row whose baseline is missing says so instead of timing it.
`--bench-dir` runs another directory's `bench_*.py` scripts instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Optional


def find_bench_dir(explicit: Optional[str] = None) -> Path:
    """The directory of the bench_*.py scripts: `explicit`, else the package's own."""
    if explicit is None:
        from . import bench

        return Path(bench.__file__).resolve().parent
    if not Path(explicit).is_dir():
        raise FileNotFoundError(f"{explicit} is not a directory")
    return Path(explicit).resolve()


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
    # The working directory stays the caller's: the 0.2.0 venv is looked for there.
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
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


def load_harness() -> ModuleType:
    """The scripts' harness: its Markdown rendering is the one the scripts print."""
    from .bench import harness

    return harness


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


README_START = "<!-- goals: written by `fast-axolotl bench --readme`; do not edit by hand -->"
README_END = "<!-- end of goals -->"


def goals_table(runs: list[dict], harness, machine: dict) -> str:
    """Every goal of the run, one row each, as the README shows them: from the same reports
    as BENCHMARK.md, so the two cannot disagree."""
    lines = [
        f"Goals of the `fast-axolotl bench` run of {machine['date']} ({machine['cpu']}, {machine['cores']} cores; "
        "BENCHMARK.md has every timing):",
        "",
        "| script | goal | measured | status |",
        "|---|---|---|---|",
    ]
    for run in runs:
        if "error" in run:
            lines.append(f"| {run['script']} | the script ran | failed | **FAILED** |")
        for goal in run.get("report", {}).get("goals", []):
            measured = goal.get("measured") or harness.goal_ratio_text(goal)
            lines.append(f"| {run['script']} | {goal['goal']} | {measured} | {goal['status']} |")
    return "\n".join(lines)


def readme_parts(readme: Path) -> tuple[str, str]:
    """The text of `readme` up to its goals block and from the block's end on (checked before
    a run, so a README without the block fails at once, not after the benchmarks)."""
    text = readme.read_text(encoding="utf-8")
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < start:
        raise ValueError(f"{readme} has no goals block: it needs the lines {README_START} and {README_END}")
    return text[: start + len(README_START)], text[end:]


def replace_readme_goals(readme: Path, table: str) -> None:
    """`table` as the goals block of `readme`; the rest is left as it is."""
    head, tail = readme_parts(readme)
    readme.write_text(f"{head}\n{table}\n{tail}", encoding="utf-8")


def failures(runs: list[dict]) -> list[str]:
    return [r["script"] for r in runs if "error" in r]
