#!/usr/bin/env bash
# Runs the C programs against an AddressSanitizer build of the library (rust/fuzz/asan_c.sh),
# then every cargo-fuzz target of rust/fuzz/ (the C ABI under ASan) for SECONDS each, one after
# another, and prints executions, coverage and crashes per target. Needs the nightly toolchain
# (`rustup toolchain install nightly`); installs cargo-fuzz from crates.io when missing.
#
#   bash scripts/fuzz.sh [SECONDS] [TARGET...]      # default: 60 s each, all targets
#
# Targets run in libFuzzer's fork mode with -ignore_crashes=1, so one crash does not end the
# target's run: every crash is saved under rust/fuzz/artifacts/<target>/ and counted. Each
# target starts from its committed seeds (rust/fuzz/corpus/<target>/, read only) and grows a
# scratch corpus in rust/fuzz/work/<target>/ (ignored by git). FUZZ_DIR=... fuzzes a copy of
# the crate elsewhere (e.g. a snapshot of a commit). Exit status: 1 if any target crashed.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FUZZ_DIR="${FUZZ_DIR:-$REPO/rust/fuzz}"
SECONDS_EACH="${1:-60}"
shift || true

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cd "$FUZZ_DIR"
# First the C programs against an ASan build of the library (quick once built).
if bash asan_c.sh >work-asan.log 2>&1; then asan="asan C programs: clean"; else asan="asan C programs: FAILED (see $FUZZ_DIR/work-asan.log)"; fi
echo "$asan"
# -a: debug assertions and overflow checks on, so an arithmetic overflow is a crash too.
cargo +nightly fuzz build -a
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi

mkdir -p work/logs
summary=()
crashed=0
for target in "${targets[@]}"; do
  mkdir -p "work/$target" "corpus/$target"
  log="work/logs/$target.log"
  echo "== $target: ${SECONDS_EACH}s"
  # Scratch corpus first (libFuzzer writes new inputs there), the committed seeds second.
  cargo +nightly fuzz run -a "$target" "work/$target" "corpus/$target" -- \
    -max_total_time="$SECONDS_EACH" -fork=1 -ignore_crashes=1 -timeout=20 -rss_limit_mb=4096 \
    >"$log" 2>&1 || true
  # Fork mode's status lines: "#<execs>: cov: C ft: F corp: N exec/s: E oom/timeout/crash: a/b/c time: Ts".
  last="$(grep -E '^#[0-9]+: cov:' "$log" | tail -1 || true)"
  execs="$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$last")"
  cov="$(sed -E 's/.* cov: ([0-9]+).*/\1/' <<<"$last")"
  ft="$(sed -E 's/.* ft: ([0-9]+).*/\1/' <<<"$last")"
  crashes="$(sed -E 's#.*oom/timeout/crash: ([0-9]+)/([0-9]+)/([0-9]+).*#\3 (oom \1, timeout \2)#' <<<"$last")"
  summary+=("$(printf '%-16s execs %-10s cov %-6s ft %-6s crashes %s' "$target" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${crashes:-?}")")
  if [ -z "$last" ] || [ "${crashes%% *}" != "0" ]; then
    crashed=1
    grep -m3 -E 'status [0-9]+|panicked|ERROR: AddressSanitizer' "$log" || tail -5 "$log"
  fi
done

echo
echo "== fuzz summary (${SECONDS_EACH}s per target; logs in $FUZZ_DIR/work/logs, crashes in $FUZZ_DIR/artifacts)"
printf '%s\n' "$asan" "${summary[@]}"
case "$asan" in *FAILED*) crashed=1 ;; esac
exit "$crashed"
