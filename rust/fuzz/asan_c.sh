#!/usr/bin/env bash
# The C programs (tests/c/test_abi.c and c/all_kernels.c here) against a libfastaxo built with
# AddressSanitizer (nightly rustc -Zsanitizer=address; the C side compiled with
# -fsanitize=address, whose runtime serves both), with LeakSanitizer on. Any invalid access
# or leak aborts the program. Run from anywhere; builds into rust/fuzz/target-asan.
set -euo pipefail
FUZZ="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CRATE="$FUZZ/.."
REPO="$CRATE/.."
TARGET_DIR="$FUZZ/target-asan"
HOST="$(rustc -vV | sed -n 's/^host: //p')"
(cd "$CRATE" && RUSTFLAGS="-Zsanitizer=address" cargo +nightly build -p fastaxo --target "$HOST" --target-dir "$TARGET_DIR")
LIB="$TARGET_DIR/$HOST/debug"
status=0
for source in "$REPO/tests/c/test_abi.c" "$FUZZ/c/all_kernels.c"; do
  exe="$TARGET_DIR/$(basename "$source" .c)"
  cc -std=c99 -Wall -Werror -g -fsanitize=address -fno-omit-frame-pointer -I "$REPO/include" \
    "$source" "$LIB/libfastaxo.so" -Wl,-rpath,"$LIB" -o "$exe"
  if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$exe"; then
    echo "asan: $(basename "$source") clean"
  else
    echo "asan: $(basename "$source") FAILED"
    status=1
  fi
done
exit "$status"
