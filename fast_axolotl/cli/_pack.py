"""`fast-axolotl pack`: packing a tokenized dataset into rows of at most N tokens, here or on
Ray."""

from __future__ import annotations

from ._files import _check_columns, _check_output, _open_input, _schema_names, _write_parquet
from ._options import progress
from ._ray import start_ray, task_errors


def run_pack(args) -> int:
    from .._packed import plan_bins

    if args.ray is not None:
        return run_pack_ray(args)
    _check_output(args)
    tokens, labels = read_token_columns(args, pack_columns(args))
    order, bin_offsets, lengths = plan_bins(tokens, args.max_length, args.strategy, args.column)
    write_packed(args, tokens, labels, order, bin_offsets)
    print_fill(len(lengths), int(lengths.sum()), len(bin_offsets) - 1, args.max_length)
    return 0


def pack_columns(args) -> list[str]:
    """The token column, then `labels` when the input has one (it becomes the labels)."""
    names = _schema_names(args.input)
    _check_columns([args.column], names, args.input)
    return [args.column] + (["labels"] if "labels" in names and args.column != "labels" else [])


def run_pack_ray(args) -> int:
    """Packs with fast_axolotl.ray (bins planned per batch of a million rows), then reads
    the output back for the fill report."""
    fr = start_ray(args)
    with task_errors(args):
        return pack_on_ray(args, fr)


def pack_on_ray(args, fr) -> int:
    ds = fr.read(args.input, columns=pack_columns(args))
    fr.write_parquet(fr.pack(ds, args.max_length, args.strategy, args.column), args.output)
    report = fr.pack_report(fr.read(args.output, columns=["attention_mask"]), args.max_length)
    print("\n".join(report.lines()))
    return 0


def read_token_columns(args, wanted: list[str]):
    """The `wanted` columns (the token column, then maybe `labels`) of the whole dataset as
    single ListArrays: packing needs every length and gathers rows in any order."""
    import pyarrow as pa

    from .._packed import token_list

    chunks: dict[str, list] = {name: [] for name in wanted}
    with _open_input(args.input, wanted) as stream, progress(args, unit="row", desc="read") as bar:
        types = {name: stream.schema.field(name).type for name in wanted}
        for batch in stream:
            for name in wanted:
                chunks[name].append(batch.column(name))
            bar.update(batch.num_rows)
    columns = [token_list(pa.chunked_array(chunks[n], types[n]), n) for n in wanted]
    return columns[0], (columns[1] if len(columns) > 1 else None)


def write_packed(args, tokens, labels, order, bin_offsets) -> None:
    """Gather the bins a chunk at a time (bounded memory) and write each chunk's rows."""
    from .._packed import PACKED_SCHEMA, packed_chunks

    def write(writer) -> None:
        with progress(args, total=len(bin_offsets) - 1, unit="row", desc="pack") as bar:
            for batch in packed_chunks(tokens, labels, order, bin_offsets, args.max_length):
                writer.write_batch(batch)
                bar.update(batch.num_rows)

    _write_parquet(args.output, PACKED_SCHEMA, write)


def print_fill(rows_in: int, total: int, bins: int, max_length: int) -> None:
    from .._packed import fill_lines

    print("\n".join(fill_lines(rows_in, total, bins, max_length)))
