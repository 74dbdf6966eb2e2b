#!/usr/bin/env bash
# Builds everything and runs every test: Rust unit tests, then pytest (Python, C, packaging).
. "$(dirname "${BASH_SOURCE[0]}")/dev-env.sh"
(cd rust && cargo test --locked --quiet)
python -m pytest "$@"
