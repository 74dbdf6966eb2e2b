"""The documentation runs: every ```python block of README.md and docs/*.md is executed, and
every `fast-axolotl ...` command and `python -m fast_axolotl.bench....` script the docs name exists.

A python block runs in a fresh namespace, with a temporary directory as the working directory
that holds the input files the docs name (`data.jsonl`, `shards/`, `tokenizer.json`, ...: see
`snippet_workdir`). A block is left out only by a marker on the line just above it:
`<!-- not run: REASON -->` (reported as a skip with the reason), or `<!-- run by tests/X.py -->`
(also "compiled and run by", "built and run by") when another test runs it, which
`test_blocks_run_elsewhere_are_run_there` checks. A block that imports Axolotl, torch,
transformers or TRL is in the axolotl tier, one that imports Ray in the ray tier.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# Documents whose shell commands are checked (BENCHMARK.md has no python blocks).
COMMAND_DOCS = [*DOCS, REPO / "BENCHMARK.md"]

MARKER = re.compile(r"<!--\s*(.*?)\s*-->")
RUN_ELSEWHERE = re.compile(r"^(?:compiled and |built and )?run by (tests/\S+\.py)$")
NOT_RUN = re.compile(r"^not run:\s*(\S.*)$")
# The imports that put a block in a slower tier (the tiers of tests/conftest.py).
TIER_IMPORTS = {
    "ray": re.compile(r"^\s*(?:import|from)\s+(?:ray\b|fast_axolotl\.ray\b)", re.M),
    "axolotl": re.compile(
        r"^\s*(?:import|from)\s+(?:axolotl|torch|transformers|trl|fast_axolotl\.(?:torch|trl))\b", re.M
    ),
}


@dataclass(frozen=True)
class Block:
    doc: Path
    line: int  # of the opening fence, 1-based
    language: str
    code: str
    marker: str | None  # the HTML comment on the line just above the fence (blank lines skipped)

    @property
    def name(self) -> str:
        return f"{self.doc.relative_to(REPO)}:{self.line}"


def fenced_blocks(doc: Path) -> list[Block]:
    lines = doc.read_text().splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        fence = re.match(r"^```(\S*)\s*$", lines[i])
        if fence is None:
            i += 1
            continue
        start = i
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        above = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        marker = MARKER.fullmatch(above.strip())
        blocks.append(
            Block(
                doc,
                start + 1,
                fence.group(1),
                "\n".join(lines[start + 1 : end]) + "\n",
                marker.group(1) if marker else None,
            )
        )
        i = end + 1
    return blocks


PYTHON_BLOCKS = [b for doc in DOCS for b in fenced_blocks(doc) if b.language == "python"]
TO_RUN = [b for b in PYTHON_BLOCKS if b.marker is None or NOT_RUN.match(b.marker)]
RUN_ELSEWHERE_BLOCKS = [b for b in PYTHON_BLOCKS if b.marker and RUN_ELSEWHERE.match(b.marker)]


def test_every_python_block_is_accounted_for():
    # Found 0 blocks: the parser broke, not the docs.
    assert len(PYTHON_BLOCKS) >= 10
    unknown = [(b.name, b.marker) for b in PYTHON_BLOCKS if b not in TO_RUN and b not in RUN_ELSEWHERE_BLOCKS]
    assert not unknown, f"markers that neither opt out with a reason nor name a test: {unknown}"


def tier_marks(block: Block) -> list:
    return [getattr(pytest.mark, tier) for tier, pattern in TIER_IMPORTS.items() if pattern.search(block.code)][:1]


@pytest.fixture
def snippet_workdir(request, tmp_path, monkeypatch):
    """A working directory with the inputs the docs' examples read, by the names they use.
    `shards/` holds token rows (reader.md projects `input_ids`), but raw text for
    scale-out.md, whose pipeline tokenizes it."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import zstandard

    texts = [f"row {i}: the {i % 9} quick foxes jump over {i % 7} lazy dogs" for i in range(60)]
    rows = [{"text": t, "input_ids": [i % 50 + 1] * (i % 13 + 1)} for i, t in enumerate(texts)]
    jsonl = "".join(json.dumps(r) + "\n" for r in rows)
    (tmp_path / "data.jsonl").write_text(jsonl)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.jsonl.zst").write_bytes(zstandard.ZstdCompressor().compress(jsonl.encode()))
    table = pa.Table.from_pylist(rows)
    pq.write_table(table, tmp_path / "data.parquet")
    (tmp_path / "shards").mkdir()
    if request.node.callspec.params["block"].doc.name == "scale-out.md":
        table = table.select(["text"])
    for k in range(3):
        pq.write_table(table.slice(k * 20, 20), tmp_path / "shards" / f"part-{k}.parquet")
    (tmp_path / "tokenizer.json").write_text(_bpe_tokenizer_json(texts))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _bpe_tokenizer_json(texts) -> str:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer, bpe.decoder = pre_tokenizers.ByteLevel(), decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=300, special_tokens=["<s>", "</s>"], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    bpe.train_from_iterator(texts, trainer)
    return bpe.to_str()


@pytest.mark.parametrize("block", [pytest.param(b, id=b.name, marks=tier_marks(b)) for b in TO_RUN])
def test_python_block_runs(block, snippet_workdir):
    opt_out = NOT_RUN.match(block.marker or "")
    if opt_out:
        pytest.skip(f"{block.name} not run: {opt_out.group(1)}")
    code = compile(block.code, str(block.name), "exec")
    try:
        exec(code, {"__name__": "__doc_example__"})
    finally:
        _stop_ray()


def _stop_ray():
    """A block that starts Ray (docs/scale-out.md) leaves it running in this process, where the
    next Ray test's own ray.init would fail."""
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        ray.shutdown()


@pytest.mark.parametrize("block", [pytest.param(b, id=b.name) for b in RUN_ELSEWHERE_BLOCKS])
def test_blocks_run_elsewhere_are_run_there(block):
    """A block marked "run by tests/X.py" is run by that test module: it exists, and reads the
    document the block is in."""
    (test_file,) = RUN_ELSEWHERE.match(block.marker).groups()
    source = (REPO / test_file).read_text()
    assert block.doc.name in source, f"{test_file} does not read {block.doc.name}"
    assert block.marker in source, f"{test_file} does not look for the marker {block.marker!r}"


# --- shell commands ---------------------------------------------------------------------------


def shell_lines(doc: Path):
    """The command lines of the shell blocks and the `inline code` spans of a document."""
    for block in fenced_blocks(doc):
        if block.language in ("bash", "sh", "shell", "console"):
            for offset, line in enumerate(block.code.splitlines(), 1):
                yield block.line + offset, line.split("#", 1)[0]
    text = doc.read_text()
    # Inline spans may wrap to the next line: join the lines, then count lines back.
    prose = re.sub(r"(?ms)^```.*?^```", lambda m: "\n" * m.group(0).count("\n"), text)
    for span in re.finditer(r"`([^`]+)`", prose):
        yield prose[: span.start()].count("\n") + 1, span.group(1).replace("\n", " ")


def cli_commands():
    for doc in COMMAND_DOCS:
        for line, text in shell_lines(doc):
            for match in re.finditer(r"(?:^|[\s;&|(])fast-axolotl\s+([a-z][\w|-]*)(.*)", text):
                yield pytest.param(match.group(1), match.group(2), id=f"{doc.relative_to(REPO)}:{line}")


def bench_scripts():
    for doc in COMMAND_DOCS:
        for line, text in shell_lines(doc):
            for match in re.finditer(r"python3?\s+-m\s+(fast_axolotl\.bench\.\w+)", text):
                yield pytest.param(match.group(1), id=f"{doc.relative_to(REPO)}:{line}")


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    (action,) = (a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize(("subcommands", "rest"), list(cli_commands()))
def test_cli_command_in_docs_exists(subcommands, rest):
    from fast_axolotl.cli import build_parser

    parsers = _subcommands(build_parser())
    for name in subcommands.split("|"):  # `fast-axolotl dedupe|pack ...`
        assert name in parsers, f"`fast-axolotl {name}` is not a subcommand ({sorted(parsers)})"
        options = parsers[name]._option_string_actions
        try:
            words = shlex.split(rest)
        except ValueError:
            words = rest.split()
        for word in words:
            flag = re.match(r"^\[?(--?[a-z][\w-]*)", word)
            if flag:
                assert flag.group(1) in options, f"`fast-axolotl {name}` has no option {flag.group(1)}"


def test_cli_commands_are_found():
    assert {p.values[0] for p in cli_commands()} >= {"info", "dedupe", "pack", "bench"}


@pytest.mark.parametrize("script", list(bench_scripts()))
def test_bench_script_in_docs_exists(script):
    assert importlib.util.find_spec(script) is not None, f"{script} does not exist"


def test_bench_scripts_are_found():
    assert len(list(bench_scripts())) >= 5
    assert importlib.util.find_spec("fast_axolotl.bench.no_such_script") is None
