#!/usr/bin/env bash
# Creates <repo>/.venv-fa020 with fast-axolotl 0.2.0 from PyPI, the old release the benchmarks
# compare against (fast_axolotl/bench/harness.py runs it in this separate venv: it has the same module name
# as this checkout). Does nothing when the venv already has 0.2.0; set PYTHON to pick the interpreter.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.venv-fa020"

# -I: import from the venv only, never from the current directory (it may be this checkout).
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -I -c 'import fast_axolotl, sys; sys.exit(fast_axolotl.__version__ != "0.2.0")' 2>/dev/null; then
    echo "$venv already has fast-axolotl 0.2.0"
    exit 0
fi

"${PYTHON:-python3}" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet fast-axolotl==0.2.0
echo "created $venv with fast-axolotl 0.2.0"
