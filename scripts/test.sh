#!/usr/bin/env bash
# Builds everything and runs every test: Rust unit tests, then pytest (Python, C, packaging).
. "$(dirname "${BASH_SOURCE[0]}")/dev-env.sh"
# torch (return_tensors="pt") and Axolotl (the oracle of the packing tests) are optional for
# users but the tests exercise them. PyPI's torch is the CUDA build; it runs on CPU.
bash scripts/install-axolotl.sh
(cd rust && cargo test --locked --quiet)
python -m pytest "$@"
