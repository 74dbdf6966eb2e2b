"""The real tokenizers of `fast_axolotl.bench.real_tokenizers` as session-scoped pytest
fixtures (`llama3_tokenizer`, `qwen_tokenizer_file`, `qwen_tokenizer`), the tiny byte-level
BPE of `axolotl_data.build_tokenizer` (`small_tokenizer`), and `share_native_tokenizers`."""

from __future__ import annotations

from pathlib import Path

import pytest

from fast_axolotl.bench.real_tokenizers import build_qwen_tokenizer_json, load_llama3_tokenizer, load_qwen_tokenizer


@pytest.fixture(scope="session")
def llama3_tokenizer():
    return load_llama3_tokenizer()


@pytest.fixture(scope="session")
def qwen_tokenizer_file(tmp_path_factory) -> Path:
    return build_qwen_tokenizer_json(tmp_path_factory.mktemp("qwen-tokenizer") / "tokenizer.json")


@pytest.fixture(scope="session")
def qwen_tokenizer(qwen_tokenizer_file):
    return load_qwen_tokenizer(qwen_tokenizer_file)


@pytest.fixture(scope="session")
def small_tokenizer():
    from fast_axolotl.bench.axolotl_data import build_tokenizer

    return build_tokenizer()


_NATIVE, _EXPORTED = {}, {}


def share_native_tokenizers(mp: pytest.MonkeyPatch) -> None:
    """Makes each tokenizer exported and loaded into Rust once per test session instead of
    once per compiled strategy (a Llama 3 or Qwen tokenizer takes about a second): only
    speed is at stake, the JSON is still exported and loaded by the code under test, once
    per tokenizer object (which the cache holds, so ids stay unique)."""
    from fast_axolotl import tokenize as fa_tokenize
    from fast_axolotl.axolotl import tokenization as fa_tokenization

    make_native, export = fa_tokenize.Tokenizer, fa_tokenization.tokenizer_json

    def cached_native(text, split_special_tokens=False):
        key = (text, bool(split_special_tokens))
        if key not in _NATIVE:
            _NATIVE[key] = make_native(text, split_special_tokens=split_special_tokens)
        return _NATIVE[key]

    def cached_export(tokenizer):
        key = id(tokenizer)
        if key not in _EXPORTED:
            _EXPORTED[key] = (tokenizer, export(tokenizer))
        return _EXPORTED[key][1]

    mp.setattr(fa_tokenize, "Tokenizer", cached_native)
    mp.setattr(fa_tokenization, "tokenizer_json", cached_export)
