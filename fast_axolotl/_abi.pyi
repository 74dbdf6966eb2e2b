"""Types of the C ABI as cffi exposes it (ABI mode): `Lib` is `_native.lib`, the functions and
integer constants of fastaxo.h; `FFI` is `_native.ffi`. A stub only: nothing here exists at
run time (tests/test_abi_types.py keeps `Lib` in step with the header).

C integers are Python ints; a `const char *` or `const uint8_t *` argument also takes bytes,
a `char` a one-byte bytes; other pointers are cdata (`ffi.new`, `ffi.from_buffer`, `ffi.NULL`).
"""

from typing import Any, Literal, Protocol, TypeAlias, overload

import cffi
import numpy as np
from _cffi_backend import CType, _CDataBase
from _typeshed import ReadableBuffer, WriteableBuffer

CData: TypeAlias = _CDataBase

# numpy arrays have the buffer protocol on every Python, but numpy's stubs declare their
# `__buffer__` only for 3.12+: accepted here as they are at run time.
_Readable: TypeAlias = ReadableBuffer | np.ndarray[Any, Any]
_Writeable: TypeAlias = WriteableBuffer | np.ndarray[Any, Any]

# The structs Python fills or reads, as `ffi.new("<name> *")` gives them: a pointer whose
# attributes are the fields.
class FaxLists(Protocol):
    values: CData
    values_len: int
    values_dtype: int
    offsets: CData
    num_rows: int
    offsets_dtype: int

class FaxGatherPads(Protocol):
    pad_token_id: int
    label_pad_id: int
    position_pad_id: int
    attention_pad_id: int

class FaxPackCounts(Protocol):
    split: int
    truncated: int
    dropped: int

# `new` of the structs above gives them with their fields (their Literal overloads overlap
# the general one, as Literal overloads do in typeshed: mypy calls it unsafe).
class FFI(cffi.FFI):
    @overload
    def new(self, cdecl: Literal["FaxLists *"], init: Any = None) -> FaxLists: ...  # type: ignore[overload-overlap]  # a str that is this Literal: same cdata
    @overload
    def new(self, cdecl: Literal["FaxGatherPads *"], init: Any = None) -> FaxGatherPads: ...  # type: ignore[overload-overlap]  # a str that is this Literal: same cdata
    @overload
    def new(self, cdecl: Literal["FaxPackCounts *"], init: Any = None) -> FaxPackCounts: ...  # type: ignore[overload-overlap]  # a str that is this Literal: same cdata
    @overload
    def new(self, cdecl: str | CType, init: Any = None) -> CData: ...
    @overload
    def from_buffer(self, cdecl: _Readable, require_writable: Literal[False] = False) -> CData: ...
    @overload
    def from_buffer(self, cdecl: _Writeable, require_writable: Literal[True]) -> CData: ...
    @overload
    def from_buffer(
        self, cdecl: str | CType, python_buffer: _Readable, require_writable: Literal[False] = False
    ) -> CData: ...
    @overload
    def from_buffer(self, cdecl: str | CType, python_buffer: _Writeable, require_writable: Literal[True]) -> CData: ...

class Lib(Protocol):
    FAX_ABI_VERSION: int
    FAX_OK: int
    FAX_ERR_INVALID_ARGUMENT: int
    FAX_ERR_IO: int
    FAX_ERR_FORMAT: int
    FAX_ERR_BUFFER_TOO_SMALL: int
    FAX_ERR_PANIC: int
    FAX_ERR_NOT_FOUND: int
    FAX_DTYPE_INT8: int
    FAX_DTYPE_INT16: int
    FAX_DTYPE_INT32: int
    FAX_DTYPE_INT64: int
    FAX_DTYPE_UINT8: int
    FAX_PACK_FIRST_FIT: int
    FAX_PACK_NEXT_FIT: int
    FAX_PACK_BEST_FIT_DECREASING: int
    FAX_PACK_FIRST_FIT_DECREASING: int
    FAX_PAD_RIGHT: int
    FAX_PAD_LEFT: int
    FAX_OVERFLOW_SPLIT: int
    FAX_OVERFLOW_TRUNCATE: int
    FAX_OVERFLOW_DROP: int
    FAX_OVERFLOW_ERROR: int
    def fax_abi_version(self, /) -> int: ...
    def fax_version_string(self, /) -> CData: ...
    def fax_row_digests(
        self, stream: CData, indices: CData, num_indices: int, num_threads: int, digests: CData, num_digests: int, /
    ) -> int: ...
    def fax_debug_panic(self, message: bytes | CData, in_worker: int, /) -> int: ...
    def fax_gather_packed(
        self,
        input_ids: FaxLists | CData,
        labels: FaxLists | CData,
        order: CData,
        order_len: int,
        bin_offsets: CData,
        num_bins: int,
        width: int,
        pads: FaxGatherPads | CData,
        out_input_ids: CData,
        out_labels: CData,
        out_position_ids: CData,
        out_attention_mask: CData,
        out_len: int,
        /,
    ) -> int: ...
    def fax_gather_packed_lists(
        self,
        input_ids: FaxLists | CData,
        labels: FaxLists | CData,
        order: CData,
        order_len: int,
        bin_offsets: CData,
        num_bins: int,
        out_input_ids: CData,
        out_labels: CData,
        out_position_ids: CData,
        out_attention_mask: CData,
        out_len: int,
        out_row_offsets: CData,
        /,
    ) -> int: ...
    def fax_last_error_message(self, buf: CData, cap: int, /) -> int: ...
    def fax_last_error_status(self, /) -> int: ...
    def fax_last_error_needed(self, /) -> int: ...
    def fax_hash_rows(self, rows: FaxLists | CData, num_threads: int, digests: CData, digests_len: int, /) -> int: ...
    def fax_hash_hex(
        self, digests: bytes | CData, n: int, separator: bytes, hex: CData, hex_len: int, num_threads: int, /
    ) -> int: ...
    def fax_sha256_backend(self, /) -> CData: ...
    def fax_pack_bins(
        self,
        lengths: CData,
        n: int,
        capacity: int,
        strategy: int,
        max_items_per_bin: int,
        group_size: int,
        order: CData,
        bin_offsets: CData,
        num_bins: CData,
        oversize: CData,
        /,
    ) -> int: ...
    def fax_pad_width(
        self, lists: FaxLists | CData, target_length: int, pad_to_multiple_of: int, width: CData, /
    ) -> int: ...
    def fax_pad_sequences(
        self, lists: FaxLists | CData, width: int, pad_value: int, side: int, out: CData, out_len: int, /
    ) -> int: ...
    def fax_reader_open(
        self, path: bytes | CData, options_json: bytes | CData, options_len: int, out: CData, /
    ) -> int: ...
    def fax_detect_format(self, path: bytes | CData, format: CData, compression: CData, /) -> int: ...
    def fax_list_inputs(
        self,
        path: bytes | CData,
        options_json: bytes | CData,
        options_len: int,
        out: CData,
        out_cap: int,
        out_len: CData,
        format: CData,
        /,
    ) -> int: ...
    def fax_format_name(self, code: int, /) -> CData: ...
    def fax_compression_name(self, code: int, /) -> CData: ...
    def fax_seen_new(self, out: CData, /) -> int: ...
    def fax_seen_free(self, seen: CData, /) -> None: ...
    def fax_seen_len(self, seen: CData, len: CData, /) -> int: ...
    def fax_seen_insert(self, seen: CData, digests: bytes | CData, n: int, kept: CData, num_kept: CData, /) -> int: ...
    def fax_pack_sequences_rows(
        self, lists: FaxLists | CData, max_length: int, overflow: int, rows: CData, /
    ) -> int: ...
    def fax_pack_sequences(
        self,
        lists: FaxLists | CData,
        max_length: int,
        pad_token_id: int,
        eos_token_id: int,
        label_pad_id: int,
        overflow: int,
        input_ids: CData,
        labels: CData,
        attention_mask: CData,
        out_len: int,
        counts: FaxPackCounts | CData,
        /,
    ) -> int: ...
    def fax_concatenate_rows(
        self,
        input_ids: FaxLists | CData,
        labels: FaxLists | CData,
        attention_mask: FaxLists | CData,
        max_length: int,
        rows: CData,
        /,
    ) -> int: ...
    def fax_concatenate_and_pack(
        self,
        input_ids: FaxLists | CData,
        labels: FaxLists | CData,
        attention_mask: FaxLists | CData,
        max_length: int,
        pad_token_id: int,
        label_pad_id: int,
        out_input_ids: CData,
        out_labels: CData,
        out_attention_mask: CData,
        out_len: int,
        /,
    ) -> int: ...
    def fax_chat_template_new(
        self, source: bytes | CData, source_len: int, options_json: bytes | CData, options_len: int, out: CData, /
    ) -> int: ...
    def fax_chat_template_free(self, handle: CData, /) -> None: ...
    def fax_chat_template_render(
        self, handle: CData, context_json: bytes | CData, context_len: int, out: CData, out_cap: int, out_len: CData, /
    ) -> int: ...
    def fax_prompt_strategy_new(
        self, tokenizer: CData, plan_json: bytes | CData, plan_len: int, out: CData, /
    ) -> int: ...
    def fax_prompt_strategy_free(self, strategy: CData, /) -> None: ...
    def fax_prompt_strategy_tokenize(
        self, strategy: CData, rows: CData, num_threads: int, out_array: CData, out_schema: CData, /
    ) -> int: ...
    def fax_tokenizer_new(
        self, json: bytes | CData, json_len: int, options_json: bytes | CData, options_len: int, out: CData, /
    ) -> int: ...
    def fax_tokenizer_free(self, tokenizer: CData, /) -> None: ...
    def fax_tokenizer_info(self, tokenizer: CData, out: CData, out_cap: int, out_len: CData, /) -> int: ...
    def fax_tokenizer_encode(
        self,
        tokenizer: CData,
        texts: CData,
        options_json: bytes | CData,
        options_len: int,
        ids_array: CData,
        ids_schema: CData,
        offsets_array: CData,
        offsets_schema: CData,
        /,
    ) -> int: ...
    def fax_pack_bins_trl(
        self,
        lengths: CData,
        n: int,
        capacity: int,
        group_offsets: CData,
        num_groups: int,
        order: CData,
        bin_offsets: CData,
        num_bins: CData,
        /,
    ) -> int: ...
    def fax_gather_segments(self, sources: CData, sizes: CData, n: int, out: CData, out_len: int, /) -> int: ...
