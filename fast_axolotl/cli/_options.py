"""What the subcommands share on the command line: the `--ray` option, option types, and
progress bars on stderr."""

from __future__ import annotations

import argparse
import sys


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
