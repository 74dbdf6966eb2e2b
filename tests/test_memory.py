"""Memory (issue #8): the C programs under valgrind show no invalid access and no leak, and
100,000 small kernel calls from Python keep the resident memory flat.

valgrind is a Debian package (`apt-get install valgrind`); scripts/test.sh (CI) installs it
when it is missing and runs as root, and where it is still missing the valgrind tests skip,
saying so. The RSS test needs only Linux's /proc.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap

import pytest
from conftest import REPO, compile_c, run

VALGRIND = shutil.which("valgrind")
needs_valgrind = pytest.mark.skipif(VALGRIND is None, reason="valgrind is not installed (apt-get install valgrind)")

# Every export, valid and invalid calls, thread pools, an Arrow C stream (see its header).
ALL_KERNELS_C = REPO / "rust" / "fuzz" / "c" / "all_kernels.c"


# Two kinds of memory live until the process exits, by design, and show as "possibly lost"
# (reachable only through interior pointers) at exit; only they are suppressed:
# - the kernels' thread pools (threads.rs: made once per size and process, and kept): their
#   threads' bookkeeping and stacks, since the threads are still running;
# - arrow-csv's type-inference regexes, process-wide statics whose per-thread caches are
#   hashbrown tables (held by a pointer into the middle of their allocation).
POOL_SUPPRESSION = """
{
   fastaxo-thread-pools-live-until-exit
   Memcheck:Leak
   match-leak-kinds: possible
   ...
   fun:*fastaxo*threads*pool*
}
{
   arrow-csv-static-regex-caches
   Memcheck:Leak
   match-leak-kinds: possible
   ...
   fun:*regex_automata*
   ...
   fun:*arrow_csv*InferredDataType*
}
"""


def valgrind(exe, tmp_path):
    """Run `exe` under memcheck: any invalid access or leak (definite, indirect, or possible
    outside the thread pools) makes it exit 99."""
    suppressions = tmp_path / "pools.supp"
    suppressions.write_text(POOL_SUPPRESSION)
    cmd = [
        VALGRIND,
        "--error-exitcode=99",
        "--leak-check=full",
        "--show-leak-kinds=definite,indirect,possible",
        "--errors-for-leak-kinds=definite,indirect,possible",
        "--num-callers=40",
        f"--suppressions={suppressions}",
        str(exe),
    ]
    return run(cmd, timeout=600)


@needs_valgrind
def test_c_program_has_no_memory_errors(tmp_path):
    exe = compile_c(REPO / "tests" / "c" / "test_abi.c", tmp_path / "test_abi")
    result = valgrind(exe, tmp_path)
    assert result.returncode == 0, result.stderr[-6000:]
    assert "all C ABI checks passed" in result.stdout
    assert "ERROR SUMMARY: 0 errors" in result.stderr


@needs_valgrind
def test_every_kernel_from_c_has_no_memory_errors(tmp_path):
    exe = compile_c(ALL_KERNELS_C, tmp_path / "all_kernels")
    plain = run([str(exe)], timeout=120)
    assert plain.returncode == 0, plain.stdout + plain.stderr
    result = valgrind(exe, tmp_path)
    assert result.returncode == 0, result.stderr[-6000:]
    assert "all kernels checked" in result.stdout
    assert "ERROR SUMMARY: 0 errors" in result.stderr
    assert "definitely lost: 0 bytes" in result.stderr or "All heap blocks were freed" in result.stderr


RSS_SCRIPT = textwrap.dedent(
    """
    import numpy as np, pyarrow as pa
    import fast_axolotl as fa

    rows = [[1, 2, 3], [4], []]
    arrow = pa.array(rows, pa.list_(pa.int32()))
    values, offsets = np.arange(6, dtype=np.int64), np.array([0, 2, 2, 6], np.int64)
    table = pa.table({"a": [1, 1, 2], "b": ["x", "x", "y"]})
    lengths = np.array([3, 1, 0, 2], np.int64)
    calls = [
        lambda: fa.pad_sequences(rows),
        lambda: fa.pad_sequences(arrow, target_length=8, return_tensors="np"),
        lambda: fa.pad_sequences((values, offsets), padding_side="left", return_tensors="np"),
        lambda: fa.pack_sequences(rows, 4, 0, 2),
        lambda: fa.concatenate_and_pack(rows, rows, rows, 3, 0),
        lambda: fa.pack_bins(lengths, 4),
        lambda: fa.gather_packed(arrow, [0, 1, 2], [0, 2, 3], 4),
        lambda: fa.parallel_hash_rows(["a", b"b", "c"]),
        lambda: fa.deduplicate_indices(["a", "a", "b"], existing_hashes=[]),
        lambda: fa.row_digests(table),
        lambda: fa.dedupe_table(table),
        lambda: fa.create_padding_mask(1, 4),
    ]
    failing = [
        lambda: fa.pad_sequences((values, np.array([0, 9], np.int64))),
        lambda: fa.pack_sequences([[1, 2, 3]], 2, 0, 2, overflow="error"),
        lambda: fa.gather_packed(arrow, [5], [0, 1], 4),
    ]

    def rss_kib():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

    def burst(n):
        for i in range(n):
            calls[i % len(calls)]()
            if i % 10 == 0:
                try:
                    failing[i % len(failing)]()
                except ValueError:
                    pass

    burst(10_000)  # warm-up: pools, caches, allocator arenas
    before = rss_kib()
    burst(100_000)
    after = rss_kib()
    print("rss", before, after)
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_many_small_calls_keep_rss_flat():
    result = subprocess.run(
        [sys.executable, "-c", RSS_SCRIPT], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=900
    )
    assert result.returncode == 0, result.stderr[-4000:]
    before, after = (int(x) for x in result.stdout.split("rss")[1].split())
    # A leak of even 200 bytes per call would add 20 MB over these 110,000 calls.
    assert after - before < 20 * 1024, f"RSS grew from {before} KiB to {after} KiB"


ABANDON_SCRIPT = textwrap.dedent(
    """
    import gc, os, sys, tempfile
    import pyarrow as pa, pyarrow.parquet as pq
    import fast_axolotl as fa

    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, "data.parquet")
    table = pa.table({"ids": [list(range(i % 50)) for i in range(20_000)], "text": ["x" * (i % 200) for i in range(20_000)]})
    pq.write_table(table, path, row_group_size=2_000)
    csv = os.path.join(tmp, "data.csv")
    with open(csv, "w") as f:
        f.write("a,b\\n" + "".join(f"{i},{'y' * (i % 90)}\\n" for i in range(20_000)))

    def rss_kib():
        for line in open("/proc/self/status"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])

    def abandon(n):
        for i in range(n):
            reader = fa.open_reader(path if i % 2 else csv, batch_size=500)
            if i % 3:
                next(iter(reader))  # one batch read, decoders running ahead, then dropped
            if i % 5 == 0:
                reader.close()
            del reader
        gc.collect()

    abandon(100)  # warm-up
    before = rss_kib()
    abandon(1_000)
    after = rss_kib()
    print("rss", before, after)
    """
)


def test_abandoned_readers_keep_rss_flat():
    try:
        from fast_axolotl import reader  # noqa: F401
    except ImportError:
        pytest.skip("the streaming reader is not in this build")
    result = subprocess.run(
        [sys.executable, "-c", ABANDON_SCRIPT], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=900
    )
    assert result.returncode == 0, result.stderr[-4000:]
    before, after = (int(x) for x in result.stdout.split("rss")[1].split())
    # Each reader holds decoded batches and a file; 20 KB kept per abandoned reader is 20 MB.
    assert after - before < 20 * 1024, f"RSS grew from {before} KiB to {after} KiB over 1,000 readers"
