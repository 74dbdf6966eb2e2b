"""Profile of `axolotl preprocess` on a generated chat dataset, without and with the
fast-axolotl plugin: where the time goes, stage by stage (cProfile cumulative seconds of
Axolotl's data-pipeline functions, or of the fast-axolotl replacement that ran instead).

Run from the repo root with the .venv active (100k rows take ~20 minutes on 2 cores):
    python -m fast_axolotl.bench.profile_preprocess [--rows 100000] [--seed 0] [--keep DIR]

The config is the tests' (axolotl_data.py): dedupe, sample packing, sequence_len
256, dataset_num_proc 1, a tiny generated tokenizer. Both runs' prepared datasets are
compared table for table before the profile is printed.
"""

from __future__ import annotations

import argparse
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fast_axolotl.bench import axolotl_data as fixtures

# stage: (Axolotl's function, the fast-axolotl function that replaces it; None = not replaced)
STAGES = {
    "load the dataset file": (
        ("axolotl/utils/data/shared.py", "_load_from_local_path"),
        ("fast_axolotl/axolotl/loader.py", "load_from_local_path"),
    ),
    "tokenization (chat_template map)": (("axolotl/datasets.py", "process"), None),
    "drop rows outside the length range": (
        ("axolotl/utils/data/utils.py", "_drop_outside_range"),
        ("fast_axolotl/axolotl/stages.py", "drop_outside_range"),
    ),
    "exact dedupe": (
        ("axolotl/utils/data/utils.py", "_deduplicate_dataset"),
        ("fast_axolotl/axolotl/dedupe.py", "deduplicate"),
    ),
    "packing prep (drop untrainable, position ids, lengths)": (
        ("axolotl/utils/trainer.py", "process_datasets_for_packing"),
        ("fast_axolotl/axolotl/stages.py", "process_datasets_for_packing"),
    ),
    "sample lengths": (
        ("axolotl/utils/samplers/utils.py", "get_dataset_lengths"),
        ("fast_axolotl/axolotl/lengths.py", "get_dataset_lengths"),
    ),
    "sampler batches (step count)": (
        ("axolotl/utils/samplers/multipack.py", "generate_batches"),
        ("fast_axolotl/axolotl/sampler.py", "generate_batches"),
    ),
    "save the prepared dataset": (("datasets/arrow_dataset.py", "save_to_disk"), None),
}


def cumulative(stats: pstats.Stats, where: tuple[str, str]) -> float:
    """Cumulative seconds of the function `where` = (file path suffix, name), over all its
    entries (a recursive or twice-defined function is counted once per top-level call)."""
    suffix, name = where
    return sum(entry[3] for (path, _, func), entry in stats.stats.items() if func == name and path.endswith(suffix))


def profile_run(root: Path, model: Path, data: Path, plugin: bool) -> tuple[float, pstats.Stats, object]:
    workdir = root / ("plugin" if plugin else "axolotl")
    workdir.mkdir()
    config = fixtures.write_config(
        workdir / "config.yml", fixtures.axolotl_config(workdir, model, [(data, fixtures.CHAT_DATASET)], plugin)
    )
    profile = workdir / "preprocess.prof"
    command = [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "axolotl.cli.preprocess", str(config)]
    env = fixtures.axolotl_env(**({} if plugin else {"FAST_AXOLOTL_DISABLE": "1"}))
    start = time.perf_counter()
    process = subprocess.run(command, cwd=workdir, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"axolotl preprocess failed:\n{process.stderr[-4000:]}")
    return wall, pstats.Stats(str(profile)), fixtures.prepared_dataset(workdir / "prepared")


def report(rows: int, runs: dict) -> str:
    (wall_a, stats_a, _), (wall_p, stats_p, _) = runs[False], runs[True]
    lines = [
        f"axolotl preprocess, {rows:,} generated chat rows, cProfile (adds overhead to Python-heavy stages)",
        "",
        "| stage | Axolotl s | with fast-axolotl s | ratio |",
        "|---|---:|---:|---:|",
    ]
    for stage, (theirs, ours) in STAGES.items():
        before = cumulative(stats_a, theirs)
        # The original runs in the patched process too when the fast path hands a call back.
        after = cumulative(stats_p, theirs) + (cumulative(stats_p, ours) if ours else 0.0)
        ratio = f"{before / after:.1f}x" if after > 0 else "-"
        lines.append(f"| {stage} | {before:.2f} | {after:.2f} | {ratio} |")
    lines.append(f"| **whole run (wall, incl. start-up)** | {wall_a:.1f} | {wall_p:.1f} | {wall_a / wall_p:.2f}x |")
    tokenize = cumulative(stats_a, STAGES["tokenization (chat_template map)"][0])
    lines += [
        "",
        f"Tokenization is {tokenize:.1f} s of {wall_a:.1f} s: with it unchanged, the whole run can be "
        f"at most {wall_a / tokenize:.2f}x faster even if every other stage took no time.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep", type=Path, help="write the data, configs and .prof files here (kept)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fastaxo-profile-") as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        model = fixtures.build_model_dir(root / "model")
        data = fixtures.write_jsonl(root / "chat.jsonl", fixtures.chat_rows(args.rows, seed=args.seed))
        runs = {plugin: profile_run(root, model, data, plugin) for plugin in (False, True)}
        a, p = runs[False][2], runs[True][2]
        if a.features != p.features or not a.data.table.equals(p.data.table):
            raise SystemExit("the prepared datasets differ: not profiling a correct run")
        print(report(args.rows, runs))


if __name__ == "__main__":
    main()
