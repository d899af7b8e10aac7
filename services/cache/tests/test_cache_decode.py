"""Decoding of consumed messages and the state publisher's throttle."""

from __future__ import annotations

import pytest

from vigil.cache.decode import Ack, Alert, InvalidMessageError, Readings, Status, decode, kind_of
from vigil.cache.state import StatePublisher
from vigil.core import topics
from vigil.v1 import alerts_pb2, readings_pb2, status_pb2


def test_readings_grouped_by_metric():
    batch = readings_pb2.ReadingBatch(patient_id="p1", readings=[
        readings_pb2.Reading(time_ms=1, metric="heart_rate", value=60, unit="count/min",
                             quality=90, device_id="ox"),
        readings_pb2.Reading(time_ms=2, metric="spo2", value=97, unit="%", device_id="ox"),
        readings_pb2.Reading(time_ms=3, metric="heart_rate", value=61, unit="count/min",
                             device_id="ox")])
    e = decode(topics.readings("p1", 16), batch.SerializeToString())
    assert isinstance(e, Readings)
    assert [p.time_ms for p in e.points["heart_rate"]] == [1, 3]
    assert e.points["spo2"][0].value == 97


def test_alert_ack_and_status():
    ev = alerts_pb2.AlertEvent(alert_id="a", patient_id="p1", state=alerts_pb2.ALERT_STATE_FIRING,
                               severity=alerts_pb2.SEVERITY_CRITICAL, event_time_ms=5)
    a = decode(topics.alerts("p1"), ev.SerializeToString())
    assert isinstance(a, Alert)
    assert (a.firing, a.time_ms, a.doc["severity"]) == (True, 5, "critical")
    ack = decode(topics.ACKS, alerts_pb2.AlertAck(alert_id="a", patient_id="p1", by="n",
                                                  at_ms=7).SerializeToString())
    assert ack == Ack("p1", "a", "n", 7)
    st = decode(topics.device("ox", "status"), status_pb2.DeviceStatus(
        device_id="ox", online=True, battery_pct=50, time_ms=9).SerializeToString())
    assert st == Status("ox", True, 9, {"battery_pct": "50.0"})
    for body, online in ((b"offline", False), (b'{"online": true}', True)):
        s = decode(topics.device("ox", "status"), body)
        assert isinstance(s, Status)
        assert s.online is online


@pytest.mark.parametrize(("topic", "payload"), [
    (topics.readings("p1", 16), b"\xff\xff"),
    (topics.readings("p1", 16), readings_pb2.ReadingBatch(patient_id="a b").SerializeToString()),
    (topics.alerts("p1"), alerts_pb2.AlertEvent(patient_id="p1").SerializeToString()),
    (topics.device("ox", "status"), b'{"online": "yes"}'),
    ("vigil/v1/other", b""),
])
def test_invalid_messages_say_why(topic, payload):
    with pytest.raises(InvalidMessageError):
        decode(topic, payload)


def test_kinds():
    assert kind_of(topics.ACKS) == "acks"
    assert kind_of(topics.device("x", "status")) == "status"
    assert kind_of(topics.readings("p", 4)) == "readings"


def test_state_publisher_throttles_per_patient(monkeypatch):
    now = [100.0]
    monkeypatch.setattr("vigil.cache.state.time.monotonic", lambda: now[0])
    sp = StatePublisher(None, None, None, 1.0)  # type: ignore[arg-type]
    sp.mark({"a", "b"})
    assert sorted(sp.due()) == ["a", "b"]
    sp.mark({"a"})
    now[0] += 0.5
    assert sp.due() == []
    now[0] += 0.5
    assert sp.due() == ["a"]
    assert sp.due() == []
