"""Packed rows from a token column: the bin plan and the row builder shared by
`fast-axolotl pack` (one process) and `fast_axolotl.ray.pack` (one call per Ray batch)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, Optional

import numpy as np
import pyarrow as pa

if TYPE_CHECKING:
    import numpy.typing as npt

    from ._types import PackStrategy

    Int64s = npt.NDArray[np.int64]

PACKED_COLUMNS = ("input_ids", "labels", "position_ids", "attention_mask")
PACKED_SCHEMA = pa.schema([(name, pa.list_(pa.int64())) for name in PACKED_COLUMNS])
# Row slots (bins * width) gathered per call: bounds packing's memory (4 int64 arrays of at
# most CHUNK_ELEMENTS) whatever the number of bins.
CHUNK_ELEMENTS = 1 << 21


def token_list(column: Any, name: str) -> Any:
    """One ListArray / LargeListArray without nulls (the kernels read it zero-copy)."""
    if not (pa.types.is_list(column.type) or pa.types.is_large_list(column.type)):
        raise ValueError(f"column {name!r} must hold lists of token ids, got {column.type}")
    if column.null_count:
        raise ValueError(f"column {name!r} has {column.null_count} null rows")
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def check_lengths(lengths: Int64s, max_length: int, column: str) -> None:
    too_long = lengths > max_length
    if too_long.any():
        raise ValueError(
            f"{int(too_long.sum())} rows of {column!r} are longer than --max-length {max_length} "
            f"(the longest has {int(lengths.max())} tokens): filter or truncate them first"
        )


def plan_bins(tokens: Any, max_length: int, strategy: PackStrategy, column: str) -> tuple[Int64s, Int64s, Int64s]:
    """`(order, bin_offsets, lengths)` of the rows of `tokens`; a row longer than
    `max_length` is an error (every row must go whole into one packed row)."""
    from .packing import pack_bins

    lengths = np.diff(tokens.offsets.to_numpy()).astype(np.int64)
    check_lengths(lengths, max_length, column)
    order, bin_offsets = pack_bins(lengths, max_length, strategy)
    return order, bin_offsets, lengths


def packed_chunks(
    tokens: Any, labels: Optional[Any], order: Int64s, bin_offsets: Int64s, width: int
) -> Iterator[pa.RecordBatch]:
    """The packed rows, a bounded chunk of bins at a time."""
    bins = len(bin_offsets) - 1
    step = max(1, CHUNK_ELEMENTS // width)
    for start in range(0, bins, step):
        stop = min(start + step, bins)
        yield packed_batch(tokens, labels, order, bin_offsets[start : stop + 1])


def packed_batch(tokens: Any, labels: Optional[Any], order: Int64s, offsets: Int64s) -> pa.RecordBatch:
    """The packed rows of the bins `offsets` delimits, each holding just its tokens (the
    kernel writes them unpadded, as the Arrow list layout wants them)."""
    from .packing import gather_packed_lists

    local = offsets - offsets[0]
    out, row_offsets = gather_packed_lists(tokens, order[offsets[0] : offsets[-1]], local, labels=labels)
    row_offsets = pa.array(row_offsets.astype(np.int32))  # the schema's lists: int32 offsets
    columns = [pa.ListArray.from_arrays(row_offsets, pa.array(out[name])) for name in PACKED_COLUMNS]
    return pa.RecordBatch.from_arrays(columns, schema=PACKED_SCHEMA)


def fill_lines(rows_in: int, total: int, bins: int, max_length: int) -> list[str]:
    """The fill report of a packing against the lower bound ceil(total / max_length)."""
    bound = -(-total // max_length)
    fill = total / (bins * max_length) if bins else 0.0
    return [
        f"rows in: {rows_in} ({total} tokens)",
        f"rows out: {bins} of at most {max_length} tokens",
        f"lower bound: ceil({total} / {max_length}) = {bound} rows"
        + (f"; {bins / bound:.4f}x the bound" if bound else ""),
        f"fill: {fill:.4f} of the token slots",
    ]
