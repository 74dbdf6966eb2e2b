"""The `fast-axolotl` command (also `python -m fast_axolotl`): info, bench, dedupe, pack.

This module parses the command line and runs the subcommand; each subcommand family has a
module of its own (_info.py, _bench.py, _dedupe.py, _pack.py), and what they share is in
_options.py (options, progress bars), _files.py (IN and OUT) and _ray.py (`--ray`).

Every failure becomes one line on stderr and a non-zero exit (1; argparse's usage errors
are 2); `--debug` shows the traceback instead. Progress bars go to stderr, only when it is a
terminal and `--quiet` is not given.
"""

from __future__ import annotations

# The `X as X` names: the public names this module had before it became a package (they
# are the subcommand modules' now), still importable from here.
import argparse
import contextlib as contextlib
import json as json
import os
import re as re
import sys
from importlib import metadata as metadata
from pathlib import Path as Path
from typing import Callable as Callable
from typing import Optional, Sequence

from ..__about__ import __version__
from ._bench import run_bench
from ._dedupe import dedupe_on_ray as dedupe_on_ray
from ._dedupe import print_dedupe as print_dedupe
from ._dedupe import run_dedupe
from ._dedupe import run_dedupe_ray as run_dedupe_ray
from ._files import READ_BATCH_ROWS as READ_BATCH_ROWS
from ._info import collect_info as collect_info
from ._info import cpu_flags as cpu_flags
from ._info import cpu_model as cpu_model
from ._info import distribution_version as distribution_version
from ._info import format_info as format_info
from ._info import library_info as library_info
from ._info import patch_info as patch_info
from ._info import run_info
from ._info import thread_info as thread_info
from ._info import yes as yes
from ._options import add_ray_option, positive_int
from ._options import progress as progress
from ._pack import pack_columns as pack_columns
from ._pack import pack_on_ray as pack_on_ray
from ._pack import print_fill as print_fill
from ._pack import read_token_columns as read_token_columns
from ._pack import run_pack
from ._pack import run_pack_ray as run_pack_ray
from ._pack import write_packed as write_packed
from ._ray import TaskError as TaskError
from ._ray import start_ray as start_ray
from ._ray import task_errors as task_errors


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

    bench = commands.add_parser("bench", parents=[common], help="run the benchmarks, write a Markdown report")
    bench.add_argument("--quick", action="store_true", help="fewer repeats (a smoke run, not numbers to quote)")
    bench.add_argument("--out", default="BENCHMARK.md", help="the report to write (default BENCHMARK.md)")
    bench.add_argument("--bench-dir", help="run the bench_*.py scripts of this directory (default: the package's own)")
    bench.add_argument("--only", action="append", metavar="SCRIPT", help="run only this bench_*.py (repeatable)")
    bench.add_argument(
        "--readme", metavar="FILE", help="also write the run's goals into FILE's goals block (README.md)"
    )
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
