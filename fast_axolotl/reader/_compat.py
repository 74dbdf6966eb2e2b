"""The reader API of fast-axolotl 0.2.0, kept working: `RustStreamingDataset`,
`create_rust_streaming_dataset`, `should_use_rust_streaming`."""

from __future__ import annotations

from typing import Iterator, Optional

from .. import errors
from .._types import PathArg
from ._stream import detect_format, streaming_dataset_reader


class RustStreamingDataset:
    """Iterates over a file in batches (dict column -> list), as fast-axolotl 0.2.0 did."""

    def __init__(
        self,
        file_path,
        dataset_type=None,
        batch_size: int = 1000,
        num_threads: int = 4,
        dataset_keep_in_memory: bool = False,
    ):
        self.file_path, self.dataset_type = file_path, dataset_type
        self.batch_size, self.num_threads = batch_size, num_threads
        self.dataset_keep_in_memory = dataset_keep_in_memory
        self.output = "python"

    def __iter__(self) -> Iterator[dict]:
        return streaming_dataset_reader(
            self.file_path, self.dataset_type, self.batch_size, self.num_threads, output=self.output
        )

    def with_format(self, format):  # the 0.2.0 signature
        """A copy whose batches are dicts of lists (None, "python"), a pyarrow RecordBatch
        ("arrow") or dicts of numpy arrays ("numpy", "np")."""
        outputs = {None: "python", "python": "python", "arrow": "arrow", "numpy": "numpy", "np": "numpy"}
        if format not in outputs:
            raise ValueError(f"format must be one of None, 'python', 'arrow', 'numpy', 'np', got {format!r}")
        copy = RustStreamingDataset(
            self.file_path, self.dataset_type, self.batch_size, self.num_threads, self.dataset_keep_in_memory
        )
        copy.output = outputs[format]
        return copy


def create_rust_streaming_dataset(
    file_path: PathArg,
    dataset_type: Optional[str] = None,
    batch_size: int = 1000,
    num_threads: int = 4,
    dataset_keep_in_memory: bool = False,
) -> RustStreamingDataset:
    return RustStreamingDataset(file_path, dataset_type, batch_size, num_threads, dataset_keep_in_memory)


def should_use_rust_streaming(
    file_path: PathArg, dataset_config: Optional[dict] = None, cfg: Optional[dict] = None
) -> bool:
    """True when the config asks for the Rust reader (`dataset_use_rust_streaming: true`, not
    `dataset_keep_in_memory`) and `file_path` exists in a format it reads."""
    cfg = cfg or {}
    get = cfg.get if hasattr(cfg, "get") else lambda key, default=None: getattr(cfg, key, default)
    if not get("dataset_use_rust_streaming", False) or get("dataset_keep_in_memory", False):
        return False
    try:
        detect_format(file_path)
    except (errors.FastAxolotlError, TypeError):
        return False
    return True
