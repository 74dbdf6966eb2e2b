"""Loading local files with the Rust reader, only with `dataset_use_rust_streaming: true`.

Axolotl reads a local file with `datasets.load_dataset(<type>, data_files=path, split=...)`.
With the setting on, Parquet, Arrow and JSON/JSONL files (.zst/.gz too) go through the
streaming reader into a memory-mapped `datasets.Dataset` instead, with the same rows and
features. Declined (Axolotl's own loader runs, counted as a fallback):
- CSV: `datasets` reads CSV through pandas, whose type and missing-value rules ("NA", "null",
  ints with gaps -> float) the reader does not imitate;
- `save_to_disk` directories (`load_from_disk` already memory-maps them) and directories of
  anything but Parquet shards with one schema (`datasets` casts JSON shards to the first
  one's types, which the reader does not imitate); a directory of Parquet shards (what
  `fast_axolotl.ray.write_parquet` writes) is read from the files `datasets`' own discovery
  picks, in its order;
- text with line breaks other than \\n and \\r\\n (`datasets` splits on every Unicode one);
- configs with `name` or `data_files`, and `streaming` (see `load_streaming`).
"""

from __future__ import annotations

from pathlib import Path

from .fallback import Fallback, Off
from .settings import settings

# Axolotl's dataset types (get_dataset_type) the reader reproduces, and the reader's name.
TYPES = {"parquet": "parquet", "arrow": "arrow", "json": None, "text": "text"}
# Line breaks of str.splitlines() other than \n and \r\n (the characters themselves: RE2
# knows no \u escapes).
OTHER_BREAKS = "[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]"


def _check_enabled() -> None:
    if not settings.dataset_use_rust_streaming:
        raise Off("dataset_use_rust_streaming is off")


def load_from_local_path(dataset_config, load_dataset_kwargs):
    """`axolotl.utils.data.shared._load_from_local_path` for single files."""
    _check_enabled()
    if load_dataset_kwargs.get("streaming") or load_dataset_kwargs.get("name") or dataset_config.data_files:
        raise Fallback("streaming, a config name or data_files")
    path = Path(dataset_config.path)
    split = load_dataset_kwargs.get("split")
    if path.is_dir():
        return _load_directory(path, split)
    if not path.is_file():
        raise Fallback("neither a file nor a directory")
    from axolotl.utils.data.shared import get_dataset_type

    dataset_type = get_dataset_type(dataset_config)
    if dataset_type not in TYPES:
        raise Fallback(f"{dataset_type} files")
    from .. import reader

    if dataset_type == "json" and reader.detect_format(path)[0] not in ("json", "jsonl"):
        raise Fallback("a json dataset type on a file that is not JSON by name")
    dataset = reader.load_dataset(path, dataset_type=TYPES[dataset_type], split=split or "train")
    if dataset_type == "text" and _has_other_breaks(dataset):
        raise Fallback("text with line breaks other than \\n and \\r\\n")
    return dataset


# Files that make `load_from_disk` take a directory (it is tried first) or that `datasets`
# reads as a dataset card / config deciding which files belong to which split.
SAVED = ("dataset_dict.json", "state.json")
CARDS = ("README.md", ".huggingface.yaml")


def _load_directory(path: Path, split):
    """What `datasets.load_dataset(directory, split=split)` gives for a directory of Parquet
    shards: one "train" split of the files `datasets` discovers, in its order; a DatasetDict
    when no split is asked for."""
    if any((path / name).is_file() for name in SAVED + CARDS):
        raise Fallback("a save_to_disk directory or one with a dataset card")
    files = _discovered_files(path)
    if set(files) != {"train"} or not all(f.endswith(".parquet") for f in files["train"]):
        raise Fallback("a directory that is not Parquet shards of one train split")
    import pyarrow.parquet as pq

    first = pq.read_schema(files["train"][0])
    if not all(pq.read_schema(f).equals(first) for f in files["train"][1:]):
        raise Fallback("Parquet shards with different schemas (datasets casts to the first)")
    from .. import reader

    dataset = reader.load_dataset(files["train"], dataset_type="parquet", split=split or "train")
    if split is None:
        import datasets

        return datasets.DatasetDict({"train": dataset})
    return dataset


def _discovered_files(path: Path) -> dict:
    """Split name -> data files, by `datasets`' own patterns (hidden and `_`-prefixed files
    skipped, split names from file and folder names)."""
    from datasets.data_files import DataFilesDict, get_data_patterns

    base = path.expanduser().resolve().as_posix()
    try:
        patterns = get_data_patterns(base)
    except Exception as error:  # datasets' EmptyDatasetError: let the original say it
        raise Fallback(f"no data files: {error}") from error
    found = DataFilesDict.from_patterns(patterns, base_path=base)
    return {name: [str(f) for f in files] for name, files in found.items()}


def _has_other_breaks(dataset) -> bool:
    import pyarrow.compute as pc

    from fast_axolotl import _hf

    column = _hf.column(dataset, "text")
    return bool(pc.any(pc.match_substring_regex(column, OTHER_BREAKS)).as_py())


# `datasets` builders whose streaming read the reader reproduces, and the formats they take.
STREAM_BUILDERS = {"json": ("json", "jsonl"), "parquet": ("parquet",), "arrow": ("arrow", "feather")}


def load_streaming(path, *args, **kwargs):
    """The module-level `load_dataset` of `axolotl.utils.data.sft`, which pretraining calls as
    `load_dataset(<builder>, streaming=True, split=..., name=..., data_files=...)`: one local
    JSON/JSONL/Parquet/Arrow file streamed with split "train" -> the reader's
    `IterableDataset`; every other call -> `datasets.load_dataset`."""
    _check_enabled()
    if args or not kwargs.get("streaming") or kwargs.get("name") or kwargs.get("split") != "train":
        raise Fallback("not a streaming read of the train split")
    if path not in STREAM_BUILDERS or set(kwargs) - {"streaming", "split", "name", "data_files"}:
        raise Fallback("a builder or option the reader does not model")
    files = kwargs.get("data_files")
    if isinstance(files, (list, tuple)) and len(files) == 1:
        files = files[0]
    if not isinstance(files, (str, Path)) or not Path(files).is_file():
        raise Fallback("data_files is not one local file")
    from .. import reader

    if reader.detect_format(files)[0] not in STREAM_BUILDERS[path]:
        raise Fallback(f"the file is not {path} by name")
    return reader.load_dataset(files, streaming=True)
