"""Kernels keep working in a forked child after the parent used the thread pools
(datasets.map(num_proc=...) and DataLoader workers fork)."""

from __future__ import annotations

import sys

import pytest
from conftest import run

SCRIPT = """
import os, sys
import numpy as np, pyarrow as pa
import fast_axolotl as fa

rows = pa.array([list(range(300))] * 3000, pa.list_(pa.int32()))
fa.pad_sequences(rows, return_tensors="np")  # large enough to run on the worker threads
fa.parallel_hash_rows([str(i) * 50 for i in range(5000)])
pid = os.fork()
if pid == 0:
    out = fa.pad_sequences(rows, return_tensors="np")
    digests = fa.parallel_hash_rows(["x" * 100] * 5000)
    os._exit(0 if out.shape == (3000, 300) and len(digests) == 5000 else 3)
_, status = os.waitpid(pid, 0)
print("child exit", os.waitstatus_to_exitcode(status))
"""


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_kernels_work_in_a_forked_child():
    result = run([sys.executable, "-c", SCRIPT], timeout=120)
    assert result.returncode == 0, result.stderr
    assert "child exit 0" in result.stdout


READ_AFTER_FORK = """
import os, sys
import pyarrow as pa, pyarrow.parquet as pq
from fast_axolotl import reader

pq.write_table(pa.table({"id": list(range(100_000))}), sys.argv[1], row_group_size=1000)
batches = reader.streaming_dataset_reader(sys.argv[1], batch_size=100)
opened = reader.open_reader(sys.argv[1], batch_size=100)
next(batches), next(iter(opened))  # both mid-read, the read-ahead thread running
pid = os.fork()
if pid == 0:
    failures = []
    for name, step in [("streaming_dataset_reader", lambda: next(batches)), ("open_reader", lambda: next(iter(opened)))]:
        try:
            step()
        except RuntimeError as error:
            failures.append("fork" in str(error))
    opened.close()
    batches.close()
    fresh = sum(len(b["id"]) for b in reader.streaming_dataset_reader(sys.argv[1], batch_size=1000))
    os._exit(0 if failures == [True, True] and fresh == 100_000 else 3)
_, status = os.waitpid(pid, 0)
print("child exit", os.waitstatus_to_exitcode(status), sum(len(b["id"]) for b in batches) + 100)
"""


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs fork")
def test_a_read_begun_before_a_fork_fails_in_the_child_and_goes_on_in_the_parent(tmp_path):
    """The parent's reader and read-ahead thread are not the child's: using them there is an
    error (not a hang on the parent's thread or lock), and a new read works."""
    result = run([sys.executable, "-c", READ_AFTER_FORK, str(tmp_path / "d.parquet")], timeout=120)
    assert result.returncode == 0, result.stderr
    assert "child exit 0 100000" in result.stdout, result.stdout
