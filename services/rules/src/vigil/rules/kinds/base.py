"""What every kind reads (a patient's series at an evaluation time) and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vigil.rules.series import Series

_EMPTY = Series()


@dataclass(slots=True)
class Context:
    """A patient's readings, the event time to evaluate at, and the wall clock (stale data)."""

    series: dict[str, Series]
    at_ms: int
    wall_ms: int
    patient_id: str = ""
    # device_id -> online, as last reported by the devices (LWT / status messages).
    devices: dict[str, bool] = field(default_factory=dict)

    def of(self, metric: str | None) -> Series:
        """The series of ``metric`` (empty when the patient has none)."""
        return self.series.get(metric or "", _EMPTY)


@dataclass(slots=True)
class Sample:
    """A signal's value and the inputs that produced it (stored on the alert)."""

    value: float
    inputs: dict[str, Any] = field(default_factory=dict)
    time_ms: int = 0
    device_id: str = ""
    trend_per_min: float = 0.0
