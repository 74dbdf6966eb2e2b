"""The dataset-dedupe case of bench_hash.py: exact dedupe of a tokenized dataset, ours
against a faithful copy of Axolotl's `_deduplicate_dataset` loop (and Axolotl's own function
when Axolotl is installed). Kept in its own module: it needs `datasets`, the string cases do not."""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa

import fast_axolotl

CASE = "dedupe tokenized dataset"
AXOLOTL_LOOP = "Axolotl's loop (faithful copy)"
AXOLOTL_OWN = "Axolotl _deduplicate_dataset"
OURS = "fast_axolotl.deduplicate_dataset"


def tokenized_dataset(n_rows: int, seed: int, duplicates: float = 0.1):
    """`input_ids` list<int32> of 200-2000 tokens, `attention_mask` list<int8>, `labels`
    list<int64>; `duplicates` of the rows repeat earlier ones, shuffled in."""
    import datasets

    rng = np.random.default_rng(seed)
    unique = n_rows - int(n_rows * duplicates)
    lengths = rng.integers(200, 2001, unique)
    # int32 offsets and in-place labels: no float64/int64 temporaries per token (the full
    # run has ~220M tokens; generating them with temporaries took ~100 bytes per token).
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    total = int(offsets[-1])
    if total >= 2**31:
        raise ValueError(f"{n_rows} rows need {total} tokens: more than list<int32> offsets hold")
    offsets = offsets.astype(np.int32)
    labels = rng.integers(0, 32000, total, dtype=np.int64)
    labels[rng.integers(0, 10, total, dtype=np.int8) < 3] = -100
    columns = {
        "input_ids": rng.integers(0, 32000, total, dtype=np.int32),
        "attention_mask": np.ones(total, dtype=np.int8),
        "labels": labels,
    }
    table = pa.table({name: pa.ListArray.from_arrays(offsets, values) for name, values in columns.items()})
    order = np.concatenate([np.arange(unique), rng.integers(0, unique, n_rows - unique)])
    rng.shuffle(order)
    # A fingerprint of our own: computing one hashes a pickle of the whole table (+65 bytes per token).
    return datasets.Dataset(table.take(order), fingerprint=f"fastaxo-bench-{n_rows}-{seed}-{duplicates}")


def axolotl_loop(dataset, seen_hashes=None):
    """axolotl 0.19.0 utils/data/utils.py `_deduplicate_dataset`, line for line."""
    if seen_hashes is None:
        seen_hashes = set()
    unique_indices = []
    for idx, row in enumerate(dataset):
        row_hash = hashlib.sha256(str(row).encode("utf-8")).hexdigest()
        if row_hash not in seen_hashes:
            seen_hashes.add(row_hash)
            unique_indices.append(idx)
    return dataset.select(unique_indices), seen_hashes


def kept_rows(result) -> list:
    """What a dedupe kept, comparable across implementations: the dataset's row indices."""
    dataset = result[0]
    return dataset._indices.column(0).to_pylist() if dataset._indices is not None else list(range(len(dataset)))


def bench_dedupe(bench, n_rows: int, seed: int) -> None:
    try:
        dataset = tokenized_dataset(n_rows, seed)
    except ImportError:
        bench._add(CASE, OURS, None, note="not available: datasets is not installed")
        return
    case = f"{CASE}, {n_rows:,} rows"
    bench.baseline(case, AXOLOTL_LOOP)
    # The Python loops take tens of seconds: one timed run each.
    reference = bench.time(case, AXOLOTL_LOOP, lambda: kept_rows(axolotl_loop(dataset)), once=True)
    try:
        from axolotl.utils.data.utils import _deduplicate_dataset
    except ImportError:
        bench._add(case, AXOLOTL_OWN, None, note="not available: Axolotl is not installed")
    else:
        bench.time(case, AXOLOTL_OWN, lambda: kept_rows(_deduplicate_dataset(dataset)), reference, once=True)
    bench.time(
        case,
        OURS,
        lambda: kept_rows(fast_axolotl.deduplicate_dataset(dataset)),
        reference,
        note=f"{len(reference)} of {n_rows} rows kept",
    )
    bench.goal(f"{case}: dedupe >= 20x Axolotl's loop, end to end", case, OURS, AXOLOTL_LOOP, need=20.0)
