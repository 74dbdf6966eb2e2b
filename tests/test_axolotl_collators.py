"""The DataCollatorForSeq2Seq and V2BatchSamplerDataCollatorForSeq2Seq patches: the patched
collator returns what Axolotl's original (captured before any patch) returns, key for key,
dtype for dtype; uncovered inputs run the original (counted); install/uninstall put the exact
original `__call__` back."""

from __future__ import annotations

import copy

import numpy as np
import pytest

batching = pytest.importorskip("axolotl.utils.collators.batching")
torch = pytest.importorskip("torch")
tokenizers = pytest.importorskip("tokenizers")
from transformers import PreTrainedTokenizerFast  # noqa: E402

from fast_axolotl.axolotl.patches import PATCHES  # noqa: E402

# The registry's own collator patches, installed and removed one at a time here.
PATCH = next(p for p in PATCHES if p.name == "seq2seq_collator")
V2_PATCH = next(p for p in PATCHES if p.name == "v2_collator")
Seq2Seq, V2 = batching.DataCollatorForSeq2Seq, batching.V2BatchSamplerDataCollatorForSeq2Seq
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


class Counts:
    def __init__(self):
        self.start = PATCH.stats()

    def __call__(self):
        now = PATCH.stats()
        return now["fast_calls"] - self.start["fast_calls"], now["fallbacks"] - self.start["fallbacks"]


def batch(seed, keys=("attention_mask", "labels", "position_ids"), n=8, numpy=False):
    """Random features: random lengths, random labels (some -100), positions 0..len-1."""
    rng = np.random.default_rng(seed)
    features = []
    for _ in range(n):
        length = int(rng.integers(1, 60))
        row = {"input_ids": rng.integers(0, 300, length).tolist()}
        values = {
            "attention_mask": [1] * length,
            "labels": np.where(rng.random(length) < 0.3, -100, row["input_ids"]).tolist(),
            "position_ids": list(range(length)),
        }
        row.update((key, values[key]) for key in keys)
        features.append({k: np.array(v) for k, v in row.items()} if numpy else row)
    return features


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


KEY_SETS = [(), ("attention_mask",), ("attention_mask", "labels"), ("labels", "position_ids"),
            ("attention_mask", "labels", "position_ids"), ("position_ids", "attention_mask")]


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("multiple", [None, 8, 64])
@pytest.mark.parametrize("return_tensors", ["pt", "np"])
def test_collator_equals_axolotl(patched, tokenizer, side, multiple, return_tensors):
    tokenizer.padding_side = side
    collator = Seq2Seq(tokenizer, pad_to_multiple_of=multiple, return_tensors=return_tensors)
    counts = Counts()
    for seed, keys in enumerate(KEY_SETS * 2):
        features = batch(seed, keys, n=1 + seed % 9)
        assert_same(collator(copy.deepcopy(features)), original(collator, features))
    assert counts() == (len(KEY_SETS) * 2, 0)


@pytest.mark.parametrize("side", ["right", "left"])
def test_numpy_rows_and_v2_collator_equal_axolotl(patched, tokenizer, side):
    # The batch-sampler collators pass numpy rows to DataCollatorForSeq2Seq.__call__.
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


@pytest.mark.parametrize(
    "options, features",
    [
        ({"padding": "max_length", "max_length": 80}, batch(4)),
        ({"max_length": 100}, batch(4)),
        ({"return_tensors": "np"}, [dict(f, length=len(f["input_ids"])) for f in batch(5)]),  # another key
        ({}, [dict(f, labels=tuple(f["labels"])) for f in batch(6)]),  # not lists
        ({"label_pad_token_id": 2**70}, batch(7)),  # outside int64: the original decides
    ],
)
def test_uncovered_inputs_fall_back_counted(patched, tokenizer, options, features):
    tokenizer.padding_side = "right"
    collator = Seq2Seq(tokenizer, **options)
    counts = Counts()
    got = outcome(collator, copy.deepcopy(features))
    expected = outcome(original, collator, features)
    if isinstance(expected, type):
        assert got is expected
    else:
        assert_same(got, expected)
    assert counts() == (0, 1) and PATCH.stats()["last_fallback"]


def outcome(function, *args):
    try:
        return function(*args)
    except Exception as error:
        return type(error)


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


# --- V2BatchSamplerDataCollatorForSeq2Seq --------------------------------------------------


def bins_of(seed, keys=("attention_mask", "labels", "position_ids"), length=True):
    """Bins of 1-6 random features each, with the `length` key the packed dataset has."""
    rng = np.random.default_rng(seed)
    bins = []
    for i in range(int(rng.integers(1, 5))):
        items = batch(seed * 10 + i, keys, n=int(rng.integers(1, 7)))
        bins.append([dict(f, length=len(f["input_ids"])) if length else f for f in items])
    return bins


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("multiple", [None, 64])
@pytest.mark.parametrize("squash", [False, True])
@pytest.mark.parametrize("return_tensors", ["pt", "np"])
def test_v2_collator_equals_axolotl(tokenizer, side, multiple, squash, return_tensors):
    tokenizer.padding_side = side
    options = {"pad_to_multiple_of": multiple, "squash_position_ids": squash, "return_tensors": return_tensors}
    collator = V2(tokenizer, **options)
    cases = [bins_of(seed, keys, length=seed % 2 == 0) for seed, keys in enumerate(KEY_SETS)]
    cases.append(bins_of(9)[0])  # one bin, not wrapped in a list
    expected = [V2.__call__(collator, copy.deepcopy(c)) for c in cases]  # no patch active
    assert V2_PATCH.install() == "installed"
    try:
        start = V2_PATCH.stats()
        got = [collator(copy.deepcopy(c)) for c in cases]
        assert V2_PATCH.stats()["fast_calls"] - start["fast_calls"] == len(cases)
        assert V2_PATCH.stats()["fallbacks"] == start["fallbacks"]
    finally:
        assert V2_PATCH.uninstall() == "uninstalled"
    for g, e in zip(got, expected):
        assert_same(g, e)


def test_v2_numpy_rows_fall_back_counted(tokenizer):
    tokenizer.padding_side = "right"
    collator = V2(tokenizer)
    bins = [[{k: np.array(v) for k, v in f.items()} for f in b] for b in bins_of(3)]
    expected = V2.__call__(collator, copy.deepcopy(bins))
    assert V2_PATCH.install() == "installed"
    try:
        start = V2_PATCH.stats()["fallbacks"]
        assert_same(collator(copy.deepcopy(bins)), expected)
        assert V2_PATCH.stats()["fallbacks"] == start + 1
        assert V2.__dict__["__call__"] is V2_PATCH.replacement
    finally:
        V2_PATCH.uninstall()
    assert V2.__dict__["__call__"] is ORIGINAL_V2_CALL
