"""kill -9 of the ingest process in the middle of a 20,000-sample stream, then a restart: no
reading is lost and none is stored twice, because a message is acknowledged to the broker only
after its rows are committed and the natural key absorbs the redelivery.

On the readings topic the guarantee is at-least-once: a message redelivered after the crash is
republished even when its rows were already committed (the crash may have come between the
commit and the publish), so consumers see some readings twice and must be idempotent too.
"""

from __future__ import annotations

import time

import pytest

from tests.helpers import Collector, PacedPublisher, stored_readings, telemetry_stream
from vigil.core import topics

pytestmark = pytest.mark.faults

DEVICES = [f"crash-ox-{i}" for i in range(10)]
BATCHES, SAMPLES = 40, 50  # 10 devices x 40 batches x 50 samples = 20,000 readings
TOTAL = len(DEVICES) * BATCHES * SAMPLES


def test_kill_9_mid_stream_loses_nothing_and_duplicates_nothing(stack):
    for d in DEVICES:
        stack.add_device(d)
    base = int(time.time() * 1000) - 6 * 3_600_000
    messages, expected = telemetry_stream(DEVICES, BATCHES, SAMPLES, base)
    assert len(expected) == TOTAL
    collector = Collector(stack.mqtt_url, topics.readings_filter())
    # 80 messages/s: the stream lasts 5 s, long enough to crash and restart inside it.
    publisher = PacedPublisher(stack.mqtt_url, messages, per_second=80)
    publisher.start()

    count_sql = "SELECT count(*) FROM readings"
    deadline = time.monotonic() + 20
    while (stored := stack.fetch(count_sql)[0][0]) < 3000 and time.monotonic() < deadline:
        time.sleep(0.02)
    stack.ingest.kill()
    at_kill = stack.fetch(count_sql)[0][0]
    sent_at_kill = publisher.sent
    # The crash must fall in the middle: some readings stored, the stream still going.
    assert 3000 <= stored <= at_kill < TOTAL, (stored, at_kill, publisher.sent, publisher.error)
    assert sent_at_kill < len(messages)
    time.sleep(1.0)  # the broker queues for the dead session meanwhile
    assert stack.fetch(count_sql)[0][0] == at_kill, "rows appeared while ingest was dead"
    stack.ingest.start()
    assert publisher.finish() == len(messages)
    assert publisher.sent > sent_at_kill

    assert stack.wait_count(count_sql, TOTAL, timeout=60) == TOTAL
    time.sleep(0.5)  # a late duplicate would land now
    assert stack.fetch("SELECT count(*), count(DISTINCT (device_id, metric, time))"
                       " FROM readings") == [(TOTAL, TOTAL)]
    assert stored_readings(stack) == expected
    per_device = stack.fetch("SELECT device_id, count(*) FROM readings GROUP BY 1 ORDER BY 1")
    assert per_device == [(d, BATCHES * SAMPLES) for d in sorted(DEVICES)]

    # Every stored reading reached the readings topic at least once (a redelivered message
    # is republished, so some may come twice), with the value that was stored.
    def republished() -> dict[tuple[str, int], float]:
        return {(r.device_id, r.time_ms): r.value for _, r in collector.readings()}

    assert collector.wait(lambda: len(republished()) >= TOTAL, timeout=30)
    got = collector.readings()
    collector.close()
    assert republished() == expected
    assert all(r.metric == "heart_rate" and r.unit == "bpm" for _, r in got)
    assert all(topic == topics.readings(f"p-{r.device_id}", 16) for topic, r in got)
