"""End to end through Axolotl's own CLI, offline on CPU (fast_axolotl/bench/axolotl_data.py makes the
tokenizer, model and data): `axolotl preprocess` with the fast-axolotl plugin saves the
dataset Axolotl saves without it, row for row, and a 3-step `axolotl train` with the plugin
runs its packing and collator patches. Each `axolotl` run is a subprocess (tens of seconds)."""

from __future__ import annotations

import importlib.util
import re

import pytest

pytest.importorskip("axolotl.cli.main")
datasets = pytest.importorskip("datasets")

from fast_axolotl.bench import axolotl_data as fixtures  # noqa: E402

N_ROWS = 250  # per dataset; about a fifth repeat earlier rows
# Packages `axolotl train` imports on top of what `axolotl preprocess` needs.
TRAIN_MODULES = ("bitsandbytes", "fastcore", "evaluate", "wandb", "kernels", "axolotl.contribs.lgpl")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("axolotl-e2e")
    model = fixtures.build_model_dir(root / "model", weights=True)
    chat = fixtures.write_jsonl(root / "chat.jsonl", fixtures.chat_rows(N_ROWS, seed=1))
    completion = fixtures.write_jsonl(root / "completion.jsonl", fixtures.completion_rows(N_ROWS, seed=2))
    data = [(chat, fixtures.CHAT_DATASET), (completion, fixtures.COMPLETION_DATASET)]
    return root, model, data


def run(workspace, name: str, command: str, plugin: bool, **extra):
    """One `axolotl COMMAND` in its own directory; returns (process, its directory)."""
    root, model, data = workspace
    workdir = root / name
    workdir.mkdir()
    config = fixtures.write_config(
        workdir / "config.yml", fixtures.axolotl_config(workdir, model, data, plugin, **extra)
    )
    # Without the plugin, FAST_AXOLOTL_DISABLE makes sure nothing of ours runs in the baseline.
    env = {} if plugin else {"FAST_AXOLOTL_DISABLE": "1"}
    process = fixtures.run_axolotl(command, config, cwd=workdir, extra_env=env)
    assert process.returncode == 0, process.stdout[-3000:] + process.stderr[-6000:]
    return process, workdir


def summary(process) -> dict:
    """The plugin's exit summary, "fast-axolotl: NAME N calls / R rows / S s (F fallbacks)
    (A rows by Axolotl); ...", as {name: (calls, fallbacks + rows by Axolotl)}; the last one
    logged wins."""
    lines = re.findall(r"fast-axolotl: (.+ calls / .+)", process.stdout + process.stderr)
    if not lines:
        return {}
    counts = {}
    for part in lines[-1].split("; "):
        found = re.match(
            r"(\w+) (\d+) calls / \d+ rows / [\d.]+ s(?: \((\d+) fallbacks\))?(?: \((\d+) rows by Axolotl\))?$", part
        )
        assert found, part
        counts[found[1]] = (int(found[2]), int(found[3] or 0) + int(found[4] or 0))
    return counts


def test_preprocess_with_the_plugin_saves_what_axolotl_saves(workspace):
    plain, plain_dir = run(workspace, "preprocess-axolotl", "preprocess", plugin=False)
    fast, fast_dir = run(workspace, "preprocess-plugin", "preprocess", plugin=True)
    assert "fast-axolotl" not in plain.stdout + plain.stderr
    ran = summary(fast)  # the plugin's exit summary: its patches ran in Axolotl's process
    # tokenize_prompts: both datasets (chat_template, completion) tokenized in Rust
    for name, calls in (
        ("tokenize_prompts", 2),
        ("dedupe", 1),
        ("drop_outside_range", 1),
        ("process_datasets_for_packing", 1),
    ):
        assert ran.get(name, (0, 0))[0] >= calls, ran
    assert all(fallbacks == 0 for _, fallbacks in ran.values()), ran

    expected = fixtures.prepared_dataset(plain_dir / "prepared")
    got = fixtures.prepared_dataset(fast_dir / "prepared")
    assert got.features == expected.features
    assert got.data.schema == expected.data.schema
    assert got.to_list() == expected.to_list()  # every column, in order
    # The data really went through every stage: duplicates, long and untrainable rows dropped.
    assert {"input_ids", "labels", "position_ids", "length"} <= set(got.column_names)
    assert 0 < len(got) < 2 * N_ROWS
    assert max(got["length"]) <= 256
    rows = [str(row) for row in got.to_list()]
    assert len(set(rows)) == len(rows)


@pytest.mark.skipif(
    any(importlib.util.find_spec(m) is None for m in TRAIN_MODULES),
    reason=f"axolotl train needs {', '.join(TRAIN_MODULES)}",
)
def test_three_step_training_with_the_plugin(workspace):
    # dataloader_num_workers 0: Axolotl would collate in a forked DataLoader worker (one on
    # CPU), whose calls the plugin's summary in the trainer's process does not count.
    process, workdir = run(
        workspace,
        "train-plugin",
        "train",
        plugin=True,
        max_steps=3,
        save_strategy="no",
        logging_steps=1,
        dataloader_num_workers=0,
    )
    output = process.stdout + process.stderr
    assert len(re.findall(r"'loss': ", output)) >= 3 or "train_loss" in output, output[-3000:]
    ran = summary(process)
    assert ran.get("sampler_batches", (0, 0))[0] >= 1, ran  # the multipack sampler packed
    collated = sum(calls for name, (calls, _) in ran.items() if name.endswith("collator"))
    assert collated >= 3, ran  # a batch per step at least
    assert all(fallbacks == 0 for _, fallbacks in ran.values()), ran
