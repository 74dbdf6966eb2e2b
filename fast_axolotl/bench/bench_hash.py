"""SHA-256 row hashing benchmark, one run: fast_axolotl.parallel_hash_rows against a hashlib
loop, hashlib in a thread pool and fast-axolotl 0.2.0 (its own venv, see scripts/setup-old-venv.sh),
on JSON-like rows (100k and 1M rows of 60–200 bytes), on 100k rows of 4 KiB, and on the
100k ~60-byte rows of issue #21 (against the hashlib loop).

Run from the repo root with the .venv active:
    python -m fast_axolotl.bench.bench_hash [--quick] [--json PATH] [--seed S]
"""

from __future__ import annotations

import hashlib
import os
import random
from concurrent.futures import ThreadPoolExecutor
from itertools import chain

import numpy as np
import pyarrow as pa

import fast_axolotl
from fast_axolotl.bench import harness
from fast_axolotl.bench.dedupe_case import bench_dedupe

SHORT_MIN, SHORT_MAX = 60, 200  # bytes per JSON-like row
LONG = 4096
WORDS = ["the", "model", "data", "token", "train", "loss", "answer", "user", "value", "batch", "rust", "fast"]
ROLES = ["user", "assistant", "system"]

HASHLIB, POOL, OLD = "hashlib loop", "hashlib ThreadPool", "fast-axolotl 0.2.0"
LIST_HEX, ARROW = "ours list[str]→hex", "ours Arrow→digests"
ONE_BUFFER = "hashlib, one buffer, 1 core (limit)"

OLD_CODE = """
import fast_axolotl
assert fast_axolotl.__version__ == "0.2.0", fast_axolotl.__version__
rows = data["rows"]
def fn():
    return fast_axolotl.parallel_hash_rows(rows, 0)
"""


def make_rows(n: int, min_len: int, max_len: int, seed: int) -> list[str]:
    """JSON-like ASCII rows of min_len..max_len bytes; unique (each has its id)."""
    rng = random.Random(seed)
    text = " ".join(rng.choice(WORDS) for _ in range(max(20_000, 2 * max_len)))
    rows = []
    for i in range(n):
        length = rng.randint(min_len, max_len)
        head = f'{{"id": {i}, "role": "{rng.choice(ROLES)}", "text": "'
        start = rng.randrange(len(text) - max_len)
        rows.append(head + text[start : start + length - len(head) - 2] + '"}')
    return rows


def make_sample_rows(n: int) -> list[str]:
    """The short rows of issue #21 (about 60 bytes): the per-row costs outside SHA-256
    (encoding, walking the list, making the hex strings) weigh most here."""
    return [f'{{"id": {i}, "text": "Sample text content {i}", "value": {i * 1.5}}}' for i in range(n)]


def bench_short(bench: harness.Bench, case: str, rows: list[str]) -> None:
    want = hashlib_loop(rows)
    bench.time(case, HASHLIB, lambda: hashlib_loop(rows), want)
    bench.time(case, LIST_HEX, lambda: fast_axolotl.parallel_hash_rows(rows), want)


def hashlib_loop(rows: list[str]) -> list[str]:
    return [hashlib.sha256(row.encode("utf-8")).hexdigest() for row in rows]


def hashlib_pool(rows: list[str], pool: ThreadPoolExecutor, threads: int) -> list[str]:
    """hashlib releases the GIL only for data over 2047 bytes: short rows gain nothing."""
    size = -(-len(rows) // (4 * threads))
    chunks = [rows[i : i + size] for i in range(0, len(rows), size)]
    return list(chain.from_iterable(pool.map(hashlib_loop, chunks)))


def hashlib_digests(rows: list[str]) -> np.ndarray:
    raw = b"".join(hashlib.sha256(row.encode("utf-8")).digest() for row in rows)
    return np.frombuffer(raw, np.uint8).reshape(-1, 32)


def cores() -> int:
    """Threads num_threads=0 uses (the library asks the same of the OS)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def bench_case(bench: harness.Bench, case: str, rows: list[str], pool: ThreadPoolExecutor) -> None:
    want = hashlib_loop(rows)
    want_digests = hashlib_digests(rows)
    arr = pa.array(rows, pa.string())
    threads = cores()

    bench.time(case, HASHLIB, lambda: hashlib_loop(rows), want)
    bench.time(case, POOL, lambda: hashlib_pool(rows, pool, threads), want, note=f"{threads} threads")
    bench.time_other(case, OLD, OLD_CODE, {"rows": rows}, want)
    bench.time(case, LIST_HEX, lambda: fast_axolotl.parallel_hash_rows(rows), want)
    bench.time(case, ARROW, lambda: fast_axolotl.parallel_hash_rows(arr, return_digests=True), want_digests)


def bench_throughput(bench: harness.Bench, case: str, rows: list[str]) -> None:
    """GB/s per core of Arrow→digests, next to OpenSSL hashing one buffer of the same bytes
    on one core: the speed of the SHA instructions themselves on this CPU."""
    data = b"".join(row.encode("utf-8") for row in rows)
    bench.time(case, ONE_BUFFER, lambda: hashlib.sha256(data).digest())
    seconds, limit = bench.median(case, ARROW), bench.median(case, ONE_BUFFER)
    per_core = len(data) / seconds / cores() / 1e9
    measured = (
        f"{per_core:.2f} GB/s per core ({len(data) / 1e9:.2f} GB, {seconds * 1e3:.1f} ms, {cores()} threads); "
        f"OpenSSL on one buffer: {len(data) / limit / 1e9:.2f} GB/s on one core"
    )
    bench.check("Arrow→digests >= 1.5 GB/s per core on 4 KiB rows", measured, per_core >= 1.5)


def main() -> None:
    p = harness.parser(__doc__)
    p.add_argument("--seed", type=int, default=0, help="random.Random seed (default 0)")
    p.add_argument("--scale", type=float, default=1.0, help="multiply every row count (smoke tests: 0.01)")
    p.add_argument("--dedupe-rows", type=int, default=200_000, help="rows of the tokenized dedupe case")
    args = p.parse_args()
    n = lambda rows: max(int(rows * args.scale), 10)  # noqa: E731
    bench = harness.Bench(args)
    bench.params["sha256_backend"] = fast_axolotl.sha256_backend()
    bench.params["threads"] = cores()

    short_100k, short_1m = f"{n(100_000):,} JSON-like rows (60–200 B)", f"{n(1_000_000):,} JSON-like rows (60–200 B)"
    long_case = f"{n(100_000):,} rows of 4 KiB"
    sample_rows = make_sample_rows(n(100_000))
    sample = f"{len(sample_rows):,} rows of ~{sum(map(len, sample_rows)) // len(sample_rows)} B (issue #21)"
    bench_short(bench, sample, sample_rows)
    with ThreadPoolExecutor(max_workers=cores()) as pool:
        bench_case(bench, short_100k, make_rows(n(100_000), SHORT_MIN, SHORT_MAX, args.seed), pool)
        bench_case(bench, short_1m, make_rows(n(1_000_000), SHORT_MIN, SHORT_MAX, args.seed), pool)
        long_rows = make_rows(n(100_000), LONG, LONG, args.seed)
        bench_case(bench, long_case, long_rows, pool)
    bench_throughput(bench, long_case, long_rows)

    bench.goal("list[str]→hex >= 2x the hashlib loop at 100k rows", short_100k, LIST_HEX, HASHLIB, need=2.0)
    bench.goal("list[str]→hex >= 2x fast-axolotl 0.2.0 at 100k rows", short_100k, LIST_HEX, OLD, need=2.0)
    bench.goal("list[str]→hex >= 2x the hashlib loop on 100k ~60 B rows", sample, LIST_HEX, HASHLIB, need=2.0)
    bench_dedupe(bench, n(args.dedupe_rows), args.seed)
    bench.report(baseline=HASHLIB)


if __name__ == "__main__":
    main()
