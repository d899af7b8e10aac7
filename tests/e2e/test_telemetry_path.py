"""Device telemetry -> broker -> ingest -> readings table -> ReadingBatch on the readings topic."""

from __future__ import annotations

import time

import pytest

from tests.helpers import Collector, publish_all, telemetry
from vigil.core import topics

pytestmark = pytest.mark.e2e


def test_10000_samples_from_20_devices_stored_exactly_once(stack):
    devices = [f"ox-{i:02d}" for i in range(20)]
    patients = {d: stack.add_device(d) for d in devices}
    base = int(time.time() * 1000) - 3_600_000
    collector = Collector(stack.mqtt_url, topics.readings_filter())
    # 20 devices x 10 batches x 50 samples = 10,000 samples, published twice over: the second
    # pass is a replay (what a device re-sends after a lost PUBACK) and must add nothing.
    msgs = [(topics.device(d, "telemetry"), telemetry(d, seq, base + seq * 50_000, 50))
            for d in devices for seq in range(10)]
    publish_all(stack.mqtt_url, msgs)
    publish_all(stack.mqtt_url, msgs[:37])

    assert stack.wait_count("SELECT count(*) FROM readings", 10_000) == 10_000
    rows = stack.fetch("SELECT device_id, patient_id, count(*), count(DISTINCT time), "
                       "min(value), max(value) FROM readings GROUP BY 1, 2 ORDER BY 1")
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [(d, patients[d], 500, 500) for d in devices]
    assert all((r[4], r[5]) == (70.0, 76.0) for r in rows)
    # Every stored reading was republished once, on its patient's shard, after commit.
    assert collector.wait(lambda: len(collector.readings()) >= 10_000)
    time.sleep(0.5)
    got = collector.readings()
    collector.close()
    assert len(got) == 10_000
    for topic, _ in got[:50]:
        patient = topic.rsplit("/", 1)[1]
        assert topic == topics.readings(patient, 16)
    last_seen = stack.fetch("SELECT count(*) FROM devices WHERE last_seen IS NOT NULL "
                            "AND last_seq = 9 AND boot_id = 7")
    assert last_seen == [(20,)]


def _stored(port: int) -> float:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("vigil_ingest_readings_stored_total "):
                return float(line.split()[1])
    return 0.0


def test_two_replicas_split_the_load_and_store_exactly_once(stack):
    second = stack.replica("b")
    second.start()
    devices = [f"ox-r{i:02d}" for i in range(20)]
    for d in devices:
        stack.add_device(d)
    base = int(time.time() * 1000) - 3_600_000
    msgs = [(topics.device(d, "telemetry"), telemetry(d, seq, base + seq * 50_000, 50))
            for seq in range(10) for d in devices]
    publish_all(stack.mqtt_url, msgs)
    assert stack.wait_count("SELECT count(*) FROM readings", 10_000) == 10_000
    assert stack.fetch("SELECT count(DISTINCT (device_id, metric, time)) FROM readings") == \
        [(10_000,)]
    first, other = _stored(stack.ingest.port), _stored(second.port)
    assert first + other == 10_000
    # The broker hands each replica a share (round robin by message): neither is idle.
    assert first >= 1_000
    assert other >= 1_000
