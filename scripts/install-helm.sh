#!/usr/bin/env bash
# Install a pinned helm into <repo>/.tools/bin with `go install` (no download of release tarballs).
# Idempotent: does nothing when the pinned version is already there.
# Usage: scripts/install-helm.sh            (HELM_VERSION=v3.x.y to override the pin)
set -euo pipefail

HELM_VERSION="${HELM_VERSION:-v3.21.4}"
BIN_DIR="$(cd "$(dirname "$0")/.." && pwd)/.tools/bin"
HELM="$BIN_DIR/helm"

if [[ -x "$HELM" ]] && "$HELM" version --template '{{.Version}}' 2>/dev/null | grep -qx "$HELM_VERSION"; then
  echo "helm $HELM_VERSION already installed at $HELM"
  exit 0
fi

command -v go >/dev/null || { echo "install-helm: go is required (https://go.dev/dl/)" >&2; exit 1; }
mkdir -p "$BIN_DIR"
echo "building helm $HELM_VERSION with $(go version) (first build takes a few minutes)"
start=$SECONDS
# Stamp the version and the default Kubernetes version (client-go 0.X -> 1.X, used by `helm template`
# and `lint` without a cluster) the way helm's Makefile does; plain `go install` leaves v1.20.
gomod="$(go mod download -json "helm.sh/helm/v3@$HELM_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')"
k8s_minor="$(awk '$1 == "k8s.io/client-go" {split($2, v, "."); print v[2]}' "$gomod")"
[[ -n "$k8s_minor" ]] || { echo "install-helm: no k8s.io/client-go version in $gomod" >&2; exit 1; }
pkg=helm.sh/helm/v3/pkg
GOBIN="$BIN_DIR" CGO_ENABLED=0 go install -ldflags "-s -w \
  -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
  -X $pkg/chartutil.k8sVersionMajor=1 -X $pkg/chartutil.k8sVersionMinor=$k8s_minor \
  -X $pkg/lint/rules.k8sVersionMajor=1 -X $pkg/lint/rules.k8sVersionMinor=$k8s_minor" \
  "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
echo "helm $("$HELM" version --short) installed at $HELM in $((SECONDS - start))s"
