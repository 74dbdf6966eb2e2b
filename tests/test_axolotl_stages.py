"""The preprocessing-pass patches (fast_axolotl/axolotl/stages.py) and the multipack sampler's
(fast_axolotl/axolotl/sampler.py): each returns what
Axolotl's own function returns (captured before any patch: the oracle) — the same rows, the
same features and Arrow types, the same indices mapping a `filter` leaves — and runs the
original for what it does not model."""

from __future__ import annotations

import functools
import os
import random

import numpy as np
import pyarrow as pa
import pytest

datasets = pytest.importorskip("datasets")
data_utils = pytest.importorskip("axolotl.utils.data.utils")

import axolotl.utils.data.sft as sft  # noqa: E402
import axolotl.utils.trainer as trainer_utils  # noqa: E402
from axolotl.utils.dict import DictDefault  # noqa: E402

import fast_axolotl.axolotl as fx  # noqa: E402
from fast_axolotl.axolotl import sampler as fast_sampler  # noqa: E402

fx.uninstall()  # `import fast_axolotl` patches Axolotl: put its own functions back to capture them
ORIGINAL = {
    "drop_outside_range": data_utils._drop_outside_range,
    "filter_short_sequences": data_utils._filter_short_sequences,
    "truncate_long_sequences": data_utils._truncate_long_sequences,
    "process_datasets_for_packing": trainer_utils.process_datasets_for_packing,
}
PATCHED = {
    "drop_outside_range": lambda *a: data_utils._drop_outside_range(*a),
    "filter_short_sequences": lambda *a: data_utils._filter_short_sequences(*a),
    "truncate_long_sequences": lambda *a: data_utils._truncate_long_sequences(*a),
    "process_datasets_for_packing": lambda *a: trainer_utils.process_datasets_for_packing(*a),
}
KWARGS = {"num_proc": 1, "load_from_cache_file": False}


@pytest.fixture
def patched():
    fx.uninstall()
    assert set(fx.install().values()) == {"installed"}
    yield
    fx.uninstall()


class Counts:
    def __init__(self, name):
        self.name, self.start = name, fx.stats()[name]

    def __call__(self):
        now = fx.stats()[self.name]
        return now["calls"] - self.start["calls"], now["fallbacks"] - self.start["fallbacks"]


def tokenized(n=700, seed=0, extra=None):
    """Rows as the tokenizing strategies leave them: lengths 0..300, labels partly -100, some
    rows with every label -100, some empty; `extra` columns added as given."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        length = int(rng.choice([0, 1, 2, 3, int(rng.integers(4, 300))], p=[0.02, 0.03, 0.03, 0.02, 0.9]))
        ids = rng.integers(0, 500, length).tolist()
        labels = [-100 if rng.random() < 0.4 else t for t in ids]
        if rng.random() < 0.1:
            labels = [-100] * length
        rows.append({"input_ids": ids, "attention_mask": [1] * length, "labels": labels, **(extra or {})})
    features = datasets.Features(
        input_ids=datasets.List(datasets.Value("int32")),
        attention_mask=datasets.List(datasets.Value("int8")),
        labels=datasets.List(datasets.Value("int64")),
        **{key: datasets.Value("int64") for key in (extra or {})},
    )
    return datasets.Dataset.from_list(rows, features=features)


VIEWS = ["plain", "shuffled", "selected", "sliced", "chunked"]


def view(dataset, name):
    n = len(dataset)
    return {
        "plain": lambda: dataset,
        "shuffled": lambda: dataset.shuffle(seed=42),
        "selected": lambda: dataset.select(list(range(n - 1, 0, -3))),
        "sliced": lambda: dataset.select(range(n // 10, n * 2 // 3)),
        "chunked": lambda: datasets.concatenate_datasets([dataset.select(range(0, n, 2)), dataset.shuffle(seed=1)]),
    }[name]()


def assert_same_dataset(got, expected):
    """Same rows, features, Arrow schema, and the same layout: a filter's indices mapping."""
    assert got.features == expected.features
    assert got.to_list() == expected.to_list()
    assert got.flatten_indices().data.schema == expected.flatten_indices().data.schema
    assert (got._indices is None) == (expected._indices is None)
    if expected._indices is not None:
        assert got._indices.column(0).to_pylist() == expected._indices.column(0).to_pylist()
        assert got.data.table is got.data.table and got.data.table.equals(expected.data.table)
    assert got._fingerprint != expected._fingerprint or got is expected  # never reused for other data


@pytest.mark.parametrize(
    "name, max_len, min_len",
    [(name, 256, None) for name in VIEWS] + [("shuffled", 100, 3), ("plain", 40, 1)],
)
def test_drop_outside_range_equals_axolotl(patched, name, max_len, min_len):
    dataset = view(tokenized(), name)
    counts = Counts("drop_outside_range")
    got = data_utils._drop_outside_range(dataset, max_len, min_len, False, KWARGS)
    expected = ORIGINAL["drop_outside_range"](dataset, max_len, min_len, False, KWARGS)
    assert counts() == (1, 0)
    assert got[1] == expected[1] > 0
    assert_same_dataset(got[0], expected[0])


def test_drop_outside_range_checking_lengths(patched):
    dataset = tokenized(seed=1)
    counts = Counts("drop_outside_range")
    got = data_utils._drop_outside_range(dataset, 300, None, True, KWARGS)  # none too long: keeps short-row drop
    expected = ORIGINAL["drop_outside_range"](dataset, 300, None, True, KWARGS)
    assert got[1] == expected[1] == 0
    assert_same_dataset(got[0], expected[0])
    with pytest.raises(ValueError, match="exceeds the maximum 100"):
        data_utils._drop_outside_range(dataset, 100, None, True, KWARGS)  # the original's own error
    assert counts() == (1, 1)


@pytest.mark.parametrize("name, min_len", [(name, None) for name in VIEWS] + [("shuffled", 1), ("plain", 4)])
def test_filter_short_sequences_equals_axolotl(patched, name, min_len):
    dataset = view(tokenized(seed=2), name)
    counts = Counts("filter_short_sequences")
    got = data_utils._filter_short_sequences(dataset, min_len, KWARGS)
    expected = ORIGINAL["filter_short_sequences"](dataset, min_len, KWARGS)
    assert counts() == (1, 0)
    assert got[1] == expected[1] > 0
    assert_same_dataset(got[0], expected[0])


@pytest.mark.parametrize("name, max_len", [(name, 100) for name in VIEWS] + [("shuffled", 0), ("plain", 400)])
def test_truncate_long_sequences_equals_axolotl(patched, name, max_len):
    dataset = view(tokenized(seed=6), name)
    if name == "shuffled":  # a position_ids column is cut too
        dataset = dataset.add_column("position_ids", [list(range(len(x))) for x in dataset["input_ids"]])
    counts = Counts("truncate_long_sequences")
    got = data_utils._truncate_long_sequences(dataset, max_len, KWARGS)
    expected = ORIGINAL["truncate_long_sequences"](dataset, max_len, KWARGS)
    assert counts() == (1, 0)
    assert_same_dataset(got, expected)
    assert max(len(x) for x in got["input_ids"]) <= max_len


def packing_cfg(**extra):
    return DictDefault({"sample_packing": True, "dataset_num_proc": 1, "is_preprocess": True, **extra})


@pytest.mark.parametrize(
    "name, extra",
    [(name, {}) for name in VIEWS]
    + [("shuffled", {"sample_packing": False}), ("plain", {"model_config_type": "gemma3"})],
)
def test_process_datasets_for_packing_equals_axolotl(patched, name, extra):
    # After drop_outside_range, as Axolotl runs it: a filtered (indices-mapped) dataset.
    dataset = ORIGINAL["drop_outside_range"](view(tokenized(seed=3), name), 256, None, False, KWARGS)[0]
    cfg = packing_cfg(**extra)
    counts = Counts("process_datasets_for_packing")
    got = trainer_utils.process_datasets_for_packing(cfg, dataset, None)
    expected = ORIGINAL["process_datasets_for_packing"](cfg, dataset, None)
    assert counts() == (1, 0)
    assert got[1] is expected[1] is None and len(got[0]) < len(dataset)
    assert_same_dataset(got[0], expected[0])


def test_new_tables_hold_only_their_own_rows(patched):
    """A chunk sliced out of a bigger table keeps that table's whole list values, and
    `datasets` casts `.values` of every batch it saves: save_to_disk of a 100k-row preprocess
    grew to 24 GB that way. Each chunk of a table made here holds its own tokens only."""
    dataset = ORIGINAL["drop_outside_range"](tokenized(n=2500, seed=5), 256, None, False, KWARGS)[0]
    got = trainer_utils.process_datasets_for_packing(packing_cfg(), dataset, None)[0]
    for column in got.data.table.columns:
        for chunk in column.chunks:
            if pa.types.is_list(chunk.type):
                assert chunk.offsets[0].as_py() == 0 and len(chunk.values) == chunk.offsets[-1].as_py()
    assert got.data.table.column("input_ids").num_chunks > 1


def memory_mapped(dataset, directory):
    dataset.save_to_disk(str(directory))
    return datasets.load_from_disk(str(directory))


@pytest.mark.parametrize("caching", [True, False])
def test_maps_of_memory_mapped_datasets_write_cache_files(patched, tmp_path, caching):
    """As `map` does, the result of a memory-mapped input is memory-mapped from a cache file:
    beside the input's, or a temporary one with caching off (as `axolotl preprocess` runs).
    An in-memory table would be pickled whole into save_to_disk's worker."""
    dataset = memory_mapped(tokenized(n=1500, seed=7), tmp_path / "in")
    if not caching:
        datasets.disable_caching()
        request_finalizer = datasets.enable_caching
    try:
        check_cached_maps(dataset, tmp_path, reuse=caching)
    finally:
        if not caching:
            request_finalizer()


def check_cached_maps(dataset, tmp_path, reuse):
    runs = [
        (
            trainer_utils.process_datasets_for_packing,
            ORIGINAL["process_datasets_for_packing"],
            (packing_cfg(), dataset, None),
        ),
        (data_utils._truncate_long_sequences, ORIGINAL["truncate_long_sequences"], (dataset, 100, KWARGS)),
    ]
    for patched_function, original, args in runs:
        got, expected = patched_function(*args), original(*args)
        if isinstance(got, tuple):
            got, expected = got[0], expected[0]
        assert_same_dataset(got, expected)
        folders = [[os.path.dirname(f["filename"]) for f in d.cache_files] for d in (got, expected)]
        assert folders[0] == folders[1] and len(folders[0]) == 1  # where Axolotl's map wrote
        again = patched_function(*args)  # with caching: the same fingerprint, the same file
        again = again[0] if isinstance(again, tuple) else again
        assert (again.cache_files == got.cache_files) == reuse and again.to_list() == got.to_list()
        assert_same_dataset(memory_mapped(got, tmp_path / f"out-{got._fingerprint}"), expected)


def test_process_datasets_for_packing_drops_token_type_ids_for_mistral(patched):
    dataset = tokenized(seed=4, extra={"token_type_ids": 0})
    cfg = packing_cfg(model_config_type="mistral")
    got = trainer_utils.process_datasets_for_packing(cfg, dataset, None)[0]
    expected = ORIGINAL["process_datasets_for_packing"](cfg, dataset, None)[0]
    assert "token_type_ids" not in got.column_names
    assert_same_dataset(got, expected)


def test_sft_module_sees_the_patch(patched):
    # sft.py imported process_datasets_for_packing by name: the patch reaches that name too.
    assert sft.process_datasets_for_packing is trainer_utils.process_datasets_for_packing
    assert sft.process_datasets_for_packing is not ORIGINAL["process_datasets_for_packing"]


def outcome(function, *args):
    random.seed(0)  # PoSE draws its position skips from `random` (in this process without num_proc)
    try:
        return function(*args)
    except Exception as error:
        return type(error), str(error)


def fallback_cases():
    base = tokenized(120, seed=5)
    with_nulls = datasets.Dataset.from_dict(
        {"input_ids": [[1, 2, 3], None, [4, 5]], "labels": [[1, 2, 3], [1], [-100, 5]]}
    )
    untrainable = base.map(lambda row: {"labels": [-100] * len(row["labels"])})
    return [
        ("drop_outside_range", (base.select([]), 256, None, False, KWARGS)),
        ("drop_outside_range", (base.with_format("numpy"), 256, None, False, KWARGS)),
        ("drop_outside_range", (with_nulls, 256, None, False, KWARGS)),
        ("drop_outside_range", (base.remove_columns("input_ids"), 256, None, False, KWARGS)),
        ("filter_short_sequences", (base.to_iterable_dataset(), 2, {})),
        ("truncate_long_sequences", (base, -5, KWARGS)),
        ("truncate_long_sequences", (base.map(lambda row: {"labels": row["labels"] + [1]}), 50, KWARGS)),
        ("process_datasets_for_packing", (packing_cfg(), base, base.select(range(10)))),
        (
            "process_datasets_for_packing",
            (packing_cfg(use_pose=True, pose_max_context_len=512, dataset_num_proc=None), base, None),
        ),
        ("process_datasets_for_packing", (packing_cfg(group_by_length=True), base, None)),
        ("process_datasets_for_packing", (packing_cfg(), base.add_column("length", [1] * len(base)), None)),
        ("process_datasets_for_packing", (packing_cfg(), untrainable, None)),  # the original raises
        ("process_datasets_for_packing", (packing_cfg(), with_nulls, None)),
    ]


@pytest.mark.parametrize("case", range(len(fallback_cases())))
def test_uncovered_inputs_run_the_original(patched, case):
    name, args = fallback_cases()[case]
    counts = Counts(name)
    got, expected = outcome(PATCHED[name], *args), outcome(ORIGINAL[name], *args)
    assert counts() == (0, 1), fx.stats()[name]
    if isinstance(expected, tuple) and isinstance(expected[0], type):
        assert got == expected  # the same error
        return
    # Most return (dataset, count); _truncate_long_sequences the dataset alone.
    got_data, expected_data = (got, expected) if name == "truncate_long_sequences" else (got[0], expected[0])
    if isinstance(expected_data, datasets.IterableDataset):
        assert list(got_data) == list(expected_data)
    else:
        assert got_data.to_list() == expected_data.to_list()


# --- MultipackBatchSampler.generate_batches -----------------------------------------------

multipack = pytest.importorskip("axolotl.utils.samplers.multipack")
torch = pytest.importorskip("torch")
from accelerate.data_loader import SeedableRandomSampler  # noqa: E402


def lengths_like_axolotl(n, seed=0):
    rng = np.random.default_rng(seed)
    return np.clip(np.round(rng.lognormal(np.log(300), 1.0, n)), 16, 8192).astype(np.int64)


def make_sampler(lengths, sequential=False, **kwargs):
    n = len(lengths)
    if sequential:
        order = torch.utils.data.SequentialSampler(range(n))
    else:
        order = torch.utils.data.RandomSampler(range(n), generator=torch.Generator().manual_seed(7))
    args = {"batch_size": 3, "batch_max_len": 4096, "bin_size": 200, "group_size": 5_000, **kwargs}
    return multipack.MultipackBatchSampler(order, lengths=lengths, sequential=sequential, **args)


def observed(sampler):
    """Everything a caller sees: batches, len, efficiency, the statistics and their types,
    and the sampler's next draw (the packing must take exactly one draw)."""
    batches = sampler.generate_batches(set_stats=True)
    stats = (sampler.total_tokens_used, sampler.total_token_slots)
    size = len(sampler)
    after = list(sampler.sampler)
    return batches, size, sampler.efficiency(), stats, [type(x) for x in stats], after


@pytest.mark.parametrize("sequential", [False, True])
@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"drop_last": False},
        {"bin_size": 4, "batch_size": 2},
        {"batch_max_len": 1024, "bin_size": None},
        {"batch_size": 1},
        {"group_size": 1_000},  # parts of several groups (fast_sampler._parts, with _PART_ITEMS 5000)
    ],
)
def test_generate_batches_equals_axolotl(patched, sequential, kwargs, monkeypatch):
    monkeypatch.setattr(fast_sampler, "_PART_ITEMS", 5_000)  # several parts (fast_sampler._parts) here
    lengths = lengths_like_axolotl(12_000, seed=1)
    lengths[::501] = 9000  # longer than any bin: alone in one
    counts = Counts("sampler_batches")
    got = observed(make_sampler(lengths, sequential, **kwargs))
    assert counts()[1] == 0 and counts()[0] >= 2  # generate_batches, then __len__'s repeats
    fx.uninstall()
    expected = observed(make_sampler(lengths, sequential, **kwargs))
    assert got == expected
    assert type(got[0][0][0][0]) is int


@pytest.mark.parametrize("items", [0, 1, 999, 1000, 1001, 3_500, 12_000, 100_000, 1_000_001])
@pytest.mark.parametrize("group_size", [0, 1, 1000, 5_000, 100_000])
def test_parts_are_whole_groups_in_order(items, group_size):
    parts = fast_sampler._parts(items, group_size)
    edges = [0] + [end for _, end in parts]
    assert parts == list(zip(edges[:-1], edges[1:])) and edges[-1] == items  # consecutive, all
    assert all(start < end for start, end in parts)
    if 0 < group_size < items:
        assert all(start % group_size == 0 for start, _ in parts)  # whole groups
        assert all(end - start >= fast_sampler._PART_ITEMS for start, end in parts[:-1])
        assert all(end - start < fast_sampler._PART_ITEMS + group_size for start, end in parts)
    else:
        assert len(parts) == (1 if items else 0)


def observed_with_global_rng(make_order, lengths, **kwargs):
    """len() of a fresh sampler drawing from `make_order()` (its batches left by __len__'s
    last draw), observed(), and torch's global RNG state after them, starting from the same
    global state."""
    torch.manual_seed(123)
    args = {"batch_size": 2, "batch_max_len": 4096, "bin_size": 200, "group_size": 5_000, **kwargs}
    sampler = multipack.MultipackBatchSampler(make_order(), lengths=lengths, **args)
    first = len(sampler), sampler._batches
    return first, observed(sampler), torch.get_rng_state().tolist()


ORDERS = {  # torch samplers as Axolotl's trainer makes them, and ones drawn another way
    "random, global RNG": lambda n: torch.utils.data.RandomSampler(range(n)),
    "fewer samples": lambda n: torch.utils.data.RandomSampler(range(n), num_samples=n // 3),
    "more samples": lambda n: torch.utils.data.RandomSampler(range(n), num_samples=2 * n + 5),
    "replacement": lambda n: torch.utils.data.RandomSampler(range(n), replacement=True),
    "subclass": lambda n: type("Mine", (torch.utils.data.RandomSampler,), {})(range(n)),
    "a list": lambda n: list(range(n))[::-1],
    "sequential": lambda n: torch.utils.data.SequentialSampler(range(n)),
    # What the trainer's accelerate puts in place of the RandomSampler Axolotl makes.
    "accelerate": lambda n: SeedableRandomSampler(range(n)),
    "accelerate, data_seed": lambda n: SeedableRandomSampler(range(n), data_seed=42, num_samples=n + 7),
}


WHOLE = {
    "random, global RNG",
    "fewer samples",
    "more samples",
    "sequential",
    "accelerate",
    "accelerate, data_seed",
}  # drawn whole


@pytest.mark.parametrize("kwargs", [{}, {"batch_size": 3, "drop_last": False}, {"num_count_samples": 1}])
@pytest.mark.parametrize("order", ORDERS)
def test_generate_batches_draws_as_the_sampler(patched, order, kwargs):
    # Drawn whole (RandomSampler) or iterated (the others): the same indices, and the same
    # global and sampler RNG states after (observed() draws once more). __len__ counts the
    # bins of its repeated draws for samplers drawn whole, and leaves the others to Axolotl.
    lengths = lengths_like_axolotl(3_000, seed=4)
    make = functools.partial(ORDERS[order], len(lengths))
    counts, len_counts = Counts("sampler_batches"), Counts("sampler_len")
    got = observed_with_global_rng(make, lengths, **kwargs)
    assert counts()[1] == 0
    assert len_counts() == ((2, 0) if order in WHOLE else (0, 2))  # the fresh sampler, observed()
    fx.uninstall()
    assert got == observed_with_global_rng(make, lengths, **kwargs)


@pytest.mark.parametrize("sequential", [False, True])
@pytest.mark.parametrize("batch_size", [1, 2, 3, 7])
@pytest.mark.parametrize("drop_last", [True, False])
def test_len_counts_the_batches_generate_batches_makes(sequential, batch_size, drop_last):
    # __len__'s count of one draw's batches, against the original's list of them.

    lengths = lengths_like_axolotl(5_000, seed=batch_size)
    fx.uninstall()
    for seed_batch in range(3):  # differently full last batches
        args = {"batch_size": batch_size, "drop_last": drop_last, "batch_max_len": 4096 + 512 * seed_batch}
        expected = len(make_sampler(lengths, sequential, **args).generate_batches())
        sampler = make_sampler(lengths, sequential, **args)
        assert fast_sampler._batch_count(sampler, fast_sampler._packed(sampler)) == expected


@pytest.mark.parametrize(
    "order", ["random, global RNG", "more samples", "sequential", "accelerate", "subclass", "replacement"]
)
def test_torch_samplers_are_drawn_whole(order):
    # The samplers Axolotl's trainer makes pass this torch's one-time check and are drawn
    # whole (an array); the others are iterated (a list). Equality: the tests above.

    make = ORDERS[order]
    sampler = make_sampler(lengths_like_axolotl(100))
    sampler.sampler = make(100)
    positions = fast_sampler._drawn_indices(sampler)
    whole = order in WHOLE
    assert isinstance(sampler._fast_axolotl_drawn, np.ndarray) is whole
    assert positions.dtype.kind == "i" and len(positions) == len(sampler.sampler)


# None and 2M: the original's last permutation is drawn and dropped, ours only advances the
# generator as that draw would; 1.5M: half of it is kept.
@pytest.mark.parametrize("num_samples", [None, 1_500_000, 2_000_000])
def test_a_million_drawn_whole_as_the_sampler_draws_them(num_samples):
    # The one-time check runs on small samplers; the draw of a large one is compared here:
    # the same indices, and the sampler's generator left in the same state.

    def make():
        return torch.utils.data.RandomSampler(
            range(1_000_000), num_samples=num_samples, generator=torch.Generator().manual_seed(5)
        )

    ours, theirs = make(), make()
    drawn = fast_sampler._permutations(ours)
    assert drawn.dtype.kind == "i" and drawn.tolist() == list(theirs)
    assert torch.equal(ours.generator.get_state(), theirs.generator.get_state())


def test_generate_batches_iterates_a_random_sampler_that_draws_otherwise(patched, monkeypatch):
    # A torch whose RandomSampler draws differently from the whole-permutation replica (here:
    # reversed) is noticed by the one-time check and iterated.
    original_iter = torch.utils.data.RandomSampler.__iter__
    monkeypatch.setattr(torch.utils.data.RandomSampler, "__iter__", lambda self: reversed(list(original_iter(self))))
    lengths = lengths_like_axolotl(3_000, seed=5)
    make = functools.partial(ORDERS["random, global RNG"], len(lengths))
    got = observed_with_global_rng(make, lengths)
    fx.uninstall()
    assert got == observed_with_global_rng(make, lengths)


def test_generate_batches_falls_back_on_the_same_draw(patched):
    lengths = lengths_like_axolotl(2_000, seed=2)
    cases = [
        {"mp_start_method": "no-such-method"},  # refused before the draw
        {"num_processes": -3},
    ]
    for kwargs in cases:
        counts = Counts("sampler_batches")
        got = outcome(observed, make_sampler(lengths, **kwargs))
        assert counts()[0] == 0 and counts()[1] >= 1
        fx.uninstall()
        assert got == outcome(observed, make_sampler(lengths, **kwargs))
        fx.install()
    # A sampler that yields floats: refused after the draw; the original gets that draw.
    floats = make_sampler(lengths)
    floats.sampler = [float(i) for i in range(len(lengths))]
    counts = Counts("sampler_batches")
    assert outcome(floats.generate_batches)[0] is IndexError  # the original's own error
    assert counts() == (0, 1)
