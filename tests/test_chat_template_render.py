"""Differential test: every chat template Axolotl ships, rendered by fast-axolotl (Rust,
minijinja) and by transformers' own jinja2 environment, must give byte-identical text.

The reference is exactly what `apply_chat_template(..., tokenize=False)` runs:
`transformers.utils.chat_template_utils._compile_jinja_template(template).render(
messages=..., tools=..., documents=..., add_generation_prompt=..., **special_tokens_and_kwargs)`.
Where jinja2 raises, we must raise `InvalidArgumentError` too; for a `raise_exception(...)`
call, with the same message (ours adds the template line). `strftime_now` is pinned to one
date in both (transformers' `datetime.now()` is monkeypatched).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fast_axolotl as fa

jinja2 = pytest.importorskip("jinja2")
ctu = pytest.importorskip("transformers.utils.chat_template_utils")


def _templates_dir() -> Path | None:
    spec = importlib.util.find_spec("axolotl")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "utils" / "chat_templates" / "templates"


TEMPLATES_DIR = _templates_dir()
if TEMPLATES_DIR is None or not TEMPLATES_DIR.is_dir():
    pytest.skip("Axolotl's chat templates are not installed", allow_module_level=True)
TEMPLATES = {p.stem: p.read_text(encoding="utf-8") for p in sorted(TEMPLATES_DIR.glob("*.jinja"))}

# Templates that cannot be made identical, with the reason (none: all 36 match).
XFAIL: dict[str, str] = {}

# jinja2 errors that minijinja cannot reproduce: it iterates None as an empty sequence
# (`{% for t in tools %}` with tools=None), where Python raises TypeError. Only an error
# path: where jinja2 renders, the texts are still compared byte for byte.
KNOWN_ERROR_GAPS = ("'NoneType' object is not iterable",)

NOW = dt.datetime(2024, 7, 26, 9, 30, 15, 123456)
SPECIAL_TOKENS = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}
EXAMPLES = int(os.environ.get("CHAT_TEMPLATE_EXAMPLES", "40"))


class _PinnedDatetime(dt.datetime):
    @classmethod
    def now(cls, tz=None):
        return NOW


@pytest.fixture(autouse=True, scope="module")
def _pin_strftime_now():
    # transformers' strftime_now calls the module-global `datetime.now()` at render time.
    mp = pytest.MonkeyPatch()
    mp.setattr(ctu, "datetime", _PinnedDatetime)
    yield
    mp.undo()


# ---- the two renderers --------------------------------------------------------------------


def jinja_render(template, messages, tools, documents, add_generation_prompt, kwargs):
    compiled = ctu._compile_jinja_template(template)
    return compiled.render(
        messages=messages, tools=tools, documents=documents, add_generation_prompt=add_generation_prompt, **kwargs
    )


_OURS: dict[str, fa.ChatTemplate] = {}


def our_render(template, messages, tools, documents, add_generation_prompt, kwargs):
    compiled = _OURS.get(template)
    if compiled is None:
        compiled = _OURS[template] = fa.ChatTemplate(template, now=NOW)
    return compiled.render(
        messages, tools=tools, documents=documents, add_generation_prompt=add_generation_prompt, **kwargs
    )


def outcome(render, *args):
    try:
        return "ok", render(*args)
    except Exception as exc:  # the outcome is compared, not handled
        return "error", exc


def assert_same(name, case, add_generation_prompt):
    args = (
        TEMPLATES[name],
        case["messages"],
        case.get("tools"),
        case.get("documents"),
        add_generation_prompt,
        {**SPECIAL_TOKENS, **case.get("kwargs", {})},
    )
    want_kind, want = outcome(jinja_render, *args)
    got_kind, got = outcome(our_render, *args)
    where = f"{name} / add_generation_prompt={add_generation_prompt}"
    if want_kind == "ok":
        assert got_kind == "ok", f"{where}: jinja2 rendered, we raised {got!r}"
        assert got == want, f"{where}: renders differ\njinja2: {want!r}\nours:   {got!r}"
        return
    if got_kind == "ok" and isinstance(want, TypeError) and str(want) in KNOWN_ERROR_GAPS:
        return
    assert got_kind == "error", f"{where}: jinja2 raised {want!r}, we rendered {got!r}"
    assert isinstance(got, fa.InvalidArgumentError), f"{where}: {got!r}"
    if type(want) is jinja2.exceptions.TemplateError:  # raise_exception(message)
        message = str(want)
        assert re.fullmatch(re.escape(message) + r"( \(chat template line \d+\))?", str(got), re.S), (
            f"{where}: raise_exception messages differ\njinja2: {message!r}\nours:   {str(got)!r}"
        )


# ---- the corpus -----------------------------------------------------------------------------

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
                "days": {"type": "integer", "description": "Days ahead", "minimum": 0, "default": 1},
                "threshold": {"type": "number", "description": "Alert level", "default": 1e-05},
                "tags": {"type": "array", "items": {"type": "string"}, "description": "Tags"},
                "options": {
                    "type": "object",
                    "description": "Extra options",
                    "properties": {"verbose": {"type": "boolean", "description": "Verbose"}},
                    "required": ["verbose"],
                },
                "note": {"type": "string", "nullable": True, "description": "Optional note"},
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
        "response": {"type": "object", "description": "Results"},
    },
}
ARGS = {
    "city": "Zürich 東京 🚀",
    "unit": "c",
    "days": 3,
    "threshold": 0.1,
    "tiny": 1e-05,
    "big": 1e16,
    "ratio": 2.5,
    "whole": 1.0,
    "neg": -0.0,
    "flag": True,
    "off": False,
    "nothing": None,
    "tags": ["a", "b'c", 'd"e'],
    "nested": {"k": [1, 2.0, {"deep": None}], "quote": "it's"},
}


def tool_call(name, arguments, call_id="call00001"):  # Mistral wants 9 alphanumerics
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


U, A, S = "user", "assistant", "system"


def msg(role, content, **extra):
    return {"role": role, "content": content, **extra}


TOOL_TURNS = [
    msg(U, "What's the weather in Zürich and Tokyo?"),
    msg(
        A,
        "",
        tool_calls=[
            tool_call("get_weather", ARGS),
            tool_call("get_weather", {"city": "Tokyo", "days": 0}, "call00002"),
        ],
    ),
    msg("tool", '{"temp": 21.5, "sky": "clear"}', tool_call_id="call00001", name="get_weather"),
    msg("tool", "18°C, 雨", tool_call_id="call00002", name="get_weather"),
    msg(A, "Zürich: 21.5°C and clear. Tokyo: 18°C with rain."),
]

CORPUS = {
    "single_turn": {"messages": [msg(U, "Hello!"), msg(A, "Hi! How can I help?")]},
    "user_only": {"messages": [msg(U, "Just a question?")]},
    "system_multi_turn": {
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
    "system_only": {"messages": [msg(S, "System prompt alone.")]},
    "tools_and_calls": {
        "messages": [msg(S, "Use tools when needed."), *TOOL_TURNS],
        "tools": [WEATHER_TOOL, SEARCH_TOOL],
    },
    "tools_no_system": {"messages": TOOL_TURNS, "tools": [WEATHER_TOOL]},
    "tools_defined_no_calls": {"messages": [msg(U, "Hi"), msg(A, "Hello")], "tools": [SEARCH_TOOL]},
    "string_arguments": {
        "messages": [
            msg(U, "search cats"),
            msg(A, "", tool_calls=[tool_call("search", '{"query": "cats", "n": 1e-05}')]),
            msg("tool", "[]", tool_call_id="call00001", name="search"),
            msg(A, "Nothing found."),
        ],
        "tools": [SEARCH_TOOL],
    },
    "single_tool_call": {
        "messages": [
            msg(U, "weather?"),
            msg(A, "", tool_calls=[tool_call("get_weather", {"city": "Oslo", "days": 2})]),
        ],
        "tools": [WEATHER_TOOL],
    },
    "reasoning_content": {
        "messages": [
            msg(U, "Think about it: 17 * 23?"),
            msg(A, "391", reasoning_content="17 * 23 = 17 * 20 + 17 * 3 = 340 + 51 = 391"),
            msg(U, "Sure?"),
            msg(A, "Yes, 391.", reasoning_content="\nDouble-checked.\n"),
        ]
    },
    "inline_think": {
        "messages": [
            msg(U, "Q"),
            msg(A, "<think>\nhidden reasoning\n</think>\n\nThe answer."),
            msg(U, "Q2"),
            msg(A, "<think>r2</think>A2"),
        ]
    },
    "unicode": {
        "messages": [
            msg(S, "  \u00a0System with NBSP and\u2028line sep\u3000"),
            msg(U, "\x1c\x1d 中文，日本語、한국어 😀👨‍👩‍👧 e\u0301 \x1e\x1f"),
            msg(A, "\u2028 Ответ: ναι — «ok» \u0085"),
            msg(U, "Ω ΣΑΣ ß ǆ ﬁ"),
            msg(A, "\t\n done \u2029"),
        ]
    },
    "empty_and_whitespace": {"messages": [msg(S, ""), msg(U, "   "), msg(A, ""), msg(U, "\n\n"), msg(A, " \t ")]},
    "jinja_looking_text": {
        "messages": [
            msg(U, "{{ messages }} {% if true %}x{% endif %} {# c #} {%- raw -%}"),
            msg(A, "}} %} #} {{'{{'}} <|im_end|> [INST] </s>"),
        ]
    },
    "not_alternating": {"messages": [msg(U, "one"), msg(U, "two"), msg(A, "three")]},
    "assistant_first": {"messages": [msg(A, "I speak first"), msg(U, "ok")]},
    "unknown_role": {"messages": [msg("narrator", "Once upon a time"), msg(U, "go on")]},
    "empty_conversation": {"messages": []},
    "content_parts": {
        "messages": [
            msg(S, [{"type": "text", "text": "Parts system."}]),
            msg(U, [{"type": "text", "text": "Describe "}, {"type": "text", "text": "this."}]),
            msg(A, [{"type": "text", "text": "A cat."}]),
        ]
    },
    "enable_thinking_false": {"messages": [msg(U, "hi"), msg(A, "yo")], "kwargs": {"enable_thinking": False}},
    "enable_thinking_true": {"messages": [msg(U, "hi"), msg(A, "yo")], "kwargs": {"enable_thinking": True}},
    "template_kwargs": {
        "messages": [msg(S, "sys"), msg(U, "hi"), msg(A, "<think>t</think>yo")],
        "kwargs": {
            "skip_think": False,
            "real_last_index": 1,
            "date_string": "01 Jan 2025",
            "tools_in_user_message": False,
        },
    },
    "tools_in_first_user_message": {"messages": TOOL_TURNS[:1], "tools": [WEATHER_TOOL]},
    "documents": {
        "messages": [msg(U, "Summarise the documents.")],
        "documents": [
            {"title": "Doc ā", "text": "First text.", "url": "http://x", "score": 0.5},
            {"title": "Two", "text": "Second."},
        ],
    },
    "tool_content_mapping": {
        "messages": [
            msg(U, "q"),
            msg(A, "", tool_calls=[tool_call("search", {"query": "q"})]),
            msg("tool", {"result": [1, 2.5]}, tool_call_id="call00001"),
        ],
        "tools": [SEARCH_TOOL],
    },
}

PARAMS = [
    pytest.param(
        name,
        case,
        marks=[pytest.mark.xfail(reason=XFAIL[name], strict=True)] if name in XFAIL else [],
        id=f"{name}-{case_name}",
    )
    for name in TEMPLATES
    for case_name, case in CORPUS.items()
]


def test_all_templates_found():
    assert len(TEMPLATES) == 36, sorted(TEMPLATES)


@pytest.mark.parametrize("name, case", PARAMS)
def test_template_renders_identically(name, case):
    for add_generation_prompt in (False, True):
        assert_same(name, case, add_generation_prompt)


# ---- hypothesis-generated conversations ----------------------------------------------------

SPECIAL_TEXT = [
    "\x1c",
    "\x1f",
    "\u00a0",
    "\u2028",
    "\u3000",
    " ",
    "\n",
    "\t",
    "{{",
    "}}",
    "{%",
    "%}",
    "</think>",
    "<think>",
    "<tool_response>",
    "</tool_response>",
    "'",
    '"',
    "\\",
    "中",
    "😀",
    "e\u0301",
    "Σ",
]
texts = st.lists(st.one_of(st.text(max_size=6), st.sampled_from(SPECIAL_TEXT)), max_size=6).map("".join)
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(allow_nan=False, allow_infinity=False), texts
)
arguments = st.dictionaries(
    st.text(min_size=1, max_size=5), st.one_of(scalars, st.lists(scalars, max_size=3)), max_size=4
)


@st.composite
def conversations(draw):
    messages = []
    if draw(st.booleans()):
        messages.append(msg(S, draw(texts)))
    for turn in range(draw(st.integers(1, 4))):
        messages.append(msg(U, draw(texts)))
        extra = {}
        if draw(st.booleans()):
            extra["reasoning_content"] = draw(texts)
        if draw(st.integers(0, 3)) == 0:
            extra["tool_calls"] = [tool_call("get_weather", draw(arguments), f"call0000{turn}")]
            messages.append(msg(A, draw(texts), **extra))
            messages.append(msg("tool", draw(texts), tool_call_id=f"call0000{turn}", name="get_weather"))
            messages.append(msg(A, draw(texts)))
        else:
            messages.append(msg(A, draw(texts), **extra))
    if draw(st.booleans()):
        messages.pop()  # end on a user or tool turn
    tools = draw(st.sampled_from([None, [WEATHER_TOOL], [WEATHER_TOOL, SEARCH_TOOL]]))
    return {"messages": messages, "tools": tools}


@settings(
    max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, suppress_health_check=list(HealthCheck)
)
@given(case=conversations(), add_generation_prompt=st.booleans())
def test_generated_conversations_render_identically(case, add_generation_prompt):
    for name in TEMPLATES:
        if name not in XFAIL:
            assert_same(name, case, add_generation_prompt)


# ---- the API itself ---------------------------------------------------------------------------


def test_syntax_error_names_the_line():
    with pytest.raises(fa.InvalidArgumentError, match=r"line 3"):
        fa.ChatTemplate("a\nb\n{% if %}")


def test_raise_exception_message_and_line():
    with pytest.raises(fa.InvalidArgumentError, match=r"^Roles must alternate \(chat template line 2\)$"):
        fa.render_chat_template("x\n{{ raise_exception('Roles must alternate') }}", [])


def test_render_chat_template_matches_class_and_pins_date():
    template = TEMPLATES["llama3_2_vision"]
    messages = [msg(U, "hi")]
    one = fa.render_chat_template(template, messages, add_generation_prompt=True, now=NOW, bos_token="<s>")
    two = fa.ChatTemplate(template, now=NOW).render(messages, add_generation_prompt=True, bos_token="<s>")
    assert one == two and "Today Date: 26 Jul 2024" in one


def test_large_output_grows_the_buffer():
    big = "x" * 100_000
    out = fa.render_chat_template("{% for m in messages %}{{ m.content * 3 }}{% endfor %}", [msg(U, big)])
    assert out == big * 3


FRAGMENTS = [
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    "-",
    "+",
    " if ",
    " for x in ",
    " endfor ",
    " endif ",
    "messages",
    "x",
    "|tojson",
    "|trim",
    ".strip()",
    "(",
    ")",
    "[",
    "]",
    "'",
    "\n",
    "raise_exception('e')",
    " generation ",
    " endgeneration ",
    "~",
    "1.5",
    "none",
    "loop.index0",
    "strftime_now('%d')",
    " set y = ",
    "é",
]


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(source=st.lists(st.sampled_from(FRAGMENTS), max_size=12).map("".join), context=arguments)
def test_garbage_templates_never_panic(source, context):
    # Any source and context: a text or InvalidArgumentError, never a RustPanicError. Where
    # jinja2 renders, we render the same text, except for two lexer gaps (docs/chat-templates.md):
    # jinja2 drops an unterminated `{#` at the very end and takes non-ASCII names (`{{ é }}`);
    # minijinja refuses both as syntax errors.
    try:
        ours = (
            "ok",
            fa.ChatTemplate(source, now=NOW).render([msg(U, "hi")], **{"v_" + k: v for k, v in context.items()}),
        )
    except fa.InvalidArgumentError as exc:
        ours = ("error", exc)
    try:
        want = (
            "ok",
            jinja_render(source, [msg(U, "hi")], None, None, False, {"v_" + k: v for k, v in context.items()}),
        )
    except Exception as exc:
        want = ("error", exc)
    if want[0] == "ok" and ours[0] == "error":
        assert str(ours[1]).startswith("chat template syntax error") and ("{#" in source or "é" in source), ours[1]
    elif want[0] == "ok":
        assert ours == want


def test_bad_arguments_raise_python_errors():
    with pytest.raises(TypeError):
        fa.ChatTemplate(b"{{ x }}")
    with pytest.raises(ValueError):
        fa.ChatTemplate("x", now=dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))
    with pytest.raises(TypeError):
        fa.ChatTemplate("x").render([msg(U, object())])  # not JSON: json.dumps refuses it
    with pytest.raises(fa.InvalidArgumentError, match="context_json"):
        fa.ChatTemplate("x").render_json("[1, 2")
