"""Streaming reads of local datasets: Parquet, Arrow IPC/Feather, JSON, JSONL, CSV and text,
plain or .zst/.gz, a file, a directory of shards, a glob, or a `save_to_disk` directory.

Rust decodes (on every core, a few batches ahead at most) and hands the batches over as an
Arrow C stream: nothing is copied on the way into pyarrow, and the GIL is free while Rust
works. Every batch but the last has exactly `batch_size` rows.

The package: _stream.py opens a dataset and reads its stream (`open_reader`,
`streaming_dataset_reader`), _readahead.py is the read-ahead thread, _load.py loads `datasets`
(`load_dataset`, its cache file and splits), _ipc.py writes Arrow IPC stream files, and
_compat.py keeps fast-axolotl 0.2.0's names working.
"""

from __future__ import annotations

# The rest of this module's namespace before it became a package (its own imports), so that
# every public name it had still resolves here.
import hashlib as hashlib
import json as json
import os as os
import queue as queue
import re as re
import threading as threading
from typing import TYPE_CHECKING as TYPE_CHECKING
from typing import Iterator as Iterator
from typing import Optional as Optional
from typing import Sequence as Sequence
from typing import Union as Union

import pyarrow as pa  # noqa: F401 - `pa` was a name of this module too

from .. import errors as errors
from .._args import choice_arg as choice_arg
from .._args import size_arg as size_arg
from .._native import check as check
from .._native import ffi as ffi
from .._native import lib as lib
from .._types import PathArg as PathArg
from ._compat import RustStreamingDataset as RustStreamingDataset
from ._compat import create_rust_streaming_dataset as create_rust_streaming_dataset
from ._compat import should_use_rust_streaming as should_use_rust_streaming
from ._ipc import write_stream_file as write_stream_file
from ._load import load_dataset as load_dataset
from ._stream import COMPRESSIONS as COMPRESSIONS
from ._stream import FORMATS as FORMATS
from ._stream import Reader as Reader
from ._stream import detect_format as detect_format
from ._stream import list_supported_formats as list_supported_formats
from ._stream import open_reader as open_reader
from ._stream import streaming_dataset_reader as streaming_dataset_reader
