"""Reading a command's IN (a dataset, through the Rust reader) and writing its OUT (a Parquet
file, all or nothing)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Optional

READ_BATCH_ROWS = 8192


def _open_input(path: Path, columns: Optional[list[str]] = None):
    """A stream of pyarrow RecordBatches from a dataset file or directory (the Rust reader),
    with `.schema`, `close()` and `with`."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    from ..reader import open_reader

    return open_reader(str(path), columns=columns, batch_size=READ_BATCH_ROWS)


def _schema_names(path: Path) -> list[str]:
    with _open_input(path) as stream:
        return list(stream.schema.names)


def _check_columns(wanted: list[str], names: list[str], path: Path) -> None:
    missing = [c for c in wanted if c not in names]
    if missing:
        raise ValueError(f"{path} has no column {', '.join(map(repr, missing))} (columns: {', '.join(names)})")


def _check_output(args) -> None:
    source, out = args.input.resolve(), args.output.resolve()
    if out == source or source in out.parents:  # the reader would read what we write
        raise ValueError(f"OUT must not be IN or inside it: {args.output}")
    if not args.output.parent.is_dir():
        raise FileNotFoundError(f"{args.output.parent}: no such directory for OUT")


def _write_parquet(out: Path, schema, write: Callable) -> None:
    """`write(writer)` into a temporary file renamed to `out` at the end: a failed run
    leaves no half-written OUT behind."""
    import pyarrow.parquet as pq

    partial = out.with_name(f".{out.name}.partial")
    try:
        with pq.ParquetWriter(str(partial), schema) as writer:
            write(writer)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
