"""The native library's file name on each platform: what cargo names the `fastaxo` cdylib
there, so what the build hook copies into the package and what the loader opens.

Standard library only: the build hook loads this file by path, before the package can be
imported.
"""

from __future__ import annotations

import sys


def library_filename(platform: str = sys.platform) -> str:
    """`libfastaxo.so` (Linux and other Unixes), `libfastaxo.dylib` (macOS), `fastaxo.dll`
    (Windows), for a `sys.platform` value."""
    if platform.startswith(("win32", "cygwin", "msys")):
        return "fastaxo.dll"
    if platform == "darwin":
        return "libfastaxo.dylib"
    return "libfastaxo.so"
