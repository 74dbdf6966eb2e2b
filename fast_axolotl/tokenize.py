"""Dataset tokenization in Rust: Axolotl's prompt strategies (today `chat_template`) over
Arrow rows, on all cores with the GIL released, row for row what Axolotl 0.19.0 computes.

A strategy is compiled once from the tokenizer's JSON (what transformers holds after
loading: `tokenizer.backend_tokenizer.to_str()`) and a *plan*: a dict naming the strategy and
stating every option (`fast_axolotl.axolotl.tokenization.chat_plan` builds it from Axolotl's
own strategy object; `chat_template_plan` here builds it from keyword arguments with
Axolotl's defaults). Each call tokenizes a slice of rows; rows the Rust path does not model
come back marked, with the reason, for Python to handle.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Optional

import pyarrow as pa
import pyarrow.compute as pc

from . import _native
from ._args import size_arg, utf8_arg
from ._native import ffi, lib
from .errors import InvalidArgumentError
from .tokenizer import Tokenizer

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["PromptStrategy", "chat_template_plan", "tokenize_dataset", "tokenizer_json"]

STATUS_DONE, STATUS_FALLBACK = 0, 1
OUTPUT_COLUMNS = ("input_ids", "labels", "attention_mask")
# The types `datasets` writes these columns in (its ArrowWriter narrows input_ids and
# attention_mask by name), so a tokenized dataset has the schema Axolotl's map gives it.
OUTPUT_SCHEMA = pa.schema(
    [("input_ids", pa.list_(pa.int32())), ("labels", pa.list_(pa.int64())), ("attention_mask", pa.list_(pa.int8()))]
)
# Rows per C call: memory stays bounded by a call's rows, Ctrl-C is seen between calls, and
# a progress bar advances.
ROWS_PER_CALL = 2048

# Axolotl's column order per plan strategy, where it is not OUTPUT_COLUMNS: the key order of
# the dict its tokenize_prompt returns (`_tokenize`'s BatchEncoding, then "labels").
_STRATEGY_COLUMNS: dict[object, tuple[str, ...]] = {
    "instruct": ("input_ids", "attention_mask", "labels"),
    "completion": ("input_ids", "attention_mask", "labels"),
}


def output_columns(plan: dict) -> tuple:
    """The output columns of `plan`'s strategy, in Axolotl's order."""
    return _STRATEGY_COLUMNS.get(plan.get("strategy"), OUTPUT_COLUMNS)


def output_schema(plan: dict) -> pa.Schema:
    """OUTPUT_SCHEMA's fields in the order of `plan`'s strategy."""
    return pa.schema([OUTPUT_SCHEMA.field(name) for name in output_columns(plan)])


class PromptStrategy:
    """A prompt strategy compiled for one tokenizer: `tokenize(rows)` gives, per output row,
    `row`, `status` (0 done, 1 not modelled: `message` says why) and Axolotl's columns."""

    def __init__(self, tokenizer_json: str, plan: dict, split_special_tokens: bool = False):
        self.plan = plan
        self.columns = output_columns(plan)
        self.schema = output_schema(plan)
        # What the tokenizer contributes to a result's fingerprint.
        self.tokenizer_digest = hashlib.sha256(
            f"{bool(split_special_tokens)}:".encode() + utf8_arg(tokenizer_json, "the tokenizer JSON")
        ).hexdigest()
        self.tokenizer = Tokenizer(tokenizer_json, split_special_tokens=split_special_tokens)
        text = utf8_arg(json.dumps(plan, ensure_ascii=False, allow_nan=False), "the plan")
        out = ffi.new("FaxPromptStrategy **")
        _native.check(lib.fax_prompt_strategy_new(self.tokenizer._handle, text, len(text), out))
        self._handle = ffi.gc(out[0], lib.fax_prompt_strategy_free)

    def tokenize(self, rows: pa.Table | pa.RecordBatch, num_threads: int = 0) -> pa.RecordBatch:
        """One C call over all of `rows` (the GIL is released during it)."""
        threads = size_arg(num_threads, "num_threads", 0)
        table = pa.Table.from_batches([rows]) if isinstance(rows, pa.RecordBatch) else rows
        stream = ffi.new("struct ArrowArrayStream *")
        table.to_reader()._export_to_c(int(ffi.cast("uintptr_t", stream)))
        array = ffi.new("struct ArrowArray *")
        schema = ffi.new("struct ArrowSchema *")
        _native.check(lib.fax_prompt_strategy_tokenize(self._handle, stream, threads, array, schema))
        out = pa.StructArray._import_from_c(int(ffi.cast("uintptr_t", array)), int(ffi.cast("uintptr_t", schema)))
        return pa.RecordBatch.from_struct_array(out)

    def tokenize_slices(
        self,
        table: pa.Table,
        indices: Optional[npt.NDArray[np.int64]] = None,
        num_threads: int = 0,
        rows_per_call: int = ROWS_PER_CALL,
    ) -> Iterator[tuple[int, pa.RecordBatch]]:
        """`(first_row, output)` for consecutive slices of the rows of `table` (or of the rows
        `indices` picks, in their order); `output.row` counts from the slice's first row."""
        total = table.num_rows if indices is None else len(indices)
        for start in range(0, total, rows_per_call):
            if indices is None:
                rows = table.slice(start, rows_per_call)
            else:
                rows = table.take(indices[start : start + rows_per_call])
            yield start, self.tokenize(rows, num_threads)


def tokenizer_json(tokenizer: Any) -> tuple[str, bool]:
    """The tokenizer JSON and `split_special_tokens` of a transformers fast tokenizer, or of a
    tokenizer.json path (then special tokens are not split)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        return backend.to_str(), bool(getattr(tokenizer, "split_special_tokens", False))
    if isinstance(tokenizer, str) or hasattr(tokenizer, "__fspath__"):
        with open(tokenizer, encoding="utf-8") as file:
            return file.read(), False
    raise TypeError(
        f"tokenizer must be a transformers fast tokenizer or a tokenizer.json path, got {type(tokenizer).__name__}"
    )


# Axolotl's defaults for a chat_template dataset (prompt_strategies/chat_template.py).
DEFAULT_ROLES = {
    "human": "user",
    "user": "user",
    "assistant": "assistant",
    "gpt": "assistant",
    "system": "system",
    "tool": "tool",
}


def chat_template_plan(
    chat_template: str,
    *,
    special_tokens: Optional[dict] = None,
    eos_token_id: Optional[int] = None,
    eot_token_ids: Optional[list] = None,
    roles: Optional[dict] = None,
    roles_to_train: Optional[list] = None,
    train_on_inputs: bool = False,
    train_on_eos: str = "turn",
    train_on_eot: Optional[str] = None,
    message_property_mappings: Optional[dict] = None,
    field_messages: str = "messages",
    message_field_training: Optional[str] = None,
    message_field_training_detail: Optional[str] = None,
    template_thinking_key: str = "reasoning_content",
    split_thinking: bool = False,
    drop_system_message: bool = False,
    chat_template_kwargs: Optional[dict] = None,
    message_variables: Optional[list] = None,
    name_or_path: str = "",
    now: Optional[str] = None,
) -> dict:
    """A `chat_template` plan with Axolotl's defaults for what is not given. `special_tokens`
    are the strings the template sees (`bos_token`, `eos_token`, ...); `eot_token_ids`
    defaults to `[eos_token_id]`; `message_variables` (the extra message keys passed to the
    template) defaults to what Axolotl's template analyzer finds when Axolotl is installed,
    else none; `roles` maps a role to its sources, as in Axolotl's config."""
    if not isinstance(chat_template, str):
        raise TypeError(f"chat_template must be a str (the template's source), got {type(chat_template).__name__}")
    kwargs = dict(chat_template_kwargs or {})
    add_generation_prompt = bool(kwargs.pop("add_generation_prompt", False))
    role_map = {s: t for t, sources in roles.items() for s in sources} if roles else dict(DEFAULT_ROLES)
    if message_variables is None:
        message_variables = _template_message_variables(chat_template, field_messages)
    return {
        "strategy": "chat_template",
        "chat_template": chat_template,
        "render_kwargs": {**(special_tokens or {}), **kwargs},
        "add_generation_prompt": add_generation_prompt,
        "template_options": {"now": now} if now else None,
        "eos_token_id": eos_token_id,
        "eot_token_ids": list(
            eot_token_ids if eot_token_ids is not None else ([] if eos_token_id is None else [eos_token_id])
        ),
        "roles": role_map,
        "roles_to_train": [
            role_map.get(r, r) for r in (roles_to_train if roles_to_train is not None else ["assistant"])
        ],
        "train_on_inputs": bool(train_on_inputs),
        "train_on_eos": train_on_eos,
        "train_on_eot": train_on_eot if train_on_eot is not None else train_on_eos,
        "message_property_mappings": dict(message_property_mappings or {"role": "role", "content": "content"}),
        "field_messages": field_messages,
        "field_system": "system",
        "field_tools": "tools",
        "message_field_training": message_field_training,
        "message_field_training_detail": message_field_training_detail,
        "template_thinking_key": template_thinking_key or "reasoning_content",
        "split_thinking": bool(split_thinking),
        "drop_system_message": bool(drop_system_message),
        "message_variables": list(message_variables),
        "skip_leading_system_turn": "mistral" in name_or_path.lower(),
    }


def _template_message_variables(chat_template: str, field_messages: str) -> list:
    try:
        from axolotl.prompt_strategies.jinja_template_analyzer import JinjaTemplateAnalyzer
    except ImportError:
        return []
    try:
        return list(JinjaTemplateAnalyzer(chat_template).get_message_vars(field_messages))
    except Exception:  # a template jinja2 cannot parse: compiling it says why, naming the line
        return []


def rows_of(data: Any) -> tuple[pa.Table, Optional[npt.NDArray[np.int64]]]:
    """`(pyarrow Table, int64 indices or None)`: the rows of a Table, RecordBatch,
    RecordBatchReader or `datasets.Dataset` (whose rows are the indices' picks, in order)."""
    if isinstance(data, pa.RecordBatchReader):
        return data.read_all(), None
    from .dedupe import _arrow_rows

    return _arrow_rows(data)


def tokenize_dataset(
    data: Any,
    tokenizer: Any = None,
    strategy: Any = "chat_template",
    *,
    num_threads: int = 0,
    progress: bool = False,
    **options: Any,
) -> pa.Table:
    """Tokenizes the rows of `data` (a pyarrow Table / RecordBatch / RecordBatchReader or a
    `datasets.Dataset`) as Axolotl's strategy would and returns a Table of its columns
    (`input_ids`, `labels`, `attention_mask`: list<int32>, list<int64>, list<int8>, as
    `datasets` stores them, in the strategy's order).

    `strategy="chat_template"` needs no Axolotl: `tokenizer` is a transformers fast tokenizer
    (its template, special tokens, EOS id and name are the defaults) or a tokenizer.json path,
    and `options` are those of `chat_template_plan`, with Axolotl's defaults. `strategy` may
    also be a prompt strategy object Axolotl built (`axolotl.prompt_strategies.load(...)`, or
    the alpaca/completion/input_output strategies): its plan and tokenizer are read off it.
    A row the Rust path does not model, or that Axolotl would fail on, raises
    InvalidArgumentError naming the row and the reason."""
    if isinstance(strategy, str):
        if strategy != "chat_template":
            raise InvalidArgumentError(
                f"unknown strategy {strategy!r}: 'chat_template', or an Axolotl prompt strategy object"
            )
        text, split = tokenizer_json(tokenizer)
        compiled = PromptStrategy(text, chat_template_plan(**{**_tokenizer_defaults(tokenizer), **options}), split)
    else:
        from .axolotl.fallback import Fallback
        from .axolotl.plans import plan_of

        if options:
            raise TypeError(f"options {sorted(options)} are read off the strategy object; pass none")
        try:
            plan = plan_of(strategy)
        except Fallback as why:
            raise InvalidArgumentError(f"the Rust path does not model this strategy: {why}") from None
        text, split = tokenizer_json(strategy.tokenizer if tokenizer is None else tokenizer)
        compiled = PromptStrategy(text, plan, split)
    table, indices = rows_of(data)
    parts = []
    slices = compiled.tokenize_slices(table, indices, num_threads)
    total = table.num_rows if indices is None else len(indices)
    for start, out in _progress(slices, total, progress):
        status = out.column("status")
        if pc.any(pc.not_equal(status, STATUS_DONE)).as_py():
            first = pc.index(status, STATUS_FALLBACK).as_py()
            row = start + out.column("row")[first].as_py()
            raise InvalidArgumentError(f"row {row}: {out.column('message')[first].as_py()}")
        parts.append(out.select(compiled.schema.names))
    return pa.Table.from_batches(parts, schema=compiled.schema)


def _tokenizer_defaults(tokenizer: Any) -> dict:
    """The template, special-token strings, EOS id and name a transformers tokenizer holds."""
    if not hasattr(tokenizer, "backend_tokenizer"):
        return {}
    defaults = {
        "special_tokens": dict(tokenizer.special_tokens_map),
        "eos_token_id": tokenizer.eos_token_id,
        "name_or_path": str(getattr(tokenizer, "name_or_path", "") or ""),
    }
    if isinstance(getattr(tokenizer, "chat_template", None), str):
        defaults["chat_template"] = tokenizer.chat_template
    return defaults


def _progress(
    slices: Iterable[tuple[int, pa.RecordBatch]], total: int, enabled: bool
) -> Iterator[tuple[int, pa.RecordBatch]]:
    if not enabled:
        yield from slices
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, desc="Tokenizing (fast-axolotl)", unit=" rows") as bar:
        for start, out in slices:
            yield start, out
            bar.update(min(ROWS_PER_CALL, total - start))
