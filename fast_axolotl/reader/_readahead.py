"""The read-ahead thread: the items of an iterator, taken from it by a worker thread a few
items ahead of the caller (the GIL is free while Rust decodes)."""

from __future__ import annotations

import os
import queue
import threading
from typing import Iterable, Iterator

_END = object()


def _read_ahead(batches: Iterable, depth: int = 2) -> Iterator:
    """The items of `batches`, taken from it by a worker thread at most `depth` ahead of
    the caller. The worker's error is raised after the items it read before it; the worker
    ends (within one item) as soon as the caller stops, raises or drops this generator."""
    ready: queue.Queue = queue.Queue(depth)
    stop = threading.Event()

    def hand_over(item) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.05)
                return True
            except queue.Full:
                pass
        return False

    def work() -> None:
        try:
            for batch in batches:
                if not hand_over((batch, None)):
                    return
            hand_over((_END, None))
        except BaseException as error:  # re-raised in the caller's thread
            hand_over((_END, error))

    worker = threading.Thread(target=work, name="fast_axolotl read-ahead", daemon=True)
    worker.start()
    pid = os.getpid()
    try:
        while True:
            if os.getpid() != pid:  # the worker is the parent's: waiting for it would hang
                raise RuntimeError("a read started before this process was forked cannot go on here: start it again")
            item, error = ready.get()
            if item is _END:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        worker.join()
