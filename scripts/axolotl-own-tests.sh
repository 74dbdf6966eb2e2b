#!/usr/bin/env bash
# Axolotl's own tests of its data pipeline, from the Axolotl 0.19.0 sdist, run twice: without
# fast-axolotl, then with `import fast_axolotl` first (its import hook patches Axolotl's
# modules as the tests import them). The same tests must pass both times.
#
#   scripts/axolotl-own-tests.sh [OUT_DIR]
#
# Uses $PYTHON (default: python), which needs Axolotl, pytest and fast-axolotl. The sdist is
# downloaded once into ${XDG_CACHE_HOME:-~/.cache}/fast-axolotl. Offline otherwise: the tests
# that need files from the Hugging Face hub error in both runs (their conftest, which would
# download them, is not loaded). OUT_DIR gets without.passed and with.passed (the passed
# test ids), stats.json (fast_axolotl.stats() after the second run) and summary.txt.
set -euo pipefail
PYTHON="${PYTHON:-python}"
VERSION=0.19.0
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/fast-axolotl"
SDIST="$CACHE/axolotl-$VERSION"
OUT="${1:-$(mktemp -d)}"
TESTS=(tests/test_exact_deduplication.py tests/test_save_deduplicated.py tests/test_packed_batch_sampler.py
       tests/test_packed_pretraining.py tests/test_streaming.py tests/utils/data/test_utils.py)

if [ ! -d "$SDIST/tests" ]; then
  mkdir -p "$CACHE"
  "$PYTHON" -m pip download --quiet --no-deps --no-binary :all: "axolotl==$VERSION" -d "$CACHE"
  tar -xzf "$CACHE/axolotl-$VERSION.tar.gz" -C "$CACHE"
fi
mkdir -p "$OUT"
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 AXOLOTL_DO_NOT_TRACK=1

# argv: without|with, OUT_DIR, test files. Records the ids of the tests that passed.
RUNNER='
import json, sys
mode, out, *tests = sys.argv[1:]
if mode == "with":
    import fast_axolotl  # before pytest imports any Axolotl module
import pytest

class Passed:
    ids = []
    def pytest_runtest_logreport(self, report):
        if report.when == "call" and report.passed:
            self.ids.append(report.nodeid)

pytest.main(["-p", "no:cacheprovider", "--noconftest", "-q", *tests], plugins=[Passed()])
with open(f"{out}/{mode}.passed", "w") as f:
    f.write("".join(f"{i}\n" for i in sorted(Passed.ids)))
if mode == "with":
    import fast_axolotl.axolotl as fx
    with open(f"{out}/stats.json", "w") as f:
        json.dump(fast_axolotl.stats(), f, indent=1)
    with open(f"{out}/summary.txt", "w") as f:
        f.write(fx.summary() + "\n")
elif "fast_axolotl" in sys.modules:
    sys.exit("fast_axolotl was imported in the run without it")
'

for mode in without with; do
  (cd "$SDIST" && "$PYTHON" -c "$RUNNER" "$mode" "$OUT" "${TESTS[@]}") > "$OUT/$mode.log" 2>&1 || true
  if [ ! -f "$OUT/$mode.passed" ]; then
    tail -20 "$OUT/$mode.log" >&2
    exit 1
  fi
  grep -E "^[0-9]+ (passed|failed)|(passed|failed|error).* in [0-9.]+s" "$OUT/$mode.log" | tail -1 | sed "s/^/$mode fast-axolotl: /"
done
echo "passed without: $(wc -l < "$OUT/without.passed"), with: $(wc -l < "$OUT/with.passed")"
cat "$OUT/summary.txt"
if ! diff -u "$OUT/without.passed" "$OUT/with.passed"; then
  echo "the tests that pass differ with fast-axolotl" >&2
  exit 1
fi
echo "same tests passed in both runs (ids in $OUT)"
