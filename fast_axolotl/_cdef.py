"""Turn include/fastaxo.h into text that cffi's ``cdef`` accepts.

cdef takes no preprocessor lines except integer ``#define``s. This module has no
dependencies so the build hook and the tests can load it by path; it is the only place that
knows how the header is cut down.
"""

from __future__ import annotations

import re

_INT_DEFINE = re.compile(r"^#\s*define\s+\w+\s+-?\d+\s*$")
_CPLUSPLUS_OPEN = re.compile(r"^#\s*ifdef\s+__cplusplus\b")


def cdef_from_header(header: str) -> str:
    """Drop C++ guard blocks and preprocessor lines, keep declarations and integer defines.

    Declarations inside other ``#if`` blocks (such as the test-only ``fax_debug_panic``) are
    kept: in ABI mode cffi resolves a function only when Python first uses it.
    """
    kept: list[str] = []
    skipping_cplusplus = False
    for line in header.splitlines():
        stripped = line.strip()
        if skipping_cplusplus:
            if re.match(r"^#\s*endif\b", stripped):
                skipping_cplusplus = False
            continue
        if _CPLUSPLUS_OPEN.match(stripped):
            skipping_cplusplus = True
            continue
        if stripped.startswith("#") and not _INT_DEFINE.match(stripped):
            continue
        kept.append(line)
    return "\n".join(kept) + "\n"
