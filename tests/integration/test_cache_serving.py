"""`vigil cache`: active alerts and acks, the retained state topic, and refused requests."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.helpers import Collector, publish_all, telemetry
from tests.integration.test_cache_support import Cache, running_cache
from vigil.core import topics
from vigil.v1 import alerts_pb2

pytestmark = pytest.mark.integration


@pytest.fixture
def cache(stack, servers) -> Iterator[Cache]:
    """A cache replica of its own on this test's stack."""
    with running_cache(stack, servers) as c:
        yield c


def _alert(patient: str, alert_id: str, state: int, started_ms: int) -> bytes:
    return alerts_pb2.AlertEvent(
        alert_id=alert_id, patient_id=patient, rule="spo2_low", severity=alerts_pb2.SEVERITY_HIGH,
        state=state, metric="spo2", value=87.0, unit="%", summary="SpO2 below 88 %",
        started_at_ms=started_ms, event_time_ms=started_ms).SerializeToString()


def _wait(predicate, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def test_active_alerts_follow_firing_resolved_and_acks(stack, cache):
    now = int(time.time() * 1000)
    firing, resolved = alerts_pb2.ALERT_STATE_FIRING, alerts_pb2.ALERT_STATE_RESOLVED
    ack = alerts_pb2.AlertAck(alert_id="a-1", patient_id="p-1", by="nurse-7", at_ms=now + 5,
                              channel="mqtt").SerializeToString()
    publish_all(stack.mqtt_url, [
        (topics.alerts("p-1"), _alert("p-1", "a-1", firing, now)),
        (topics.alerts("p-1"), _alert("p-1", "a-2", firing, now + 1)),
        (topics.ACKS, ack),
        (topics.alerts("p-1"), _alert("p-1", "a-2", resolved, now + 2)),
    ])
    _wait(lambda: [a["alert_id"] for a in cache.req.ask(op="alerts", patient_id="p-1")
                   ["data"]["alerts"]] == ["a-1"])
    answer = cache.req.ask(op="alerts", patient_id="p-1")
    assert answer["source"] == "redis"
    (alert,) = answer["data"]["alerts"]
    assert (alert["severity"], alert["acked_by"], alert["acked_at_ms"]) == ("high", "nurse-7",
                                                                           now + 5)
    # A replayed 'firing' of the resolved alert does not bring it back.
    publish_all(stack.mqtt_url, [(topics.alerts("p-1"), _alert("p-1", "a-2", firing, now + 1))])
    time.sleep(0.5)
    assert len(cache.req.ask(op="alerts", patient_id="p-1")["data"]["alerts"]) == 1


def test_state_topic_is_retained_and_throttled(stack, cache):
    patient = stack.add_device("ox-s")
    collector = Collector(stack.mqtt_url, topics.state(patient))
    base = int(time.time() * 1000) - 600_000
    publish_all(stack.mqtt_url, [(topics.device("ox-s", "telemetry"),
                                  telemetry("ox-s", seq, base + seq * 20_000, 20))
                                 for seq in range(20)])
    assert stack.wait_count("SELECT count(*) FROM readings", 400) == 400
    (t, v), = stack.fetch("SELECT time, value FROM readings ORDER BY time DESC LIMIT 1")

    def newest() -> dict | None:
        docs = [json.loads(m.payload) for m in collector.messages]
        return docs[-1] if docs else None

    _wait(lambda: (d := newest()) is not None
          and d["vitals"]["heart_rate"]["time_ms"] == int(t.timestamp() * 1000))
    doc = newest()
    assert doc is not None
    assert doc["vitals"]["heart_rate"]["value"] == v
    assert all(m.retain is False for m in collector.messages)  # live, not the retained copy
    # 20 messages, but at most one summary per 0.5 s interval (plus one).
    assert len(collector.messages) <= 1 + 2 * 3
    collector.close()
    late = Collector(stack.mqtt_url, topics.state(patient))  # a subscriber that comes later
    _wait(lambda: bool(late.messages))
    assert late.messages[0].retain
    late.close()


def test_bad_requests_get_an_error_naming_the_field(stack, cache):
    cases = {
        b"not json": "request",
        b'{"patient_id": "p1"}': "op",
        b'{"op": "nearest", "patient_id": "p1"}': "op",
        b'{"op": "latest"}': "patient_id",
        b'{"op": "latest", "patient_id": "a/b"}': "patient_id",
        b'{"op": "range", "patient_id": "p1", "metric": "glucose"}': "from",
        b'{"op": "range", "patient_id": "p1", "metric": "glucose", "from": "yesterday"}': "from",
        b'{"op": "range", "patient_id": "p1", "metric": "glucose", '
        b'"from": "2026-01-01T00:00:00"}': "from",
        b'{"op": "range", "patient_id": "p1", "metric": "glucose", "from": "2026-01-02T00:00Z",'
        b' "to": "2026-01-01T00:00Z"}': "to",
        b'{"op": "range", "patient_id": "p1", "metric": "glucose", "from": "2026-01-01T00:00Z",'
        b' "resolution": "5m"}': "resolution",
        b'{"op": "alerts", "patient_id": "p1", "extra": 1}': "extra",
    }
    for payload, field in cases.items():
        answer = cache.req.raw(payload)
        assert answer["ok"] is False, payload
        assert answer["error"].startswith(f"{field}:"), (payload, answer)
    # No response topic: nothing to answer, nothing breaks.
    publish_all(stack.mqtt_url, [(topics.CACHE_REQUESTS, b'{"op": "latest", "patient_id": "x"}')])
    answer = cache.req.ask(op="latest", patient_id="nobody")
    assert answer["ok"]
    assert answer["data"]["vitals"] == {}
    assert cache.health()["status"] == "ok"
    assert cache.metric("vigil_cache_bad_requests_total") == len(cases)
    assert datetime.fromisoformat(answer["as_of"]) <= datetime.now(UTC)
