"""The streaming reader against pyarrow's own readers (and `datasets` for its directories), on
generated files: unicode, nulls, token lists, chat list<struct> columns, many row groups,
dictionary columns, many tiny record batches; projection; exact batch sizes; every bad input."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import textwrap
import threading

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.feather as feather
import pyarrow.json as pjson
import pyarrow.parquet as pq
import pytest
import zstandard

import fast_axolotl as fa
from fast_axolotl import reader

ROWS = 3000


def make_table(rows: int = ROWS, seed: int = 0) -> pa.Table:
    """Token lists, unicode text with nulls, a chat column, ints beyond 2**53."""
    rng = np.random.default_rng(seed)
    words = ["héllo", "wörld", "日本語", "emoji 🙂", "tab\there", 'quote "x"', "comma, y", "new\nline"]
    text = [None if i % 17 == 0 else " ".join(rng.choice(words, rng.integers(0, 6))) for i in range(rows)]
    tokens = [rng.integers(0, 50_000, rng.integers(0, 40)).tolist() for _ in range(rows)]
    chat = [
        [{"role": "user", "content": f"q{i} {text[i] or ''}"}, {"role": "assistant", "content": f"a{i}"}][: 1 + i % 2]
        for i in range(rows)
    ]
    return pa.table(
        {
            "id": pa.array(np.arange(rows) + 2**60, pa.int64()),
            "text": pa.array(text, pa.string()),
            "input_ids": pa.array(tokens, pa.list_(pa.int32())),
            "messages": pa.array(chat),
            "score": pa.array([None if i % 11 == 0 else i / 7 for i in range(rows)], pa.float64()),
        }
    )


def read(path, **options) -> pa.Table:
    with reader.open_reader(path, **options) as r:
        return r.read_all()


def write_jsonl(table: pa.Table, path, opener=open) -> None:
    with opener(path, "wt", encoding="utf-8") as f:
        for row in table.to_pylist():
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


@pytest.fixture(scope="module")
def table() -> pa.Table:
    return make_table()


# --- content, format by format ------------------------------------------------------------


@pytest.mark.parametrize("row_group_size", [ROWS, 100, 7])
@pytest.mark.parametrize("threads", [1, 0])
def test_parquet_matches_pyarrow(tmp_path, table, row_group_size, threads):
    path = tmp_path / "d.parquet"
    pq.write_table(table, path, row_group_size=row_group_size)
    assert read(path, batch_size=500, num_threads=threads).equals(pq.read_table(path))


def test_parquet_dictionary_columns(tmp_path, table):
    encoded = table.set_column(1, "text", table["text"].dictionary_encode())
    path = tmp_path / "dict.parquet"
    pq.write_table(encoded, path, row_group_size=250)
    got, expected = read(path), pq.read_table(path)
    # Each batch carries its own dictionary: compare types and values, not the dictionaries.
    assert got.schema == expected.schema
    assert got.to_pylist() == expected.to_pylist()
    plain_path = tmp_path / "plain.parquet"  # dictionary *pages*, plain string type
    pq.write_table(table, plain_path, use_dictionary=True, row_group_size=250)
    assert read(plain_path).equals(table)


@pytest.mark.parametrize("compression", [None, "zstd", "lz4"])
def test_feather_matches_pyarrow(tmp_path, table, compression):
    path = tmp_path / "d.feather"
    feather.write_feather(table, path, compression=compression or "uncompressed", chunksize=97)
    assert read(path).equals(feather.read_table(path))


def test_arrow_stream_of_tiny_batches(tmp_path, table):
    path = tmp_path / "d.arrow"
    with pa.ipc.new_stream(path, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=3):
            writer.write_batch(batch)
    sizes = [b.num_rows for b in reader.open_reader(path, batch_size=1000)]
    assert sizes == [1000, 1000, 1000]
    assert read(path).equals(table)


def test_save_to_disk_directory(tmp_path, table):
    datasets = pytest.importorskip("datasets")
    dataset = datasets.Dataset(table).shuffle(seed=1).select(range(0, ROWS, 2))
    dataset.save_to_disk(str(tmp_path / "ds"), max_shard_size="100KB")
    expected = datasets.load_from_disk(str(tmp_path / "ds")).data.table
    assert len(list((tmp_path / "ds").glob("*.arrow"))) > 1
    assert read(tmp_path / "ds").equals(expected)
    assert reader.detect_format(tmp_path / "ds") == ("hf_dataset", None)


def test_dataset_dict_directory_names_the_splits(tmp_path, table):
    datasets = pytest.importorskip("datasets")
    datasets.DatasetDict({"train": datasets.Dataset(table), "test": datasets.Dataset(table)}).save_to_disk(
        str(tmp_path / "dd")
    )
    with pytest.raises(fa.InvalidArgumentError, match="splits: test, train"):
        reader.open_reader(tmp_path / "dd")


@pytest.mark.parametrize("suffix, opener", [("", open), (".gz", gzip.open), (".zst", zstandard.open)])
def test_jsonl_matches_pyarrow_json(tmp_path, table, suffix, opener):
    path = tmp_path / f"d.jsonl{suffix}"
    write_jsonl(table, path, opener)
    plain = tmp_path / "plain.jsonl"
    write_jsonl(table, plain)
    expected = pjson.read_json(plain)
    got = read(path, batch_size=256)
    assert got.schema.names == expected.schema.names == table.schema.names
    assert got.to_pylist() == expected.to_pylist() == table.to_pylist()
    assert got["id"].type == pa.int64()  # exact beyond 2**53


def test_jsonl_missing_keys_are_nulls_in_their_rows(tmp_path):
    rows = [{"a": 1, "b": "x"}, {"b": "y"}, {"a": 3}, {"c": [1, 2], "a": 4, "b": None}]
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    got = read(path)
    assert got.schema.names == ["a", "b", "c"]
    assert got.to_pylist() == pjson.read_json(path).to_pylist()
    assert got.column("a").to_pylist() == [1, None, 3, 4]


def test_json_array_file(tmp_path, table):
    path = tmp_path / "d.json"
    path.write_text(json.dumps(table.to_pylist(), ensure_ascii=False, indent=2), encoding="utf-8")
    assert read(path).to_pylist() == table.to_pylist()
    lines = tmp_path / "lines.json"  # `datasets` reads .json files of lines too
    write_jsonl(table, lines)
    assert read(lines).to_pylist() == table.to_pylist()


@pytest.mark.parametrize("suffix, opener", [("", open), (".gz", gzip.open)])
def test_csv_matches_pyarrow_csv(tmp_path, suffix, opener):
    rows = ["id,text,score", '1,"a, b",0.5', '2,"multi\nline ""quoted""",', "3,,2.25", "4,plain é,1e3"]
    path = tmp_path / f"d.csv{suffix}"
    with opener(path, "wt", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")
    plain = tmp_path / "plain.csv"
    plain.write_text("\n".join(rows) + "\n", encoding="utf-8")
    # Empty fields are nulls in every column (pyarrow makes them "" in string columns unless
    # asked); values and types otherwise agree.
    expected = pcsv.read_csv(plain, convert_options=pcsv.ConvertOptions(strings_can_be_null=True))
    assert read(path, batch_size=2).equals(expected)


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r"])
def test_csv_types_and_line_ends_match_pyarrow_csv(tmp_path, eol):
    rows = [
        "i,f,flag,day,at,text,empty",
        '1,1.5,true,2020-01-02,2020-01-02 03:04:05,"say ""hi"", twice",',
        "",
        '-2,1e3,False,2021-12-31,2021-12-31 23:59:59,"",',
        ',,,,,"two' + eol + 'lines",',
        "9223372036854775807,-0.25,TRUE,1999-01-01,1999-01-01 00:00:00,plain,",
    ]
    path = tmp_path / "types.csv"
    path.write_bytes(eol.join(rows).encode() + eol.encode())
    options = pcsv.ConvertOptions(strings_can_be_null=True)
    expected = pcsv.read_csv(path, convert_options=options, parse_options=pcsv.ParseOptions(newlines_in_values=True))
    assert [str(t) for t in expected.schema.types] == [
        "int64",
        "double",
        "bool",
        "date32[day]",
        "timestamp[s]",
        "string",
        "null",
    ]
    for batch_size in (1, 2, 10):
        assert read(path, batch_size=batch_size).equals(expected)


def write_big_csv(path, rows: int, eol: str = "\n", trailing: bool = True) -> None:
    """Rows well past the bytes read ahead to infer types, quoted fields holding newlines,
    quotes and commas all through them (so some sit where buffers and blocks are cut). No
    `\r\n` inside a value: pyarrow drops its `\n` where its own blocks are cut."""
    import csv

    words = ["héllo", "new\nline", 'quote "x"', "comma, y", "日本語", "5'2\"", "plain"]
    with open(path, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator=eol)
        out.writerow(["id", "text", "score"])
        for i in range(rows):
            text = " ".join(words[(i * k) % len(words)] for k in range(1, 2 + i % 7))
            out.writerow([i, text, i / 8])
    if not trailing:
        with open(path, "rb+") as f:
            f.truncate(os.path.getsize(path) - len(eol))


@pytest.mark.parametrize("eol, trailing", [("\n", True), ("\r\n", True), ("\r\n", False)])
def test_big_csv_matches_pyarrow_csv(tmp_path, eol, trailing):
    path = tmp_path / "big.csv"
    write_big_csv(path, 300_000, eol, trailing)
    assert path.stat().st_size > 12 << 20
    expected = pcsv.read_csv(path, parse_options=pcsv.ParseOptions(newlines_in_values=True))
    for batch_size, threads in [(1000, None), (777, 1), (50_000, 2)]:
        got = list(reader.streaming_dataset_reader(path, batch_size=batch_size, num_threads=threads, output="arrow"))
        assert all(b.num_rows == batch_size for b in got[:-1])
        assert stream_table(got).equals(expected)
    assert read(path, columns=["score", "text"]).equals(expected.select(["score", "text"]))


def test_csv_error_late_in_a_big_file_names_its_line(tmp_path):
    path = tmp_path / "big.csv"
    write_big_csv(path, 300_000)
    lines = path.read_text(encoding="utf-8").split("\n")
    bad = next(i for i in range(len(lines) - 1, 0, -1) if lines[i].startswith("280000,"))
    lines[bad] = "x" + lines[bad]
    path.write_text("\n".join(lines), encoding="utf-8")
    seen = []
    # arrow-csv's numbering: records after the header, from 1.
    with pytest.raises(fa.FormatError, match="value 'x280000' .* at line 280001"):
        for batch in reader.streaming_dataset_reader(path, batch_size=1000, output="arrow"):
            seen.extend(batch["id"].to_pylist())
    assert seen == list(range(280_000))


def test_text_lines(tmp_path):
    content = "first line\r\nsecond — ünïcode\n\n  indented\nlast without newline"
    path = tmp_path / "d.txt"
    path.write_bytes(content.encode())
    got = read(path, batch_size=2)
    assert got.schema.names == ["text"]
    assert got.column("text").to_pylist() == content.replace("\r\n", "\n").split("\n")


def test_shards_directory_and_glob(tmp_path, table):
    for i, start in enumerate(range(0, ROWS, 1000)):
        pq.write_table(table.slice(start, 1000), tmp_path / f"part-{i:02d}.parquet", row_group_size=333)
    (tmp_path / "_SUCCESS").write_text("")
    assert read(tmp_path).equals(table)
    assert read(tmp_path / "part-0[02].parquet").equals(
        pa.concat_tables([table.slice(0, 1000), table.slice(2000, 1000)])
    )


def test_jsonl_shards_share_the_first_schema(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"x": 1, "y": "a"}\n')
    (tmp_path / "b.jsonl").write_text('{"y": "b"}\n{"x": 3}\n')
    assert read(tmp_path).to_pylist() == [{"x": 1, "y": "a"}, {"x": None, "y": "b"}, {"x": 3, "y": None}]


# --- batches and projection ---------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [1, 7, 999, 1000, 5000])
def test_batches_have_exactly_batch_size_rows(tmp_path, table, batch_size):
    path = tmp_path / "d.parquet"
    pq.write_table(table, path, row_group_size=123)
    sizes = [b.num_rows for b in reader.open_reader(path, batch_size=batch_size)]
    full, rest = divmod(ROWS, batch_size)
    assert sizes == [batch_size] * full + ([rest] if rest else [])


@pytest.mark.parametrize("fmt", ["parquet", "feather", "jsonl"])
def test_projection_keeps_the_order_asked(tmp_path, table, fmt):
    path = tmp_path / f"d.{fmt}"
    {"parquet": pq.write_table, "feather": feather.write_feather, "jsonl": write_jsonl}[fmt](table, path)
    got = read(path, columns=["score", "id"])
    assert got.schema.names == ["score", "id"]
    assert got.to_pylist() == table.select(["score", "id"]).to_pylist()


def test_outputs_of_streaming_dataset_reader(tmp_path, table):
    path = tmp_path / "d.parquet"
    pq.write_table(table, path)
    batches = list(reader.streaming_dataset_reader(path, batch_size=1000, output="python"))
    assert batches == [b.to_pydict() for b in table.to_batches(max_chunksize=1000)]
    arrow = list(reader.streaming_dataset_reader(path, "PARQUET", batch_size=1000, output="arrow"))
    assert pa.Table.from_batches(arrow).equals(table)
    numpy_batches = list(
        reader.streaming_dataset_reader(path, batch_size=1000, columns=["id", "input_ids"], output="numpy")
    )
    assert np.array_equal(np.concatenate([b["id"] for b in numpy_batches]), table["id"].to_numpy())
    tokens = [t.tolist() for b in numpy_batches for t in b["input_ids"]]
    assert tokens == table["input_ids"].to_pylist()
    with pytest.raises(ValueError, match="output"):
        next(reader.streaming_dataset_reader(path, output="pandas"))


def read_ahead_workers() -> list:
    return [t for t in threading.enumerate() if t.name == "fast_axolotl read-ahead"]


def test_converted_outputs_read_ahead_and_stop_with_the_caller(tmp_path, table):
    path = tmp_path / "d.parquet"
    pq.write_table(table, path)
    for output in ("python", "numpy"):
        batches = reader.streaming_dataset_reader(path, batch_size=100, output=output)
        assert list(next(batches)["id"]) == table["id"][:100].to_pylist()
        assert len(read_ahead_workers()) == 1  # 29 batches still to read
        batches.close()
        assert read_ahead_workers() == []
    batches = reader.streaming_dataset_reader(path, batch_size=100)
    next(batches)
    del batches  # dropped half-way: the generator's finalizer ends the worker
    assert read_ahead_workers() == []


@pytest.mark.parametrize(
    "status_name, make",
    [
        ("FAX_ERR_FORMAT", lambda path: path.write_text('{"a": 1}\n' * 2000 + '{"a": 2\n')),
        ("FAX_ERR_IO", lambda path: path.write_bytes(gzip.compress(b'{"a": 1}\n' * 20000)[:-40])),
    ],
)
def test_a_stream_error_has_its_status_on_the_reading_thread(native, tmp_path, status_name, make):
    """The C stream says only EIO or EINVAL; the thread that called get_next learns the status
    from the library, as a C program would (here through pyarrow, no fast_axolotl translation)."""
    path = tmp_path / ("d.jsonl.gz" if status_name == "FAX_ERR_IO" else "d.jsonl")
    make(path)
    stream = native.ffi.new("struct ArrowArrayStream *")
    options = b'{"batch_size": 100}'
    native.check(native.lib.fax_reader_open(bytes(path), options, len(options), stream))
    imported = pa.RecordBatchReader._import_from_c(int(native.ffi.cast("uintptr_t", stream)))
    with pytest.raises((pa.ArrowException, OSError)) as err:
        imported.read_all()
    assert native.lib.fax_last_error_status() == getattr(native.lib, status_name)
    assert native.last_error_message() in str(err.value)


def test_error_after_the_batches_read_before_it(tmp_path):
    lines = ['{"a": %d}' % i for i in range(1500)]
    lines[1200] = '{"a": 2'
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(lines) + "\n")
    seen = []
    with pytest.raises(fa.FormatError, match="line 1201"):
        for batch in reader.streaming_dataset_reader(path, batch_size=100):
            seen.extend(batch["a"])
    assert seen == list(range(1200))
    assert read_ahead_workers() == []


def test_arrow_c_stream_consumers(tmp_path, table):
    path = tmp_path / "d.parquet"
    pq.write_table(table, path)
    assert pa.table(reader.open_reader(path)).equals(table)
    assert pa.RecordBatchReader.from_stream(reader.open_reader(path)).read_all().equals(table)
    r = reader.open_reader(path)
    pa.table(r)
    with pytest.raises(ValueError, match="consumed"):
        list(r)
    polars = pytest.importorskip("polars")  # takes the stream itself (__arrow_c_stream__)
    frame = polars.DataFrame(reader.open_reader(path, columns=["id"]))
    assert frame.to_arrow().to_pylist() == table.select(["id"]).to_pylist()


def test_detect_format_and_names(tmp_path, table):
    write_jsonl(table.slice(0, 5), tmp_path / "a.jsonl")
    with zstandard.open(tmp_path / "b.jsonl.zst", "wt") as f:
        f.write('{"a": 1}\n')
    pq.write_table(table, tmp_path / "noext")
    assert reader.detect_format(tmp_path / "a.jsonl") == ("jsonl", None)
    assert reader.detect_format(tmp_path / "b.jsonl.zst") == ("jsonl", "zstd")
    assert reader.detect_format(tmp_path / "noext") == ("parquet", None)
    formats = reader.list_supported_formats()
    assert {"parquet", "arrow", "feather", "csv", "json", "jsonl", "text", "jsonl.zst", "csv.gz", "hf_dataset"} <= set(
        formats
    )


# --- bad input -----------------------------------------------------------------------------


def error_of(path, **options) -> Exception:
    with pytest.raises(fa.FastAxolotlError) as info:
        list(reader.open_reader(path, **options))
    assert str(path) in str(info.value) or os.fspath(path) in str(info.value)
    return info.value


def test_missing_paths(tmp_path):
    assert isinstance(error_of(tmp_path / "none.jsonl"), FileNotFoundError)
    assert isinstance(error_of(tmp_path / "*.parquet"), FileNotFoundError)
    (tmp_path / "notes.md").write_text("x")
    assert "no readable data file" in str(error_of(tmp_path))


def test_empty_and_corrupt_files(tmp_path, table):
    (tmp_path / "empty.jsonl").write_bytes(b"")
    assert "empty" in str(error_of(tmp_path / "empty.jsonl"))
    pq.write_table(table, tmp_path / "good.parquet")
    data = (tmp_path / "good.parquet").read_bytes()
    (tmp_path / "cut.parquet").write_bytes(data[: len(data) // 2])
    assert isinstance(error_of(tmp_path / "cut.parquet"), fa.FormatError)
    # Garbage in a data page: the footer is intact, decoding fails; the error says where.
    broken = bytearray(data)
    broken[100:400] = os.urandom(300)
    (tmp_path / "broken.parquet").write_bytes(bytes(broken))
    with pytest.raises(fa.FastAxolotlError):
        read(tmp_path / "broken.parquet")


def test_corrupt_compression(tmp_path, table):
    write_jsonl(table, tmp_path / "d.jsonl.zst", zstandard.open)
    data = (tmp_path / "d.jsonl.zst").read_bytes()
    (tmp_path / "cut.jsonl.zst").write_bytes(data[: len(data) // 2])
    error_of(tmp_path / "cut.jsonl.zst")
    write_jsonl(table, tmp_path / "d.jsonl.gz", gzip.open)
    data = (tmp_path / "d.jsonl.gz").read_bytes()
    (tmp_path / "cut.jsonl.gz").write_bytes(data[: len(data) // 2])
    error_of(tmp_path / "cut.jsonl.gz")
    (tmp_path / "plain.jsonl.gz").write_text('{"a": 1}\n')
    assert "not compressed" in str(error_of(tmp_path / "plain.jsonl.gz"))


@pytest.mark.parametrize(
    "bad_line, expected",
    [
        ('{"a": 2', "malformed JSON"),
        ("[1, 2]", "expected a JSON object"),
        ('{"a": 2.5}', "expected an integer"),
        ('{"a": 1, "new": 1}', "new"),
    ],
)
def test_bad_jsonl_line_is_named(tmp_path, bad_line, expected):
    lines = ['{"a": 1}'] * 1500
    lines[1200] = bad_line
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(lines) + "\n")
    error = error_of(path, batch_size=100)
    assert isinstance(error, fa.FormatError)
    assert "line 1201" in str(error) and expected in str(error)


def test_jsonl_inference_stops_at_16_mib(tmp_path):
    """Inference reads the first 1000 lines or 16 MiB, whichever ends first, but always one
    line: 1000 long lines would be held in memory at once."""
    long = "x" * (9 << 20)  # two of them reach 16 MiB: inference ends after line 2
    rows = [{"a": 1, "s": long}, {"a": 2, "s": long}, {"a": 3, "s": "short"}, {"s": None, "a": 4}]
    path = tmp_path / "long.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    big_blocks = pjson.ReadOptions(block_size=64 << 20)  # pyarrow needs a block to hold a line
    assert read(path, batch_size=3).to_pylist() == pjson.read_json(path, read_options=big_blocks).to_pylist() == rows
    for late, why in [({"a": 3, "s": "short", "new": 1}, "new"), ({"a": 3.5, "s": "short"}, "integer")]:
        path.write_text("".join(json.dumps(r) + "\n" for r in [*rows[:2], late]))
        message = str(error_of(path, batch_size=100))
        assert "line 3" in message and why in message and "the first 2 lines" in message, message
    one = [{"a": 1, "s": "y" * (17 << 20)}, {"a": 2, "s": "z"}]  # one line past the cap is still read whole
    path.write_text("".join(json.dumps(r) + "\n" for r in one))
    assert read(path).to_pylist() == pjson.read_json(path, read_options=big_blocks).to_pylist() == one


def test_bad_arguments(tmp_path, table):
    path = tmp_path / "d.parquet"
    pq.write_table(table, path)
    with pytest.raises(fa.InvalidArgumentError, match="unknown dataset type"):
        reader.open_reader(path, dataset_type="yaml")
    with pytest.raises(ValueError, match="batch_size"):
        reader.open_reader(path, batch_size=0)
    with pytest.raises(TypeError, match="batch_size"):
        reader.open_reader(path, batch_size=1.5)
    with pytest.raises(fa.InvalidArgumentError, match="nope"):
        reader.open_reader(path, columns=["nope"])
    with pytest.raises(TypeError, match="columns"):
        reader.open_reader(path, columns="id")
    with pytest.raises(fa.FormatError):
        list(reader.open_reader(path, dataset_type="jsonl"))


def test_non_utf8_text(tmp_path):
    (tmp_path / "d.txt").write_bytes(b"fine\nnot \xff utf-8\n")
    assert "line 2" in str(error_of(tmp_path / "d.txt"))


# --- resources -----------------------------------------------------------------------------


def run_python(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_abandoned_readers_release_memory(tmp_path):
    path = tmp_path / "big.parquet"
    rows = 200_000
    pq.write_table(
        pa.table({"tokens": pa.array([list(range(i % 50, i % 50 + 100)) for i in range(rows)], pa.list_(pa.int32()))}),
        path,
        row_group_size=50_000,
    )
    out = run_python(
        f"""
        import gc
        from fast_axolotl import reader

        def rss():
            for line in open("/proc/self/status"):
                if line.startswith("VmRSS"):
                    return int(line.split()[1]) // 1024

        def abandon(n):
            for _ in range(n):
                r = reader.open_reader({str(path)!r}, batch_size=1000)
                next(iter(r))
                del r
            gc.collect()

        abandon(20)
        before = rss()
        abandon(200)
        print(rss() - before)
        """
    )
    assert int(out) < 30, f"RSS grew by {out} MB over 200 abandoned readers"


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_one_reader_shared_by_threads(tmp_path, fmt):
    """Four threads iterating one reader get every batch once between them; a close from
    another thread mid-read ends the readers with a ValueError. In a subprocess: before the
    reader took one thread at a time, both crashed the interpreter."""
    path = tmp_path / f"d.{fmt}"
    table = pa.table(
        {
            "id": pa.array(range(50_000), pa.int64()),
            "tokens": pa.array([[i, i + 1] for i in range(50_000)], pa.list_(pa.int32())),
        }
    )
    pq.write_table(table, path, row_group_size=5_000) if fmt == "parquet" else write_jsonl(table, path)
    out = run_python(
        f"""
        import threading
        from fast_axolotl import reader

        def share(r, threads, close=False):
            ids, errors = [], []
            def take():
                try:
                    for batch in r:
                        ids.extend(batch["id"].to_pylist())
                except ValueError as error:
                    errors.append(str(error))
            workers = [threading.Thread(target=take) for _ in range(threads)]
            for w in workers:
                w.start()
            if close:
                r.close()
            for w in workers:
                w.join()
            return ids, errors

        ids, errors = share(reader.open_reader({str(path)!r}, batch_size=100), 4)
        print(sorted(ids) == list(range(50_000)), len(ids), errors)
        ids, errors = share(reader.open_reader({str(path)!r}, batch_size=100), 4, close=True)
        print(all("closed" in e for e in errors), len(ids) == len(set(ids)) < 50_000)
        """
    )
    assert out.split("\n")[:2] == ["True 50000 []", "True True"], out


def test_gil_is_released_while_reading(tmp_path):
    path = tmp_path / "d.jsonl"
    write_jsonl(make_table(20_000), path)
    ticks = []
    done = threading.Event()

    def count():
        while not done.is_set():
            ticks.append(1)

    thread = threading.Thread(target=count)
    r = reader.open_reader(path, batch_size=20_000)
    thread.start()
    try:
        batch = next(iter(r))  # one long call into Rust
    finally:
        done.set()
        thread.join()
    assert batch.num_rows == 20_000
    assert len(ticks) > 100


# --- datasets ------------------------------------------------------------------------------


def test_load_dataset_is_memory_mapped_and_splits_like_datasets(tmp_path, table):
    datasets = pytest.importorskip("datasets")
    path = tmp_path / "d.parquet"
    pq.write_table(table, path)
    dataset = reader.load_dataset(path, cache_dir=tmp_path / "cache")
    assert dataset.data.table.equals(table)
    assert dataset.cache_files and dataset.cache_files[0]["filename"].startswith(str(tmp_path / "cache"))
    for split in ["train[:500]", "train[10%:20%]", "train[-7:]"]:
        expected = datasets.load_dataset("parquet", data_files=str(path), split=split, cache_dir=str(tmp_path / "hf"))
        got = reader.load_dataset(path, split=split, cache_dir=tmp_path / "cache")
        assert got.to_list() == expected.to_list(), split
    with pytest.raises(ValueError, match="split"):
        reader.load_dataset(path, split="validation", cache_dir=tmp_path / "cache")
    streamed = reader.load_dataset(path, streaming=True)
    assert list(streamed) == table.to_pylist()


def test_load_dataset_cache_follows_the_file(tmp_path, table):
    path = tmp_path / "d.jsonl"
    write_jsonl(table.slice(0, 10), path)
    assert len(reader.load_dataset(path, cache_dir=tmp_path / "c")) == 10
    write_jsonl(table.slice(0, 20), path)
    assert len(reader.load_dataset(path, cache_dir=tmp_path / "c")) == 20


def test_seed_api_kept(tmp_path, table):
    path = tmp_path / "d.parquet"
    pq.write_table(table, path)
    dataset = reader.create_rust_streaming_dataset(str(path), "parquet", batch_size=1000)
    assert [row for batch in dataset for row in zip(*batch.values())] == [tuple(r.values()) for r in table.to_pylist()]
    cfg = {"dataset_use_rust_streaming": True}
    assert reader.should_use_rust_streaming(str(path), {}, cfg)
    assert not reader.should_use_rust_streaming(str(tmp_path / "missing.parquet"), {}, cfg)
    assert not reader.should_use_rust_streaming(str(path), {}, {})


def test_seed_with_format_changes_what_batches_are(tmp_path, table):
    path = tmp_path / "d.parquet"
    pq.write_table(table, path)
    dataset = reader.create_rust_streaming_dataset(str(path), "parquet", batch_size=1000)
    arrow = pa.Table.from_batches(list(dataset.with_format("arrow")))
    assert arrow.equals(pq.read_table(path))
    # numpy output: an array per column (a list of arrays for a list column), nulls as NaN
    for got, want in zip(dataset.with_format("np"), pq.ParquetFile(path).iter_batches(batch_size=1000)):
        for name, column in zip(want.schema.names, want.columns):
            if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
                assert [a.tolist() for a in got[name]] == column.to_pylist()
            else:
                np.testing.assert_array_equal(got[name], column.to_numpy(zero_copy_only=False))
    assert [row for batch in dataset.with_format(None) for row in zip(*batch.values())] == [
        tuple(r.values()) for r in table.to_pylist()
    ]
    with pytest.raises(ValueError, match="torch"):
        dataset.with_format("torch")


@pytest.mark.parametrize("read", ["reader.open_reader", "reader.streaming_dataset_reader"])
def test_ctrl_c_stops_a_long_read(tmp_path, read):
    path = tmp_path / "d.jsonl"
    write_jsonl(make_table(20_000), path)
    script = textwrap.dedent(
        f"""
        import signal, sys, threading, time
        # A shell's background job starts with SIGINT ignored, and Python keeps that: undo it.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        from fast_axolotl import reader
        print("ready", flush=True)
        start = time.monotonic()
        try:
            while True:  # re-reads the file until interrupted
                for batch in {read}({str(path)!r}, batch_size=500):
                    pass
        except KeyboardInterrupt:
            assert threading.active_count() == 1, threading.enumerate()  # no read-ahead left
            print(f"interrupted {{time.monotonic() - start:.2f}}", flush=True)
            sys.exit(0)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "ready"
    import signal
    import time

    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    start = time.monotonic()
    out, _ = process.communicate(timeout=60)
    assert process.returncode == 0 and out.startswith("interrupted"), out
    assert time.monotonic() - start < 5.0  # "within a second", with room for a busy machine


# --- the long-text shapes of issue #21, against pyarrow's own streaming readers ------------

LONG_ROWS = 20_000


def long_text_table(rows: int = LONG_ROWS) -> pa.Table:
    """Text of ~330 chars a row (non-ASCII included), tokens, a low-cardinality label and a
    list<struct> chat column."""
    rng = np.random.default_rng(21)
    words = ["the", "model", "data", "token", "wörld", "日本語", "🙂", "a"]
    text = " ".join(rng.choice(words, 200_000).tolist())
    starts, lengths = rng.integers(0, len(text) - 401, rows).tolist(), rng.integers(260, 401, rows).tolist()
    texts = [text[s : s + n] for s, n in zip(starts, lengths)]
    chat = [
        [{"role": "user", "content": texts[i][:80]}, {"role": "assistant", "content": texts[i][80:]}][: 1 + i % 2]
        for i in range(rows)
    ]
    return pa.table(
        {
            "id": pa.array(np.arange(rows), pa.int64()),
            "text": pa.array(texts, pa.string()),
            "input_ids": pa.array(
                [rng.integers(0, 32_000, rng.integers(50, 101)).tolist() for _ in range(rows)], pa.list_(pa.int32())
            ),
            "label": pa.array(rng.choice([f"category {i}" for i in range(40)], rows)),
            "messages": pa.array(chat),
        }
    )


@pytest.fixture(scope="module")
def long_files(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("long")
    table = long_text_table()
    files = {
        "long": (table, dict(row_group_size=8_192)),
        "large_string": (
            table.cast(table.schema.set(1, pa.field("text", pa.large_string()))),
            dict(row_group_size=8_192),
        ),
        "dictionary_pages": (table, dict(row_group_size=8_192, use_dictionary=["label"])),
        "small_row_groups": (table, dict(row_group_size=1_000)),
    }
    paths = {}
    for name, (data, options) in files.items():
        paths[name] = folder / f"{name}.parquet"
        pq.write_table(data, paths[name], **options)
    return paths


def stream_table(batches) -> pa.Table:
    return pa.Table.from_batches(list(batches))


@pytest.mark.parametrize("name", ["long", "large_string", "dictionary_pages", "small_row_groups"])
@pytest.mark.parametrize("batch_size", [1_000, 8_192])
@pytest.mark.parametrize("columns", [["id"], ["text"], ["input_ids"], ["label"], ["messages"], None])
def test_long_text_parquet_matches_iter_batches(long_files, name, batch_size, columns):
    path = long_files[name]
    got = list(fa.streaming_dataset_reader(str(path), batch_size=batch_size, output="arrow", columns=columns))
    expected = stream_table(pq.ParquetFile(path).iter_batches(batch_size=batch_size, columns=columns))
    assert all(b.num_rows == batch_size for b in got[:-1])
    assert stream_table(got).equals(expected)


def test_long_text_csv_matches_pyarrow_csv(tmp_path):
    import pyarrow.compute as pc

    table = long_text_table(5_000).drop_columns(["messages"])
    tokens = pc.binary_join(table["input_ids"].cast(pa.list_(pa.string())), " ")
    table = table.set_column(2, "input_ids", tokens)
    path = tmp_path / "long.csv"
    pcsv.write_csv(table, path)
    got = stream_table(fa.streaming_dataset_reader(str(path), batch_size=1_000, output="arrow"))
    assert got.equals(stream_table(pcsv.open_csv(path)))


def test_parquet_page_headers_longer_than_the_header_buffer(tmp_path):
    """Page headers are read through a small buffer: headers carrying long statistics (min
    and max of long strings) must read across refills of it."""
    rng = np.random.default_rng(5)
    texts = ["".join(rng.choice(list("abcdef"), rng.integers(1_500, 2_000))) for _ in range(300)]
    table = pa.table({"id": pa.array(np.arange(300), pa.int64()), "text": pa.array(texts)})
    path = tmp_path / "stats.parquet"
    pq.write_table(table, path, row_group_size=7, data_page_size=1)
    assert pq.ParquetFile(path).metadata.row_group(0).column(1).statistics.has_min_max
    assert read(path, batch_size=64).equals(pq.read_table(path))
