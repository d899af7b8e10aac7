#!/usr/bin/env bash
# Single entry point for the firmware tests (called by the top-level `make test`):
#   1. normal build (warnings are errors) + ctest
#   2. AddressSanitizer + UndefinedBehaviorSanitizer build + ctest
#   3. accuracy report over synthetic recordings (fails on any recording out of tolerance)
#   4. shared protobuf test vectors, C <-> Python (pytest)
# Build trees: firmware/build (normal), firmware/build-asan. Exits non-zero on any failure.
set -euo pipefail

FW="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="$(cd "$FW/.." && pwd)"
JOBS="${JOBS:-2}"
export JOBS
build() { "$FW/scripts/build.sh" "$@"; }

echo "== firmware: build (-Wall -Wextra -Werror)"
build "$FW/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
(cd "$FW/build" && ctest --output-on-failure -j "$JOBS")

echo "== firmware: build with ASan + UBSan"
build "$FW/build-asan" -DCMAKE_BUILD_TYPE=Debug -DVIGIL_SANITIZE=ON
(cd "$FW/build-asan" && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j "$JOBS")

echo "== firmware: accuracy report"
cd "$ROOT"
uv run --frozen python "$FW/scripts/accuracy.py" --replay "$FW/build/host/ppg-replay" \
  --out "$FW/build/recordings" --count 24

echo "== firmware: shared test vectors (C <-> Python)"
VIGIL_FIRMWARE_BUILD="$FW/build" uv run --frozen pytest -q -p no:cacheprovider "$FW/tests"
