"""parallel_hash_rows, deduplicate_indices and sha256_backend against hashlib and a
pure-Python dedupe."""

from __future__ import annotations

import hashlib
import os
import platform
import time

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fast_axolotl as fa

THREADS = [1, 2, 0, 10_000]


def hexes(rows) -> list[str]:
    return [hashlib.sha256(r if isinstance(r, bytes) else r.encode("utf-8")).hexdigest() for r in rows]


def digests(rows) -> np.ndarray:
    raw = b"".join(bytes.fromhex(h) for h in hexes(rows))
    return np.frombuffer(raw, np.uint8).reshape(-1, 32)


def reference_dedupe(rows, existing=()):
    seen, kept, new = set(existing), [], []
    for i, h in enumerate(hexes(rows)):
        if h not in seen:
            seen.add(h)
            kept.append(i)
            new.append(h)
    return kept, new


def as_form(rows, form):
    """The same rows in each input form parallel_hash_rows accepts."""
    text = all(isinstance(r, str) for r in rows)
    if form == "list":
        return rows
    if form == "tuple":
        return tuple(rows)
    if form in ("arrow", "arrow_large"):
        if text:
            return pa.array(rows, pa.string() if form == "arrow" else pa.large_string())
        return pa.array(rows, pa.binary() if form == "arrow" else pa.large_binary())
    if form == "arrow_sliced":  # offsets[0] != 0, data past the last row
        kind = pa.string() if text else pa.binary()
        junk = "junk" if text else b"junk"
        return pa.array([junk, junk] + rows + [junk], kind).slice(2, len(rows))
    if form == "chunked":
        half = len(rows) // 2
        kind = pa.large_string() if text else pa.binary()
        return pa.chunked_array([rows[:half], [], rows[half:]], kind)
    raise AssertionError(form)


FORMS = ["list", "tuple", "arrow", "arrow_large", "arrow_sliced", "chunked"]
row_text = st.text()  # every code point but surrogates: emoji, combining marks, "" ...


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(row_text, max_size=30), form=st.sampled_from(FORMS), threads=st.sampled_from(THREADS))
def test_text_rows_match_hashlib(rows, form, threads):
    assert fa.parallel_hash_rows(as_form(rows, form), threads) == hexes(rows)


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.binary(max_size=300), max_size=30), form=st.sampled_from(FORMS))
def test_bytes_rows_match_hashlib(rows, form):
    assert fa.parallel_hash_rows(as_form(rows, form)) == hexes(rows)


@settings(max_examples=100, deadline=None)
@given(rows=st.lists(st.one_of(row_text, st.binary()), max_size=20))
def test_mixed_str_and_bytes(rows):
    assert fa.parallel_hash_rows(rows) == hexes(rows)
    assert np.array_equal(fa.parallel_hash_rows(rows, return_digests=True), digests(rows))


def test_known_vectors_and_odd_text():
    rows = ["", "abc", "é", "e\u0301", "😀", "日本語", "\x00", "a" * 55, "a" * 56, "a" * 64]
    assert fa.parallel_hash_rows(rows)[:2] == [
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    ]
    assert fa.parallel_hash_rows(rows) == hexes(rows)


def test_one_megabyte_row():
    big = os.urandom(1 << 20)
    rows = [big.hex()[: 1 << 20], big, ""]
    assert fa.parallel_hash_rows(rows) == hexes(rows)
    assert fa.parallel_hash_rows(pa.array([big], pa.binary())) == hexes([big])


def test_many_rows_with_every_thread_count():
    # Enough rows and bytes that the kernel splits them over threads; some chunks of the list
    # path are all ASCII, others are not.
    rng = np.random.default_rng(0)
    words = ["data", "token", "naïve", "日本", "😀", '{"a": 1}', ""]
    rows = [" ".join(rng.choice(words, rng.integers(0, 40))) for _ in range(5000)]
    rows[4000:] = [r.encode("ascii", "replace").decode() for r in rows[4000:]]
    expected = hexes(rows)
    arrow = pa.array(rows, pa.string())
    chunked = pa.chunked_array([rows[:3000], rows[3000:]], pa.large_string())
    for threads in THREADS:
        assert fa.parallel_hash_rows(rows, threads) == expected
        assert fa.parallel_hash_rows(arrow, num_threads=threads) == expected
        assert fa.parallel_hash_rows(chunked, num_threads=threads) == expected
        assert np.array_equal(fa.parallel_hash_rows(arrow, threads, return_digests=True), digests(rows))


def test_return_digests():
    rows = ["a", b"b", "", "😀"]
    got = fa.parallel_hash_rows(rows, return_digests=True)
    assert isinstance(got, np.ndarray) and got.dtype == np.uint8 and got.shape == (4, 32)
    assert got.flags.c_contiguous
    assert [bytes(d) for d in got] == [hashlib.sha256(r if isinstance(r, bytes) else r.encode()).digest() for r in rows]
    assert fa.parallel_hash_rows(pa.chunked_array([], pa.string()), return_digests=True).shape == (0, 32)


@pytest.mark.parametrize("rows", [[], pa.array([], pa.string()), pa.chunked_array([], pa.binary())])
def test_no_rows(rows):
    assert fa.parallel_hash_rows(rows) == []
    assert fa.deduplicate_indices(rows) == ([], [])


def test_none_and_null_name_the_index():
    with pytest.raises(TypeError, match=r"rows\[1\] is None"):
        fa.parallel_hash_rows(["a", None, "b"])
    with pytest.raises(TypeError, match=r"rows\[2\] is None"):
        fa.parallel_hash_rows([b"a", "b", None])
    with pytest.raises(TypeError, match=r"rows\[1\] is null"):
        fa.parallel_hash_rows(pa.array(["a", None]))
    with pytest.raises(TypeError, match=r"rows\[3\] is null"):  # index across chunks
        fa.parallel_hash_rows(pa.chunked_array([["a", "b"], ["c", None]]))


def test_lists_longer_than_one_chunk():
    # A list is encoded in chunks of rows (and hashed on a helper thread): indices in errors
    # count from the start of the list, a bytes row in one chunk does not change how the
    # others are read, and rows of very different sizes change the chunk size on the way.
    rows = [f"row {i} {'é' if i % 7 == 0 else ''}" for i in range(10_000)]
    rows[3000:3100] = ["long " * 2000] * 100
    rows[9000] = b"bytes row"
    assert fa.parallel_hash_rows(rows) == hexes(rows)
    rows[9001] = None
    with pytest.raises(TypeError, match=r"rows\[9001\] is None"):
        fa.parallel_hash_rows(rows)
    rows[9001] = "\ud800"
    with pytest.raises(UnicodeEncodeError):
        fa.parallel_hash_rows(rows)


@pytest.mark.parametrize("rows", [["ok", "\ud800"], ["\udfff"], [b"x", "a\ud83d"]])
def test_lone_surrogate_raises_what_hashlib_path_raises(rows):
    with pytest.raises(UnicodeEncodeError) as expected:
        hexes(rows)
    with pytest.raises(UnicodeEncodeError) as got:
        fa.parallel_hash_rows(rows)
    assert str(got.value) == str(expected.value)
    assert (got.value.object, got.value.start) == (expected.value.object, expected.value.start)


@pytest.mark.parametrize(
    "rows, message",
    [
        (["a", 1], r"rows\[1\]: expected str or bytes, got int"),
        ([["a"]], r"rows\[0\]: expected str or bytes, got list"),
        ("abc", "list of str or bytes"),
        (b"abc", "list of str or bytes"),
        (None, "list of str or bytes"),
        (pa.array([1, 2]), "string or binary"),
        (pa.array([["a"]]), "string or binary"),
    ],
)
def test_other_types_are_type_errors(rows, message):
    with pytest.raises(TypeError, match=message):
        fa.parallel_hash_rows(rows)


@pytest.mark.parametrize("threads, error", [(-1, ValueError), (1.5, TypeError), (True, TypeError), ("2", TypeError)])
def test_bad_num_threads(threads, error):
    with pytest.raises(error, match="num_threads"):
        fa.parallel_hash_rows(["a"], threads)
    with pytest.raises(error, match="num_threads"):
        fa.deduplicate_indices(["a"], num_threads=threads)


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.sampled_from(["a", "b", "", "😀", "e\u0301", "x" * 100]) | row_text, max_size=40),
    existing=st.lists(st.sampled_from(["a", "b", "zzz", ""]), max_size=4),
    threads=st.sampled_from(THREADS),
)
def test_deduplicate_matches_reference(rows, existing, threads):
    existing_hashes = hexes(existing)
    expected = reference_dedupe(rows, existing_hashes)
    assert fa.deduplicate_indices(rows, existing_hashes, threads) == expected
    assert fa.deduplicate_indices(pa.array(rows, pa.string()), set(existing_hashes), threads) == expected
    if not existing:
        assert fa.deduplicate_indices(rows, num_threads=threads) == reference_dedupe(rows)


def test_deduplicate_chains_calls_and_takes_any_iterable():
    first, new = fa.deduplicate_indices(["a", "b", "a"])
    assert first == [0, 1]
    got = fa.deduplicate_indices(["b", "c", "c", "a", "d"], iter(new))
    assert got == ([1, 4], hexes(["c", "d"]))
    upper = [h.upper() for h in new]  # the same digests, in capitals
    assert fa.deduplicate_indices(["a", "z"], upper)[0] == [1]


@pytest.mark.parametrize(
    "existing, error, message",
    [
        (["zz"], ValueError, r"existing_hashes\[0\]"),
        ([hexes(["a"])[0], "g" * 64], ValueError, r"existing_hashes\[1\]"),
        ([hexes(["a"])[0][:63]], ValueError, r"existing_hashes\[0\]"),
        ([hexes(["a"])[0] + "0"], ValueError, r"existing_hashes\[0\]"),
        (["ab " * 21 + "a"], ValueError, r"existing_hashes\[0\]"),  # 64 chars with spaces
        ([hexes(["a"])[0][:60], hexes(["a"])[0][:4] + "0" * 64], ValueError, r"existing_hashes\[0\]"),
        ([b"\x00" * 32], TypeError, r"existing_hashes\[0\]"),
        ([None], TypeError, r"existing_hashes\[0\]"),
        ("ab" * 32, TypeError, "not one string"),
    ],
)
def test_malformed_existing_hashes(existing, error, message):
    with pytest.raises(error, match=message):
        fa.deduplicate_indices(["a"], existing)


def test_sha256_backend_is_reported():
    """The name matches what the CPU offers, read independently (/proc/cpuinfo): on x86_64
    "sha-ni" exactly when it has the SHA extensions (and the SSE levels sha2 needs with them),
    on aarch64 "aarch64-sha2" exactly when it has the SHA2 instructions, else "soft/asm"."""
    backend = fa.sha256_backend()
    flags = _cpu_flags()
    if flags is None:
        pytest.skip("no /proc/cpuinfo to read the CPU's features from")
    machine = platform.machine().lower()
    if machine in ("x86_64", "amd64", "i686", "i386"):
        expected = "sha-ni" if {"sha_ni", "sse2", "ssse3", "sse4_1"} <= flags else "soft/asm"
    elif machine in ("aarch64", "arm64"):
        expected = "aarch64-sha2" if "sha2" in flags else "soft/asm"
    else:
        expected = "soft/asm"
    assert backend == expected, f"{backend!r} reported on a {machine} CPU that gives {expected!r}"


def test_sha256_backend_reported_is_the_one_running():
    """The name is worked out beside sha2 (rust/src/dedupe/hash.rs), not read from it: check
    the code that runs. SHA-NI hashes about as fast as OpenSSL does with it (hashlib, which
    uses it on such CPUs); sha2's software code is 3-5x slower. One 32 MiB row, one thread,
    best of 5, interleaved."""
    if fa.sha256_backend() != "sha-ni" or "sha_ni" not in (_cpu_flags() or ()):
        pytest.skip("the speed check is for SHA-NI")
    text = "x" * (32 << 20)
    rows, data = pa.array([text], pa.large_string()), text.encode()
    assert fa.parallel_hash_rows(rows, num_threads=1) == [hashlib.sha256(data).hexdigest()]
    ours, openssl = [], []
    for _ in range(5):
        start = time.perf_counter()
        fa.parallel_hash_rows(rows, num_threads=1)
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        hashlib.sha256(data).digest()
        openssl.append(time.perf_counter() - start)
    slower = min(ours) / min(openssl)
    assert slower < 2.0, f"'sha-ni' reported, but hashing is {slower:.1f}x slower than OpenSSL's SHA-NI"


def _cpu_flags():
    """The CPU's feature flags from /proc/cpuinfo ("flags" on x86, "Features" on ARM)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return None
