#!/usr/bin/env bash
# Configure and build the host tree: firmware/scripts/build.sh [BUILD_DIR [cmake args...]]
# (default firmware/build, warnings as errors). Used by test.sh and by the Python tests that need
# vector-tool or vigil-virtual-oximeter. An existing tree keeps the generator it was made with.
set -euo pipefail
FW="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${1:-$FW/build}"
shift || true
GEN=()
if [ ! -f "$DIR/CMakeCache.txt" ] && command -v ninja >/dev/null; then GEN=(-G Ninja); fi
cmake -S "$FW" -B "$DIR" "${GEN[@]}" -DVIGIL_HOST=ON -DVIGIL_WERROR=ON "$@" >/dev/null
cmake --build "$DIR" --parallel "${JOBS:-2}"
