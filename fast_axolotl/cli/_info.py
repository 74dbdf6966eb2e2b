"""`fast-axolotl info`: versions, the native library, CPU features, threads and the Axolotl
patches, as text or JSON."""

from __future__ import annotations

import json
import os
import platform
from importlib import metadata
from pathlib import Path
from typing import Optional

from ..__about__ import __version__


def run_info(args) -> int:
    info = collect_info(try_patches=args.axolotl)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        print(format_info(info))
    return 0 if info["library"]["loaded"] else 1


def collect_info(try_patches: bool = False) -> dict:
    flags = cpu_flags()
    return {
        "fast-axolotl": __version__,
        "library": library_info(),
        "cpu": {"model": cpu_model(), "sha_ni": "sha_ni" in flags, "avx2": "avx2" in flags},
        "threads": thread_info(),
        "axolotl": distribution_version("axolotl"),
        "patches": patch_info(try_patches),
    }


def library_info() -> dict:
    """Where the library is, whether it loads, its versions and the SHA-256 code it uses."""
    try:
        from .. import _native
    except ImportError as exc:
        # _native raises before defining library_path(): name the path it tried.
        from .._libname import library_filename

        # The package's directory: this module's parent's.
        tried = os.environ.get("FASTAXO_LIB") or str(Path(__file__).parent.parent / library_filename())
        return {"loaded": False, "path": tried, "error": str(exc)}
    from ..hashing import sha256_backend

    return {
        "loaded": True,
        "path": str(_native.library_path()),
        "version": _native.library_version(),
        "abi": _native.lib.fax_abi_version(),
        "expected_abi": _native.ABI_VERSION,
        "sha256_backend": sha256_backend(),
    }


def cpu_flags() -> set:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def thread_info() -> dict:
    """The kernels size their own pools from the cores this process may use (they never use
    rayon's global pool, so RAYON_NUM_THREADS does not change them); num_threads= caps them."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {"cpu_count": os.cpu_count(), "usable": usable, "RAYON_NUM_THREADS": os.environ.get("RAYON_NUM_THREADS")}


def distribution_version(name: str) -> Optional[str]:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def patch_info(try_patches: bool) -> dict:
    """Each Axolotl patch: active in this process, and with `try_patches` what install() says
    (that imports Axolotl, so only on request; the patches are taken back out afterwards)."""
    from .. import axolotl as fa_axolotl

    outcome = fa_axolotl.install() if try_patches else {}
    try:
        stats = fa_axolotl.stats()
    finally:
        if try_patches:
            fa_axolotl.uninstall()
    return {
        name: {"active": s["active"], **({"install": outcome[name]} if name in outcome else {})}
        for name, s in stats.items()
    }


def format_info(info: dict) -> str:
    lib, cpu, threads = info["library"], info["cpu"], info["threads"]
    if lib["loaded"]:
        library = f"{lib['path']} (libfastaxo {lib['version']}, ABI {lib['abi']}; this package expects ABI {lib['expected_abi']})"
        sha = f"{lib['sha256_backend']} ({'SHA-NI in use' if lib['sha256_backend'] == 'sha-ni' else 'no SHA-NI'})"
    else:
        library, sha = f"NOT LOADED: {lib['error']}", "unknown (library not loaded)"
    rayon = threads["RAYON_NUM_THREADS"]
    lines = [
        f"fast-axolotl {info['fast-axolotl']}",
        f"library:   {library}",
        f"cpu:       {cpu['model']}; flags: sha_ni {yes(cpu['sha_ni'])}, avx2 {yes(cpu['avx2'])}",
        f"sha256:    {sha}",
        f"threads:   {threads['usable']} usable of {threads['cpu_count']} cores (the kernels use all usable cores unless "
        f"num_threads= is passed; RAYON_NUM_THREADS{'=' + rayon if rayon else ''} is not read)",
        f"axolotl:   {info['axolotl'] or 'not installed'}",
    ]
    tried = any("install" in p for p in info["patches"].values())
    lines.append(
        "patches:   "
        + (
            "install() tried here, then undone:"
            if tried
            else "in this process (Axolotl's plugin installs them in Axolotl; --axolotl tries them here):"
        )
    )
    for name, patch in info["patches"].items():
        state = "active" if patch["active"] else "inactive"
        lines.append(f"  {name}: {state}" + (f" (install: {patch['install']})" if "install" in patch else ""))
    return "\n".join(lines)


def yes(flag: bool) -> str:
    return "yes" if flag else "no"
