"""The kernels for hand-written PyTorch training loops: a `collate` factory for
`DataLoader(collate_fn=...)` and `PackedBatchSampler` for `DataLoader(batch_sampler=...)`.

    lengths = dataset_lengths(ds)
    sampler = PackedBatchSampler(lengths, max_length=2048, seed=0, num_replicas=world, rank=rank)
    loader = DataLoader(ds, batch_sampler=sampler, collate_fn=collate(max_length=2048, pack=True))

`collate` pads a batch (one Rust call per key, either side) or packs it into rows of
`max_length` in Axolotl's V2 layout (`position_ids` restarting at 0 for every sequence,
`attention_mask` numbering the sequences 1, 2, ...). Tensors share the kernels' output
memory (no copy). `PackedBatchSampler` bins a dataset's rows (best-fit decreasing or first
fit, after a seeded shuffle) and deals the batches to ranks as torch's `DistributedSampler`
deals its indices. Both take any `torch.utils.data.Dataset` whose items are dicts with
`input_ids` (and optionally `labels`), `datasets.Dataset` included.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Callable, Iterator, Literal, Mapping, Optional, Sequence, Union

import numpy as np
import torch
from torch.utils.data import Sampler

from ._args import choice_arg
from ._types import PackStrategy
from .packing import gather_packed, pack_bins
from .padding import pad_sequences

if TYPE_CHECKING:
    import numpy.typing as npt

# An example: `input_ids` and optional `labels`, token lists or 1-D integer arrays.
Example = Mapping[str, Any]

__all__ = ["collate", "PackedBatchSampler", "dataset_lengths"]

LABEL_PAD = -100
_SIDES: dict[str, Literal["right", "left"]] = {"right": "right", "left": "left"}


def collate(
    pad_token_id: int = 0,
    label_pad_id: int = LABEL_PAD,
    padding_side: Literal["right", "left"] = "right",
    pad_to_multiple_of: Optional[int] = None,
    max_length: Optional[int] = None,
    pack: bool = False,
) -> Callable[[list[Example]], dict[str, torch.Tensor]]:
    """A `collate_fn` for a list of examples (dicts with `input_ids`, optional `labels`,
    token lists or 1-D integer arrays). Padded: `input_ids`, `labels` (the tokens where none
    are given), `attention_mask` (1 on tokens), each `[batch, longest]` (at least
    `max_length` if given, rounded up to `pad_to_multiple_of`), padded on `padding_side`.
    `pack=True` (needs `max_length`): the examples best-fit into rows of `max_length`, with
    `position_ids` restarting per example and `attention_mask` numbering them 1..K."""
    if pack and not max_length:
        raise ValueError("pack=True needs max_length")
    side = choice_arg(padding_side, "padding_side", _SIDES)
    pack_length = max_length or 0  # with pack=True, max_length (checked above)

    def collate_fn(examples: list[Example]) -> dict[str, torch.Tensor]:
        ids = [example["input_ids"] for example in examples]
        labels = [example.get("labels", example["input_ids"]) for example in examples]
        if pack:
            return _packed(ids, labels, pack_length, pad_token_id, label_pad_id)
        return _padded(ids, labels, pad_token_id, label_pad_id, side, pad_to_multiple_of, max_length)

    return collate_fn


def _padded(
    ids: list[Any],
    labels: list[Any],
    pad_token_id: int,
    label_pad_id: int,
    side: Literal["right", "left"],
    multiple: Optional[int],
    target: Optional[int],
) -> dict[str, torch.Tensor]:
    input_ids = pad_sequences(ids, target, pad_token_id, side, multiple, "pt")
    out_labels = pad_sequences(labels, target, label_pad_id, side, multiple, "pt")
    lengths = torch.tensor([len(row) for row in ids], dtype=torch.int64)
    columns = torch.arange(input_ids.shape[1])
    if side == "left":
        columns = columns.flip(0)
    mask = (columns[None, :] < lengths[:, None]).to(torch.int64)
    return {"input_ids": input_ids, "labels": out_labels, "attention_mask": mask}


def _packed(
    ids: list[Any], labels: list[Any], max_length: int, pad_token_id: int, label_pad_id: int
) -> dict[str, torch.Tensor]:
    lengths = np.fromiter((len(row) for row in ids), dtype=np.int64, count=len(ids))
    if lengths.size and lengths.max() > max_length:
        raise ValueError(f"an example of {int(lengths.max())} tokens is longer than max_length {max_length}")
    order, bin_offsets = pack_bins(lengths, max_length, "bfd")
    return gather_packed(
        ids,
        order,
        bin_offsets,
        max_length,
        labels=labels,
        pad_token_id=pad_token_id,
        label_pad_id=label_pad_id,
        return_tensors="pt",
    )


def dataset_lengths(dataset: Any, column: str = "input_ids") -> npt.NDArray[np.int64]:
    """The token count of every row: read from the Arrow offsets for a `datasets.Dataset`
    (no row is materialised), else `len(dataset[i][column])` row by row."""
    try:
        from datasets import Dataset
    except ImportError:
        Dataset = None
    if Dataset is not None and isinstance(dataset, Dataset) and column == "input_ids":
        from .axolotl.fallback import Fallback
        from .axolotl.lengths import get_dataset_lengths

        plain = dataset.with_format(None).select_columns(["input_ids"])
        try:
            return get_dataset_lengths(plain)
        except Fallback:
            pass
    return np.fromiter((len(dataset[i][column]) for i in range(len(dataset))), dtype=np.int64, count=len(dataset))


class PackedBatchSampler(Sampler):
    """Batches of row indices, each `bins_per_batch` bins of at most `max_length` tokens.

    Every epoch (`set_epoch`, as with `DistributedSampler`) the rows are shuffled with
    `torch.randperm` seeded by `seed + epoch` (unless `shuffle=False`), then packed in that
    order with `strategy` ("bfd": best-fit decreasing, "first_fit"; a row longer than
    `max_length` gets a bin of its own) by one Rust call. The batches are then split among
    `num_replicas` ranks exactly as `DistributedSampler` splits a dataset (padded by repeating
    the first batches, or with `drop_last` cut); every rank computes the same packing.
    """

    def __init__(
        self,
        lengths: Union[Sequence[int], npt.NDArray[np.integer[Any]]],
        max_length: int,
        bins_per_batch: int = 1,
        strategy: PackStrategy = "bfd",
        shuffle: bool = True,
        seed: int = 0,
        num_replicas: Optional[int] = None,
        rank: Optional[int] = None,
        drop_last: bool = False,
    ):
        num_replicas, rank = _replicas(num_replicas, rank)
        if bins_per_batch < 1:
            raise ValueError(f"bins_per_batch must be at least 1, got {bins_per_batch}")
        self.lengths = np.asarray(lengths, dtype=np.int64)
        self.max_length, self.bins_per_batch, self.strategy = max_length, bins_per_batch, strategy
        self.shuffle, self.seed, self.epoch = shuffle, seed, 0
        self.num_replicas, self.rank, self.drop_last = num_replicas, rank, drop_last

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def batches(self) -> list:
        """All ranks' batches of this epoch, before the split among ranks."""
        rows = self._row_order()
        order, bin_offsets = pack_bins(self.lengths[rows], self.max_length, self.strategy)
        indices = rows[order]
        step = self.bins_per_batch
        cuts = bin_offsets[::step].tolist()
        if cuts[-1] != bin_offsets[-1]:
            cuts.append(int(bin_offsets[-1]))
        return [indices[a:b].tolist() for a, b in zip(cuts, cuts[1:])]

    def _row_order(self) -> np.ndarray:
        if not self.shuffle:
            return np.arange(self.lengths.size)
        generator = torch.Generator()
        generator.manual_seed(self.seed + self.epoch)
        return torch.randperm(self.lengths.size, generator=generator).numpy()

    def __iter__(self) -> Iterator[list]:
        batches = self.batches()
        return iter([batches[i] for i in _rank_positions(len(batches), self.num_replicas, self.rank, self.drop_last)])

    def __len__(self) -> int:
        return len(_rank_positions(len(self.batches()), self.num_replicas, self.rank, self.drop_last))


def _replicas(num_replicas: Optional[int], rank: Optional[int]) -> tuple[int, int]:
    """The world size and rank, from torch.distributed when not given (as DistributedSampler)."""
    if num_replicas is None or rank is None:
        initialized = torch.distributed.is_available() and torch.distributed.is_initialized()
        if num_replicas is None:
            num_replicas = torch.distributed.get_world_size() if initialized else 1
        if rank is None:
            rank = torch.distributed.get_rank() if initialized else 0
    if not 0 <= rank < num_replicas:
        raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
    return num_replicas, rank


def _rank_positions(count: int, num_replicas: int, rank: int, drop_last: bool) -> list:
    """DistributedSampler's split of `count` items (unshuffled): pad by repeating from the
    start to a multiple of `num_replicas` (or cut, with drop_last), then every
    `num_replicas`-th from `rank`."""
    if drop_last and count % num_replicas:
        per_rank = math.ceil((count - num_replicas) / num_replicas)
    else:
        per_rank = math.ceil(count / num_replicas)
    total = per_rank * num_replicas
    positions = list(range(count))
    if total > count and positions:
        positions += (positions * math.ceil((total - count) / count))[: total - count]
    return positions[:total][rank:total:num_replicas]
