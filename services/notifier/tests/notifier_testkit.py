"""Helpers for the notifier's tests: a fake clock, an alert factory, the test data folder."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vigil.notifier.model import Alert, Severity

TESTDATA = Path(__file__).parent / "testdata"
# 2026-01-15 12:00:00 UTC: midday, so time-of-day routes are predictable.
NOON = 1768478400.0


class FakeClock:
    """A clock that moves only when told."""

    def __init__(self, now: float = NOON) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_alert(alert_id: str = "a1", *, patient: str = "p1", severity: str = "high",
               firing: bool = True, **kw: Any) -> Alert:
    """An alert with sensible defaults for tests."""
    fields: dict[str, Any] = {"rule": "spo2_low", "metric": "spo2", "value": 88.0,
                              "unit": "%", "summary": "SpO2 low", "started_at": NOON}
    fields.update(kw)
    return Alert(alert_id=alert_id, patient_id=patient, severity=Severity.parse(severity),
                 firing=firing, **fields)


Sent = tuple[float, str, str, list[str]]


def drive(dispatcher: Any, clock: FakeClock, until: float) -> list[Sent]:
    """Tick at every moment the dispatcher asks for up to ``until`` seconds after NOON; return
    (seconds after NOON, receiver, kind, alert ids) for every notification."""
    out: list[Sent] = []
    while True:
        due = dispatcher.next_due()
        if due is None or due > NOON + until:
            break
        clock.now = max(clock.now, due)
        for n in dispatcher.tick():
            ids = [a.alert_id for a in (n.firing or n.resolved)]
            out.append((n.at - NOON, n.receiver, n.kind, ids))
    clock.now = max(clock.now, NOON + until)
    return out
