"""Device status updates the device row; ingest's metrics count what happened, exactly."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest

from tests.helpers import publish_all, telemetry
from vigil.core import topics
from vigil.v1 import status_pb2

pytestmark = pytest.mark.e2e


def _metrics(port: int) -> dict[str, float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def test_status_forms_update_the_device_row(stack):
    stack.add_device("ox-s1")
    stack.add_device("gm-s2", kind="glucose_meter")
    stack.add_device("gm-s3", kind="glucose_meter")
    proto = status_pb2.DeviceStatus(device_id="ox-s1", online=True, firmware="1.4.2",
                                    battery_pct=81.5, rssi_dbm=-61, boot_id=99,
                                    time_ms=int(time.time() * 1000)).SerializeToString()
    publish_all(stack.mqtt_url, [
        (topics.device("ox-s1", "status"), proto),
        (topics.device("gm-s2", "status"), json.dumps({"online": True, "firmware": "g7"}).encode()),
        (topics.device("gm-s3", "status"), b"offline"),
    ])
    query = ("SELECT device_id, online, firmware_version, battery_pct, rssi_dbm, boot_id,"
             " last_seen IS NOT NULL FROM devices ORDER BY 1")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        rows = stack.fetch(query)
        if all(r[1] is not None for r in rows):
            break
        time.sleep(0.1)
    assert rows == [
        ("gm-s2", True, "g7", None, None, None, True),
        ("gm-s3", False, None, None, None, None, True),
        ("ox-s1", True, "1.4.2", 81.5, -61, 99, True),
    ]
    # The last will arrives later: the device goes offline, the rest of the row stays.
    publish_all(stack.mqtt_url, [(topics.device("ox-s1", "status"), status_pb2.DeviceStatus(
        device_id="ox-s1", online=False).SerializeToString())])
    deadline = time.monotonic() + 20
    while stack.fetch("SELECT online FROM devices WHERE device_id='ox-s1'") != [(False,)]:
        assert time.monotonic() < deadline, "offline status not applied"
        time.sleep(0.1)
    assert stack.fetch("SELECT firmware_version, battery_pct FROM devices "
                       "WHERE device_id='ox-s1'") == [("1.4.2", 81.5)]


def test_metrics_count_received_stored_rejected(stack):
    stack.add_device("ox-m1")
    base = int(time.time() * 1000) - 600_000
    good = [(topics.device("ox-m1", "telemetry"), telemetry("ox-m1", s, base + s * 20_000, 20))
            for s in range(5)]
    bad = [(topics.device("ox-unknown", "telemetry"), b"\x08\x01"),
           (topics.device("ox-m1", "glucose"), b"{not json")]
    publish_all(stack.mqtt_url, good + bad)
    assert stack.wait_count("SELECT count(*) FROM dead_letters", 2) == 2
    assert stack.wait_count("SELECT count(*) FROM readings", 100) == 100
    publish_all(stack.mqtt_url, good[:2])  # a replay, after the originals are committed
    deadline = time.monotonic() + 10
    while True:
        m = _metrics(stack.ingest.port)
        if m.get('vigil_ingest_messages_received_total{channel="telemetry"}') == 8 or \
                time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert m['vigil_ingest_messages_received_total{channel="telemetry"}'] == 8
    assert m['vigil_ingest_messages_received_total{channel="glucose"}'] == 1
    assert m["vigil_ingest_readings_stored_total"] == 100
    assert m["vigil_ingest_readings_unchanged_total"] == 40
    assert m['vigil_ingest_rejected_total{reason="unknown_device"}'] == 1
    assert m['vigil_ingest_rejected_total{reason="decode"}'] == 1
    assert m["vigil_ingest_commit_seconds_count"] >= 1
