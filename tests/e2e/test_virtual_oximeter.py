"""The virtual pulse oximeter (firmware core on the host) against the real stack, with a broker
outage in the middle: every batch buffered on the device arrives after the restart, and the
readings table ends up with each reading exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from vigil.v1 import telemetry_pb2

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

FIRMWARE = Path(__file__).resolve().parents[2] / "firmware"
BUILD = Path(os.environ.get("VIGIL_FIRMWARE_BUILD", FIRMWARE / "build"))
BATCHES = 24
READINGS_PER_BATCH = 5
# Each one-second reading carries signal_quality, heart_rate and spo2; each batch one battery.
SAMPLES_PER_BATCH = 3 * READINGS_PER_BATCH + 1


def virtual_oximeter() -> Path:
    """The built binary; built with firmware/scripts/build.sh when missing."""
    exe = BUILD / "host" / "vigil-virtual-oximeter"
    if not exe.exists():
        # Same script (and so the same CMake generator) as firmware/scripts/test.sh.
        subprocess.run([str(FIRMWARE / "scripts" / "build.sh"), str(BUILD)], check=True,
                       capture_output=True)
    return exe


class TelemetryWatcher:
    """Persistent-session QoS 1 subscriber on the device's telemetry topic: records the seq of
    every batch the broker delivered, across the outage (paho reconnects by itself)."""

    def __init__(self, url: str, device: str) -> None:
        u = urlparse(url)
        self.seqs: list[int] = []
        self.boot_ids: set[int] = set()
        self._lock = threading.Lock()
        self._topic = f"vigil/v1/devices/{device}/telemetry"
        self._c = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"watch-{device}",
                              clean_session=False)
        self._c.on_message = self._on_message
        self._c.on_connect = lambda c, *_: c.subscribe(self._topic, qos=1)
        self._c.reconnect_delay_set(0.2, 1.0)
        self._c.connect(u.hostname or "127.0.0.1", u.port or 1883, keepalive=10)
        self._c.loop_start()

    def _on_message(self, _c: paho.Client, _u: object, m: paho.MQTTMessage) -> None:
        msg = telemetry_pb2.DeviceTelemetry.FromString(m.payload)
        with self._lock:
            self.seqs.append(msg.seq)
            self.boot_ids.add(msg.boot_id)

    def wait_for(self, n: int, timeout: float) -> list[int]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(set(self.seqs)) < n:
            time.sleep(0.1)
        with self._lock:
            return sorted(self.seqs)

    def close(self) -> None:
        self._c.loop_stop()
        self._c.disconnect()


def test_buffered_batches_survive_broker_outage(servers, stack):
    outage_s = float(os.environ.get("VIGIL_FAULT_OUTAGE_S", "30"))
    device = f"oxi-e2e-{uuid.uuid4().hex[:8]}"
    stack.add_device(device)
    cmd = [str(virtual_oximeter()), "--url", stack.mqtt_url, "--device-id", device,
           "--batches", str(BATCHES), "--batch-samples", str(READINGS_PER_BATCH),
           "--interval-ms", "500", "--hr", "72", "--spo2", "97", "--signal", "generator",
           "--buffer-batches", "64", "--backoff-max-ms", "4000",
           "--timeout-s", str(int(outage_s + 120))]
    watcher = TelemetryWatcher(stack.mqtt_url, device)
    time.sleep(0.3)  # SUBACK before the device starts
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(3.0)  # a few batches go out normally
        servers.broker.stop()
        time.sleep(outage_s)  # the device keeps measuring and buffering meanwhile
        servers.broker.start()
        out, err = proc.communicate(timeout=outage_s + 150)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        if not servers.broker.running():
            servers.broker.start()
        seen = watcher.wait_for(BATCHES, timeout=20.0)
        watcher.close()
    assert proc.returncode == 0, err[-2000:]
    summary = json.loads(out.strip().splitlines()[-1])
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]

    # The device saw the outage, reconnected, and every seq 0..N-1 was acknowledged once.
    assert summary["disconnects"] >= 1
    assert summary["connects"] >= 2
    assert summary["drained"] is True
    assert summary["batches"] == summary["acked_batches"] == BATCHES
    assert summary["first_unacked_seq"] == BATCHES
    assert summary["dropped_batches"] == 0
    assert sorted(e["seq"] for e in events if e["event"] == "batch") == list(range(BATCHES))
    assert any(e["event"] == "connect_failed" for e in events)
    # What went over the broker: every seq exactly once or, for a batch whose PUBACK was lost
    # in the outage, re-sent with identical content (the platform drops the replay).
    assert sorted(set(seen)) == list(range(BATCHES)), seen
    assert watcher.boot_ids == {summary["boot_id"]}
    # A clean generated signal: every reading is valid, so the sample count is exact.
    expected = BATCHES * SAMPLES_PER_BATCH
    assert summary["samples"] == expected

    sql = f"SELECT count(*) FROM readings WHERE device_id = '{device}'"
    stored = stack.wait_count(sql, expected, timeout=60.0)
    assert stored == expected, (
        f"{stored}/{expected} readings stored although the broker delivered every batch; "
        f"ingest running: {stack.ingest.running()}, log: {stack.ingest.logfile}")
    (total, distinct), = stack.fetch(
        "SELECT count(*), count(DISTINCT (metric, time)) FROM readings WHERE device_id = $1",
        device)
    assert (total, distinct) == (expected, expected)  # none lost, none stored twice
    rows = {m: (n, avg) for m, n, avg in stack.fetch(
        "SELECT metric, count(*), avg(value) FROM readings WHERE device_id = $1 GROUP BY 1",
        device)}
    n_readings = BATCHES * READINGS_PER_BATCH
    assert {m: v[0] for m, v in rows.items()} == {
        "heart_rate": n_readings, "spo2": n_readings, "signal_quality": n_readings,
        "battery": BATCHES}
    assert abs(rows["heart_rate"][1] - 72.0) <= 3.0
    assert abs(rows["spo2"][1] - 97.0) <= 2.0
