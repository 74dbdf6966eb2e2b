"""`fast_axolotl.Tokenizer` against its oracle, the `tokenizers` package set as transformers
sets it (no truncation, no padding, `encode_special_tokens` = `split_special_tokens`): the
same ids and code-point offsets

- on every kind of fast_axolotl/bench/corpus.py's text and on hypothesis' strings, for Llama 3, Qwen2.5/3
  and a GPT-2-style BPE trained here, all on the fast engine;
- for tokenizer.json files the fast engine does not model (edits of a supported one, and
  tokenizers trained here), which go to the `tokenizers` engine with a reason;
- on bad input, which is an error of fast_axolotl's naming what is wrong, or the reference's
  ids; for every input and output form of `encode_batch`; and from C alone
  (tests/c/test_tokenizer.c).

fast_axolotl/bench/verify_tokenizer.py runs the corpus comparison at scale.
"""

from __future__ import annotations

import functools
import itertools
import json
import random
import re
import sys
import threading
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from conftest import REPO, compile_c, run
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fast_axolotl import FastAxolotlError, FormatError, InvalidArgumentError, Tokenizer
from fast_axolotl import tokenizer as tokenizer_module

pytest.importorskip("tokenizers")
from fast_axolotl.bench import corpus
from fast_axolotl.bench import real_tokenizers as fixtures
from fast_axolotl.bench.real_tokenizers import QWEN_ADDED_TOKENS
from fast_axolotl.bench.verify_tokenizer import differences, gpt2_style_tokenizer_json, reference_encodings

# Bytes of each corpus kind per tokenizer: every kind's tricks, in a few seconds in all.
KIND_BYTES = 150_000
LLAMA3_SPECIAL_TEXTS = (
    "<|begin_of_text|>",
    "<|end_of_text|>",
    "<|eot_id|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
    "<|reserved_special_token_7|>",
)
QWEN_TOKEN_TEXTS = tuple(text for text, _ in QWEN_ADDED_TOKENS)
# The added tokens gpt2_style_tokenizer_json gives its tokenizer: two special, two not.
GPT2_TOKEN_TEXTS = ("<|endoftext|>", "<|pad|>", "<custom>", "[[link]]")


@dataclass(frozen=True)
class Pair:
    """One tokenizer.json, loaded by fast_axolotl (`ours`) and by the oracle."""

    json: str
    ours: Tokenizer
    reference: object  # tokenizers.Tokenizer


def pair_of(tokenizer_json: str, split_special_tokens: bool = False, engine: str = "auto") -> Pair:
    ours = Tokenizer.from_str(tokenizer_json, split_special_tokens=split_special_tokens, engine=engine)
    return Pair(tokenizer_json, ours, reference_encodings(tokenizer_json, split_special_tokens))


def assert_identical(pair: Pair, texts: list, add_special_tokens: bool = False) -> None:
    """Ids and offsets of every text equal the reference's."""
    found = differences(pair.ours, pair.reference, texts, add_special_tokens)
    assert not found, "\n".join(map(str, found))


@functools.cache
def corpus_texts(kind: str) -> list:
    return corpus.texts(kind, KIND_BYTES, seed=0)


@functools.cache
def mixed_texts(total_bytes: int = 60_000) -> tuple:
    """A little of every corpus kind, with empty and one-character texts."""
    return tuple(corpus.mixture(total_bytes, seed=1)) + ("", " ", "a")


def is_ids_type(type_: pa.DataType) -> bool:
    """list<int32> (its values' nullability aside)."""
    return pa.types.is_list(type_) and type_.value_type == pa.int32()


def is_offsets_type(type_: pa.DataType) -> bool:
    """list<fixed_size_list<int64, 2>>."""
    pair = type_.value_type if pa.types.is_list(type_) else None
    return pa.types.is_fixed_size_list(pair) and pair.list_size == 2 and pair.value_type == pa.int64()


def with_tokens_inline(texts, tokens, seed: int) -> list:
    """`texts` with 1-4 of `tokens` each, put anywhere: at either end, next to spaces, inside
    words and inside other tokens."""
    rng = random.Random(seed)
    out = []
    for text in texts:
        for _ in range(rng.randint(1, 4)):
            at = rng.randint(0, len(text))
            text = text[:at] + rng.choice(tokens) + text[at:]
        out.append(text)
    return out


# --- The tokenizers ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def llama3_json() -> str:
    return fixtures.llama3_tokenizer_file().read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def qwen_json(qwen_tokenizer_file) -> str:
    return qwen_tokenizer_file.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def o200k_json(tmp_path_factory) -> str:
    path = fixtures.build_o200k_tokenizer_json(tmp_path_factory.mktemp("o200k") / "tokenizer.json")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def tekken_json(tmp_path_factory) -> str:
    path = fixtures.build_tekken_tokenizer_json(tmp_path_factory.mktemp("tekken") / "tokenizer.json")
    return path.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def gpt2_json() -> str:
    return gpt2_style_tokenizer_json()


@pytest.fixture(scope="session")
def llama3(llama3_json) -> Pair:
    return pair_of(llama3_json)


@pytest.fixture(scope="session")
def qwen(qwen_json) -> Pair:
    return pair_of(qwen_json)


@pytest.fixture(scope="session")
def o200k(o200k_json) -> Pair:
    return pair_of(o200k_json)


@pytest.fixture(scope="session")
def tekken(tekken_json) -> Pair:
    return pair_of(tekken_json)


@pytest.fixture(scope="session")
def gpt2(gpt2_json) -> Pair:
    return pair_of(gpt2_json)


@pytest.fixture(scope="module", params=["llama3", "qwen", "o200k", "tekken", "gpt2"])
def any_pair(request) -> Pair:
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="session")
def qwen_split(qwen_json) -> Pair:
    return pair_of(qwen_json, split_special_tokens=True)


# Module-scoped, so that hypothesis' tests may use it (a function-scoped fixture would not be
# reset between examples).
@pytest.fixture(scope="module", params=["llama3", "qwen", "qwen_split", "o200k", "tekken"])
def real_pair(request) -> Pair:
    return request.getfixturevalue(request.param)


# --- 1. Identity on the corpus -----------------------------------------------------------------


@pytest.mark.parametrize("kind", corpus.KINDS)
def test_every_kind_of_text_encodes_as_the_reference(any_pair, kind):
    assert any_pair.ours.engine == "fast", any_pair.ours.reason
    assert_identical(any_pair, corpus_texts(kind))


def llama3_with_template(llama3_json: str, suffix: bool) -> str:
    """Llama 3's JSON with the post-processor of Meta's hub file, which puts
    <|begin_of_text|> before the text (and, with `suffix`, <|end_of_text|> after it)."""
    data = json.loads(llama3_json)
    bos, eos = "<|begin_of_text|>", "<|end_of_text|>"
    single = [{"SpecialToken": {"id": bos, "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}]
    special_tokens = {bos: {"id": bos, "ids": [128000], "tokens": [bos]}}
    if suffix:
        single.append({"SpecialToken": {"id": eos, "type_id": 0}})
        special_tokens[eos] = {"id": eos, "ids": [128001], "tokens": [eos]}
    pair = single + [{"Sequence": {"id": "B", "type_id": 1}}]
    data["post_processor"] = {
        "type": "Sequence",
        "processors": [
            {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
            {"type": "TemplateProcessing", "single": single, "pair": pair, "special_tokens": special_tokens},
        ],
    }
    return json.dumps(data)


@pytest.mark.parametrize("suffix", [False, True], ids=["bos", "bos-eos"])
def test_a_template_adds_the_reference_special_tokens(llama3_json, suffix):
    pair = pair_of(llama3_with_template(llama3_json, suffix))
    assert pair.ours.engine == "fast", pair.ours.reason
    # The edit took: the reference now adds <|begin_of_text|>.
    assert pair.reference.encode("Hi", add_special_tokens=True).ids[0] == 128000
    texts = list(mixed_texts()) + with_tokens_inline(mixed_texts()[:20], LLAMA3_SPECIAL_TEXTS, seed=2)
    assert_identical(pair, texts, add_special_tokens=True)
    assert_identical(pair, texts, add_special_tokens=False)


CHAT = (
    "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nWhat's 2+2?<|im_end|>\n"
    "<|im_start|>assistant\n<think>\nEasy.\n</think>\n\n4<|im_end|>\n<|endoftext|>"
)
# Added tokens with their neighbours: spaces, a newline, a partial token, a doubled one.
QWEN_TEXTS = [
    CHAT,
    " <think> ",
    "<think><think>",
    "<|im_start|",
    "<|im_start|<|im_end|>",
    "x</think>\n\n",
    '<tool_call>\n{"name": "f"}\n</tool_call>',
    "<|endoftext|> <|endoftext|>",
]


@pytest.mark.parametrize("split_special_tokens", [False, True], ids=["special", "split"])
def test_qwen_special_and_plain_added_tokens_inline(qwen_json, split_special_tokens):
    pair = pair_of(qwen_json, split_special_tokens)
    assert pair.ours.engine == "fast", pair.ours.reason
    texts = QWEN_TEXTS + with_tokens_inline(mixed_texts(), QWEN_TOKEN_TEXTS, seed=3)
    assert_identical(pair, texts)
    assert_identical(pair, texts, add_special_tokens=True)


@pytest.mark.parametrize("split_special_tokens", [False, True], ids=["special", "split"])
def test_gpt2_added_tokens_inline(gpt2_json, split_special_tokens):
    pair = pair_of(gpt2_json, split_special_tokens)
    assert pair.ours.engine == "fast", pair.ours.reason
    texts = with_tokens_inline(mixed_texts(), GPT2_TOKEN_TEXTS + (" <custom> ", "[[link"), seed=4)
    assert_identical(pair, texts)


# --- 2. Hypothesis -----------------------------------------------------------------------------


def case_variants(word: str) -> list:
    return ["".join(letters) for letters in itertools.product(*({c.lower(), c.upper()} for c in word))]


# Every character Python or Unicode calls white space, and some that look like it.
WHITESPACE = [chr(c) for c in range(0x110000) if chr(c).isspace()] + ["\u180e", "\u200b", "\u2060", "\ufeff"]
CONTRACTIONS = [
    quote + variant
    for quote in ("'", "\u2019")
    for suffix in ("s", "t", "re", "ve", "m", "ll", "d")
    for variant in case_variants(suffix)
]
# Characters that case-fold to the letters of the contractions (ſ to s, the ligature ﬅ to
# st, the Kelvin sign to k) or that change length when folded (ß, İ).
FOLDING = ["\u017f", "'\u017f", "'\ufb05", "'\u212a", "'\u00df", "'\u0130", "'\u0131"]
# (weight, pieces): a string is pieces drawn by weight, then uniformly within their group.
TRICKY_PIECES = (
    (4, CONTRACTIONS + FOLDING + ["'", "''", "don't", "DON'T", "rock 'n' roll", "'90s"]),
    (4, WHITESPACE + ["\r\n", "\r\r\n", "\n\n", " \n", "  ", "   ", "\t\t"]),
    (
        2,
        [
            "0",
            "7",
            "12345",
            "\u0663",
            "\u0660\u0661\u0662\u0663",
            "\u0966\u0967",
            "\u09e6",
            "\u0e53",
            "\uff11\uff12",
            "\u00b2",
            "\u00bd",
            "\u216b",
            "\U0001d7d8",
            "\u07c0",
            "1,000.5",
        ],
    ),
    (
        2,
        [
            "\u0301",
            "\u0308",
            "\u0323",
            "\u034f",
            "\u20dd",
            "\u0e31",
            "\u093f",
            "\u05b4",
            "\ufe0f",
            "\U000e0101",
            "e\u0301",
            "\u212b",
            "\u1100\u1161",
        ],
    ),
    (
        2,
        [
            "\U0001f468\u200d\U0001f469\u200d\U0001f467",
            "\U0001f3f3\ufe0f\u200d\U0001f308",
            "\U0001f44d\U0001f3fd",
            "\u2764\ufe0f",
            "\U0001f1ef\U0001f1f5",
            "\u200d",
            "\U0001f9d1\u200d\U0001f4bb",
        ],
    ),
    (2, list(LLAMA3_SPECIAL_TEXTS + QWEN_TOKEN_TEXTS)),
    (2, ["<|", "|>", "<|im_", "im_end|>", "<|eot_id", "_text|>", "<think", "think>", "</", "<", ">", "|"]),
    (1, ["\u0120", "\u0120\u0120", "\u010a", "\u0109", "\u0100"]),
    (
        4,
        [
            "a",
            "A",
            "the",
            " the",
            "Hello",
            "HELLO",
            "McDonald",
            "iPhone",
            "XMLHttp",
            "\u01c4\u01c6",
            "\u00e9",
            "\u00c9",
            "\u00df",
            "\u01c5",
            "\u00aa",
            "\u02b0",
            "\u4e2d\u6587",
            "\ud55c\uad6d\uc5b4",
            "\u0639\u0631\u0628\u064a",
            "\u0939\u093f",
            "\U0001d518\U0001d52b",
            "\u03a9",
        ],
    ),
    (3, list('.,!?-_$@#/\\"()*+=~`^&%;:[]{}') + ["...", "\u20ac", "\u00ab", "\u00bf", "\u2014", "\u2026"]),
    (1, ["\x00", "\x01", "\x7f", "\x85", "\ufffd", "\uffff", "\U0010ffff", "\u00ad", "\U000e0041"]),
)
TRICKY_PIECE = st.one_of(*[st.sampled_from(pieces) for weight, pieces in TRICKY_PIECES for _ in range(weight)])
TRICKY_TEXT = st.lists(TRICKY_PIECE, max_size=30).map("".join)
ANY_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=60)
EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@EXAMPLES
@given(texts=st.lists(ANY_TEXT, min_size=1, max_size=4))
def test_any_text_encodes_as_the_reference(real_pair, texts):
    assert_identical(real_pair, texts)


@EXAMPLES
@given(texts=st.lists(TRICKY_TEXT, min_size=1, max_size=4))
def test_tricky_text_encodes_as_the_reference(real_pair, texts):
    assert_identical(real_pair, texts)


# --- 3. Engine choice --------------------------------------------------------------------------


def split_regex(pattern: str):
    """An edit giving the tokenizer a Split(pattern) + ByteLevel pre-tokenizer."""

    def edit(data):
        data["pre_tokenizer"] = {
            "type": "Sequence",
            "pretokenizers": [
                {"type": "Split", "pattern": {"Regex": pattern}, "behavior": "Isolated", "invert": False},
                {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False},
            ],
        }

    return edit


def edited(tokenizer_json: str, edit) -> str:
    data = json.loads(tokenizer_json)
    edit(data)
    return json.dumps(data)


def llama3_pattern(llama3_json: str) -> str:
    return json.loads(llama3_json)["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"]


def qwen_pattern(llama3_json: str) -> str:
    return llama3_pattern(llama3_json).replace(r"\p{N}{1,3}", r"\p{N}")


def tekken_pattern() -> str:
    """o200k's pattern as Mistral's tekken has it: no contractions, single digits."""
    contraction = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
    return fixtures.O200K_PATTERN.replace(contraction, "").replace(r"\p{N}{1,3}", r"\p{N}")


# The regexes the scanners know (GPT-2's, cl100k's = Llama 3's, Qwen2's, o200k's, tekken's)
# and some they do not.
SPLIT_PATTERNS = {
    "llama3": (llama3_pattern, "fast"),
    "qwen2": (qwen_pattern, "fast"),
    "llama3 with 1-2 digits": (lambda j: llama3_pattern(j).replace(r"\p{N}{1,3}", r"\p{N}{1,2}"), "tokenizers"),
    "o200k": (lambda j: fixtures.O200K_PATTERN, "fast"),
    "tekken": (lambda j: tekken_pattern(), "fast"),
    "o200k with 1-2 digits": (lambda j: fixtures.O200K_PATTERN.replace(r"\p{N}{1,3}", r"\p{N}{1,2}"), "tokenizers"),
    "whitespace": (lambda j: r"\s+", "tokenizers"),
}


@pytest.mark.parametrize("name", SPLIT_PATTERNS)
def test_a_split_regex_is_fast_only_if_a_scanner_models_it(gpt2_json, llama3_json, name):
    make_pattern, engine = SPLIT_PATTERNS[name]
    pair = pair_of(edited(gpt2_json, split_regex(make_pattern(llama3_json))))
    assert pair.ours.engine == engine, pair.ours.reason
    assert (pair.ours.reason is None) == (engine == "fast")
    if engine == "tokenizers":
        assert "regex" in pair.ours.reason
    assert_identical(pair, list(mixed_texts()))


def set_added_token(content: str, **flags):
    def edit(data):
        token = next(t for t in data["added_tokens"] if t["content"] == content)
        token.update(flags)

    return edit


def remove_token(content: str):
    def edit(data):
        del data["model"]["vocab"][content]

    return edit


# Edits of the GPT-2-style JSON the fast engine does not model, and what its reason says.
UNSUPPORTED_EDITS = {
    "ByteLevel add_prefix_space": (lambda d: d["pre_tokenizer"].update(add_prefix_space=True), "add_prefix_space"),
    # Dropout 1.0 drops every merge: the reference's ids stay the same from call to call.
    "BPE dropout": (lambda d: d["model"].update(dropout=1.0), "dropout"),
    "added token lstrip": (set_added_token("<custom>", lstrip=True), "lstrip"),
    "added token rstrip": (set_added_token("<|pad|>", rstrip=True), "rstrip"),
    "added token single_word": (set_added_token("[[link]]", single_word=True), "single_word"),
    "RobertaProcessing": (
        lambda d: d.update(
            post_processor={
                "type": "RobertaProcessing",
                "sep": ["<|endoftext|>", 0],
                "cls": ["<|pad|>", 1],
                "trim_offsets": True,
                "add_prefix_space": False,
            }
        ),
        "RobertaProcessing",
    ),
    "NFKC normalizer": (lambda d: d.update(normalizer={"type": "NFKC"}), "NFKC"),
    "a byte without a token": (remove_token("\u0100"), "byte 0x00"),
}


def unsupported_texts() -> list:
    """Texts that show what each edit changes: added tokens after and before spaces, NUL,
    text that NFKC changes."""
    texts = list(mixed_texts()) + with_tokens_inline(mixed_texts()[:30], GPT2_TOKEN_TEXTS, seed=5)
    return texts + ["a <custom> b", "a  <|pad|>  b", "x [[link]] y", "\x00a\x00", "\ufb01 \u2460 \uff21"]


@pytest.mark.parametrize("name", UNSUPPORTED_EDITS)
def test_an_unmodelled_feature_goes_to_the_tokenizers_engine(gpt2_json, name):
    edit, reason = UNSUPPORTED_EDITS[name]
    tokenizer_json = edited(gpt2_json, edit)
    pair = pair_of(tokenizer_json)
    assert pair.ours.engine == "tokenizers"
    assert reason in pair.ours.reason
    assert_identical(pair, unsupported_texts())
    assert_identical(pair, unsupported_texts(), add_special_tokens=True)
    with pytest.raises(InvalidArgumentError, match=re.escape(pair.ours.reason)):
        Tokenizer.from_str(tokenizer_json, engine="fast")


def bert_wordpiece_json() -> str:
    from tokenizers import Tokenizer as HfTokenizer
    from tokenizers import models, normalizers, pre_tokenizers, processors, trainers

    tokenizer = HfTokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer()
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(vocab_size=500, special_tokens=["[UNK]", "[CLS]", "[SEP]"], show_progress=False)
    tokenizer.train_from_iterator(corpus.mixture(200_000), trainer)
    tokenizer.post_processor = processors.BertProcessing(
        ("[SEP]", tokenizer.token_to_id("[SEP]")), ("[CLS]", tokenizer.token_to_id("[CLS]"))
    )
    return tokenizer.to_str()


def byte_level_wordpiece_json() -> str:
    """A WordPiece model behind the byte-level pre-tokenizer: only the model is not modelled."""
    from tokenizers import Tokenizer as HfTokenizer
    from tokenizers import models, pre_tokenizers, trainers

    tokenizer = HfTokenizer(models.WordPiece(unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.WordPieceTrainer(
        vocab_size=500,
        special_tokens=["[UNK]"],
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(corpus.mixture(200_000), trainer)
    return tokenizer.to_str()


def metaspace_unigram_json() -> str:
    """A SentencePiece-style Unigram model (its unknown characters become <unk>)."""
    from tokenizers import Tokenizer as HfTokenizer
    from tokenizers import models, pre_tokenizers, trainers

    tokenizer = HfTokenizer(models.Unigram())
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace()
    trainer = trainers.UnigramTrainer(vocab_size=400, special_tokens=["<unk>"], unk_token="<unk>", show_progress=False)
    tokenizer.train_from_iterator(corpus.texts("prose", 60_000, seed=6), trainer)
    return tokenizer.to_str()


TRAINED_HERE = {
    "BERT WordPiece": (bert_wordpiece_json, "BertNormalizer"),
    "byte-level WordPiece": (byte_level_wordpiece_json, "WordPiece"),
    "Metaspace Unigram": (metaspace_unigram_json, "Metaspace"),
}


@pytest.mark.parametrize("name", TRAINED_HERE)
def test_other_models_go_to_the_tokenizers_engine(name):
    make_json, reason = TRAINED_HERE[name]
    pair = pair_of(make_json())
    assert pair.ours.engine == "tokenizers"
    assert reason in pair.ours.reason
    assert_identical(pair, list(mixed_texts()))
    assert_identical(pair, list(mixed_texts()), add_special_tokens=True)


def test_engine_tokenizers_on_a_fast_tokenizer(llama3_json):
    pair = pair_of(llama3_json, engine="tokenizers")
    assert pair.ours.engine == "tokenizers"
    assert_identical(pair, list(mixed_texts()) + with_tokens_inline(mixed_texts(), LLAMA3_SPECIAL_TEXTS, seed=7))


def test_an_unknown_engine_is_refused(gpt2_json):
    with pytest.raises(ValueError, match="engine"):
        Tokenizer.from_str(gpt2_json, engine="fastest")


# --- 4. Bad input ------------------------------------------------------------------------------


def reference_refuses(tokenizer_json: str) -> bool:
    from tokenizers import Tokenizer as HfTokenizer

    try:
        HfTokenizer.from_str(tokenizer_json)
    except Exception:
        return True
    return False


@pytest.mark.parametrize("text", ["{not json", "", "[1, 2", "null", '{"not": "a tokenizer"}', '{"model": 3}'])
def test_json_that_is_not_a_tokenizer_is_a_format_error(text):
    assert reference_refuses(text)
    with pytest.raises(FormatError, match="tokenizer JSON: .+"):
        Tokenizer.from_str(text)


def test_a_merge_of_a_token_not_in_the_vocabulary_is_refused(gpt2_json):
    def edit(data):
        data["model"]["merges"][5] = ["\u0120nowhere", "s"]

    tokenizer_json = edited(gpt2_json, edit)
    assert reference_refuses(tokenizer_json)
    with pytest.raises(FormatError, match="nowhere"):
        Tokenizer.from_str(tokenizer_json)


def shift_ids_from(first: int, by: int):
    """An edit leaving the ids first .. first + by - 1 unused (added tokens move too)."""

    def edit(data):
        vocab = data["model"]["vocab"]
        for token, id_ in vocab.items():
            if id_ >= first:
                vocab[token] = id_ + by
        for token in data["added_tokens"]:
            if token["id"] >= first:
                token["id"] += by

    return edit


def share_id(data, token: str, with_token: str):
    data["model"]["vocab"][token] = data["model"]["vocab"][with_token]


def most_common_tokens(pair: Pair, n: int) -> list:
    """The `n` tokens the reference uses most on prose, longest first (merged ones)."""
    counts = {}
    for encoding in pair.reference.encode_batch(corpus_texts("prose")[:20]):
        for token in encoding.tokens:
            counts[token] = counts.get(token, 0) + len(token) - 1
    return sorted(counts, key=counts.get, reverse=True)[:n]


def vocabulary_edits(gpt2: Pair) -> dict:
    first, second = most_common_tokens(gpt2, 2)
    return {
        "holes": shift_ids_from(2000, 1000),
        "two merged tokens share an id": lambda d: share_id(d, second, first),
        "two bytes share an id": lambda d: share_id(d, "b", "a"),
    }


@pytest.mark.parametrize("name", ["holes", "two merged tokens share an id", "two bytes share an id"])
def test_a_vocabulary_with_holes_or_shared_ids_encodes_as_the_reference(gpt2, gpt2_json, name):
    tokenizer_json = edited(gpt2_json, vocabulary_edits(gpt2)[name])
    if reference_refuses(tokenizer_json):
        with pytest.raises(FastAxolotlError):
            Tokenizer.from_str(tokenizer_json)
        return
    pair = pair_of(tokenizer_json)
    texts = corpus_texts("prose")[:40] + list(mixed_texts())
    ids = [e.ids for e in pair.reference.encode_batch(texts)]
    assert ids != [e.ids for e in gpt2.reference.encode_batch(texts)]  # the edit matters
    if name == "holes":
        assert_identical(pair, texts)
    else:
        # Ids only: the reference trims a token's offsets (ByteLevel trim_offsets) by the
        # string its id maps back to, and of two strings sharing an id its hash map keeps
        # either, from one process to the next.
        assert pair.ours.encode_batch(texts, output="python") == ids


@pytest.mark.parametrize(
    "texts, index",
    [
        (["a \ud800 b"], 0),
        (["fine", "also fine", "\udfff"], 2),
        (["fine", "\ud83d\ude00 two halves of a surrogate pair"], 1),
    ],
)
def test_lone_surrogates_are_refused_naming_the_text(llama3, texts, index):
    with pytest.raises(InvalidArgumentError, match=f"text {index}\\b"):
        llama3.ours.encode_batch(texts)


def test_nul_characters_are_text(any_pair):
    texts = ["\x00", "a\x00b", "\x00\x00\x00", " \x00 ", "x\x00<|eot_id|>\x00<|im_end|>\x00<custom>\x00"]
    assert_identical(any_pair, texts)


@pytest.mark.slow
def test_a_20_mb_text(llama3):
    text = "".join(corpus.texts("prose", 20 * 10**6, seed=8))
    ids = llama3.ours.encode_batch([text])
    # Ids only: the reference's offsets on 20 MB take half a minute.
    expected = llama3.reference.encode_batch_fast([text])[0].ids
    assert len(ids) == 1 and len(expected) > 4 * 10**6
    assert np.array_equal(ids.values.to_numpy(), np.asarray(expected, dtype=np.int32))


def test_a_long_text_that_is_not_nfc_under_nfc(qwen):
    """Past 64 KiB such a text is encoded in parts cut at line starts, each on the engine
    that can take it; ids and offsets as the reference's on the whole text. The parts mix
    NFC lines with lines that are not, text before the first cut, and CRLF line ends."""
    lines = corpus.texts("mixed", 3 * 10**6, seed=5)
    text = "\r\n".join(lines[:40]) + "\n" + "\n".join(lines[40:]) + "\n\u0301tail"
    assert not unicodedata.is_normalized("NFC", text)
    ids, offsets = qwen.ours.encode_batch([text], offsets=True)
    expected = qwen.reference.encode(text, add_special_tokens=False)
    assert np.array_equal(ids.values.to_numpy(), np.asarray(expected.ids, dtype=np.int32))
    assert np.array_equal(offsets.values.flatten().to_numpy(), np.asarray(expected.offsets, dtype=np.int64).reshape(-1))


# Run in a fresh interpreter, whose peak RSS (VmHWM) is then this call's. (Not ru_maxrss:
# Linux carries the parent's peak over fork and exec into it.)
EMPTY_TEXTS_PROGRAM = """
import json, sys, time
import numpy as np
import pyarrow as pa
from fast_axolotl import Tokenizer

def status_kib(field):
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith(field + ":"))

tokenizer = Tokenizer.from_file(sys.argv[1])
texts = [""] * 10_000_000
before = status_kib("VmRSS")
start = time.perf_counter()
ids = tokenizer.encode_batch(texts)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "grown": (status_kib("VmHWM") - before) * 1024, "length": len(ids),
                  "list_of_int32": pa.types.is_list(ids.type) and ids.type.value_type == pa.int32(),
                  "values": len(ids.values), "nonzero_offsets": int(np.count_nonzero(ids.offsets.to_numpy())),
                  "nulls": ids.null_count}))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak RSS from /proc")
def test_ten_million_empty_texts(gpt2_json, tmp_path):
    (tmp_path / "tokenizer.json").write_text(gpt2_json, encoding="utf-8")
    result = run([sys.executable, "-c", EMPTY_TEXTS_PROGRAM, str(tmp_path / "tokenizer.json")])
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["length"] == 10_000_000 and out["list_of_int32"]
    assert out["values"] == 0 and out["nonzero_offsets"] == 0 and out["nulls"] == 0
    # Generous bounds (about 230 MB and 2 s are usual): 100 bytes a text, where a Python
    # object per text would take more.
    assert out["grown"] < 10**9, out
    assert out["seconds"] < 30, out


@pytest.mark.parametrize(
    "texts, message",
    [
        (["a", None], "text 1 is a NoneType"),
        (["a", "b", 3], "text 2 is a int"),
        (("a", b"bytes"), "text 1 is a bytes"),
    ],
)
def test_a_text_that_is_not_a_str_is_a_type_error(llama3, texts, message):
    with pytest.raises(TypeError, match=message):
        llama3.ours.encode_batch(texts)


@pytest.mark.parametrize(
    "texts",
    [
        pa.array(["a", "b", None, "d"], pa.string()),
        pa.array(["a", "b", None], pa.large_string()),
        pa.array(["a", "b", None], pa.string_view()),
        pa.array(["x", "a", "b", None]).slice(1),
        pa.chunked_array([["a", "b"], [None, "d"]]),
        pa.chunked_array([["a"], ["b", None]]),
    ],
    ids=["string", "large_string", "string_view", "sliced", "chunked", "chunked-2"],
)
def test_a_null_text_is_an_error_naming_it(llama3, texts):
    with pytest.raises(InvalidArgumentError, match=r"text 2 is null"):
        llama3.ours.encode_batch(texts)


def test_a_null_text_past_the_first_call_is_named_by_its_index(llama3):
    # Empty texts with 8-byte offsets, twice as many bytes as one C call takes: the null,
    # last, is in a later call than the first text.
    n = 2 * tokenizer_module.BYTES_PER_CALL // 8
    valid = np.ones(n, dtype=bool)
    valid[-1] = False
    texts = pa.LargeStringArray.from_buffers(
        n, pa.py_buffer(np.zeros(n + 1, dtype=np.int64)), pa.py_buffer(b""), pa.array(valid).buffers()[1], null_count=1
    )
    with pytest.raises(InvalidArgumentError, match=f"text {n - 1} is null"):
        llama3.ours.encode_batch(texts)


def test_arrow_text_that_is_not_utf8_is_a_format_error(llama3):
    # pyarrow builds an array from buffers without checking them, as a C caller may.
    data = b"ok" + b"fine" + b"ab\xffcd"
    offsets = np.array([0, 2, 6, len(data)], dtype=np.int32)
    texts = pa.StringArray.from_buffers(3, pa.py_buffer(offsets), pa.py_buffer(data))
    with pytest.raises(FormatError, match="UTF8 sequence at string index 2"):
        llama3.ours.encode_batch(texts)


def test_texts_of_another_type_are_a_type_error(llama3):
    for texts in (pa.array([1, 2]), "a string", b"bytes", {"text": "a"}):
        with pytest.raises(TypeError):
            llama3.ours.encode_batch(texts)


# --- 5. API ------------------------------------------------------------------------------------


@functools.cache
def api_texts() -> list:
    return list(mixed_texts()) + ["<|eot_id|>", "  ", "naïve 東京 🎉"]


@pytest.fixture(scope="module")
def expected_ids(llama3) -> list:
    return [e.ids for e in llama3.reference.encode_batch(api_texts(), add_special_tokens=False)]


def datasets_column(texts):
    datasets = pytest.importorskip("datasets")
    return datasets.Dataset.from_dict({"text": texts})["text"]


INPUT_FORMS = {
    "list": list,
    "tuple": tuple,
    "string": lambda texts: pa.array(texts, pa.string()),
    "large_string": lambda texts: pa.array(texts, pa.large_string()),
    "string_view": lambda texts: pa.array(texts, pa.string_view()),
    "sliced": lambda texts: pa.array(["before", *texts, "after"]).slice(1, len(texts)),
    "chunked": lambda texts: pa.chunked_array([texts[:1], [], texts[1:10], texts[10:]], pa.string()),
    "datasets column": datasets_column,
}


@pytest.mark.parametrize("form", INPUT_FORMS)
def test_every_input_form_gives_the_reference_ids(llama3, expected_ids, form):
    texts = INPUT_FORMS[form](api_texts())
    assert llama3.ours.encode_batch(texts).to_pylist() == expected_ids


def test_a_datasets_column_after_select_follows_the_selection(llama3, expected_ids):
    datasets = pytest.importorskip("datasets")
    dataset = datasets.Dataset.from_dict({"text": api_texts()})
    order = random.Random(9).sample(range(len(api_texts())), len(api_texts()) - 2) + [3, 3]
    ids = llama3.ours.encode_batch(dataset.select(order)["text"])
    assert ids.to_pylist() == [expected_ids[i] for i in order]


def test_no_texts(llama3):
    ids, offsets = llama3.ours.encode_batch([], offsets=True)
    assert len(ids) == len(offsets) == 0
    assert is_ids_type(ids.type) and is_offsets_type(offsets.type)
    assert llama3.ours.encode_batch([], output="python") == []
    assert llama3.ours.encode_batch(pa.chunked_array([], pa.string()), output="numpy") == []


def test_the_outputs_agree(llama3, expected_ids):
    texts = api_texts()
    expected_offsets = [e.offsets for e in llama3.reference.encode_batch(texts, add_special_tokens=False)]
    ids, offsets = llama3.ours.encode_batch(texts, offsets=True)
    assert is_ids_type(ids.type) and is_offsets_type(offsets.type)
    assert ids.to_pylist() == expected_ids
    assert [[tuple(p) for p in row] for row in offsets.to_pylist()] == expected_offsets
    assert llama3.ours.encode_batch(texts, offsets=True, output="python") == (expected_ids, expected_offsets)
    id_rows, offset_rows = llama3.ours.encode_batch(texts, offsets=True, output="numpy")
    assert all(row.dtype == np.int32 for row in id_rows) and all(row.dtype == np.int64 for row in offset_rows)
    assert [row.tolist() for row in id_rows] == expected_ids
    assert all(row.shape == (len(row_ids), 2) for row, row_ids in zip(offset_rows, expected_ids))
    assert [[tuple(p) for p in row.tolist()] for row in offset_rows] == expected_offsets
    assert [row.tolist() for row in llama3.ours.encode_batch(texts, output="numpy")] == expected_ids
    assert [llama3.ours.encode(text) for text in texts] == expected_ids


def test_an_unknown_output_is_refused(llama3):
    with pytest.raises(ValueError, match="output"):
        llama3.ours.encode_batch(["a"], output="torch")


def test_one_thread_gives_what_all_cores_give(llama3):
    texts = corpus_texts("prose") + corpus_texts("code")  # many tasks of 64 KB
    many, many_offsets = llama3.ours.encode_batch(texts, offsets=True)
    one, one_offsets = llama3.ours.encode_batch(texts, offsets=True, num_threads=1)
    assert one.equals(many) and one_offsets.equals(many_offsets)


def test_from_transformers_gives_the_transformers_ids(llama3_tokenizer):
    ours = Tokenizer.from_transformers(llama3_tokenizer)
    assert ours.engine == "fast"
    texts = api_texts()
    plain = llama3_tokenizer(texts, add_special_tokens=False, return_offsets_mapping=True)
    assert ours.encode_batch(texts, offsets=True, output="python") == (plain["input_ids"], plain["offset_mapping"])
    assert ours.encode_batch(texts, output="python") == [
        llama3_tokenizer.encode(t, add_special_tokens=False) for t in texts
    ]
    assert ours.encode_batch(texts, add_special_tokens=True, output="python") == llama3_tokenizer(texts)["input_ids"]


def test_from_transformers_keeps_split_special_tokens():
    from transformers import PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast(
        tokenizer_file=str(fixtures.llama3_tokenizer_file()), split_special_tokens=True, **fixtures.LLAMA3_SPECIALS
    )
    texts = with_tokens_inline(api_texts()[:20], LLAMA3_SPECIAL_TEXTS, seed=10)
    expected = tokenizer(texts, add_special_tokens=False)["input_ids"]
    assert 128009 not in itertools.chain(*expected)  # <|eot_id|> really is split
    assert Tokenizer.from_transformers(tokenizer).encode_batch(texts, output="python") == expected


def test_from_transformers_needs_a_fast_tokenizer():
    with pytest.raises(TypeError, match="fast tokenizer"):
        Tokenizer.from_transformers("meta-llama/Meta-Llama-3-8B")


def test_concurrent_python_threads_get_the_sequential_results(llama3):
    parts = [corpus_texts(kind)[:30] for kind in corpus.KINDS[:8]]
    sequential = [llama3.ours.encode_batch(part, offsets=True) for part in parts]
    start = threading.Barrier(len(parts))

    def encode(part):
        start.wait()
        return llama3.ours.encode_batch(part, offsets=True)

    with ThreadPoolExecutor(len(parts)) as pool:
        concurrent = list(pool.map(encode, parts))
    for (ids, offsets), (ids_seq, offsets_seq) in zip(concurrent, sequential):
        assert ids.equals(ids_seq) and offsets.equals(offsets_seq)


# --- 6. From C ---------------------------------------------------------------------------------

# One text a line for the C program: none holds a line break.
C_TEXTS = [
    "Hello world",
    "",
    "naïve 東京 🎉 it's",
    "<|eot_id|>x<|im_end|><custom>",
    " trailing  ",
    "a\tb\rc",
    "\u0663\u0664 12345 \u00bd",
    "e\u0301 \U0001f468\u200d\U0001f469\u200d\U0001f467",
    "a\x00b",
]


@pytest.fixture(scope="module")
def c_program(tmp_path_factory) -> Path:
    exe = tmp_path_factory.mktemp("c") / "test_tokenizer"
    return compile_c(REPO / "tests" / "c" / "test_tokenizer.c", exe, required=True)


def expected_c_lines(ids: list, offsets: list) -> list:
    """What the C program prints for these ids and offsets."""
    plain = [f"ids {row}:" + "".join(f" {i}" for i in row_ids) for row, row_ids in enumerate(ids)]
    spans = [
        f"spans {row}:" + "".join(f" {i}" for i in row_ids) + " |" + "".join(f" {a}:{b}" for a, b in row_offsets)
        for row, (row_ids, row_offsets) in enumerate(zip(ids, offsets))
    ]
    return plain + spans


def test_c_program_encodes_like_the_python_binding(c_program, any_pair, tmp_path):
    (tmp_path / "tokenizer.json").write_text(any_pair.json, encoding="utf-8")
    (tmp_path / "texts.txt").write_bytes("".join(text + "\n" for text in C_TEXTS).encode())
    result = run([str(c_program), str(tmp_path / "tokenizer.json"), str(tmp_path / "texts.txt")])
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "all tokenizer C ABI checks passed"
    ids, offsets = any_pair.ours.encode_batch(C_TEXTS, offsets=True, output="python")
    assert lines[:-1] == expected_c_lines(ids, offsets)
    assert_identical(any_pair, C_TEXTS)


def test_a_pickled_tokenizer_is_the_same_tokenizer(llama3_json):
    """Pickling (multiprocessing, Ray, datasets.map workers) sends the JSON and the options."""
    import pickle

    original = Tokenizer.from_str(llama3_json, split_special_tokens=True, engine="tokenizers")
    copy = pickle.loads(pickle.dumps(original))
    assert (copy.engine, copy.split_special_tokens, copy.to_str()) == ("tokenizers", True, llama3_json)
    texts = ["<|begin_of_text|>Hello, world!", "x" * 100]
    assert copy.encode_batch(texts, output="python") == original.encode_batch(texts, output="python")
