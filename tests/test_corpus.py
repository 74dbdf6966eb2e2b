"""fast_axolotl/bench/corpus.py, the generated text for the tokenizer checks and benchmarks: the same
documents for the same arguments, the sizes asked for, and in each kind (1 MB of it) the
characters and forms it is there for."""

from __future__ import annotations

import itertools
import re
import sys
import sysconfig
import unicodedata
from pathlib import Path

import pytest
from conftest import run

from fast_axolotl.bench import corpus

MB = 10**6
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
ZERO_WIDTH = "\u200b\u200c\u200d\ufeff"
# What each kind must contain somewhere in 1 MB (regular expressions, ^ and $ at line ends).
CONTENTS = {
    "code": [r"^import \w+$", r"^def \w+\(", r"^class \w+"],
    "prose": [
        r"[A-Z]'(S|T|RE|VE|M|LL|D)\b",
        r"[a-z]'(s|t|re|ve|m|ll|d)\b",
        r"\w\u2019\w",
        "[\u201c\u201d]",
        r"https?://[\w./]+",
        r"\w@\w+\.\w",
        r"\(\w",
        r"\d{4}-\d\d-\d\d",
        r"\d,\d{3},\d{3}",
        r"\. [A-Z]",
    ],
    "json": [
        r'^\{"',
        r'^ {2}"\w',
        r'^ {4}"\w',
        r'\\"',
        r"\\n",
        r"\\u00e9",
        r"\btrue\b",
        r"\bnull\b",
        r"\\ud[89ab][0-9a-f]{2}\\ud[c-f][0-9a-f]{2}",  # astral characters escaped as surrogate pairs
        r"[\u4e00-\u9fff]",
        r"\d\.\d+e-\d+",
    ],
    "cjk": [
        "\u3002",
        "\u3001",
        "\u300c",
        "\u300d",
        r"[\u4e00-\u9fff]{3}",
        r"[\u3041-\u3096]",
        r"[\u30a1-\u30fa]",
        r"[\uac00-\ud7a3]+ [\uac00-\ud7a3]+",
        r"[\uff01-\uff5e]",
        r"[A-Za-z]{3}",
        r"\d",
    ],
    "arabic": [
        r"[\u0621-\u064a]{3}",
        r"[\u0621-\u064a][\u064b-\u0652]",
        r"[\u0660-\u0669]",
        r"[\u06f0-\u06f9]",
        "\u200f",
        r"[A-Za-z]{3}",
        "\u061f",
    ],
    "devanagari": [
        r"[\u0915-\u0939][\u093e-\u094c]",
        r"[\u0915-\u0939]\u094d[\u0915-\u0939]",
        "\u093c",
        r"[\u0966-\u096f]{2}",
        "\u0964",
        "\u0965",
    ],
    "emoji": [
        "\u200d",
        "\ufe0f",
        "\ufe0e",
        r"[\U0001f3fb-\U0001f3ff]",
        r"[\U0001f1e6-\U0001f1ff]{2}",
        "\ufe0f\u20e3",
        "\U000e0067\U000e0062",
        r"[a-z] ?[\U0001f300-\U0001faff]",
        "\U0001f469\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466",
        "\U0001f3f3\ufe0f\u200d\U0001f308",
    ],
    "combining": [
        r"[a-z][\u0300-\u036f]",
        r"\w[\u0300-\u036f\u0483-\u0489\u1ab0-\u1abe\u1dc0-\u1dff\u20d0-\u20f0]{10}",
        "Vi\u1ec7t",
        unicodedata.normalize("NFD", "Vi\u1ec7t"),
        "\u0336",
        r"(^| )[\u0300-\u036f]",
    ],
    "whitespace": ["\r\n", "[ \t]\n", "\n(    |\t)\\w", *WHITESPACE, *ZERO_WIDTH],
    "digits": [
        r"\d{20}",
        r"[\u0660-\u0669]",
        r"[\u0966-\u096f]",
        r"[\u0e50-\u0e59]",
        r"[\uff10-\uff19]",
        r"[\U0001d7ce-\U0001d7d7]",
        "\u00b2",
        "\u00bd",
        "\u216b",
        r"\d\.\d",
        r"\d,\d{3},\d{3}",
        r"\d{4}-\d\d-\d\d",
        r"v\d+\.\d+\.\d+",
        r"[a-z]\d",
    ],
    "nfc": [
        "\u212b",
        "\u2126",
        r"[\u1100-\u1112][\u1161-\u1175]",
        r"[a-z]\u0301\u0323",
        unicodedata.normalize("NFD", "caf\u00e9"),
        "caf\u00e9",
    ],
    "mixed": [
        "\x00",
        r"[\x80-\x9f]",
        r"[\U00010000-\U0010ffff]",
        r"[\U00030000-\U000dffff]",
        "\ufffe",
        r"[\ue000-\uf8ff]",
        "\u200b",
    ],
}


@pytest.fixture(scope="module")
def megabyte() -> dict[str, list[str]]:
    return {kind: corpus.texts(kind, MB) for kind in corpus.KINDS}


def utf8_sizes(docs: list[str]) -> list[int]:
    return [len(doc.encode()) for doc in docs]


def test_every_kind_is_checked():
    assert set(CONTENTS) == set(corpus.KINDS)


@pytest.mark.parametrize("kind", corpus.KINDS)
def test_same_arguments_same_documents(kind):
    docs = corpus.texts(kind, 50_000, seed=7)
    assert docs == corpus.texts(kind, 50_000, seed=7)
    assert docs != corpus.texts(kind, 50_000, seed=8)


@pytest.mark.parametrize("kind", corpus.KINDS)
def test_sizes(megabyte, kind):
    sizes = utf8_sizes(megabyte[kind])
    assert sum(sizes) >= MB > sum(sizes) - sizes[-1]  # the last document crosses the line
    assert max(sizes) <= corpus.MAX_DOCUMENT_BYTES
    if kind != "code":  # documents of drawn sizes, not files
        assert 0 in sizes and any(len(doc) == 1 for doc in megabyte[kind])
        assert sum(200 <= size <= 8192 for size in sizes) > len(sizes) / 2


def test_unknown_kind():
    with pytest.raises(ValueError, match="poetry"):
        corpus.texts("poetry", 10)


def test_mixture_takes_every_kind_in_turn():
    docs = corpus.mixture(300_000, seed=3)
    sizes = utf8_sizes(docs)
    assert sum(sizes) >= 300_000 > sum(sizes) - sizes[-1]
    assert len(docs) > 2 * len(corpus.KINDS)
    for position, kind in enumerate(corpus.KINDS):
        own = docs[position :: len(corpus.KINDS)]
        assert own == list(itertools.islice(corpus.documents(kind, seed=3), len(own)))


@pytest.mark.parametrize("kind", corpus.KINDS)
def test_kind_contains_what_it_claims(megabyte, kind):
    text = "".join(megabyte[kind])
    text.encode("utf-8")  # no surrogates
    assert corpus.SEPARATOR not in text
    missing = [pattern for pattern in CONTENTS[kind] if not re.search(pattern, text, re.MULTILINE)]
    assert not missing


def test_whitespace_documents_start_and_end_with_whitespace(megabyte):
    docs = [doc for doc in megabyte["whitespace"] if doc]
    assert any(doc[0].isspace() for doc in docs) and any(doc[-1].isspace() for doc in docs)


def test_nfc_documents_are_not_nfc(megabyte):
    docs = [doc for doc in megabyte["nfc"] if len(doc) > 100]
    changed = sum(unicodedata.normalize("NFC", doc) != doc for doc in docs)
    assert changed > 0.9 * len(docs)


def test_mixed_documents_can_start_with_a_combining_mark(megabyte):
    assert any(unicodedata.category(doc[0]).startswith("M") for doc in megabyte["mixed"] if doc)


def test_code_documents_are_standard_library_files(megabyte):
    data = max(megabyte["code"], key=len).encode()
    root = Path(sysconfig.get_paths()["stdlib"])
    files = root.rglob("*.py")
    assert any(path.stat().st_size == len(data) and path.read_bytes() == data for path in files)


def test_command_line_writes_documents_by_kind(tmp_path):
    result = run(
        [
            sys.executable,
            "-m",
            "fast_axolotl.bench.corpus",
            "--mb",
            "0.02",
            "--seed",
            "4",
            "--kinds",
            "prose",
            "mixed",
            "--write",
            str(tmp_path),
        ],
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "prose" in result.stdout and "MB/s" in result.stdout
    for kind in ("prose", "mixed"):
        written = (tmp_path / f"{kind}.txt").read_bytes().decode("utf-8").split(corpus.SEPARATOR)
        assert written == corpus.texts(kind, 20_000, seed=4)
