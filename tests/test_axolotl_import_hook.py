"""`import fast_axolotl` and Axolotl: the patches go in for the Axolotl modules already
imported and, through the import hook, for those imported later; nothing happens without
Axolotl or with FAST_AXOLOTL_DISABLE=1; uninstall() restores the very same objects and
removes the hook; the plugin's config keys validate and switch the patches. Each case runs
in a fresh interpreter: the hook changes how the process imports."""

from __future__ import annotations

import os
import sys
import textwrap

import pytest
from conftest import REPO, run

pytest.importorskip("axolotl")

# Shared by the scripts: Axolotl's modules in sys.modules, and the hook's finder.
PRELUDE = """
import sys
def axolotl_modules():
    return {m for m in sys.modules if m == "axolotl" or m.startswith("axolotl.")}
def finders():
    return [f for f in sys.meta_path if type(f).__name__ == "PatchFinder"]
"""


def run_script(code: str, *args, env=None):
    """Run `code` (after PRELUDE) in a fresh interpreter; it prints OK at the end."""
    environment = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "AXOLOTL_DO_NOT_TRACK": "1"}
    environment.pop("FAST_AXOLOTL_DISABLE", None)
    environment.update(env or {})
    result = run([sys.executable, *args, "-c", PRELUDE + textwrap.dedent(code)], env=environment)
    assert result.returncode == 0 and result.stdout.strip().endswith("OK"), result.stderr[-3000:]
    return result


def test_import_without_axolotl_changes_nothing_and_is_cheap():
    # -I -S: no site-packages, so no Axolotl (nor numpy): only the repository on sys.path.
    code = f"""
    import time
    sys.path.insert(0, {str(REPO)!r})
    meta_path = list(sys.meta_path)
    start = time.perf_counter()
    import fast_axolotl
    elapsed = time.perf_counter() - start
    assert not axolotl_modules() and sys.meta_path == meta_path, (axolotl_modules(), sys.meta_path)
    assert "fast_axolotl.axolotl" not in sys.modules and "fast_axolotl._native" not in sys.modules
    print(elapsed)
    print("OK")
    """
    times = [float(run_script(code, "-I", "-S").stdout.split()[0]) for _ in range(3)]
    assert min(times) < 0.050, times  # best of three: the machine may be busy


def test_top_level_install_and_uninstall_are_the_integrations():
    # 0.2.0's users call fast_axolotl.install() / uninstall(): the same objects, no copy.
    code = """
    import fast_axolotl, fast_axolotl.axolotl as fx
    assert fast_axolotl.install is fx.install and fast_axolotl.uninstall is fx.uninstall
    assert {"install", "uninstall"} <= set(fast_axolotl.__all__) and "install" in dir(fast_axolotl)
    fast_axolotl.uninstall()
    import axolotl.utils.data.utils as data_utils
    original = data_utils._deduplicate_dataset
    assert fast_axolotl.install()["dedupe"] == "installed" and data_utils._deduplicate_dataset is not original
    fast_axolotl.uninstall()
    assert data_utils._deduplicate_dataset is original
    print("OK")
    """
    assert run_script(code).stdout.strip().endswith("OK")


def test_modules_imported_later_are_patched_by_the_hook():
    code = """
    import inspect, numpy as np, datasets
    import fast_axolotl, fast_axolotl.axolotl as fx
    assert not axolotl_modules() and len(finders()) == 1
    assert "fast_axolotl._native" not in sys.modules  # no library loaded by the import
    assert fast_axolotl.stats() == fx.stats() and set(fx.stats()) == {p.name for p in fx.PATCHES}

    import axolotl.utils.samplers as samplers
    import axolotl.utils.samplers.multipack as multipack
    assert "axolotl.utils.collators.batching" not in sys.modules
    for patch in fx.PATCHES:  # exactly the patches of the modules imported so far
        assert patch.stats()["active"] == (patch.module in sys.modules), patch.name
    lengths_patch = next(p for p in fx.PATCHES if p.name == "get_dataset_lengths")
    # samplers/__init__ imported it by name after the hook patched samplers.utils.
    assert samplers.get_dataset_lengths is lengths_patch.replacement is not None
    for name in ("axolotl.utils.samplers.utils", "axolotl.utils.samplers.multipack"):
        module = sys.modules[name]
        assert type(module.__loader__).__name__ == "SourceFileLoader", module.__loader__
        assert module.__spec__.loader is module.__loader__
        assert "def " in inspect.getsource(module)

    lengths = np.array([5, 9, 3, 12, 7] * 40, np.int32)
    pack = next(p for p in fx.PATCHES if p.name == "pack_parallel")
    got = multipack.pack_parallel(lengths, 16, 50, 4, num_processes=1)
    assert got == pack.original(lengths, 16, 50, 4, num_processes=1)
    assert fast_axolotl.stats()["pack_parallel"]["calls"] == 1
    assert fast_axolotl.stats()["pack_parallel"]["rows"] == lengths.size

    import axolotl.utils.collators.batching as batching
    import axolotl.utils.data.streaming
    for patch in fx.PATCHES:
        assert patch.stats()["active"] == (patch.module in sys.modules), patch.name
    assert batching.V2BatchSamplerDataCollatorForSeq2Seq.__dict__["__call__"].__wrapped__

    # uninstall: the very same objects back, no hook, and later imports stay unpatched.
    originals = {p.name: p.original for p in fx.PATCHES if p.original is not None}
    fx.uninstall()
    assert not finders() and not any(s["active"] for s in fx.stats().values())
    assert multipack.pack_parallel is originals["pack_parallel"]
    assert samplers.get_dataset_lengths is originals["get_dataset_lengths"]
    assert batching.DataCollatorForSeq2Seq.__dict__["__call__"] is originals["seq2seq_collator"]
    import axolotl.utils.data.utils as data_utils
    assert not hasattr(data_utils._deduplicate_dataset, "__wrapped__")
    print("OK")
    """
    run_script(code)


def test_modules_already_imported_are_patched_at_import():
    code = """
    import axolotl.utils.samplers.multipack as multipack
    import axolotl.utils.collators.batching as batching
    before = axolotl_modules()
    originals = {"pack_parallel": multipack.pack_parallel,
                 "v2_collator": batching.V2BatchSamplerDataCollatorForSeq2Seq.__call__}
    import fast_axolotl.axolotl as fx
    assert axolotl_modules() == before  # imports no other Axolotl module
    state = fx.stats()
    assert state["pack_parallel"]["active"] and state["v2_collator"]["active"]
    assert not state["dedupe"]["active"]  # axolotl.utils.data.utils is not imported yet
    replacements = {p.name: p.replacement for p in fx.PATCHES}
    assert multipack.pack_parallel is replacements["pack_parallel"]
    assert set(fx.install().values()) <= {"installed", "already active"}  # now all of them
    assert set(fx.install().values()) == {"already active"}
    assert multipack.pack_parallel is replacements["pack_parallel"]  # the same objects
    fx.uninstall()
    assert multipack.pack_parallel is originals["pack_parallel"]
    assert batching.V2BatchSamplerDataCollatorForSeq2Seq.__call__ is originals["v2_collator"]
    print("OK")
    """
    run_script(code)


def test_disable_variable_turns_everything_off():
    code = """
    import fast_axolotl, fast_axolotl.axolotl as fx
    import axolotl.utils.samplers.multipack as multipack
    assert not finders() and not any(s["active"] for s in fx.stats().values())
    assert set(fx.install().values()) == {"skipped: FAST_AXOLOTL_DISABLE is set"}
    from axolotl.integrations.base import load_plugin
    load_plugin("fast_axolotl.axolotl.FastAxolotlPlugin").register({})
    assert not any(s["active"] for s in fx.stats().values())
    assert not hasattr(multipack.pack_parallel, "__wrapped__")
    print("OK")
    """
    run_script(code, env={"FAST_AXOLOTL_DISABLE": "1"})


# The smallest config Axolotl validates offline (as its own tests/test_streaming.py does).
CONFIG = """
import numpy as np
from axolotl.utils.config import prepare_plugins, validate_config
from axolotl.utils.dict import DictDefault
import fast_axolotl, fast_axolotl.axolotl as fx
import axolotl.utils.samplers.multipack as multipack
PLUGIN = "fast_axolotl.axolotl.FastAxolotlPlugin"
BASE = {"base_model": "HuggingFaceTB/SmolLM2-135M", "datasets": [{"path": "test/dataset", "type": "alpaca"}],
        "sequence_len": 256, "micro_batch_size": 1, "gradient_accumulation_steps": 1, "learning_rate": 0.0001}
def load(**keys):
    cfg = DictDefault({**BASE, "plugins": [PLUGIN], **keys})
    prepare_plugins(cfg)  # what axolotl's load_cfg does: register(cfg), then validation
    return validate_config(cfg)
rng = np.random.default_rng(0)
LENGTHS = np.clip(rng.lognormal(np.log(300), 1.0, 20_000), 16, 2048).astype(np.int32)
def packed():
    return multipack.pack_parallel(LENGTHS, 2048, 100_000, 200, num_processes=1)
def sampled():  # the bins a multipack sampler yields, in order (what training sees)
    import torch
    sampler = multipack.MultipackBatchSampler(torch.utils.data.SequentialSampler(range(LENGTHS.size)),
        batch_size=1, batch_max_len=2048, lengths=LENGTHS, bin_size=200, num_processes=1, drop_last=False)
    return [b for batch in sampler for b in batch]
"""


def test_plugin_config_keys_validate_and_switch_the_patches():
    code = CONFIG + textwrap.dedent("""
    fx.uninstall()  # Axolotl's own bins first
    first_fit, axolotl_sampled = packed(), sampled()
    cfg = load()
    assert (cfg.fast_axolotl, cfg.fast_axolotl_packing, cfg.dataset_use_rust_streaming) == (True, "first_fit", False)
    assert all(s["active"] for s in fx.stats().values())
    assert packed() == first_fit and sampled() == axolotl_sampled

    cfg = load(fast_axolotl_packing="bfd", dataset_use_rust_streaming=True)
    assert (cfg.fast_axolotl_packing, cfg.dataset_use_rust_streaming) == ("bfd", True)
    assert fx.settings.fast_axolotl_packing == "bfd" and fx.settings.dataset_use_rust_streaming is True
    bfd, bfd_sampled = packed(), sampled()
    assert len(bfd) < len(first_fit) and sorted(i for b in bfd for i in b) == list(range(LENGTHS.size))
    assert len(bfd_sampled) < len(axolotl_sampled)  # the sampler too, whichever patch packs for it

    cfg = load(fast_axolotl=False)
    assert cfg.fast_axolotl is False and not finders()
    assert not any(s["active"] for s in fx.stats().values())
    assert not hasattr(multipack.pack_parallel, "__wrapped__") and packed() == first_fit
    assert sampled() == axolotl_sampled
    import axolotl.utils.data.utils as data_utils  # imported after: not patched either
    assert not hasattr(data_utils._deduplicate_dataset, "__wrapped__")

    # Without the plugin Axolotl drops the keys; a bad value is rejected and undoes register().
    plain = validate_config(DictDefault({**BASE, "fast_axolotl_packing": "bfd"}))
    assert plain.get("fast_axolotl_packing") is None
    cfg = load(fast_axolotl=True)
    assert all(s["active"] for s in fx.stats().values())
    try:
        load(fast_axolotl_packing="worst")
    except Exception as error:
        assert "fast_axolotl_packing" in str(error), error
    else:
        raise AssertionError("an invalid fast_axolotl_packing validated")
    assert not any(s["active"] for s in fx.stats().values())
    print("OK")
    """)
    run_script(code)


@pytest.mark.usefixtures("not_strict")  # asserts a fallback on a kernel's ValueError/TypeError
def test_one_summary_line_at_exit():
    code = """
    import logging
    logging.basicConfig(level=logging.INFO, format="%(name)s|%(message)s")
    import numpy as np
    import fast_axolotl
    import axolotl.utils.samplers.multipack as multipack
    multipack.pack_parallel(np.array([5, 9, 3] * 100, np.int32), 20, 100, 8, num_processes=1)
    try:
        multipack.pack_parallel(np.array([5, -9], np.int32), 20, 100, 8, num_processes=1)  # falls back
    except Exception:
        pass
    print("OK")
    """
    # Under "axolotl.": Axolotl's logging setup shows INFO lines of its own namespace only.
    summary = "axolotl.integrations.fast_axolotl|"
    stderr = run_script(code).stderr
    lines = [line for line in stderr.splitlines() if line.startswith(summary)]
    assert len(lines) == 1, stderr[-3000:]
    message = lines[0].removeprefix(summary)
    assert message.startswith("fast-axolotl: pack_parallel 1 calls / 300 rows / ")
    assert message.endswith(" s (1 fallbacks)")


def test_no_summary_without_patches():
    code = """
    import logging
    logging.basicConfig(level=logging.INFO)
    import fast_axolotl
    print("OK")
    """
    assert "fast-axolotl:" not in run_script(code).stderr  # no Axolotl module imported, nothing patched
