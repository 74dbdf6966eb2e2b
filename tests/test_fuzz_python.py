"""Hypothesis fuzzing of every public kernel with garbage (issue #8).

Each call gets a valid argument set with one argument replaced by garbage (wrong types,
negative or huge sizes, NaN and float lengths, tokens beyond int64, offsets that decrease or
point past the values, None, empty and one-element inputs), or a fully valid small input.
Every call must end in a result or a TypeError/ValueError (or OverflowError) with a non-empty
message that names the bad argument (absurd sizes too: no bare MemoryError); never a
RustPanicError, another exception type, or a crash. The loops run in a child process, so a segfault or abort
fails the test instead of killing pytest. Valid small inputs are also checked against plain
Python references.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections import Counter

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fast_axolotl as fa

# Per property, in the child; ~20 s in all. To fuzz longer by hand:
# FUZZ_EXAMPLES=2000 FUZZ_RANDOM=1 python tests/test_fuzz_python.py
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "120"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize="FUZZ_RANDOM" not in os.environ, database=None)
HUGE = (2**62, 2**63 - 1)  # type-correct but absurd sizes: no result fits in memory
OUT_OF_RANGE = (-1, -(2**63), 2**63, 2**64, 2**100)

# ---- garbage ----------------------------------------------------------------------------

scalar_garbage = st.one_of(
    st.none(),
    st.booleans(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([float("nan"), 3.0, -0.0, 1e300]),
    st.text(max_size=3),
    st.binary(max_size=3),
    st.sampled_from([object(), [], {}, (), [1, 2], {"a": 1}, np.float64(2.0), np.array([1, 2]), 1j]),
)
sizes = st.one_of(
    st.integers(-3, 40),
    st.sampled_from(OUT_OF_RANGE),
    st.sampled_from(HUGE),
    scalar_garbage,
    st.sampled_from([np.int64(3), np.uint64(2**64 - 1), np.int8(-1)]),
)
int64s = st.one_of(st.integers(-(2**63), 2**63 - 1), st.sampled_from(OUT_OF_RANGE), scalar_garbage)

token = st.integers(-(2**63), 2**63 - 1)
bad_token = st.one_of(
    st.sampled_from([2**63, -(2**63) - 1, 2**64, None, 1.5, float("nan"), "7", b"7", [1]]), st.floats()
)


@st.composite
def bad_rows(draw):
    """A list of token lists with one bad token or one bad row somewhere."""
    rows = draw(st.lists(st.lists(token, max_size=4), min_size=1, max_size=4))
    i = draw(st.integers(0, len(rows) - 1))
    if draw(st.booleans()):
        rows[i] = rows[i] + [draw(bad_token)]
    else:
        rows[i] = draw(st.one_of(st.none(), st.integers(), st.text(max_size=2), st.floats()))
    return rows


@st.composite
def values_offsets(draw):
    """A (values, offsets) tuple: any offsets (decreasing, negative, past), any dtypes."""
    vdtype = draw(
        st.sampled_from(
            [
                "int8",
                "int16",
                "int32",
                "int64",
                "uint8",
                "uint16",
                "uint32",
                "uint64",
                "float64",
                "bool",
                "object",
                ">i4",
            ]
        )
    )
    odtype = draw(st.sampled_from(["int32", "int64", "uint32", "uint64", "int8", "float32", ">i8"]))
    n = draw(st.integers(0, 8))
    values = np.array(draw(st.lists(st.integers(0, 100), min_size=n, max_size=n)), dtype=vdtype)
    offsets = draw(st.lists(st.integers(-3, 12), max_size=5))
    if odtype.startswith("uint") or draw(st.booleans()):
        offsets = sorted(abs(o) % (n + 1) for o in offsets) or [0]
    return values, np.array(offsets, dtype=odtype)


@st.composite
def numpy_rows(draw):
    dtype = draw(st.sampled_from(["int8", "int32", "int64", "uint64", "float32", "bool", "object"]))
    rows = draw(st.lists(st.lists(st.integers(0, 100), max_size=4), min_size=1, max_size=4))
    arrays = [np.array(r, dtype=dtype) for r in rows]
    if draw(st.booleans()):
        arrays[0] = arrays[0].reshape(1, -1)  # 2-D row
    if draw(st.booleans()):
        arrays[-1] = np.array([2**64 - 1], dtype="uint64")
    return arrays


@st.composite
def arrow_lists(draw):
    rows = draw(st.lists(st.lists(st.integers(0, 100), max_size=6), max_size=6))
    t = draw(st.sampled_from([pa.int8(), pa.int32(), pa.int64(), pa.uint16()]))
    kind = draw(st.sampled_from(["list", "large", "sliced", "chunked", "strings", "nulls"]))
    if kind == "strings":
        return pa.array([str(r) for r in rows])
    if kind == "nulls":
        return pa.array(rows + [None], pa.list_(t))
    arr = pa.array(rows, pa.large_list(t) if kind == "large" else pa.list_(t))
    if kind == "sliced" and len(arr) > 1:
        return arr.slice(1)
    return pa.chunked_array([arr, arr]) if kind == "chunked" else arr


sequence_garbage = st.one_of(
    bad_rows(),
    values_offsets(),
    numpy_rows(),
    arrow_lists(),
    scalar_garbage,
    st.just(np.zeros((2, 2), dtype=np.int64)),
    st.just([]),
    st.just([[]]),
)

# ---- the check every call goes through ---------------------------------------------------

ALLOWED = (TypeError, ValueError, OverflowError)


def outcome(fn, *args, bad: str | None = None, names=None, **kwargs):
    """Call `fn`; a failure must be an allowed exception with a message naming `bad` (or one of
    `names`). Returns the result or the exception."""
    try:
        return fn(*args, **kwargs)
    except fa.RustPanicError as exc:
        raise AssertionError(f"{fn.__name__}: a Rust panic is a bug: {exc}") from exc
    except ALLOWED as exc:
        message = str(exc)
        assert message, f"{fn.__name__}: {type(exc).__name__} without a message (bad argument {bad!r})"
        wanted = names or ((bad,) if bad else ())
        if wanted:
            assert any(w in message for w in wanted), f"{fn.__name__}: {message!r} does not name {wanted}"
        return exc


SEQUENCE_NAMES = ("sequences", "values", "offsets")

# ---- properties: one argument garbage at a time -------------------------------------------


@SETTINGS
@given(st.data())
def fuzz_pad_sequences(data):
    kwargs = dict(
        sequences=[[1, 2], [3]],
        target_length=None,
        pad_value=0,
        padding_side="right",
        pad_to_multiple_of=None,
        return_tensors=data.draw(st.sampled_from([None, "np"])),
    )
    bad = data.draw(st.sampled_from([*kwargs, "none"]))
    if bad == "sequences":
        kwargs[bad] = data.draw(sequence_garbage)
    elif bad in ("target_length", "pad_to_multiple_of"):
        kwargs[bad] = data.draw(sizes)
    elif bad == "pad_value":
        kwargs[bad] = data.draw(int64s)
    elif bad in ("padding_side", "return_tensors"):
        kwargs[bad] = data.draw(st.one_of(scalar_garbage, st.sampled_from(["middle", "LEFT", "tf", ""])))
    names = SEQUENCE_NAMES if bad == "sequences" else None
    result = outcome(fa.pad_sequences, bad=None if bad == "none" else bad, names=names, **kwargs)
    if bad == "none":
        assert np.array_equal(np.asarray(result), [[1, 2], [3, 0]])


@SETTINGS
@given(st.one_of(sizes, st.integers(0, 100)), st.one_of(sizes, st.integers(0, 100)))
def fuzz_create_padding_mask(current, target):
    result = outcome(fa.create_padding_mask, current, target, names=("current_length", "target_length"))
    if isinstance(current, int) and isinstance(target, int) and not isinstance(result, Exception):
        assert result == list(range(max(target - current, 0)))


@SETTINGS
@given(st.data())
def fuzz_pack_sequences(data):
    kwargs = dict(
        sequences=[[1, 2, 3], [4]],
        max_length=4,
        pad_token_id=0,
        eos_token_id=9,
        label_pad_id=-100,
        overflow="split",
        return_tensors=data.draw(st.sampled_from([None, "np"])),
    )
    bad = data.draw(st.sampled_from([*kwargs, "none"]))
    if bad == "sequences":
        kwargs[bad] = data.draw(sequence_garbage)
    elif bad == "max_length":
        kwargs[bad] = data.draw(sizes)
    elif bad in ("pad_token_id", "eos_token_id", "label_pad_id"):
        kwargs[bad] = data.draw(int64s)
    elif bad in ("overflow", "return_tensors"):
        kwargs[bad] = data.draw(st.one_of(scalar_garbage, st.sampled_from(["SPLIT", "tf", ""])))
    names = SEQUENCE_NAMES if bad == "sequences" else None
    result = outcome(fa.pack_sequences, bad=None if bad == "none" else bad, names=names, **kwargs)
    if bad == "none":
        assert np.array_equal(result["input_ids"], [[1, 2, 3, 9], [4, 9, 0, 0]])


@SETTINGS
@given(st.data())
def fuzz_concatenate_and_pack(data):
    kwargs = dict(
        input_ids=[[1, 2], [3]],
        labels=[[1, 2], [3]],
        attention_masks=[[1, 1], [1]],
        max_length=2,
        pad_token_id=0,
        label_pad_id=-100,
        return_tensors=data.draw(st.sampled_from([None, "np"])),
    )
    bad = data.draw(st.sampled_from([*kwargs, "none"]))
    if bad in ("input_ids", "labels", "attention_masks"):
        kwargs[bad] = data.draw(sequence_garbage)
    elif bad == "max_length":
        kwargs[bad] = data.draw(sizes)
    elif bad in ("pad_token_id", "label_pad_id"):
        kwargs[bad] = data.draw(int64s)
    elif bad == "return_tensors":
        kwargs[bad] = data.draw(scalar_garbage)
    # A stream is named by the Python checks; the kernel's checks of what the Python side
    # cannot see (offsets, a shape unlike input_ids') name the buffer or both streams.
    streams = ("input_ids", "labels", "attention_masks")
    names = (bad, "values", "offsets", "input_ids") if bad in streams else None
    result = outcome(fa.concatenate_and_pack, bad=None if bad == "none" else bad, names=names, **kwargs)
    if bad == "none":
        assert np.array_equal(result["input_ids"], [[1, 2], [3, 0]])


@SETTINGS
@given(st.data())
def fuzz_pack_bins(data):
    kwargs = dict(lengths=[3, 1, 2], capacity=4, strategy="bfd", max_items_per_bin=None, group_size=None)
    bad = data.draw(st.sampled_from([*kwargs, "none"]))
    if bad == "lengths":
        kwargs[bad] = data.draw(
            st.one_of(
                scalar_garbage,
                st.lists(st.one_of(st.integers(-5, 5), bad_token), max_size=4),
                st.just(np.array([1.5, 2.0])),
                st.just(np.array([2**64 - 1], np.uint64)),
                st.just(np.zeros((2, 2), np.int64)),
            )
        )
    elif bad == "capacity":
        kwargs[bad] = data.draw(st.one_of(sizes, int64s))
    elif bad in ("max_items_per_bin", "group_size"):
        kwargs[bad] = data.draw(sizes)
    elif bad == "strategy":
        kwargs[bad] = data.draw(st.one_of(scalar_garbage, st.sampled_from(["BFD", "best_fit", ""])))
    result = outcome(fa.pack_bins, bad=None if bad == "none" else bad, **kwargs)
    if bad == "none":
        assert [list(result.order[a:b]) for a, b in zip(result.bin_offsets, result.bin_offsets[1:])] == [[0, 1], [2]]


@SETTINGS
@given(st.data())
def fuzz_gather_packed(data):
    kwargs = dict(
        input_ids=[[1, 2], [3]],
        order=[1, 0],
        bin_offsets=[0, 1, 2],
        width=3,
        labels=None,
        pad_token_id=0,
        label_pad_id=-100,
        position_pad_id=0,
        attention_pad_id=0,
        return_tensors="np",
    )
    bad = data.draw(st.sampled_from([*kwargs, "none"]))
    if bad in ("input_ids", "labels"):
        kwargs[bad] = data.draw(sequence_garbage)
    elif bad in ("order", "bin_offsets"):
        kwargs[bad] = data.draw(
            st.one_of(
                scalar_garbage,
                st.lists(st.integers(-3, 5), max_size=4),
                st.just([2**63]),
                st.just([0.5]),
                st.just(np.array([[0]])),
            )
        )
    elif bad == "width":
        kwargs[bad] = data.draw(sizes)
    elif bad.endswith("_id"):
        kwargs[bad] = data.draw(int64s)
    elif bad == "return_tensors":
        kwargs[bad] = data.draw(scalar_garbage)
    # Token lists that disagree with the packing are reported through it (an order index past
    # the items, a bin wider than `width`).
    names = (*SEQUENCE_NAMES, "input_ids", "labels", "order", "bin") if bad in ("input_ids", "labels") else None
    if bad == "bin_offsets":  # the message names the packing (bin_offsets) or, for bad orders, the order
        names = ("bin_offsets", "order")
    result = outcome(fa.gather_packed, bad=None if bad == "none" else bad, names=names, **kwargs)
    if bad == "none":
        assert np.array_equal(result["input_ids"], [[3, 0, 0], [1, 2, 0]])


rows_garbage = st.one_of(
    scalar_garbage,
    st.lists(
        st.one_of(
            st.text(max_size=3),
            st.binary(max_size=3),
            st.none(),
            st.integers(),
            st.floats(),
            st.sampled_from(["\ud800", bytearray(b"x"), memoryview(b"x")]),
        ),
        max_size=4,
    ),
    st.sampled_from(
        [
            pa.array([1, 2]),
            pa.array(["a", None]),
            pa.array([b"a"], pa.large_binary()),
            pa.chunked_array([pa.array(["x"]), pa.array(["y"])]),
        ]
    ),
)


@SETTINGS
@given(rows_garbage, st.one_of(sizes, st.just(0)))
def fuzz_parallel_hash_rows(rows, threads):
    # Huge thread counts are valid (capped at the cores), so they stay in.
    result = outcome(fa.parallel_hash_rows, rows, num_threads=threads, names=("rows", "num_threads", "utf-8"))
    if not isinstance(result, Exception):
        want = [
            hashlib.sha256(r if isinstance(r, (bytes, bytearray)) else str(r).encode()).hexdigest()
            for r in (rows.to_pylist() if hasattr(rows, "to_pylist") else rows)
        ]
        assert result == want


hashes_garbage = st.one_of(
    scalar_garbage,
    st.text(max_size=3),
    st.binary(max_size=3),
    st.lists(
        st.one_of(st.text(max_size=70), st.none(), st.integers(), st.just("ab" * 32), st.just("g" * 64)), max_size=3
    ),
)


@SETTINGS
@given(rows_garbage, st.one_of(st.none(), hashes_garbage))
def fuzz_deduplicate_indices(rows, existing):
    outcome(fa.deduplicate_indices, rows, existing_hashes=existing, names=("rows", "existing_hashes", "utf-8"))


tables = st.one_of(
    scalar_garbage,
    st.sampled_from(
        [
            pa.table({"a": [1, 1, 2], "b": ["x", "x", None]}),
            pa.table({"d": pa.array([1, 2], pa.date32())}),
            pa.table({"h": pa.array(np.array([1, 2], np.float16))}),
            pa.table({}),
            pa.record_batch({"a": [[1], [1], []]}),
            pa.array([1, 2]),
            {"a": [1, 2]},
        ]
    ),
)


@SETTINGS
@given(tables, st.one_of(st.just(0), sizes))
def fuzz_row_digests(data, threads):
    outcome(fa.row_digests, data, num_threads=threads, names=("expected a pyarrow", "num_threads", "column", "dedupe"))


@SETTINGS
@given(tables, st.one_of(st.none(), scalar_garbage))
def fuzz_dedupe_table(data, seen):
    outcome(fa.dedupe_table, data, seen=seen, names=("expected a pyarrow", "seen", "column", "dedupe"))


@SETTINGS
@given(st.one_of(scalar_garbage, st.sampled_from([pa.array([1]), {"a": [1]}])), st.one_of(st.none(), scalar_garbage))
def fuzz_deduplicate_dataset(dataset, seen):
    outcome(fa.deduplicate_dataset, dataset, seen_hashes=seen, names=("Dataset", "seen"))


# ---- chat templates and tokenization ------------------------------------------------------

TEMPLATES = [
    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] | trim }}\n{% endfor %}",
    "{{ messages | tojson }}{{ raise_exception('no') if messages | length > 3 }}",
]
template_garbage = st.one_of(
    scalar_garbage, st.text(max_size=40), st.sampled_from(["{% for %}", "{{ x", "{% endif %}"])
)
message = st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant"]), "content": st.text(max_size=20)})
messages_garbage = st.one_of(
    scalar_garbage,
    st.lists(st.one_of(scalar_garbage, message), max_size=3),
    st.just([{"role": object()}]),
    st.just([{"content": float("nan")}]),
)


@SETTINGS
@given(st.data())
def fuzz_render_chat_template(data):
    bad = data.draw(st.sampled_from(["template", "messages", "none"]))
    template = data.draw(template_garbage) if bad == "template" else data.draw(st.sampled_from(TEMPLATES))
    messages = data.draw(messages_garbage) if bad == "messages" else data.draw(st.lists(message, max_size=5))
    outcome(
        fa.render_chat_template,
        template,
        messages,
        names=("template", "messages", "chat template", "JSON", "no", "serializable", "not"),
    )


@SETTINGS
@given(template_garbage)
def fuzz_ChatTemplate(template):
    outcome(fa.ChatTemplate, template, names=("template",))


def _small_tokenizer_json() -> str:
    import tokenizers

    vocab = {chr(c): i for i, c in enumerate(range(32, 127))}
    tok = tokenizers.Tokenizer(tokenizers.models.BPE(vocab, [], unk_token=None))
    return tok.to_str()


@SETTINGS
@given(st.data())
def fuzz_tokenize_dataset(data):
    bad = data.draw(st.sampled_from(["data", "tokenizer", "chat_template", "rows", "none"]))
    table = pa.table({"messages": [[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]]})
    if bad == "rows":
        table = pa.table({"messages": [data.draw(st.one_of(st.text(max_size=20), st.just("[1, 2]"), st.just("{}")))]})
    kwargs = {"chat_template": data.draw(template_garbage) if bad == "chat_template" else TEMPLATES[0]}
    # (a str is a path: a missing file is FileNotFoundError, tested in test_tokenize_chat.py)
    not_a_path = scalar_garbage.filter(lambda x: not isinstance(x, (str, bytes)))
    tokenizer = (
        data.draw(st.one_of(not_a_path, st.sampled_from(["{}", '{"model": 1}']))) if bad == "tokenizer" else None
    )
    arg = data.draw(scalar_garbage) if bad == "data" else table
    if tokenizer is None:
        import tempfile

        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write(_small_tokenizer_json())
        tokenizer = f.name
    elif isinstance(tokenizer, str):
        import tempfile

        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            f.write(tokenizer)
        tokenizer = f.name
    outcome(
        fa.tokenize_dataset,
        arg,
        tokenizer,
        names=("expected a pyarrow", "tokenizer", "template", "row", "JSON"),
        **kwargs,
    )


@SETTINGS
@given(st.data())
def fuzz_Tokenizer(data):
    """Garbage for the tokenizer JSON, the texts and each option of encode_batch; valid
    texts are checked against the tokenizers package."""
    import tokenizers

    text_garbage = st.one_of(
        scalar_garbage,
        st.lists(st.one_of(st.text(max_size=5), scalar_garbage), max_size=4),
        st.just(pa.array([1, 2])),
        st.just(pa.array(["a", None])),
    )
    bad = data.draw(st.sampled_from(["json", "texts", "output", "num_threads", "engine", "none"]))
    if bad in ("json", "engine"):
        json_text = data.draw(st.one_of(scalar_garbage, st.sampled_from(["{}", '{"model": 1}', "[", ""])))
        engine = data.draw(st.one_of(scalar_garbage, st.sampled_from(["auto", "fast", "Fast", ""])))
        if bad == "json":
            engine = "auto"
        else:
            json_text = _small_tokenizer_json()
        outcome(
            fa.Tokenizer,
            json_text,
            engine=engine,
            names=("tokenizer", "JSON", "engine", "str", "expected", "must", "not"),
        )
        return
    tokenizer = fa.Tokenizer(_small_tokenizer_json())
    texts = data.draw(text_garbage) if bad == "texts" else data.draw(st.lists(st.text(max_size=20), max_size=5))
    output = data.draw(st.one_of(scalar_garbage, st.just("pandas"))) if bad == "output" else "python"
    threads = data.draw(st.one_of(scalar_garbage, sizes)) if bad == "num_threads" else 0
    result = outcome(
        tokenizer.encode_batch,
        texts,
        output=output,
        num_threads=threads,
        names=("text", "output", "num_threads", "str", "null", "UTF-8"),
    )
    if bad == "none":
        reference = tokenizers.Tokenizer.from_str(_small_tokenizer_json())
        assert result == [e.ids for e in reference.encode_batch(texts, add_special_tokens=False)]


READER_EXTENSIONS = ["csv", "jsonl", "json", "txt", "parquet", "arrow", "feather", "csv.gz", "jsonl.zst", "bin", ""]
READER_FORMATS = [None, "parquet", "arrow", "feather", "csv", "json", "jsonl", "text", "CSV.GZ", "hf_dataset"]


def file_bytes(table: pa.Table, kind: str) -> bytes:
    """`table` written by pyarrow in one of the formats the reader takes."""
    import io
    import json

    sink = io.BytesIO()
    if kind == "parquet":
        import pyarrow.parquet as pq

        pq.write_table(table, sink)
    elif kind in ("arrow", "feather"):
        import pyarrow.feather as feather

        feather.write_feather(table, sink, compression="uncompressed")
    elif kind == "csv":
        import pyarrow.csv as csv

        csv.write_csv(table, sink)
    else:  # JSON lines
        sink.write("".join(json.dumps(row) + "\n" for row in table.to_pylist()).encode())
    return sink.getvalue()


def damaged(draw, content: bytes) -> bytes:
    damage = draw(st.sampled_from(["truncate", "flip", "append", "random"]))
    if damage == "random" or not content:
        return draw(st.binary(max_size=200))
    if damage == "truncate":
        return content[: draw(st.integers(0, len(content) - 1))]
    if damage == "flip":
        i = draw(st.integers(0, len(content) - 1))
        return content[:i] + bytes([content[i] ^ draw(st.integers(1, 255))]) + content[i + 1 :]
    return content + draw(st.binary(min_size=1, max_size=20))


READER_OUTCOMES: Counter = Counter()  # printed by the child: both must be common
READER_ERRORS = (TypeError, ValueError, OSError)  # FormatError, FastAxolotlIOError, NotFoundError among them


@SETTINGS
@given(st.data())
def fuzz_open_reader(data):
    """A valid small file and arguments, with one of them garbage: the file's bytes (damaged
    or random, under any extension), dataset_type, batch_size or columns."""
    import tempfile

    rows = data.draw(st.lists(st.tuples(st.integers(-5, 5), st.text(max_size=4)), min_size=1, max_size=6))
    table = pa.table({"a": [r[0] for r in rows], "b": [r[1] for r in rows]})
    kind = data.draw(st.sampled_from(["parquet", "arrow", "csv", "jsonl"]))
    content, ext = file_bytes(table, kind), kind
    kwargs = dict(dataset_type=None, batch_size=data.draw(st.integers(1, 4)), columns=None)
    bad = data.draw(st.sampled_from(["none", "file", "extension", "dataset_type", "batch_size", "columns"]))
    if bad == "file":
        content = damaged(data.draw, content)
    elif bad == "extension":
        ext = data.draw(st.sampled_from(READER_EXTENSIONS))
    elif bad == "dataset_type":
        kwargs[bad] = data.draw(st.one_of(st.sampled_from(READER_FORMATS), scalar_garbage))
    elif bad == "batch_size":
        kwargs[bad] = data.draw(sizes)
    elif bad == "columns":
        kwargs[bad] = data.draw(st.one_of(st.just(["b"]), st.just(["zz"]), st.just(["a", "a"]), scalar_garbage))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, f"data.{ext}" if ext else "data")
        with open(path, "wb") as f:
            f.write(content)
        try:
            got = fa.open_reader(path, **kwargs).read_all()
        except fa.RustPanicError as exc:
            raise AssertionError(f"open_reader: a Rust panic is a bug: {exc}") from exc
        except READER_ERRORS as exc:
            assert str(exc), f"open_reader: {type(exc).__name__} without a message"
            assert bad != "none", f"open_reader refused a valid {kind} file: {exc}"
            READER_OUTCOMES["error"] += 1
            return
    READER_OUTCOMES["read"] += 1
    if bad == "none" and kind in ("parquet", "arrow"):  # typed formats read back exactly
        assert got.to_pylist() == table.to_pylist()


PROPERTIES = [
    fuzz_pad_sequences,
    fuzz_create_padding_mask,
    fuzz_pack_sequences,
    fuzz_concatenate_and_pack,
    fuzz_pack_bins,
    fuzz_gather_packed,
    fuzz_parallel_hash_rows,
    fuzz_deduplicate_indices,
    fuzz_row_digests,
    fuzz_dedupe_table,
    fuzz_deduplicate_dataset,
    fuzz_render_chat_template,
    fuzz_ChatTemplate,
    fuzz_tokenize_dataset,
    fuzz_Tokenizer,
]
HAS_READER = "open_reader" in fa._KERNELS  # the streaming reader, in builds that have it
if HAS_READER:
    PROPERTIES.append(fuzz_open_reader)


def test_garbage_never_crashes_and_errors_name_the_argument():
    result = subprocess.run(
        [sys.executable, __file__], capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=900
    )
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    for prop in PROPERTIES:
        assert f"{prop.__name__}: ok" in result.stdout
    if HAS_READER:
        outcomes = result.stdout.split("reader outcomes:")[1].split()
        read, errors = int(outcomes[0]), int(outcomes[1])
        assert read >= 10 and errors >= 10, f"open_reader read {read} files and refused {errors}"


def test_every_public_kernel_is_fuzzed():
    # The reader's functions other than open_reader (the one that parses files) wrap it.
    kernels = {name for name, module in fa._KERNELS.items() if module != "reader" and name != "sha256_backend"}
    fuzzed = {p.__name__.removeprefix("fuzz_") for p in PROPERTIES}
    assert kernels | ({"open_reader"} if HAS_READER else set()) == fuzzed


# ---- valid edge inputs against plain references -----------------------------------------


def ref_pad(rows, target, multiple, pad, side):
    width = max([len(r) for r in rows] + [target or 0])
    width = -(-width // (multiple or 1)) * (multiple or 1)
    return [(r + [pad] * (width - len(r))) if side == "right" else ([pad] * (width - len(r)) + r) for r in rows]


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    st.lists(st.lists(token, max_size=3), max_size=3),
    st.one_of(st.none(), st.integers(0, 5)),
    st.one_of(st.none(), st.integers(1, 4)),
    token,
    st.sampled_from(["right", "left"]),
)
def test_pad_edge_inputs_match_reference(rows, target, multiple, pad, side):
    want = ref_pad(rows, target, multiple, pad, side)
    assert fa.pad_sequences(rows, target, pad, side, multiple) == want
    got = fa.pad_sequences(rows, target, pad, side, multiple, return_tensors="np")
    assert got.tolist() == want and got.dtype == np.int64 and got.shape[0] == len(rows)


def ref_pack(rows, max_length, eos):
    out, cur = [], []
    for r in rows:
        item = r + [eos]
        if len(item) > max_length:
            if cur:
                out.append(cur)
            cur = []
            for t in item:
                cur.append(t)
                if len(cur) == max_length:
                    out.append(cur)
                    cur = []
            continue
        if len(cur) + len(item) > max_length:
            out.append(cur)
            cur = []
        cur += item
    return out + ([cur] if cur else [])


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(st.lists(st.integers(1, 9), max_size=5), max_size=4), st.integers(2, 6))
def test_pack_edge_inputs_match_reference(rows, max_length):
    got = fa.pack_sequences(rows, max_length, 0, 99)
    want = ref_pack(rows, max_length, 99)
    assert got["input_ids"] == [r + [0] * (max_length - len(r)) for r in want]
    assert got["attention_mask"] == [[1] * len(r) + [0] * (max_length - len(r)) for r in want]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(st.lists(st.integers(0, 9), max_size=4), max_size=4), st.integers(1, 5))
def test_concatenate_edge_inputs_match_reference(rows, max_length):
    flat = [t for r in rows for t in r]
    got = fa.concatenate_and_pack(rows, rows, rows, max_length, pad_token_id=-1)
    padded = flat + [-1] * (-len(flat) % max_length)
    assert got["input_ids"] == [padded[i : i + max_length] for i in range(0, len(padded), max_length)]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(st.one_of(st.text(max_size=4), st.binary(max_size=4)), max_size=5))
def test_hash_and_dedupe_edge_inputs_match_hashlib(rows):
    hexes = [hashlib.sha256(r if isinstance(r, bytes) else r.encode()).hexdigest() for r in rows]
    assert fa.parallel_hash_rows(rows) == hexes
    first = {}
    for i, h in enumerate(hexes):
        first.setdefault(h, i)
    kept, new = fa.deduplicate_indices(rows)
    assert kept == sorted(first.values()) and new == [hexes[i] for i in kept]


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.one_of(st.none(), st.integers(-3, 3)), st.sampled_from(["a", "b", None])), max_size=6))
def test_dedupe_table_edge_inputs_match_str_of_rows(rows):
    table = pa.table(
        {"x": pa.array([r[0] for r in rows], pa.int64()), "y": pa.array([r[1] for r in rows], pa.string())}
    )
    first = {}
    for i, row in enumerate(table.to_pylist()):
        first.setdefault(str(row), i)  # Axolotl's rule: duplicates iff str(row) is the same
    kept, seen = fa.dedupe_table(table)
    assert kept.tolist() == sorted(first.values()) and len(seen) == len(first)


# ---- regression tests of the issue #8 report's bugs (strict xfails until fixed) ------------


@pytest.mark.parametrize("return_tensors", [None, "np"])
def test_huge_width_error_names_the_argument(return_tensors):
    with pytest.raises(ValueError, match="target_length"):
        fa.pad_sequences([[1]], target_length=2**62, return_tensors=return_tensors)


def test_stream_errors_name_the_stream():
    with pytest.raises(TypeError, match="labels"):
        fa.concatenate_and_pack([[1, 2]], [[1, None]], [[1, 1]], 2, 0)


def test_deduplicate_dataset_on_a_table_is_clear():
    table = pa.table({"a": [1, 1, 2]})
    try:
        result, _ = fa.deduplicate_dataset(table)
    except TypeError as exc:
        assert "Dataset" in str(exc) or "dedupe_table" in str(exc), str(exc)
    else:
        assert result.column("a").to_pylist() == [1, 2]


def invalid_arrow_column(kind: str):
    """Arrow data that pyarrow builds without full validation, as any producer may hand over:
    buffers of the right sizes, but keys out of range or offsets that decrease."""
    if kind == "dictionary_keys":
        return pa.DictionaryArray.from_arrays(pa.array([5, 0], pa.int32()), pa.array(["a"]), safe=False)
    offsets = pa.py_buffer(np.array([0, 3, 1, 4], np.int32).tobytes())
    if kind == "list_offsets":
        return pa.ListArray.from_buffers(
            pa.list_(pa.int32()), 3, [None, offsets], children=[pa.array([1, 2, 3, 4], pa.int32())]
        )
    return pa.Array.from_buffers(pa.string(), 3, [None, offsets, pa.py_buffer(b"abcd")])


@pytest.mark.parametrize("kind", ["dictionary_keys", "list_offsets", "string_offsets"])
def test_invalid_arrow_data_is_a_format_error(kind):
    with pytest.raises(fa.FormatError):
        fa.row_digests(pa.table({"c": invalid_arrow_column(kind)}))


def test_non_iterable_existing_hashes_is_clear():
    with pytest.raises(TypeError, match="existing_hashes"):
        fa.deduplicate_indices(["a"], existing_hashes=5)


def test_ragged_lengths_name_the_argument():
    with pytest.raises(ValueError, match="lengths"):
        fa.pack_bins([[1], [2, 3]], 4)


def test_return_tensors_array_is_clear():
    with pytest.raises(ValueError, match="return_tensors"):
        fa.pad_sequences([[1]], return_tensors=np.array(["np", "pt"]))


def test_a_dict_row_is_refused():
    with pytest.raises(TypeError, match="sequences"):
        fa.pad_sequences([{1: 2}])


@pytest.mark.parametrize("row", [{1, 2}, {1: 2}.keys(), (t for t in [1])])
def test_unordered_or_unsized_rows_are_refused(row):
    with pytest.raises(TypeError, match=r"sequences\[1\]"):
        fa.pad_sequences([[1], row])


# Bool arrays are refused by their dtype. Python bools in lists are ints to Python and read
# as 0/1, as numpy, torch and Axolotl's collators read them (checking each token's type
# would slow every list conversion).
BOOL_TOKENS = [
    [np.array([True, False])],
    (np.array([True, False]), np.array([0, 2])),
    pa.array([[True]], pa.list_(pa.bool_())),
]


@pytest.mark.parametrize("sequences", BOOL_TOKENS)
def test_bool_arrays_are_refused(sequences):
    with pytest.raises(TypeError, match="sequences"):
        fa.pad_sequences(sequences)
    with pytest.raises(TypeError, match="labels"):
        fa.concatenate_and_pack([[1, 2]], sequences, [[1, 1]], 2, 0)


def test_python_bools_in_lists_are_read_as_ints_like_numpy():
    rows = [[1, True], [False, 7, True]]
    assert fa.pad_sequences(rows) == np.array([[1, 1, 0], [0, 7, 1]]).tolist()


@pytest.mark.parametrize("lengths", [[3, True], (False, 2), np.array([True, False])])
def test_bool_lengths_are_refused(lengths):
    with pytest.raises(TypeError, match="lengths"):
        fa.pack_bins(lengths, 4)


def test_tokens_zero_and_one_are_still_ints():
    rows = [[1, 0, 5], [1] * 20, [0, 1], []]
    assert fa.pad_sequences(rows) == [r + [0] * (20 - len(r)) for r in rows]
    numpy_ints = [[np.int64(1)] * 8, [np.uint8(0), 7]]  # not exact ints, not bools either
    assert fa.pad_sequences(numpy_ints, return_tensors="np").tolist() == [[1] * 8, [0, 7] + [0] * 6]
    assert fa.pack_bins([1, 0, 1], 2).order.tolist() == [0, 2, 1]


if __name__ == "__main__":
    for prop in PROPERTIES:
        prop()
        print(f"{prop.__name__}: ok", flush=True)
    print("reader outcomes:", READER_OUTCOMES["read"], READER_OUTCOMES["error"])
