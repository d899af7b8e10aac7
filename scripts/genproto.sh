#!/usr/bin/env bash
# Generates the Python protobuf modules from proto/ into services/core/src/vigil/v1.
# `make proto` runs it; tests/integration/test_proto_fresh.py fails when the output is stale.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${1:-$root/services/core/src}"
mkdir -p "$out/vigil/v1"
cd "$root"
uv run --frozen python -m grpc_tools.protoc -I proto \
  --python_out="$out" --pyi_out="$out" proto/vigil/v1/*.proto
