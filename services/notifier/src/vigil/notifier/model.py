"""The notifier's view of an alert, built from the rules service's ``AlertEvent``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from vigil.v1 import alerts_pb2


class Severity(IntEnum):
    """Alert severity; the order matters (``critical`` is the safety floor)."""

    INFO = 1
    WARNING = 2
    HIGH = 3
    CRITICAL = 4

    @classmethod
    def parse(cls, name: str) -> Severity:
        """``"critical"`` → ``Severity.CRITICAL``; raises ``ValueError`` on anything else."""
        try:
            return cls[name.strip().upper()]
        except KeyError:
            names = ", ".join(s.name.lower() for s in cls)
            raise ValueError(f"unknown severity {name!r} (one of {names})") from None


@dataclass(frozen=True)
class Alert:
    """One alert episode at one moment; ``alert_id`` is the dedup key."""

    alert_id: str
    patient_id: str
    rule: str
    severity: Severity
    firing: bool
    metric: str = ""
    value: float = 0.0
    unit: str = ""
    summary: str = ""
    started_at: float = 0.0
    event_time: float = 0.0
    trend_per_min: float = 0.0
    device_id: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def care_team(self) -> str:
        """The care team label (``care_team``), or empty."""
        return self.labels.get("care_team", "")

    def label(self, name: str) -> str:
        """A value usable for matching and grouping: built-in fields first, then labels."""
        builtin = {
            "alert_id": self.alert_id,
            "patient_id": self.patient_id,
            "rule": self.rule,
            "severity": self.severity.name.lower(),
            "metric": self.metric,
            "device_id": self.device_id,
        }
        if name in builtin:
            return builtin[name]
        return self.labels.get(name, "")

    @classmethod
    def from_event(cls, event: alerts_pb2.AlertEvent) -> Alert:
        """Build from the wire message; an unset or unknown severity is treated as critical."""
        # Failing safe: a rules-service bug (unset or unknown value) must not downgrade a page.
        known = {s.value for s in Severity}
        severity = Severity(event.severity) if event.severity in known else Severity.CRITICAL
        return cls(
            alert_id=event.alert_id,
            patient_id=event.patient_id,
            rule=event.rule,
            severity=severity,
            firing=event.state != alerts_pb2.ALERT_STATE_RESOLVED,
            metric=event.metric,
            value=event.value,
            unit=event.unit,
            summary=event.summary,
            started_at=event.started_at_ms / 1000,
            event_time=event.event_time_ms / 1000,
            trend_per_min=event.trend_per_min,
            device_id=event.device_id,
            labels=dict(event.labels),
        )
