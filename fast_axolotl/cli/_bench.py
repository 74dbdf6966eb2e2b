"""`fast-axolotl bench`: the benchmark scripts, run into a Markdown report."""

from __future__ import annotations

import sys
from pathlib import Path

from ._options import progress


def run_bench(args) -> int:
    from .. import _bench

    bench_dir = _bench.find_bench_dir(args.bench_dir)
    scripts = _bench.bench_scripts(bench_dir, args.only)
    harness = _bench.load_harness()
    if args.readme:
        _bench.readme_parts(Path(args.readme))
    machine = harness.machine_info()  # before the run: its load average is the one we started with
    runs = _bench.run_all(scripts, args.quick, lambda **kw: progress(args, **kw))
    skipped = [s.name for s in _bench.bench_scripts(bench_dir) if s not in scripts]
    Path(args.out).write_text(_bench.markdown(runs, harness, args.quick, machine, skipped), encoding="utf-8")
    if args.readme:
        _bench.replace_readme_goals(Path(args.readme), _bench.goals_table(runs, harness, machine))
    failed = _bench.failures(runs)
    print(f"wrote {args.out}: {len(runs) - len(failed)} of {len(runs)} benchmark scripts ran")
    if failed:
        print(f"fast-axolotl bench: error: {', '.join(failed)} failed (see {args.out})", file=sys.stderr)
        return 1
    return 0
