"""The `fast-axolotl` command (also `python -m fast_axolotl`): info, bench, dedupe, pack.

Every failure becomes one line on stderr and a non-zero exit (1; argparse's usage errors
are 2); `--debug` shows the traceback instead. Progress bars go to stderr, only when it is a
terminal and `--quiet` is not given.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import sys
from importlib import metadata
from pathlib import Path
from typing import Callable, Optional, Sequence

from .__about__ import __version__

READ_BATCH_ROWS = 8192


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args) or 0
    except KeyboardInterrupt:
        print("fast-axolotl: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # whoever read our output stopped (`| head`): not our error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as exc:  # the command's boundary: one line, unless --debug
        if args.debug:
            raise
        print(f"fast-axolotl {args.command}: error: {one_line(exc)}", file=sys.stderr)
        return 1


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", action="store_true", help="no progress bars")
    common.add_argument("--debug", action="store_true", help="show the traceback of an error")
    parser = argparse.ArgumentParser(prog="fast-axolotl", description="Rust kernels for Axolotl's data pipeline.")
    parser.add_argument("--version", action="version", version=f"fast-axolotl {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    info = commands.add_parser(
        "info", parents=[common], help="versions, library, CPU features, threads, Axolotl patches"
    )
    info.add_argument("--json", action="store_true", help="print the information as JSON")
    info.add_argument(
        "--axolotl", action="store_true", help="import Axolotl and try every patch (install, then uninstall)"
    )
    info.set_defaults(run=run_info)

    bench = commands.add_parser(
        "bench", parents=[common], help="run the benchmarks of a source checkout, write a Markdown report"
    )
    bench.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run, not numbers to quote)")
    bench.add_argument("--out", default="BENCHMARK.md", help="the report to write (default BENCHMARK.md)")
    bench.add_argument(
        "--bench-dir", help="the checkout's bench/ directory (default: $FASTAXO_BENCH_DIR, else found from the package)"
    )
    bench.add_argument("--only", action="append", metavar="SCRIPT", help="run only this bench_*.py (repeatable)")
    bench.set_defaults(run=run_bench)

    dedupe = commands.add_parser("dedupe", parents=[common], help="exact row dedupe of a dataset into Parquet")
    dedupe.add_argument(
        "input", type=Path, metavar="IN", help="a dataset file or directory (parquet, arrow, jsonl, csv)"
    )
    dedupe.add_argument("output", type=Path, metavar="OUT", help="the Parquet file to write")
    dedupe.add_argument(
        "--columns", nargs="+", metavar="COL", help="compare only these columns (default: all); every column is written"
    )
    add_ray_option(dedupe)
    dedupe.set_defaults(run=run_dedupe)

    pack = commands.add_parser("pack", parents=[common], help="pack a tokenized dataset into rows of at most N tokens")
    pack.add_argument("input", type=Path, metavar="IN", help="a tokenized dataset file or directory")
    pack.add_argument("output", type=Path, metavar="OUT", help="the Parquet file to write")
    pack.add_argument("--max-length", type=positive_int, required=True, metavar="N", help="tokens per packed row")
    pack.add_argument("--strategy", choices=("bfd", "first_fit"), default="bfd", help="bin packing (default bfd)")
    pack.add_argument("--column", default="input_ids", help="the token column (default input_ids)")
    add_ray_option(pack)
    pack.set_defaults(run=run_pack)
    return parser


def add_ray_option(command) -> None:
    command.add_argument(
        "--ray",
        nargs="?",
        const="local",
        metavar="ADDRESS",
        help="run on Ray Data (pip install 'fast-axolotl[ray]'): the cluster at ADDRESS, else a local one; "
        "OUT is then a directory of Parquet shards. Put it after IN OUT, or write --ray=ADDRESS",
    )


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def progress(args, **kwargs):
    """A tqdm bar on stderr, shown after a second and only on a terminal, unless --quiet."""
    from tqdm import tqdm

    return tqdm(file=sys.stderr, disable=args.quiet or not sys.stderr.isatty(), delay=1.0, **kwargs)


# --- info -----------------------------------------------------------------------------


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
        from . import _native
    except ImportError as exc:
        # _native raises before defining library_path(): name the path it tried.
        from ._libname import library_filename

        tried = os.environ.get("FASTAXO_LIB") or str(Path(__file__).parent / library_filename())
        return {"loaded": False, "path": tried, "error": str(exc)}
    from .hashing import sha256_backend

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
    return "unknown"


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
    from . import axolotl as fa_axolotl

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


# --- bench ----------------------------------------------------------------------------


def run_bench(args) -> int:
    from . import _bench

    bench_dir = _bench.find_bench_dir(args.bench_dir)
    scripts = _bench.bench_scripts(bench_dir, args.only)
    harness = _bench.load_harness(bench_dir)
    machine = harness.machine_info()  # before the run: its load average is the one we started with
    runs = _bench.run_all(scripts, args.quick, lambda **kw: progress(args, **kw))
    skipped = [s.name for s in _bench.bench_scripts(bench_dir) if s not in scripts]
    Path(args.out).write_text(_bench.markdown(runs, harness, args.quick, machine, skipped), encoding="utf-8")
    failed = _bench.failures(runs)
    print(f"wrote {args.out}: {len(runs) - len(failed)} of {len(runs)} benchmark scripts ran")
    if failed:
        print(f"fast-axolotl bench: error: {', '.join(failed)} failed (see {args.out})", file=sys.stderr)
        return 1
    return 0


# --- reading --------------------------------------------------------------------------


def _open_input(path: Path, columns: Optional[list[str]] = None):
    """A stream of pyarrow RecordBatches from a dataset file or directory (the Rust reader),
    with `.schema`, `close()` and `with`."""
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    from .reader import open_reader

    return open_reader(str(path), columns=columns, batch_size=READ_BATCH_ROWS)


def _schema_names(path: Path) -> list[str]:
    with _open_input(path) as stream:
        return list(stream.schema.names)


def _check_columns(wanted: list[str], names: list[str], path: Path) -> None:
    missing = [c for c in wanted if c not in names]
    if missing:
        raise ValueError(f"{path} has no column {', '.join(map(repr, missing))} (columns: {', '.join(names)})")


def _check_output(args) -> None:
    source, out = args.input.resolve(), args.output.resolve()
    if out == source or source in out.parents:  # the reader would read what we write
        raise ValueError(f"OUT must not be IN or inside it: {args.output}")
    if not args.output.parent.is_dir():
        raise FileNotFoundError(f"{args.output.parent}: no such directory for OUT")


def _write_parquet(out: Path, schema, write: Callable) -> None:
    """`write(writer)` into a temporary file renamed to `out` at the end: a failed run
    leaves no half-written OUT behind."""
    import pyarrow.parquet as pq

    partial = out.with_name(f".{out.name}.partial")
    try:
        with pq.ParquetWriter(str(partial), schema) as writer:
            write(writer)
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)


# --- dedupe ---------------------------------------------------------------------------


def run_dedupe(args) -> int:
    from .dedupe import Seen, row_digests

    if args.ray is not None:
        return run_dedupe_ray(args)
    _check_output(args)
    counts = {"in": 0, "out": 0}
    with _open_input(args.input) as stream:
        if args.columns:
            _check_columns(args.columns, stream.schema.names, args.input)

        def write(writer) -> None:
            seen = Seen()
            with progress(args, unit="row", desc="dedupe") as bar:
                for batch in stream:
                    kept = seen.insert(row_digests(batch.select(args.columns) if args.columns else batch))
                    if kept.size:
                        writer.write_batch(batch.take(kept))
                    counts["in"] += batch.num_rows
                    counts["out"] += kept.size
                    bar.update(batch.num_rows)

        _write_parquet(args.output, stream.schema, write)
    print_dedupe(counts["in"], counts["out"])
    return 0


def run_dedupe_ray(args) -> int:
    """The same rows as run_dedupe, found by fast_axolotl.ray on a Ray cluster."""
    fr = start_ray(args)
    with task_errors(args):
        return dedupe_on_ray(args, fr)


def dedupe_on_ray(args, fr) -> int:
    if args.columns:
        _check_columns(args.columns, _schema_names(args.input), args.input)
    ds = fr.read(args.input)
    duplicates = fr.find_duplicates(ds, args.columns)
    fr.write_parquet(fr.drop_rows(ds, duplicates.row_ids), args.output)
    print_dedupe(duplicates.rows, duplicates.rows - len(duplicates.row_ids))
    return 0


def print_dedupe(rows_in: int, rows_out: int) -> None:
    print(f"rows in: {rows_in}")
    print(f"rows out: {rows_out} ({rows_in - rows_out} duplicates dropped)")


class TaskError(Exception):
    """A Ray task failed; the message is the task's own exception line."""


@contextlib.contextmanager
def task_errors(args):
    """A failed task's exception reaches the driver as text inside Ray's wrapper (the
    original object is not kept): show the task's own `Type: message` line, not Ray's traceback."""
    from ray.exceptions import RayError

    try:
        yield
    except RayError as exc:
        if args.debug:
            raise
        lines = [line for line in str(exc).splitlines() if re.match(r"^[A-Za-z_][\w.]*(Error|Exception): ", line)]
        user = [line for line in lines if not line.startswith("ray.")]
        raise TaskError((user or lines or [str(exc)])[0]) from None


def start_ray(args):
    """fast_axolotl.ray, connected to the cluster `--ray` names (or a new local one), once
    OUT is known to be usable (starting Ray takes seconds)."""
    try:
        from . import ray as fr
    except ImportError as exc:
        raise ImportError(f"--ray needs Ray Data ({exc}): pip install 'fast-axolotl[ray]'") from None
    import logging

    import ray.data

    _check_output(args)
    fr.check_output_dir(args.output)
    fr.init(args.ray, logging_level=logging.WARNING, log_to_driver=args.debug)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = not args.quiet and sys.stderr.isatty()
    if not args.debug:  # Ray Data logs every plan at INFO and failures at ERROR; they raise anyway
        logging.getLogger("ray.data").setLevel(logging.CRITICAL)
    return fr


# --- pack -----------------------------------------------------------------------------


def run_pack(args) -> int:
    from ._packed import plan_bins

    if args.ray is not None:
        return run_pack_ray(args)
    _check_output(args)
    tokens, labels = read_token_columns(args, pack_columns(args))
    order, bin_offsets, lengths = plan_bins(tokens, args.max_length, args.strategy, args.column)
    write_packed(args, tokens, labels, order, bin_offsets)
    print_fill(len(lengths), int(lengths.sum()), len(bin_offsets) - 1, args.max_length)
    return 0


def pack_columns(args) -> list[str]:
    """The token column, then `labels` when the input has one (it becomes the labels)."""
    names = _schema_names(args.input)
    _check_columns([args.column], names, args.input)
    return [args.column] + (["labels"] if "labels" in names and args.column != "labels" else [])


def run_pack_ray(args) -> int:
    """Packs with fast_axolotl.ray (bins planned per batch of a million rows), then reads
    the output back for the fill report."""
    fr = start_ray(args)
    with task_errors(args):
        return pack_on_ray(args, fr)


def pack_on_ray(args, fr) -> int:
    ds = fr.read(args.input, columns=pack_columns(args))
    fr.write_parquet(fr.pack(ds, args.max_length, args.strategy, args.column), args.output)
    report = fr.pack_report(fr.read(args.output, columns=["attention_mask"]), args.max_length)
    print("\n".join(report.lines()))
    return 0


def read_token_columns(args, wanted: list[str]):
    """The `wanted` columns (the token column, then maybe `labels`) of the whole dataset as
    single ListArrays: packing needs every length and gathers rows in any order."""
    import pyarrow as pa

    from ._packed import token_list

    chunks = {name: [] for name in wanted}
    with _open_input(args.input, wanted) as stream, progress(args, unit="row", desc="read") as bar:
        types = {name: stream.schema.field(name).type for name in wanted}
        for batch in stream:
            for name in wanted:
                chunks[name].append(batch.column(name))
            bar.update(batch.num_rows)
    columns = [token_list(pa.chunked_array(chunks[n], types[n]), n) for n in wanted]
    return columns[0], (columns[1] if len(columns) > 1 else None)


def write_packed(args, tokens, labels, order, bin_offsets) -> None:
    """Gather the bins a chunk at a time (bounded memory) and write each chunk's rows."""
    from ._packed import PACKED_SCHEMA, packed_chunks

    def write(writer) -> None:
        with progress(args, total=len(bin_offsets) - 1, unit="row", desc="pack") as bar:
            for batch in packed_chunks(tokens, labels, order, bin_offsets, args.max_length):
                writer.write_batch(batch)
                bar.update(batch.num_rows)

    _write_parquet(args.output, PACKED_SCHEMA, write)


def print_fill(rows_in: int, total: int, bins: int, max_length: int) -> None:
    from ._packed import fill_lines

    print("\n".join(fill_lines(rows_in, total, bins, max_length)))
