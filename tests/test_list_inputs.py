"""The one file-listing rule (`fax_list_inputs`, Rust's `list_inputs`), which the reader, the
`load_dataset` cache key and `fast_axolotl.ray` all use: on a generated tree (nested dirs,
hidden and `_` files, every format suffix and compression suffix, stray files, symlinks, an
empty dir, a single file, globs, a `save_to_disk` directory, missing paths), against the rule
written out here and against what the reader actually reads."""

from __future__ import annotations

import gzip
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zstandard

from fast_axolotl import errors, reader
from fast_axolotl.reader._stream import list_inputs

TABLE = pa.table({"text": ["a", "b", "c"]})

# Every name suffix the reader knows, and the format it names.
SUFFIXES = {
    "parquet": "parquet",
    "pq": "parquet",
    "arrow": "arrow",
    "ipc": "arrow",
    "arrows": "arrow",
    "feather": "feather",
    "csv": "csv",
    "json": "json",
    "jsonl": "jsonl",
    "ndjson": "jsonl",
    "txt": "text",
    "text": "text",
}
COMPRESSED = {"gz": gzip.compress, "gzip": gzip.compress, "zst": zstandard.compress, "zstd": zstandard.compress}


def content(suffix: str, compressed: bool = False) -> bytes:
    """Rows of `suffix`'s format (compressed Arrow is read as a stream, not seekable)."""
    fmt = SUFFIXES[suffix]
    sink = pa.BufferOutputStream()
    if fmt == "parquet":
        pq.write_table(TABLE, sink)
    elif suffix == "arrows" or (compressed and fmt in ("arrow", "feather")):
        with pa.ipc.new_stream(sink, TABLE.schema) as writer:
            writer.write_table(TABLE)
    elif fmt in ("arrow", "feather"):
        with pa.ipc.new_file(sink, TABLE.schema) as writer:
            writer.write_table(TABLE)
    elif fmt == "csv":
        return b"text\na\nb\nc\n"
    elif fmt == "json":
        return b'[{"text": "a"}, {"text": "b"}, {"text": "c"}]'
    elif fmt == "jsonl":
        return b'{"text": "a"}\n{"text": "b"}\n{"text": "c"}\n'
    else:
        return b"a\nb\nc\n"
    return sink.getvalue().to_pybytes()


def write(path, data: bytes) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return str(path)


def rule(directory: str, forced: bool = False) -> list[str]:
    """The rule, written out: the directory's regular files (symlinks followed, no recursion),
    sorted by name, without hidden and `_` files, with a known (compressed) suffix unless the
    format is named."""

    def known(name: str) -> bool:
        parts = name.lower().split(".")
        if len(parts) > 2 and parts[-1] in COMPRESSED:
            parts = parts[:-1]
        return len(parts) > 1 and parts[-1] in SUFFIXES

    names = sorted(n for n in os.listdir(directory) if not n.startswith((".", "_")))
    files = [os.path.join(directory, n) for n in names if os.path.isfile(os.path.join(directory, n))]
    return [f for f in files if forced or known(os.path.basename(f))]


@pytest.fixture
def tree(tmp_path):
    """shards/: jsonl shards plain and compressed, next to everything that is not a shard."""
    shards = tmp_path / "shards"
    body = content("jsonl")
    write(shards / "part-1.jsonl", body)
    write(shards / "part-0.ndjson", body)
    write(shards / "part-2.jsonl.gz", gzip.compress(body))
    write(shards / "part-3.JSONL.ZST", zstandard.compress(body))
    write(shards / ".hidden.jsonl", body)
    write(shards / "_SUCCESS", b"")
    write(shards / "_part-9.jsonl", body)
    write(shards / "README.md", b"# not data\n")
    write(shards / "noext", body)
    write(shards / "nested" / "part-5.jsonl", body)  # subdirectories are not read
    write(tmp_path / "outside.jsonl", body)
    os.symlink(tmp_path / "outside.jsonl", shards / "part-4.jsonl")  # followed
    os.symlink(tmp_path / "missing.jsonl", shards / "part-6.jsonl")  # broken: skipped
    os.symlink(shards / "nested", shards / "part-7.jsonl")  # a directory: skipped
    (tmp_path / "empty").mkdir()
    return tmp_path


def test_a_directory_of_shards(tree):
    shards = str(tree / "shards")
    files, fmt = list_inputs(shards)
    names = ["part-0.ndjson", "part-1.jsonl", "part-2.jsonl.gz", "part-3.JSONL.ZST", "part-4.jsonl"]
    assert files == [os.path.join(shards, n) for n in names] == rule(shards)
    assert fmt == "jsonl"


def test_the_reader_reads_the_listed_files_in_order(tmp_path):
    for i in (2, 0, 1):
        write(tmp_path / f"part-{i}.jsonl", f'{{"text": "{i}"}}\n'.encode())
    write(tmp_path / ".part-3.jsonl", b'{"text": "3"}\n')
    write(tmp_path / "_part-4.jsonl", b'{"text": "4"}\n')
    write(tmp_path / "sub" / "part-5.jsonl", b'{"text": "5"}\n')
    files, _ = list_inputs(tmp_path)
    with reader.open_reader(tmp_path) as stream:
        assert stream.read_all().column("text").to_pylist() == ["0", "1", "2"]
    assert [os.path.basename(f) for f in files] == ["part-0.jsonl", "part-1.jsonl", "part-2.jsonl"]


@pytest.mark.parametrize("first", ["plain", "gz", "zst"])
def test_each_file_is_read_with_its_own_compression(tmp_path, first):
    """A directory of one format whose shards are compressed differently: every row is read
    (once the first file's compression was applied to all of them)."""
    kinds = [first] + [k for k in ("plain", "gz", "zst") if k != first]
    for i, kind in enumerate(kinds):
        rows = f'{{"text": "{i}"}}\n'.encode()
        name = f"part-{i}.jsonl" + ("" if kind == "plain" else f".{kind}")
        write(tmp_path / name, rows if kind == "plain" else COMPRESSED[kind](rows))
    with reader.open_reader(tmp_path) as stream:
        assert stream.read_all().column("text").to_pylist() == ["0", "1", "2"]


def test_a_named_format_takes_files_of_any_name(tree):
    shards = tree / "shards"
    os.remove(shards / "README.md")
    files, fmt = list_inputs(shards, "jsonl")
    assert files == rule(str(shards), forced=True) and os.path.join(shards, "noext") in files
    assert fmt == "jsonl"


@pytest.mark.parametrize("suffix", list(SUFFIXES))
def test_every_suffix_and_compression_suffix(tmp_path, suffix):
    data = content(suffix)
    write(tmp_path / f"a.{suffix}", data)
    for i, (name, compress) in enumerate(COMPRESSED.items()):
        write(tmp_path / f"b{i}.{suffix}.{name}", compress(content(suffix, compressed=True)))
    write(tmp_path / f"c.{suffix}.bz2", data)  # an unknown compression: not a shard
    write(tmp_path / f"{suffix}", data)  # the suffix as the whole name: no extension
    files, fmt = list_inputs(tmp_path)
    assert files == rule(str(tmp_path)) and len(files) == 1 + len(COMPRESSED)
    assert fmt == SUFFIXES[suffix]
    for file in files:  # each a real shard of that format
        with reader.open_reader(file) as stream:
            assert stream.read_all().num_rows == 3


def test_a_single_file_is_itself_whatever_its_name(tree):
    for path in [tree / "shards" / "README.md", tree / "shards" / ".hidden.jsonl", tree / "shards" / "part-4.jsonl"]:
        assert list_inputs(path) == ([str(path)], None)
    assert list_inputs(os.fsencode(tree / "outside.jsonl")) == ([str(tree / "outside.jsonl")], None)


def test_a_glob(tree):
    shards = str(tree / "shards")
    files, fmt = list_inputs(os.path.join(shards, "part-*"))
    # Only regular files (symlinks followed) with a known suffix, sorted.
    names = ["part-0.ndjson", "part-1.jsonl", "part-2.jsonl.gz", "part-3.JSONL.ZST", "part-4.jsonl"]
    assert files == [os.path.join(shards, n) for n in names] and fmt == "jsonl"
    # A pattern names its files: hidden and `_` ones it matches are read.
    files, _ = list_inputs(os.path.join(shards, "*.jsonl"))
    assert [os.path.basename(f) for f in files] == [".hidden.jsonl", "_part-9.jsonl", "part-1.jsonl", "part-4.jsonl"]
    files, _ = list_inputs(os.path.join(shards, "*", "*.jsonl"))
    # ... through a symlink to a directory too.
    assert files == [
        os.path.join(shards, "nested", "part-5.jsonl"),
        os.path.join(shards, "part-7.jsonl", "part-5.jsonl"),
    ]


def test_a_save_to_disk_directory(tmp_path):
    datasets = pytest.importorskip("datasets")
    datasets.Dataset.from_dict({"text": [str(i) for i in range(50)]}).save_to_disk(
        str(tmp_path / "saved"), num_shards=3
    )
    files, fmt = list_inputs(tmp_path / "saved")
    assert fmt == "hf_dataset"
    assert [os.path.basename(f) for f in files] == [f"data-0000{i}-of-00003.arrow" for i in range(3)]


@pytest.mark.parametrize(
    "path, error",
    [
        ("missing", errors.NotFoundError),
        ("missing/*.jsonl", errors.NotFoundError),
        ("shards/nothing-*.jsonl", errors.NotFoundError),
        ("empty", errors.NotFoundError),  # a directory without a data file
        ("shards/nested/../../empty", errors.NotFoundError),
    ],
)
def test_what_names_no_data_file(tree, path, error):
    with pytest.raises(error):
        list_inputs(tree / path)
    assert issubclass(error, FileNotFoundError)


def test_a_directory_mixing_formats(tmp_path):
    write(tmp_path / "a.jsonl", content("jsonl"))
    write(tmp_path / "b.csv", content("csv"))
    with pytest.raises(errors.InvalidArgumentError, match="mixes formats"):
        list_inputs(tmp_path)


def test_bad_arguments():
    with pytest.raises(TypeError):
        list_inputs(3)  # type: ignore[arg-type]
    with pytest.raises(errors.InvalidArgumentError):
        list_inputs(".", "no-such-format")


def test_the_export_asks_for_the_size_then_fills(tree):
    from fast_axolotl._native import ffi, lib

    path = os.fsencode(tree / "shards")
    size, fmt = ffi.new("size_t *"), ffi.new("int32_t *")
    status = lib.fax_list_inputs(path, ffi.NULL, 0, ffi.NULL, 0, size, ffi.NULL)
    assert status == lib.FAX_ERR_BUFFER_TOO_SMALL and lib.fax_last_error_needed() == size[0] > 0
    out = ffi.new("char[]", size[0] - 1)
    assert lib.fax_list_inputs(path, ffi.NULL, 0, out, size[0] - 1, size, fmt) == lib.FAX_ERR_BUFFER_TOO_SMALL
    out = ffi.new("char[]", size[0])
    assert lib.fax_list_inputs(path, ffi.NULL, 0, out, size[0], size, fmt) == lib.FAX_OK
    listed = ffi.buffer(out, size[0])[:].split(b"\0")
    assert listed[-1] == b"" and [os.fsdecode(p) for p in listed[:-1]] == list_inputs(tree / "shards")[0]
    assert reader.FORMATS[fmt[0]] == "jsonl"
    assert lib.fax_list_inputs(path, ffi.NULL, 0, out, size[0], ffi.NULL, fmt) == lib.FAX_ERR_INVALID_ARGUMENT
    options = b'{"colour": 1}'
    assert lib.fax_list_inputs(path, options, len(options), out, size[0], size, fmt) == lib.FAX_ERR_INVALID_ARGUMENT


def test_the_cache_key_follows_the_files_read(tree, tmp_path):
    """load_dataset's cache file changes when a file it reads changes, not when a stray one does."""
    from fast_axolotl.reader._load import _cache_file

    shards = tree / "shards"
    key = _cache_file([shards], None, None, tmp_path)
    write(shards / "README.md", b"# changed\n")
    write(shards / "nested" / "part-5.jsonl", b'{"text": "z"}\n')
    assert _cache_file([shards], None, None, tmp_path) == key
    write(shards / "part-9.jsonl", content("jsonl"))
    assert _cache_file([shards], None, None, tmp_path) != key
    with pytest.raises(errors.NotFoundError):
        _cache_file([tree / "missing"], None, None, tmp_path)


# --- the listings this rule replaced (kept here to pin down where they disagreed) ---------


def old_cache_key_files(path: str) -> list[str]:
    """reader._hf._files_of, which keyed load_dataset's cache file."""
    import glob

    if os.path.isdir(path):
        return sorted(os.path.join(root, f) for root, _, files in os.walk(path) for f in files)
    if os.path.exists(path):
        return [path]
    return sorted(glob.glob(path))


def old_ray_files(path: str) -> list[str]:
    """fast_axolotl.ray.list_files for one directory or glob (before: Python's own listing,
    then a content sniff per file)."""
    import glob

    if os.path.isdir(path):
        names = sorted(n for n in os.listdir(path) if not n.startswith((".", "_")))
        files = [f for f in (os.path.join(path, n) for n in names) if os.path.isfile(f)]
    else:
        files = sorted(f for f in glob.glob(path) if os.path.isfile(f))

    def readable(f: str) -> bool:
        try:
            reader.detect_format(f)
        except Exception:
            return False
        return True

    return [f for f in files if readable(f)]


def test_where_the_old_listings_disagreed(tree):
    shards = str(tree / "shards")
    new = list_inputs(shards)[0]
    # Ray took a file without a data suffix whose content sniffs as JSON; the reader does not.
    assert old_ray_files(shards) == sorted(new + [os.path.join(shards, "noext")])
    # Ray's Python glob skipped hidden files a pattern matches; the reader reads them.
    pattern = os.path.join(shards, "*.jsonl")
    assert set(list_inputs(pattern)[0]) - set(old_ray_files(pattern)) == {os.path.join(shards, ".hidden.jsonl")}
    # The cache key walked the whole tree (hidden, `_`, stray and nested files): it changed
    # with files the reader never reads.
    old = old_cache_key_files(shards)
    assert set(new) - set(old) == set() and len(old) > len(new)
    assert os.path.join(shards, "README.md") in old and os.path.join(shards, "nested", "part-5.jsonl") in old
    # On plain shard directories all three agree.
    plain = tree / "plain"
    for i in range(3):
        write(plain / f"part-{i}.jsonl", content("jsonl"))
    assert list_inputs(plain)[0] == old_ray_files(str(plain)) == old_cache_key_files(str(plain))


@pytest.mark.ray
def test_ray_reads_one_task_per_listed_file(tree, tmp_path):
    from fast_axolotl import ray as fray

    shards = str(tree / "shards")
    assert fray.list_files(shards) == [(f, "jsonl") for f in list_inputs(shards)[0]]
    single = str(tree / "outside.jsonl")
    assert fray.list_files([single, os.path.join(shards, "part-1.*")]) == [
        (single, None),
        (os.path.join(shards, "part-1.jsonl"), "jsonl"),
    ]
    datasets = pytest.importorskip("datasets")
    datasets.Dataset.from_dict({"text": ["a"]}).save_to_disk(str(tmp_path / "saved"))
    assert fray.list_files(str(tmp_path / "saved")) == [(str(tmp_path / "saved"), None)]
    # A named format takes files of any name, as the reader does.
    named = tree / "named"
    write(named / "a.data", content("jsonl"))
    assert fray.list_files(str(named), "jsonl") == [(str(named / "a.data"), None)]
    with pytest.raises(errors.NotFoundError):
        fray.list_files(str(named))
    # Shards compressed differently: the directory's format for each, its own compression.
    mixed = tree / "mixed"
    write(mixed / "a.jsonl.gz", gzip.compress(b'{"text": "a"}\n'))
    write(mixed / "b.jsonl", b'{"text": "b"}\n')
    assert fray.list_files(str(mixed)) == [(str(mixed / "a.jsonl.gz"), "jsonl"), (str(mixed / "b.jsonl"), "jsonl")]
    for path, fmt in fray.list_files(str(mixed)):
        assert len(list(fray.read_file(0, path, fmt, None, 10))) == 1
