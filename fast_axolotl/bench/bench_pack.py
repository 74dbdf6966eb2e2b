"""Packing benchmark, one run: fast_axolotl.pack_sequences against a pure-Python packer, a
numpy packer and fast-axolotl 0.2.0 (its own venv); fast_axolotl.pack_bins against a Python
best-fit-decreasing and Axolotl's own numba first-fit packer (when Axolotl is installed).

Run from the repo root with the .venv active:
    python -m fast_axolotl.bench.bench_pack [--quick] [--json PATH] [--n-bins N] [--seed S]
"""

from __future__ import annotations

import bisect
import random

import numpy as np
import pyarrow as pa

import fast_axolotl
from fast_axolotl._lists import check_list_rows
from fast_axolotl.bench import harness

MAX_LENGTH, PAD, EOS, LABEL_PAD = 512, 0, 2, -100
SEQ_N, SEQ_MIN, SEQ_MAX, VOCAB = 10_000, 10, 100, 32000
CAPACITIES = (2048, 8192, 32768)
GROUP_SIZE = 100_000  # Axolotl's default multipack group size

LIST_LIST, ARROW_NP = "pack_sequences list→list", "pack_sequences Arrow→np"
PURE, NUMPY, OURS, OLD, LIMIT = (
    "pure Python",
    "numpy",
    "fast_axolotl (ours)",
    "fast-axolotl 0.2.0",
    "np.full x3 (limit)",
)
CHECK = "token check alone (limit)"
AXOLOTL = "Axolotl pack_parallel (numba)"

OLD_CODE = """
import fast_axolotl
assert fast_axolotl.__version__ == "0.2.0", fast_axolotl.__version__
seqs, args = data["seqs"], data["args"]
def fn():
    return fast_axolotl.pack_sequences(seqs, *args)
"""


def make_seqs(n: int, seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    return [[rng.randrange(3, VOCAB) for _ in range(rng.randint(SEQ_MIN, SEQ_MAX))] for _ in range(n)]


def pack_python(seqs: list) -> dict:
    """Greedy packing as one would write it in Python: sequence + EOS into the current row if
    it fits, else pad the row and start a new one (no sequence here exceeds a row)."""
    ids, labels, mask, row = [], [], [], []
    for s in seqs:
        if len(row) + len(s) + 1 > MAX_LENGTH:
            _close_row(row, ids, labels, mask)
            row = []
        row.extend(s)
        row.append(EOS)
    if row:
        _close_row(row, ids, labels, mask)
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def _close_row(row, ids, labels, mask):
    k = MAX_LENGTH - len(row)
    ids.append(row + [PAD] * k)
    labels.append(row + [LABEL_PAD] * k)
    mask.append([1] * len(row) + [0] * k)


def same_tokens(got: dict, expected: dict, what: str) -> str:
    """fast-axolotl 0.2.0 starts a new row when a sequence would fill the current one exactly,
    so its rows differ from ours: check that it packs the same tokens, in the same order."""

    def stream(packed):
        return [t for ids, m in zip(packed["input_ids"], packed["attention_mask"]) for t, x in zip(ids, m) if x]

    if stream(got) != stream(expected):
        raise AssertionError(f"{what}: packs other tokens than the reference")
    return f"same tokens; {len(got['input_ids'])} rows where ours has {len(expected['input_ids'])} (it never fills a row exactly)"


def pack_numpy(arr: pa.ListArray) -> dict:
    """Plan rows from the lengths, then copy each sequence into preallocated arrays."""
    offsets = arr.offsets.to_numpy(zero_copy_only=True)
    values = arr.values.to_numpy(zero_copy_only=True)
    starts = []  # (row, column) of each sequence
    row, col = 0, 0
    for length in np.diff(offsets).tolist():
        if col + length + 1 > MAX_LENGTH:
            row, col = row + 1, 0
        starts.append((row, col))
        col += length + 1
    rows = row + 1 if starts else 0
    ids = np.full((rows, MAX_LENGTH), PAD, dtype=np.int64)
    mask = np.zeros((rows, MAX_LENGTH), dtype=np.int64)
    for i, (r, c) in enumerate(starts):
        a, b = offsets[i], offsets[i + 1]
        ids[r, c : c + b - a] = values[a:b]
        ids[r, c + b - a] = EOS
        mask[r, c : c + b - a + 1] = 1
    labels = np.where(mask == 1, ids, LABEL_PAD)
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def bfd_python(lengths: list, capacity: int) -> list[list[int]]:
    """Best-fit decreasing with a sorted list of (room, bin): bisect finds the tightest bin."""
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    bins, open_bins = [], []  # open_bins: sorted (room, bin index)
    for i in order:
        size = lengths[i]
        k = bisect.bisect_left(open_bins, (size, -1))
        if size <= capacity and k < len(open_bins):
            room, b = open_bins.pop(k)
            bins[b].append(i)
            bisect.insort(open_bins, (room - size, b))
        else:
            bins.append([i])
            if size <= capacity:
                bisect.insort(open_bins, (capacity - size, len(bins) - 1))
    return bins


def realistic_lengths(n: int, seed: int) -> np.ndarray:
    """Lognormal token counts: median 300, sigma 1, clipped to [16, 8192]."""
    rng = np.random.default_rng(seed)
    return np.clip(np.round(rng.lognormal(np.log(300), 1.0, n)), 16, 8192).astype(np.int64)


def lower_bound(lengths: np.ndarray, capacity: int) -> int:
    """Fewest bins possible: every oversize item alone, the rest at least total/capacity."""
    fits = lengths <= capacity
    return int((~fits).sum()) + -(-int(lengths[fits].sum()) // capacity)


def fill_note(packing, lengths: np.ndarray, capacity: int) -> str:
    """Bins against the lower bound; fill = tokens of fitting items / slots of their bins."""
    bins = len(packing[1]) - 1
    bound = lower_bound(lengths, capacity)
    fits = lengths <= capacity
    fill = lengths[fits].sum() / ((bins - packing.oversize) * capacity)
    return f"{bins} bins, lower bound {bound} ({bins / bound:.6f}x), fill {fill:.4f}, oversize {packing.oversize}"


def as_bins(packing) -> list[list[int]]:
    order, offsets = packing
    return [order[a:b].tolist() for a, b in zip(offsets[:-1], offsets[1:])]


def bench_pack_sequences(bench: harness.Bench, seed: int) -> None:
    seqs = make_seqs(SEQ_N, seed)
    arr = pa.array(seqs, type=pa.list_(pa.int32()))
    want = pack_python(seqs)
    want_np = {k: np.array(v, dtype=np.int64) for k, v in want.items()}

    bench.time(LIST_LIST, PURE, lambda: pack_python(seqs), want)
    bench.time(LIST_LIST, OURS, lambda: dict(fast_axolotl.pack_sequences(seqs, MAX_LENGTH, PAD, EOS)), want)
    bench.time_other(
        LIST_LIST, OLD, OLD_CODE, {"seqs": seqs, "args": (MAX_LENGTH, PAD, EOS)}, want, compare=same_tokens
    )
    # Not a result: the check every token gets (an int in the int64 range) costs this much on
    # its own, a floor under list→list that the pure-Python reference does not pay.
    bench.time(LIST_LIST, CHECK, lambda: check_list_rows(seqs, "sequences"))

    bench.time(
        ARROW_NP,
        PURE,
        lambda: {k: np.array(v, dtype=np.int64) for k, v in pack_python(arr.to_pylist()).items()},
        want_np,
    )
    bench.time(ARROW_NP, NUMPY, lambda: pack_numpy(arr), want_np)
    ours = lambda: dict(fast_axolotl.pack_sequences(arr, MAX_LENGTH, PAD, EOS, return_tensors="np"))  # noqa: E731
    bench.time(ARROW_NP, OURS, ours, want_np)
    shape = want_np["input_ids"].shape
    bench.time(ARROW_NP, LIMIT, lambda: [np.full(shape, PAD, dtype=np.int64) for _ in range(3)])

    bench.goal("pack_sequences list→list >= 1.3x pure Python", LIST_LIST, OURS, PURE, need=1.3)
    bench.goal("pack_sequences list→list >= 2x fast-axolotl 0.2.0", LIST_LIST, OURS, OLD, need=2.0)
    bench.goal("pack_sequences Arrow→np >= 5x pure Python", ARROW_NP, OURS, PURE, need=5.0)
    bench.goal("pack_sequences Arrow→np within 2x of np.full (x3 outputs)", ARROW_NP, OURS, LIMIT, need=0.5)


def axolotl_pack_parallel():
    try:
        from axolotl.utils.samplers.multipack import pack_parallel
    except ImportError:
        return None
    return pack_parallel


def bench_pack_bins(bench: harness.Bench, n: int, seed: int) -> None:
    lengths = realistic_lengths(n, seed)
    pack_parallel = axolotl_pack_parallel()
    for capacity in CAPACITIES:
        case = f"pack_bins {n:,} lengths, capacity {capacity}"
        bench.baseline(case, AXOLOTL)
        bfd = f"{OURS} bfd"
        packing = fast_axolotl.pack_bins(lengths, capacity, "bfd")
        bench.time(
            case,
            bfd,
            lambda: fast_axolotl.pack_bins(lengths, capacity, "bfd"),
            note=fill_note(packing, lengths, capacity),
        )
        bins, bound = len(packing[1]) - 1, lower_bound(lengths, capacity)
        bench.check(
            f"{case}: bfd bins <= lower bound x 1.0001",
            f"{bins} vs {bound} ({bins / bound:.6f}x)",
            bins <= bound * 1.0001,
        )
        bfd_ms = bench.median(case, bfd) * 1e3
        bench.check(f"{case}: bfd <= 50 ms wall from Python", f"{bfd_ms:.1f} ms", bfd_ms <= 50)

        # First fit in groups of 100k, Axolotl's default, against Axolotl's own packer.
        ff = f"{OURS} first_fit"

        def ours():
            return fast_axolotl.pack_bins(
                lengths, capacity, "first_fit", max_items_per_bin=capacity, group_size=GROUP_SIZE
            )

        if pack_parallel is None:
            bench.time(case, ff, ours)
            bench._add(case, AXOLOTL, None, note="not available: Axolotl is not installed")
            bench.check(f"{case}: first_fit identical to Axolotl", "Axolotl not installed", None)
        else:
            theirs = bench.time(
                case, AXOLOTL, lambda: pack_parallel(lengths, capacity, GROUP_SIZE, capacity, 1, True), repeat=3
            )
            got = bench.time(case, ff, ours)
            same = as_bins(got) == [list(b) for b in theirs]
            bench.check(
                f"{case}: first_fit identical to Axolotl's pack_parallel", "identical" if same else "DIFFERENT", same
            )
        bench.goal(f"{case}: first_fit >= 20x Axolotl's numba packer", case, ff, AXOLOTL, need=20.0)

    # Pure-Python BFD is too slow for 1M items in a benchmark run: compare on 100k.
    small = lengths[: n // 10]
    case = f"pack_bins {small.size:,} lengths, capacity 8192"
    bench.baseline(case, "Python BFD (bisect)")
    want = bfd_python(small.tolist(), 8192)
    bench.time(case, "Python BFD (bisect)", lambda: bfd_python(small.tolist(), 8192), repeat=3)
    bench.time(case, f"{OURS} bfd", lambda: as_bins(fast_axolotl.pack_bins(small, 8192, "bfd")), want)


def main() -> None:
    p = harness.parser(__doc__)
    p.add_argument("--n-bins", type=int, default=1_000_000, help="lengths for pack_bins (default 1M)")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    bench = harness.Bench(args)
    bench_pack_sequences(bench, args.seed)
    bench_pack_bins(bench, args.n_bins, args.seed)
    bench.report(baseline=PURE)


if __name__ == "__main__":
    main()
