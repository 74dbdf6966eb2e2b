#!/usr/bin/env bash
# Builds everything and runs every test: Rust unit tests, then pytest (Python, C, packaging).
. "$(dirname "${BASH_SOURCE[0]}")/dev-env.sh"
# torch is optional for users (return_tensors="pt") but the tests exercise it. 2.13.0 is the
# version Axolotl 0.19.0 allows; PyPI's build is the CUDA one, which runs on CPU.
python -c "import torch" 2>/dev/null || python -m pip install --quiet "torch==2.13.0"
(cd rust && cargo test --locked --quiet)
python -m pytest "$@"
