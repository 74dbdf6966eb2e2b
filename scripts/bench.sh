#!/usr/bin/env bash
# The benchmarks: builds the library, then benchmarks the kernels on generated data against
# pure Python, numpy, Axolotl's own packer and fast-axolotl 0.2.0 (its own venv, .venv-fa020).
. "$(dirname "${BASH_SOURCE[0]}")/dev-env.sh"
bash scripts/install-axolotl.sh  # Axolotl's own packer and dedupe are compared too
bash scripts/setup-old-venv.sh || echo "fast-axolotl 0.2.0 could not be installed: its rows will say so"
# The other tokenizers bench_tokenizer.py compares (a row says so for any that does not install).
python -m pip install --quiet -e ".[bench]" || echo "the bench extra could not be installed: its rows will say so"
python -m fast_axolotl.bench.bench_pad "$@"
python -m fast_axolotl.bench.bench_pack "$@"
python -m fast_axolotl.bench.bench_hash "$@"
python -m fast_axolotl.bench.bench_tokenizer "$@"
