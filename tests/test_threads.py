"""Threads (issue #8): 8 Python threads calling every kernel at once, many times over varied
inputs (small ones on the calling thread, large ones on the Rust pools, failing ones whose
messages are per thread) get exactly the sequential results; and the GIL is released during
a long call, so other Python threads keep running."""

from __future__ import annotations

import ctypes
import random
import sys
import threading
import time

import numpy as np
import pyarrow as pa

import fast_axolotl as fa

THREADS = 8
ROUNDS = 3  # each thread runs every job this many times, in its own shuffled order


def token_rows(rng: random.Random, n: int, longest: int) -> list[list[int]]:
    return [[rng.randrange(-5, 50_000) for _ in range(rng.randrange(0, longest + 1))] for _ in range(n)]


def jobs() -> list:
    """(name, call) pairs over every kernel; sizes vary so that some calls cross the parallel
    thresholds (65,536 output elements, 64 KiB hashed) and run on the kernels' pools."""
    rng = random.Random(8)
    out = []
    for k, (n, longest) in enumerate([(5, 4), (40, 30), (600, 200), (3000, 40)]):
        rows = token_rows(rng, n, longest)
        arrow = pa.array(rows, pa.list_(pa.int32()))
        text = [str(r) for r in rows] + [str(r) for r in rows[: n // 3]]  # duplicates for dedupe
        lengths = np.array([len(r) for r in rows], np.int64)
        table = pa.table({"ids": arrow, "n": pa.array(lengths)})
        out += [
            (f"pad-list-{k}", lambda rows=rows: fa.pad_sequences(rows, pad_value=-1, padding_side="left")),
            (f"pad-arrow-{k}", lambda a=arrow: fa.pad_sequences(a, pad_to_multiple_of=8, return_tensors="np")),
            (f"mask-{k}", lambda n=n: fa.create_padding_mask(n % 7, n % 50)),
            (f"pack-{k}", lambda a=arrow, m=longest: fa.pack_sequences(a, max(m // 2, 2), 0, 2, return_tensors="np")),
            (f"concat-{k}", lambda a=arrow: fa.concatenate_and_pack(a, a, a, 64, 0, return_tensors="np")),
            (f"bins-{k}", lambda ls=lengths, m=longest: fa.pack_bins(ls, 2 * m + 1, "ffd", group_size=100)),
            (f"gather-{k}", lambda a=arrow, ls=lengths, m=longest: gather(a, ls, 2 * m + 1)),
            (f"hash-{k}", lambda t=text: fa.parallel_hash_rows(t)),
            (f"dedupe-idx-{k}", lambda t=text: fa.deduplicate_indices(t)),
            (f"digests-{k}", lambda t=table: fa.row_digests(t)),
            (f"dedupe-table-{k}", lambda t=table: fa.dedupe_table(pa.concat_tables([t, t]))[0]),
            (f"error-{k}", lambda n=n: error_message(n)),
        ]
    return out


def gather(arrow, lengths, capacity):
    order, offsets = fa.pack_bins(lengths, capacity, "bfd")
    return fa.gather_packed(arrow, order, offsets, capacity)


def error_message(n: int) -> str:
    """A failing call whose message depends on `n`: the message each thread reads must be the
    one of its own call (the library keeps the last error per thread)."""
    offsets = np.array([0, n + 1], np.int64)
    try:
        fa.pad_sequences((np.zeros(n, np.int64), offsets))
    except fa.InvalidArgumentError as exc:
        return str(exc)
    raise AssertionError("bad offsets were accepted")


def plain(value):
    """Results in a comparable form (arrays and tensors to lists, dicts and tuples recursively)."""
    if isinstance(value, np.ndarray):
        return ("array", str(value.dtype), value.shape, value.tolist())
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def test_eight_threads_get_the_sequential_results():
    work = jobs()
    expected = {name: plain(call()) for name, call in work}
    assert "past the values" in expected["error-0"]  # the failing job really fails
    start = threading.Barrier(THREADS)
    mismatches, errors = [], []

    def worker(seed: int):
        order = [job for _ in range(ROUNDS) for job in work]
        random.Random(seed).shuffle(order)
        start.wait()
        for name, call in order:
            try:
                got = plain(call())
            except Exception as exc:  # reported below with the job's name
                errors.append((name, repr(exc)))
                continue
            if got != expected[name]:
                mismatches.append(name)

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:5]
    assert not mismatches, sorted(set(mismatches))


class Ticker:
    """A Python thread that records the time every few thousand loop turns: it can only run
    while no other thread holds the GIL."""

    def __init__(self):
        self.stamps: list[float] = []
        self.stop = False
        self.thread = threading.Thread(target=self.run)

    def run(self):
        n = 0
        while not self.stop:
            n += 1
            if n % 2000 == 0:
                self.stamps.append(time.perf_counter())

    def __enter__(self):
        self.thread.start()
        time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.stop = True
        self.thread.join()

    def stamps_between(self, start: float, end: float) -> int:
        return sum(start < t < end for t in self.stamps)


def timed_calls(call, total: float = 0.4) -> list[tuple[float, float]]:
    """(start, end) of each of repeated calls of `call`, until they took `total` seconds."""
    windows = []
    while sum(end - start for start, end in windows) < total:
        start = time.perf_counter()
        call()
        windows.append((start, time.perf_counter()))
    return windows


def ticks_inside(ticker: Ticker, windows) -> int:
    """Ticks strictly inside the calls: with the GIL held during a call, the ticker cannot run
    there at all (only between calls, which is not counted). Near a call's start it still
    may, until the caller takes the GIL back: a switch interval, which the margin covers
    twice. (A fixed 30 ms margin left nothing of 45 ms calls on a fast machine.)"""
    margin = 2 * sys.getswitchinterval()
    return sum(ticker.stamps_between(start + margin, end - margin) for start, end in windows)


def check_gil_released(call):
    call()  # warm up: load the library, start pools, fault in the pages
    with Ticker() as ticker:
        windows = timed_calls(call)
    inside = ticks_inside(ticker, windows)
    assert inside >= 20, f"only {inside} ticks inside {len(windows)} calls: the GIL was held"


def test_the_ticker_detects_a_held_gil():
    """The control: a C call made through ctypes.PyDLL keeps the GIL, and the ticker stalls."""
    usleep = ctypes.PyDLL(None).usleep
    with Ticker() as ticker:
        windows = timed_calls(lambda: usleep(200_000))
    # The middle half of each 200 ms call: near its start the ticker may still run until the
    # caller has the GIL back, later on a loaded machine than the margin of ticks_inside.
    middles = [(start + (end - start) / 4, end - (end - start) / 4) for start, end in windows]
    assert sum(ticker.stamps_between(a, b) for a, b in middles) == 0


def test_gil_is_released_while_hashing():
    rows = pa.array([bytes([i]) * (8 << 20) for i in range(32)], pa.binary())  # 256 MiB, one chunk
    check_gil_released(lambda: fa.parallel_hash_rows(rows, num_threads=1, return_digests=True))


def test_gil_is_released_while_padding():
    lengths = np.random.default_rng(0).integers(0, 2000, 30_000)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    values = np.arange(offsets[-1], dtype=np.int32)
    out = np.empty((30_000, 2048), np.int64)  # 480 MiB written per call

    check_gil_released(lambda: fa.pad_sequences((values, offsets), target_length=2048, return_tensors="np", out=out))
