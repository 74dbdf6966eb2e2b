"""Padding benchmark: fast_axolotl.pad_sequences against pure Python, numpy, np.full (the
cost of just writing the output) and fast-axolotl 0.2.0 (its own venv, see scripts/setup-old-venv.sh).

Run from the repo root with the .venv active:
    python -m fast_axolotl.bench.bench_pad [--quick] [--json PATH] [--n N] [--seed S]
"""

from __future__ import annotations

import random

import numpy as np
import pyarrow as pa

import fast_axolotl
from fast_axolotl._lists import check_list_rows
from fast_axolotl.bench import harness

TARGET = 256
PAD = 0
VOCAB = 32000
MIN_LEN, MAX_LEN = 10, 256

LIST_LIST, LIST_NP, ARROW_NP = "list→list", "list→np", "Arrow→np"
PURE, NUMPY, OURS, OLD, LIMIT = "pure Python", "numpy", "fast_axolotl (ours)", "fast-axolotl 0.2.0", "np.full (limit)"
CHECK = "token check alone (limit)"

# Runs in the 0.2.0 interpreter (harness.run_in_python). The version check makes sure the
# row is not silently timing some other fast_axolotl.
OLD_CODE = """
import fast_axolotl
assert fast_axolotl.__version__ == "0.2.0", fast_axolotl.__version__
seqs, target = data["seqs"], data["target"]
def fn():
    return fast_axolotl.pad_sequences(seqs, target)
"""


def make_seqs(n: int, seed: int) -> list[list[int]]:
    rng = random.Random(seed)
    return [[rng.randrange(VOCAB) for _ in range(rng.randint(MIN_LEN, MAX_LEN))] for _ in range(n)]


def pad_length(longest: int, target: int, multiple: int | None = None) -> int:
    """The row length pad_sequences uses: max(longest row, target), rounded up to `multiple`."""
    length = max(longest, target)
    if multiple:
        length = -(-length // multiple) * multiple
    return length


def pad_python(seqs: list, target: int) -> list[list[int]]:
    length = pad_length(max(map(len, seqs)), target)
    return [s + [PAD] * (length - len(s)) for s in seqs]


def pad_numpy(rows: list, target: int) -> np.ndarray:
    """Preallocate the padded output, then copy the rows in one by one."""
    out = np.full((len(rows), pad_length(max(map(len, rows)), target)), PAD, dtype=np.int64)
    for i, row in enumerate(rows):
        out[i, : len(row)] = row
    return out


def arrow_rows(arr: pa.ListArray) -> list[np.ndarray]:
    """Zero-copy numpy views of the rows of a ListArray."""
    offsets = arr.offsets.to_numpy(zero_copy_only=True).tolist()
    values = arr.values.to_numpy(zero_copy_only=True)
    return [values[a:b] for a, b in zip(offsets[:-1], offsets[1:])]


def main() -> None:
    p = harness.parser(__doc__)
    p.add_argument("--n", type=int, default=10_000, help="number of sequences (default 10000)")
    p.add_argument("--seed", type=int, default=0, help="random.Random seed (default 0)")
    args = p.parse_args()
    bench = harness.Bench(args)

    seqs = make_seqs(args.n, args.seed)
    arr = pa.array(seqs, type=pa.list_(pa.int32()))
    want_list = pad_python(seqs, TARGET)
    want_np = np.array(want_list, dtype=np.int64)

    bench.time(LIST_LIST, PURE, lambda: pad_python(seqs, TARGET), want_list)
    bench.time(LIST_LIST, OURS, lambda: fast_axolotl.pad_sequences(seqs, target_length=TARGET), want_list)
    bench.time_other(LIST_LIST, OLD, OLD_CODE, {"seqs": seqs, "target": TARGET}, want_list)
    # Not a result: the check every token gets (an int in the int64 range) costs this much on
    # its own, a floor under list→list that the pure-Python reference does not pay.
    bench.time(LIST_LIST, CHECK, lambda: check_list_rows(seqs, "sequences"))

    bench.time(LIST_NP, PURE, lambda: np.array(pad_python(seqs, TARGET), dtype=np.int64), want_np)
    bench.time(LIST_NP, NUMPY, lambda: pad_numpy(seqs, TARGET), want_np)
    bench.time(
        LIST_NP, OURS, lambda: fast_axolotl.pad_sequences(seqs, target_length=TARGET, return_tensors="np"), want_np
    )

    bench.time(ARROW_NP, PURE, lambda: np.array(pad_python(arr.to_pylist(), TARGET), dtype=np.int64), want_np)
    bench.time(ARROW_NP, NUMPY, lambda: pad_numpy(arrow_rows(arr), TARGET), want_np)
    bench.time(
        ARROW_NP, OURS, lambda: fast_axolotl.pad_sequences(arr, target_length=TARGET, return_tensors="np"), want_np
    )
    # Not a padding: only allocating and filling the output, so its result is not checked.
    bench.time(ARROW_NP, LIMIT, lambda: np.full(want_np.shape, PAD, dtype=np.int64))

    # "within 2x of np.full" is ours_time <= 2 * np.full_time, i.e. np.full_time / ours_time >= 0.5.
    bench.goal("Arrow→np within 2x of np.full time", ARROW_NP, OURS, LIMIT, need=0.5)
    bench.goal("Arrow→np >= 5x pure Python", ARROW_NP, OURS, PURE, need=5.0)
    bench.goal("list→np >= 2x pure Python", LIST_NP, OURS, PURE, need=2.0)
    bench.goal("list→list >= 1.0x pure Python", LIST_LIST, OURS, PURE, need=1.0)
    bench.goal("list→list >= 1.5x fast-axolotl 0.2.0", LIST_LIST, OURS, OLD, need=1.5)
    bench.report(baseline=PURE)


if __name__ == "__main__":
    main()
