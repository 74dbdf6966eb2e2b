#!/usr/bin/env bash
# Builds everything and runs every test: Rust unit tests, then pytest (Python, C, packaging).
start=$SECONDS
phase() { echo "== test.sh: $1 ($((SECONDS - start)) s)"; }
# The tests check behaviour, not speed: the library is built without the release profile's
# LTO and single codegen unit (the same code, minutes less on 2 cores). demo.sh and
# `pip install` build it as shipped.
export CARGO_PROFILE_RELEASE_LTO="${CARGO_PROFILE_RELEASE_LTO:-false}"
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS="${CARGO_PROFILE_RELEASE_CODEGEN_UNITS:-16}"
. "$(dirname "${BASH_SOURCE[0]}")/dev-env.sh"
phase "venv and fast-axolotl built"
# valgrind (a Debian package) runs the C programs of tests/test_memory.py; without it those
# tests skip, saying so.
if ! command -v valgrind >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && apt-get install -y -qq valgrind >/dev/null) || echo "valgrind could not be installed: its tests will skip"
  phase "valgrind installed"
fi
# torch (return_tensors="pt") and Axolotl (the oracle of the packing tests) are optional for
# users but the tests exercise them. PyPI's torch is the CUDA build; it runs on CPU.
bash scripts/install-axolotl.sh
phase "Axolotl installed"
(cd rust && cargo test --locked --quiet)
phase "Rust unit tests done"
# --durations: CI has a time budget; the slowest tests are listed to keep an eye on it.
python -m pytest --durations=15 "$@"
