#!/usr/bin/env bash
# Builds everything and runs every test, quickest first so a failure shows early: the
# format and lint gates, the type check, the Rust unit tests, the fast tier (no Axolotl,
# torch or Ray), then Axolotl and torch are installed for the tiers that use them as oracles.
# Each phase prints its time. Arguments go to every pytest run (e.g. -x). The same gates run
# before each commit with pre-commit (.pre-commit-config.yaml).
set -euo pipefail
start=$SECONDS
phase() { echo "== test.sh: $1 ($((SECONDS - start)) s)"; }
# The tests check behaviour, not speed: the library is built without the release profile's
# LTO and single codegen unit (the same code, minutes less on 2 cores). demo.sh and
# `pip install` build it as shipped.
export CARGO_PROFILE_RELEASE_LTO="${CARGO_PROFILE_RELEASE_LTO:-false}"
export CARGO_PROFILE_RELEASE_CODEGEN_UNITS="${CARGO_PROFILE_RELEASE_CODEGEN_UNITS:-16}"
# The gates, before anything is installed: formatting and lints (rust/rustfmt.toml and the
# [lints] of rust/Cargo.toml, warnings as errors; ruff).
(
  cd "$(dirname "${BASH_SOURCE[0]}")/../rust"
  if ! cargo fmt --version >/dev/null 2>&1 || ! cargo clippy --version >/dev/null 2>&1; then
    rustup component add rustfmt clippy
  fi
  cargo fmt --all --check
  cargo clippy --locked --quiet --all-targets -- -D warnings
)
# ruff (pyproject.toml [tool.ruff]) from the venv, before anything else is installed in it.
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install --quiet "ruff==0.17.6"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
phase "gates passed (cargo fmt, cargo clippy, ruff)"
. scripts/dev-env.sh
phase "venv and fast-axolotl built"
# mypy (pyproject.toml [tool.mypy]: fast_axolotl/, strict for the ABI layer and the kernels)
# in that venv, where the test extra has installed it with the packages whose types it reads;
# before Axolotl, torch and TRL are installed (the config reads them as Any either way).
python -m mypy
phase "mypy passed"
# In the release profile the build hook just used (same settings above): the dependencies
# are compiled once for both.
(cd rust && cargo test --release --locked --quiet)
phase "Rust unit tests done"
# The tiers are the markers of tests/conftest.py; together they are every test.
FAST="not (axolotl or e2e or ray or release or memory or slow)"
tier() { local name=$1; shift; python -m pytest --durations=10 -m "$@"; phase "tier $name done"; }
tier fast "$FAST" "$@"
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
tier axolotl "axolotl and not e2e" "$@"
tier "ray, release, memory, slow" "(ray or release or memory or slow) and not axolotl and not e2e" "$@"
tier e2e "e2e" "$@"
