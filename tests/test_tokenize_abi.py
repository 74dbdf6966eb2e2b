"""The tokenization C ABI from C alone (tests/c/test_tokenize.c): a tokenizer handle, a
strategy from a JSON plan, rows in as an Arrow C stream made by hand, Arrow arrays out; the
rows it prints equal what the Python binding gives for the same rows, and bad input is a
status code with a message."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pyarrow as pa
import pytest

from fast_axolotl import _native
from fast_axolotl.tokenize import PromptStrategy, chat_template_plan

pytest.importorskip("transformers")
from fast_axolotl.bench import axolotl_data as fixtures

REPO = Path(__file__).resolve().parent.parent


def conversations(n: int) -> list:
    rows = fixtures.chat_rows(n, seed=3, repeat=0.0)
    rows.append({"messages": [{"role": "user", "content": "naïve 東京 🎉"}, {"role": "assistant", "content": ""}]})
    return [json.dumps(row["messages"], ensure_ascii=False) for row in rows]


def python_lines(strategy: PromptStrategy, messages: list) -> list:
    out = strategy.tokenize(pa.table({"messages": messages}))
    lines = []
    for row in out.to_pylist():
        fields = [
            str(row["row"]),
            str(row["status"]),
            *map(str, row["input_ids"]),
            "|",
            *map(str, row["labels"]),
            "|",
            *map(str, row["attention_mask"]),
        ]
        lines.append(" ".join(fields))
    return lines


def test_c_program_tokenizes_like_the_python_binding(tmp_path):
    cc = shutil.which("cc")
    assert cc, "a C compiler (cc) is needed"
    lib = _native.library_path()
    exe = tmp_path / "test_tokenize"
    compiled = subprocess.run(
        [
            cc,
            "-std=c99",
            "-Wall",
            "-Werror",
            "-I",
            str(REPO / "include"),
            str(REPO / "tests" / "c" / "test_tokenize.c"),
            str(lib),
            f"-Wl,-rpath,{lib.parent}",
            "-o",
            str(exe),
        ],
        capture_output=True,
        text=True,
    )
    assert compiled.returncode == 0, compiled.stderr
    tokenizer = fixtures.build_tokenizer()
    tokenizer_json = tokenizer.backend_tokenizer.to_str()
    plan = chat_template_plan(
        fixtures.CHAT_TEMPLATE,
        special_tokens=dict(tokenizer.special_tokens_map),
        eos_token_id=tokenizer.eos_token_id,
        message_variables=[],
    )
    messages = conversations(40)
    (tmp_path / "tokenizer.json").write_text(tokenizer_json, encoding="utf-8")
    (tmp_path / "plan.json").write_text(json.dumps(plan), encoding="utf-8")
    (tmp_path / "messages.txt").write_text("".join(m + "\n" for m in messages), encoding="utf-8")
    result = subprocess.run(
        [str(exe), *(str(tmp_path / name) for name in ("tokenizer.json", "plan.json", "messages.txt"))],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "all tokenization C ABI checks passed"
    expected = python_lines(PromptStrategy(tokenizer_json, plan), messages)
    assert lines[:-1] == expected
    assert len(expected) == len(messages) and all(line.split()[1] == "0" for line in expected)
    # The rows are really tokenized: ids, some trained labels, a mask of ones.
    assert any(" -100 " in line and line.count("|") == 2 for line in expected)
