"""The `fast-axolotl` command, run as a subprocess: every command's output is checked against
an independent reference (pure Python over the same rows, /proc/cpuinfo, importlib.metadata),
and bad input must give a non-zero exit with one line on stderr."""

from __future__ import annotations

import json
import math
import os
import random
import re
import sys
from importlib import metadata
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from conftest import run

import fast_axolotl


def cli(*args, env=None, cwd=None):
    return run([sys.executable, "-m", "fast_axolotl", *map(str, args)], env=env, cwd=cwd, timeout=600)


def assert_one_line_error(result, command: str, fragment: str):
    assert result.returncode == 1, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith(f"fast-axolotl {command}: error: ") and fragment in lines[0], lines[0]


def read_rows(path: Path) -> list[dict]:
    return pq.read_table(path).to_pylist()


def output_counts(stdout: str) -> dict:
    """{"rows in": n, "rows out": n, ...}: the first integer after each "name:"."""
    return {m[0]: int(m[1]) for m in re.findall(r"^([a-z ]+): (\d+)", stdout, re.M)}


# --- entry points and info ---------------------------------------------------------------


def test_console_script_and_module_agree():
    script = Path(sys.executable).parent / "fast-axolotl"
    assert script.is_file(), "pip install -e . creates the console script"
    by_script = run([str(script), "--version"])
    by_module = cli("--version")
    assert by_script.returncode == by_module.returncode == 0
    assert by_script.stdout == by_module.stdout == f"fast-axolotl {metadata.version('fast-axolotl')}\n"


def cpuinfo_flags() -> set:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def test_info_json_matches_independent_sources():
    result = cli("info", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    from fast_axolotl import _native
    from fast_axolotl.axolotl import PATCHES

    assert info["fast-axolotl"] == metadata.version("fast-axolotl")
    assert info["library"]["path"] == str(_native.library_path())
    assert info["library"]["abi"] == info["library"]["expected_abi"] == _native.lib.FAX_ABI_VERSION
    assert info["library"]["sha256_backend"] == fast_axolotl.sha256_backend()
    flags = cpuinfo_flags()
    assert info["cpu"]["sha_ni"] == ("sha_ni" in flags) and info["cpu"]["avx2"] == ("avx2" in flags)
    # SHA-NI is used exactly when the CPU has it (x86_64).
    assert (info["library"]["sha256_backend"] == "sha-ni") == ("sha_ni" in flags)
    try:
        axolotl_version = metadata.version("axolotl")
    except metadata.PackageNotFoundError:
        axolotl_version = None
    assert info["axolotl"] == axolotl_version
    assert list(info["patches"]) == [p.name for p in PATCHES]
    assert not any(p["active"] for p in info["patches"].values())  # nothing installs them here


def test_info_does_not_import_axolotl():
    code = "import sys; from fast_axolotl.cli import main; main(['info']); print('axolotl' in sys.modules)"
    result = run([sys.executable, "-c", code])
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "False"


def test_info_text_reports_threads_and_rayon():
    result = cli("info", env={**os.environ, "RAYON_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    usable = len(os.sched_getaffinity(0))
    assert f"threads:   {usable} usable of {os.cpu_count()} cores" in result.stdout
    assert "RAYON_NUM_THREADS=1 is not read" in result.stdout


def test_info_with_missing_library_fails(tmp_path):
    missing = tmp_path / "libfastaxo.so"
    result = cli("info", env={**os.environ, "FASTAXO_LIB": str(missing)})
    assert result.returncode == 1
    assert f"NOT LOADED: fast_axolotl: native library not found at {missing}" in result.stdout


@pytest.mark.axolotl
def test_info_axolotl_installs_every_patch():
    pytest.importorskip("axolotl.utils.samplers.multipack")
    result = cli("info", "--json", "--axolotl")
    assert result.returncode == 0, result.stderr
    patches = json.loads(result.stdout)["patches"]
    # "already active": importing Axolotl can already have applied a patch (fast_axolotl's import hook).
    assert all(p["install"] in ("installed", "already active") and p["active"] for p in patches.values()), patches


# --- dedupe ------------------------------------------------------------------------------


def dedupe_rows(n: int, seed: int) -> list[dict]:
    """Rows with many exact duplicates, near misses (same text, other n) and nulls."""
    rng = random.Random(seed)
    return [
        {
            "text": rng.choice(["a", "b", "c", "d", None]),
            "n": rng.randrange(3),
            "ids": [rng.randrange(2)] * rng.randrange(3),
        }
        for _ in range(n)
    ]


def first_occurrences(rows: list[dict], columns=None) -> list[dict]:
    """The pure-Python rule: keep a row unless str() of its (selected) fields was seen."""
    seen, kept = set(), []
    for row in rows:
        key = str({c: row[c] for c in columns} if columns else row)
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


def test_dedupe_parquet_keeps_first_occurrences(tmp_path):
    rows = dedupe_rows(20_000, seed=1)
    source = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(rows), source, row_group_size=3000)  # duplicates across batches
    result = cli("dedupe", source, tmp_path / "out.parquet")
    assert result.returncode == 0, result.stderr
    want = first_occurrences(rows)
    assert read_rows(tmp_path / "out.parquet") == want
    counts = output_counts(result.stdout)
    assert counts["rows in"] == len(rows) and counts["rows out"] == len(want)


def test_dedupe_directory_of_jsonl_across_files(tmp_path):
    rows = dedupe_rows(3000, seed=2)
    folder = tmp_path / "data"
    folder.mkdir()
    for part, start in enumerate(range(0, len(rows), 1000)):
        with open(folder / f"part-{part}.jsonl", "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows[start : start + 1000])
    result = cli("dedupe", folder, tmp_path / "out.parquet", "--quiet")
    assert result.returncode == 0, result.stderr
    assert read_rows(tmp_path / "out.parquet") == first_occurrences(rows)


def test_dedupe_on_some_columns_writes_whole_rows(tmp_path):
    # CSV has no types: no nulls or lists here, so that the rows read back are the rows written.
    rows = [{"text": r["text"] or "e", "n": r["n"]} for r in dedupe_rows(2000, seed=3)]
    source = tmp_path / "in.csv"
    pacsv.write_csv(pa.Table.from_pylist(rows), source)
    result = cli("dedupe", source, tmp_path / "out.parquet", "--columns", "text")
    assert result.returncode == 0, result.stderr
    assert read_rows(tmp_path / "out.parquet") == first_occurrences(rows, ["text"])


# --- pack --------------------------------------------------------------------------------


def tokenized(n: int, max_len: int, seed: int, labels: bool = False) -> list[dict]:
    """Rows of distinct token lists (the first token is the row number) of 1..max_len tokens."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        ids = [i] + [rng.randrange(50_000) for _ in range(rng.randint(0, max_len - 1))]
        row = {"input_ids": ids, "text": f"row {i}"}
        if labels:
            row["labels"] = [-100 if rng.random() < 0.3 else t for t in ids]
        rows.append(row)
    return rows


def segments(row: dict) -> list[dict]:
    """Split a packed row at its attention_mask numbering (1..K): one dict per sample."""
    mask = row["attention_mask"]
    assert mask == sorted(mask) and (not mask or mask[0] == 1), "samples numbered 1..K in order"
    out = []
    for k in range(1, (mask[-1] if mask else 0) + 1):
        a, b = mask.index(k), len(mask) - mask[::-1].index(k)
        out.append({name: row[name][a:b] for name in ("input_ids", "labels", "position_ids")})
    return out


def check_packed(rows_in: list[dict], rows_out: list[dict], max_length: int) -> None:
    """Every input row's tokens exactly once, each output row <= max_length, labels equal to
    the row's labels (or its tokens), position_ids 0..len-1 per sample."""
    by_first_token = {r["input_ids"][0]: r for r in rows_in}
    found = []
    for row in rows_out:
        assert len({len(row[c]) for c in ("input_ids", "labels", "position_ids", "attention_mask")}) == 1
        assert 0 < len(row["input_ids"]) <= max_length
        for sample in segments(row):
            source = by_first_token[sample["input_ids"][0]]
            assert sample["input_ids"] == source["input_ids"]
            assert sample["labels"] == source.get("labels", source["input_ids"])
            assert sample["position_ids"] == list(range(len(source["input_ids"])))
            found.append(sample["input_ids"][0])
    assert sorted(found) == sorted(by_first_token)


def pack(tmp_path, rows, *args):
    source = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(rows), source, row_group_size=700)
    out = tmp_path / "out.parquet"
    result = cli("pack", source, out, *args)
    assert result.returncode == 0, result.stderr
    return result, read_rows(out)


@pytest.mark.parametrize("labels", [False, True], ids=["no-labels", "labels-column"])
def test_pack_bfd_keeps_every_token_once(tmp_path, labels):
    rows = tokenized(3000, 300, seed=4, labels=labels)
    result, out = pack(tmp_path, rows, "--max-length", 512)
    check_packed(rows, out, 512)
    total = sum(len(r["input_ids"]) for r in rows)
    counts = output_counts(result.stdout)
    assert counts["rows in"] == len(rows) and counts["rows out"] == len(out)
    bound = math.ceil(total / 512)
    assert f"lower bound: ceil({total} / 512) = {bound} rows" in result.stdout
    assert f"fill: {total / (len(out) * 512):.4f}" in result.stdout
    assert bound <= len(out) <= bound * 1.01  # best-fit decreasing on small items: near the bound


def first_fit_bins(lengths: list[int], capacity: int) -> list[list[int]]:
    """Pure-Python first fit in input order: each item into the first bin with room."""
    bins, room = [], []
    for i, length in enumerate(lengths):
        k = next((b for b, r in enumerate(room) if r >= length), None)
        if k is None:
            bins.append([i])
            room.append(capacity - length)
        else:
            bins[k].append(i)
            room[k] -= length
    return bins


def test_pack_first_fit_matches_python_first_fit(tmp_path):
    rows = tokenized(1500, 200, seed=5)
    result, out = pack(tmp_path, rows, "--max-length", 256, "--strategy", "first_fit", "--column", "input_ids")
    check_packed(rows, out, 256)
    bins = first_fit_bins([len(r["input_ids"]) for r in rows], 256)
    assert [r["input_ids"] for r in out] == [sum((rows[i]["input_ids"] for i in b), []) for b in bins]


# --- bad input -----------------------------------------------------------------------------


@pytest.fixture
def table_file(tmp_path):
    path = tmp_path / "tok.parquet"
    pq.write_table(pa.Table.from_pylist(tokenized(50, 20, seed=6)), path)
    return path


def test_missing_input(tmp_path):
    for command in (["dedupe"], ["pack", "--max-length", "8"]):
        result = cli(*command, tmp_path / "nope.parquet", tmp_path / "out.parquet")
        assert_one_line_error(result, command[0], "nope.parquet: no such file or directory")


def test_garbage_input_and_debug_traceback(tmp_path):
    garbage = tmp_path / "garbage.parquet"
    garbage.write_bytes(random.Random(7).randbytes(4096))
    result = cli("dedupe", garbage, tmp_path / "out.parquet")
    assert_one_line_error(result, "dedupe", "garbage.parquet")
    assert not (tmp_path / "out.parquet").exists()
    debug = cli("dedupe", garbage, tmp_path / "out.parquet", "--debug")
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_output_inside_input(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    pq.write_table(pa.table({"a": [1, 1]}), folder / "part.parquet")
    assert_one_line_error(cli("dedupe", folder, folder / "out.parquet"), "dedupe", "OUT must not be IN or inside it")
    assert_one_line_error(
        cli("dedupe", folder / "part.parquet", folder / "part.parquet"), "dedupe", "OUT must not be IN"
    )


def test_unknown_format(tmp_path):
    blob = tmp_path / "data.bin"
    blob.write_bytes(b"\x00\x01")
    assert_one_line_error(
        cli("dedupe", blob, tmp_path / "out.parquet"), "dedupe", "cannot tell the format from the name"
    )


@pytest.mark.parametrize("value", ["0", "-3", "abc", "1.5"])
def test_bad_max_length(table_file, tmp_path, value):
    result = cli("pack", table_file, tmp_path / "out.parquet", "--max-length", value)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("fast-axolotl pack: error: argument --max-length")


def test_unknown_strategy(table_file, tmp_path):
    result = cli("pack", table_file, tmp_path / "out.parquet", "--max-length", "64", "--strategy", "worst_fit")
    assert result.returncode == 2 and "invalid choice: 'worst_fit'" in result.stderr


def test_rows_longer_than_max_length(table_file, tmp_path):
    result = cli("pack", table_file, tmp_path / "out.parquet", "--max-length", "5")
    assert_one_line_error(result, "pack", "longer than --max-length 5")
    assert not (tmp_path / "out.parquet").exists()


def test_wrong_column(table_file, tmp_path):
    result = cli("pack", table_file, tmp_path / "out.parquet", "--max-length", "64", "--column", "text")
    assert_one_line_error(result, "pack", "must hold lists of token ids")
    result = cli("dedupe", table_file, tmp_path / "out.parquet", "--columns", "missing")
    assert_one_line_error(result, "dedupe", "has no column 'missing'")


# --- bench ----------------------------------------------------------------------------------

FAKE_BENCH = """
import time
from fast_axolotl.bench import harness

p = harness.parser("fake")
bench = harness.Bench(p.parse_args())
bench.time("sleep", "20 ms", lambda: time.sleep(0.02))
bench.time("sleep", "5 ms", lambda: time.sleep(0.005))
bench.time("sleep", "60 ms", lambda: time.sleep(0.06))
bench.goal("5 ms >= 2x 20 ms", "sleep", "5 ms", "20 ms", need=2.0)
bench.goal("5 ms >= 10x 20 ms", "sleep", "5 ms", "20 ms", need=10.0)
bench.report(baseline="20 ms")
"""


@pytest.fixture
def bench_dir(tmp_path):
    folder = tmp_path / "bench"
    folder.mkdir()
    (folder / "bench_sleep.py").write_text(FAKE_BENCH)
    (folder / "bench_broken.py").write_text("import sys\nprint('broken on purpose', file=sys.stderr)\nsys.exit(3)\n")
    return folder


def table_rows(markdown: str) -> dict:
    """implementation -> (median ms, ratio text) from the report's results tables."""
    rows = {}
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| ") and len(cells) == 5 and cells[2] not in ("median ms", "---:"):
            rows[cells[1]] = (float(cells[2]), cells[3])
    return rows


def test_bench_report_from_fake_scripts(bench_dir, tmp_path):
    out = tmp_path / "report.md"
    result = cli("bench", "--quick", "--bench-dir", bench_dir, "--only", "bench_sleep", "--out", out, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = out.read_text()
    assert "## Machine" in report and "## bench_sleep.py" in report and "## bench_broken" not in report
    assert "**Not run this time** (`--only`): bench_broken.py." in report
    rows = table_rows(report)
    base = rows["20 ms"][0]
    assert rows["20 ms"][1] == "baseline"
    for impl in ("5 ms", "60 ms"):
        ms, text = rows[impl]
        ratio = float(text.split("x")[0])
        assert ratio == pytest.approx(base / ms, rel=0.02, abs=0.01)  # from the medians shown
        assert text.endswith("(slower)") == (ratio < 1)
    assert rows["60 ms"][1].endswith("(slower)")  # 3x the sleep of the baseline: a loss, shown as one
    # The goals' ratio is the table's; about 4x (sleeps): reached at 2x, NOT reached at 10x.
    shown = rows["5 ms"][1]
    assert f"- 5 ms >= 2x 20 ms: {shown} (need >= 2.00x): reached" in report
    assert f"- 5 ms >= 10x 20 ms: {shown} (need >= 10.00x): NOT reached" in report


def test_bench_writes_the_goals_into_the_readme(bench_dir, tmp_path):
    from fast_axolotl._bench import README_END, README_START

    readme = tmp_path / "README.md"
    before, after = "# title\n\ntext above\n", "\ntext below\n"
    readme.write_text(f"{before}{README_START}\nold table\n{README_END}{after}")
    out = tmp_path / "report.md"
    result = cli(
        "bench", "--quick", "--bench-dir", bench_dir, "--only", "bench_sleep", "--out", out, "--readme", readme
    )
    assert result.returncode == 0, result.stderr
    text = readme.read_text()
    assert text.startswith(before + README_START) and text.endswith(README_END + after) and "old table" not in text
    # Each goal of the report is a row of the README, with the same measurement and status.
    goals = [line[2:] for line in out.read_text().splitlines() if line.startswith("- 5 ms >= ")]
    assert len(goals) == 2
    for goal in goals:
        name, measured, status = goal.split(": ")
        assert f"| bench_sleep.py | {name} | {measured} | {status} |" in text


def test_bench_refuses_a_readme_without_the_block_before_running(bench_dir, tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text("# no block here\n")
    result = cli("bench", "--bench-dir", bench_dir, "--readme", readme, "--out", tmp_path / "report.md")
    assert_one_line_error(result, "bench", "has no goals block")
    assert not (tmp_path / "report.md").exists() and readme.read_text() == "# no block here\n"


def test_bench_failed_script_is_reported(bench_dir, tmp_path):
    out = tmp_path / "report.md"
    result = cli("bench", "--quick", "--bench-dir", bench_dir, "--out", out, "--quiet")
    assert result.returncode == 1
    assert "bench_broken.py failed" in result.stderr
    report = out.read_text()
    assert "## bench_broken.py" in report and "**FAILED**" in report and "broken on purpose" in report
    assert "## bench_sleep.py" in report


def test_bench_without_scripts_fails_clearly(tmp_path):
    result = cli("bench", "--bench-dir", tmp_path)
    assert_one_line_error(result, "bench", "no bench_*.py scripts in")
    result = cli("bench", "--bench-dir", tmp_path / "missing")
    assert_one_line_error(result, "bench", "is not a directory")
    result = cli("bench", "--only", "bench_nothing")
    assert_one_line_error(result, "bench", "no such benchmark script")
