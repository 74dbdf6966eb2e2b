"""Chat templates rendered in Rust (minijinja) byte for byte as transformers renders them
with jinja2 (`apply_chat_template`): same environment settings, `tojson`, Python string
methods and value printing. See docs/chat-templates.md.

    from fast_axolotl import ChatTemplate, render_chat_template

    text = render_chat_template(template, messages, add_generation_prompt=True, bos_token="<s>")
    tmpl = ChatTemplate(template)          # compile once ...
    text = tmpl.render(messages, tools=tools, eos_token="</s>")   # ... render many times

A template syntax error, a `raise_exception(...)` call or any other render error raises
`fast_axolotl.InvalidArgumentError` whose message is the raised text (or the error) and the
template line.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, Union, cast

from . import _native
from ._native import ffi, lib

# A tool for the template: a JSON schema (a dict), or a function whose schema transformers'
# `get_json_schema` makes.
Tool = Union[Mapping[str, Any], Callable[..., Any]]

__all__ = ["ChatTemplate", "render_chat_template"]

# Output buffers are filled by Rust: no need to zero them first.
_new_buffer = ffi.new_allocator(should_clear_after_alloc=False)


def _options_json(now: Optional[_dt.datetime]) -> bytes:
    if now is None:
        return b""
    if isinstance(now, _dt.datetime):
        if now.tzinfo is not None:
            raise ValueError("now must be a naive local date-time, as datetime.now() returns")
        return json.dumps({"now": now.isoformat()}).encode()
    if isinstance(now, _dt.date):
        return json.dumps({"now": now.isoformat()}).encode()
    raise TypeError(f"now must be a datetime.datetime or None, got {type(now).__name__}")


def _tool_schemas(tools: Optional[Iterable[Tool]]) -> Optional[list[Any]]:
    """transformers' rule: dicts pass as they are, functions become JSON schemas."""
    if tools is None:
        return None
    schemas = []
    for tool in tools:
        if isinstance(tool, dict):
            schemas.append(tool)
        elif callable(tool):
            from transformers.utils import get_json_schema

            schemas.append(get_json_schema(tool))
        else:
            raise ValueError(
                "Tools should either be a JSON schema, or a callable function with type hints "
                "and a docstring suitable for auto-conversion to a schema."
            )
    return schemas


class ChatTemplate:
    """A chat template compiled once. `render` is safe to call from several threads at once.

    `now` pins the naive local date-time that `strftime_now` formats (default: the clock
    at each call, as transformers' `datetime.now()`).
    """

    def __init__(self, template: str, *, now: Optional[_dt.datetime] = None):
        if not isinstance(template, str):
            raise TypeError(f"template must be a str, got {type(template).__name__}")
        source = template.encode("utf-8")
        options = _options_json(now)
        out = ffi.new("FaxChatTemplate **")
        _native.check(lib.fax_chat_template_new(source, len(source), options, len(options), out))
        self._handle = ffi.gc(out[0], lib.fax_chat_template_free)
        self.template = template
        self._size_hint = 256

    def render(
        self,
        messages: Sequence[Mapping[str, Any]],
        tools: Optional[Sequence[Tool]] = None,
        documents: Optional[Sequence[Mapping[str, Any]]] = None,
        add_generation_prompt: bool = False,
        **kwargs: Any,
    ) -> str:
        """The text `tokenizer.apply_chat_template(messages, tools=..., documents=...,
        add_generation_prompt=..., tokenize=False, **kwargs)` renders; pass the special
        tokens (`bos_token`, `eos_token`, ...) and chat_template_kwargs as keywords."""
        if hasattr(messages, "messages"):  # a transformers Conversation
            messages = messages.messages
        context = {
            "messages": messages,
            "tools": _tool_schemas(tools),
            "documents": documents,
            "add_generation_prompt": add_generation_prompt,
            **kwargs,
        }
        return self.render_json(json.dumps(context, ensure_ascii=False))

    def render_json(self, context_json: str) -> str:
        """Renders with the variables of a JSON object (read as `json.loads` reads it)."""
        data = context_json.encode("utf-8")
        out_len = ffi.new("size_t *")
        cap = max(self._size_hint, 2 * len(data) + len(self.template) + 256)
        while True:
            buf = _new_buffer("char[]", cap)
            status = lib.fax_chat_template_render(self._handle, data, len(data), buf, cap, out_len)
            if status != lib.FAX_ERR_BUFFER_TOO_SMALL:
                break
            cap = out_len[0]
        _native.check(status)
        self._size_hint = max(self._size_hint, out_len[0])
        return cast(bytes, ffi.unpack(buf, out_len[0])).decode("utf-8")  # a char[]: bytes


@functools.lru_cache(maxsize=64)
def _compiled(template: str, now: Optional[_dt.datetime]) -> ChatTemplate:
    return ChatTemplate(template, now=now)


def render_chat_template(
    template: str,
    messages: Sequence[Mapping[str, Any]],
    tools: Optional[Sequence[Tool]] = None,
    documents: Optional[Sequence[Mapping[str, Any]]] = None,
    add_generation_prompt: bool = False,
    *,
    now: Optional[_dt.datetime] = None,
    **kwargs: Any,
) -> str:
    """Render `template` as transformers' `apply_chat_template(..., tokenize=False)` does;
    `kwargs` are the special tokens and chat_template_kwargs. Compiled templates are cached."""
    return _compiled(template, now).render(
        messages, tools=tools, documents=documents, add_generation_prompt=add_generation_prompt, **kwargs
    )
