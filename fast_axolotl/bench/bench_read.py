"""Streaming-read benchmark (issue #5), one run: fast_axolotl.streaming_dataset_reader
(output="arrow" and output="python") against pyarrow (streaming and whole-file readers),
polars, `datasets` streaming (row by row) and fast-axolotl 0.2.0 (its own venv), on

  A  1M rows: id int64, ~300-char ASCII text (200–400), list<int32> of ~75 tokens (50–100),
     as Parquet and JSONL;
  B  100k rows: id int64, list<int32> of 200–2000 tokens, as Parquet, JSONL, JSONL.zst and
     CSV (the token list as one string column of space-separated integers, "17 4093 ...":
     CSV has no list type, so every reader returns that column as a string);
  C  B twice (~880 MB decoded), Parquet and JSONL: the file of the peak-RSS goal;
  L  the long-text files of issue #21 (long_text_case.py): each column alone and all
     together, batch sizes 1,000 and 8,192, against pyarrow's streaming readers.

Every implementation consumes the whole file (for "python" outputs: builds the Python
objects) and is first checked against ours: row count and a checksum per column (sum of the
ids, total text length, token count and sum). Peak RSS is measured in a subprocess per
implementation (VmHWM after resetting it once the imports are done, minus VmRSS then).

Data is generated once into --data-dir (default $TMPDIR/fastaxo-bench-read), keyed by the
sizes and seed, and reused by later runs; it is never written into the repository.

Run from the repo root with the .venv active:
    python -m fast_axolotl.bench.bench_read [--quick] [--json PATH] [--batch-size N] [--data-dir DIR] [--long-text-only]
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_DATASETS_OFFLINE", "1")  # local files only: no hub look-ups
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.json as pj
import pyarrow.parquet as pq

import fast_axolotl
from fast_axolotl.bench import harness
from fast_axolotl.bench.long_text_case import PYARROW as PYARROW_LONG
from fast_axolotl.bench.long_text_case import WORDS, bench_long_text

DATA_VERSION = 1  # bump when the generated files change
VOCAB = 32000
ROW_GROUP_BYTES = 64 << 20  # Parquet row groups of ~64 MB decoded

OURS_ARROW, OURS_PY = 'ours output="arrow"', 'ours output="python"'
PA_STREAM, PA_PY, PA_WHOLE = "pyarrow streaming", "pyarrow streaming → to_pydict", "pyarrow whole file"
POLARS, DATASETS, OLD = "polars (whole file)", "datasets streaming rows", "fast-axolotl 0.2.0"

PA_API = {
    "parquet": ("pq.ParquetFile.iter_batches(batch_size)", "pq.read_table"),
    "jsonl": ("pyarrow.json.open_json", "pyarrow.json.read_json"),
    "jsonl.zst": ("pyarrow.json.open_json(pa.input_stream(zstd))", "pyarrow.json.read_json(pa.input_stream(zstd))"),
    "csv": ("pyarrow.csv.open_csv", "pyarrow.csv.read_csv"),
}
POLARS_API = {
    "parquet": "pl.scan_parquet().collect()",
    "jsonl": "pl.read_ndjson",
    "jsonl.zst": "pl.read_ndjson",
    "csv": "pl.read_csv",
}
DATASETS_BUILDER = {"parquet": "parquet", "jsonl": "json", "jsonl.zst": "json", "csv": "csv"}

# The checksum of Python values (dict column -> list), run here and in the 0.2.0 venv: stdlib only.
PY_CHECKSUM = '''
def py_checksum_add(acc, batch):
    """Adds a batch (dict column -> list of values) to acc = [rows, {column: [kind, a, b]}]."""
    rows = None
    for name, values in batch.items():
        rows = len(values)
        col = acc[1].setdefault(name, ["?", 0, 0])
        first = next((v for v in values if v is not None), None)
        if isinstance(first, bool) or first is None:
            continue
        if isinstance(first, int):
            col[0] = "int"
            col[1] += sum(values)
        elif isinstance(first, str):
            col[0] = "str"
            col[1] += sum(map(len, values))
        elif isinstance(first, (list, tuple)):
            col[0] = "list"
            col[1] += sum(map(len, values))
            col[2] += sum(map(sum, values))
        else:
            col[0] = type(first).__name__
    acc[0] += rows or 0


def py_checksum_result(acc):
    return (acc[0], {name: tuple(col) for name, col in sorted(acc[1].items())})
'''
exec(PY_CHECKSUM)


def arrow_checksum_add(acc, batch) -> None:
    """The same checksum from an Arrow batch or table."""
    for name, column in zip(batch.schema.names, batch.columns):
        col = acc[1].setdefault(name, ["?", 0, 0])
        kind = column.type
        if pa.types.is_integer(kind):
            col[0] = "int"
            col[1] += pc.sum(column).as_py() or 0
        elif pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind):
            col[0] = "str"
            col[1] += pc.sum(pc.utf8_length(column)).as_py() or 0
        elif pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_list_view(kind):
            values = pc.list_flatten(column)
            col[0] = "list"
            col[1] += len(values)
            col[2] += pc.sum(values).as_py() or 0
        else:
            col[0] = str(kind)
    acc[0] += batch.num_rows


# --- data ---------------------------------------------------------------------------------


def default_data_dir() -> Path:
    return Path(os.environ.get("TMPDIR") or tempfile.gettempdir()) / "fastaxo-bench-read"


def list_array(lengths: np.ndarray, rng: np.random.Generator) -> pa.ListArray:
    offsets = np.zeros(len(lengths) + 1, np.int32)
    np.cumsum(lengths, out=offsets[1:])
    values = rng.integers(0, VOCAB, int(offsets[-1]), dtype=np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values))


def table_a(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    words = rng.choice(WORDS, 200_000)
    text = " ".join(words.tolist())
    lengths = rng.integers(200, 401, rows)
    starts = rng.integers(0, len(text) - 401, rows)
    texts = [text[s : s + n] for s, n in zip(starts.tolist(), lengths.tolist())]
    tokens = list_array(rng.integers(50, 101, rows), rng)
    return pa.table(
        {"id": pa.array(np.arange(rows, dtype=np.int64)), "text": pa.array(texts, pa.string()), "input_ids": tokens}
    )


def table_b(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed + 1)
    tokens = list_array(rng.integers(200, 2001, rows), rng)
    return pa.table({"id": pa.array(np.arange(rows, dtype=np.int64)), "input_ids": tokens})


def write_parquet(table: pa.Table, path: Path, times: int = 1) -> None:
    group = max(1, int(ROW_GROUP_BYTES / max(1, table.nbytes / max(1, table.num_rows))))
    with pq.ParquetWriter(path, table.schema) as writer:
        for _ in range(times):
            writer.write_table(table, row_group_size=group)


def write_jsonl(table: pa.Table, path: Path, chunk: int = 10_000) -> None:
    try:
        import orjson
    except ImportError:
        orjson = None
    with open(path, "wb") as f:
        for start in range(0, table.num_rows, chunk):
            rows = table.slice(start, chunk).to_pylist()
            if orjson is not None:
                f.write(b"".join(orjson.dumps(r) + b"\n" for r in rows))
            else:
                f.write("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows).encode())


def write_zst(src: Path, path: Path) -> None:
    import zstandard

    with open(src, "rb") as fin, open(path, "wb") as fout:
        zstandard.ZstdCompressor(level=3, threads=-1).copy_stream(fin, fout)


def write_csv(table: pa.Table, path: Path) -> None:
    tokens = pc.binary_join(table["input_ids"].cast(pa.list_(pa.string())), " ")
    pcsv.write_csv(table.set_column(table.schema.get_field_index("input_ids"), "input_ids", tokens), path)


def concat_file(src: Path, path: Path, times: int) -> None:
    with open(path, "wb") as fout:
        for _ in range(times):
            with open(src, "rb") as fin:
                shutil.copyfileobj(fin, fout, 16 << 20)


def make_data(root: Path, a_rows: int, b_rows: int, seed: int) -> dict[str, Path]:
    """The data files, generated once per (sizes, seed) and reused."""
    folder = root / f"v{DATA_VERSION}-a{a_rows}-b{b_rows}-seed{seed}"
    files = {
        name: folder / name
        for name in ("a.parquet", "a.jsonl", "b.parquet", "b.jsonl", "b.jsonl.zst", "b.csv", "c.parquet", "c.jsonl")
    }
    if (folder / "complete").exists():
        return files
    start = time.perf_counter()
    print(f"generating the data in {folder} ...", file=sys.stderr)
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    a = table_a(a_rows, seed)
    write_parquet(a, files["a.parquet"])
    write_jsonl(a, files["a.jsonl"])
    del a
    b = table_b(b_rows, seed)
    write_parquet(b, files["b.parquet"])
    write_jsonl(b, files["b.jsonl"])
    write_zst(files["b.jsonl"], files["b.jsonl.zst"])
    write_csv(b, files["b.csv"])
    write_parquet(b, files["c.parquet"], times=2)
    concat_file(files["b.jsonl"], files["c.jsonl"], 2)
    del b
    (folder / "complete").write_text("")
    print(f"generated in {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return files


def fmt_of(path: Path) -> str:
    name = path.name
    return "jsonl.zst" if name.endswith(".jsonl.zst") else name.rsplit(".", 1)[1]


# --- implementations: each yields what it reads ("arrow" batches/tables, "pydict" batches,
# "polars" frames or "rows") --------------------------------------------------------------


def ours(path: Path, bs: int, output: str):
    return fast_axolotl.streaming_dataset_reader(str(path), batch_size=bs, output=output)


def pa_source(path: Path):
    return pa.input_stream(str(path), compression="zstd") if str(path).endswith(".zst") else str(path)


def pa_stream(path: Path, bs: int):
    fmt = fmt_of(path)
    if fmt == "parquet":
        return pq.ParquetFile(path).iter_batches(batch_size=bs)
    if fmt.startswith("jsonl"):
        return pj.open_json(pa_source(path))
    return pcsv.open_csv(str(path))


def pa_whole(path: Path, bs: int):
    fmt = fmt_of(path)
    if fmt == "parquet":
        return [pq.read_table(path)]
    if fmt.startswith("jsonl"):
        return [pj.read_json(pa_source(path))]
    return [pcsv.read_csv(str(path))]


def polars_read(path: Path, bs: int):
    import polars as pl

    fmt = fmt_of(path)
    if fmt == "parquet":
        return [pl.scan_parquet(path).collect()]
    if fmt.startswith("jsonl"):
        return [pl.read_ndjson(path)]
    return [pl.read_csv(path)]


def datasets_rows(path: Path, bs: int):
    import datasets

    datasets.disable_progress_bars()
    builder = DATASETS_BUILDER[fmt_of(path)]
    return iter(datasets.load_dataset(builder, data_files=str(path), streaming=True, split="train"))


IMPLS = {
    OURS_ARROW: ("arrow", lambda p, bs: ours(p, bs, "arrow")),
    OURS_PY: ("pydict", lambda p, bs: ours(p, bs, "python")),
    PA_STREAM: ("arrow", pa_stream),
    PA_PY: ("pydict", lambda p, bs: (b.to_pydict() for b in pa_stream(p, bs))),
    PA_WHOLE: ("arrow", pa_whole),
    POLARS: ("polars", polars_read),
    DATASETS: ("rows", datasets_rows),
}


def consume(items, kind: str, limit: int | None = None) -> int:
    """Reads everything (rows: at most `limit`), keeping nothing; returns the row count."""
    if kind == "rows":
        return sum(1 for _ in itertools.islice(items, limit))
    n = 0
    for item in items:
        n += item.height if kind == "polars" else len(next(iter(item.values()))) if kind == "pydict" else item.num_rows
    return n


def checksum(items, kind: str, limit: int | None = None):
    acc = [0, {}]
    if kind == "rows":
        rows = iter(itertools.islice(items, limit))
        while chunk := list(itertools.islice(rows, 1000)):
            py_checksum_add(acc, {k: [r[k] for r in chunk] for k in chunk[0]})
    else:
        for item in items:
            if kind == "pydict":
                py_checksum_add(acc, item)
            else:
                arrow_checksum_add(acc, item.to_arrow() if kind == "polars" else item)
    return py_checksum_result(acc)


def reference(path: Path, bs: int, limit: int) -> tuple:
    """Ours (arrow): the checksum of the file and of its first `limit` rows, and its decoded
    size (bytes of the Arrow batches)."""
    whole, head, nbytes = [0, {}], [0, {}], 0
    for batch in ours(path, bs, "arrow"):
        arrow_checksum_add(whole, batch)
        nbytes += batch.nbytes
        if head[0] < limit:
            arrow_checksum_add(head, batch.slice(0, limit - head[0]))
    return py_checksum_result(whole), py_checksum_result(head), nbytes


OLD_CODE = (
    PY_CHECKSUM
    + '''
import fast_axolotl
assert fast_axolotl.__version__ == "0.2.0", fast_axolotl.__version__
path, fmt, bs = data["path"], data["fmt"], data["bs"]
calls = []


def fn():
    """The first call (the warmup) returns the checksum, the timed ones only read."""
    batches = fast_axolotl.streaming_dataset_reader(path, fmt, bs, 4)
    if not calls:
        calls.append(1)
        acc = [0, {}]
        for batch in batches:
            py_checksum_add(acc, batch)
        return py_checksum_result(acc)
    n = 0
    for batch in batches:
        n += len(next(iter(batch.values())))
    return n
'''
)


class Run:
    """One bench run: the files, their reference checksums, the mismatches found."""

    def __init__(self, bench: harness.Bench, args):
        self.bench, self.args = bench, args
        self.mismatches: list[str] = []
        self.refs: dict[Path, tuple] = {}

    def ref(self, path: Path) -> tuple:
        if path not in self.refs:
            self.refs[path] = reference(path, self.args.batch_size, self.args.datasets_rows)
        return self.refs[path]

    def case(self, label: str, path: Path, impls: list[str]) -> str:
        fmt = fmt_of(path)
        case = f"{label}, {fmt_of(path)}"
        want, want_head, nbytes = self.ref(path)
        size = f"{path.stat().st_size / 1e6:.0f} MB on disk, {nbytes / 1e6:.0f} MB decoded"
        bs = self.args.batch_size
        for impl in impls:
            start = time.perf_counter()
            if impl == OLD:
                self.old(case, path, fmt, want)
            elif impl == DATASETS:
                self.datasets(case, path, want, want_head)
            else:
                self.local(case, impl, path, want, note=self.note(impl, fmt, size, bs))
            row = self.bench.rows[-1]
            median = f"{row['timing']['median']:.3f} s" if row["timing"] else row["note"][:80]
            print(
                f"[{time.strftime('%H:%M:%S')}] {case} / {impl}: {median} ({time.perf_counter() - start:.0f} s)",
                file=sys.stderr,
                flush=True,
            )
        return case

    def note(self, impl: str, fmt: str, size: str, bs: int) -> str:
        return {
            OURS_ARROW: f"{size}; batch_size={bs}, num_threads=4 (the default, capped at the {os.cpu_count()} cores)",
            OURS_PY: f"batch_size={bs}",
            PA_STREAM: PA_API[fmt][0] + (f", batch_size={bs}" if fmt == "parquet" else ""),
            PA_PY: PA_API[fmt][0] + " then RecordBatch.to_pydict",
            PA_WHOLE: PA_API[fmt][1],
            POLARS: POLARS_API[fmt],
        }.get(impl, "")

    def local(self, case: str, impl: str, path: Path, want, note: str) -> None:
        kind, make = IMPLS[impl]
        bs = self.args.batch_size
        calls = []

        def fn():
            if not calls:  # the warmup call, checked against the reference
                calls.append(1)
                return checksum(make(path, bs), kind)
            return consume(make(path, bs), kind)

        try:
            self.bench.time(case, impl, fn, want, note=note)
        except AssertionError:
            got = checksum(make(path, bs), kind)
            self.mismatch(case, impl, got, want)

    def mismatch(self, case: str, impl: str, got, want) -> None:
        self.mismatches.append(f"{case} / {impl}")
        self.bench._add(case, impl, None, note=f"OUTPUT DIFFERS from ours: {got} vs {want}")

    def old(self, case: str, path: Path, fmt: str, want) -> None:
        data = {"path": str(path), "fmt": fmt, "bs": self.args.batch_size}
        try:
            self.bench.time_other(
                case, OLD, OLD_CODE, data, want, compare=lambda got, exp, what: None if got == exp else self._raise(got)
            )
        except _Differs as d:
            self.mismatch(case, OLD, d.got, want)
        except RuntimeError as e:  # it could not read the file at all
            self.bench._add(case, OLD, None, note=f"failed: {str(e).strip().splitlines()[-1][:200]}")

    @staticmethod
    def _raise(got):
        raise _Differs(got)

    def datasets(self, case: str, path: Path, want, want_head) -> None:
        """Row by row, at most --datasets-rows rows: timed once, then extrapolated to the whole
        file (setup, i.e. load_dataset and the first row, counted once)."""
        kind, make = IMPLS[DATASETS]
        limit, total = self.args.datasets_rows, want[0]
        capped = limit < total
        got = checksum(make(path, 0), kind, limit)
        if got != (want_head if capped else want):
            self.mismatch(case, DATASETS, got, want_head if capped else want)
            return
        start = time.perf_counter()
        rows = make(path, 0)
        next(rows)
        setup = time.perf_counter() - start
        n = 1 + consume(rows, kind, limit - 1 if capped else None)
        elapsed = time.perf_counter() - start
        per_row = (elapsed - setup) / max(1, n - 1)
        seconds = setup + per_row * (total - 1)
        note = f"load_dataset(..., streaming=True); {n / (elapsed - setup + 1e-12):,.0f} rows/s"
        if capped:
            note += (
                f"; EXTRAPOLATED: timed the first {n:,} of {total:,} rows once ({elapsed:.1f} s, setup {setup:.2f} s)"
            )
        else:
            note += f"; one timed run ({elapsed:.1f} s)"
        self.bench._add(case, DATASETS, harness.Timing(median=seconds, min=seconds, runs=1), note=note)


class _Differs(Exception):
    def __init__(self, got):
        self.got = got


# --- peak RSS ------------------------------------------------------------------------------

RSS_CODE = '''
import json


def _status():
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) * 1024
    return out


def rss_measure(run):
    """Resets the peak (VmHWM) after the imports, runs `run`, prints the peak it added."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        reset = True
    except OSError:
        reset = False
    base = _status()["VmRSS"]
    rows = run()
    peak = _status()["VmHWM"]
    print(json.dumps({"base": base, "peak": peak, "added": peak - base, "rows": rows, "reset": reset}))
'''

OLD_RSS_CODE = (
    RSS_CODE
    + """
import sys
import fast_axolotl


def run():
    n = 0
    for batch in fast_axolotl.streaming_dataset_reader(sys.argv[1], sys.argv[2], int(sys.argv[3]), 4):
        n += len(next(iter(batch.values())))
    return n


rss_measure(run)
"""
)
exec(RSS_CODE)


def rss_child(impl: str, path: str, bs: str, limit: str) -> None:
    """Peak RSS of one implementation streaming `path`; what is imported or loaded lazily on
    a first call (our library, `datasets`' builder modules) is loaded before the baseline."""
    kind, make = IMPLS[impl]
    path, bs = Path(path), int(bs)
    if impl in (OURS_ARROW, OURS_PY):
        fast_axolotl.streaming_dataset_reader  # imports the reader, loads the library
    if impl == POLARS:
        import polars  # noqa: F401
    if impl == DATASETS:
        import datasets

        datasets.disable_progress_bars()
        dataset = datasets.load_dataset(
            DATASETS_BUILDER[fmt_of(path)], data_files=str(path), streaming=True, split="train"
        )
        make = lambda path, bs: iter(dataset)  # noqa: E731
    limit = int(limit) if kind == "rows" else None
    rss_measure(lambda: consume(make(path, bs), kind, limit))


RSS_TIMEOUT = 300  # seconds: `datasets` once hung on a futex here (c.parquet, 7 min idle)


def measure_rss(impl: str, path: Path, bs: int, limit: int) -> dict | None:
    if impl == OLD:
        python = harness.old_python()
        if not python.exists():
            return None
        cmd = [str(python), "-I", "-c", OLD_RSS_CODE, str(path), fmt_of(path), str(bs)]
    else:
        cmd = [sys.executable, __file__, "--rss-child", impl, str(path), str(bs), str(limit)]
    with tempfile.TemporaryDirectory(prefix="fastaxo-bench-") as tmp:
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp, timeout=RSS_TIMEOUT)
        except subprocess.TimeoutExpired:
            return {"error": f"no result after {RSS_TIMEOUT} s (hung)"}
    if proc.returncode != 0:
        return {
            "error": proc.stderr.strip().splitlines()[-1][:200] if proc.stderr.strip() else f"exit {proc.returncode}"
        }
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_rss(run: Run, files: list[Path], impls: list[str]) -> list[dict]:
    rows = []
    for path in files:
        _, _, nbytes = run.ref(path)
        for impl in impls:
            if impl == DATASETS and fmt_of(path) != "parquet" and path.name.startswith("c"):
                continue
            m = measure_rss(impl, path, run.args.batch_size, run.args.datasets_rows)
            if m is None:
                continue
            print(f"[{time.strftime('%H:%M:%S')}] peak RSS {path.name} / {impl}: {m}", file=sys.stderr, flush=True)
            rows.append({"file": path.name, "decoded_bytes": nbytes, "impl": impl, **m})
    return rows


def rss_markdown(rows: list[dict]) -> str:
    lines = [
        "",
        "## Peak RSS",
        "",
        "Peak RSS added while streaming the file (VmHWM reset after the imports, minus VmRSS then), one subprocess each.",
        "",
        "| file | decoded MB | implementation | added peak RSS MB | rows read |",
        "|---|---:|---|---:|---:|",
    ]
    for r in rows:
        added = f"{r['added'] / 1e6:.0f}" if "added" in r else f"failed: {r['error']}"
        rows = f"{r['rows']:,}" if "rows" in r else "-"
        lines.append(f"| {r['file']} | {r['decoded_bytes'] / 1e6:.0f} | {r['impl']} | {added} | {rows} |")
    return "\n".join(lines)


# --- main ----------------------------------------------------------------------------------


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--rss-child":
        rss_child(*sys.argv[2:])
        return
    p = harness.parser(__doc__)
    p.add_argument("--a-rows", type=int, help="rows of file A (default 1,000,000; --quick 20,000)")
    p.add_argument("--b-rows", type=int, help="rows of file B (default 100,000; --quick 2,000)")
    p.add_argument(
        "--batch-size", type=int, default=1000, help="rows per batch for the streaming readers (default 1000)"
    )
    p.add_argument(
        "--datasets-rows",
        type=int,
        help="rows `datasets` streams per file before the time is extrapolated (default 20,000; --quick 300)",
    )
    p.add_argument(
        "--data-dir",
        type=Path,
        default=default_data_dir(),
        help="where the generated files are kept (default $TMPDIR/fastaxo-bench-read)",
    )
    p.add_argument("--no-rss", action="store_true", help="skip the peak-RSS subprocesses")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--long-rows", type=int, help="rows of the long-text files of issue #21 (default 1,200,000; --quick 20,000)"
    )
    p.add_argument("--long-text-only", action="store_true", help="run only the long-text cases (long_text_case.py)")
    args = p.parse_args()
    args.long_rows = args.long_rows or (20_000 if args.quick else 1_200_000)
    if args.long_text_only:
        bench = harness.Bench(args)
        bench.params["data_dir"] = str(args.data_dir)
        bench_long_text(bench, args.data_dir, args.long_rows, args.seed)
        bench.report(baseline=PYARROW_LONG)
        return
    args.a_rows = args.a_rows or (20_000 if args.quick else 1_000_000)
    args.b_rows = args.b_rows or (2_000 if args.quick else 100_000)
    args.datasets_rows = args.datasets_rows or (300 if args.quick else 20_000)
    files = make_data(args.data_dir, args.a_rows, args.b_rows, args.seed)
    bench = harness.Bench(args)
    bench.params["data_dir"] = str(args.data_dir)
    run = Run(bench, args)

    everyone = [OURS_ARROW, OURS_PY, PA_STREAM, PA_PY, PA_WHOLE, POLARS, DATASETS, OLD]
    a_label = f"A {args.a_rows:,} rows (text + ~75 tokens)"
    b_label = f"B {args.b_rows:,} rows (200–2000 tokens)"
    # The pyarrow → Python baseline only where it says something new (Parquet, plain JSONL).
    fewer = [impl for impl in everyone if impl != PA_PY]
    cases = {}
    for label, name in [
        (a_label, "a.parquet"),
        (a_label, "a.jsonl"),
        (b_label, "b.parquet"),
        (b_label, "b.jsonl"),
        (b_label, "b.jsonl.zst"),
        (b_label, "b.csv"),
    ]:
        case = run.case(label, files[name], fewer if name in ("b.jsonl.zst", "b.csv") else everyone)
        cases[name] = case
        bench.baseline(case, PA_WHOLE if fmt_of(files[name]).startswith("jsonl") else PA_STREAM)

    for name in ("a.parquet", "b.parquet"):
        bench.goal(f"{name}: ours arrow >= 1.0x pyarrow iter_batches", cases[name], OURS_ARROW, PA_STREAM, need=1.0)
    for name in ("a.jsonl", "b.jsonl", "b.jsonl.zst"):
        bench.goal(f"{name}: ours arrow >= 1.0x pyarrow.json.read_json", cases[name], OURS_ARROW, PA_WHOLE, need=1.0)
    bench.goal("b.csv: ours arrow >= 1.0x pyarrow.csv.open_csv", cases["b.csv"], OURS_ARROW, PA_STREAM, need=1.0)
    for name in ("b.parquet", "b.jsonl", "b.jsonl.zst", "b.csv"):
        bench.goal(f"{name}: ours python >= 10x fast-axolotl 0.2.0", cases[name], OURS_PY, OLD, need=10.0)
    for name in ("a.parquet", "b.parquet", "b.jsonl"):
        bench.goal(f"{name}: ours python >= 20x datasets row streaming", cases[name], OURS_PY, DATASETS, need=20.0)
    bench.check(
        "every implementation's output equals ours", ", ".join(run.mismatches) or "all equal", not run.mismatches
    )
    bench_long_text(bench, args.data_dir, args.long_rows, args.seed)

    rss_rows = []
    if not args.no_rss:
        rss_impls = [OURS_ARROW, OURS_PY, PA_STREAM, PA_WHOLE, POLARS, DATASETS, OLD]
        rss_files = [files["a.parquet"], files["c.parquet"], files["c.jsonl"]]
        if args.quick:  # seconds, not minutes: the goal's files and the streaming readers only
            rss_impls, rss_files = [OURS_ARROW, OURS_PY, PA_STREAM], rss_files[1:]
        rss_rows = bench_rss(run, rss_files, rss_impls)
        for r in rss_rows:
            if r["impl"] in (OURS_ARROW, OURS_PY) and r["file"].startswith("c."):
                decoded, added = r["decoded_bytes"], r.get("added")
                limit = max(150e6, decoded / 4)
                measured = (
                    f"{added / 1e6:.0f} MB added for {decoded / 1e6:.0f} MB decoded (limit {limit / 1e6:.0f} MB)"
                    if added is not None
                    else r["error"]
                )
                ok = None if added is None or decoded < 700e6 else added < limit
                if decoded < 700e6 and added is not None:
                    measured += "; file under 700 MB decoded (--quick or smaller sizes): not judged"
                bench.check(f"{r['file']}: {r['impl']} adds < 150 MB (or < 1/4 of decoded) to peak RSS", measured, ok)

    bench.report(baseline=PA_STREAM)
    if rss_rows:
        print(rss_markdown(rss_rows))
        if args.json:
            with open(args.json) as f:
                report = json.load(f)
            report["peak_rss"] = rss_rows
            with open(args.json, "w") as f:
                json.dump(report, f, indent=2)


if __name__ == "__main__":
    main()
