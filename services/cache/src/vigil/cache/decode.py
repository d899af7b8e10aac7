"""Incoming messages -> cache events: reading batches, alert events, acks, device status."""

from __future__ import annotations

import time
from dataclasses import dataclass

from google.protobuf.message import DecodeError as ProtobufDecodeError

from vigil.cache.keys import Point
from vigil.core import topics
from vigil.core.status import StatusError, parse_status
from vigil.v1 import alerts_pb2, readings_pb2


class InvalidMessageError(ValueError):
    """A message the cache cannot use; the text says why (it goes to the dead-letter topic)."""


@dataclass(frozen=True, slots=True)
class Readings:
    """A patient's committed readings, grouped by metric."""

    patient_id: str
    points: dict[str, list[Point]]


@dataclass(frozen=True, slots=True)
class Alert:
    """A firing or resolved alert."""

    patient_id: str
    alert_id: str
    firing: bool
    time_ms: int
    doc: dict[str, object]


@dataclass(frozen=True, slots=True)
class Ack:
    """Someone acknowledged an alert."""

    patient_id: str
    alert_id: str
    by: str
    at_ms: int


@dataclass(frozen=True, slots=True)
class Status:
    """A device went online or offline (with what else it said)."""

    device_id: str
    online: bool
    time_ms: int
    extra: dict[str, str]


Event = Readings | Alert | Ack | Status
_SEVERITY = {v.number: v.name.removeprefix("SEVERITY_").lower()
             for v in alerts_pb2.Severity.DESCRIPTOR.values}


def kind_of(topic: str) -> str:
    """The message kind a topic carries: readings, alerts, acks, status or other."""
    if topic == topics.ACKS:
        return "acks"
    parts = topic.split("/")
    if len(parts) >= 3 and parts[2] in ("readings", "alerts"):
        return parts[2]
    if len(parts) == 5 and parts[2] == "devices" and parts[4] == "status":
        return "status"
    return "other"


def decode(topic: str, payload: bytes) -> Event:
    """Decode one message; raise :class:`InvalidMessageError` naming the problem."""
    kind = kind_of(topic)
    try:
        if kind == "readings":
            return _readings(payload)
        if kind == "alerts":
            return _alert(payload)
        if kind == "acks":
            return _ack(payload)
        if kind == "status":
            return _status(topics.DeviceTopic.parse(topic).device_id, payload)
    except (ProtobufDecodeError, topics.TopicError) as exc:
        raise InvalidMessageError(f"{kind}: {exc}") from None
    raise InvalidMessageError(f"not a topic the cache consumes: {topic!r}")


def _readings(payload: bytes) -> Readings:
    batch = readings_pb2.ReadingBatch.FromString(payload)
    patient = topics.check_id("patient", batch.patient_id)
    points: dict[str, list[Point]] = {}
    for r in batch.readings:
        if not r.metric or "|" in r.unit or "|" in r.device_id:
            raise InvalidMessageError("readings: a reading lacks a metric or has '|' in a name")
        points.setdefault(r.metric, []).append(
            Point(r.time_ms, r.device_id, r.value, r.unit, r.quality))
    return Readings(patient, points)


def _alert(payload: bytes) -> Alert:
    e = alerts_pb2.AlertEvent.FromString(payload)
    patient = topics.check_id("patient", e.patient_id)
    if not e.alert_id:
        raise InvalidMessageError("alerts: alert_id is empty")
    firing = e.state == alerts_pb2.ALERT_STATE_FIRING
    if not firing and e.state != alerts_pb2.ALERT_STATE_RESOLVED:
        raise InvalidMessageError("alerts: state is neither firing nor resolved")
    doc: dict[str, object] = {
        "alert_id": e.alert_id, "rule": e.rule, "severity": _SEVERITY.get(e.severity, "unknown"),
        "metric": e.metric, "value": e.value, "unit": e.unit, "summary": e.summary,
        "started_at_ms": e.started_at_ms, "reading_time_ms": e.reading_time_ms,
        "device_id": e.device_id,
    }
    return Alert(patient, e.alert_id, firing, e.event_time_ms or _now_ms(), doc)


def _ack(payload: bytes) -> Ack:
    a = alerts_pb2.AlertAck.FromString(payload)
    patient = topics.check_id("patient", a.patient_id)
    if not a.alert_id:
        raise InvalidMessageError("acks: alert_id is empty")
    return Ack(patient, a.alert_id, a.by, a.at_ms or _now_ms())


def _status(device_id: str, payload: bytes) -> Status:
    try:
        st = parse_status(payload, device_id)
    except StatusError as exc:
        raise InvalidMessageError(str(exc)) from None
    extra = {"firmware": st.firmware} if st.firmware else {}
    if st.battery_pct is not None:
        extra["battery_pct"] = repr(st.battery_pct)
    if st.rssi_dbm is not None:
        extra["rssi_dbm"] = str(st.rssi_dbm)
    at_ms = int(st.time.timestamp() * 1000) if st.time else _now_ms()
    return Status(device_id, st.online, at_ms, extra)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
