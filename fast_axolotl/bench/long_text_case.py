"""The long-text reading cases of issue #21 for bench_read.py: ours (output="arrow") against
pyarrow's streaming readers, same file, same batch size, same columns, in one process.

Files, generated once into the data dir:
  L          id int64, text (~330 chars a row), input_ids list<int32> (~75 tokens);
             row groups of 65,536, pyarrow's default compression (snappy)
  L-large    the same with text as large_string
  L-dict     id, a low-cardinality label (dictionary-encoded pages) and the text
  L-small    L in row groups of 1,000 rows
  L-chat     id and a messages column list<struct<role, content>>
  L.csv      L as CSV (the tokens as one string of space-separated integers)
Each Parquet file is read with every column alone and all together, at batch sizes 1,000
and 8,192. The first call of every implementation is checked row by row against pyarrow's
output (content and types, whatever the two cut their batches into).
"""

from __future__ import annotations

import sys
import time
from itertools import zip_longest
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

import fast_axolotl
from fast_axolotl.bench import harness

DATA_VERSION = 1  # bump when the generated files change
WORDS = [
    "the",
    "model",
    "data",
    "token",
    "train",
    "loss",
    "answer",
    "user",
    "value",
    "batch",
    "rust",
    "fast",
    "a",
    "of",
]
LABELS = [f"category {i}" for i in range(40)]
ROLES = ["system", "user", "assistant"]
VOCAB = 32000
ROW_GROUP, SMALL_ROW_GROUP = 65_536, 1_000
BATCH_SIZES = (1_000, 8_192)
WINDOW = 65_536  # rows compared at a time when checking content

OURS, PYARROW = 'ours output="arrow"', "pyarrow streaming"


def long_table(rows: int, seed: int) -> pa.Table:
    """id, text of 260–400 ASCII chars (mean ~330), input_ids of 50–100 int32 tokens."""
    rng = np.random.default_rng(seed)
    text = " ".join(rng.choice(WORDS, 300_000).tolist())
    lengths = rng.integers(260, 401, rows)
    starts = rng.integers(0, len(text) - 401, rows)
    texts = [text[s : s + n] for s, n in zip(starts.tolist(), lengths.tolist())]
    counts = rng.integers(50, 101, rows)
    offsets = np.zeros(rows + 1, np.int32)
    np.cumsum(counts, out=offsets[1:])
    tokens = pa.ListArray.from_arrays(
        pa.array(offsets), pa.array(rng.integers(0, VOCAB, int(offsets[-1]), dtype=np.int32))
    )
    return pa.table(
        {"id": pa.array(np.arange(rows, dtype=np.int64)), "text": pa.array(texts, pa.string()), "input_ids": tokens}
    )


def chat_column(texts: list[str], seed: int) -> pa.Array:
    """1–5 messages a row, roles in turn, contents cut from the texts."""
    rng = np.random.default_rng(seed + 1)
    counts = rng.integers(1, 6, len(texts)).tolist()
    rows = [
        [{"role": ROLES[j % 3], "content": texts[(i + j) % len(texts)][: 60 + 50 * j]} for j in range(k)]
        for i, k in enumerate(counts)
    ]
    return pa.array(rows, pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())])))


def csv_table(table: pa.Table) -> pa.Table:
    """CSV has no list type: the tokens as one string of space-separated integers."""
    import pyarrow.compute as pc

    tokens = pc.binary_join(table["input_ids"].cast(pa.list_(pa.string())), " ")
    return table.set_column(table.schema.get_field_index("input_ids"), "input_ids", tokens)


def make_files(root: Path, rows: int, seed: int) -> dict[str, Path]:
    folder = Path(root) / f"long-v{DATA_VERSION}-r{rows}-seed{seed}"
    names = ("L.parquet", "L-large.parquet", "L-dict.parquet", "L-small.parquet", "L-chat.parquet", "L.csv")
    files = {name: folder / name for name in names}
    if (folder / "complete").exists():
        return files
    start = time.perf_counter()
    print(f"generating the long-text data in {folder} ...", file=sys.stderr)
    folder.mkdir(parents=True, exist_ok=True)
    table = long_table(rows, seed)
    pq.write_table(table, files["L.parquet"], row_group_size=ROW_GROUP)
    pq.write_table(
        table.cast(table.schema.set(1, pa.field("text", pa.large_string()))),
        files["L-large.parquet"],
        row_group_size=ROW_GROUP,
    )
    labels = pa.array(np.random.default_rng(seed + 2).choice(LABELS, rows))
    pq.write_table(
        pa.table({"id": table["id"], "label": labels, "text": table["text"]}),
        files["L-dict.parquet"],
        row_group_size=ROW_GROUP,
    )
    pq.write_table(table, files["L-small.parquet"], row_group_size=SMALL_ROW_GROUP)
    chat = chat_column(table["text"].to_pylist(), seed)
    pq.write_table(pa.table({"id": table["id"], "messages": chat}), files["L-chat.parquet"], row_group_size=ROW_GROUP)
    pcsv.write_csv(csv_table(table), files["L.csv"])
    (folder / "complete").write_text("")
    print(f"generated in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return files


def ours(path: Path, bs: int, columns):
    return fast_axolotl.streaming_dataset_reader(str(path), batch_size=bs, output="arrow", columns=columns)


def pyarrow_batches(path: Path, bs: int, columns):
    if path.suffix == ".csv":
        return pcsv.open_csv(str(path))
    return pq.ParquetFile(path).iter_batches(batch_size=bs, columns=columns)


def windows(batches, size: int = WINDOW):
    """The rows of `batches` as tables of `size` rows (the last shorter), whatever the cuts."""
    pending, rows = [], 0
    for batch in batches:
        pending.append(batch)
        rows += batch.num_rows
        while rows >= size:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, size).combine_chunks()
            rest = table.slice(size)
            pending, rows = rest.to_batches(), rest.num_rows
    if rows:
        yield pa.Table.from_batches(pending).combine_chunks()


def same_content(got, want) -> bool:
    """Row by row, types included: two batch streams, each cut its own way."""
    ends = object()
    pairs = zip_longest(windows(got), windows(want), fillvalue=ends)
    return all(a is not ends and b is not ends and a.equals(b) for a, b in pairs)


def consume(batches) -> int:
    return sum(batch.num_rows for batch in batches)


def time_case(bench: harness.Bench, case: str, path: Path, bs: int, columns, mismatches: list) -> None:
    """Both readers timed (the first call of ours checked against pyarrow's content)."""
    ok = same_content(ours(path, bs, columns), pyarrow_batches(path, bs, columns))
    if not ok:
        mismatches.append(case)
    note = f"batch_size={bs}" + ("" if ok else "; OUTPUT DIFFERS from pyarrow")
    bench.time(case, PYARROW, lambda: consume(pyarrow_batches(path, bs, columns)), note=_pyarrow_api(path, bs))
    bench.time(case, OURS, lambda: consume(ours(path, bs, columns)), note=note)
    bench.baseline(case, PYARROW)
    print(f"[{time.strftime('%H:%M:%S')}] {case}: {bench.ratio(case, OURS, PYARROW):.2f}x", file=sys.stderr, flush=True)


def _pyarrow_api(path: Path, bs: int) -> str:
    if path.suffix == ".csv":
        return "pyarrow.csv.open_csv"
    return f"pq.ParquetFile.iter_batches(batch_size={bs}, columns=...)"


def bench_long_text(bench: harness.Bench, root: Path, rows: int, seed: int) -> None:
    """Every case, then one goal per case (>= 1.0x pyarrow) and the content check."""
    files = make_files(root, rows, seed)
    mismatches: list[str] = []
    cases = []
    for name, path in files.items():
        parquet = path.suffix == ".parquet"
        selections = [[c] for c in pq.read_schema(path).names] + [None] if parquet else [None]
        for bs in BATCH_SIZES if parquet else BATCH_SIZES[-1:]:
            for selection in selections:
                what = "all columns" if selection is None else selection[0]
                case = f"{name} {rows:,} rows, {what}, batch {bs:,}"
                time_case(bench, case, path, bs, selection, mismatches)
                cases.append(case)
    for case in cases:
        target = "pyarrow.csv.open_csv" if case.startswith("L.csv") else "iter_batches"
        bench.goal(f"{case}: ours >= 1.0x {target}", case, OURS, PYARROW, need=1.0)
    bench.check("long-text cases: ours equals pyarrow's content", ", ".join(mismatches) or "all equal", not mismatches)
