"""Writing Arrow record batches into an Arrow IPC stream file (`datasets`' cache format),
all or nothing."""

from __future__ import annotations

import os

import pyarrow as pa


def write_stream_file(target: str, batches, empty_schema) -> None:
    """`batches` into an Arrow IPC stream file (datasets' cache format) at `target`, written
    under a temporary name, then renamed: a failed or interrupted write leaves no half file
    that a later run would take as complete. `empty_schema()` gives the schema of a file
    without batches."""
    os.makedirs(os.path.dirname(target), exist_ok=True)
    partial = f"{target}.{os.getpid()}.partial"
    try:
        writer = None
        for batch in batches:
            if writer is None:
                writer = pa.ipc.new_stream(partial, batch.schema)
            writer.write_batch(batch)
        if writer is None:  # no rows: still a dataset with the right columns
            writer = pa.ipc.new_stream(partial, empty_schema())
        writer.close()
        os.replace(partial, target)
    finally:
        if os.path.exists(partial):
            os.remove(partial)
