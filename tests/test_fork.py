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
