"""Ray Data scale-out benchmark, one run: fast_axolotl.ray dedupe and pack on a local Ray
cluster (all the cores of this machine) against the single-process path (`fast-axolotl
dedupe` / `pack`), file to file, at 1M and 5M rows. The Ray dedupe's output must equal the
single-process output, and both packings must fill within 0.1% of the lower bound, before
their times count. Also the per-row costs that docs/scale-out.md's estimate is made from.

Run from the repo root with the .venv active (needs `pip install -e .[ray]`):
    python -m fast_axolotl.bench.bench_ray [--quick] [--json PATH] [--rows N [N ...]] [--seed S]
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import ray
import ray.data

import fast_axolotl.ray as fr
from fast_axolotl import cli
from fast_axolotl.bench import harness
from fast_axolotl.dedupe import Seen, row_digests
from fast_axolotl.packing import pack_bins
from fast_axolotl.reader import open_reader

SHARDS = 8
DUPLICATES = 0.1  # of the text rows repeat an earlier row
MAX_LENGTH = 2048
TOKENS_MIN, TOKENS_MAX = 1, 64  # per tokenized row (small rows: 5M of them fit this machine)
SINGLE = "single process (ours)"
RAY, RAY_HASH, RAY_SORT = "Ray (ours)", "Ray, hash shuffle (ours)", "Ray, sort shuffle (ours)"
STRATEGIES = {RAY_HASH: "hash_shuffle", RAY_SORT: "sort_shuffle_pull_based"}


def text_table(n: int, seed: int) -> pa.Table:
    """JSON-like rows of ~70-130 bytes, each unique but for DUPLICATES of them, which repeat
    a random other row (so duplicates fall in any shard)."""
    rng = np.random.default_rng(seed)
    ids = np.arange(n)
    repeats = rng.choice(n, int(n * DUPLICATES), replace=False)
    ids[repeats] = rng.integers(0, n, repeats.size)
    fillers = pa.array([("lorem ipsum dolor sit amet " * 3)[:k] for k in range(16, 80)])
    filler = pc.take(fillers, pa.array(ids % len(fillers)))
    text = pc.binary_join_element_wise(
        '{"role": "user", "id": ', pc.cast(pa.array(ids), pa.string()), ', "text": "', filler, '"}', ""
    )
    return pa.table({"text": text, "n": pa.array(ids % 7)})


def token_table(n: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(TOKENS_MIN, TOKENS_MAX + 1, n)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    values = rng.integers(0, 32000, int(offsets[-1]), dtype=np.int32)
    return pa.table({"input_ids": pa.ListArray.from_arrays(pa.array(offsets), pa.array(values))})


def write_shards(table: pa.Table, folder: Path) -> Path:
    folder.mkdir(parents=True)
    step = -(-table.num_rows // SHARDS)
    for i in range(SHARDS):
        pq.write_table(table.slice(i * step, step), folder / f"part-{i:02d}.parquet")
    return folder


def read_all(path: Path) -> pa.Table:
    with open_reader(str(path)) as reader:
        return reader.read_all()


def fresh(path: Path) -> Path:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()
    return path


def run_cli(*args) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = cli.main([*map(str, args), "--quiet"])
    if code:
        raise RuntimeError(f"fast-axolotl {' '.join(map(str, args))} failed")
    return out.getvalue()


def ray_dedupe(source: Path, out: Path, strategy: str) -> None:
    fr.write_parquet(fr.dedupe(fr.read(source), shuffle_strategy=strategy), fresh(out))


def ray_pack(source: Path, out: Path) -> None:
    fr.write_parquet(fr.pack(fr.read(source, columns=["input_ids"]), MAX_LENGTH), fresh(out))


def time_rows(bench: harness.Bench, case: str, impl: str, fn, rows: int) -> None:
    """One timed run (a Ray run is seconds of work), noted as rows per second."""
    bench.time(case, impl, fn, once=True)
    bench.rows[-1]["note"] = f"{rows / bench.median(case, impl):,.0f} rows/s"


def bench_dedupe(bench: harness.Bench, n: int, seed: int, tmp: Path) -> None:
    case = f"dedupe {n:,} rows ({SHARDS} Parquet shards → Parquet)"
    source = write_shards(text_table(n, seed), tmp / f"text-{n}")
    single_out, ray_out = tmp / f"dedupe-{n}.parquet", tmp / f"dedupe-{n}-ray"
    time_rows(bench, case, SINGLE, lambda: run_cli("dedupe", source, fresh(single_out)), n)
    expected = pq.read_table(single_out)
    for impl, strategy in STRATEGIES.items():
        time_rows(bench, case, impl, lambda: ray_dedupe(source, ray_out, strategy), n)
        got = read_all(ray_out)
        if not got.equals(expected.cast(got.schema)):
            raise AssertionError(f"{case} / {impl}: the rows kept differ from the single-process dedupe")


def bench_pack(bench: harness.Bench, n: int, seed: int, tmp: Path) -> None:
    case = f"pack {n:,} rows of {TOKENS_MIN}-{TOKENS_MAX} tokens into {MAX_LENGTH}"
    table = token_table(n, seed)
    source = write_shards(table, tmp / f"tokens-{n}")
    total = int(pc.sum(pc.list_value_length(table["input_ids"])).as_py())
    bound = -(-total // MAX_LENGTH)
    single_out, ray_out = tmp / f"pack-{n}.parquet", tmp / f"pack-{n}-ray"
    time_rows(bench, case, SINGLE, lambda: run_cli("pack", source, fresh(single_out), "--max-length", MAX_LENGTH), n)
    time_rows(bench, case, RAY, lambda: ray_pack(source, ray_out), n)
    for impl, packed in ((SINGLE, pq.read_table(single_out)), (RAY, read_all(ray_out))):
        tokens = int(pc.sum(pc.list_value_length(packed["input_ids"])).as_py())
        if tokens != total or packed.num_rows > bound * 1.001:
            raise AssertionError(
                f"{case} / {impl}: {tokens} of {total} tokens in {packed.num_rows} rows (bound {bound})"
            )
        bench.check(
            f"{case}: {impl} within 0.1% of ceil(tokens / {MAX_LENGTH})",
            f"{packed.num_rows:,} rows, bound {bound:,}",
            True,
        )


def bench_per_row(bench: harness.Bench, n: int, seed: int) -> None:
    """One core's cost per row of each kernel the Ray path runs, and the bytes a row puts
    into the shuffle: the inputs of the 1B-row estimate in docs/scale-out.md."""
    table = text_table(n, seed)
    with_ids = table.append_column(fr.ROW_ID, pa.array(np.arange(n, dtype=np.int64)))
    digests = row_digests(table, num_threads=1)
    keyed = fr.digest_batch(with_ids, None, 64)
    tokens = token_table(n, seed)
    lengths = np.diff(tokens["input_ids"].combine_chunks().offsets.to_numpy()).astype(np.int64)
    kernels = {
        "row_digests (SHA-256 of str(row))": lambda: row_digests(table, num_threads=1),
        "Seen.insert (first of each digest)": lambda: Seen().insert(digests),
        "duplicates_in_bucket (sort by row id + Seen)": lambda: fr.duplicates_in_bucket(keyed),
        "pack_bins bfd": lambda: pack_bins(lengths, MAX_LENGTH),
        "pack_batch (pack_bins + gather into Arrow)": lambda: fr.pack_batch(tokens, MAX_LENGTH, "bfd", "input_ids"),
    }
    for kernel, fn in kernels.items():
        case, impl = f"per-row cost: {kernel}, {n:,} rows", "ours, 1 thread"
        bench.time(case, impl, fn)
        bench.rows[-1]["note"] = f"{bench.median(case, impl) / n * 1e9:.0f} ns/row"
        bench.baseline(case, impl)
    bench.params["shuffle_bytes_per_row"] = round(keyed.nbytes / n, 1)
    bench.params["text_bytes_per_row"] = round(table.nbytes / n, 1)


def main() -> None:
    p = harness.parser(__doc__)
    p.add_argument(
        "--rows", type=int, nargs="+", help="dataset sizes (default 1,000,000 and 5,000,000; --quick 20,000 and 50,000)"
    )
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    sizes = args.rows or ([20_000, 50_000] if args.quick else [1_000_000, 5_000_000])
    bench = harness.Bench(args)
    bench.params["cpus"] = os.cpu_count()
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        with tempfile.TemporaryDirectory(prefix="fastaxo-bench-ray-") as tmp:
            warm = write_shards(text_table(2000, args.seed), Path(tmp, "warmup"))
            for strategy in STRATEGIES.values():  # worker processes and imports, not timed
                ray_dedupe(warm, Path(tmp, "warmup-out"), strategy)
            for n in sizes:
                bench_dedupe(bench, n, args.seed, Path(tmp))
                bench_pack(bench, n, args.seed, Path(tmp))
        bench_per_row(bench, min(sizes[0], 1_000_000), args.seed)
    finally:
        ray.shutdown()
    bench.report(baseline=SINGLE)


if __name__ == "__main__":
    main()
