#!/usr/bin/env bash
# Installs everything Vigil needs on a fresh Debian machine (idempotent, pinned versions):
# system servers and build tools from Debian, uv from PyPI, the Python workspace from uv.lock.
# `make up` and `make test` call it; set VIGIL_SKIP_APT=1 to skip the Debian part.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
UV_VERSION=0.13.9
APT_PACKAGES=(mosquitto mosquitto-clients redis-server postgresql libmosquitto-dev
              cmake ninja-build pkg-config protobuf-compiler libcmocka-dev)

missing=()
if [ "${VIGIL_SKIP_APT:-0}" != 1 ]; then
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "bootstrap: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # The Debian packages start system-wide servers on the default ports; Vigil runs its own
  # on free ports, so stop them to keep the machine quiet.
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
  for svc in mosquitto redis-server postgresql; do
    $SUDO service "$svc" stop >/dev/null 2>&1 || true
  done
fi

if ! command -v uv >/dev/null 2>&1 || [ "$(uv --version | awk '{print $2}')" != "$UV_VERSION" ]; then
  echo "bootstrap: installing uv $UV_VERSION"
  python3 -m pip install -q --disable-pip-version-check "uv==$UV_VERSION"
fi
cd "$root"
uv sync --frozen --all-packages --quiet
