"""Exceptions raised when a call into libfastaxo fails; one class per status code."""

from __future__ import annotations


class FastAxolotlError(Exception):
    """Base class of every error reported by the native library."""

    status = -1


class InvalidArgumentError(FastAxolotlError, ValueError):
    """An argument is out of range, malformed or inconsistent (FAX_ERR_INVALID_ARGUMENT)."""


class FastAxolotlIOError(FastAxolotlError, OSError):
    """Reading or writing a file failed (FAX_ERR_IO)."""


class NotFoundError(FastAxolotlIOError, FileNotFoundError):
    """A path names no file: missing, or a pattern that matches nothing (FAX_ERR_NOT_FOUND)."""


class FormatError(FastAxolotlError, ValueError):
    """Input data is not in the format it claims (FAX_ERR_FORMAT)."""


class BufferTooSmallError(FastAxolotlError, ValueError):
    """An output array is smaller than the result (FAX_ERR_BUFFER_TOO_SMALL); `needed` is
    the size it would take (elements, or bytes for text)."""

    def __init__(self, message: str = "", needed: int = 0):
        super().__init__(message)
        self.needed = needed


class RustPanicError(FastAxolotlError):
    """A bug in libfastaxo: Rust panicked inside a call (FAX_ERR_PANIC).

    The panic was caught at the boundary; the interpreter and the library remain usable.
    """
