"""Axolotl with and without fast-axolotl's patches, one run: Axolotl's own function against
the same function patched (`fast_axolotl.axolotl.install()`), every patched result checked
against the original's first. Cases: the dedupe stage (`_deduplicate_dataset` on tokenized
rows), the multipack sampler (`generate_batches` and `__len__`, capacity 8192), the two
collators (batches/s on realistic batches and bins), and the whole `axolotl preprocess` of a
generated chat dataset (subprocesses, wall time), with the bound tokenization puts on it.

Run from the repo root with the .venv active:
    python -m fast_axolotl.bench.bench_axolotl [--quick] [--json PATH] [--seed S] [--dedupe-rows N]
        [--lengths N] [--batches N] [--preprocess-rows N] [--cases dedupe sampler collators preprocess]
"""

from __future__ import annotations

import gc
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa

from fast_axolotl.bench import axolotl_data as fixtures
from fast_axolotl.bench import harness
from fast_axolotl.bench.dedupe_case import kept_rows

harness.axolotl_as_shipped()  # before the imports below capture Axolotl's originals
import axolotl.utils.collators.batching as batching  # noqa: E402
import axolotl.utils.data.utils as data_utils  # noqa: E402
import axolotl.utils.samplers.multipack as multipack  # noqa: E402
import torch  # noqa: E402

AXOLOTL, PATCHED = "Axolotl", "Axolotl + fast-axolotl"
CAPACITY, GROUP_SIZE, BIN_SIZE = 8192, 100_000, 200  # Axolotl's sampler defaults, 8k context
SEQUENCE_LEN = 4096  # the collator cases: a packed row, and the longest unpacked sample
SIZES = {  # full run, --quick
    "dedupe_rows": (200_000, 3_000),
    "lengths": (1_000_000, 20_000),
    "batches": (200, 20),
    "preprocess_rows": (100_000, 500),
}


def timed_pair(bench: harness.Bench, case: str, run, compare=lambda x: x, slow_once: bool = True):
    """Time `run()` on plain Axolotl, then patched; the patched result must equal the original's."""
    bench.baseline(case, AXOLOTL)
    with harness.axolotl_patched(False):
        expected = compare(bench.time(case, AXOLOTL, run, once=slow_once))
    with harness.axolotl_patched(True):
        bench.time(case, PATCHED, lambda: compare(run()), expected)


# --- dedupe -------------------------------------------------------------------------------


def tokenized_dataset(rows: int, seed: int, duplicates: float = 0.1):
    """Rows as Axolotl dedupes them: input_ids list<int32> of 32-512 tokens (chat-sized),
    attention_mask list<int8>, labels list<int64> (a third -100), position_ids list<int64>,
    length int64; `duplicates` of the rows repeat earlier ones, shuffled in."""
    import datasets

    rng = np.random.default_rng(seed)
    unique = rows - int(rows * duplicates)
    lengths = rng.integers(32, 513, unique)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    ids = rng.integers(0, 32000, int(offsets[-1]), dtype=np.int32)
    positions = np.arange(offsets[-1], dtype=np.int64) - np.repeat(offsets[:-1], lengths)
    columns = {
        "input_ids": ids,
        "attention_mask": np.ones(ids.size, np.int8),
        "labels": np.where(positions < np.repeat(lengths // 3, lengths), -100, ids).astype(np.int64),
        "position_ids": positions,
    }
    table = pa.table({name: pa.ListArray.from_arrays(offsets, values) for name, values in columns.items()})
    table = table.append_column("length", pa.array(lengths, pa.int64()))
    order = np.concatenate([np.arange(unique), rng.integers(0, unique, rows - unique)])
    rng.shuffle(order)
    return datasets.Dataset(table.take(order))


def bench_dedupe(bench: harness.Bench, rows: int, seed: int) -> None:
    dataset = tokenized_dataset(rows, seed)
    case = f"_deduplicate_dataset, {rows:,} tokenized rows"
    timed_pair(bench, case, lambda: data_utils._deduplicate_dataset(dataset), compare=kept_rows)
    bench.goal(f"{case}: >= 20x Axolotl", case, PATCHED, AXOLOTL, need=20.0)


# --- the multipack sampler ----------------------------------------------------------------


def realistic_lengths(n: int, seed: int) -> np.ndarray:
    """Lognormal token counts: median 300, sigma 1, clipped to [16, 8192]."""
    rng = np.random.default_rng(seed)
    return np.clip(np.round(rng.lognormal(np.log(300), 1.0, n)), 16, CAPACITY).astype(np.int64)


def sampler(lengths: np.ndarray, seed: int):
    """A fresh sampler as Axolotl's trainer builds one (shuffled, seeded): the batches are
    cached per sampler, so each timed call gets its own."""
    order = torch.utils.data.RandomSampler(range(len(lengths)), generator=torch.Generator().manual_seed(seed))
    return multipack.MultipackBatchSampler(
        order, batch_size=1, batch_max_len=CAPACITY, lengths=lengths, bin_size=BIN_SIZE, group_size=GROUP_SIZE
    )


def bench_sampler(bench: harness.Bench, n: int, seed: int) -> None:
    lengths = realistic_lengths(n, seed)
    multipack.pack_parallel(lengths[:1000], CAPACITY, GROUP_SIZE, BIN_SIZE, 1)  # numba compiles on first use
    batches = f"MultipackBatchSampler.generate_batches, {n:,} lengths, capacity {CAPACITY}"
    timed_pair(bench, batches, lambda: sampler(lengths, seed).generate_batches(set_stats=True))
    length = f"MultipackBatchSampler.__len__, {n:,} lengths, capacity {CAPACITY}"
    timed_pair(bench, length, lambda: len(sampler(lengths, seed)))
    for case in (batches, length):
        bench.goal(f"{case}: >= 20x Axolotl", case, PATCHED, AXOLOTL, need=20.0)
    # The patched generate_batches leaves out the original's closing gc.collect() (it only
    # frees memory): its cost here, a full collection in this process, is part of the ratio.
    case = "gc.collect() in this process (the original generate_batches ends with one)"
    bench.time(case, AXOLOTL, gc.collect, note="included in the Axolotl generate_batches time above, once per call")


# --- collators ----------------------------------------------------------------------------


def features(lengths, rng) -> list:
    """Dataset rows as the DataLoader hands them over: Python lists, labels partly -100."""
    rows = []
    for length in lengths:
        ids = rng.integers(0, 300, int(length)).tolist()
        labels = [-100 if i < length // 3 else t for i, t in enumerate(ids)]
        rows.append(
            {
                "input_ids": ids,
                "attention_mask": [1] * int(length),
                "labels": labels,
                "position_ids": list(range(int(length))),
                "length": int(length),
            }
        )
    return rows


def unpacked_batches(count: int, seed: int) -> list:
    """Batches of 8 samples (micro_batch_size 8, no packing), lengths as in realistic_lengths."""
    rng = np.random.default_rng(seed)
    lengths = np.minimum(realistic_lengths(8 * count, seed), SEQUENCE_LEN)
    rows = features(lengths, rng)
    for row in rows:
        del row["length"]  # the collator without packing gets no length column
    return [rows[i : i + 8] for i in range(0, len(rows), 8)]


def packed_batches(count: int, seed: int) -> list:
    """Batches of 2 bins (micro_batch_size 2) packed by Axolotl's first fit, capacity 4096."""
    rng = np.random.default_rng(seed)
    lengths = np.minimum(realistic_lengths(40 * count, seed), SEQUENCE_LEN)
    bins = multipack.pack_parallel(lengths, SEQUENCE_LEN, GROUP_SIZE, BIN_SIZE, 1)[: 2 * count]
    rows = features(lengths, rng)
    return [[[rows[i] for i in b] for b in bins[j : j + 2]] for j in range(0, len(bins), 2)]


def collated(batches: list) -> dict:
    """Collator outputs in a form check_same compares: "batch key" -> array, and its dtype."""
    out = {}
    for i, batch in enumerate(batches):
        for key, value in batch.items():
            out[f"{i} {key}"] = np.asarray(value)
            out[f"{i} {key} dtype"] = str(value.dtype)
    return out


def bench_collators(bench: harness.Bench, count: int, seed: int) -> None:
    tokenizer = fixtures.build_tokenizer()
    seq2seq = batching.DataCollatorForSeq2Seq(tokenizer, padding=True, pad_to_multiple_of=64, return_tensors="pt")
    v2 = batching.V2BatchSamplerDataCollatorForSeq2Seq(
        tokenizer, padding=True, pad_to_multiple_of=SEQUENCE_LEN, return_tensors="pt"
    )
    unpacked, packed = unpacked_batches(count, seed), packed_batches(count, seed)
    # The original pads each feature's labels and position_ids into the dict it was given:
    # every call gets fresh dicts (the same lists), the patched run too.
    cases = [
        (
            f"DataCollatorForSeq2Seq, {len(unpacked)} batches of 8",
            lambda: [seq2seq([dict(f) for f in batch]) for batch in unpacked],
        ),
        (
            f"V2BatchSamplerDataCollatorForSeq2Seq, {len(packed)} batches of 2 bins of {SEQUENCE_LEN}",
            lambda: [v2(batch) for batch in packed],
        ),
    ]
    for case, run in cases:
        timed_pair(bench, case, run, compare=collated, slow_once=False)
        bench.goal(f"{case}: >= 5x Axolotl", case, PATCHED, AXOLOTL, need=5.0)
    for (case, _), count in zip(cases, (len(unpacked), len(packed))):
        for row in bench.rows:
            if row["case"] == case and row["timing"]:
                row["note"] = f"{count / row['timing']['median']:,.0f} batches/s"


# --- the whole preprocess -----------------------------------------------------------------


def bench_preprocess(bench: harness.Bench, rows: int, seed: int) -> None:
    """The whole `axolotl preprocess` of generated chats with the Llama 3 tokenizer, both ways
    with dataset_num_proc = the cores (demo_preprocess.py, the README's first command, runs
    the same)."""
    import demo_preprocess as demo

    case = f"axolotl preprocess, {rows:,} chats, Llama 3 + llama3 (wall, subprocess)"
    bench.baseline(case, AXOLOTL)
    with tempfile.TemporaryDirectory(prefix="fastaxo-bench-preprocess-") as tmp:
        root = Path(tmp)
        model, data = demo.inputs(root, rows, seed)
        outputs = {}

        def run(name: str, plugin: bool):
            _, outputs[name], prepared_path = demo.run_preprocess(root, model, data, plugin)
            prepared = fixtures.prepared_dataset(prepared_path)
            return prepared.features, prepared.data.table

        expected = bench.time(case, AXOLOTL, lambda: run("axolotl", False), once=True)
        got = bench.time(
            case,
            PATCHED,
            lambda: run("plugin", True),
            once=True,
            note=f"dataset_num_proc {demo.os.cpu_count()}; output compared table for table",
        )
        if got[0] != expected[0] or not got[1].equals(expected[1]):
            raise AssertionError(f"{case}: the prepared dataset differs from Axolotl's")
    bench.goal(f"{case}: >= 8x Axolotl", case, PATCHED, AXOLOTL, need=8.0)
    # The stages by their progress bars, on each row.
    for row in bench.rows:
        if row["case"] == case:
            bars = demo.bar_seconds(outputs["plugin" if row["impl"] == PATCHED else "axolotl"])
            stages = ", ".join(f"{name} {seconds} s" for name, seconds in sorted(bars.items(), key=lambda b: -b[1]))
            row["note"] = "; ".join(filter(None, [row["note"], stages]))


# name: (function, its size), in the order they run.
CASES = {
    "dedupe": (bench_dedupe, "dedupe_rows"),
    "sampler": (bench_sampler, "lengths"),
    "collators": (bench_collators, "batches"),
    "preprocess": (bench_preprocess, "preprocess_rows"),
}


def main() -> None:
    p = harness.parser(__doc__)
    p.add_argument("--seed", type=int, default=0)
    for key in SIZES:
        p.add_argument("--" + key.replace("_", "-"), type=int, default=None)
    p.add_argument("--cases", nargs="+", choices=sorted(CASES), default=sorted(CASES), help="which cases to run (all)")
    args = p.parse_args()
    sizes = {key: getattr(args, key) or SIZES[key][args.quick] for key in SIZES}
    bench = harness.Bench(args)
    for name, (run, size) in CASES.items():
        if name in args.cases:
            run(bench, sizes[size], args.seed)
    bench.report(baseline=AXOLOTL)


if __name__ == "__main__":
    main()
