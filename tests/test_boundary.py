"""The C boundary: header drift, exported symbols, a C program, panics, ABI checks."""

from __future__ import annotations

import os
import re
import shutil

import pytest
import tomllib
from conftest import REPO, run, run_python

import fast_axolotl

HEADER = REPO / "include" / "fastaxo.h"
RUST = REPO / "rust"


def header_functions() -> tuple[set[str], set[str]]:
    """(always exported, exported only with a cargo feature) function names in the header."""
    always, gated = set(), set()
    inside_feature = False
    for line in HEADER.read_text().splitlines():
        if line.startswith("#if defined(FAX_FEATURE_"):
            inside_feature = True
        elif line.startswith("#endif"):
            inside_feature = False
        for name in re.findall(r"\b(fax_\w+)\(", line):
            (gated if inside_feature else always).add(name)
    return always, gated


def test_header_matches_sources():
    # Regenerates the header with cbindgen (rust/gen-header) and fails on any difference.
    result = run(["cargo", "run", "--quiet", "--locked", "-p", "fastaxo-gen-header", "--", "--check"], cwd=RUST)
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_unicode_table_matches_oniguruma():
    # Re-probes the Oniguruma build the tokenizers crate links (rust/gen-unicode) and fails
    # if the character classes the fast BPE scanners use differ from it.
    result = run(
        ["cargo", "run", "--quiet", "--locked", "--release", "-p", "fastaxo-gen-unicode", "--", "--check"], cwd=RUST
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_library_exports_only_the_header_functions(native):
    nm = run(["nm", "-D", "--defined-only", str(native.library_path())], check=True).stdout
    exported = {line.split()[-1] for line in nm.splitlines() if line.strip()}
    always, gated = header_functions()
    assert exported == always, f"not in header: {exported - always}, missing: {always - exported}"
    assert gated == {"fax_debug_panic"}


def test_cdef_parses_every_header_function(native):
    always, gated = header_functions()
    for name in always:
        assert callable(getattr(native.lib, name))


def test_c_program_against_header(native, tmp_path):
    cc = shutil.which("cc")
    assert cc, "a C compiler (cc) is needed"
    exe = tmp_path / "test_abi"
    lib = native.library_path()
    compile_cmd = [
        cc,
        "-std=c99",
        "-Wall",
        "-Werror",
        "-I",
        str(REPO / "include"),
        str(REPO / "tests" / "c" / "test_abi.c"),
        str(lib),
        f"-Wl,-rpath,{lib.parent}",
        "-o",
        str(exe),
    ]
    compiled = run(compile_cmd)
    assert compiled.returncode == 0, compiled.stderr
    result = run([str(exe)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all C ABI checks passed" in result.stdout
    assert f"libfastaxo {fast_axolotl.__version__}, ABI {native.ABI_VERSION}" in result.stdout


def test_versions_agree(native):
    cargo = tomllib.loads((RUST / "Cargo.toml").read_text())["package"]["version"]
    assert cargo == fast_axolotl.__version__ == native.library_version()
    assert native.lib.fax_abi_version() == native.ABI_VERSION == native.lib.FAX_ABI_VERSION
    assert fast_axolotl.get_version() == (f"fast-axolotl {cargo} (libfastaxo {cargo}, ABI {native.ABI_VERSION})")
    assert fast_axolotl.is_available() is True


def test_last_error_message_contract(native):
    ffi, lib = native.ffi, native.lib
    lists = ffi.new("FaxLists *")
    offsets = ffi.new("int64_t[]", [0])
    lists.offsets, lists.num_rows, lists.offsets_dtype = offsets, 0, lib.FAX_DTYPE_INT64
    lists.values_dtype = 99  # unknown dtype code
    width = ffi.new("size_t *")
    assert lib.fax_pad_width(lists, 0, 1, width) == lib.FAX_ERR_INVALID_ARGUMENT
    message = "unknown values_dtype 99"
    assert lib.fax_last_error_message(ffi.NULL, 0) == len(message)
    buf = ffi.new("char[]", 8)
    assert lib.fax_last_error_message(buf, 8) == len(message)
    assert ffi.string(buf) == message[:7].encode()
    with pytest.raises(fast_axolotl.InvalidArgumentError, match=message) as err:
        native.check(lib.fax_pad_width(lists, 0, 1, width))
    assert isinstance(err.value, ValueError) and err.value.status == lib.FAX_ERR_INVALID_ARGUMENT


def test_the_last_error_keeps_its_status_and_the_size_needed(native):
    """After FAX_ERR_BUFFER_TOO_SMALL the needed size is a value, not only text: here a row
    of 5 tokens padded into rows of width 3."""
    ffi, lib = native.ffi, native.lib
    values = ffi.new("int64_t[]", [1, 2, 3, 4, 5, 6])
    offsets = ffi.new("int64_t[]", [0, 1, 6])
    lists = ffi.new("FaxLists *")
    lists.values, lists.values_len, lists.offsets, lists.num_rows = values, 6, offsets, 2
    lists.offsets_dtype, lists.values_dtype = lib.FAX_DTYPE_INT64, lib.FAX_DTYPE_INT64
    out = ffi.new("int64_t[]", 6)
    status = lib.fax_pad_sequences(lists, 3, 0, lib.FAX_PAD_RIGHT, out, 6)
    assert status == lib.FAX_ERR_BUFFER_TOO_SMALL
    assert (lib.fax_last_error_status(), lib.fax_last_error_needed()) == (status, 5)
    with pytest.raises(fast_axolotl.BufferTooSmallError) as err:
        native.check(status)
    assert err.value.needed == 5
    assert lib.fax_pad_width(ffi.NULL, 0, 1, ffi.new("size_t *")) == lib.FAX_ERR_INVALID_ARGUMENT
    assert (lib.fax_last_error_status(), lib.fax_last_error_needed()) == (lib.FAX_ERR_INVALID_ARGUMENT, 0)


def test_every_status_code_has_its_exception(native):
    """Each FAX_ERR_* of the header has a class, and `check` raises it."""
    header = (REPO / "include" / "fastaxo.h").read_text()
    codes = {name: getattr(native.lib, name) for name in re.findall(r"#define (FAX_ERR_\w+)", header)}
    assert set(codes.values()) == set(native.ERROR_STATUSES)
    for name, code in codes.items():
        with pytest.raises(fast_axolotl.FastAxolotlError) as err:
            native.check(code)
        assert err.value.status == code and type(err.value) is not fast_axolotl.FastAxolotlError, name


def test_errors_are_per_thread(native):
    """A failure on one thread does not overwrite the message another thread reads."""
    import threading

    ffi, lib = native.ffi, native.lib
    lists = ffi.new("FaxLists *")
    offsets = ffi.new("int64_t[]", [0])
    lists.offsets, lists.num_rows, lists.offsets_dtype, lists.values_dtype = offsets, 0, 7, 4
    width = ffi.new("size_t *")
    assert lib.fax_pad_width(lists, 0, 1, width) != 0
    other = threading.Thread(target=lambda: lib.fax_pad_width(ffi.NULL, 0, 1, width))
    other.start()
    other.join()
    assert "offsets_dtype" in native.last_error_message()


DEBUG_RS = RUST / "src" / "ffi" / "debug.rs"


@pytest.fixture(scope="session")
def panic_library():
    """libfastaxo built with the `test-panic` feature (adds fax_debug_panic): a debug build
    in the usual target dir, so it reuses the dependencies `cargo test` compiled."""
    target = RUST / "target"
    built = run(["cargo", "build", "--quiet", "--locked", "-p", "fastaxo", "--features", "test-panic"], cwd=RUST)
    assert built.returncode == 0, built.stderr
    return target / "debug" / "libfastaxo.so"


@pytest.mark.slow  # builds a debug library with the test-panic feature
@pytest.mark.parametrize("in_worker", [0, 1], ids=["calling-thread", "rayon-worker"])
def test_rust_panic_becomes_exception(panic_library, in_worker):
    code = f"""
import fast_axolotl
from fast_axolotl import _native
try:
    _native.check(_native.lib.fax_debug_panic(b"deliberate panic", {in_worker}))
except fast_axolotl.RustPanicError as exc:
    print("caught:", exc)
print("still alive:", fast_axolotl.pad_sequences([[1], [2, 3]]))
"""
    result = run_python(code, env={**os.environ, "FASTAXO_LIB": str(panic_library)})
    assert result.returncode == 0, result.stderr
    assert "caught: Rust panic inside fastaxo" in result.stdout
    # The message says where: the panic! line of the debug export.
    line = next(
        i
        for i, text in enumerate(DEBUG_RS.read_text().splitlines(), 1)
        if 'panic!("{text}")' in text and ("join" in text) == bool(in_worker)
    )
    assert f"deliberate panic (at src/ffi/debug.rs:{line}:" in result.stdout
    assert "still alive: [[1, 0], [2, 3]]" in result.stdout
    assert result.stderr == ""  # the guard's quiet hook: nothing printed


def test_abi_mismatch_is_import_error(native):
    path = native.library_path()
    with pytest.raises(ImportError) as err:
        native.open_library(path, expected_abi=native.ABI_VERSION + 1)
    text = str(err.value)
    assert str(path) in text
    assert f"ABI version {native.ABI_VERSION}" in text and f"expects ABI version {native.ABI_VERSION + 1}" in text


def test_missing_library_is_import_error(tmp_path):
    missing = tmp_path / "libfastaxo.so"
    code = """
import fast_axolotl
print("available:", fast_axolotl.is_available())
try:
    fast_axolotl.pad_sequences([[1]])
except ImportError as exc:
    print("import error:", exc)
"""
    result = run_python(code, env={**os.environ, "FASTAXO_LIB": str(missing)})
    assert result.returncode == 0, result.stderr
    assert "available: False" in result.stdout
    assert f"import error: fast_axolotl: native library not found at {missing}" in result.stdout


def test_import_does_not_load_the_library():
    result = run_python("import sys, fast_axolotl; print('fast_axolotl._native' in sys.modules)")
    assert result.stdout.strip() == "False", result.stderr
