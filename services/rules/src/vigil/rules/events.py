"""AlertEvent messages: from a transition (live) or an alert row (outbox republish)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from vigil.core import catalogue
from vigil.rules.lifecycle import Transition
from vigil.v1 import alerts_pb2

SEVERITY = {"info": alerts_pb2.SEVERITY_INFO, "warning": alerts_pb2.SEVERITY_WARNING,
            "high": alerts_pb2.SEVERITY_HIGH, "critical": alerts_pb2.SEVERITY_CRITICAL}
STATE = {"firing": alerts_pb2.ALERT_STATE_FIRING, "resolved": alerts_pb2.ALERT_STATE_RESOLVED}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_ms(t: datetime) -> int:
    """Unix milliseconds of an aware datetime."""
    return (t - _EPOCH) // _MS


_MS = datetime(1970, 1, 1, 0, 0, 0, 1000, tzinfo=UTC) - _EPOCH


def to_dt(ms: int) -> datetime:
    """Aware UTC datetime of unix milliseconds."""
    return _EPOCH + ms * _MS


def unit_of(metric: str, kind: str = "") -> str:
    """The unit of a signal's value: the metric's, or the score's / rate's own."""
    if metric == "news2":
        return "score"
    if metric == "devices_offline":
        return "devices"
    if kind == "stale":
        return "s"
    if kind == "baseline":
        return "z"
    m = catalogue.METRICS.get(metric)
    base = m.unit if m else ""
    return f"{base}/min" if kind == "rate" and base else base


def _kind(inputs: Mapping[str, Any]) -> str:
    return str(inputs.get("kind", ""))


def from_transition(t: Transition) -> alerts_pb2.AlertEvent:
    """The event to publish for a transition."""
    state = "firing" if t.kind in ("firing", "escalated") else "resolved"
    return alerts_pb2.AlertEvent(
        alert_id=t.alert_id, patient_id=t.patient_id, rule=t.rule, severity=SEVERITY[t.severity],
        state=STATE[state], metric=t.metric, value=t.value if t.value is not None else 0.0,
        unit=unit_of(t.metric, _kind(t.inputs)), summary=t.summary, started_at_ms=t.started_ms,
        event_time_ms=t.at_ms, reading_time_ms=t.reading_time_ms, trend_per_min=t.trend_per_min,
        device_id=t.device_id, labels={**t.labels, "rule_version": t.rule_version},
    )


def _labels(value: object) -> dict[str, str]:
    data = json.loads(value) if isinstance(value, str) else value
    return {str(k): str(v) for k, v in (data or {}).items()} if isinstance(data, dict) else {}


def from_row(r: Mapping[str, Any]) -> list[alerts_pb2.AlertEvent]:
    """The events of an alert row's current state (republished from the outbox): a FIRING
    event first when none ever reached the broker."""
    out = [_row_event(r, "firing")] if not r["published_firing"] else []
    if r["state"] == "resolved" or r["published_firing"]:
        out.append(_row_event(r, r["state"]))
    return out


def _row_event(r: Mapping[str, Any], state: str) -> alerts_pb2.AlertEvent:
    at = r["resolved_at"] if state == "resolved" else r["started_at"]
    return alerts_pb2.AlertEvent(
        alert_id=r["alert_id"], patient_id=r["patient_id"], rule=r["rule"],
        severity=SEVERITY.get(r["severity"], alerts_pb2.SEVERITY_UNSPECIFIED),
        state=STATE[state], metric=r["metric"] or "", value=r["value"] or 0.0,
        unit=r["unit"] or "", summary=r["summary"], started_at_ms=to_ms(r["started_at"]),
        event_time_ms=to_ms(at), device_id=r["device_id"] or "",
        reading_time_ms=to_ms(r["reading_time"]) if r["reading_time"] else 0,
        trend_per_min=r["trend_per_min"] or 0.0,
        labels={**_labels(r["labels"]), "rule_version": r["rule_version"] or ""},
    )
