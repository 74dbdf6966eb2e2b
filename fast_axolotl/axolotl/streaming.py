"""`axolotl.utils.data.streaming.encode_streaming` without its torch.cat buffer loop.

The original tokenizes the texts (truncated to max_tokens - 2), appends [eos, pad] to every
sequence (labels [eos, -100], attention_mask [1, 0]) and then fills rows of max_tokens
greedily in order: a sequence joins the current row if it fits, else the row is padded (pad,
-100, 0) and the sequence starts the next one; the last row is padded too. That is next-fit
bin packing, and every row is a contiguous run of sequences: `pack_bins(..., "next_fit")`
finds the runs and `pad_sequences` writes the rows from one flat buffer per key.

Not modelled (the original runs): an empty tokenization (the original's float tensor turns
its whole row into floats), a sequence longer than max_tokens - 2, attention_mask rows of
another length than input_ids, eos or pad ids that are not ints, non-integer tokens, a
tokenizer whose rows are not lists. `concatenate=False` returns the tokenizer's rows as new
int lists, as the original does.
"""

from __future__ import annotations

import numpy as np

import fast_axolotl as fa
from fast_axolotl._lists import token_lists

from .fallback import Fallback

IGNORE = -100  # the original's label for padding and for the pad after every eos


def encode_streaming(examples, tokenizer, max_tokens, text_column="text", concatenate=True):
    res = tokenizer(examples[text_column], truncation=True, max_length=max_tokens - 2, add_special_tokens=True)
    ids, mask = _rows(res, "input_ids"), _rows(res, "attention_mask")
    if not concatenate:
        return {"input_ids": _copies(ids), "labels": _copies(ids), "attention_mask": _copies(mask)}
    return _packed(ids, mask, tokenizer, max_tokens)


def texts(examples, tokenizer, max_tokens, text_column="text", concatenate=True) -> int:
    """The rows a call handles: its texts."""
    return len(examples[text_column])


def _rows(res, key: str) -> list:
    if key not in res or type(res[key]) is not list or not all(type(r) is list for r in res[key]):
        raise Fallback(f"the tokenizer's {key} is not a list of lists")
    return res[key]


def _copies(rows: list) -> list:
    """New lists of the same ints: what torch.tensor(row).tolist() gives for plain int rows
    (it would turn mixed rows, bools among ints say, into one type)."""
    if not all(set(map(type, r)) <= {int} for r in rows):
        raise Fallback("rows are not all plain ints")
    return [list(r) for r in rows]


def _packed(ids: list, mask: list, tokenizer, max_tokens: int) -> dict:
    eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id
    if type(eos) is not int or type(pad) is not int:
        raise Fallback(f"eos_token_id={eos!r}, pad_token_id={pad!r}")
    lengths = np.array([len(r) for r in ids], np.int64)
    if lengths.size and (lengths.min() == 0 or lengths.max() > max_tokens - 2):
        raise Fallback("an empty sequence, or one longer than max_tokens - 2")
    if [len(r) for r in mask] != lengths.tolist():
        raise Fallback("attention_mask and input_ids lengths differ")
    if not lengths.size:
        return {"input_ids": [], "labels": [], "attention_mask": []}
    # Sequence i with its two extra tokens spans flat[starts[i]:starts[i + 1]].
    starts = np.concatenate([[0], np.cumsum(lengths + 2)])
    _, bins = fa.pack_bins(lengths + 2, max_tokens, "next_fit")
    row_offsets = starts[bins]  # next fit keeps the order: a row is a run of sequences
    rows = {
        "input_ids": (_with_tails(ids, starts, eos, pad), pad),
        "labels": (_with_tails(ids, starts, eos, IGNORE), IGNORE),
        "attention_mask": (_with_tails(mask, starts, 1, 0), 0),
    }
    return {key: _padded_rows(flat, row_offsets, fill, max_tokens) for key, (flat, fill) in rows.items()}


def _with_tails(rows: list, starts: np.ndarray, first: int, second: int) -> np.ndarray:
    """Every row followed by [first, second], flattened into one int64 array."""
    values = np.asarray(token_lists(rows)[0].values)  # int64; refuses floats and ints outside int64
    lengths = np.diff(starts) - 2
    flat = np.empty(starts[-1], np.int64)
    # Row i's tokens move 2 * i places right: two extra tokens after each earlier row.
    flat[np.arange(values.size) + 2 * np.repeat(np.arange(lengths.size), lengths)] = values
    flat[starts[1:] - 2], flat[starts[1:] - 1] = first, second
    return flat


def _padded_rows(flat: np.ndarray, row_offsets: np.ndarray, fill: int, width: int) -> list:
    return fa.pad_sequences((flat, row_offsets), width, fill, "right", None, "np").tolist()
