"""The Axolotl patches: each patched function returns what Axolotl's original returns (the
original, captured before any patch, is the oracle), fallbacks are counted, and
install/uninstall put the exact original objects back."""

from __future__ import annotations

import copy
import functools
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

multipack = pytest.importorskip("axolotl.utils.samplers.multipack")
datasets = pytest.importorskip("datasets")
torch = pytest.importorskip("torch")

import axolotl.core.trainers.base as trainers_base  # noqa: E402
import axolotl.utils.data.streaming as streaming  # noqa: E402
import axolotl.utils.data.utils as data_utils  # noqa: E402
import axolotl.utils.samplers as samplers  # noqa: E402
import axolotl.utils.samplers.utils as sampler_utils  # noqa: E402
import axolotl.utils.trainer as trainer_utils  # noqa: E402
from conftest import run_python  # noqa: E402

import fast_axolotl.axolotl as fx  # noqa: E402

# `import fast_axolotl` patched the Axolotl modules imported above (the import hook): the
# tests start from Axolotl's own objects, captured with every patch removed.
fx.uninstall()
ORIGINAL = {
    "dedupe": data_utils._deduplicate_dataset,
    "pack_parallel": multipack.pack_parallel,
    "allocate_sequentially": multipack.allocate_sequentially,
    "get_dataset_lengths": sampler_utils.get_dataset_lengths,
    "encode_streaming": streaming.encode_streaming,
}
# Every module whose code looks each one up (get_dataset_lengths is imported by name).
LOOKUPS = {
    "dedupe": [data_utils],
    "pack_parallel": [multipack],
    "allocate_sequentially": [multipack],
    "get_dataset_lengths": [sampler_utils, samplers, data_utils, trainer_utils, streaming, trainers_base],
    "encode_streaming": [streaming],
}


@pytest.fixture
def patched():
    assert set(fx.install().values()) == {"installed"}
    yield
    fx.uninstall()


class Counts:
    """The change in stats() of one patch since creation: `fast` and `fallbacks`."""

    def __init__(self, name):
        self.name, self.start = name, fx.stats()[name]

    def __call__(self):
        now = fx.stats()[self.name]
        return now["calls"] - self.start["calls"], now["fallbacks"] - self.start["fallbacks"]


def outcome(function, *args, **kwargs):
    """What a call gives: its result, or the type of the error it raises (the original's
    errors are part of its behaviour)."""
    try:
        return function(*args, **kwargs)
    except Exception as error:
        return type(error)


def same(got, expected) -> bool:
    """Equal results (arrays: same dtype and values) or the same error type."""
    if isinstance(got, np.ndarray) or isinstance(expected, np.ndarray):
        return type(got) is type(expected) and got.dtype == expected.dtype and np.array_equal(got, expected)
    return got == expected


def test_install_uninstall_restore_the_exact_originals():
    assert all(not s["active"] for s in fx.stats().values())
    assert set(fx.install().values()) == {"installed"}
    replacements = {}
    for name, modules in LOOKUPS.items():
        patch = next(p for p in fx.PATCHES if p.name == name)
        replacements[name] = patch.replacement
        for module in modules:
            assert getattr(module, patch.attribute) is patch.replacement is not ORIGINAL[name]
        assert patch.replacement.__wrapped__ is ORIGINAL[name] and fx.stats()[name]["active"]
    assert set(fx.install().values()) == {"already active"}  # idempotent: same objects
    assert {p.name: p.replacement for p in fx.PATCHES if p.name in LOOKUPS} == replacements
    assert set(fx.uninstall().values()) == {"uninstalled"}
    for name, modules in LOOKUPS.items():
        attribute = next(p.attribute for p in fx.PATCHES if p.name == name)
        assert all(getattr(module, attribute) is ORIGINAL[name] for module in modules)
        assert not fx.stats()[name]["active"]
    assert set(fx.uninstall().values()) == {"not active"}


def test_module_imported_while_installed_is_restored_too(patched):
    # A module that binds the function by name after install() gets the replacement; uninstall
    # finds it there as well.
    module = type(sys)("axolotl._fast_axolotl_test_module")
    module.get_dataset_lengths = samplers.get_dataset_lengths
    sys.modules[module.__name__] = module
    try:
        assert module.get_dataset_lengths is not ORIGINAL["get_dataset_lengths"]
        fx.uninstall()
        assert module.get_dataset_lengths is ORIGINAL["get_dataset_lengths"]
    finally:
        del sys.modules[module.__name__]


def test_import_does_not_import_axolotl():
    code = (
        "import sys, fast_axolotl, fast_axolotl.axolotl as fx\n"
        "fx.stats()\n"
        "assert not [m for m in sys.modules if m == 'axolotl' or m.startswith('axolotl.')], sys.modules\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr


def test_install_without_axolotl_does_nothing_and_says_so():
    code = (
        "import sys\n"
        "sys.modules['axolotl'] = None  # as if Axolotl were not installed\n"
        "import fast_axolotl.axolotl as fx\n"
        "print(sorted(set(fx.install().values())), any(s['active'] for s in fx.stats().values()))\n"
    )
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['skipped: Axolotl is not installed'] False"


def test_plugin_is_loaded_by_axolotl_and_installs_the_patches():
    from axolotl.integrations.base import BasePlugin, load_plugin

    plugin = load_plugin("fast_axolotl.axolotl.FastAxolotlPlugin")
    assert isinstance(plugin, BasePlugin)
    try:
        plugin.register({})
        assert all(s["active"] for s in fx.stats().values())
        assert multipack.pack_parallel is not ORIGINAL["pack_parallel"]
    finally:
        plugin.on_config_validation_error({})
    assert multipack.pack_parallel is ORIGINAL["pack_parallel"]


# --- dedupe -------------------------------------------------------------------------------


def tokenized(n=600, seed=0):
    """Tokenized rows as Axolotl dedupes them, about a third of them repeated."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        if rows and rng.random() < 0.35:
            rows.append(rows[rng.integers(len(rows))])
            continue
        ids = rng.integers(0, 50, rng.integers(1, 12)).tolist()
        rows.append({"input_ids": ids, "attention_mask": [1] * len(ids), "labels": ids, "length": len(ids)})
    features = datasets.Features(
        input_ids=datasets.Sequence(datasets.Value("int32")),
        attention_mask=datasets.Sequence(datasets.Value("int8")),
        labels=datasets.Sequence(datasets.Value("int64")),
        length=datasets.Value("int64"),
    )
    return datasets.Dataset.from_list(rows, features=features)


VIEWS = ["plain", "shuffled", "selected", "sliced"]


def view(dataset, name):
    """The dataset as is, shuffled, or selected (an indices mapping, or a contiguous slice)."""
    n = len(dataset)
    return {
        "plain": lambda: dataset,
        "shuffled": lambda: dataset.shuffle(seed=5),
        "selected": lambda: dataset.select(list(range(n - 1, 0, -3))),
        "sliced": lambda: dataset.select(range(n // 10, n * 2 // 3)),
    }[name]()


@pytest.mark.parametrize("name", VIEWS)
def test_dedupe_equals_axolotl(patched, name):
    dataset = view(tokenized(), name)
    counts = Counts("dedupe")
    got, seen = data_utils._deduplicate_dataset(dataset)
    expected, expected_seen = ORIGINAL["dedupe"](dataset)
    assert got.to_list() == expected.to_list() and len(got) < len(dataset)
    assert len(seen) == len(expected_seen)
    assert counts() == (1, 0)


def overlapping(seed):
    """A train set and an eval set that shares some rows with it and repeats some."""
    train = tokenized(seed=seed)
    evaluation = datasets.concatenate_datasets([train.select(range(0, 600, 4)), tokenized(200, seed + 1)])
    return train.shuffle(seed=2), evaluation


def test_cross_dataset_dedupe_equals_axolotl(patched):
    train, evaluation = overlapping(1)
    counts = Counts("dedupe")
    got = data_utils.deduplicate_and_log_datasets(train, evaluation)
    assert counts() == (2, 0)
    fx.uninstall()
    expected = data_utils.deduplicate_and_log_datasets(train, evaluation)
    assert [d.to_list() for d in got] == [d.to_list() for d in expected]
    assert 0 < len(got[1]) < len(evaluation)


def test_dedupe_with_a_set_falls_back(patched):
    dataset = tokenized(seed=3)
    _, first_hashes = ORIGINAL["dedupe"](dataset.select(range(200)))
    ours, theirs = set(first_hashes), set(first_hashes)
    counts = Counts("dedupe")
    got, got_seen = data_utils._deduplicate_dataset(dataset, ours)
    expected, expected_seen = ORIGINAL["dedupe"](dataset, theirs)
    assert counts() == (0, 1) and "seen_hashes is a set" in fx.stats()["dedupe"]["last_fallback"]
    assert got.to_list() == expected.to_list() and got_seen is ours and ours == theirs


@pytest.mark.usefixtures("not_strict")  # asserts a fallback on a kernel's ValueError/TypeError
def test_dedupe_falls_back_for_a_formatted_second_dataset(patched):
    # The first call goes the fast way; the second cannot (formatted), so the original gets
    # the hash set it would have built in the first call. Text rows print alike with or
    # without the torch format, so the eval set loses the rows it shares with train.
    rng = np.random.default_rng(5)
    train = datasets.Dataset.from_dict({"text": [str(x) for x in rng.integers(0, 300, 400)]})
    fresh = datasets.Dataset.from_dict({"text": [str(x) for x in rng.integers(250, 400, 100)]})
    evaluation = datasets.concatenate_datasets([train.select(range(0, 400, 5)), fresh]).with_format("torch")
    counts = Counts("dedupe")
    got = data_utils.deduplicate_and_log_datasets(train, evaluation)
    assert counts() == (1, 1)
    fx.uninstall()
    expected = data_utils.deduplicate_and_log_datasets(train, evaluation)
    assert [d.to_list() for d in got] == [d.to_list() for d in expected]
    assert 0 < len(got[1]) < len(ORIGINAL["dedupe"](evaluation)[0])  # train rows were dropped


# --- packing ------------------------------------------------------------------------------


def lengths_like_axolotl(n, seed=0):
    """Realistic token counts, int32 as MultipackBatchSampler stores them."""
    rng = np.random.default_rng(seed)
    return np.clip(np.round(rng.lognormal(np.log(300), 1.0, n)), 16, 8192).astype(np.int32)


LENGTHS = lengths_like_axolotl(50_000)


@pytest.mark.parametrize("capacity", [2048, 8192])
@pytest.mark.parametrize("group_size", [7_000, 100_000])
@pytest.mark.parametrize("bin_size", [4, 64, None])
def test_pack_parallel_equals_axolotl(patched, capacity, group_size, bin_size):
    bin_size = bin_size or capacity  # the sampler's `bin_size or batch_max_len`
    counts = Counts("pack_parallel")
    got = multipack.pack_parallel(LENGTHS, capacity, group_size, bin_size, num_processes=1)
    expected = ORIGINAL["pack_parallel"](LENGTHS, capacity, group_size, bin_size, num_processes=1)
    assert got == expected and type(got[0][0]) is int
    assert counts() == (1, 0)


def test_pack_parallel_with_processes_and_edge_inputs(patched):
    lengths = lengths_like_axolotl(3_000, seed=1)
    lengths[::97] = 9000  # longer than the capacity: alone in a bin
    lengths[5::89] = 0
    cases = [
        ((lengths, 8192, 1_000, 16), {"num_processes": 2, "safe_mode": False}),
        ((lengths, 2048, 700, 5), {"mp_start_method": "spawn", "num_processes": 1}),
        ((lengths[:0], 2048, 700, 5), {"num_processes": 1}),
        ((lengths.tolist(), 4096, 1_000, 8), {"num_processes": 1}),
    ]
    counts = Counts("pack_parallel")
    for args, kwargs in cases:
        assert multipack.pack_parallel(*args, **kwargs) == ORIGINAL["pack_parallel"](*args, **kwargs)
    assert counts() == (len(cases), 0)


@pytest.mark.usefixtures("not_strict")  # asserts a fallback on a kernel's ValueError/TypeError
def test_pack_parallel_falls_back_for_inputs_it_does_not_model(patched):
    lengths = lengths_like_axolotl(500, seed=2)
    negative = lengths.copy()
    negative[7] = -5
    cases = [
        ((negative, 2048, 100, 8), {"num_processes": 1}),
        ((lengths, 2048, 100, 0), {"num_processes": 1}),
        ((lengths.astype(np.float64), 2048, 100, 8), {"num_processes": 1}),
        ((lengths, 2048, 0, 8), {}),  # group_size 0
        ((lengths, 2048, 100, 8), {"num_processes": 0}),
        ((lengths, 2048, 100, 8), {"mp_start_method": "no-such-method", "num_processes": 1}),
    ]
    counts = Counts("pack_parallel")
    for args, kwargs in cases:
        got = outcome(multipack.pack_parallel, *args, **kwargs)
        assert same(got, outcome(ORIGINAL["pack_parallel"], *args, **kwargs))
    assert counts() == (0, len(cases))


@pytest.mark.parametrize("capacity", [512, 2048, 8192])
@pytest.mark.parametrize("rank, num_ranks", [(0, 1), (0, 2), (1, 2), (3, 4), (2, 3)])
def test_allocate_sequentially_equals_axolotl(patched, capacity, rank, num_ranks):
    counts = Counts("allocate_sequentially")
    got = multipack.allocate_sequentially(LENGTHS, rank, capacity, num_ranks)
    expected = ORIGINAL["allocate_sequentially"](LENGTHS, rank, capacity, num_ranks)
    assert got == expected and [type(x) for x in got] == [list, int, int]
    assert counts() == (1, 0)


@pytest.mark.usefixtures("not_strict")  # asserts a fallback on a kernel's ValueError/TypeError
def test_allocate_sequentially_edges(patched):
    lengths = np.array([5, 9, 0, 3, 12, 0, 2], np.int32)
    counts = Counts("allocate_sequentially")
    cases = [(lengths, 0, 8, 1), (lengths, 5, 8, 2), (lengths[:0], 0, 8, 1), (lengths, 1, np.int64(8), 3)]
    for args in cases:
        got, expected = multipack.allocate_sequentially(*args), ORIGINAL["allocate_sequentially"](*args)
        assert got == expected and [type(x) for x in got] == [type(x) for x in expected]
    assert counts() == (4, 0)
    negative = lengths.copy()
    negative[2] = -1
    for args in [(negative, 0, 8, 1), (lengths, -1, 8, 2)]:  # not modelled: the original runs
        assert multipack.allocate_sequentially(*args) == ORIGINAL["allocate_sequentially"](*args)
    assert counts() == (4, 2)


def sampler_batches(lengths, sequential, **kwargs):
    """(batches, len, efficiency) of a MultipackBatchSampler with a seeded sampler."""
    n = len(lengths)
    if sequential:
        order = torch.utils.data.SequentialSampler(range(n))
    else:
        order = torch.utils.data.RandomSampler(range(n), generator=torch.Generator().manual_seed(0))
    sampler = multipack.MultipackBatchSampler(
        order,
        batch_size=3,
        batch_max_len=4096,
        lengths=lengths,
        bin_size=kwargs.pop("bin_size", 200),
        sequential=sequential,
        **kwargs,
    )
    size = len(sampler)  # packs num_count_samples + 1 times
    return list(sampler), size, sampler.efficiency()


@pytest.mark.parametrize("sequential", [False, True])
@pytest.mark.parametrize("kwargs", [{}, {"group_size": 3_000, "bin_size": 8, "drop_last": False}])
def test_sampler_is_unchanged(sequential, kwargs):
    lengths = lengths_like_axolotl(20_000, seed=3)
    expected = sampler_batches(lengths, sequential, **dict(kwargs))
    # The packer patches alone (the sampler_batches patch would replace the code calling them).
    name = "allocate_sequentially" if sequential else "pack_parallel"
    patch = next(p for p in fx.PATCHES if p.name == name)
    assert patch.install() == "installed"
    try:
        counts = Counts(name)
        got = sampler_batches(lengths, sequential, **dict(kwargs))
        assert counts() == (5, 0)  # __len__ packs 1 + num_count_samples (4) times
    finally:
        patch.uninstall()
    assert got == expected and len(got[0]) == got[1]


# --- dataset lengths ----------------------------------------------------------------------


def packed_rows(n=300, seed=0):
    """Rows like Axolotl's: input_ids and position_ids that restart for every packed sample."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        parts = rng.integers(1, 9, rng.integers(1, 4))
        positions = np.concatenate([np.arange(p) for p in parts]).tolist()
        rows.append({"input_ids": rng.integers(0, 99, len(positions)).tolist(), "position_ids": positions})
    return datasets.Dataset.from_list(rows)


LENGTH_KINDS = ["length", "length32", "position_ids", "input_ids", "chunked", "large_lists"]


@functools.cache
def lengths_dataset(kind):
    """A dataset that takes one branch of get_dataset_lengths."""
    base = packed_rows()
    with_length = base.add_column("length", [len(x) for x in base["input_ids"]])
    only_ids = base.remove_columns("position_ids")
    return {
        "length": lambda: with_length,
        "length32": lambda: with_length.cast_column("length", datasets.Value("int32")),
        "position_ids": lambda: base,
        "input_ids": lambda: only_ids,
        "chunked": lambda: datasets.concatenate_datasets([only_ids, only_ids.select(range(40))]),
        "large_lists": lambda: base.cast(
            datasets.Features(
                input_ids=datasets.LargeList(datasets.Value("int32")),
                position_ids=datasets.LargeList(datasets.Value("int16")),
            )
        ),
    }[kind]()


@pytest.mark.parametrize("kind", LENGTH_KINDS)
@pytest.mark.parametrize("name", VIEWS)
@pytest.mark.parametrize("from_arrow", [False, True])
def test_get_dataset_lengths_equals_axolotl(patched, kind, name, from_arrow):
    dataset = view(lengths_dataset(kind), name)
    counts = Counts("get_dataset_lengths")
    got = samplers.get_dataset_lengths(dataset, from_arrow=from_arrow)
    assert same(got, ORIGINAL["get_dataset_lengths"](dataset, from_arrow=from_arrow))
    assert got.flags.writeable
    assert counts() == (1, 0)


def test_get_dataset_lengths_skips_rows_outside_the_view(patched):
    # Empty position_ids and null input_ids in rows that select() left out do not matter.
    dataset = datasets.Dataset.from_dict(
        {"input_ids": [[1, 2], None, [3], [4, 5, 6]], "position_ids": [[0, 1], [], [0], [0, 1, 0]]}
    )
    counts = Counts("get_dataset_lengths")
    kept = dataset.select([3, 0, 2])
    assert same(data_utils.get_dataset_lengths(kept), ORIGINAL["get_dataset_lengths"](kept))
    ids = kept.remove_columns("position_ids")
    assert same(data_utils.get_dataset_lengths(ids), ORIGINAL["get_dataset_lengths"](ids))
    assert counts() == (2, 0)


def test_get_dataset_lengths_falls_back_where_the_original_differs(patched):
    ids = packed_rows(20).remove_columns("position_ids")
    cases = [
        (ids.select([]), {}),  # empty: float64, or an error with from_arrow
        (ids.select([]), {"from_arrow": True}),
        (ids.with_format("numpy"), {}),
        (datasets.Dataset.from_dict({"position_ids": [[0, 1], []]}), {}),  # row[-1] of []
        (datasets.Dataset.from_dict({"input_ids": [[1, 2], None]}), {}),
        (datasets.Dataset.from_dict({"length": [3, None]}), {}),
        (datasets.Dataset.from_dict({"length": [3.0, 2.5]}), {}),
        (datasets.Dataset.from_dict({"text": ["a"]}), {}),
    ]
    counts = Counts("get_dataset_lengths")
    for dataset, kwargs in cases:
        got = outcome(samplers.get_dataset_lengths, dataset, **kwargs)
        assert same(got, outcome(ORIGINAL["get_dataset_lengths"], dataset, **kwargs))
    assert counts() == (0, len(cases))


def test_stats_report_fallback_reasons(patched):
    data_utils._deduplicate_dataset(tokenized(20), {"not-a-seen"})
    state = fx.stats()["dedupe"]
    assert state["active"] and state["fallbacks"] >= 1 and "set" in state["last_fallback"]


def test_stats_count_calls_rows_and_time(patched):
    dataset = tokenized(300, seed=4)
    lengths = lengths_like_axolotl(1_000, seed=4)
    start = fx.stats()
    data_utils._deduplicate_dataset(dataset)
    multipack.pack_parallel(lengths, 4096, 400, 16, num_processes=1)
    samplers.get_dataset_lengths(dataset)
    now = fx.stats()
    expected_rows = {"dedupe": len(dataset), "pack_parallel": lengths.size, "get_dataset_lengths": len(dataset)}
    for name, rows in expected_rows.items():
        assert now[name]["calls"] - start[name]["calls"] == 1
        assert now[name]["rows"] - start[name]["rows"] == rows  # rows the fast path handled
        assert now[name]["seconds"] > start[name]["seconds"]
    assert set(now["dedupe"]) >= {"active", "calls", "rows", "seconds", "fallbacks", "last_fallback"}
    assert f"dedupe {now['dedupe']['calls']} calls / {now['dedupe']['rows']} rows" in fx.summary()


# --- fast_axolotl_packing: bfd --------------------------------------------------------------


@pytest.fixture
def bfd():
    fx.settings.fast_axolotl_packing = "bfd"
    yield
    fx.settings.reset()


def test_bfd_setting_switches_pack_parallel_to_fewer_fuller_bins(patched, bfd):
    counts = Counts("pack_parallel")
    # Axolotl's default sample_packing_bin_size (200 items); bins of 2048 tokens.
    got = multipack.pack_parallel(LENGTHS, 2048, 7_000, 200, num_processes=1)
    first_fit = ORIGINAL["pack_parallel"](LENGTHS, 2048, 7_000, 200, num_processes=1)
    order, offsets = fa_pack_bins(LENGTHS, 2048, "bfd", max_items_per_bin=200, group_size=7_000)
    assert got == [order[a:b].tolist() for a, b in zip(offsets[:-1], offsets[1:])]
    assert sorted(i for b in got for i in b) == list(range(LENGTHS.size))  # every item once
    assert len(got) < len(first_fit) and counts() == (1, 0)


def test_default_setting_keeps_axolotls_bins(patched):
    assert fx.settings.fast_axolotl_packing == "first_fit"
    got = multipack.pack_parallel(LENGTHS, 8192, 7_000, 64, num_processes=1)
    assert got == ORIGINAL["pack_parallel"](LENGTHS, 8192, 7_000, 64, num_processes=1)


def fa_pack_bins(*args, **kwargs):
    import fast_axolotl

    return fast_axolotl.pack_bins(*args, **kwargs)


# --- encode_streaming ---------------------------------------------------------------------


WORDS = "the cat sat on a mat fast axolotl pads packs tokens river stone".split()


@functools.cache
def streaming_tokenizer(bos=True):
    """A tiny byte-level BPE; with `bos`, every text starts with <s> (an empty text too)."""
    tokenizers = pytest.importorskip("tokenizers")
    from transformers import PreTrainedTokenizerFast

    bpe = tokenizers.Tokenizer(tokenizers.models.BPE(unk_token=None))
    bpe.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = tokenizers.trainers.BpeTrainer(vocab_size=300, special_tokens=["<pad>", "<s>", "</s>"])
    bpe.train_from_iterator([" ".join(WORDS[i:] + WORDS[:i]) for i in range(len(WORDS))] * 5, trainer)
    if bos:
        bpe.post_processor = tokenizers.processors.TemplateProcessing(
            single="<s> $A", special_tokens=[("<s>", bpe.token_to_id("<s>"))]
        )
    return PreTrainedTokenizerFast(tokenizer_object=bpe, pad_token="<pad>", bos_token="<s>", eos_token="</s>")


def texts(n, seed, most_words=60):
    """Texts of 0..most_words words: empty ones, and ones longer than any row."""
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, rng.integers(0, most_words + 1))) for _ in range(n)]


def same_exactly(got, expected) -> bool:
    """Equal, with the same types throughout (1 and 1.0 and True compare equal; their
    reprs do not)."""
    return repr(got) == repr(expected)


@pytest.mark.parametrize("max_tokens", [3, 4, 9, 32, 100, 2048])
@pytest.mark.parametrize("concatenate", [True, False])
def test_encode_streaming_equals_axolotl(patched, max_tokens, concatenate):
    tokenizer = streaming_tokenizer()
    counts = Counts("encode_streaming")
    for seed, column in enumerate(["text", "content"]):
        examples = {column: texts(150, seed), "other": list(range(150))}
        got = streaming.encode_streaming(examples, tokenizer, max_tokens, column, concatenate)
        expected = ORIGINAL["encode_streaming"](examples, tokenizer, max_tokens, column, concatenate)
        assert same_exactly(got, expected)
        assert len(got["input_ids"]) > 1
    assert counts() == (2, 0)
    assert fx.stats()["encode_streaming"]["rows"] >= 300


@settings(max_examples=60, deadline=None)
@given(
    words=st.lists(st.integers(0, 80), max_size=40),
    max_tokens=st.integers(3, 120),
    seed=st.integers(0, 2**16),
)
def test_encode_streaming_equals_axolotl_on_generated_texts(words, max_tokens, seed):
    rng = np.random.default_rng(seed)
    examples = {"text": [" ".join(rng.choice(WORDS, n)) for n in words]}
    tokenizer = streaming_tokenizer()
    expected = outcome(ORIGINAL["encode_streaming"], examples, tokenizer, max_tokens)
    patch = next(p for p in fx.PATCHES if p.name == "encode_streaming")
    assert patch.install() == "installed"
    try:
        got = outcome(streaming.encode_streaming, examples, tokenizer, max_tokens)
    finally:
        patch.uninstall()
    assert same_exactly(got, expected)


def test_encode_streaming_falls_back_where_the_original_differs(patched):
    # Without a BOS, an empty text tokenizes to []: torch.tensor([]) is float32 and the
    # original's row that holds it comes out as floats. No pad token: the original raises.
    no_bos = streaming_tokenizer(bos=False)
    no_pad = copy.copy(streaming_tokenizer())
    no_pad.pad_token = None
    cases = [
        ({"text": texts(40, 1) + [""] + texts(5, 2)}, no_bos, 50),
        ({"text": texts(40, 3)}, no_pad, 50),
        ({"text": texts(10, 4)}, streaming_tokenizer(), 2),  # max_length 0: the BOS alone is too long
    ]
    counts = Counts("encode_streaming")
    for examples, tokenizer, max_tokens in cases:
        got = outcome(streaming.encode_streaming, examples, tokenizer, max_tokens)
        expected = outcome(ORIGINAL["encode_streaming"], examples, tokenizer, max_tokens)
        assert same_exactly(got, expected)
    assert counts() == (0, len(cases))
    floats = ORIGINAL["encode_streaming"](cases[0][0], no_bos, 50)["input_ids"]
    assert any(type(x) is float for row in floats for x in row)  # the case is real


def test_encode_streaming_empty_batch(patched):
    # The fast tokenizer itself fails on no texts (IndexError); the patch must fail alike.
    for concatenate in (True, False):
        args = ({"text": []}, streaming_tokenizer(), 64, "text", concatenate)
        got, expected = outcome(streaming.encode_streaming, *args), outcome(ORIGINAL["encode_streaming"], *args)
        assert same_exactly(got, expected)
