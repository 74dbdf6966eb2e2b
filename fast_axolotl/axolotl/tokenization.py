"""Axolotl's tokenization map (`TokenizedPromptDataset.process`, the `dataset.map` of a
prompt strategy's `tokenize_prompt`) on the Rust strategies.

The plan is read off Axolotl's own strategy object after Axolotl built it, so every config
default and validation is Axolotl's. A strategy or setting the Rust path does not model runs
Axolotl's original map (a counted fallback); a row it does not model (or that Axolotl fails
on) runs Axolotl's own `tokenize_prompt` on that row, in place (counted as `fallback_rows`).
"""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from fast_axolotl.tokenize import STATUS_DONE, PromptStrategy, rows_of, tokenizer_json

from . import stages
from .fallback import Fallback
from .patches import SUMMARY_LOG
from .plans import plan_of
from .registry import count_fallback_rows

# Rust's reason for a row whose messages make Axolotl treat the whole map batch as one
# prompt (`is_prompt_batched` is false): only Axolotl's own map reproduces that.
_UNBATCHED = "unbatched:"
# datasets.map's batch_size (Axolotl's, for a batched strategy) and writer_batch_size.
_MAP_BATCH = 1000


def compile_strategy(strategy) -> PromptStrategy:
    plan = plan_of(strategy)
    try:
        json.dumps(plan, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise Fallback(f"the plan holds a value JSON cannot carry ({error})") from None
    text, split = tokenizer_json(strategy.tokenizer)
    return PromptStrategy(text, plan, split)


_engine_notes: set = set()


def note_engine(tokenizer) -> None:
    """Says once per reason that a tokenizer runs on the `tokenizers` engine (the same ids,
    at that library's speed), so that a slow run is explained."""
    if tokenizer.engine != "fast" and tokenizer.reason not in _engine_notes:
        _engine_notes.add(tokenizer.reason)
        SUMMARY_LOG.info(
            "fast-axolotl: this tokenizer runs on the tokenizers engine, not the fast one: %s", tokenizer.reason
        )


def process(self, dataset):
    """`TokenizedPromptDataset.process(dataset)`: the tokenized `datasets.Dataset` (its
    `.data` becomes the TokenizedPromptDataset), where `map` would leave it: written batch
    by batch to the cache file map would write (memory stays bounded by one call's rows),
    or in memory for an in-memory input or `dataset_keep_in_memory`."""
    from datasets import Dataset

    strategy = self.prompt_tokenizer
    if not isinstance(dataset, Dataset) or len(dataset) == 0:
        raise Fallback("not a non-empty datasets.Dataset")
    if getattr(strategy, "filter_rows", None):
        raise Fallback("the strategy filters rows first")
    compiled = compile_strategy(strategy)
    note_engine(compiled.tokenizer)
    table, indices = rows_of(dataset)
    fingerprint = stages.new_fingerprint(dataset, "tokenize_prompts", (compiled.plan, compiled.tokenizer_digest))
    batches = _tokenized_batches(
        compiled, table, indices, dataset, strategy, self.process_count or 0, self.process_count
    )
    # The first batch is made before anything is written: a strategy that must fall back
    # whole does so before a cache file exists.
    first = next(batches)
    return stages.mapped(
        dataset, _chain(first, batches), compiled.schema, None, fingerprint, keep_in_memory=bool(self.keep_in_memory)
    )


def _chain(first, rest):
    yield from first
    for batches in rest:
        yield from batches


def _tokenized_batches(compiled, table, indices, dataset, strategy, threads: int, num_proc):
    """Per C call, its output batches with Axolotl's rows spliced in, under a progress bar.
    Raises Fallback after the last (nothing written is kept) where Axolotl's map would not
    give these columns."""
    total = table.num_rows if indices is None else len(indices)
    produced = np.zeros(total, dtype=bool)
    for start, out in _with_progress(compiled.tokenize_slices(table, indices, threads), total):
        _mark_produced(out, start, produced)
        yield _resolved(out, start, dataset, strategy, compiled.schema)
    if _map_differs(produced, compiled.plan["strategy"] == "completion", num_proc):
        raise Fallback("a map batch with no tokens: Axolotl's map fails or types its columns null there")


def rows(self, dataset) -> int:
    return len(dataset)


def _mark_produced(out: pa.RecordBatch, start: int, produced: np.ndarray) -> None:
    """Marks the input rows that gave an output row with tokens (or that Axolotl's own code
    tokenizes: it fails on those, or gives tokens)."""
    if out.num_rows == 0:
        return
    rows = out.column("row").to_numpy() + start
    tokens = pc.list_value_length(out.column("input_ids")).to_numpy(zero_copy_only=False) > 0
    produced[rows[tokens | (out.column("status").to_numpy() != STATUS_DONE)]] = True


def _map_differs(produced: np.ndarray, drops_rows: bool, num_proc) -> bool:
    """Whether Axolotl's `dataset.map` (contiguous shards of `num_proc`, batches of 1000) would
    not give these columns: a batch of a strategy that drops rows with no output row returns
    {} (the map fails, or has no columns), and a shard whose first written batch has no
    tokens types its columns null (then fails on a later batch that has some)."""
    total = len(produced)
    shards = min(num_proc if num_proc and num_proc >= 1 else 1, total)
    div, mod = divmod(total, shards)
    for index in range(shards):
        start = div * index + min(index, mod)
        end = start + div + (1 if index < mod else 0)
        batches = range(start, end, _MAP_BATCH) if drops_rows else range(start, start + 1)
        if any(not produced[b : min(b + _MAP_BATCH, end)].any() for b in batches):
            return True
    return False


def _resolved(out: pa.RecordBatch, start: int, dataset, strategy, schema: pa.Schema) -> list:
    """The output batches of one call, with rows the Rust path left to Python tokenized by
    Axolotl's own `tokenize_prompt`, in place."""
    status = out.column("status").to_numpy()
    columns = out.select(schema.names)
    left = (status != STATUS_DONE).nonzero()[0]
    if left.size == 0:
        return [columns]
    messages = out.column("message")
    if any(messages[int(i)].as_py().startswith(_UNBATCHED) for i in left):
        raise Fallback("a row's messages make Axolotl tokenize its whole map batch as one prompt")
    count_fallback_rows("tokenize_prompts", int(left.size))
    pieces, done_from = [], 0
    for i in left:
        i = int(i)
        pieces.append(columns.slice(done_from, i - done_from))
        pieces.append(_axolotl_row(strategy, dataset, start + int(out.column("row")[i].as_py()), schema))
        done_from = i + 1
    pieces.append(columns.slice(done_from))
    return [p for p in pieces if p.num_rows]


def _axolotl_row(strategy, dataset, row: int, schema: pa.Schema) -> pa.RecordBatch:
    """Axolotl's `tokenize_prompt` on row `row` alone: a one-row batch for a batched strategy
    (as map would pass it within a larger one: the strategy tokenizes rows independently),
    the row's dict otherwise."""
    try:
        if strategy.supports_batched:
            result = strategy.tokenize_prompt(dataset[row : row + 1])
        else:
            result = {key: [value] for key, value in strategy.tokenize_prompt(dataset[row]).items()}
    except Exception as error:
        error.add_note(f"fast-axolotl: raised by Axolotl's tokenize_prompt on row {row} of the dataset")
        raise
    # a batched strategy that gives no row for it returns {}
    if result and list(result.keys()) != schema.names:
        raise Fallback(f"Axolotl's tokenize_prompt returned the columns {list(result.keys())}")
    return pa.RecordBatch.from_pydict({name: result.get(name, []) for name in schema.names}, schema=schema)


def _with_progress(slices, total: int):
    """A progress bar like the map's ("Tokenizing Prompts"), when datasets shows its bars."""
    from datasets.utils.logging import is_progress_bar_enabled

    if not is_progress_bar_enabled():
        yield from slices
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, desc="Tokenizing Prompts (fast-axolotl)", unit=" examples") as bar:
        done = 0
        for start, out in slices:
            yield start, out
            done_now = min(total, start + (out.column("row")[-1].as_py() + 1 if out.num_rows else 0))
            bar.update(done_now - done)
            done = done_now
