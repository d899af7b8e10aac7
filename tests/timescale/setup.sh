#!/usr/bin/env bash
# Installs the pinned WASM TimescaleDB (pglite) and its socket server for the TimescaleDB lane.
# Idempotent and quiet: does nothing when node_modules already matches package-lock.json.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

command -v node >/dev/null || { echo "setup.sh: node (>= 18) is required for the TimescaleDB lane" >&2; exit 1; }

# npm records what it installed in node_modules/.package-lock.json; when that matches the
# committed lock there is nothing to do, which keeps `make test` fast and offline.
if [[ -f node_modules/.package-lock.json ]] \
   && node -e '
     const want = require("./package-lock.json").packages, have = require("./node_modules/.package-lock.json").packages;
     const deps = Object.keys(want).filter((k) => k !== "");
     process.exit(deps.every((k) => have[k] && have[k].version === want[k].version && have[k].integrity === want[k].integrity) ? 0 : 1);
   '; then
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error >/dev/null
