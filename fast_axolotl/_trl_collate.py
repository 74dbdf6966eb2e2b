"""`DataCollatorForLanguageModeling.torch_call` (TRL 1.9, trl.trainer.sft_trainer) on the
Rust padding kernel: the same dict of int64 tensors, without a tensor per row.

Modelled: examples whose `input_ids` (and `labels`, when present, as long) are non-empty
lists of Python ints; padded (right, `pad_token_id` / -100 / mask 0) or `padding_free` (one
row, `position_ids` restarting per example or per `seq_lengths` entry, labels -100 where a
sequence starts), any `pad_to_multiple_of`. TRL 1.9's collator has no padding side, no
`completion_mask` / `assistant_masks` handling and no `return_position_ids` (SFTTrainer
builds `labels` when it tokenizes): there is nothing of those to reproduce.

Not modelled (TRL's own method runs): rows that are not lists (numpy arrays, tensors: their
dtype carries over in TRL), empty rows (TRL makes them float32), labels of another length
than their input_ids, `seq_lengths` that do not add up to the row, other keys TRL would fail
on. Python bools in rows are read as 0/1 (TRL would return bool tensors).
"""

from __future__ import annotations

import numpy as np

from ._lists import one_token_lists
from .axolotl.fallback import Fallback
from .padding import pad_sequences

LABEL_PAD = -100


def torch_call(collator, examples):
    """DataCollatorForLanguageModeling.torch_call."""
    import torch

    multiple = _multiple(collator.pad_to_multiple_of)
    ids, labels = _rows(examples)
    if collator.padding_free:
        out = _padding_free(ids, labels, _seq_lengths(examples), collator.pad_token_id, multiple)
    else:
        out = _padded(ids, labels, collator.pad_token_id, multiple)
    return {key: torch.from_numpy(value) for key, value in out.items()}


def _multiple(pad_to_multiple_of):
    if pad_to_multiple_of is None:
        return None
    if type(pad_to_multiple_of) is not int or pad_to_multiple_of < 1:
        raise Fallback(f"pad_to_multiple_of {pad_to_multiple_of!r}")
    return pad_to_multiple_of


def _rows(examples) -> tuple:
    """input_ids and labels rows (labels default to input_ids), checked as modelled."""
    if not isinstance(examples, list) or not examples:
        raise Fallback("no list of examples")
    try:
        ids = [example["input_ids"] for example in examples]
        labels = [example.get("labels", example["input_ids"]) for example in examples]
    except (KeyError, AttributeError) as error:
        raise Fallback(f"an example without input_ids ({error})") from None
    for row, label in zip(ids, labels):
        if type(row) is not list or type(label) is not list or not row or len(label) != len(row):
            raise Fallback("rows that are not non-empty int lists of one length")
    return ids, labels


def _seq_lengths(examples):
    """Each example's `seq_lengths` if the first has them (as TRL reads them), else None."""
    if "seq_lengths" not in examples[0]:
        return None
    try:
        return [example["seq_lengths"] for example in examples]
    except KeyError:
        raise Fallback("seq_lengths in some examples only") from None


def _padded(ids, labels, pad_token_id, multiple) -> dict:
    input_ids = pad_sequences(ids, pad_value=pad_token_id, pad_to_multiple_of=multiple, return_tensors="np")
    padded_labels = pad_sequences(labels, pad_value=LABEL_PAD, pad_to_multiple_of=multiple, return_tensors="np")
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    mask = (np.arange(input_ids.shape[1]) < lengths[:, None]).astype(np.int64)
    return {"input_ids": input_ids, "labels": padded_labels, "attention_mask": mask}


def _padding_free(ids, labels, seq_lengths, pad_token_id, multiple) -> dict:
    """One row of all examples; positions restart per sequence, and no label is learnt at a
    sequence's first token (TRL sets labels to -100 wherever position_ids is 0)."""
    flat_ids, offsets = _flat(ids, "input_ids")
    flat_labels, _ = _flat(labels, "labels")
    total = flat_ids.size
    sequences = np.diff(offsets) if seq_lengths is None else _checked_seq_lengths(seq_lengths, offsets)
    starts = np.cumsum(sequences) - sequences
    positions = np.arange(total, dtype=np.int64) - np.repeat(starts, sequences)
    flat_labels = np.where(positions == 0, LABEL_PAD, flat_labels)
    width = total if multiple is None else -(-total // multiple) * multiple
    return {
        "input_ids": _row(flat_ids, width, pad_token_id),
        "labels": _row(flat_labels, width, LABEL_PAD),
        "position_ids": _row(positions, width, 0),
    }


def _flat(rows, name: str) -> tuple:
    """All rows' tokens as one int64 array (one copy, refusing what is no int64), and offsets."""
    lists = one_token_lists(rows, name)
    values = np.frombuffer(lists.values, dtype=np.int64) if len(lists.values) else np.zeros(0, np.int64)
    return values, np.frombuffer(lists.offsets, dtype=np.int64)


def _checked_seq_lengths(seq_lengths, offsets) -> np.ndarray:
    """The flat sequence lengths; each example's must be positive and add up to its row."""
    flat, per_example = _flat(seq_lengths, "seq_lengths")
    if (np.diff(per_example) == 0).any() or (flat < 1).any():
        raise Fallback("empty or non-positive seq_lengths")
    if not np.array_equal(np.add.reduceat(flat, per_example[:-1]), np.diff(offsets)):
        raise Fallback("seq_lengths that do not add up to their rows")
    return flat


def _row(values: np.ndarray, width: int, pad: int) -> np.ndarray:
    row = np.full((1, width), pad, dtype=np.int64)
    row[0, : values.size] = values
    return row
