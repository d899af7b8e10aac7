#!/usr/bin/env bash
# Smoke + fault test of vigil-virtual-oximeter against a private Mosquitto (run by CTest, so it
# also runs under ASan/UBSan): publish in bounded mode, stop the broker for a few seconds
# mid-run, restart it, and require every batch acknowledged with none dropped.
set -euo pipefail
EXE="$1"
MOSQUITTO="${MOSQUITTO:-$(command -v mosquitto || echo /usr/sbin/mosquitto)}"
DIR="$(mktemp -d)"
BROKER_PID=""
cleanup() { [ -n "$BROKER_PID" ] && kill "$BROKER_PID" 2>/dev/null; rm -rf "$DIR"; }
trap cleanup EXIT

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$PORT" > "$DIR/m.conf"
start_broker() {
  "$MOSQUITTO" -c "$DIR/m.conf" >>"$DIR/broker.log" 2>&1 &
  BROKER_PID=$!
  for _ in $(seq 50); do (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0; sleep 0.1; done
  echo "broker did not start"; cat "$DIR/broker.log"; return 1
}

start_broker
"$EXE" --url "mqtt://127.0.0.1:$PORT" --device-id smoke-01 --batches 12 --batch-samples 5 \
  --interval-ms 300 --backoff-max-ms 1000 --timeout-s 60 >"$DIR/out.json" 2>"$DIR/err.log" &
DEV=$!
sleep 1.5
kill "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null || true; BROKER_PID=""
sleep 3
start_broker
if ! wait "$DEV"; then echo "device failed"; cat "$DIR/err.log"; exit 1; fi
SUMMARY="$(tail -n 1 "$DIR/out.json")"
echo "$SUMMARY"
python3 - "$SUMMARY" <<'PY'
import json, sys
s = json.loads(sys.argv[1])
assert s["batches"] == s["acked_batches"] == 12, s
assert s["first_unacked_seq"] == 12 and s["dropped_batches"] == 0 and s["drained"], s
assert s["disconnects"] >= 1 and s["connects"] >= 2, s
assert s["samples"] == 12 * 16 and s["valid_readings"] == s["readings"] == 60, s
print("virtual device: 1 passed, 0 failed")
PY
