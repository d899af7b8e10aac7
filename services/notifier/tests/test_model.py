"""The alert model built from the wire message."""

from __future__ import annotations

from vigil.notifier.model import Alert, Severity
from vigil.v1 import alerts_pb2


def test_from_event_copies_fields_and_converts_times() -> None:
    event = alerts_pb2.AlertEvent(
        alert_id="a1", patient_id="p1", rule="spo2_low", severity=alerts_pb2.SEVERITY_HIGH,
        state=alerts_pb2.ALERT_STATE_FIRING, metric="spo2", value=88, unit="%",
        started_at_ms=1_000_500, trend_per_min=-0.5, labels={"care_team": "cardio"})
    alert = Alert.from_event(event)
    assert alert.severity is Severity.HIGH
    assert alert.firing
    assert alert.started_at == 1000.5
    assert alert.care_team == "cardio"
    assert alert.label("severity") == "high"
    assert alert.label("care_team") == "cardio"


def test_resolved_and_unspecified_severity_fails_safe_to_critical() -> None:
    event = alerts_pb2.AlertEvent(alert_id="a1", state=alerts_pb2.ALERT_STATE_RESOLVED)
    alert = Alert.from_event(event)
    assert not alert.firing
    assert alert.severity is Severity.CRITICAL


def test_unknown_severity_number_fails_safe_to_critical() -> None:
    event = alerts_pb2.AlertEvent(alert_id="a1")
    event.severity = 9  # type: ignore[assignment]  # a newer producer's value
    assert Alert.from_event(event).severity is Severity.CRITICAL
