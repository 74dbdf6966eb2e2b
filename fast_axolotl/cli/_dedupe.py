"""`fast-axolotl dedupe`: exact row dedupe of a dataset into Parquet, here or on Ray."""

from __future__ import annotations

from ._files import _check_columns, _check_output, _open_input, _schema_names, _write_parquet
from ._options import progress
from ._ray import start_ray, task_errors


def run_dedupe(args) -> int:
    from ..dedupe import Seen, row_digests

    if args.ray is not None:
        return run_dedupe_ray(args)
    _check_output(args)
    counts = {"in": 0, "out": 0}
    with _open_input(args.input) as stream:
        if args.columns:
            _check_columns(args.columns, stream.schema.names, args.input)

        def write(writer) -> None:
            seen = Seen()
            with progress(args, unit="row", desc="dedupe") as bar:
                for batch in stream:
                    kept = seen.insert(row_digests(batch.select(args.columns) if args.columns else batch))
                    if kept.size:
                        writer.write_batch(batch.take(kept))
                    counts["in"] += batch.num_rows
                    counts["out"] += kept.size
                    bar.update(batch.num_rows)

        _write_parquet(args.output, stream.schema, write)
    print_dedupe(counts["in"], counts["out"])
    return 0


def run_dedupe_ray(args) -> int:
    """The same rows as run_dedupe, found by fast_axolotl.ray on a Ray cluster."""
    fr = start_ray(args)
    with task_errors(args):
        return dedupe_on_ray(args, fr)


def dedupe_on_ray(args, fr) -> int:
    if args.columns:
        _check_columns(args.columns, _schema_names(args.input), args.input)
    ds = fr.read(args.input)
    duplicates = fr.find_duplicates(ds, args.columns)
    fr.write_parquet(fr.drop_rows(ds, duplicates.row_ids), args.output)
    print_dedupe(duplicates.rows, duplicates.rows - len(duplicates.row_ids))
    return 0


def print_dedupe(rows_in: int, rows_out: int) -> None:
    print(f"rows in: {rows_in}")
    print(f"rows out: {rows_out} ({rows_in - rows_out} duplicates dropped)")
