#!/usr/bin/env bash
# Development PKI for device mTLS: a CA, a broker certificate and one client certificate per
# device (CN = device id, which Mosquitto's use_identity_as_username turns into the username).
# Usage: infra/pki/make-certs.sh OUT_DIR [DEVICE_ID...]
#   SERVER_NAMES="mosquitto,vigil-mosquitto-devices.vigil.svc"  extra DNS names of the broker
# Re-running keeps the existing CA and broker key, and only adds missing devices.
# Production: use your real CA (or cert-manager); never ship these keys.
set -euo pipefail

out="${1:?usage: make-certs.sh OUT_DIR [DEVICE_ID...]}"; shift
days="${CERT_DAYS:-825}"
mkdir -p "$out/devices"
umask 077

newkey() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

if [[ ! -f "$out/ca.crt" ]]; then
  newkey "$out/ca.key"
  openssl req -x509 -new -key "$out/ca.key" -sha256 -days 3650 -subj "/O=Vigil/CN=Vigil dev CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$out/ca.crt"
fi

sign() {  # sign NAME CN EXTENSIONS -> NAME.crt from NAME.key
  local name="$1" cn="$2" ext="$3"
  openssl req -new -key "$name.key" -subj "/O=Vigil/CN=$cn" -out "$name.csr"
  openssl x509 -req -in "$name.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
    -days "$days" -sha256 -extfile <(printf '%s\n' "$ext") -out "$name.crt" 2>/dev/null
  rm -f "$name.csr"
}

if [[ ! -f "$out/server.crt" ]]; then
  sans="DNS:localhost,IP:127.0.0.1"
  IFS=',' read -ra names <<< "${SERVER_NAMES:-}"
  for n in "${names[@]}"; do [[ -n "$n" ]] && sans+=",DNS:$n"; done
  newkey "$out/server.key"
  sign "$out/server" "vigil-broker" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=$sans"
fi

for id in "$@"; do
  # The id becomes an MQTT username and a topic level: keep it to safe characters.
  [[ "$id" =~ ^[A-Za-z0-9_.-]{1,64}$ ]] || { echo "make-certs: bad device id '$id'" >&2; exit 2; }
  [[ -f "$out/devices/$id.crt" ]] && continue
  newkey "$out/devices/$id.key"
  sign "$out/devices/$id" "$id" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
done
chmod 644 "$out/ca.crt" "$out/server.crt" "$out"/devices/*.crt 2>/dev/null || true
echo "make-certs: CA, broker and ${#} device certificate(s) in $out"
