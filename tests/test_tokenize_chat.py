"""Oracle tests of the Rust `chat_template` strategy: Axolotl 0.19.0's own
`ChatTemplateStrategy` is the reference, row for row.

The strategy is built exactly as Axolotl builds it (`StrategyLoader()(tokenizer,
DictDefault(cfg), ds_cfg)`); the oracle for a row is `strategy.tokenize_prompt` on a one-row
batch of that row as Arrow gives it (`datasets` hands the map the same Python values); ours is
`compile_strategy(strategy).tokenize(table)`. For every row: where Axolotl raises, ours must
leave the row to Axolotl (status 1: the patch then runs Axolotl, which raises the same); else
ours must be done (status 0) with the same `input_ids`, `labels` and `attention_mask`.

Covered: the 36 named templates Axolotl ships, each with a real tokenizer (Llama 3, Qwen2.5/3)
or the tests' small one, over a corpus of conversations (system prompts, multi-turn, tools and
tool calls with dict and JSON-string arguments, tool messages, reasoning, unicode, empty and
whitespace-only content, system columns, list content, JSON-string messages); every strategy
option; the token-diff fallback; generated conversations; and bad input through the standalone
API, which must raise a `FastAxolotlError` naming the row, never crash.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os

import pytest

pytest.importorskip("axolotl.prompt_strategies.chat_template")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pyarrow as pa
from axolotl.prompt_strategies.chat_template import StrategyLoader
from axolotl.utils.chat_templates.base import _CHAT_TEMPLATES
from axolotl.utils.dict import DictDefault
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tokenizer_fixtures import share_native_tokenizers

import fast_axolotl
from fast_axolotl.axolotl.tokenization import compile_strategy
from fast_axolotl.bench.real_tokenizers import named
from fast_axolotl.tokenize import PromptStrategy, chat_template_plan, tokenize_dataset

COLUMNS = ("input_ids", "labels", "attention_mask")


@pytest.fixture(autouse=True, scope="module")
def _share_native_tokenizers():
    mp = pytest.MonkeyPatch()
    share_native_tokenizers(mp)
    yield
    mp.undo()


# ---- the comparison -------------------------------------------------------------------------


def build_strategy(tokenizer, chat_template: str, ds: dict | None = None, **cfg):
    """Axolotl's strategy for a `chat_template` dataset, as `prompt_strategies.load` makes it."""
    config = DictDefault({"train_on_inputs": False, "sequence_len": 4096, "chat_template": chat_template, **cfg})
    return StrategyLoader()(tokenizer, config, {"type": "chat_template", **(ds or {})})


def tables_of(rows: list) -> list:
    """One table of the rows when Arrow unifies their types, else a table per row."""
    try:
        return [pa.Table.from_pylist(rows)]
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return [pa.Table.from_pylist([row]) for row in rows]


def oracle(strategy, row: dict):
    """Axolotl's result for one row (a one-row batch), or the exception it raises."""
    try:
        result = strategy.tokenize_prompt({col: [value] for col, value in row.items()})
    except Exception as error:  # the outcome is compared
        return error
    return {k: [int(v) for v in result[k][0]] for k in COLUMNS}


class Stats:
    def __init__(self):
        self.rows = 0
        self.equal = 0
        self.raised = 0


STATS = Stats()
PER_TEST: dict = {}


@pytest.fixture(autouse=True)
def _count_rows(request):
    """Records how many rows each test compared (the summary test prints them)."""
    before = (STATS.rows, STATS.equal, STATS.raised)
    yield
    delta = (STATS.rows - before[0], STATS.equal - before[1], STATS.raised - before[2])
    if delta[0]:
        PER_TEST[request.node.name] = delta


def compare(strategy, data) -> int:
    """Compares every row of `data` (rows, or groups of rows that share a table); returns the
    number of rows compared. Fails with the first differences found."""
    groups = data if data and isinstance(data[0], list) else [data]
    compiled = compile_strategy(strategy)
    problems = []
    count = 0
    for table in [table for group in groups for table in tables_of(group)]:
        if len(problems) >= 3:
            break
        out = compiled.tokenize(table)
        assert out.num_rows == table.num_rows
        status = out.column("status").to_pylist()
        messages = out.column("message").to_pylist()
        for i, row in enumerate(table.to_pylist()):
            count += 1
            STATS.rows += 1
            want = oracle(strategy, copy.deepcopy(row))
            if isinstance(want, Exception):
                STATS.raised += 1
                if status[i] != 1:
                    problems.append(f"Axolotl raised {want!r} but ours gave status {status[i]} for {row!r}")
                continue
            if status[i] != 0:
                problems.append(f"ours left the row to Axolotl ({messages[i]}) but Axolotl tokenized {row!r}")
                continue
            got = {k: out.column(k)[i].as_py() for k in COLUMNS}
            if got != want:
                problems.append(describe(strategy, row, want, got))
            else:
                STATS.equal += 1
    assert not problems, "\n\n".join(problems[:3])
    return count


def describe(strategy, row, want, got) -> str:
    tokenizer = strategy.tokenizer
    lines = [f"MISMATCH for {row!r}"]
    for key in COLUMNS:
        if want[key] != got[key]:
            at = next(
                (i for i, (a, b) in enumerate(zip(want[key], got[key])) if a != b), min(len(want[key]), len(got[key]))
            )
            lines.append(f"  {key} differ at {at} (len {len(want[key])} vs {len(got[key])})")
    ids = want["input_ids"]
    lines.append("  axolotl trained: " + repr(tokenizer.decode([t for t in want["labels"] if t != -100])))
    lines.append("  ours trained:    " + repr(tokenizer.decode([t for t in got["labels"] if t != -100 and t >= 0])))
    lines.append("  text: " + repr(tokenizer.decode(ids))[:2000])
    return "\n".join(lines)


@contextlib.contextmanager
def count_token_diff_fallbacks(strategy):
    """Counts the turns Axolotl locates with its token-diff fallback (its char locator gave
    None, or there was no locator)."""
    counter = {"turns": 0}
    original = strategy._find_turn_from_tokens

    def wrapped(*args, **kwargs):
        counter["turns"] += 1
        return original(*args, **kwargs)

    strategy._find_turn_from_tokens = wrapped
    try:
        yield counter
    finally:
        del strategy._find_turn_from_tokens


# ---- the corpus ---------------------------------------------------------------------------------

U, A, S, T = "user", "assistant", "system", "tool"


def msg(role, content, **extra):
    return {"role": role, "content": content, **extra}


def call(name, arguments, call_id="call00001"):  # Mistral wants 9 alphanumerics
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the weather for a city. Units: \"c\" or 'f' <b>&amp;</b>",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. 東京"},
                "unit": {"type": "string", "enum": ["c", "f"], "description": "Unit"},
                "days": {"type": "integer", "description": "Days ahead"},
            },
            "required": ["city"],
        },
    },
}
SEARCH_TOOL = {
    "type": "function",
    "function": {
        "name": "search",
        "description": "Search the web",
        "parameters": {
            "type": "object",
            "properties": {"query": {"type": "string", "description": "Query"}},
            "required": ["query"],
        },
    },
}
ARGS = {"city": "Zürich 東京 🚀", "unit": "c", "days": 3}

UNICODE = "\x1c\x1d 中文，日本語、한국어 😀👨‍👩‍👧 e\u0301 \u00a0nbsp\u2028sep \x1e\x1f"
TEXTS = [
    "Hello!",
    "What is 2+2? Answer briefly.",
    UNICODE,
    "Ω ΣΑΣ ß ǆ ﬁ — «ok» Ответ: ναι",
    "  padded both sides  ",
    "line one\nline two\n\n  indented\ttab",
    "{{ messages }} {% if true %}x{% endif %} <|im_end|> [INST] </s>",
    "e\u0301\u0301 café naïve",
    "1234567 89.01 — numbers",
]

# Conversations with string content only (one Arrow table).
PLAIN = [
    {"messages": [msg(U, "Hello!"), msg(A, "Hi! How can I help?")]},
    {
        "messages": [
            msg(S, "You are a helpful assistant."),
            msg(U, "What is 2+2?"),
            msg(A, "4"),
            msg(U, "And 3+3?"),
            msg(A, "6"),
            msg(U, "Thanks"),
            msg(A, "You're welcome."),
        ]
    },
    {
        "messages": [
            msg(S, "  \u00a0System with NBSP and\u2028line sep\u3000"),
            msg(U, UNICODE),
            msg(A, "\u2028 Ответ: ναι — «ok» \u0085"),
            msg(U, "Ω ΣΑΣ ß ǆ ﬁ"),
            msg(A, "\t\n done \u2029"),
        ]
    },
    {"messages": [msg(S, ""), msg(U, "   "), msg(A, ""), msg(U, "\n\n"), msg(A, " \t ")]},
    {"messages": [msg(U, "question"), msg(A, "")]},
    {"messages": [msg(U, "question"), msg(A, "   ")]},
    {"messages": [msg(U, TEXTS[6]), msg(A, "}} %} #} {{'{{'}} <|im_end|> [INST] </s> <|eot_id|>")]},
    {"messages": [msg(U, "one"), msg(U, "two"), msg(A, "three")]},
    {"messages": [msg(A, "I speak first"), msg(U, "ok")]},
    {"messages": [msg(U, "Just a question?")]},
    {"messages": [msg(S, "System prompt alone.")]},
    {"messages": [msg("human", "sharegpt-style role"), msg("gpt", "mapped to assistant")]},
    {"messages": [msg("narrator", "Once upon a time"), msg(U, "go on"), msg(A, "The end.")]},
    {
        "messages": [
            msg(U, "Think: 17 * 23?"),
            msg(A, "<think>\n17*23 = 391\n</think>\n\n391"),
            msg(U, "Sure?"),
            msg(A, "<think>r2</think>Yes."),
        ]
    },
    {
        "messages": [
            msg(U, "e\u0301\u0301 café naïve"),
            msg(A, "\x1c\x1f trimmed? \x1d"),
            msg(U, "1234567 89.01"),
            msg(A, "  padded both sides  "),
        ]
    },
    {"messages": []},
]

TOOL_TURNS = [
    msg(U, "What's the weather in Zürich and Tokyo?"),
    msg(A, "", tool_calls=[call("get_weather", ARGS), call("get_weather", {"city": "Tokyo", "days": 0}, "call00002")]),
    msg(T, '{"temp": 21.5, "sky": "clear"}', tool_call_id="call00001", name="get_weather"),
    msg(T, "18°C, 雨", tool_call_id="call00002", name="get_weather"),
    msg(A, "Zürich: 21.5°C and clear. Tokyo: 18°C with rain."),
]
# Tool definitions and calls with dict arguments (one table; `tools` null on some rows).
TOOLS = [
    {"messages": [msg(S, "Use tools when needed."), *TOOL_TURNS], "tools": [WEATHER_TOOL, SEARCH_TOOL]},
    {"messages": TOOL_TURNS, "tools": [WEATHER_TOOL]},
    {"messages": [msg(U, "Hi"), msg(A, "Hello")], "tools": [SEARCH_TOOL]},
    {
        "messages": [msg(U, "weather?"), msg(A, "", tool_calls=[call("get_weather", {"city": "Oslo", "days": 2})])],
        "tools": [WEATHER_TOOL],
    },
    {
        "messages": [
            msg(U, "weather?"),
            msg(A, "Let me check.", tool_calls=[call("get_weather", {"city": "Oslo"})]),
            msg(T, "sunny", tool_call_id="call00001", name="get_weather"),
            msg(A, "Sunny in Oslo."),
        ],
        "tools": None,
    },
    {"messages": [msg(U, "no tools here"), msg(A, "fine")], "tools": []},
]
# Tool-call arguments (and tools) as JSON strings.
STRING_ARGS = [
    {
        "messages": [
            msg(U, "search cats"),
            msg(A, "", tool_calls=[call("search", '{"query": "cats", "n": 1e-05, "k": [1, 2.5]}')]),
            msg(T, "[]", tool_call_id="call00001", name="search"),
            msg(A, "Nothing found."),
        ],
        "tools": json.dumps([SEARCH_TOOL]),
    },
    {
        "messages": [
            msg(U, "weather"),
            msg(A, "", tool_calls=[call("get_weather", json.dumps(ARGS, ensure_ascii=False))]),
        ],
        "tools": json.dumps([WEATHER_TOOL], ensure_ascii=False),
    },
    {"messages": [msg(U, "bad"), msg(A, "", tool_calls=[call("search", "{not json")])], "tools": None},
    # Python's json.loads: correctly rounded floats, `-0` an int, escapes, duplicate keys.
    {
        "messages": [
            msg(U, "numbers"),
            msg(
                A,
                "",
                tool_calls=[
                    call(
                        "search",
                        '{"query": "\\u00e9\\ud83d\\ude00\\/", '
                        '"a": 933.2127355415175, "b": 0.30000000000000004, "c": -0, '
                        '"d": 9.199999999999999e+18, "e": 1E-5, "f": 4.35e-320, '
                        '"a": 420.50684727497355, "g": [1.0, -0.0, 12345678901234567]}',
                    )
                ],
            ),
        ],
        "tools": json.dumps([SEARCH_TOOL]),
    },
]
REASONING = [
    {
        "messages": [
            msg(U, "Think about it: 17 * 23?"),
            msg(A, "391", reasoning_content="17 * 23 = 340 + 51 = 391"),
            msg(U, "Sure?"),
            msg(A, "Yes, 391.", reasoning_content="\nDouble-checked.\n"),
        ]
    },
    {"messages": [msg(U, "q"), msg(A, "answer", reasoning_content="")]},
    {"messages": [msg(U, "q"), msg(A, "", reasoning_content="only reasoning")]},
    {"messages": [msg(U, "q"), msg(A, "", reasoning_content="")]},
    {
        "messages": [
            msg(U, "weather?"),
            msg(A, "", reasoning_content="Need the tool.", tool_calls=[call("get_weather", {"city": "Paris"})]),
            msg(T, "21", tool_call_id="call00001", name="get_weather"),
            msg(A, "21°C in Paris.", reasoning_content="Tool said 21."),
        ],
        "tools": [WEATHER_TOOL],
    },
    {"messages": [msg(U, UNICODE), msg(A, "日本語の答え", reasoning_content=UNICODE)]},
]
SYSTEM_COLUMN = [
    {"messages": [msg(U, "hi"), msg(A, "hello")], "system": "Be brief."},
    {"messages": [msg(U, "hi"), msg(A, "hello")], "system": None},
    {"messages": [msg(U, "hi"), msg(A, "hello")], "system": ""},
    {"messages": [msg(S, "own system"), msg(U, "hi"), msg(A, "hello")], "system": "ignored: first turn is system"},
    {"messages": [msg(U, "hi"), msg(A, "hello"), msg(U, "more"), msg(A, "sure")], "system": UNICODE},
]
# A system column that is null on every row (Arrow type null): a null system turn each time.
NULL_SYSTEM_COLUMN = [
    {"messages": [msg(U, "hi"), msg(A, "hello")], "system": None},
    {"messages": [msg(U, "a"), msg(A, "b"), msg(U, "c"), msg(A, "d")], "system": None},
]
CONTENT_PARTS = [
    {
        "messages": [
            msg(S, [{"type": "text", "text": "Parts system."}]),
            msg(U, [{"type": "text", "text": "Describe "}, {"type": "text", "text": "this."}]),
            msg(A, [{"type": "text", "text": "A cat."}]),
        ]
    },
    {
        "messages": [
            msg(U, [{"type": "text", "text": "Q?"}]),
            msg(
                A,
                [
                    {"type": "text", "text": "Let me think...", "train": False},
                    {"type": "text", "text": " The answer is 4.", "train": True},
                ],
            ),
        ]
    },
    {
        "messages": [
            msg(U, [{"type": "text", "text": "Q?"}]),
            msg(
                A,
                [
                    {"type": "text", "text": "Masked part.", "weight": 0},
                    {"type": "text", "text": " Trained 日本 part.", "weight": 1},
                    {"type": "text", "text": "", "weight": 1},
                    {"type": "text", "text": " tail", "weight": 0.0},
                ],
            ),
        ]
    },
    {
        "messages": [
            msg(U, [{"type": "image"}, {"type": "text", "text": "caption this"}]),
            msg(
                A,
                [
                    {"type": "text", "text": " 😀 emoji first", "train": True},
                    {"type": "text", "text": "\n\nnot trained", "train": False},
                ],
            ),
        ]
    },
]
JSON_MESSAGES = [
    {"messages": json.dumps([msg(U, "json hi"), msg(A, "json hello")])},
    {"messages": json.dumps([msg(S, "sys"), msg(U, UNICODE), msg(A, "ok \u2028")], ensure_ascii=False)},
    {"messages": json.dumps([msg(U, "weather"), msg(A, "", tool_calls=[call("get_weather", {"city": "Rome"})])])},
    {"messages": json.dumps({"role": "user", "content": "not a list"})},
    {"messages": json.dumps(["not", "dicts"])},
    {"messages": "{not json"},
]

# JSON keeps what Arrow cannot: nulls, roles that are not strings, odd tool calls and tools.
ODD_JSON = [
    {"messages": json.dumps([msg(U, "q"), {"role": 3, "content": "numeric role"}, msg(A, "a")])},
    {"messages": json.dumps([msg(U, None), msg(A, "null user content")])},
    {"messages": json.dumps([msg(U, "q", tool_calls=None), msg(A, "a", tool_calls="not a list")])},
    {"messages": json.dumps([msg(U, "q"), msg(A, "a", tool_calls=[None])])},
    {"messages": json.dumps([msg(U, "q"), msg(A, "a", tool_calls={"function": 1})])},
    {"messages": json.dumps([msg(U, "q"), msg(A, "", tool_calls=[{"function": "get_weather arguments"}])])},
    # The first message is transformed twice: arguments encoded twice are decoded twice there.
    {
        "messages": json.dumps(
            [
                msg(U, "q", tool_calls=[call("search", json.dumps(json.dumps({"query": "x"})))]),
                msg(A, "", tool_calls=[call("search", json.dumps(json.dumps({"query": "y"})))]),
            ]
        )
    },
    {"messages": json.dumps([msg(U, "q"), msg(A, "a")]), "tools": "[1]"},
    {
        "messages": json.dumps([msg(U, "q"), msg(A, "a")]),
        "tools": json.dumps([{"type": "function", "function": "no parameters"}]),
    },
    {
        "messages": json.dumps([msg(U, "q"), msg(A, "a")]),
        "tools": json.dumps(
            [
                {
                    "type": "function",
                    "function": {"name": "f", "parameters": json.dumps({"type": "object", "properties": None})},
                }
            ]
        ),
    },
    {"messages": json.dumps([msg(U, "q"), msg(A, "a")]), "tools": "{}"},
]

CORPUS = {
    "plain": PLAIN,
    "tools": TOOLS,
    "string_args": STRING_ARGS,
    "reasoning": REASONING,
    "system_column": SYSTEM_COLUMN,
    "null_system_column": NULL_SYSTEM_COLUMN,
    "content_parts": CONTENT_PARTS,
    "json_messages": JSON_MESSAGES,
    "odd_json": ODD_JSON,
}
ALL_GROUPS = list(CORPUS.values())

# ---- every named template -----------------------------------------------------------------------

QWEN_TEMPLATES = {
    "chatml",
    "qwen_25",
    "qwen3",
    "qwen3_5",
    "qwen2_vl",
    "aya",
    "cohere",
    "command_a",
    "command_a_rag",
    "command_a_tool_use",
    "exaone",
    "exaone4",
    "falcon_h1",
    "jamba",
    "nemotron_h",
}
SMALL_TEMPLATES = {"alpaca", "metharme"}
# Everything else: the Llama 3 tokenizer.


def tokenizer_for(name, request):
    if name in QWEN_TEMPLATES:
        return request.getfixturevalue("qwen_tokenizer")
    if name in SMALL_TEMPLATES:
        return request.getfixturevalue("small_tokenizer")
    return request.getfixturevalue("llama3_tokenizer")


def test_all_named_templates_are_covered():
    assert len(_CHAT_TEMPLATES) == 36, sorted(_CHAT_TEMPLATES)


@pytest.mark.parametrize("name", sorted(_CHAT_TEMPLATES))
def test_named_template_matches_axolotl(name, request):
    strategy = build_strategy(tokenizer_for(name, request), name, {"train_on_eos": "all"})
    compare(strategy, ALL_GROUPS)


@pytest.mark.parametrize("name", sorted(_CHAT_TEMPLATES))
def test_named_template_train_on_inputs_matches_axolotl(name, request):
    strategy = build_strategy(
        tokenizer_for(name, request),
        name,
        {"roles_to_train": ["assistant", "user", "system", "tool"]},
        train_on_inputs=True,
    )
    compare(strategy, ALL_GROUPS)


# ---- every option -----------------------------------------------------------------------------

EOS_OPTIONS = ("all", "turn", "last", "none")


@pytest.mark.parametrize("eos", EOS_OPTIONS)
@pytest.mark.parametrize("eot", EOS_OPTIONS)
def test_train_on_eos_and_eot_with_a_distinct_eot_token(eos, eot, llama3_tokenizer):
    # <|end_header_id|> follows a turn's <|eot_id|> within 3 tokens: an EOT other than EOS.
    strategy = build_strategy(
        llama3_tokenizer, "llama3", {"train_on_eos": eos, "train_on_eot": eot}, eot_tokens=["<|end_header_id|>"]
    )
    assert strategy._eot_token_ids == {llama3_tokenizer.convert_tokens_to_ids("<|end_header_id|>")}
    compare(strategy, [PLAIN, TOOLS, SYSTEM_COLUMN])


@pytest.mark.parametrize(
    "eos, eot", [(e, e) for e in EOS_OPTIONS] + [("all", "none"), ("last", "turn"), ("none", None)]
)
def test_train_on_eos_and_eot_with_the_default_eot(eos, eot, qwen_tokenizer):
    ds = {"train_on_eos": eos, **({"train_on_eot": eot} if eot else {})}
    compare(build_strategy(qwen_tokenizer, "qwen3", ds), [PLAIN, TOOLS, REASONING])


def test_eot_tokens_several(qwen_tokenizer):
    strategy = build_strategy(
        qwen_tokenizer,
        "qwen_25",
        {"train_on_eos": "turn"},
        eot_tokens=["<|im_end|>", "<tool_call>", "not in the template"],
    )
    assert len(strategy._eot_token_ids) == 2
    compare(strategy, [PLAIN, TOOLS, STRING_ARGS])


def test_eot_tokens_conflicting_with_eos_are_refused_by_axolotl(qwen_tokenizer):
    with pytest.raises(ValueError, match="Conflict between train_on_eos and train_on_eot"):
        build_strategy(
            qwen_tokenizer,
            "chatml",
            {"train_on_eos": "all", "train_on_eot": "turn"},
            eot_tokens=["<|im_end|>", "<|im_start|>"],
        )


@pytest.mark.parametrize("roles", [["assistant"], ["user"], ["assistant", "user"], ["gpt", "human"], ["tool"], []])
def test_roles_to_train(roles, llama3_tokenizer):
    compare(build_strategy(llama3_tokenizer, "llama3", {"roles_to_train": roles}), [PLAIN, TOOLS, SYSTEM_COLUMN])


@pytest.mark.parametrize("name", ["llama3", "qwen3"])
def test_train_on_inputs(name, request):
    tokenizer = tokenizer_for(name, request)
    compare(build_strategy(tokenizer, name, {"train_on_eos": "last"}, train_on_inputs=True), ALL_GROUPS)


SHAREGPT = [
    {
        "conversations": [
            {"from": "system", "value": "sys"},
            {"from": "human", "value": "hi"},
            {"from": "gpt", "value": "hello"},
        ]
    },
    {
        "conversations": [
            {"from": "human", "value": UNICODE},
            {"from": "gpt", "value": "ok"},
            {"from": "human", "value": "again"},
            {"from": "gpt", "value": "  again  "},
        ]
    },
    {"conversations": [{"from": "user", "value": "unmapped source role"}, {"from": "gpt", "value": "answer"}]},
    {"conversations": [{"from": "human", "value": "no value key"}, {"from": "gpt"}]},
]


def test_sharegpt_mappings_and_roles(qwen_tokenizer):
    ds = {
        "field_messages": "conversations",
        "message_property_mappings": {"role": "from", "content": "value"},
        "roles": {"user": ["human"], "assistant": ["gpt"], "system": ["system"]},
        "roles_to_train": ["gpt"],
    }
    strategy = build_strategy(qwen_tokenizer, "chatml", ds)
    assert strategy.roles_to_train == ["assistant"]
    compare(strategy, SHAREGPT)


def test_custom_field_messages(llama3_tokenizer):
    rows = [{"chat": row["messages"], **{k: v for k, v in row.items() if k != "messages"}} for row in PLAIN + TOOLS]
    compare(
        build_strategy(llama3_tokenizer, "llama3", {"field_messages": "chat"}), [rows[: len(PLAIN)], rows[len(PLAIN) :]]
    )
    # A row without the configured column: Axolotl raises, ours leaves it to Axolotl.
    compare(build_strategy(llama3_tokenizer, "llama3", {"field_messages": "absent"}), [PLAIN[:2]])


TRAINING_FIELDS = [
    {"messages": [msg(U, "hi", train=True), msg(A, "hello", train=False), msg(U, "more"), msg(A, "sure thing")]},
    {
        "messages": [
            msg(S, "sys", train=True),
            msg(U, "question here"),
            msg(
                A,
                "The answer is forty two.",
                train_detail=[
                    {"begin_offset": 0, "end_offset": 9, "train": True},
                    {"begin_offset": 10, "end_offset": 23, "train": False},
                ],
            ),
        ]
    },
    {
        "messages": [
            msg(U, "q"),
            msg(
                A,
                "日本語 and émoji 😀 text",
                train_detail=[
                    {"begin_offset": 2, "end_offset": 12, "train": True},
                    {"begin_offset": 14, "end_offset": 40, "train": True},
                ],
            ),
        ]
    },
    {
        "messages": [
            msg(U, "q"),
            msg(A, "short", train=True, train_detail=[{"begin_offset": 0, "end_offset": 0, "train": False}]),
        ]
    },
    {
        "messages": [
            msg(U, "q", train_detail=[{"begin_offset": 0, "end_offset": 0, "train": True}]),
            msg(A, "a", train=False),
        ]
    },
    {"messages": [msg(U, "q"), msg(A, "x", train_detail=[])]},
    {
        "messages": [
            msg(U, "q"),
            msg(
                A,
                "word " * 20,
                train_detail=[
                    {"begin_offset": 3, "end_offset": 57, "train": True},
                    {"begin_offset": 20, "end_offset": 30, "train": False},
                ],
            ),
        ]
    },
    # Offsets Python compares as numbers; a detail without `train` fails only where it covers a token.
    {
        "messages": [
            msg(U, "q"),
            msg(A, "float offsets here", train_detail=[{"begin_offset": 0.5, "end_offset": 7.5, "train": 1}]),
        ]
    },
    {"messages": [msg(U, "q"), msg(A, "abc", train_detail=[{"begin_offset": 50, "end_offset": 60}])]},
    {"messages": [msg(U, "q"), msg(A, "abc", train_detail=[{"begin_offset": 0, "end_offset": 2}])]},
    {"messages": [msg(U, "q"), msg(A, "abc", train_detail=[{"begin_offset": "0", "end_offset": 2, "train": True}])]},
]
REASONING_DETAIL = [
    {
        "messages": [
            msg(U, "q"),
            msg(
                A,
                "answer text",
                reasoning_content="thinking text here",
                train_detail=[{"begin_offset": 0, "end_offset": 5, "train": True}],
            ),
        ]
    },
    {
        "messages": [
            msg(U, [{"text": "q"}]),
            msg(
                A,
                [{"text": "Final", "train": True}, {"text": " answer.", "train": False}],
                reasoning_content=[{"text": "Step one.", "train": False}, {"text": " Step two.", "train": True}],
            ),
        ]
    },
    {
        "messages": [
            msg(U, "q"),
            msg(A, "plain answer", reasoning_content=[{"text": "r1", "weight": 1}, {"text": " r2", "weight": 0}]),
        ]
    },
]


@pytest.mark.parametrize("name", ["llama3", "qwen3", "chatml"])
def test_message_field_training_and_detail(name, request):
    ds = {"message_field_training": "train", "message_field_training_detail": "train_detail", "train_on_eos": "turn"}
    compare(build_strategy(tokenizer_for(name, request), name, ds), [TRAINING_FIELDS, CONTENT_PARTS])


# message_field_training read as a per-message weight: Axolotl trains where it is truthy.
WEIGHTED = [
    {"messages": [msg(U, "a", weight=1), msg(A, "b", weight=0), msg(U, "c", weight=1), msg(A, "d", weight=1)]},
    {"messages": [msg(U, "a", weight=0.0), msg(A, "b", weight=0.5), msg(U, "c"), msg(A, "d", weight=0.0)]},
    {"messages": [msg(S, "s", weight=1.0), msg(U, "a"), msg(A, "b")]},
]


@pytest.mark.parametrize("eos", ["turn", "last"])
def test_message_field_training_weights(eos, llama3_tokenizer):
    ds = {"message_field_training": "weight", "train_on_eos": eos}
    compare(build_strategy(llama3_tokenizer, "llama3", ds), [WEIGHTED])


def test_reasoning_training_detail(qwen_tokenizer):
    ds = {"message_field_training_detail": "train_detail"}
    compare(build_strategy(qwen_tokenizer, "qwen3", ds), [REASONING_DETAIL, REASONING])


SPLIT_THINKING = [
    {"messages": [msg(U, "q"), msg(A, "<think>\n  reasoning here \n</think>\n\n  The answer.")]},
    {"messages": [msg(U, "q"), msg(A, "<reasoning>r</reasoning>A"), msg(U, "q2"), msg(A, "no tags at all")]},
    {
        "messages": [
            msg(U, "q"),
            msg(A, "<|begin_of_thought|> t <|end_of_thought|> <|begin_of_solution|>  sol  <|end_of_solution|> tail"),
        ]
    },
    {"messages": [msg(U, "<think>user tags stay</think>x"), msg(A, "</think>before<think>")]},
    {"messages": [msg(U, "q"), msg(A, "<think>\x1c\u00a0pad\u2028</think>\x1f answer")]},
    {
        "messages": [
            msg(U, [{"text": "q"}]),
            msg(A, [{"text": "<think>parts are not split</think>"}, {"text": "answer"}]),
        ]
    },
]


@pytest.mark.parametrize("name", ["qwen3", "qwen3_5", "llama3"])
def test_split_thinking(name, request):
    compare(build_strategy(tokenizer_for(name, request), name, {"split_thinking": True}), [SPLIT_THINKING, PLAIN[:3]])


@pytest.mark.parametrize("name", ["llama3", "qwen_25", "gemma3"])
def test_drop_system_message(name, request):
    ds = {"drop_system_message": True, "roles_to_train": ["assistant", "system"]}
    compare(build_strategy(tokenizer_for(name, request), name, ds), [PLAIN, SYSTEM_COLUMN, NULL_SYSTEM_COLUMN])


@pytest.mark.parametrize(
    "kwargs", [{"enable_thinking": False}, {"enable_thinking": True}, {"add_generation_prompt": True}]
)
def test_chat_template_kwargs(kwargs, qwen_tokenizer):
    strategy = build_strategy(qwen_tokenizer, "qwen3", {"train_on_eos": "all"}, chat_template_kwargs=kwargs)
    compare(strategy, [PLAIN, REASONING, TOOLS])


MISTRAL_ROWS = [
    {"messages": [msg(S, "You are Mistral."), msg(U, "hi"), msg(A, "hello"), msg(U, "bye"), msg(A, "ciao")]},
    {"messages": [msg(U, "no system"), msg(A, "fine")]},
    {"messages": [msg(S, "system only")]},
    {"messages": [msg(S, "sys"), msg(U, "q")]},
]


@pytest.fixture(scope="module")
def mistral_named_tokenizer(llama3_tokenizer):
    """The Llama 3 tokenizer under a name that contains "mistral"."""
    return named(llama3_tokenizer, "mistralai/Mistral-Small-Instruct")


@pytest.mark.parametrize("name", ["mistral_v7_tekken", "mistral_v2v3", "llama3", "chatml"])
@pytest.mark.parametrize("eos", ["all", "turn"])
def test_mistral_name_quirk(name, eos, mistral_named_tokenizer):
    # Axolotl never locates a leading system turn when the tokenizer's name contains
    # "mistral" (and then scans for EOS from index -1).
    tokenizer = mistral_named_tokenizer
    strategy = build_strategy(tokenizer, name, {"roles_to_train": ["system", "assistant"], "train_on_eos": eos})
    compare(strategy, [MISTRAL_ROWS, SYSTEM_COLUMN])


# Axolotl locates a turn by re-tokenizing conversation prefixes (its "token diff") when its
# char locator cannot. In Axolotl 0.19.0 that is rare: the locator keeps the turn in place in
# both renders, so qwen3's reasoning and empty final turns stay on the char path (no template
# took the token diff over this file's corpus or thousands of generated rows). It happens
# (1) when the whole conversation renders to nothing (phi_35 drops tool turns and empty system
# turns): every processed turn then takes the token diff, and Axolotl's EOS scan from -1 on
# the empty input_ids raises IndexError; (2) when a turn's span lies past the last token: a
# tokenizer whose normalizer strips trailing whitespace leaves a whitespace-only final turn
# without a token. Both are compared here, and each test checks that the path was taken.
EMPTY_RENDER_ROWS = [
    {"messages": [msg(T, "tool output")]},
    {"messages": [msg(S, "")]},
    {"messages": [msg(S, ""), msg(T, "x"), msg("narrator", "y")]},
    {"messages": [msg(U, "q"), msg(A, "a")]},
]
TRAILING_SPACE_ROWS = [
    {"messages": [msg(U, "hello there"), msg(A, "the cat"), msg(U, "   ")]},
    {"messages": [msg(U, "hello there"), msg(A, " \n ")]},
    {"messages": [msg(U, "hello   ")]},
    {"messages": [msg(S, "sys"), msg(U, "hello"), msg(A, "fast cat  ")]},
    {"messages": [msg(U, "the cat sat"), msg(A, "on a mat \t"), msg(U, "and?"), msg(A, "  ")]},
]
# A custom template (chat_template: jinja) with nothing after the last turn's content.
PLAIN_TEMPLATE = "{% for m in messages %}{{ m.role }}: {{ m.content }}{% if not loop.last %}\n{% endif %}{% endfor %}"


@pytest.fixture(scope="module")
def stripping_tokenizer(small_tokenizer):
    """The small tokenizer with a normalizer that strips trailing whitespace."""
    from tokenizers import Tokenizer, normalizers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer.from_str(small_tokenizer.backend_tokenizer.to_str())
    backend.normalizer = normalizers.Strip(left=False, right=True)
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, pad_token="<pad>", bos_token="<s>", eos_token="</s>")
    tokenizer.chat_template = small_tokenizer.chat_template
    return tokenizer


@pytest.mark.parametrize(
    "roles, eos",
    [(["assistant"], "all"), (["assistant", "user", "system", "tool"], "turn"), (["tool", "system"], "last")],
)
@pytest.mark.parametrize("tokenizer_name", ["llama3", "mistral"])
def test_token_diff_fallback_when_the_render_is_empty(roles, eos, tokenizer_name, request):
    tokenizer = request.getfixturevalue("llama3_tokenizer" if tokenizer_name == "llama3" else "mistral_named_tokenizer")
    strategy = build_strategy(tokenizer, "phi_35", {"roles_to_train": roles, "train_on_eos": eos})
    with count_token_diff_fallbacks(strategy) as fallbacks:
        compare(strategy, [EMPTY_RENDER_ROWS])
    assert fallbacks["turns"] > 0, "no turn took Axolotl's token-diff path"


@pytest.mark.parametrize("template", ["alpaca", "jinja"])
@pytest.mark.parametrize(
    "roles, eos", [(["assistant", "user"], "all"), (["user"], "turn"), (["user", "system"], "none")]
)
def test_token_diff_fallback_past_the_last_token(template, roles, eos, stripping_tokenizer):
    extra = {"chat_template_jinja": PLAIN_TEMPLATE} if template == "jinja" else {}
    strategy = build_strategy(stripping_tokenizer, template, {"roles_to_train": roles, "train_on_eos": eos}, **extra)
    with count_token_diff_fallbacks(strategy) as fallbacks:
        compare(strategy, [TRAILING_SPACE_ROWS, PLAIN])
    assert fallbacks["turns"] > 0, "no turn took Axolotl's token-diff path"


@pytest.mark.xfail(
    strict=True,
    reason="integers past int64 in JSON strings are not modelled (a PyValue int is an "
    "i64): such a row is left to Axolotl (status 1), whose result the patch then uses",
)
def test_json_integers_past_int64(llama3_tokenizer):
    rows = [
        {"messages": [msg(U, "big"), msg(A, "", tool_calls=[call("search", '{"n": 123456789012345678901234567890}')])]}
    ]
    compare(build_strategy(llama3_tokenizer, "llama3_2_vision"), rows)


@pytest.mark.xfail(
    strict=True,
    reason="tojson prints a float whose two shortest round-trip spellings are equally near "
    "with the upper one (1829151077628288.3) where Python's repr takes the even one (...288.2): "
    "pyrepr::float_repr (Rust's `{:e}`) breaks the tie differently",
)
def test_float_repr_ties(qwen_tokenizer):
    rows = [{"messages": [msg(U, "q"), msg(A, "", tool_calls=[call("get_weather", {"x": 1829151077628288.2})])]}]
    compare(build_strategy(qwen_tokenizer, "qwen3"), rows)


# ---- generated conversations --------------------------------------------------------------------

ALPHABET = st.sampled_from(
    list("abcxyz AZ09 .,!?'\"\n\t{}<>|/\\_-:;é\u0301日本語😀👨\u200d👩\x1c\x1d\x1e\x1f\u00a0\u2028\u2029\u3000\u0085")
)
TEXT = st.one_of(
    st.text(ALPHABET, max_size=30),
    st.sampled_from(TEXTS + ["", " ", "<think>x</think>y", "<|im_end|>", "<|eot_id|>", "</think>"]),
)


@st.composite
def conversations(draw):
    turns = []
    json_arguments = draw(st.booleans())  # one type per row: Arrow needs one per column
    if draw(st.booleans()):
        turns.append(msg(S, draw(TEXT)))
    for _ in range(draw(st.integers(1, 4))):
        turns.append(msg(draw(st.sampled_from([U, U, "human", T])), draw(TEXT)))
        reply = msg(draw(st.sampled_from([A, A, "gpt"])), draw(TEXT))
        if draw(st.booleans()):
            reply["reasoning_content"] = draw(TEXT)
        if draw(st.integers(0, 4)) == 0:
            args = {
                "city": draw(TEXT),
                "x": draw(st.floats(allow_nan=False, allow_infinity=False)),
                "n": draw(st.integers(-(2**63), 2**63 - 1)),
            }
            reply["tool_calls"] = [
                call("get_weather", json.dumps(args, ensure_ascii=draw(st.booleans())) if json_arguments else args)
            ]
        turns.append(reply)
    if draw(st.booleans()):
        turns.pop()
    row = {"messages": json.dumps(turns, ensure_ascii=draw(st.booleans())) if draw(st.integers(0, 3)) == 0 else turns}
    if draw(st.booleans()):
        row["tools"] = [WEATHER_TOOL]
    if draw(st.integers(0, 3)) == 0:
        row["system"] = draw(st.one_of(st.none(), TEXT))
    return row


OPTIONS = st.fixed_dictionaries(
    {
        "roles_to_train": st.sampled_from([["assistant"], ["assistant", "user"], ["user", "system", "tool"]]),
        "train_on_eos": st.sampled_from(EOS_OPTIONS),
    }
)
_GENERATED: dict = {}


def _generated_strategy(tokenizer, name, options):
    key = (id(tokenizer), name, json.dumps(options, sort_keys=True))
    if key not in _GENERATED:
        strategy = build_strategy(tokenizer, name, options)
        _GENERATED[key] = (strategy, compile_strategy(strategy))
    return _GENERATED[key]


@pytest.mark.parametrize("name, fixture", [("llama3", "llama3_tokenizer"), ("qwen3", "qwen_tokenizer")])
def test_generated_conversations(name, fixture, request):
    tokenizer = request.getfixturevalue(fixture)

    # derandomize: the same examples every run (CI time is bounded and a failure reproduces).
    @settings(
        max_examples=200,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(rows=st.lists(conversations(), min_size=1, max_size=4), options=OPTIONS)
    def check(rows, options):
        strategy, compiled = _generated_strategy(tokenizer, name, options)
        for row in rows:
            table = pa.Table.from_pylist([row])
            out = compiled.tokenize(table)
            want = oracle(strategy, table.to_pylist()[0])
            status = out.column("status")[0].as_py()
            if isinstance(want, Exception):
                assert status == 1, f"Axolotl raised {want!r}, ours gave status {status} for {row!r}"
                continue
            assert status == 0, f"ours left {row!r} to Axolotl: {out.column('message')[0].as_py()}"
            got = {k: out.column(k)[0].as_py() for k in COLUMNS}
            assert got == want, describe(strategy, row, want, got)

    check()


# ---- bad input through the standalone API -------------------------------------------------------

GOOD_ROWS = [{"messages": [msg(U, "hi"), msg(A, "hello")]}]


@pytest.mark.parametrize("text", ["{", "[]", '{"model": 3}', "", "null"])
def test_malformed_tokenizer_json_is_a_format_error(text, tmp_path):
    with pytest.raises(fast_axolotl.FormatError, match="tokenizer JSON"):
        PromptStrategy(text, chat_template_plan("{{ messages }}", message_variables=[]))
    path = tmp_path / "tokenizer.json"
    path.write_text(text)
    with pytest.raises(fast_axolotl.FormatError, match="tokenizer JSON"):
        tokenize_dataset(pa.Table.from_pylist(GOOD_ROWS), path, chat_template="{{ messages }}")


def test_template_that_does_not_compile_names_the_line(small_tokenizer):
    template = "{% for m in messages %}\n{{ m.content }}\n{% endfor %}\n{% if %}\n"
    with pytest.raises(fast_axolotl.InvalidArgumentError, match=r"line 4"):
        tokenize_dataset(pa.Table.from_pylist(GOOD_ROWS), small_tokenizer, chat_template=template)


def test_raise_exception_in_a_row_names_the_row(small_tokenizer):
    template = (
        "{% for m in messages %}{% if m.content == 'boom' %}{{ raise_exception('no booms allowed') }}{% endif %}"
        "{{ m.role }}: {{ m.content }}\n{% endfor %}"
    )
    rows = GOOD_ROWS * 3 + [{"messages": [msg(U, "boom"), msg(A, "x")]}]
    with pytest.raises(fast_axolotl.InvalidArgumentError, match=r"row 3\b.*no booms allowed"):
        tokenize_dataset(pa.Table.from_pylist(rows), small_tokenizer, chat_template=template)
    # The good rows alone tokenize.
    assert tokenize_dataset(pa.Table.from_pylist(rows[:3]), small_tokenizer).num_rows == 3


@pytest.mark.parametrize(
    "messages",
    [
        json.dumps({"role": "user"}),
        json.dumps([1, 2]),
        "[{broken",
    ],
)
def test_messages_not_a_list_of_objects(messages, small_tokenizer):
    table = pa.table({"messages": [json.dumps(GOOD_ROWS[0]["messages"]), messages]})
    with pytest.raises(fast_axolotl.InvalidArgumentError, match=r"row 1\b"):
        tokenize_dataset(table, small_tokenizer)


def test_messages_of_scalars(small_tokenizer):
    table = pa.table({"messages": pa.array([["a", "b"], ["c"]], pa.list_(pa.string()))})
    with pytest.raises(fast_axolotl.InvalidArgumentError, match=r"row 0\b"):
        tokenize_dataset(table, small_tokenizer)


def test_tool_call_arguments_that_are_not_json(small_tokenizer):
    rows = [
        {"messages": [msg(U, "q"), msg(A, "", tool_calls=[call("f", '{"ok": 1}')])]},
        {"messages": [msg(U, "q"), msg(A, "", tool_calls=[call("f", "{'python': 'dict'}")])]},
    ]
    template = "{% for m in messages %}{{ m.content }}{{ m.tool_calls | tojson if m.tool_calls }}{% endfor %}"
    with pytest.raises(fast_axolotl.InvalidArgumentError, match=r"row 1\b.*argument"):
        tokenize_dataset(
            pa.Table.from_pylist(rows), small_tokenizer, chat_template=template, message_variables=["tool_calls"]
        )


def test_non_utf8_bytes_in_a_binary_column(small_tokenizer):
    # Axolotl takes no bytes for messages (every row of a binary column fails there).
    table = pa.table(
        {"messages": pa.array([b'[{"role": "user", "content": "ok"}]', b"\xff\xfe not utf-8"], pa.binary())}
    )
    with pytest.raises(fast_axolotl.InvalidArgumentError, match=r"row 0\b.*Binary"):
        tokenize_dataset(table, small_tokenizer)


def test_non_utf8_bytes_in_a_string_column(small_tokenizer):
    # A string array built without validation: refused when it is read, naming the row.
    good = json.dumps(GOOD_ROWS[0]["messages"]).encode()
    data = good + b'[{"role": "user", "content": "\xff\xfe"}]'
    offsets = pa.array([0, len(good), len(data)], pa.int32()).buffers()[1]
    array = pa.Array.from_buffers(pa.string(), 2, [None, offsets, pa.py_buffer(data)])
    with pytest.raises(fast_axolotl.FormatError, match=r"Invalid UTF8 sequence at string index 1\b"):
        tokenize_dataset(pa.table({"messages": array}), small_tokenizer)


def test_bad_rows_never_crash_the_batch(small_tokenizer):
    """Each bad row is status 1 with a reason; the good rows around it are done."""
    text, _ = small_tokenizer.backend_tokenizer.to_str(), None
    plan = chat_template_plan(
        small_tokenizer.chat_template,
        special_tokens=dict(small_tokenizer.special_tokens_map),
        eos_token_id=small_tokenizer.eos_token_id,
        message_variables=["tool_calls"],
    )
    compiled = PromptStrategy(text, plan)
    rows = [
        {"messages": json.dumps([msg(U, "hi"), msg(A, "ok")])},
        {"messages": "not json"},
        {"messages": json.dumps([msg(U, "hi")])},
        {"messages": json.dumps([{"content": "no role"}])},
        {"messages": json.dumps([msg(U, None), msg(A, "x")])},
        {"messages": json.dumps([msg(U, "q"), msg(A, "", tool_calls=[call("f", "nope")])])},
        {"messages": json.dumps([])},
        {"messages": None},
    ]
    out = compiled.tokenize(pa.Table.from_pylist(rows))
    status = out.column("status").to_pylist()
    assert status[0] == 0 and status[2] == 0, out.column("message").to_pylist()
    for i in (1, 3, 5, 6, 7):
        assert status[i] == 1, (i, out.column("message")[i].as_py())
        assert out.column("message")[i].as_py()


# ---- summary --------------------------------------------------------------------------------------


def test_zz_summary(capsys):
    """Prints how many rows were compared (run last in this file; `-s -v` shows each test's)."""
    with capsys.disabled():
        print(
            f"\n[tokenize_chat] {len(PER_TEST)} strategies, rows compared: {STATS.rows}, identical: {STATS.equal}, "
            f"Axolotl raised (ours left them to Axolotl): {STATS.raised}"
        )
        if os.environ.get("TOKENIZE_CHAT_VERBOSE"):
            for name, (rows, equal, raised) in PER_TEST.items():
                print(f"  {name}: {rows} rows, {equal} identical, {raised} raised")
