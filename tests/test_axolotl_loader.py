"""The local loader patch (`dataset_use_rust_streaming: true`): Axolotl's own
`_load_from_local_path` is the oracle — same rows, same features, same split slices — for
parquet, jsonl, jsonl.zst, json, arrow, text and directories of Parquet shards (what
fast_axolotl.ray writes); csv, save_to_disk and other directories go to the original,
counted."""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest
import zstandard

shared = pytest.importorskip("axolotl.utils.data.shared")
datasets = pytest.importorskip("datasets")
from axolotl.utils.dict import DictDefault  # noqa: E402

import fast_axolotl.axolotl as fx  # noqa: E402

fx.uninstall()
ORIGINAL = shared._load_from_local_path

ROWS = 400


def chat_table() -> pa.Table:
    return pa.table(
        {
            "messages": [
                [
                    {"role": "user", "content": f"question {i} ünï"},
                    {"role": "assistant", "content": f"answer {i}" * (i % 5)},
                ]
                for i in range(ROWS)
            ],
            "id": [2**60 + i for i in range(ROWS)],
            "text": [None if i % 13 == 0 else f"completion {i}\twith tab" for i in range(ROWS)],
        }
    )


def write_jsonl(table, path, opener=open):
    with opener(path, "wt", encoding="utf-8") as f:
        for row in table.to_pylist():
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def write_arrow_stream(table, path):
    with pa.ipc.new_stream(path, table.schema) as writer:
        for batch in table.to_batches(max_chunksize=7):
            writer.write_batch(batch)


WRITERS = {
    "d.parquet": lambda t, p: pq.write_table(t, p, row_group_size=50),
    "d.jsonl": write_jsonl,
    "d.jsonl.zst": lambda t, p: write_jsonl(t, p, zstandard.open),
    "d.json": lambda t, p: p.write_text(json.dumps(t.to_pylist(), ensure_ascii=False), encoding="utf-8"),
    "d.arrow": write_arrow_stream,
    "file.arrow": lambda t, p: feather.write_feather(t, p, compression="uncompressed"),
}


@pytest.fixture
def rust_loader():
    assert fx.install()["local_loader"] == "installed"
    fx.settings.dataset_use_rust_streaming = True
    yield
    fx.settings.reset()
    fx.uninstall()


def load_both(path, split=None, **config):
    """(Axolotl's result, the patched result) for one dataset config."""
    config = DictDefault({"path": str(path), **config})
    kwargs = {"split": split, "name": None, "streaming": False, "trust_remote_code": False}
    expected = ORIGINAL(config, dict(kwargs))
    before = fx.stats()["local_loader"]
    got = shared._load_from_local_path(config, dict(kwargs))
    after = fx.stats()["local_loader"]
    return expected, got, after["calls"] - before["calls"], after["fallbacks"] - before["fallbacks"]


@pytest.mark.parametrize("name", sorted(WRITERS))
@pytest.mark.parametrize("split", [None, "train[:50]", "train[10%:30%]"])
def test_same_dataset_as_axolotl(tmp_path, rust_loader, name, split):
    path = tmp_path / name
    WRITERS[name](chat_table(), path)
    expected, got, fast, fallbacks = load_both(path, split)
    assert (fast, fallbacks) == (1, 0)
    assert got.features == expected.features
    assert got.to_list() == expected.to_list()


def test_text_files(tmp_path, rust_loader):
    path = tmp_path / "d.txt"
    path.write_text("line one\r\nline two\n\nlast", encoding="utf-8")
    expected, got, fast, _ = load_both(path)
    assert fast == 1 and got.to_list() == expected.to_list()
    odd = tmp_path / "odd.txt"
    odd.write_text("form\x0cfeed\nnext", encoding="utf-8")
    expected, got, fast, fallbacks = load_both(odd)
    assert (fast, fallbacks) == (0, 1) and got.to_list() == expected.to_list()


def test_csv_and_saved_datasets_use_axolotls_loader(tmp_path, rust_loader):
    path = tmp_path / "d.csv"
    path.write_text("a,b\n1,NA\n,x\n", encoding="utf-8")
    expected, got, fast, fallbacks = load_both(path)
    assert (fast, fallbacks) == (0, 1) and got.to_list() == expected.to_list()
    datasets.Dataset(chat_table()).save_to_disk(str(tmp_path / "saved"))
    expected, got, fast, fallbacks = load_both(tmp_path / "saved")
    assert (fast, fallbacks) == (0, 1) and got.to_list() == expected.to_list()


def write_shards(table, directory, names, writer=pq.write_table):
    """`table` cut into len(names) consecutive shards, shard i written to names[i]."""
    step = -(-len(table) // len(names))
    for i, name in enumerate(names):
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        writer(table.slice(i * step, step), path)


def assert_same(expected, got):
    if isinstance(expected, datasets.DatasetDict):
        assert isinstance(got, datasets.DatasetDict) and list(got) == list(expected)
        for split in expected:
            assert_same(expected[split], got[split])
        return
    assert got.features == expected.features
    assert got.to_list() == expected.to_list()


@pytest.mark.parametrize("split", [None, "train", "train[5:300]"])
def test_directory_of_parquet_shards(tmp_path, rust_loader, split):
    # fast_axolotl.ray.write_parquet's names; 12 shards so that name order != number order
    # would show, and shards listed in an order other than datasets' sorted one.
    names = [f"part-{i:06d}-0.parquet" for i in range(12)]
    write_shards(chat_table(), tmp_path / "shards", names[::-1])
    (tmp_path / "shards" / ".hidden.parquet").write_bytes(b"not read by datasets")
    expected, got, fast, fallbacks = load_both(tmp_path / "shards", split)
    assert (fast, fallbacks) == (1, 0)
    assert_same(expected, got)


def directory_cases(table):
    # datasets casts later shards to the first one's features (large_string -> string).
    large = table.schema.set(2, pa.field("text", pa.large_string()))
    return {
        "two splits": lambda d: write_shards(table, d, ["train-0.parquet", "test-0.parquet"]),
        "jsonl shards": lambda d: write_shards(table, d, ["a.jsonl", "b.jsonl"], write_jsonl),
        "schemas differ": lambda d: (
            write_shards(table, d, ["a.parquet"]),
            pq.write_table(table.cast(large), d / "b.parquet"),
        ),
        "mixed formats": lambda d: (
            write_shards(table, d, ["a.parquet", "b.parquet"]),
            write_jsonl(table, d / "c.jsonl"),
        ),
    }


@pytest.mark.parametrize("case", sorted(directory_cases(chat_table())))
def test_other_directories_use_axolotls_loader(tmp_path, rust_loader, case):
    table = chat_table()
    directory_cases(table)[case](tmp_path)
    expected, got, fast, fallbacks = load_both(tmp_path, "train")
    assert (fast, fallbacks) == (0, 1)
    assert_same(expected, got)


def test_off_by_default(tmp_path):
    assert fx.install()["local_loader"] == "installed"
    try:
        path = tmp_path / "d.parquet"
        pq.write_table(chat_table(), path)
        expected, got, fast, fallbacks = load_both(path)
        assert fast == 0 and got.to_list() == expected.to_list()
    finally:
        fx.uninstall()


def test_streaming_loader_of_pretraining(tmp_path, rust_loader):
    sft = pytest.importorskip("axolotl.utils.data.sft")
    patch = next(p for p in fx.PATCHES if p.name == "streaming_loader")
    assert patch.original is datasets.load_dataset and sft.load_dataset is not datasets.load_dataset
    assert shared.load_dataset is datasets.load_dataset  # only sft's binding changes
    for builder, name in [("json", "d.jsonl"), ("json", "d.jsonl.zst"), ("parquet", "d.parquet")]:
        path = tmp_path / name
        WRITERS[name](chat_table(), path)
        # The call _load_streaming_dataset makes for `pretraining_dataset: [{path: json, data_files: ...}]`.
        kwargs = {"streaming": True, "split": "train", "name": None, "data_files": str(path)}
        expected = datasets.load_dataset(builder, **kwargs)
        before = fx.stats()["streaming_loader"]["calls"]
        got = sft.load_dataset(builder, **kwargs)
        assert fx.stats()["streaming_loader"]["calls"] == before + 1
        assert isinstance(got, datasets.IterableDataset)
        assert got.features == expected.features
        assert list(got) == list(expected)
