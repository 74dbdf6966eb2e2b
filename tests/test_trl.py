"""fast_axolotl.trl: TRL 1.9's pack_dataset and DataCollatorForLanguageModeling on the Rust
kernels, checked against TRL's own functions (the originals, unpatched) as the oracle."""

from __future__ import annotations

import textwrap

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")
pytest.importorskip("trl")
datasets = pytest.importorskip("datasets")

from conftest import run_python  # noqa: E402

import fast_axolotl  # noqa: E402
import fast_axolotl.trl as ftrl  # noqa: E402
from fast_axolotl import _trl_collate, _trl_pack  # noqa: E402
from fast_axolotl.axolotl.fallback import DECLINED  # noqa: E402

# TRL's own functions: `import fast_axolotl` may have patched them already.
ftrl.uninstall()
import trl.data_utils  # noqa: E402
from trl.trainer.sft_trainer import DataCollatorForLanguageModeling  # noqa: E402

TRL_PACK = trl.data_utils.pack_dataset
TRL_TORCH_CALL = DataCollatorForLanguageModeling.torch_call
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
COLUMN_SETS = (
    ("input_ids",),
    ("input_ids", "attention_mask"),
    ("input_ids", "labels"),
    ("input_ids", "attention_mask", "labels", "completion_mask"),
)


def make_dataset(lengths, columns, seed=0, layout="one", dtype="int64"):
    """Rows of the given lengths; `layout`: one Arrow chunk, several chunks (concatenated
    pieces), a slice of a larger table, or a shuffled dataset (an indices mapping)."""
    rng = np.random.default_rng(seed)
    ids = [rng.integers(0, 1000, n).tolist() for n in lengths]
    data = {"input_ids": ids}
    for name in columns[1:]:
        if name == "labels":
            data[name] = [[t if rng.random() < 0.7 else -100 for t in row] for row in ids]
        else:
            data[name] = [rng.integers(0, 2, len(row)).tolist() for row in ids]
    features = datasets.Features(
        {name: datasets.List(datasets.Value("int8" if "mask" in name else dtype)) for name in data}
    )
    ds = datasets.Dataset.from_dict(data, features=features)
    if layout == "chunks" and len(ds) > 2:
        cut = [0, len(ds) // 3, 2 * len(ds) // 3, len(ds)]
        ds = datasets.concatenate_datasets([ds.select(range(a, b)) for a, b in zip(cut, cut[1:])])
        ds = datasets.Dataset(ds.data)  # the pieces as Arrow chunks, without an indices mapping
    elif layout == "slice" and len(ds) > 2:
        ds = ds.select(range(1, len(ds) - 1))
    elif layout == "shuffled":
        ds = ds.shuffle(seed=seed)
    return ds


def assert_same_dataset(got, want):
    assert got.column_names == want.column_names
    assert got.features == want.features
    assert got.format == want.format
    assert got.split == want.split and got.info.description == want.info.description
    assert len(got) == len(want)
    got_table, want_table = got.with_format("arrow")[:], want.with_format("arrow")[:]
    assert got_table.schema == want_table.schema
    assert got_table.to_pydict() == want_table.to_pydict()


def check_pack(ds, seq_length, strategy, map_kwargs=None):
    try:
        want = TRL_PACK(ds, seq_length, strategy, dict(map_kwargs) if map_kwargs else None)
    except Exception:  # noqa: BLE001 - TRL fails (a map batch of empty rows only): so must the patch
        with pytest.raises(DECLINED):
            _trl_pack.pack_dataset(ds, seq_length, strategy, dict(map_kwargs) if map_kwargs else None)
        return None
    got = _trl_pack.pack_dataset(ds, seq_length, strategy, dict(map_kwargs) if map_kwargs else None)
    assert_same_dataset(got, want)
    return got


@pytest.fixture(autouse=True)
def no_patches():
    """Each test starts and ends with TRL unpatched."""
    ftrl.uninstall()
    yield
    ftrl.uninstall()


# --- pack_dataset ---------------------------------------------------------------------------

LENGTHS = [0, 3, 17, 5, 0, 9, 40, 1, 8, 8, 12, 2, 0, 33, 7, 7, 7, 16, 4, 25, 6, 11, 3, 0, 15]


@pytest.mark.parametrize("strategy", ["bfd", "bfd_split", "wrapped"])
@pytest.mark.parametrize("seq_length", [1, 8, 16, 64])
@pytest.mark.parametrize("columns", COLUMN_SETS)
@pytest.mark.parametrize("batch_size", [None, 4, 1000])
def test_pack_dataset_grid(strategy, seq_length, columns, batch_size):
    # Empty rows and rows longer than seq_length, one to several map batches.
    ds = make_dataset(LENGTHS, columns)
    kwargs = None if batch_size is None else {"batch_size": batch_size}
    check_pack(ds, seq_length, strategy, kwargs)


@pytest.mark.parametrize("strategy", ["bfd", "bfd_split", "wrapped"])
@pytest.mark.parametrize("layout", ["chunks", "slice", "shuffled"])
def test_pack_dataset_arrow_layouts(strategy, layout):
    # Batches inside one chunk, across chunks and taken through an indices mapping: TRL's
    # wrapped rows of a batch inside a chunk start at the chunk's first token (its quirk).
    ds = make_dataset(LENGTHS * 3, COLUMN_SETS[3], seed=1, layout=layout)
    for batch_size in (5, 7, 1000):
        check_pack(ds, 10, strategy, {"batch_size": batch_size})


@pytest.mark.parametrize("strategy", ["bfd", "bfd_split", "wrapped"])
def test_pack_dataset_large_list_and_int32(strategy):
    ds = make_dataset(LENGTHS, COLUMN_SETS[2], dtype="int32")
    check_pack(ds, 12, strategy, {"batch_size": 6})
    table = ds.data.table
    large = pa.table({n: table[n].cast(pa.large_list(table[n].type.value_type)) for n in table.column_names})
    check_pack(datasets.Dataset(datasets.table.InMemoryTable(large)), 12, strategy, {"batch_size": 6})


@pytest.mark.parametrize("strategy", ["bfd", "wrapped"])
def test_pack_dataset_formats_restored(strategy):
    ds = make_dataset(LENGTHS, COLUMN_SETS[1])
    check_pack(ds.with_format("numpy"), 16, strategy)
    check_pack(ds.with_format("torch", columns=["input_ids"]), 16, strategy)
    check_pack(ds.with_format("torch", columns=["input_ids"], output_all_columns=True), 16, strategy)


def test_pack_dataset_num_proc_and_harmless_map_kwargs():
    ds = make_dataset(LENGTHS * 2, COLUMN_SETS[2], seed=2)
    kwargs = {"batch_size": 7, "num_proc": 2, "desc": "Packing", "load_from_cache_file": False}
    for strategy in ("bfd", "bfd_split", "wrapped"):
        check_pack(ds, 9, strategy, kwargs)


def test_pack_dataset_dict():
    ds = datasets.DatasetDict(
        {
            "train": make_dataset(LENGTHS, COLUMN_SETS[2]),
            "test": make_dataset(LENGTHS[:9], COLUMN_SETS[2], seed=3),
        }
    )
    want = TRL_PACK(ds, 8, "bfd")
    got = _trl_pack.pack_dataset(ds, 8, "bfd")
    assert list(got) == list(want)
    for split in want:
        assert_same_dataset(got[split], want[split])


@given(
    lengths=st.lists(st.integers(0, 50), min_size=1, max_size=80),
    seq_length=st.integers(1, 40),
    strategy=st.sampled_from(["bfd", "bfd_split", "wrapped"]),
    columns=st.sampled_from(COLUMN_SETS),
    batch_size=st.sampled_from([None, 0, 1, 2, 3, 5, 16, 1000]),
    layout=st.sampled_from(["one", "chunks", "slice", "shuffled"]),
    seed=st.integers(0, 2**16),
)
@SLOW
def test_pack_dataset_hypothesis(lengths, seq_length, strategy, columns, batch_size, layout, seed):
    ds = make_dataset(lengths, columns, seed=seed, layout=layout)
    if len(ds) == 0:
        return
    kwargs = None if batch_size is None else {"batch_size": batch_size}
    check_pack(ds, seq_length, strategy, kwargs)


@given(lengths=st.lists(st.integers(1, 12), min_size=1, max_size=200), seq_length=st.integers(12, 30))
@SLOW
def test_pack_dataset_ties_hypothesis(lengths, seq_length):
    # Few distinct lengths: many bins of equal room, where TRL's tie-breaking shows.
    check_pack(make_dataset(lengths, COLUMN_SETS[0]), seq_length, "bfd", {"batch_size": 64})


@pytest.mark.parametrize(
    "call",
    [
        lambda ds: (ds.to_iterable_dataset(), 8, "bfd", None),
        lambda ds: (ds.add_column("text", ["a"] * len(ds)), 8, "bfd", None),
        lambda ds: (ds, 8, "bfd", {"batch_size": 4, "remove_columns": ["labels"]}),
        lambda ds: (ds, 8, "best", None),
        lambda ds: (ds, 0, "wrapped", None),
        lambda ds: (ds.select([]), 8, "bfd", None),
    ],
)
def test_unmodelled_inputs_run_trl_and_are_counted(call):
    ds = make_dataset(LENGTHS, COLUMN_SETS[2])
    args = call(ds)
    with pytest.raises(DECLINED):
        _trl_pack.pack_dataset(*args)
    try:
        want = TRL_PACK(*args)
    except Exception as error:  # noqa: BLE001 - whatever TRL raises, the patch must raise too
        want = error
    assert ftrl.install()["trl_pack_dataset"] == "installed"
    before = ftrl.stats()["trl_pack_dataset"]["fallbacks"]
    if isinstance(want, Exception):
        with pytest.raises(type(want)):
            trl.data_utils.pack_dataset(*args)
    else:
        got = trl.data_utils.pack_dataset(*args)
        assert list(got) == list(want)
    assert ftrl.stats()["trl_pack_dataset"]["fallbacks"] == before + 1
    assert fast_axolotl.stats()["trl_pack_dataset"]["fallbacks"] == before + 1


# --- install / uninstall / import hook --------------------------------------------------------


def test_install_uninstall_restore_the_same_objects():
    import trl.trainer.sft_trainer as sft

    assert ftrl.install() == {"trl_pack_dataset": "installed", "trl_collator": "installed"}
    assert trl.data_utils.pack_dataset is not TRL_PACK and sft.pack_dataset is trl.data_utils.pack_dataset
    assert DataCollatorForLanguageModeling.torch_call is not TRL_TORCH_CALL
    calls = ftrl.stats()["trl_pack_dataset"]["calls"]
    ds = make_dataset(LENGTHS, COLUMN_SETS[2])
    assert_same_dataset(sft.pack_dataset(ds, 8, "bfd"), TRL_PACK(ds, 8, "bfd"))
    assert ftrl.stats()["trl_pack_dataset"]["calls"] == calls + 1
    assert ftrl.stats()["trl_pack_dataset"]["rows"] >= len(ds)
    assert set(ftrl.uninstall().values()) == {"uninstalled"}
    assert trl.data_utils.pack_dataset is TRL_PACK and sft.pack_dataset is TRL_PACK
    assert DataCollatorForLanguageModeling.torch_call is TRL_TORCH_CALL


def test_import_hook_patches_trl_imported_later_and_uninstall_undoes_it():
    code = textwrap.dedent("""
        import sys
        import fast_axolotl, fast_axolotl.trl as ftrl
        assert "trl.data_utils" not in sys.modules and "fast_axolotl._native" not in sys.modules
        assert fast_axolotl.stats() == fast_axolotl.axolotl.stats()  # nothing of TRL's used yet
        from trl.trainer.sft_trainer import DataCollatorForLanguageModeling
        import trl.data_utils, trl.trainer.sft_trainer as sft
        assert all(s["active"] for s in ftrl.stats().values()), ftrl.stats()
        assert sft.pack_dataset is trl.data_utils.pack_dataset is ftrl.PATCHES[0].replacement
        assert type(sys.modules["trl.data_utils"].__loader__).__name__ == "SourceFileLoader"
        out = DataCollatorForLanguageModeling(pad_token_id=0)([{"input_ids": [1, 2]}, {"input_ids": [3]}])
        assert out["input_ids"].tolist() == [[1, 2], [3, 0]]
        assert fast_axolotl.stats()["trl_collator"]["calls"] == 1
        original = ftrl.PATCHES[0].original
        assert original.__module__ == "trl.data_utils" and original is not sft.pack_dataset
        ftrl.uninstall()
        assert sft.pack_dataset is trl.data_utils.pack_dataset is original
        assert not any(type(f).__name__ == "TrlPatchFinder" for f in sys.meta_path)
        print("OK")
    """)
    result = run_python(code)
    assert result.stdout.strip().endswith("OK"), result.stderr


def test_disable_env_leaves_trl_alone():
    code = textwrap.dedent("""
        import sys, fast_axolotl, fast_axolotl.trl as ftrl
        import trl.data_utils
        assert not any(s["active"] for s in ftrl.stats().values())
        assert all(v.startswith("skipped") for v in ftrl.install().values())
        print("OK")
    """)
    import os

    result = run_python(code, env={**os.environ, "FAST_AXOLOTL_DISABLE": "1"})
    assert result.stdout.strip().endswith("OK"), result.stderr


# --- DataCollatorForLanguageModeling ------------------------------------------------------------


def collate_both(examples, **options):
    collator = DataCollatorForLanguageModeling(**options)
    want = TRL_TORCH_CALL(collator, examples)
    got = _trl_collate.torch_call(collator, examples)
    assert list(got) == list(want)
    for key in want:
        assert got[key].dtype == want[key].dtype, key
        assert torch.equal(got[key], want[key]), key
    return got


row = st.lists(st.integers(-5, 50_000), min_size=1, max_size=30)


@st.composite
def examples(draw):
    n = draw(st.integers(1, 8))
    ids = [draw(row) for _ in range(n)]
    with_labels = draw(st.sampled_from(["none", "all", "some"]))
    with_seq_lengths = draw(st.booleans())
    out = []
    for i, r in enumerate(ids):
        example = {"input_ids": r}
        if with_labels == "all" or (with_labels == "some" and i % 2):
            example["labels"] = [t if draw(st.booleans()) else -100 for t in r]
        if with_seq_lengths:
            cuts = sorted(draw(st.sets(st.integers(1, len(r) - 1), max_size=3))) if len(r) > 1 else []
            bounds = [0, *cuts, len(r)]
            example["seq_lengths"] = [b - a for a, b in zip(bounds, bounds[1:])]
        out.append(example)
    return out


@given(
    examples=examples(),
    padding_free=st.booleans(),
    pad_to_multiple_of=st.sampled_from([None, 1, 3, 8, 64]),
    pad_token_id=st.integers(0, 7),
)
@settings(max_examples=300, deadline=None)
def test_collator_hypothesis(examples, padding_free, pad_to_multiple_of, pad_token_id):
    collate_both(examples, pad_token_id=pad_token_id, padding_free=padding_free, pad_to_multiple_of=pad_to_multiple_of)


def test_collator_on_packed_dataset_rows():
    # What SFTTrainer feeds it: rows of a bfd-packed dataset, seq_lengths included.
    packed = TRL_PACK(make_dataset(LENGTHS, COLUMN_SETS[2]), 16, "bfd")
    rows = [packed[i] for i in range(len(packed))]
    for padding_free in (False, True):
        collate_both(rows, pad_token_id=0, padding_free=padding_free, pad_to_multiple_of=8)


@pytest.mark.usefixtures("not_strict")  # asserts a fallback on a kernel's ValueError/TypeError
@pytest.mark.parametrize(
    "examples",
    [
        [{"input_ids": np.array([1, 2], dtype=np.int32)}],
        [{"input_ids": []}, {"input_ids": [1]}],
        [{"input_ids": [1, 2], "labels": [1]}],
        [{"input_ids": [1, 2], "seq_lengths": [1, 2]}],
        [{"input_ids": [1, 2], "seq_lengths": [2]}, {"input_ids": [1]}],
        [{"input_ids": [1.5, 2]}],
    ],
)
def test_collator_unmodelled_inputs_run_trl(examples):
    collator = DataCollatorForLanguageModeling(pad_token_id=0, padding_free=True)
    with pytest.raises(DECLINED):
        _trl_collate.torch_call(collator, examples)
    ftrl.install()
    before = ftrl.stats()["trl_collator"]["fallbacks"]
    try:
        want = TRL_TORCH_CALL(collator, examples)
    except Exception as error:  # noqa: BLE001
        with pytest.raises(type(error)):
            collator(examples)
    else:
        got = collator(examples)
        assert all(torch.equal(got[k], want[k]) for k in want)
    assert ftrl.stats()["trl_collator"]["fallbacks"] == before + 1


# --- SFTTrainer, 3 steps on CPU ---------------------------------------------------------------


def sft_losses(tmp_path, strategy):
    """The first three training losses of a tiny Llama (built here, seeded) under SFTTrainer
    with packing."""
    import random

    from transformers import LlamaForCausalLM
    from trl import SFTConfig, SFTTrainer

    from fast_axolotl.bench.axolotl_data import build_tokenizer, sentence, tiny_llama_config

    tokenizer = build_tokenizer()
    rng = random.Random(0)
    data = datasets.Dataset.from_dict({"text": [sentence(rng, 3, 40) for _ in range(64)]})
    config = tiny_llama_config(tokenizer, max_positions=256)
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    args = SFTConfig(
        output_dir=str(tmp_path / strategy),
        max_length=64,
        packing=True,
        packing_strategy=strategy,
        max_steps=3,
        per_device_train_batch_size=2,
        logging_steps=1,
        learning_rate=1e-3,
        seed=0,
        report_to=[],
        save_strategy="no",
        use_cpu=True,
        dataloader_num_workers=0,
    )
    trainer = SFTTrainer(model=model, args=args, train_dataset=data, processing_class=tokenizer)
    trainer.train()
    return [entry["loss"] for entry in trainer.state.log_history if "loss" in entry]


@pytest.mark.parametrize("strategy", ["bfd", "wrapped"])
def test_sft_trainer_three_steps_same_losses(tmp_path, strategy):
    want = sft_losses(tmp_path / "trl", strategy)
    ftrl.install()
    before = ftrl.stats()
    got = sft_losses(tmp_path / "fast", strategy)
    after = ftrl.stats()
    assert after["trl_pack_dataset"]["calls"] == before["trl_pack_dataset"]["calls"] + 1
    assert after["trl_collator"]["calls"] >= before["trl_collator"]["calls"] + 3
    for name in ("trl_pack_dataset", "trl_collator"):
        assert after[name]["fallbacks"] == before[name]["fallbacks"], after[name]["last_fallback"]
    assert len(want) == 3 and got == want


# --- docs/custom-trainers.md: every example runs -----------------------------------------------


def doc_blocks(marker: str, language: str) -> list:
    import re

    from conftest import REPO

    text = (REPO / "docs" / "custom-trainers.md").read_text()
    return re.findall(rf"<!-- {marker} -->\s*```{language}\n(.*?)```", text, re.S)


def trl_bfd_rows(rows, seq_length):
    return TRL_PACK(datasets.Dataset.from_dict({"input_ids": rows}), seq_length, "bfd")["input_ids"]


DOC_ROWS = [[1, 2, 3], [4, 5], [6, 7, 8, 9], [10]]  # the rows the Rust and C examples pack into 5


@pytest.mark.parametrize("index", [0, 1])
def test_docs_python_examples_run(index, tmp_path):
    import os
    import sys

    from conftest import run

    (code,) = doc_blocks("run by tests/test_trl.py", "python")[index : index + 1]
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "HF_DATASETS_CACHE": str(tmp_path / "hf"),
    }
    result = run([sys.executable, "-c", code], cwd=tmp_path, env=env, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip()


def test_docs_c_example_packs_as_trl(native, tmp_path):
    from conftest import compile_c, run

    (code,) = doc_blocks("compiled and run by tests/test_trl.py", "c")
    (tmp_path / "example.c").write_text(code)
    compile_c(tmp_path / "example.c", tmp_path / "example")
    result = run([str(tmp_path / "example")])
    assert result.returncode == 0, result.stderr
    got = [list(map(int, line.split())) for line in result.stdout.splitlines()]
    assert got == trl_bfd_rows(DOC_ROWS, 5)


@pytest.mark.slow  # builds the crate (dev profile)
def test_docs_rust_example_packs_as_trl():
    import json
    import os
    import shutil

    from conftest import REPO, run

    (code,) = doc_blocks("built and run by tests/test_trl.py", "rust")
    assert (REPO / "rust" / "examples" / "custom_trainer.rs").read_text() == code
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.skip("no cargo")
    # The dev profile: an incremental build of the crate, not the release LTO one.
    result = run(
        [cargo, "run", "--quiet", "--offline", "--example", "custom_trainer"],
        cwd=REPO / "rust",
        env=dict(os.environ),
        timeout=3000,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    got = [json.loads(line) for line in result.stdout.splitlines()]  # Debug-printed Vec<i32>: JSON lists
    assert got == trl_bfd_rows(DOC_ROWS, 5)
