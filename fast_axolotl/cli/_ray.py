"""`--ray`: starting fast_axolotl.ray on a Ray cluster for a command, and a failed Ray task's
error as one line."""

from __future__ import annotations

import contextlib
import re
import sys

from ._files import _check_output


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
        from .. import ray as fr
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
