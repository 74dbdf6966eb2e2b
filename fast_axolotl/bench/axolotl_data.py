"""Offline stand-ins for what an Axolotl run loads from the hub: a tiny byte-level BPE
tokenizer with a chat template, a tiny Llama model directory, chat and completion datasets
as JSONL (with repeated rows, rows too long for the sequence length and rows with nothing
to train on), a config, and a runner for the `axolotl` CLI. Shared by the end-to-end tests
and the benchmarks (in the package, so that `fast-axolotl bench` runs from a wheel); nothing
here downloads anything."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

WORDS = (
    "the cat sat on a mat fast axolotl pads packs tokens while river stone cloud paints "
    "quiet number seven blue rabbit jumps over lazy dog and reads every long page of data"
).split()
# ChatML: the chat template Axolotl's `chat_template: tokenizer_default` reads from the tokenizer.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIAL = ["<pad>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]
# What makes an `axolotl` subprocess work offline and quietly.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "AXOLOTL_DO_NOT_TRACK": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "WANDB_MODE": "disabled",
    "TOKENIZERS_PARALLELISM": "false",
}


def sentence(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high)))


def build_tokenizer(vocab_size: int = 300):
    """A byte-level BPE trained here on generated text, with pad/bos/eos and ChatML tokens."""
    import tokenizers
    from transformers import PreTrainedTokenizerFast

    rng = random.Random(0)
    bpe = tokenizers.Tokenizer(tokenizers.models.BPE(unk_token=None))
    bpe.pre_tokenizer = tokenizers.pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = tokenizers.decoders.ByteLevel()
    trainer = tokenizers.trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL,
        initial_alphabet=tokenizers.pre_tokenizers.ByteLevel.alphabet(),
    )
    bpe.train_from_iterator([sentence(rng, 5, 20) for _ in range(500)], trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
        additional_special_tokens=SPECIAL[3:],
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


def tiny_llama_config(tokenizer, max_positions: int):
    """A one-layer Llama of width 32 over `tokenizer`'s vocabulary: fast on CPU."""
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=max_positions,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
    )


def build_model_dir(path: Path, weights: bool = False, tokenizer=None) -> Path:
    """Tokenizer files (the tests' small tokenizer unless `tokenizer` is given) and a tiny
    LlamaConfig in `path`; with `weights`, a randomly initialised model too (what `axolotl
    train` loads)."""
    path.mkdir(parents=True, exist_ok=True)
    tokenizer = tokenizer or build_tokenizer()
    tokenizer.save_pretrained(path)
    config = tiny_llama_config(tokenizer, max_positions=1024)
    if weights:
        import torch
        from transformers import LlamaForCausalLM

        torch.manual_seed(0)
        LlamaForCausalLM(config).save_pretrained(path)
    else:
        config.save_pretrained(path)
    return path


def chat_rows(n: int, seed: int = 0, repeat: float = 0.2, long: float = 0.02, untrainable: float = 0.02) -> list:
    """Conversations: 1-2 user/assistant turns; `repeat` of the rows repeat an earlier one,
    `long` are far longer than a 256-token sequence, `untrainable` have no assistant turn
    (every label -100 with roles_to_train: [assistant])."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        if rows and rng.random() < repeat:
            rows.append(rows[rng.randrange(len(rows))])
            continue
        kind = rng.random()
        if kind < long:
            rows.append(
                {
                    "messages": [
                        {"role": "user", "content": sentence(rng, 5, 10)},
                        {"role": "assistant", "content": sentence(rng, 300, 400)},
                    ]
                }
            )
        elif kind < long + untrainable:
            rows.append({"messages": [{"role": "user", "content": sentence(rng, 2, 12)}]})
        else:
            turns = []
            for _ in range(rng.randint(1, 2)):
                turns.append({"role": "user", "content": sentence(rng, 2, 12)})
                turns.append({"role": "assistant", "content": sentence(rng, 2, 20)})
            rows.append({"messages": turns})
    return rows


# Prose for realistic conversations: words, punctuation, numbers, a little code and non-ASCII.
PROSE = (
    "the of and to in is that for it as with was on be by this are from at or an which have not "
    "model data training token sequence learning result value function return example because "
    "however, therefore. first; second: (see above) 42 3.14 2026 100% x = f(y) [i] {k: v} "
    "café naïve résumé 東京 数据 Привет — “quoted” it's don't e.g. i.e. etc."
).split()


def prose(rng: random.Random, words: int) -> str:
    """`words` words of prose, with the odd line break."""
    out = []
    for i in range(words):
        out.append(rng.choice(PROSE))
        if i and rng.random() < 0.03:
            out.append("\n\n" if rng.random() < 0.5 else "\n")
    return " ".join(out).replace(" \n", "\n").replace("\n ", "\n")


def conversation_rows(n: int, seed: int = 0, system: float = 0.5, min_words: int = 60, max_words: int = 1100) -> list:
    """Chats of 1-8 user/assistant exchanges, a system prompt in `system` of them, each of
    `min_words`-`max_words` words in all (about 100-2,000 tokens for Llama 3), most of it in
    the assistant turns."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        words = rng.randint(min_words, max_words)
        exchanges = rng.randint(1, 8)
        messages = []
        if rng.random() < system:
            messages.append({"role": "system", "content": prose(rng, max(3, words // 10))})
        per_exchange = max(4, words // exchanges)
        for _ in range(exchanges):
            messages.append({"role": "user", "content": prose(rng, max(2, per_exchange // 3))})
            messages.append({"role": "assistant", "content": prose(rng, max(2, per_exchange - per_exchange // 3))})
        rows.append({"messages": messages})
    return rows


def completion_rows(n: int, seed: int = 0, repeat: float = 0.2, long: float = 0.02) -> list:
    """`text` rows; `repeat` repeat an earlier one, `long` exceed a 256-token sequence."""
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        if rows and rng.random() < repeat:
            rows.append(rows[rng.randrange(len(rows))])
        else:
            rows.append({"text": sentence(rng, 300, 400) if rng.random() < long else sentence(rng, 2, 40)})
    return rows


def write_jsonl(path: Path, rows: list) -> Path:
    with open(path, "w") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    return path


CHAT_DATASET = {
    "type": "chat_template",
    "field_messages": "messages",
    "roles_to_train": ["assistant"],
    "chat_template": "tokenizer_default",
}
COMPLETION_DATASET = {"type": "completion"}


def axolotl_config(workdir: Path, model_dir: Path, datasets: list, plugin: bool, **extra) -> dict:
    """A preprocess/train config: dedupe, sample packing, a fixed seed (so two runs shuffle
    alike), the fast-axolotl plugin or not. `datasets`: (jsonl path, dataset options)."""
    config = {
        "base_model": str(model_dir),
        "datasets": [{"path": str(path), **options} for path, options in datasets],
        "dataset_exact_deduplication": True,
        "sample_packing": True,
        "sequence_len": 256,
        "seed": 42,
        "dataset_prepared_path": str(workdir / "prepared"),
        "output_dir": str(workdir / "out"),
        "micro_batch_size": 2,
        "gradient_accumulation_steps": 1,
        "num_epochs": 1,
        "learning_rate": 1e-4,
        "optimizer": "adamw_torch",
        "fp16": False,
        "bf16": False,
        "dataset_num_proc": 1,
    }
    if plugin:
        config["plugins"] = ["fast_axolotl.axolotl.FastAxolotlPlugin"]
    config.update(extra)
    return config


def write_config(path: Path, config: dict) -> Path:
    import yaml

    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def axolotl_env(**extra) -> dict:
    env = {**os.environ, **OFFLINE_ENV, **extra}
    # `axolotl train` runs `accelerate launch` from PATH: this interpreter's scripts first.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.pop("CUDA_VISIBLE_DEVICES", None)
    return env


def run_axolotl(
    command: str, config_path: Path, cwd: Path, timeout: float = 600, extra_env=None
) -> subprocess.CompletedProcess:
    """`axolotl COMMAND CONFIG` from this interpreter's environment, output captured."""
    axolotl = Path(sys.executable).parent / "axolotl"
    return subprocess.run(
        [str(axolotl), command, str(config_path)],
        cwd=cwd,
        env=axolotl_env(**(extra_env or {})),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def prepared_dataset(prepared_path: Path):
    """The dataset `axolotl preprocess` saved under dataset_prepared_path (one hash dir)."""
    from datasets import load_from_disk

    dirs = [d for d in prepared_path.iterdir() if d.is_dir() and (d / "dataset_info.json").exists()]
    if len(dirs) != 1:
        raise AssertionError(f"expected one prepared dataset in {prepared_path}, found {dirs}")
    return load_from_disk(str(dirs[0]))
