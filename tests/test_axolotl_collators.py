"""The collator patches (DataCollatorForSeq2Seq, the V1 and V2 batch-sampler collators and the
pretraining one): a patched collator returns what Axolotl's original returns with no patch
active (the oracle), key for key, dtype for dtype, warnings included; uncovered inputs run
the original (counted); install/uninstall put the exact original `__call__` back."""

from __future__ import annotations

import contextlib
import copy
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

batching = pytest.importorskip("axolotl.utils.collators.batching")
torch = pytest.importorskip("torch")
tokenizers = pytest.importorskip("tokenizers")
from transformers import PreTrainedTokenizerFast  # noqa: E402
from transformers.utils import PaddingStrategy  # noqa: E402

import fast_axolotl.axolotl as fx  # noqa: E402
from fast_axolotl.axolotl.registry import PATCHES  # noqa: E402

# `import fast_axolotl` patched the collators imported above (the import hook): the tests
# start from Axolotl's own objects, captured with every patch removed.
fx.uninstall()

# The registry's own collator patches, installed and removed one at a time here.
PATCH, V1_PATCH, V2_PATCH, PRETRAINING_PATCH = (
    next(p for p in PATCHES if p.name == name)
    for name in ("seq2seq_collator", "v1_collator", "v2_collator", "pretraining_collator")
)
Seq2Seq, V1, V2, Pretraining = (
    batching.DataCollatorForSeq2Seq,
    batching.BatchSamplerDataCollatorForSeq2Seq,
    batching.V2BatchSamplerDataCollatorForSeq2Seq,
    batching.PretrainingBatchSamplerDataCollatorForSeq2Seq,
)
ORIGINAL_CALL, ORIGINAL_V2_CALL = Seq2Seq.__dict__["__call__"], V2.__dict__["__call__"]


@pytest.fixture(scope="module")
def tokenizer():
    """A tiny byte-level BPE trained here (no downloads), with pad and eos tokens."""
    rng = np.random.default_rng(0)
    words = ["the", "cat", "sat", "on", "a", "mat", "fast", "axolotl", "pads", "tokens"]
    text = [" ".join(rng.choice(words, 8)) for _ in range(200)]
    bpe = tokenizers.Tokenizer(tokenizers.models.BPE(unk_token=None))
    bpe.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = tokenizers.trainers.BpeTrainer(vocab_size=300, special_tokens=["<pad>", "</s>"])
    bpe.train_from_iterator(text, trainer)
    return PreTrainedTokenizerFast(tokenizer_object=bpe, pad_token="<pad>", eos_token="</s>")


@pytest.fixture
def patched():
    assert PATCH.install() == "installed"
    yield
    PATCH.uninstall()


@contextlib.contextmanager
def only(patch):
    """One patch active inside, none outside."""
    assert patch.install() == "installed"
    try:
        yield
    finally:
        assert patch.uninstall() == "uninstalled"


class Counts:
    """The change in (calls, fallbacks) of a patch since creation."""

    def __init__(self, patch=PATCH):
        self.patch, self.start = patch, patch.stats()

    def __call__(self):
        now = self.patch.stats()
        return now["calls"] - self.start["calls"], now["fallbacks"] - self.start["fallbacks"]


def batch(seed, keys=("attention_mask", "labels", "position_ids"), n=8, numpy=False, low=1, high=60):
    """Random features: random lengths, random labels (some -100), positions 0..len-1."""
    rng = np.random.default_rng(seed)
    features = []
    for _ in range(n):
        length = int(rng.integers(low, high))
        row = {"input_ids": rng.integers(0, 300, length).tolist()}
        values = {
            "attention_mask": [1] * length,
            "labels": np.where(rng.random(length) < 0.3, -100, row["input_ids"]).tolist(),
            "position_ids": list(range(length)),
        }
        row.update((key, values[key]) for key in keys)
        features.append({k: np.array(v) for k, v in row.items()} if numpy else row)
    return features


def outcome(function, *args):
    """(result or the type of the error raised, the warnings' messages)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = function(*args)
        except Exception as error:
            result = type(error)
    return result, [str(w.message) for w in caught]


def original(collator, features, **kwargs):
    return ORIGINAL_CALL(collator, copy.deepcopy(features), **kwargs)  # it pads features in place


def assert_same(got, expected):
    assert type(got) is type(expected) and list(got.keys()) == list(expected.keys())
    assert got._encodings == expected._encodings and got._n_sequences == expected._n_sequences
    for key in expected:
        a, b = got[key], expected[key]
        assert type(a) is type(b) and a.dtype == b.dtype and a.shape == b.shape, key
        if isinstance(b, torch.Tensor):
            assert torch.equal(a, b), key
        else:
            assert np.array_equal(a, b), key


def assert_same_outcome(got, expected):
    """Same result (or error type) and the same warnings."""
    (result, warned), (expected_result, expected_warned) = got, expected
    assert warned == expected_warned
    if isinstance(expected_result, type):
        assert result is expected_result
    else:
        assert_same(result, expected_result)


def compare(patch, collator, features, calls=1, fallbacks=0):
    """The collator's __call__ with only `patch` active against it with no patch active."""
    expected = outcome(type(collator).__call__, collator, copy.deepcopy(features))
    with only(patch):
        counts = Counts(patch)
        got = outcome(collator, copy.deepcopy(features))
        assert counts() == (calls, fallbacks)
    assert_same_outcome(got, expected)
    return got[0]


KEY_SETS = [
    (),
    ("attention_mask",),
    ("attention_mask", "labels"),
    ("labels", "position_ids"),
    ("attention_mask", "labels", "position_ids"),
    ("position_ids", "attention_mask"),
]
# Collator options the fast path models; input_ids rows are at most 59 long here.
OPTIONS = [
    {},
    {"padding": "longest", "max_length": 20},  # max_length is ignored
    {"padding": True, "max_length": 30},  # ignored, with transformers' warning
    {"padding": "max_length", "max_length": 70},
    {"padding": PaddingStrategy.MAX_LENGTH, "max_length": 59},
    {"padding": PaddingStrategy.LONGEST, "label_pad_token_id": -1, "position_pad_token_id": 7},
]


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("multiple", [None, 8, 64])
@pytest.mark.parametrize("return_tensors", ["pt", "np"])
def test_collator_equals_axolotl(patched, tokenizer, side, multiple, return_tensors):
    tokenizer.padding_side = side
    counts = Counts()
    for options in OPTIONS:
        collator = Seq2Seq(tokenizer, pad_to_multiple_of=multiple, return_tensors=return_tensors, **options)
        for seed, keys in enumerate(KEY_SETS):
            features = batch(seed, keys, n=1 + seed % 9)
            assert_same_outcome(outcome(collator, copy.deepcopy(features)), outcome(original, collator, features))
    assert counts() == (len(KEY_SETS) * len(OPTIONS), 0)


@pytest.mark.parametrize("padding", [False, "do_not_pad", "max_length"])
def test_rows_of_one_length_without_padding_equal_axolotl(patched, tokenizer, padding):
    # "max_length" without a max_length: the tokenizer's model_max_length is huge, so no padding.
    tokenizer.padding_side = "left"
    collator = Seq2Seq(tokenizer, padding=padding, pad_to_multiple_of=16)
    counts = Counts()
    features = batch(3, low=20, high=21)  # labels and position_ids are padded all the same
    features[0]["labels"] = features[0]["labels"][:9]
    got = outcome(collator, copy.deepcopy(features))
    assert_same_outcome(got, outcome(original, collator, features))
    assert got[0]["input_ids"].shape == (8, 20) and got[0]["labels"].shape == (8, 32)
    assert counts() == (1, 0)


@pytest.mark.parametrize("side", ["right", "left"])
def test_numpy_rows_and_v2_collator_equal_axolotl(patched, tokenizer, side):
    # The batch-sampler collators' originals pass numpy rows to DataCollatorForSeq2Seq.__call__.
    tokenizer.padding_side = side
    collator = Seq2Seq(tokenizer, pad_to_multiple_of=64, padding="longest")
    counts = Counts()
    features = batch(1, numpy=True)
    assert_same(collator(copy.deepcopy(features)), original(collator, features))
    v2 = V2(tokenizer, pad_to_multiple_of=64)
    bins = [batch(2, n=3), batch(3, n=5)]
    got = V2.__call__(v2, copy.deepcopy(bins))  # runs the patched parent __call__
    PATCH.uninstall()
    try:
        assert_same(got, V2.__call__(v2, copy.deepcopy(bins)))
    finally:
        PATCH.install()
    assert counts() == (2, 0)


def too_long_for_max_length():
    features = batch(4)
    features[2]["input_ids"] = list(range(100))  # past max_length 80: left ragged
    features[2]["attention_mask"] = [1] * len(features[2]["input_ids"])
    return features


@pytest.mark.usefixtures("not_strict")  # asserts a fallback on a kernel's ValueError/TypeError
@pytest.mark.parametrize(
    "options, features",
    [
        ({"padding": "max_length", "max_length": 80}, too_long_for_max_length()),
        ({"padding": False}, batch(4)),  # rows of different lengths, not padded
        ({"padding": "no-such-strategy"}, batch(4)),
        ({"pad_to_multiple_of": 0}, batch(4)),
        ({"return_tensors": "np"}, [dict(f, length=len(f["input_ids"])) for f in batch(5)]),  # another key
        ({}, [dict(f, labels=tuple(f["labels"])) for f in batch(6)]),  # not lists
        ({"label_pad_token_id": 2**70}, batch(7)),  # outside int64: the original decides
        ({"label_pad_token_id": -100.0}, batch(7)),  # float labels in the original
    ],
)
def test_uncovered_inputs_fall_back_counted(patched, tokenizer, options, features):
    tokenizer.padding_side = "right"
    collator = Seq2Seq(tokenizer, **options)
    counts = Counts()
    assert_same_outcome(outcome(collator, copy.deepcopy(features)), outcome(original, collator, features))
    assert counts() == (0, 1) and PATCH.stats()["last_fallback"]


def test_install_uninstall_restore_the_exact_original():
    assert Seq2Seq.__dict__["__call__"] is ORIGINAL_CALL
    assert PATCH.install() == "installed"
    try:
        replacement = Seq2Seq.__dict__["__call__"]
        assert replacement is PATCH.replacement and replacement.__wrapped__ is ORIGINAL_CALL
        assert V2.__dict__["__call__"] is not replacement  # subclasses reach it through super()
        assert PATCH.install() == "already active" and Seq2Seq.__dict__["__call__"] is replacement
    finally:
        assert PATCH.uninstall() == "uninstalled"
    assert Seq2Seq.__dict__["__call__"] is ORIGINAL_CALL and not PATCH.stats()["active"]
    assert PATCH.uninstall() == "not active"


def test_stats_count_the_features_and_time(patched, tokenizer):
    collator = Seq2Seq(tokenizer)
    start = PATCH.stats()
    collator(batch(8, n=5))
    collator(batch(9, n=3))
    now = PATCH.stats()
    assert now["calls"] - start["calls"] == 2 and now["rows"] - start["rows"] == 8
    assert now["seconds"] > start["seconds"]


# --- the batch-sampler collators: V1, V2, pretraining --------------------------------------


def bins_of(seed, keys=("attention_mask", "labels", "position_ids"), length=True):
    """Bins of 1-6 random features each, with the `length` key the packed dataset has."""
    rng = np.random.default_rng(seed)
    bins = []
    for i in range(int(rng.integers(1, 5))):
        items = batch(seed * 10 + i, keys, n=int(rng.integers(1, 7)))
        bins.append([dict(f, length=len(f["input_ids"])) if length else f for f in items])
    return bins


def columns_of(items):
    """A bin as the pretraining collator gets it: a dict of columns."""
    return {key: [item[key] for item in items] for key in items[0]}


BIN_CASES = [bins_of(seed, keys, length=seed % 2 == 0) for seed, keys in enumerate(KEY_SETS)]


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("multiple", [None, 64])
@pytest.mark.parametrize("squash", [False, True])
@pytest.mark.parametrize("return_tensors", ["pt", "np"])
def test_v2_collator_equals_axolotl(tokenizer, side, multiple, squash, return_tensors):
    tokenizer.padding_side = side
    options = {"pad_to_multiple_of": multiple, "squash_position_ids": squash, "return_tensors": return_tensors}
    collator = V2(tokenizer, **options)
    for case in BIN_CASES + [bins_of(9)[0]]:  # and one bin, not wrapped in a list
        compare(V2_PATCH, collator, case)


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("multiple", [None, 64])
@pytest.mark.parametrize("return_tensors", ["pt", "np"])
def test_v1_collator_equals_axolotl(tokenizer, side, multiple, return_tensors):
    tokenizer.padding_side = side
    collator = V1(tokenizer, pad_to_multiple_of=multiple, return_tensors=return_tensors)
    for case in BIN_CASES + [bins_of(9)[0]]:
        got = compare(V1_PATCH, collator, case)
        if "attention_mask" in got:  # V1 does not number the items: the mask is 0/1
            assert set(np.unique(np.asarray(got["attention_mask"]))) <= {0, 1}


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("multipack_attn", [True, False])
@pytest.mark.parametrize("return_tensors", ["pt", "np"])
def test_pretraining_collator_equals_axolotl(tokenizer, side, multipack_attn, return_tensors):
    tokenizer.padding_side = side
    # As encode_packed_streaming builds it: the sequence length as pad_to_multiple_of.
    collator = Pretraining(
        tokenizer, pad_to_multiple_of=512, multipack_attn=multipack_attn, return_tensors=return_tensors
    )
    for case in BIN_CASES:
        compare(PRETRAINING_PATCH, collator, columns_of(case[0]))


@pytest.mark.parametrize("options", OPTIONS[1:])
@pytest.mark.parametrize("cls, patch", [(V1, V1_PATCH), (V2, V2_PATCH)])
def test_batch_sampler_options_equal_axolotl(tokenizer, options, cls, patch):
    tokenizer.padding_side = "left"
    collator = cls(tokenizer, pad_to_multiple_of=16, **options)
    short = [[dict(f, length=1) for f in batch(seed, n=3, high=20)] for seed in (11, 12)]
    compare(patch, collator, short)  # concatenated rows at most 57 long: within every max_length


item_st = st.integers(1, 30).flatmap(
    lambda n: st.fixed_dictionaries(
        {
            "input_ids": st.lists(st.integers(0, 299), min_size=n, max_size=n),
            "labels": st.lists(st.sampled_from([-100, 5, 17]), min_size=n, max_size=n),
        }
    )
)
bins_st = st.lists(st.lists(item_st, min_size=1, max_size=5), min_size=1, max_size=4)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    bins=bins_st,
    keys=st.sampled_from([KEY_SETS[4], ("labels",), KEY_SETS[5]]),
    side=st.sampled_from(["left", "right"]),
    multiple=st.sampled_from([None, 1, 7, 64]),
    kind=st.sampled_from(["v1", "v2", "v2-squash", "pretraining", "pretraining-flat"]),
)
def test_batch_sampler_collators_equal_axolotl_on_generated_bins(tokenizer, bins, keys, side, multiple, kind):
    tokenizer.padding_side = side
    bins = [[with_keys(item, keys) for item in b] for b in bins]
    if kind.startswith("pretraining"):
        collator = Pretraining(tokenizer, pad_to_multiple_of=multiple, multipack_attn=kind == "pretraining")
        compare(PRETRAINING_PATCH, collator, columns_of(bins[0]))
    elif kind == "v1":
        compare(V1_PATCH, V1(tokenizer, pad_to_multiple_of=multiple), bins)
    else:
        compare(V2_PATCH, V2(tokenizer, pad_to_multiple_of=multiple, squash_position_ids=kind == "v2-squash"), bins)


def with_keys(item, keys):
    """input_ids and `keys`: attention_mask of ones, the item's labels, positions from 0."""
    n = len(item["input_ids"])
    values = {"attention_mask": [1] * n, "labels": item["labels"], "position_ids": list(range(n))}
    return {"input_ids": item["input_ids"], **{key: values[key] for key in keys}}


def test_batch_sampler_fallbacks_are_counted(tokenizer):
    tokenizer.padding_side = "right"
    numpy_bins = [[{k: np.array(v) for k, v in f.items()} for f in b] for b in bins_of(3)]
    uneven = bins_of(4)
    del uneven[0][0]["labels"]  # the original skips an item without the key; not modelled
    columns = columns_of(bins_of(5)[0])
    columns["labels"] = columns["labels"][:-1]  # columns of different lengths
    cases = [
        (V2_PATCH, V2(tokenizer), numpy_bins),
        (V1_PATCH, V1(tokenizer), numpy_bins),
        (V2_PATCH, V2(tokenizer), uneven),
        (V1_PATCH, V1(tokenizer, padding=False), bins_of(6)),  # bins of different lengths, not padded
        (PRETRAINING_PATCH, Pretraining(tokenizer), columns),
        (PRETRAINING_PATCH, Pretraining(tokenizer), {"input_ids": [], "labels": []}),  # the original raises
    ]
    for patch, collator, features in cases:
        compare(patch, collator, features, calls=0, fallbacks=1)


@pytest.mark.parametrize("patch, cls", [(V1_PATCH, V1), (V2_PATCH, V2), (PRETRAINING_PATCH, Pretraining)])
def test_batch_sampler_patches_restore_the_exact_original(patch, cls):
    before = cls.__dict__["__call__"]
    with only(patch):
        assert cls.__dict__["__call__"] is patch.replacement and patch.replacement.__wrapped__ is before
        assert patch.install() == "already active"
    assert cls.__dict__["__call__"] is before and not patch.stats()["active"]


def test_batch_sampler_rows_are_features(tokenizer):
    bins = bins_of(7)
    with only(V2_PATCH):
        start = V2_PATCH.stats()["rows"]
        V2(tokenizer)(copy.deepcopy(bins))
        assert V2_PATCH.stats()["rows"] - start == sum(map(len, bins))
    with only(PRETRAINING_PATCH):
        start = PRETRAINING_PATCH.stats()["rows"]
        Pretraining(tokenizer)(columns_of(bins[0]))
        assert PRETRAINING_PATCH.stats()["rows"] - start == len(bins[0])
