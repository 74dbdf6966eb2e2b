"""The `__call__` of Axolotl's collators (axolotl.utils.collators.batching) on `pad_sequences`:
one Rust call per key instead of Python list padding, `tokenizer.pad` and the tensor
conversion. Returns what the original returns (a `BatchEncoding` of int64 tensors or arrays,
same keys in the same order) for the common case; everything else runs the original.

- `DataCollatorForSeq2Seq`: dict features whose keys are `input_ids` and any of
  `attention_mask`, `labels`, `position_ids`; rows all Python int lists or all 1-D integer
  numpy arrays (what the batch-sampler collators pass).
- `BatchSamplerDataCollatorForSeq2Seq` (V1), `V2BatchSamplerDataCollatorForSeq2Seq` (V2):
  bins of such features with list rows, each bin's items concatenated into one row (a
  `length` key is dropped, as the originals drop it); V2 numbers the items 1, 2, ... in
  attention_mask and may squash position_ids.
- `PretrainingBatchSamplerDataCollatorForSeq2Seq`: a dict of columns, concatenated into one
  row, attention_mask numbered when `multipack_attn`.

Options: any padding side, pad_to_multiple_of, label_pad_token_id, position_pad_token_id
(the original never uses it: position_ids are padded with a range); padding True/"longest"
(max_length ignored, as tokenizer.pad ignores it), "max_length" (with max_length or the
tokenizer's model_max_length) and False/"do_not_pad" when the rows are of one length;
return_tensors "pt" or "np"; a tokenizer that uses transformers' own `pad`.

Not modelled (the original runs): other keys or tokenizers, rows longer than max_length
(tokenizer.pad leaves them ragged), rows of unequal length without padding, a model that
prepares decoder_input_ids, numpy rows in the batch-sampler collators. Also different: the
original pads the caller's `labels` and `position_ids` lists in place (this leaves the
features as they were); rows of Python bools (the original may return bool tensors, this
returns int64).
"""

from __future__ import annotations

import numpy as np
from transformers.tokenization_utils_base import BatchEncoding, PreTrainedTokenizerBase
from transformers.utils import PaddingStrategy

from fast_axolotl.packing import gather_packed_lists
from fast_axolotl.padding import pad_sequences

from .fallback import Fallback

KEYS = ("input_ids", "attention_mask", "labels", "position_ids")
# The tokenizer methods whose behaviour the fast path reproduces.
_PAD_METHODS = ("pad", "_pad", "_get_padding_truncation_strategies")


def collate(collator, features, return_tensors=None):
    """DataCollatorForSeq2Seq.__call__."""
    return_tensors = _check_options(collator, return_tensors)
    rows = {key: [f[key] for f in features] for key in _keys(features, KEYS)}
    return _finish(collator, rows, return_tensors)


def collate_bins(collator, features, return_tensors=None):
    """V2BatchSamplerDataCollatorForSeq2Seq.__call__: each bin (a list of features) becomes
    one row, its items concatenated, attention_mask numbering them 1, 2, ... (`length` is
    dropped); then padded as above."""
    return _collate_bins(collator, _bins(features), return_tensors, True, collator.squash_position_ids)


def collate_v1_bins(collator, features, return_tensors=None):
    """BatchSamplerDataCollatorForSeq2Seq.__call__: V2 without the numbering and squashing."""
    return _collate_bins(collator, _bins(features), return_tensors, False, False)


def collate_pretraining(collator, features, return_tensors=None):
    """PretrainingBatchSamplerDataCollatorForSeq2Seq.__call__: `features` is a dict of
    columns, all concatenated into one row (a bin whose items are the columns' rows)."""
    return _collate_bins(collator, [_items(features)], return_tensors, collator.multipack_attn, False)


def feature_count(collator, features, return_tensors=None) -> int:
    """The rows a collator call handles: its features (all bins' items; a column's rows)."""
    if isinstance(features, dict):
        return len(features.get("input_ids", ()))
    if features and isinstance(features[0], list):
        return sum(map(len, features))
    return len(features)


def _collate_bins(collator, bins, return_tensors, number_items: bool, squash: bool):
    return_tensors = _check_options(collator, return_tensors)
    if not all(isinstance(b, list) and b for b in bins):
        raise Fallback("an empty bin")
    keys = [k for k in _keys([item for b in bins for item in b], KEYS + ("length",)) if k != "length"]
    rows: dict = {key: _concatenated(bins, key, number_items and key == "attention_mask") for key in keys}
    if squash and "position_ids" in rows:
        rows["position_ids"] = [list(range(n)) for n in _lengths(rows["position_ids"])]
    return _finish(collator, rows, return_tensors)


def _finish(collator, rows: dict, return_tensors: str) -> BatchEncoding:
    _check_rows(rows)
    return _encoding(_pad_all(collator, rows), return_tensors)


def _bins(features) -> list:
    """The batch-sampler collators take a list of bins, or one bin unwrapped."""
    is_bins = isinstance(features, list) and features and isinstance(features[0], list)
    return features if is_bins else [features]


def _items(columns) -> list:
    """A dict of equally long columns as a list of row dicts (keys in the same order)."""
    if type(columns) is not dict or not all(type(c) is list for c in columns.values()):
        raise Fallback("features are not a dict of lists")
    if len({len(c) for c in columns.values()}) > 1:
        raise Fallback("columns of different lengths")
    keys = list(columns)
    return [dict(zip(keys, values)) for values in zip(*columns.values())]


def _pad_all(collator, rows: dict) -> dict:
    """Each key padded by one Rust call, as the original pads it: labels with
    label_pad_token_id and position_ids with a range, each to its own longest row (rounded
    up to pad_to_multiple_of); input_ids and attention_mask as tokenizer.pad does."""
    pad_values = {
        "input_ids": collator.tokenizer.pad_token_id,
        "attention_mask": 0,
        "labels": collator.label_pad_token_id,
        "position_ids": 0,  # replaced by a range below
    }
    side, multiple = collator.tokenizer.padding_side, collator.pad_to_multiple_of
    targets = dict.fromkeys(rows, (None, multiple))
    targets["input_ids"] = targets["attention_mask"] = _input_padding(collator, rows["input_ids"])
    padded = {
        key: pad_sequences(r, targets[key][0], pad_values[key], side, targets[key][1], "np") for key, r in rows.items()
    }
    if "position_ids" in padded:
        _fill_ranges(padded["position_ids"], rows["position_ids"], side)
    return padded


def _input_padding(collator, input_rows: list) -> tuple:
    """(target_length, pad_to_multiple_of) of input_ids and attention_mask. The strategy is
    resolved by the tokenizer's own code (its warning for padding=True with a max_length
    included), then applied as its `_pad` applies it."""
    strategy, _, max_length, _ = collator.tokenizer._get_padding_truncation_strategies(
        padding=collator.padding, max_length=collator.max_length, verbose=True
    )
    multiple = collator.pad_to_multiple_of
    lengths = _lengths(input_rows)
    if strategy == PaddingStrategy.LONGEST:
        return None, multiple
    if strategy == PaddingStrategy.MAX_LENGTH:
        if max(lengths) > _round_up(max_length, multiple):
            raise Fallback(f"a row longer than max_length={max_length}")  # left unpadded, ragged
        return max_length, multiple
    if min(lengths) != max(lengths):
        raise Fallback("rows of different lengths without padding")
    return None, None


def _round_up(length: int, multiple) -> int:
    if multiple is None or length % multiple == 0:
        return length
    return (length // multiple + 1) * multiple


def _encoding(padded: dict, return_tensors: str) -> BatchEncoding:
    if return_tensors == "pt":
        import torch

        padded = {key: torch.from_numpy(a) for key, a in padded.items()}
    return BatchEncoding(padded)


def _check_options(collator, return_tensors) -> str:
    """Refuse the options and tokenizers whose behaviour is not modelled here; returns the
    return_tensors the call uses."""
    if return_tensors is None:
        return_tensors = collator.return_tensors
    if return_tensors not in ("pt", "np"):
        raise Fallback(f"return_tensors={return_tensors!r}")
    if collator.model is not None and hasattr(collator.model, "prepare_decoder_input_ids_from_labels"):
        raise Fallback("a model that prepares decoder_input_ids")
    _check_tokenizer(collator.tokenizer)
    return return_tensors


def _check_tokenizer(tokenizer) -> None:
    cls = type(tokenizer)
    if not isinstance(tokenizer, PreTrainedTokenizerBase) or any(
        getattr(cls, name) is not getattr(PreTrainedTokenizerBase, name) for name in _PAD_METHODS
    ):
        raise Fallback(f"tokenizer {cls.__name__} has its own padding")
    names = tokenizer.model_input_names
    if not names or names[0] != "input_ids" or "attention_mask" not in names:
        raise Fallback(f"model_input_names={names!r}")
    if tokenizer.padding_side not in ("left", "right"):
        raise Fallback(f"padding_side={tokenizer.padding_side!r}")
    pad_id = tokenizer.pad_token_id
    if tokenizer.pad_token is None or type(pad_id) is not int or pad_id < 0:
        raise Fallback("no usable pad token")  # the original raises its own error


def _keys(features, allowed) -> list:
    """The first feature's keys (their order is the output's); every feature has the same."""
    if not isinstance(features, list) or not features or not all(type(f) is dict for f in features):
        raise Fallback("features are not a non-empty list of dicts")
    keys = list(features[0])
    if "input_ids" not in keys or not set(keys) <= set(allowed):
        raise Fallback(f"keys {keys}")
    if any(f.keys() != features[0].keys() for f in features):
        raise Fallback("features have different keys")
    return keys


def _concatenated(bins: list, key: str, numbered: bool) -> tuple:
    """Each bin's `key` rows side by side, as `(values, offsets)` (one row per bin), laid out
    by the packed-batch gather (its V2 layout); `numbered` multiplies each item's values by
    its number 1, 2, ... in the bin (what the V2 collator does to attention_mask)."""
    items = [item[key] for b in bins for item in b]
    if not all(type(row) is list for row in items):
        raise Fallback(f"{key} rows are not lists")  # np.array() of other rows: not modelled
    bin_offsets = np.cumsum([0] + [len(b) for b in bins])
    out, row_offsets = gather_packed_lists(items, np.arange(len(items)), bin_offsets)
    values = out["input_ids"] * out["attention_mask"] if numbered else out["input_ids"]
    return values, row_offsets


def _lengths(rows) -> list:
    """The row lengths of a key's rows: a list of rows or `(values, offsets)`."""
    return np.diff(rows[1]).tolist() if isinstance(rows, tuple) else [len(r) for r in rows]


def _check_rows(rows: dict) -> None:
    """The original treats list rows and numpy rows differently and mixes them badly; tokens
    themselves are checked by pad_sequences (it refuses non-integers). Concatenated bins
    (`(values, offsets)`) come from list rows."""
    all_rows = [r for key_rows in rows.values() if not isinstance(key_rows, tuple) for r in key_rows]
    if not (all(type(r) is list for r in all_rows) or all(isinstance(r, np.ndarray) for r in all_rows)):
        raise Fallback("rows are not all lists or all numpy arrays")
    lengths = _lengths(rows["input_ids"])
    if min(lengths) == 0:
        raise Fallback("an empty input_ids row")
    # tokenizer.pad pads attention_mask by input_ids' padding: equal lengths keep it square.
    if "attention_mask" in rows and _lengths(rows["attention_mask"]) != lengths:
        raise Fallback("attention_mask and input_ids lengths differ")


def _fill_ranges(padded: np.ndarray, rows, side: str) -> None:
    """The original pads position_ids with 0, 1, 2, ... rather than one value."""
    width = padded.shape[1]
    ramp = np.arange(width, dtype=np.int64)
    for i, n in enumerate(_lengths(rows)):
        pad = width - n
        if pad:
            padding = padded[i, n:] if side == "right" else padded[i, :pad]
            padding[:] = ramp[:pad]
