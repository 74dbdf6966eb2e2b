"""fast_axolotl.ray on a local Ray cluster (2 CPUs, started once for the module): the rows
the Ray dedupe keeps are the rows single-process dedupe keeps, in the same order; the Ray
tokenization gives the ids of one process and of the `tokenizers` package, row for row;
packing fills within 0.1% of the lower bound and puts every input row in exactly once; the
CLI's --ray runs against the same cluster."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

ray = pytest.importorskip("ray")
fr = pytest.importorskip("fast_axolotl.ray")


import fast_axolotl as fa  # noqa: E402
from fast_axolotl.bench import corpus  # noqa: E402
from fast_axolotl.bench.real_tokenizers import llama3_tokenizer_file, load_llama3_tokenizer  # noqa: E402
from fast_axolotl.reader import open_reader  # noqa: E402

MAX_LENGTH = 512


@pytest.fixture(scope="module")
def cluster():
    """One local cluster for the module (starting Ray takes seconds); its address lets the
    CLI's subprocesses join it instead of starting their own."""
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


def text_rows(seed: int, n: int) -> pa.Table:
    """Rows drawn from a small pool, so duplicates fall within and across files; `n` repeats
    the text with another number (different rows, equal on `text`)."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n // 3, n)
    return pa.table({"text": [f"row {p}" for p in picks], "n": (picks % 7).astype(np.int64)})


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    """The same rows as 4 Parquet shards and as 4 JSONL shards, plus the whole table."""
    root = tmp_path_factory.mktemp("shards")
    parts = [text_rows(seed, 3000) for seed in range(4)]
    (root / "parquet").mkdir()
    (root / "jsonl").mkdir()
    for i, part in enumerate(parts):
        pq.write_table(part, root / "parquet" / f"part-{i}.parquet", row_group_size=700)
        with open(root / "jsonl" / f"part-{i}.jsonl", "w") as f:
            f.writelines(
                f'{{"text": "{t}", "n": {n}}}\n' for t, n in zip(part["text"].to_pylist(), part["n"].to_pylist())
            )
    return root, pa.concat_tables(parts)


def read_dir(path) -> pa.Table:
    with open_reader(str(path)) as reader:
        return reader.read_all()


def single_process_dedupe(table: pa.Table, columns=None) -> pa.Table:
    kept, _ = fa.dedupe_table(table.select(columns) if columns else table)
    return table.take(kept)


@pytest.fixture
def shuffle_strategy(request):
    """Ray's default shuffle (hash, with aggregator actors) or the sort-based one, which
    starts faster on small data; the rows kept must not depend on it."""
    context = ray.data.DataContext.get_current()
    before = context.shuffle_strategy
    context.shuffle_strategy = ray.data.context.ShuffleStrategy(request.param)
    yield request.param
    context.shuffle_strategy = before


@pytest.mark.parametrize(
    "fmt, columns, shuffle_strategy",
    [("parquet", None, "hash_shuffle"), ("jsonl", ["text"], "sort_shuffle_pull_based")],
    indirect=["shuffle_strategy"],
)
def test_dedupe_keeps_the_single_process_rows(cluster, shards, tmp_path, fmt, columns, shuffle_strategy):
    root, whole = shards
    ds = fr.read(root / fmt, batch_size=500)  # several batches a file
    duplicates = fr.find_duplicates(ds, columns, shuffle_strategy=shuffle_strategy)
    expected = single_process_dedupe(whole, columns)
    assert duplicates.rows == whole.num_rows
    assert whole.num_rows - len(duplicates.row_ids) == expected.num_rows < whole.num_rows
    fr.write_parquet(fr.drop_rows(ds, duplicates.row_ids), tmp_path / "out")
    got = read_dir(tmp_path / "out")
    assert got.equals(expected.cast(got.schema)), "same rows, same order"


@pytest.mark.parametrize("shuffle_strategy", ["sort_shuffle_pull_based"], indirect=True)
def test_dedupe_in_one_call(cluster, shards, shuffle_strategy):
    root, whole = shards
    refs = fr.dedupe(fr.read(root / "parquet"), buckets=3, shuffle_strategy=shuffle_strategy).to_arrow_refs()
    assert pa.concat_tables(ray.get(refs)).drop_columns([fr.ROW_ID]).equals(single_process_dedupe(whole))


def test_row_ids_follow_file_then_row_order(cluster, shards):
    root, whole = shards
    ids = pa.concat_tables(ray.get(fr.read(root / "parquet", batch_size=1000).to_arrow_refs()))[fr.ROW_ID].to_numpy()
    files = ids >> fr.FILE_ROW_BITS
    rows = ids & ((1 << fr.FILE_ROW_BITS) - 1)
    assert list(files) == [i for i in range(4) for _ in range(3000)]
    assert list(rows) == list(range(3000)) * 4


def test_dedupe_needs_row_ids(cluster):
    ds = ray.data.from_arrow(pa.table({"text": ["a", "a"]}))
    with pytest.raises(Exception, match=fr.ROW_ID):
        fr.find_duplicates(ds)


def token_rows(seed: int, n: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 200, n)
    values = rng.integers(0, 50_000, int(lengths.sum()))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    ids = pa.ListArray.from_arrays(pa.array(offsets), pa.array(values, pa.int64()))
    labels = pa.ListArray.from_arrays(pa.array(offsets), pa.array(-values, pa.int64()))
    return pa.table({"input_ids": ids, "labels": labels})


@pytest.fixture(scope="module")
def tokenized(tmp_path_factory):
    root = tmp_path_factory.mktemp("tokens")
    parts = [token_rows(seed, 8000) for seed in range(3)]
    for i, part in enumerate(parts):
        pq.write_table(part, root / f"part-{i}.parquet")
    return root, pa.concat_tables(parts)


def samples(packed: pa.Table) -> Counter:
    """(input_ids, labels) of every sample of every packed row (attention_mask numbers them)."""
    out = Counter()
    for ids, labels, mask in zip(*(packed[c].to_pylist() for c in ("input_ids", "labels", "attention_mask"))):
        mask = np.array(mask)
        for k in range(1, mask.max() + 1):
            out[(tuple(np.array(ids)[mask == k]), tuple(np.array(labels)[mask == k]))] += 1
    return out


def check_packing(packed: pa.Table, whole: pa.Table) -> None:
    total = int(pa.compute.sum(pa.compute.list_value_length(whole["input_ids"])).as_py())
    bound = -(-total // MAX_LENGTH)
    assert packed.num_rows <= bound * 1.001, (packed.num_rows, bound)
    assert max(len(r) for r in packed["input_ids"].to_pylist()) <= MAX_LENGTH
    expected = Counter(zip(map(tuple, whole["input_ids"].to_pylist()), map(tuple, whole["labels"].to_pylist())))
    assert samples(packed) == expected  # every input row exactly once, whole, with its labels


def test_pack_fills_within_a_thousandth_and_keeps_every_row(cluster, tokenized, tmp_path):
    root, whole = tokenized
    packed = fr.pack(fr.read(root), MAX_LENGTH, batch_rows=10_000)  # 3 pack tasks, not 1
    fr.write_parquet(packed, tmp_path / "packed")
    table = read_dir(tmp_path / "packed")
    check_packing(table, whole)
    assert_axolotl_reads_it(tmp_path / "packed", table)
    report = fr.pack_report(fr.read(tmp_path / "packed"), MAX_LENGTH)
    assert (report.rows_in, report.bins) == (whole.num_rows, table.num_rows)
    assert report.bins <= report.bound * 1.001 and report.fill > 0.99


def assert_axolotl_reads_it(directory, table):
    """Our Axolotl loader (`dataset_use_rust_streaming: true`) takes the output directory
    itself (not a fallback) and gives what `datasets` gives for it: the rows in order."""
    datasets = pytest.importorskip("datasets")
    from fast_axolotl.axolotl import loader

    got = loader._load_directory(directory, "train")
    expected = datasets.load_dataset(str(directory), split="train")
    assert got.features == expected.features
    assert got.data.table.equals(expected.data.table) and got.num_rows == table.num_rows


# --- tokenize -------------------------------------------------------------------------

# Llama 3's special tokens inside text: one id each, or split into pieces with
# split_special_tokens.
SPECIAL_TEXTS = ["<|begin_of_text|>Hello<|eot_id|>", "a<|end_of_text|>b", "<|start_header_id|>user<|end_header_id|>"]


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    """fast_axolotl/bench/corpus.py's mixture of every kind of text (CJK, Arabic, emoji, combining marks,
    controls, empty documents), whole and line by line, and SPECIAL_TEXTS: ~6,000 rows with
    an `id` column, as 3 Parquet shards and as the whole table."""
    docs = corpus.mixture(500_000, seed=0)
    texts = docs + [line for doc in docs for line in doc.split("\n")] + SPECIAL_TEXTS
    table = pa.table({"id": np.arange(len(texts)), "text": texts})
    root = tmp_path_factory.mktemp("documents")
    step = -(-table.num_rows // 3)
    for i in range(3):
        pq.write_table(table.slice(i * step, step), root / f"part-{i}.parquet")
    return root, table


@pytest.fixture(scope="module")
def splitting_tokenizer():
    """Llama 3 as a transformers fast tokenizer that splits special tokens."""
    tokenizer = load_llama3_tokenizer()
    tokenizer.split_special_tokens = True
    return tokenizer


def collect(ds) -> pa.Table:
    return pa.concat_tables(ray.get(ds.to_arrow_refs()))


def oracle_ids(texts: list, split_special_tokens: bool, add_special_tokens: bool) -> list:
    """The `tokenizers` package's ids: the independent reference."""
    tokenizers = pytest.importorskip("tokenizers")
    oracle = tokenizers.Tokenizer.from_file(str(llama3_tokenizer_file()))
    oracle.encode_special_tokens = split_special_tokens
    return [e.ids for e in oracle.encode_batch(texts, add_special_tokens=add_special_tokens)]


@pytest.mark.parametrize("form", ["path", "transformers"])
def test_tokenize_equals_one_process_and_tokenizers(cluster, documents, splitting_tokenizer, form):
    """From a tokenizer.json path, and from a transformers tokenizer that splits special
    tokens (with add_special_tokens): a pool of 2 workers over 7 blocks gives each row the
    ids fast_axolotl gives in one process and the ids of `tokenizers`."""
    _, table = documents
    path = llama3_tokenizer_file()
    tokenizer, split, add = (path, False, False) if form == "path" else (splitting_tokenizer, True, True)
    blocks = [table.slice(start, 1000) for start in range(0, table.num_rows, 1000)]
    ds = fr.tokenize(ray.data.from_arrow(blocks), tokenizer, add_special_tokens=add, batch_rows=300, workers=2)
    got = collect(ds).sort_by("id")  # the pool may hand blocks on in any order
    assert got.select(["id", "text"]).equals(table), "the input columns, unchanged"
    one = fa.Tokenizer.from_file(path, split_special_tokens=split).encode_batch(table["text"], add_special_tokens=add)
    assert got.schema.field("input_ids").type == one.type == pa.list_(pa.field("item", pa.int32(), nullable=False))
    assert got["input_ids"].combine_chunks().equals(one)
    assert got["input_ids"].to_pylist() == oracle_ids(table["text"].to_pylist(), split, add)


def test_tokenize_read_then_pack(cluster, documents):
    """read -> tokenize -> pack: the rows come out in read()'s order (the actor pool keeps it)
    with the ids of one process, and packing puts every row's tokens in once."""
    root, table = documents
    path = llama3_tokenizer_file()
    tokens = fr.tokenize(fr.read(root, batch_size=1000), str(path)).materialize()
    got = collect(tokens)
    assert got.column_names == ["id", "text", fr.ROW_ID, "input_ids"]
    assert got["id"].to_pylist() == table["id"].to_pylist()
    one = fa.Tokenizer.from_file(path).encode_batch(table["text"])
    assert got["input_ids"].combine_chunks().equals(one)
    longest = pa.compute.max(pa.compute.list_value_length(one)).as_py()
    packed = collect(fr.pack(tokens, longest))
    expected = Counter((tuple(ids), tuple(ids)) for ids in one.to_pylist() if ids)
    assert samples(packed) == expected


def test_tokenize_refuses_bad_input_before_running(cluster, documents, tmp_path):
    _, table = documents
    path = llama3_tokenizer_file()
    ds = ray.data.from_arrow(table)  # its schema is known without running it
    with pytest.raises(ValueError, match=r"no column 'body' \(columns: id, text\)"):
        fr.tokenize(ds, path, column="body")
    with pytest.raises(TypeError, match="column 'id' must hold strings, got int64"):
        fr.tokenize(ds, path, column="id")
    with pytest.raises(ValueError, match="already has a column 'id'"):
        fr.tokenize(ds, path, output_column="id")
    with pytest.raises(ValueError, match="batch_rows must be at least 1"):
        fr.tokenize(ds, path, batch_rows=0)
    with pytest.raises(fa.FormatError, match="tokenizer JSON"):
        fr.tokenize(ds, "{}")
    with pytest.raises(FileNotFoundError):
        fr.tokenize(ds, tmp_path / "missing.json")


def test_tokenize_refuses_a_missing_column_when_it_runs(cluster, documents):
    root, _ = documents
    ds = fr.tokenize(fr.read(root), llama3_tokenizer_file(), column="body", workers=1)  # read()'s schema: not yet
    with pytest.raises(Exception, match="no column 'body'"):
        ds.materialize()


def test_tokenizer_source_of_each_form(splitting_tokenizer):
    """What the workers get: the JSON text and the options, from a path, its text or a
    transformers tokenizer (whose split_special_tokens it keeps unless told otherwise)."""
    path = llama3_tokenizer_file()
    text = path.read_text(encoding="utf-8")
    expected = fr.TokenizerSource(text, split_special_tokens=False, engine="auto")
    assert fr.tokenizer_source(path) == fr.tokenizer_source(str(path)) == fr.tokenizer_source(text) == expected
    assert fr.tokenizer_source(fa.Tokenizer.from_file(path)) == expected
    assert fr.tokenizer_source(fa.Tokenizer.from_file(path, split_special_tokens=True)).split_special_tokens
    assert fr.tokenizer_source(path, True, "tokenizers") == fr.TokenizerSource(text, True, "tokenizers")
    source = fr.tokenizer_source(splitting_tokenizer)
    assert source.split_special_tokens and source.json == splitting_tokenizer.backend_tokenizer.to_str()
    assert not fr.tokenizer_source(splitting_tokenizer, split_special_tokens=False).split_special_tokens
    with pytest.raises(TypeError, match="tokenizer must be"):
        fr.tokenizer_source(42)


def test_tokenize_worker_builds_its_tokenizer_once(cluster, documents):
    """The UDF Ray runs in each worker (called here in the driver): the tokenizer is built in
    the constructor with the engine asked for, each call reuses it; null texts are refused."""
    _, table = documents
    source = fr.TokenizerSource(llama3_tokenizer_file().read_text(encoding="utf-8"), engine="tokenizers")
    worker = fr.TokenizeBatches(source, "text", "input_ids", add_special_tokens=False)
    tokenizer = worker.tokenizer
    assert tokenizer.engine == "tokenizers"
    first, second = table.slice(0, 100), table.slice(100, 100)
    assert worker(first)["input_ids"].equals(pa.chunked_array([tokenizer.encode_batch(first["text"])]))
    assert worker(second).num_rows == 100 and worker.tokenizer is tokenizer
    with pytest.raises(ValueError, match="column 'text' has 1 null rows"):
        worker(pa.table({"text": ["a", None]}))


def run_cli(*args) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "fast_axolotl", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


def test_cli_dedupe_ray_equals_cli_dedupe(cluster, shards, tmp_path):
    root, _ = shards
    local = run_cli("dedupe", root / "jsonl", tmp_path / "one.parquet", "--columns", "text")
    on_ray = run_cli("dedupe", root / "jsonl", tmp_path / "ray", "--columns", "text", f"--ray={cluster}")
    assert local.returncode == 0, local.stderr
    assert on_ray.returncode == 0, on_ray.stderr
    assert on_ray.stdout == local.stdout  # rows in / rows out
    assert read_dir(tmp_path / "ray").equals(pq.read_table(tmp_path / "one.parquet"))


def test_cli_pack_ray(cluster, tokenized, tmp_path):
    root, whole = tokenized
    result = run_cli("pack", root, tmp_path / "ray", "--max-length", MAX_LENGTH, f"--ray={cluster}")
    assert result.returncode == 0, result.stderr
    table = read_dir(tmp_path / "ray")
    check_packing(table, whole)
    assert f"rows in: {whole.num_rows}" in result.stdout
    assert f"rows out: {table.num_rows} of at most {MAX_LENGTH} tokens" in result.stdout


def test_cli_ray_refuses_a_nonempty_output(cluster, shards, tmp_path):
    root, _ = shards
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("keep me")
    result = run_cli("dedupe", root / "parquet", tmp_path / "out", f"--ray={cluster}")
    assert result.returncode == 1 and "not an empty directory" in result.stderr
    assert (tmp_path / "out" / "x").read_text() == "keep me"


def test_cli_ray_task_error_is_one_line(cluster, tokenized, tmp_path):
    root, _ = tokenized
    result = run_cli("pack", root, tmp_path / "out", "--max-length", 50, f"--ray={cluster}")
    assert result.returncode == 1
    (line,) = [text for text in result.stderr.splitlines() if "error:" in text]
    assert (
        line.startswith("fast-axolotl pack: error: TaskError: ValueError: ") and "longer than --max-length 50" in line
    )
    assert not (tmp_path / "out").exists()
