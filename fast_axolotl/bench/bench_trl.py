"""TRL benchmark, one run: trl.data_utils.pack_dataset (TRL 1.9, its own function) against
fast_axolotl.trl's patch for every strategy on 200k and 1M tokenized rows of 16-1,023
tokens; DataCollatorForLanguageModeling on 200 batches, padded and padding-free; the packed
batch sampler (fast_axolotl.torch) against torch's DistributedSampler + BatchSampler. Every
fast result is checked identical to TRL's before it is timed.

Run from the repo root with the .venv active:
    python -m fast_axolotl.bench.bench_trl [--quick] [--json PATH] [--rows N,N] [--seed S]
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from fast_axolotl.bench import harness

SEQ_LENGTH, MIN_LEN, MAX_LEN, VOCAB = 4096, 16, 1023, 32000
BATCHES, BATCH_SIZE = 200, 8
TRL, OURS = "TRL 1.9", "fast_axolotl.trl (ours)"


def make_dataset(rows: int, seed: int):
    """`rows` rows of input_ids (int32, as a tokenizer map stores them) in one Arrow chunk."""
    from datasets import Dataset
    from datasets.table import InMemoryTable

    rng = np.random.default_rng(seed)
    lengths = rng.integers(MIN_LEN, MAX_LEN + 1, rows)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    values = rng.integers(0, VOCAB, int(offsets[-1]), dtype=np.int32)
    column = pa.ListArray.from_arrays(pa.array(offsets), pa.array(values))
    return Dataset(InMemoryTable(pa.table({"input_ids": column})))


def same_dataset(got, want) -> bool:
    """Same columns, types and rows (Arrow's C++ comparison, not Python lists)."""
    a, b = got.with_format("arrow")[:], want.with_format("arrow")[:]
    return got.features == want.features and a.schema == b.schema and a.equals(b)


def bench_pack(bench: harness.Bench, rows: int, seed: int) -> None:
    from trl.data_utils import pack_dataset as trl_pack

    from fast_axolotl._trl_pack import pack_dataset as ours

    ds = make_dataset(rows, seed)
    for strategy in ("bfd", "bfd_split", "wrapped"):
        case = f"pack_dataset {rows // 1000}k rows {strategy}"
        want = bench.time(case, TRL, lambda: trl_pack(ds, SEQ_LENGTH, strategy), once=True)
        got = bench.time(case, OURS, lambda: ours(ds, SEQ_LENGTH, strategy), repeat=5)
        same = same_dataset(got, want)
        bench.check(f"{case}: identical to TRL", f"{len(got)} rows, {'identical' if same else 'DIFFERENT'}", same)
        need = 10.0 if strategy == "wrapped" else 20.0
        bench.goal(f"{case} >= {need:g}x TRL", case, OURS, TRL, need=need)
        del want, got


def make_examples(seed: int) -> list:
    rng = np.random.default_rng(seed)
    batches = []
    for _ in range(BATCHES):
        lengths = rng.integers(MIN_LEN, MAX_LEN + 1, BATCH_SIZE)
        batch = []
        for n in lengths:
            ids = rng.integers(0, VOCAB, int(n)).tolist()
            cut = int(rng.integers(1, n))
            batch.append({"input_ids": ids, "labels": [-100] * cut + ids[cut:], "seq_lengths": [cut, int(n) - cut]})
        batches.append(batch)
    return batches


def same_tensors(got: list, want: list) -> bool:
    import torch

    return all(list(g) == list(w) and all(torch.equal(g[k], w[k]) for k in w) for g, w in zip(got, want))


def bench_collator(bench: harness.Bench, seed: int) -> None:
    from trl.trainer.sft_trainer import DataCollatorForLanguageModeling

    from fast_axolotl._trl_collate import torch_call as ours

    batches = make_examples(seed)
    trl_call = DataCollatorForLanguageModeling.torch_call
    for padding_free in (False, True):
        collator = DataCollatorForLanguageModeling(pad_token_id=0, padding_free=padding_free, pad_to_multiple_of=8)
        case = f"collator {BATCHES} batches x {BATCH_SIZE}" + (" padding_free" if padding_free else " padded")
        want = bench.time(case, TRL, lambda: [trl_call(collator, b) for b in batches])
        got = bench.time(case, OURS, lambda: [ours(collator, b) for b in batches])
        same = same_tensors(got, want)
        bench.check(f"{case}: identical tensors", "identical" if same else "DIFFERENT", same)
        bench.goal(f"{case} >= 5x TRL", case, OURS, TRL, need=5.0)


def bench_sampler(bench: harness.Bench, rows: int, seed: int) -> None:
    from torch.utils.data import BatchSampler, DistributedSampler

    from fast_axolotl.torch import PackedBatchSampler

    lengths = np.random.default_rng(seed).integers(MIN_LEN, MAX_LEN + 1, rows)
    case = f"batch sampler, one epoch of {rows // 1000}k rows, rank 0 of 2"
    torch_name, ours_name = "torch DistributedSampler + BatchSampler (no packing)", "PackedBatchSampler bfd (ours)"
    bench.baseline(case, torch_name)
    dist = DistributedSampler(range(rows), num_replicas=2, rank=0, shuffle=True, seed=seed)
    bench.time(case, torch_name, lambda: list(BatchSampler(dist, BATCH_SIZE, drop_last=False)))
    sampler = PackedBatchSampler(lengths, SEQ_LENGTH, bins_per_batch=1, seed=seed, num_replicas=2, rank=0)
    batches = bench.time(case, ours_name, lambda: list(sampler))
    fits = all(lengths[b].sum() <= SEQ_LENGTH for b in batches)
    bench.check(f"{case}: every packed batch fits {SEQ_LENGTH} tokens", f"{len(batches)} batches", fits)


def main() -> None:
    p = harness.parser(__doc__)
    p.add_argument("--rows", default="200000,1000000", help="dataset sizes for pack_dataset (comma-separated)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    bench = harness.Bench(args)
    import datasets

    import fast_axolotl.trl

    datasets.disable_progress_bars()  # TRL's map would print a bar per call

    fast_axolotl.trl.uninstall()  # the TRL rows time TRL's own functions
    sizes = [int(n) for n in args.rows.split(",")]
    for rows in sizes:
        bench_pack(bench, rows, args.seed)
    bench_collator(bench, args.seed)
    bench_sampler(bench, sizes[0], args.seed)
    bench.report(baseline=TRL)


if __name__ == "__main__":
    main()
