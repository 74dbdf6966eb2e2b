"""fast_axolotl.torch: the collate factory and the packed batch sampler, against torch's own
pad_sequence and DistributedSampler as oracles."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

torch = pytest.importorskip("torch")

from torch.nn.utils.rnn import pad_sequence  # noqa: E402
from torch.utils.data import DataLoader, Dataset, DistributedSampler  # noqa: E402

from fast_axolotl.torch import PackedBatchSampler, collate, dataset_lengths  # noqa: E402

row = st.lists(st.integers(0, 60_000), min_size=1, max_size=40)


def reference_pad(rows, value, side, multiple, target):
    """torch's pad_sequence, widened to `target` and rounded up to `multiple`."""
    padded = pad_sequence([torch.tensor(r) for r in rows], batch_first=True, padding_value=value, padding_side=side)
    width = max(padded.shape[1], target or 0)
    if multiple:
        width = -(-width // multiple) * multiple
    extra = width - padded.shape[1]
    pads = (0, extra) if side == "right" else (extra, 0)
    return torch.nn.functional.pad(padded, pads, value=value)


@given(
    rows=st.lists(row, min_size=1, max_size=10),
    with_labels=st.booleans(),
    side=st.sampled_from(["right", "left"]),
    multiple=st.sampled_from([None, 1, 4, 16]),
    target=st.sampled_from([None, 8, 50]),
    pad_token_id=st.integers(0, 5),
)
@settings(max_examples=200, deadline=None)
def test_collate_pads_like_torch(rows, with_labels, side, multiple, target, pad_token_id):
    examples = [{"input_ids": r} for r in rows]
    if with_labels:
        for e in examples:
            e["labels"] = [-100] + e["input_ids"][1:]
    fn = collate(pad_token_id=pad_token_id, padding_side=side, pad_to_multiple_of=multiple, max_length=target)
    out = fn(examples)
    labels = [e.get("labels", e["input_ids"]) for e in examples]
    assert torch.equal(out["input_ids"], reference_pad(rows, pad_token_id, side, multiple, target))
    assert torch.equal(out["labels"], reference_pad(labels, -100, side, multiple, target))
    ones = [[1] * len(r) for r in rows]
    assert torch.equal(out["attention_mask"], reference_pad(ones, 0, side, multiple, target))
    assert all(t.dtype == torch.int64 for t in out.values())


def unpack(out):
    """The sequences of V2 packed rows: (tokens, labels, positions) per numbered segment."""
    found = []
    for ids, labels, positions, mask in zip(
        *(out[k].tolist() for k in ("input_ids", "labels", "position_ids", "attention_mask"))
    ):
        for number in sorted(set(mask) - {0}):
            where = [i for i, m in enumerate(mask) if m == number]
            assert where == list(range(where[0], where[-1] + 1))  # contiguous
            found.append(([ids[i] for i in where], [labels[i] for i in where], [positions[i] for i in where]))
    return found


@given(
    rows=st.lists(st.lists(st.integers(1, 1000), min_size=1, max_size=16), min_size=1, max_size=20),
    max_length=st.integers(16, 40),
)
@settings(max_examples=200, deadline=None)
def test_collate_packs_every_example_once_with_restarting_positions(rows, max_length):
    examples = [{"input_ids": r, "labels": [t + 1 for t in r]} for r in rows]
    out = collate(max_length=max_length, pack=True, pad_token_id=0)(examples)
    assert out["input_ids"].shape[1] == max_length
    got = unpack(out)
    want = [(r, [t + 1 for t in r], list(range(len(r)))) for r in rows]
    assert sorted(got) == sorted(want)
    assert out["input_ids"].shape[0] <= len(rows)
    padding = out["attention_mask"] == 0
    assert (out["input_ids"][padding] == 0).all() and (out["labels"][padding] == -100).all()


def test_collate_pack_refuses_rows_longer_than_max_length():
    with pytest.raises(ValueError):
        collate(max_length=4, pack=True)([{"input_ids": [1, 2, 3, 4, 5]}])
    with pytest.raises(ValueError):
        collate(pack=True)


@given(
    lengths=st.lists(st.integers(1, 64), min_size=1, max_size=300),
    max_length=st.integers(64, 200),
    bins_per_batch=st.integers(1, 4),
    strategy=st.sampled_from(["bfd", "first_fit"]),
    num_replicas=st.integers(1, 5),
    drop_last=st.booleans(),
    seed=st.integers(0, 1000),
)
@settings(max_examples=150, deadline=None)
def test_sampler_bins_and_rank_split(lengths, max_length, bins_per_batch, strategy, num_replicas, drop_last, seed):
    lengths = np.array(lengths)

    def make(rank):
        return PackedBatchSampler(
            lengths,
            max_length,
            bins_per_batch,
            strategy,
            seed=seed,
            num_replicas=num_replicas,
            rank=rank,
            drop_last=drop_last,
        )

    batches = make(0).batches()
    # Every row in exactly one batch, every batch within its bins' token budget.
    assert sorted(i for b in batches for i in b) == list(range(lengths.size))
    assert all(lengths[b].sum() <= max_length * bins_per_batch for b in batches)
    assert len(batches) >= -(-int(lengths.sum()) // (max_length * bins_per_batch))
    for rank in range(num_replicas):
        sampler = make(rank)
        assert sampler.batches() == batches  # every rank computes the same packing
        oracle = DistributedSampler(batches, num_replicas=num_replicas, rank=rank, shuffle=False, drop_last=drop_last)
        assert list(sampler) == [batches[i] for i in oracle]
        assert len(sampler) == len(oracle)


def test_sampler_shuffles_like_distributed_sampler_and_follows_the_epoch():
    lengths = np.ones(50, dtype=np.int64)
    # One first-fit bin holding everything lists the rows in the shuffled order.
    sampler = PackedBatchSampler(lengths, max_length=1000, strategy="first_fit", seed=7)
    oracle = DistributedSampler(range(50), num_replicas=1, rank=0, shuffle=True, seed=7)
    for epoch in (0, 1, 2):
        sampler.set_epoch(epoch)
        oracle.set_epoch(epoch)
        assert list(sampler) == [list(oracle)]
    again = PackedBatchSampler(lengths, max_length=1000, strategy="first_fit", seed=7)
    again.set_epoch(2)
    assert list(again) == list(sampler)
    unshuffled = PackedBatchSampler(lengths, max_length=1000, strategy="first_fit", shuffle=False)
    assert list(unshuffled) == [list(range(50))]


class ListDataset(Dataset):
    def __init__(self, rows):
        self.rows = rows

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        return {"input_ids": self.rows[i]}


def test_dataloader_with_datasets_and_torch_datasets():
    datasets = pytest.importorskip("datasets")
    rng = np.random.default_rng(0)
    rows = [rng.integers(1, 500, int(n)).tolist() for n in rng.integers(1, 60, 200)]
    hf = datasets.Dataset.from_dict({"input_ids": rows}).shuffle(seed=1)
    plain = ListDataset([hf[i]["input_ids"] for i in range(len(hf))])
    lengths = dataset_lengths(hf)
    assert lengths.tolist() == [len(r) for r in plain.rows] == dataset_lengths(plain).tolist()
    for ds in (hf, plain):
        sampler = PackedBatchSampler(lengths, max_length=128, seed=3, num_replicas=2, rank=1)
        loader = DataLoader(ds, batch_sampler=sampler, collate_fn=collate(max_length=128, pack=True))
        seen = []
        for batch, indices in zip(loader, sampler):
            assert batch["input_ids"].shape == (1, 128)
            seen += unpack(batch)
            assert sorted(s[0] for s in unpack(batch)) == sorted(plain.rows[i] for i in indices)
        assert len(seen) == sum(len(b) for b in sampler)
