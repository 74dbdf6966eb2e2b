"""A tokenizer for byte-level BPE tokenizer.json files (GPT-2, Llama 3, Qwen2/3 and kin) with
the ids and offsets of Hugging Face `tokenizers`, many times faster: a Rust engine that
models these files exactly (`engine == "fast"`), and the `tokenizers` crate itself for any
file it does not model (`engine == "tokenizers"`, `reason` says why). Batches run on all
cores with the GIL released; the Arrow output holds no per-token Python object.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Iterator, Literal, Optional, Sequence, Union, overload

import numpy as np
import pyarrow as pa

from . import _native
from ._args import choice_arg, size_arg, utf8_arg
from ._native import ffi, lib
from ._types import ArrowArray, DatasetColumn
from .errors import InvalidArgumentError

if TYPE_CHECKING:
    import numpy.typing as npt

    from ._abi import CData

# What `encode_batch` reads: a list of str, a pyarrow string array or chunked array, or a
# `datasets` column.
Texts = Union[Sequence[str], ArrowArray, DatasetColumn]

__all__ = ["Tokenizer"]

ENGINES = ("auto", "fast", "tokenizers")
OUTPUTS = {"arrow": "arrow", "python": "python", "numpy": "numpy"}
# Texts per C call: memory stays bounded by a call's output and Ctrl-C is seen between calls.
BYTES_PER_CALL = 1 << 26


class Tokenizer:
    """A tokenizer.json loaded for encoding. Build it with `from_file`, `from_str` or
    `from_transformers`; `engine` is "fast" or "tokenizers"."""

    def __init__(self, tokenizer_json: str, *, split_special_tokens: bool = False, engine: str = "auto"):
        engine = choice_arg(engine, "engine", {name: name for name in ENGINES})
        data = utf8_arg(tokenizer_json, "the tokenizer JSON")
        options = json.dumps({"split_special_tokens": bool(split_special_tokens), "engine": engine}).encode()
        out = ffi.new("FaxTokenizer **")
        _native.check(lib.fax_tokenizer_new(data, len(data), options, len(options), out))
        self._handle = ffi.gc(out[0], lib.fax_tokenizer_free)
        # Kept so that the tokenizer can be sent to other processes (pickling, Ray workers).
        self._json, self.split_special_tokens, self._engine_asked = tokenizer_json, bool(split_special_tokens), engine
        info = self._info()
        self.engine: str = info["engine"]
        self.reason: Optional[str] = info["reason"]

    @classmethod
    def from_file(cls, path: Union[str, os.PathLike[str]], **options: Any) -> "Tokenizer":
        """A tokenizer.json file."""
        with open(path, encoding="utf-8") as file:
            return cls(file.read(), **options)

    @classmethod
    def from_str(cls, tokenizer_json: str, **options: Any) -> "Tokenizer":
        """A tokenizer.json's text."""
        return cls(tokenizer_json, **options)

    @classmethod
    def from_transformers(cls, tokenizer: Any, engine: str = "auto") -> "Tokenizer":
        """A transformers fast tokenizer, as it holds its backend (with its
        `split_special_tokens`)."""
        backend = getattr(tokenizer, "backend_tokenizer", None)
        if backend is None:
            raise TypeError(f"expected a transformers fast tokenizer, got {type(tokenizer).__name__}")
        split = bool(getattr(tokenizer, "split_special_tokens", False))
        return cls(backend.to_str(), split_special_tokens=split, engine=engine)

    def __repr__(self) -> str:
        return f"Tokenizer(engine={self.engine!r})"

    def to_str(self) -> str:
        """The tokenizer.json text it was loaded from."""
        return self._json

    def __reduce__(self) -> tuple[Any, tuple[str, bool, str]]:
        # A process that unpickles it loads the same JSON with the same options.
        return (_rebuild, (self._json, self.split_special_tokens, self._engine_asked))

    def _info(self) -> dict[str, Any]:
        size = ffi.new("size_t *")
        buf = ffi.new("char[]", 4096)
        status = lib.fax_tokenizer_info(self._handle, buf, 4096, size)
        if status:
            buf = ffi.new("char[]", size[0])
            _native.check(lib.fax_tokenizer_info(self._handle, buf, size[0], size))
        info: dict[str, Any] = json.loads(ffi.buffer(buf, size[0])[:])
        return info

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        """The ids of one text."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        return self.encode_batch([text], add_special_tokens=add_special_tokens, output="python")[0]

    @overload
    def encode_batch(
        self,
        texts: Texts,
        add_special_tokens: bool = False,
        offsets: Literal[False] = False,
        *,
        output: Literal["python"],
        num_threads: int = 0,
    ) -> list[list[int]]: ...
    @overload
    def encode_batch(
        self,
        texts: Texts,
        add_special_tokens: bool = False,
        offsets: Literal[False] = False,
        *,
        output: Literal["numpy"],
        num_threads: int = 0,
    ) -> list[npt.NDArray[np.int32]]: ...
    @overload
    def encode_batch(
        self,
        texts: Texts,
        add_special_tokens: bool = False,
        offsets: bool = False,
        output: str = "arrow",
        num_threads: int = 0,
    ) -> Any: ...
    def encode_batch(
        self,
        texts: Texts,
        add_special_tokens: bool = False,
        offsets: bool = False,
        output: str = "arrow",
        num_threads: int = 0,
    ) -> Any:
        """The ids of every text of `texts` (a list of str, a pyarrow string array or
        chunked array, or a `datasets` column such as `dataset["text"]`).

        `output="arrow"`: a `list<int32>` array (`large_list` past 2**31 - 1 tokens);
        `"python"`: a list of lists of int; `"numpy"`: a list of int32 arrays (views of one
        buffer). With `offsets=True` the result is `(ids, offsets)`, offsets being each
        token's (start, end) in code points of its text: `list<fixed_size_list<int64, 2>>`,
        lists of tuples, or (n, 2) int64 arrays.
        """
        kind = choice_arg(output, "output", OUTPUTS)
        threads = size_arg(num_threads, "num_threads", 0)
        options = json.dumps(
            {"add_special_tokens": bool(add_special_tokens), "offsets": bool(offsets), "num_threads": threads}
        ).encode()
        results = [self._encode_call(part, options, offsets) for part in _calls(_string_chunks(texts))]
        ids = _concat([r[0] for r in results], pa.list_(pa.int32()))
        spans = _concat([r[1] for r in results], pa.list_(pa.list_(pa.int64(), 2))) if offsets else None
        return _convert(ids, spans, kind) if offsets else _convert(ids, None, kind)[0]

    def _encode_call(
        self, chunks: list[pa.Array], options: bytes, offsets: bool
    ) -> tuple[pa.Array, Optional[pa.Array]]:
        """One C call over `chunks` (string arrays); the GIL is released during it."""
        reader = pa.RecordBatchReader.from_batches(
            pa.schema([("text", chunks[0].type)]), [pa.RecordBatch.from_arrays([c], ["text"]) for c in chunks]
        )
        stream = ffi.new("struct ArrowArrayStream *")
        reader._export_to_c(int(ffi.cast("uintptr_t", stream)))
        ids_array, ids_schema = ffi.new("struct ArrowArray *"), ffi.new("struct ArrowSchema *")
        off_array, off_schema = ffi.new("struct ArrowArray *"), ffi.new("struct ArrowSchema *")
        _native.check(
            lib.fax_tokenizer_encode(
                self._handle, stream, options, len(options), ids_array, ids_schema, off_array, off_schema
            )
        )
        ids = pa.Array._import_from_c(_ptr(ids_array), _ptr(ids_schema))
        spans = pa.Array._import_from_c(_ptr(off_array), _ptr(off_schema)) if offsets else None
        return ids, spans


def _rebuild(tokenizer_json: str, split_special_tokens: bool, engine: str) -> Tokenizer:
    return Tokenizer(tokenizer_json, split_special_tokens=split_special_tokens, engine=engine)


def _ptr(struct: CData) -> int:
    return int(ffi.cast("uintptr_t", struct))


def _string_chunks(texts: Any) -> list[pa.Array]:
    """`texts` as pyarrow string arrays of one type, without copying Arrow data."""
    column_source = getattr(texts, "source", None)
    if column_source is not None and hasattr(texts, "column_name"):  # a datasets Column
        texts = column_source.select_columns([texts.column_name]).with_format("arrow")[:].column(0)
    if isinstance(texts, pa.ChunkedArray):
        chunks = texts.chunks or [pa.array([], texts.type)]
    elif isinstance(texts, pa.Array):
        chunks = [texts]
    elif isinstance(texts, (list, tuple)):
        chunks = [_python_strings(texts)]
    else:
        raise TypeError(
            f"texts must be a list of str, a pyarrow string array or a datasets column, got {type(texts).__name__}"
        )
    kinds = {c.type for c in chunks}
    if len(kinds) != 1 or next(iter(kinds)) not in (pa.string(), pa.large_string(), pa.string_view()):
        raise TypeError(f"texts must be strings, got {', '.join(sorted(map(str, kinds)))}")
    _refuse_nulls(chunks)
    return chunks


def _refuse_nulls(chunks: list[pa.Array]) -> None:
    """A null text is an error naming its index in `texts` (the C call names it within the
    call, and a long input takes several calls)."""
    first = 0
    for chunk in chunks:
        if chunk.null_count:
            raise InvalidArgumentError(f"text {first + chunk.is_null().index(True).as_py()} is null")
        first += len(chunk)


def _python_strings(texts: Sequence[Any]) -> pa.Array:
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"text {i} is a {type(text).__name__}, not a str")
    try:
        return pa.array(texts, pa.large_string())
    except (UnicodeEncodeError, pa.ArrowException):
        for i, text in enumerate(texts):
            utf8_arg(text, f"text {i}")
        raise


def _calls(chunks: list[pa.Array]) -> Iterator[list[pa.Array]]:
    """Groups of slices of `chunks` of about BYTES_PER_CALL bytes each."""
    group: list[pa.Array] = []
    size = 0
    for chunk in chunks:
        for piece in _slices(chunk):
            group.append(piece)
            size += piece.nbytes
            if size >= BYTES_PER_CALL:
                yield group
                group, size = [], 0
    if group:
        yield group


def _slices(chunk: pa.Array) -> Iterator[pa.Array]:
    """`chunk` in slices of about BYTES_PER_CALL bytes (by its average text size)."""
    if len(chunk) == 0:
        return
    rows = max(1, len(chunk) * BYTES_PER_CALL // max(1, chunk.nbytes))
    for start in range(0, len(chunk), rows):
        yield chunk.slice(start, rows)


def _concat(arrays: list[pa.Array], default_type: pa.DataType) -> pa.Array:
    if len(arrays) == 1:
        return arrays[0]
    return pa.concat_arrays(arrays) if arrays else pa.array([], default_type)


def _convert(ids: pa.Array, spans: Optional[pa.Array], kind: str) -> tuple[Any, Any]:
    if kind == "arrow":
        return ids, spans
    if kind == "python":
        return ids.to_pylist(), (None if spans is None else [[tuple(p) for p in row] for row in spans.to_pylist()])
    if len(ids) == 0:
        return [], (None if spans is None else [])
    bounds = ids.offsets.to_numpy()[1:-1]
    id_rows = np.split(ids.values.to_numpy(), bounds)
    if spans is None:
        return id_rows, None
    pairs = spans.values.flatten().to_numpy().reshape(-1, 2)
    return id_rows, np.split(pairs, bounds)
