"""`MultipackBatchSampler.generate_batches` and `__len__` of Axolotl's multipack sampler, with
the same batches, statistics and sampler draw; and the replicas of the torch/accelerate
samplers' draws (`RandomSampler`, `SequentialSampler`, `SeedableRandomSampler`) that draw
them whole.

Not a preprocessing pass, but the same kind of per-row Python around a kernel: with
pack_parallel patched, most of MultipackBatchSampler.generate_batches' time is the Python
mapping of 1M packed positions back to dataset indices.
"""

from __future__ import annotations

import functools
import gc
import queue
import threading
import time
from typing import Any, Callable, Literal, NamedTuple

import numpy as np

import fast_axolotl as fa

from .fallback import Fallback
from .multipack import bin_lists
from .stages import _axolotl_log

# The pack_bins strategies the sampler's packing takes (see _packing_strategy).
_Strategy = Literal["bfd", "first_fit", "next_fit"]


def generate_batches(sampler, set_stats=False):
    """`MultipackBatchSampler.generate_batches`: the same batches (lists of bins of dataset
    indices, Python ints), the same efficiency statistics, the same sampler draw. What the
    original does after packing (gc.collect()) frees memory only; it is left out."""
    if sampler._batches is not None:
        return sampler._batches
    # A million new lists and ints would set off full garbage collections over the whole
    # heap (seconds in a trainer's process); none of them is in a reference cycle.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _generate_batches(sampler, set_stats)
    finally:
        if collecting:
            gc.enable()


def _generate_batches(sampler, set_stats):
    lengths, bins = _packed_bins(sampler)
    dropped = _dropped_bins(sampler, len(bins))
    size = sampler.batch_size
    if size == 1:  # the trainer's sampler (one bin per batch): no slice per batch
        batches = [[bin_indices] for bin_indices in bins]
    else:
        batches = [bins[i : i + size] for i in range(0, len(bins), size)]
    if dropped:  # the original drops an incomplete last batch
        batches.pop()
    if set_stats:
        _count_statistics(sampler, lengths, len(bins), bins[len(bins) - dropped :])
    sampler._batches = batches
    return batches


class _Packed(NamedTuple):
    positions: np.ndarray  # the draw: dataset indices
    lengths: np.ndarray  # their lengths
    order: np.ndarray  # pack_bins' result: positions' indices, bin after bin
    offsets: np.ndarray

    @property
    def bins(self) -> int:
        return self.offsets.size - 1


def _packed(sampler) -> _Packed:
    """One draw from the sampler, packed."""
    strategy, positions, lengths = _draw(sampler)
    order, offsets = fa.pack_bins(lengths, sampler.batch_max_len, strategy, **_limits(sampler))
    del sampler._fast_axolotl_drawn
    return _Packed(positions, lengths, order, offsets)


def _draw(sampler) -> tuple[_Strategy, np.ndarray, np.ndarray]:
    """The packing strategy, the sampler's draw (dataset indices) and their lengths."""
    sampler.__dict__.pop("_fast_axolotl_drawn", None)  # left by a call that raised
    strategy = _packing_strategy(sampler)  # every refusal comes before the draw below
    positions = _drawn_indices(sampler)  # draws from the sampler (and its RNG) as the original
    return strategy, positions, sampler.lengths[positions]


# Making the lists of a million packed indices (Python ints) takes as long as packing them.
# _packed_bins packs in parts of whole groups (so the bins are _packed's) on a thread and
# makes the lists of each part while the thread packs the next: pack_bins releases the GIL,
# so the two run at once on two cores. A part is at least _PART_ITEMS items (a call costs
# ~0.1 ms); with Axolotl's groups of 100,000 it is one group.
_PART_ITEMS = 50_000


def _packed_bins(sampler) -> tuple[np.ndarray, list[list[int]]]:
    """One draw from the sampler: the lengths drawn, and the bins as lists of dataset
    indices (Python ints), as the original makes them."""
    strategy, positions, lengths = _draw(sampler)
    limits = _limits(sampler)
    parts = _parts(len(lengths), limits.get("group_size", 0))
    packings: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def pack_parts():
        for start, end in parts:
            try:
                packings.put(fa.pack_bins(lengths[start:end], sampler.batch_max_len, strategy, **limits))
            except BaseException as error:  # raised in the caller's thread
                packings.put(error)
                return

    threading.Thread(target=pack_parts, name="fast-axolotl-pack", daemon=True).start()
    bins = []
    for start, end in parts:
        packing = packings.get()
        if isinstance(packing, BaseException):
            raise packing
        order, offsets = packing
        bins += bin_lists(positions[start:end][order], offsets[:-1], offsets[1:])
    del sampler._fast_axolotl_drawn
    return lengths, bins


def _parts(items: int, group_size: int) -> list[tuple[int, int]]:
    """Consecutive ranges of whole groups of `group_size` items (0: one group), each of at
    least _PART_ITEMS items but the last."""
    size = group_size * -(-_PART_ITEMS // group_size) if 0 < group_size < items else items
    return [(start, min(start + size, items)) for start in range(0, items, max(1, size))]


def _bin_lists(packed: _Packed, first: int, end: int) -> list[list[int]]:
    """Bins first..end-1 as the original makes them: lists of dataset indices (Python ints)."""
    bounds = packed.offsets[first : end + 1]
    indices = packed.positions[packed.order[bounds[0] : bounds[-1]]]
    bounds = bounds - bounds[0]
    return bin_lists(indices, bounds[:-1], bounds[1:])


def _dropped_bins(sampler, bins: int) -> int:
    """How many of `bins` the original drops: an incomplete last batch, with drop_last."""
    rest = bins % sampler.batch_size
    return rest if sampler.drop_last else 0


def _count_statistics(sampler, lengths: np.ndarray, bins: int, dropped_batch: list[list[int]]) -> None:
    """The original's efficiency statistics of one draw (`lengths` packed into `bins`), with
    its expressions (numpy types included), the dropped batch's tokens and slots left out."""
    if sampler.sequential:  # allocate_sequentially's totals
        total_used, total_slots = int(np.sum(lengths, dtype=np.int64)), bins * int(sampler.batch_max_len)
    else:
        total_used, total_slots = lengths.sum(), bins * sampler.batch_max_len
    if dropped_batch:
        total_slots -= len(dropped_batch) * sampler.batch_max_len
        total_used -= sum(sampler.lengths[idx] for bin_indices in dropped_batch for idx in bin_indices)
    sampler.total_tokens_used += total_used
    sampler.total_token_slots += total_slots


def sampler_len(sampler):
    """`MultipackBatchSampler.__len__`: the fewest batches of num_count_samples fresh draws
    (gathered across ranks), the sampler's batches left from the last draw, as the original.
    The draws whose batches the original drops at once (all but the last) are only counted
    (and their statistics kept): no lists of a million ints made to be dropped. Only with
    generate_batches patched and a sampler drawn whole."""
    if not _batches_are_ours(sampler) or _whole_draw(sampler.sampler) is None:
        raise Fallback("generate_batches is not patched here, or the sampler is iterated")
    samples = sampler.num_count_samples
    if not isinstance(samples, int) or samples < 1:
        raise Fallback(f"num_count_samples={samples!r}")
    _packing_strategy(sampler)  # its refusals, before anything changes
    if sampler._len_across_ranks is not None:
        if sampler._batches is None:
            sampler._batches = sampler.generate_batches(set_stats=True)
        return sampler._len_across_ranks
    if sampler._batches is None:  # the original generates them, and drops them in its loop
        packed = _packed(sampler)
        dropped = _dropped_bins(sampler, packed.bins)
        _count_statistics(sampler, packed.lengths, packed.bins, _bin_lists(packed, packed.bins - dropped, packed.bins))
    log, counts = _axolotl_log("axolotl.utils.samplers.multipack"), []
    for sample in range(samples):
        sampler._batches = None
        start_time = time.time()
        if sample == samples - 1:  # the batches the sampler keeps
            counts.append(len(sampler.generate_batches(set_stats=False)))
        else:
            counts.append(_batch_count(sampler, _packed(sampler)))
        log.debug(f"generate_batches time: {time.time() - start_time}")
    sampler._len_across_ranks = sampler.gather_len_batches(min(counts))
    return sampler._len_across_ranks


def _batches_are_ours(sampler) -> bool:
    """Whether the sampler's class runs the generate_batches patch (its replacement says so)."""
    method = type(sampler).generate_batches
    return getattr(method, "__fast_axolotl_patch__", None) == "sampler_batches"


def _batch_count(sampler, packed: _Packed) -> int:
    """len(generate_batches()) of one draw."""
    return -(-packed.bins // sampler.batch_size) - (1 if _dropped_bins(sampler, packed.bins) else 0)


def generate_batches_fallback(original, sampler, set_stats=False):
    """The original, on the draw the fast path already took from the sampler, if it did."""
    drawn = sampler.__dict__.pop("_fast_axolotl_drawn", None)
    if drawn is None:
        return original(sampler, set_stats)
    if isinstance(drawn, np.ndarray):  # the original's bins hold what the sampler yields: ints
        drawn = drawn.tolist()
    source, sampler.sampler = sampler.sampler, drawn
    try:
        return original(sampler, set_stats)
    finally:
        sampler.sampler = source


def _drawn_indices(sampler) -> np.ndarray:
    """What iterating `sampler.sampler` yields, as an int64 array, left in
    `sampler._fast_axolotl_drawn` (a fallback from here on must reuse this draw). The
    samplers in _WHOLE_DRAWS (the ones Axolotl and its trainer use) are drawn whole, with
    the torch calls their __iter__ makes, instead of one Python int at a time (a million
    indices take ~120 ms that way, more than packing them); others are iterated."""
    source = sampler.sampler
    draw = _whole_draw(source)
    drawn = sampler._fast_axolotl_drawn = list(source) if draw is None else draw(source)
    positions = np.asarray(drawn)
    if positions.ndim != 1 or not np.issubdtype(positions.dtype, np.integer):
        raise Fallback("the sampler yields other than integers")
    return positions


def _whole_draw(source):
    """The function that draws `source` whole (see _drawn_indices), or None."""
    kind: Any = type(source)  # a sampler class (mypy takes type[Any] for not Hashable, as the cache needs)
    draw = _WHOLE_DRAWS.get((kind.__module__, kind.__qualname__))
    if draw is None or (draw is not _sequential and not _draws_permutations(source)):
        return None
    return draw if _replica_draws_as(kind, kind.__iter__, draw) else None


def _sequential(source) -> np.ndarray:
    return np.arange(len(source.data_source), dtype=np.int64)


def _draws_permutations(source) -> bool:
    """A random sampler without replacement over a non-empty source: whole permutations.
    (With replacement it draws 32 indices per torch call; an empty source raises.)"""
    return not source.replacement and len(source.data_source) > 0


def _permutations(source) -> np.ndarray:
    """RandomSampler.__iter__ without replacement: num_samples // n permutations of range(n),
    then the first num_samples % n of one more, drawn from the same generator."""
    import torch

    n, num_samples, generator = len(source.data_source), source.num_samples, source.generator
    if generator is None:  # the original seeds a fresh generator from torch's global RNG
        seed = int(torch.empty((), dtype=torch.int64).random_().item())
        generator = torch.Generator()
        generator.manual_seed(seed)
    # int32 draws the same permutation from the same random numbers as the original's int64
    # (a test checks it on a million), in two thirds of the time.
    dtype = torch.int32 if n < 2**31 else torch.int64
    whole, rest = divmod(num_samples, n)
    parts = [torch.randperm(n, generator=generator, dtype=dtype) for _ in range(whole)]
    if rest or n >= _RANDPERM_SHUFFLES_BELOW:
        parts.append(torch.randperm(n, generator=generator, dtype=dtype)[:rest])
    else:  # the original draws one more permutation and keeps none of it
        _advance_as_randperm(generator, n)
    return parts[0].numpy() if len(parts) == 1 else torch.cat(parts).numpy()


# torch's randperm on the CPU shuffles range(n) below this n: one 32-bit draw from the
# generator per item but the last (`generator->random() % (n - i)`).
_RANDPERM_SHUFFLES_BELOW = (2**32 - 1) // 20


def _advance_as_randperm(generator, n: int) -> None:
    """Leaves `generator` as torch.randperm(n) would: int32 random_() takes one 32-bit draw
    per element too, without the shuffle's random accesses (4 ms instead of 10 for a
    million). A test compares the generator's state with randperm's on a million."""
    import torch

    torch.empty(n - 1, dtype=torch.int32).random_(generator=generator)


def _seeded_permutations(source) -> np.ndarray:
    """accelerate's SeedableRandomSampler.__iter__ (what the trainer's accelerate puts in
    place of a RandomSampler): its generator reseeded with initial_seed + epoch, the
    RandomSampler draw, then the next epoch."""
    import torch

    if source.generator is None:
        source.generator = torch.Generator(
            device=torch.get_default_device() if hasattr(torch, "get_default_device") else "cpu"
        )
        source.generator.manual_seed(source.initial_seed)
    source.generator.manual_seed(source.epoch + source.initial_seed)
    drawn = _permutations(source)
    source.set_epoch(source.epoch + 1)
    return drawn


_WHOLE_DRAWS = {
    ("torch.utils.data.sampler", "SequentialSampler"): _sequential,
    ("torch.utils.data.sampler", "RandomSampler"): _permutations,
    ("accelerate.data_loader", "SeedableRandomSampler"): _seeded_permutations,
}


@functools.cache
def _replica_draws_as(kind, iter_function, replica) -> bool:
    """Whether `replica` yields what `iter_function` (`kind.__iter__`, as installed) yields
    and leaves the same state behind: torch's global RNG, the sampler's generator, its
    epoch. Checked once per process on small samplers, two draws each: a torch or accelerate
    whose samplers draw otherwise gets them iterated. fork_rng puts the global RNG back."""
    import torch

    def run(draw, make):
        with torch.random.fork_rng(devices=[]):
            source = make()
            drawn = [[int(i) for i in draw(source)] for _ in range(2)]
            generator = getattr(source, "generator", None)
            states = [torch.get_rng_state()] + ([generator.get_state()] if generator is not None else [])
            return drawn, [state.tolist() for state in states], getattr(source, "epoch", None)

    if replica is _sequential:
        makers: list[Callable[..., Any]] = [functools.partial(kind, range(n)) for n in (1, 9)]
    else:
        makers = [
            lambda n=n, num=num, seeded=seeded: kind(
                range(n), num_samples=num, generator=torch.Generator().manual_seed(5) if seeded else None
            )
            for seeded in (True, False)
            for n, num in ((9, None), (9, 4), (5, 12))
        ]
    try:
        return all(run(iter_function, make) == run(replica, make) for make in makers)
    except Exception:  # a sampler that cannot be made or drawn this way: iterate it
        return False


def _packing_strategy(sampler) -> _Strategy:
    """pack_bins' strategy for this sampler, or Fallback for what the original refuses or
    does in another way (its errors are its own)."""
    import multiprocessing

    from .settings import settings

    if np.asarray(sampler.lengths).dtype.kind not in "iu" or (sampler.lengths.size and sampler.lengths.min() < 0):
        raise Fallback("negative or non-integer lengths")
    if int(sampler.batch_size) < 1 or int(sampler.batch_max_len) < 1:
        raise Fallback("batch_size or batch_max_len below 1")
    if sampler.sequential:
        return "next_fit"
    processes = sampler.num_processes or 1
    if (min(4, processes) if processes else 4) < 1 or int(sampler.group_size) < 1:
        raise Fallback("num_processes or group_size below 1")
    if sampler.mp_start_method and sampler.mp_start_method not in multiprocessing.get_all_start_methods():
        raise Fallback(f"mp_start_method={sampler.mp_start_method!r}")
    if int(sampler.bin_size or sampler.batch_max_len) < 1:
        raise Fallback("bin_size below 1")
    return "bfd" if settings.fast_axolotl_packing == "bfd" else "first_fit"


def _limits(sampler) -> dict:
    if sampler.sequential:
        return {}
    return {"max_items_per_bin": int(sampler.bin_size or sampler.batch_max_len), "group_size": int(sampler.group_size)}


def sampler_rows(sampler, set_stats=False) -> int:
    """stats() rows of a generate_batches call: the lengths it packs."""
    return len(sampler.lengths)
