"""Packing: greedy sequence packing, the pretraining concatenation, bin packing and the
packed-batch gather. Each is one Rust kernel behind the C ABI."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Optional

import numpy as np

from . import _native
from ._args import check_return_tensors, choice_arg, convert, int64_arg, int64_buffer, matrix, size_arg
from ._lists import holds_bool, one_token_lists
from ._native import ffi, lib
from ._types import Ints, PackStrategy, Tokens

if TYPE_CHECKING:
    import numpy.typing as npt

_OVERFLOW = {
    "split": lib.FAX_OVERFLOW_SPLIT,
    "truncate": lib.FAX_OVERFLOW_TRUNCATE,
    "drop": lib.FAX_OVERFLOW_DROP,
    "error": lib.FAX_OVERFLOW_ERROR,
}


_STRATEGIES = {
    "first_fit": lib.FAX_PACK_FIRST_FIT,
    "next_fit": lib.FAX_PACK_NEXT_FIT,
    "bfd": lib.FAX_PACK_BEST_FIT_DECREASING,
    "ffd": lib.FAX_PACK_FIRST_FIT_DECREASING,
}


class BinPacking(tuple["npt.NDArray[np.int64]", "npt.NDArray[np.int64]"]):
    """`(order, bin_offsets)`: bin i holds items `order[bin_offsets[i]:bin_offsets[i + 1]]`.

    `oversize` counts the items longer than the capacity (each alone in its bin).
    """

    oversize: int

    def __new__(cls, order: npt.NDArray[np.int64], bin_offsets: npt.NDArray[np.int64], oversize: int) -> BinPacking:
        self = super().__new__(cls, (order, bin_offsets))
        self.oversize = oversize
        return self

    @property
    def order(self) -> npt.NDArray[np.int64]:
        return self[0]

    @property
    def bin_offsets(self) -> npt.NDArray[np.int64]:
        return self[1]


def pack_bins(
    lengths: Ints,
    capacity: int,
    strategy: PackStrategy = "bfd",
    max_items_per_bin: Optional[int] = None,
    group_size: Optional[int] = None,
) -> BinPacking:
    """Pack items of the given lengths into bins of `capacity`; returns `(order, bin_offsets)`
    as int64 arrays (a `BinPacking`, which also carries `oversize`).

    "first_fit" is Axolotl's multipack `pack_group` (given order, first bin with room and
    fewer than `max_items_per_bin` items), "next_fit" its `allocate_sequentially` (all bins;
    keep every num_ranks-th yourself), "bfd" best-fit decreasing, "ffd" first-fit decreasing.
    An item longer than `capacity` gets a bin of its own. `group_size` packs consecutive
    groups independently and concatenates them (Axolotl's `pack_parallel`).
    """
    lengths = _int64_vector(lengths, "lengths")
    cap = int64_arg(capacity, "capacity")
    if cap < 1:
        raise ValueError(f"capacity must be at least 1, got {cap}")
    code = choice_arg(strategy, "strategy", _STRATEGIES)
    limit = size_arg(max_items_per_bin, "max_items_per_bin", 1, allow_none=True) or 0
    groups = size_arg(group_size, "group_size", 1, allow_none=True) or 0
    n = lengths.size
    order = np.empty(n, dtype=np.int64)
    offsets = np.empty(n + 1, dtype=np.int64)
    num_bins, oversize = ffi.new("size_t *"), ffi.new("size_t *")
    _native.check(
        lib.fax_pack_bins(
            ffi.from_buffer("int64_t[]", lengths),
            n,
            cap,
            code,
            limit,
            groups,
            int64_buffer(ffi, order),
            int64_buffer(ffi, offsets),
            num_bins,
            oversize,
        )
    )
    return BinPacking(order, offsets[: num_bins[0] + 1], int(oversize[0]))


class PackedBatch(dict[str, Any]):
    """The result of `pack_sequences`: a dict of `input_ids`, `labels`, `attention_mask`.

    `overflow` says how many sequences did not fit a row alone and what happened to them:
    `{"split": n, "truncated": n, "dropped": n}` — nothing is lost without a trace.
    """

    overflow: dict[str, int]


def pack_sequences(
    sequences: Tokens,
    max_length: int,
    pad_token_id: int,
    eos_token_id: int,
    label_pad_id: int = -100,
    overflow: Literal["split", "truncate", "drop", "error"] = "split",
    return_tensors: Optional[Literal["np", "pt"]] = None,
) -> PackedBatch:
    """Pack sequences greedily, in input order, into rows of `max_length` tokens.

    Each sequence is followed by `eos_token_id`; it joins the current row if it fits, else
    the row is padded (`pad_token_id`, labels `label_pad_id`, mask 0) and a new row starts.
    `labels` equal the tokens (EOS included) where `attention_mask` is 1. A sequence with
    `len + 1 > max_length` follows `overflow`: "split" continues it across rows (from a fresh
    row), "truncate" keeps its first `max_length - 1` tokens + EOS, "drop" skips it, "error"
    raises ValueError naming its index. Counts are in the result's `overflow` attribute.
    """
    width = size_arg(max_length, "max_length", 2)
    rule = choice_arg(overflow, "overflow", _OVERFLOW)
    pad, eos, label_pad = (
        int64_arg(v, n)
        for v, n in ((pad_token_id, "pad_token_id"), (eos_token_id, "eos_token_id"), (label_pad_id, "label_pad_id"))
    )
    torch = check_return_tensors(return_tensors)

    lists = one_token_lists(sequences)
    struct = lists.c_struct()
    rows = ffi.new("size_t *")
    _native.check(lib.fax_pack_sequences_rows(struct, width, rule, rows))
    ids, labels, mask = (matrix(None, rows[0], width, width_name="max_length") for _ in range(3))
    counts = ffi.new("FaxPackCounts *")
    _native.check(
        lib.fax_pack_sequences(
            struct,
            width,
            pad,
            eos,
            label_pad,
            rule,
            int64_buffer(ffi, ids),
            int64_buffer(ffi, labels),
            int64_buffer(ffi, mask),
            ids.size,
            counts,
        )
    )
    if return_tensors is None:
        result = PackedBatch(_packed_lists(ids, mask, label_pad))
    else:
        result = PackedBatch(
            input_ids=convert(ids, return_tensors, torch),
            labels=convert(labels, return_tensors, torch),
            attention_mask=convert(mask, return_tensors, torch),
        )
    result.overflow = {"split": counts.split, "truncated": counts.truncated, "dropped": counts.dropped}
    return result


def _packed_lists(
    ids: npt.NDArray[np.int64], mask: npt.NDArray[np.int64], label_pad: int
) -> dict[str, list[list[int]]]:
    """Lists from packed rows, making each token's int object once: labels reuse the
    input_ids' objects (they are the same tokens), masks are built from constant lists."""
    width = ids.shape[1]
    id_rows = ids.tolist()
    lengths = np.count_nonzero(mask, axis=1).tolist()
    label_tail, ones, zeros = [label_pad] * width, [1] * width, [0] * width
    return {
        "input_ids": id_rows,
        "labels": [row[:n] + label_tail[n:] for row, n in zip(id_rows, lengths)],
        "attention_mask": [ones[:n] + zeros[n:] for n in lengths],
    }


def concatenate_and_pack(
    input_ids: Tokens,
    labels: Tokens,
    attention_masks: Tokens,
    max_length: int,
    pad_token_id: int,
    label_pad_id: int = -100,
    return_tensors: Optional[Literal["np", "pt"]] = None,
) -> dict[str, Any]:
    """Concatenate three parallel streams and cut them into rows of `max_length` (the
    pretraining "wrapped" layout); the last row is padded (`pad_token_id`, `label_pad_id`,
    mask 0). The streams must hold as many sequences, of the same lengths."""
    width = size_arg(max_length, "max_length", 1)
    pad, label_pad = int64_arg(pad_token_id, "pad_token_id"), int64_arg(label_pad_id, "label_pad_id")
    torch = check_return_tensors(return_tensors)

    named = {"input_ids": input_ids, "labels": labels, "attention_masks": attention_masks}
    streams = [one_token_lists(stream, name) for name, stream in named.items()]
    ids_struct, labels_struct, mask_struct = (s.c_struct() for s in streams)
    rows = ffi.new("size_t *")
    _native.check(lib.fax_concatenate_rows(ids_struct, labels_struct, mask_struct, width, rows))
    outs = [matrix(None, rows[0], width, width_name="max_length") for _ in range(3)]
    out_ids, out_labels, out_mask = (int64_buffer(ffi, o) for o in outs)
    _native.check(
        lib.fax_concatenate_and_pack(
            ids_struct, labels_struct, mask_struct, width, pad, label_pad, out_ids, out_labels, out_mask, outs[0].size
        )
    )
    return dict(zip(("input_ids", "labels", "attention_mask"), (convert(o, return_tensors, torch) for o in outs)))


def gather_packed(
    input_ids: Tokens,
    order: Ints,
    bin_offsets: Ints,
    width: int,
    labels: Optional[Tokens] = None,
    pad_token_id: int = 0,
    label_pad_id: int = -100,
    position_pad_id: int = 0,
    attention_pad_id: int = 0,
    return_tensors: Literal["np", "pt"] = "np",
) -> dict[str, Any]:
    """Write one row of `width` per bin of a packing (`order`, `bin_offsets`, as `pack_bins`
    returns it): `input_ids` and `labels` (the tokens when `labels` is None) of the bin's items
    side by side, `position_ids` restarting at 0 for every item, and `attention_mask`
    numbering the items 1..K (Axolotl's V2 multipack collator layout)."""
    width = size_arg(width, "width", 0)
    pads = ffi.new("FaxGatherPads *")
    pads.pad_token_id = int64_arg(pad_token_id, "pad_token_id")
    pads.label_pad_id = int64_arg(label_pad_id, "label_pad_id")
    pads.position_pad_id = int64_arg(position_pad_id, "position_pad_id")
    pads.attention_pad_id = int64_arg(attention_pad_id, "attention_pad_id")
    torch = check_return_tensors(return_tensors)
    packing = _Packing(input_ids, labels, order, bin_offsets)
    outs = [matrix(None, packing.num_bins, width) for _ in range(4)]
    _native.check(lib.fax_gather_packed(*packing.c_args(), width, pads, *packing.c_outputs(outs), outs[0].size))
    return dict(zip(_GATHERED, (convert(o, return_tensors, torch) for o in outs)))


def gather_packed_lists(
    input_ids: Tokens, order: Ints, bin_offsets: Ints, labels: Optional[Tokens] = None
) -> tuple[dict[str, npt.NDArray[np.int64]], npt.NDArray[np.int64]]:
    """`gather_packed` without padding: `(columns, row_offsets)`, each column the bins' rows
    back to back (int64), row i at `row_offsets[i]:row_offsets[i + 1]`."""
    packing = _Packing(input_ids, labels, order, bin_offsets)
    # The output size, for the buffers: the kernel validates the lists, order and bin_offsets
    # (naming what is wrong) before it checks the size, so invalid ones only must not crash here.
    lengths = np.diff(np.asarray(packing.ids.offsets, dtype=np.int64))
    used = packing.order[packing.bin_offsets[0] : packing.bin_offsets[-1]]
    total = max(int(lengths[used[(used >= 0) & (used < lengths.size)]].sum()), 0)
    outs = [np.empty(total, dtype=np.int64) for _ in range(4)]
    row_offsets = np.empty(packing.num_bins + 1, dtype=np.int64)
    c_outs = packing.c_outputs(outs)
    _native.check(lib.fax_gather_packed_lists(*packing.c_args(), *c_outs, total, int64_buffer(ffi, row_offsets)))
    return dict(zip(_GATHERED, outs)), row_offsets


_GATHERED = ("input_ids", "labels", "position_ids", "attention_mask")


class _Packing:
    """The gathers' inputs, checked and converted (the lists kept alive for the calls)."""

    def __init__(self, input_ids: Tokens, labels: Optional[Tokens], order: Ints, bin_offsets: Ints) -> None:
        self.order = _int64_vector(order, "order")
        self.bin_offsets = _int64_vector(bin_offsets, "bin_offsets")
        if self.bin_offsets.size < 1:
            raise ValueError("bin_offsets must hold num_bins + 1 entries (at least one)")
        self.num_bins = self.bin_offsets.size - 1
        self.ids = one_token_lists(input_ids, "input_ids")
        self.labels = one_token_lists(labels, "labels") if labels is not None else None

    def c_args(self) -> tuple[Any, Any, Any, int, Any, int]:
        """(input_ids, labels, order, order_len, bin_offsets, num_bins) of the C exports."""
        labels = self.labels.c_struct() if self.labels is not None else ffi.NULL
        order, offsets = (ffi.from_buffer("int64_t[]", a) for a in (self.order, self.bin_offsets))
        return self.ids.c_struct(), labels, order, self.order.size, offsets, self.num_bins

    @staticmethod
    def c_outputs(outs: list[npt.NDArray[np.int64]]) -> tuple[Any, Any, Any, Any]:
        """The four outputs (input_ids, labels, position_ids, attention_mask) as C buffers."""
        ids, labels, positions, mask = (int64_buffer(ffi, o) for o in outs)
        return ids, labels, positions, mask


def _int64_vector(values: object, name: str) -> npt.NDArray[np.int64]:
    """A contiguous 1-D int64 array (no copy when it already is one)."""
    try:
        array = np.asarray(values)
    except ValueError as exc:  # ragged nesting: numpy's message names no argument
        raise ValueError(f"{name} must be a 1-D sequence of integers ({exc})") from None
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {array.shape}")
    if array.size == 0:
        return np.zeros(0, dtype=np.int64)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integers, got dtype {array.dtype}")
    if array.dtype == np.uint64 and int(array.max()) > np.iinfo(np.int64).max:
        raise ValueError(f"{name} has a value outside the int64 range")
    array = np.ascontiguousarray(array, dtype=np.int64)
    if isinstance(values, (list, tuple)):
        _refuse_bool_items(values, array, name)
    return array


def _refuse_bool_items(values: list[Any] | tuple[Any, ...], array: npt.NDArray[np.int64], name: str) -> None:
    """TypeError naming the first bool of the list `values` (np.asarray reads True as 1)."""
    if holds_bool(array, lambda: values, lambda where: map(values.__getitem__, where.tolist())):
        i = next(i for i, v in enumerate(values) if type(v) is bool)
        raise TypeError(f"{name}[{i}] is a bool, expected an int")
