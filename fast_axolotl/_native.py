"""Find and open the native library (libfastaxo.so, .dylib or fastaxo.dll) with cffi (ABI mode) and turn failed calls into exceptions.

Importing this module loads the library; `fast_axolotl` imports it only when a kernel is
first used, so `import fast_axolotl` stays cheap. Every call into the library goes through
`check`, the one place where a status code becomes an exception.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, cast

from cffi import FFI

from . import errors
from ._cdef import cdef_from_header
from ._libname import library_filename

if TYPE_CHECKING:
    from ._abi import FFI as TypedFFI
    from ._abi import CData, Lib

# The ABI this Python code was written against; must equal the library's fax_abi_version().
ABI_VERSION = 2

_PACKAGE_DIR = Path(__file__).resolve().parent
LIBRARY_NAME = library_filename()
HEADER_NAME = "fastaxo.h"

# Typed as the stub says (it also takes numpy arrays where a buffer goes): the same object.
ffi = cast("TypedFFI", FFI())


def _header_text() -> str:
    """The header installed next to the library by the build hook."""
    path = _PACKAGE_DIR / HEADER_NAME
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ImportError(
            f"fast_axolotl: {path} is missing; the package was not built by its build hook "
            "(install it with `pip install .` or `pip install -e .`)"
        ) from exc


def library_path() -> Path:
    """Where the library is loaded from: $FASTAXO_LIB if set, else inside the package."""
    override = os.environ.get("FASTAXO_LIB")
    return Path(override) if override else _PACKAGE_DIR / LIBRARY_NAME


def open_library(path: Path, expected_abi: int = ABI_VERSION) -> Lib:
    """dlopen `path` and check its ABI version; any failure is an ImportError naming `path`."""
    if not path.is_file():
        raise ImportError(
            f"fast_axolotl: native library not found at {path} "
            f"(reinstall fast-axolotl, or point FASTAXO_LIB at a built {LIBRARY_NAME})"
        )
    try:
        # NODELETE: the library must outlive any pointer Python still holds into it.
        # (Windows has no dlopen flags: cffi there has neither constant.)
        lib = cast("Lib", ffi.dlopen(str(path), getattr(ffi, "RTLD_NOW", 0) | getattr(ffi, "RTLD_NODELETE", 0)))
    except OSError as exc:
        raise ImportError(f"fast_axolotl: cannot load {path}: {exc}") from exc
    found = lib.fax_abi_version()
    if found != expected_abi:
        raise ImportError(
            f"fast_axolotl: {path} has ABI version {found}, but this fast_axolotl package "
            f"expects ABI version {expected_abi}; reinstall fast-axolotl so that the library "
            "and the Python package come from the same build"
        )
    return lib


ffi.cdef(cdef_from_header(_header_text()))
lib = open_library(library_path())

_ERROR_CLASSES: dict[int, type[errors.FastAxolotlError]] = {
    lib.FAX_ERR_INVALID_ARGUMENT: errors.InvalidArgumentError,
    lib.FAX_ERR_IO: errors.FastAxolotlIOError,
    lib.FAX_ERR_NOT_FOUND: errors.NotFoundError,
    lib.FAX_ERR_FORMAT: errors.FormatError,
    lib.FAX_ERR_BUFFER_TOO_SMALL: errors.BufferTooSmallError,
    lib.FAX_ERR_PANIC: errors.RustPanicError,
}
for _status, _cls in _ERROR_CLASSES.items():
    _cls.status = _status
ERROR_STATUSES = frozenset(_ERROR_CLASSES)


def last_error_message() -> str:
    """The calling thread's last failure message (valid right after a failed call)."""
    size = lib.fax_last_error_message(ffi.NULL, 0)
    buf = ffi.new("char[]", size + 1)
    lib.fax_last_error_message(buf, size + 1)
    return c_string(buf).decode("utf-8", errors="replace")


def check(status: int) -> None:
    """Raise the exception that `status` stands for; do nothing for FAX_OK."""
    if status:
        raise last_error(status)


def last_error(status: int) -> errors.FastAxolotlError:
    """The exception for the calling thread's last failure, whose status is `status`."""
    cls = _ERROR_CLASSES.get(status, errors.FastAxolotlError)
    if cls is errors.BufferTooSmallError:
        return errors.BufferTooSmallError(last_error_message(), needed=lib.fax_last_error_needed())
    return cls(last_error_message())


def library_version() -> str:
    return c_string(lib.fax_version_string()).decode("ascii")


def c_string(pointer: CData) -> bytes:
    """The bytes of a NUL-terminated `char *` or `char[]` (`ffi.string` of a char pointer)."""
    return cast(bytes, ffi.string(pointer))
