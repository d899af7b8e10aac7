"""A CGM-like glucose meter: one reading every 5 simulated minutes, JSON on ``.../glucose``.

Payload (the ingest contract): ``{"time": RFC 3339 with offset, "value", "unit", "meal",
"seq"}``. Timestamps sit on a 5-minute grid counted from the Unix epoch and ``seq`` is the grid
index, so a restarted meter re-publishes identical keys instead of new ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Literal, Protocol

import numpy as np

from vigil.sim.clock import floor_time
from vigil.sim.physio import PhysioModel
from vigil.sim.profiles import DIABETIC, PHYSIO, check_profile

INTERVAL = timedelta(minutes=5)
MG_PER_MMOL = 18.015588
# A CGM shows "LOW" / "HIGH" outside this range; the meter publishes the clamped number.
CGM_LOW, CGM_HIGH = 40.0, 400.0
Unit = Literal["mg/dL", "mmol/L"]
UNITS: tuple[Unit, ...] = ("mg/dL", "mmol/L")
MealTag = Literal["before_meal", "after_meal", "fasting", "unspecified"]


class GlucoseModel(Protocol):
    """What a glucose curve provides: values at Unix times and the meal start times."""

    def values(self, times: np.ndarray) -> np.ndarray:
        """Glucose (mg/dL) at ``times`` (Unix seconds)."""
        ...

    def meal_starts(self, start: datetime, end: datetime) -> list[float]:
        """Unix times of meals starting in [start, end)."""
        ...


def make_model(profile: str, seed: int, tz: tzinfo, anchor: datetime) -> GlucoseModel:
    """The curve of a profile; ``anchor`` is the earliest time that will be asked for."""
    check_profile(profile)
    if profile == DIABETIC:
        from vigil.sim.t1d import T1DModel  # imports simglucose: seconds, so only when needed

        return T1DModel(seed, tz, anchor)
    return PhysioModel(PHYSIO[profile], seed, tz)


@dataclass(frozen=True, slots=True)
class GlucoseReading:
    """One meter reading (always held in mg/dL)."""

    time: datetime
    mg_dl: float
    meal: MealTag
    seq: int

    def payload(self, unit: Unit = "mg/dL") -> bytes:
        """The JSON message of this reading in ``unit``."""
        value: float = (round(self.mg_dl / MG_PER_MMOL, 1) if unit == "mmol/L"
                        else round(self.mg_dl))
        body = {"time": self.time.isoformat(timespec="seconds"), "value": value, "unit": unit,
                "meal": self.meal, "seq": self.seq}
        return json.dumps(body, separators=(",", ":")).encode()


def meal_tag(t: float, meals: list[float]) -> MealTag:
    """``after_meal`` up to 2 h after a meal, ``before_meal`` 30 min before one, ``fasting`` 8 h
    after the last meal, else ``unspecified``."""
    if any(0 <= t - m <= 7200 for m in meals):
        return "after_meal"
    if any(0 < m - t <= 1800 for m in meals):
        return "before_meal"
    if not any(0 <= t - m <= 8 * 3600 for m in meals):
        return "fasting"
    return "unspecified"


class GlucoseMeter:
    """A simulated patient wearing a CGM: readings for any simulated period."""

    def __init__(self, device_id: str, profile: str, seed: int, tz: tzinfo,
                 anchor: datetime) -> None:
        self.device_id = device_id
        self.profile = check_profile(profile)
        self.tz = tz
        self.model = make_model(profile, seed, tz, anchor)

    def readings(self, start: datetime, end: datetime) -> list[GlucoseReading]:
        """The readings whose grid time falls in [start, end)."""
        first = floor_time(start, INTERVAL)
        if first < start:
            first += INTERVAL
        step = int(INTERVAL.total_seconds())
        times = np.arange(first.timestamp(), end.timestamp(), step)
        if times.size == 0:
            return []
        values = np.clip(self.model.values(times), CGM_LOW, CGM_HIGH)
        meals = self.model.meal_starts(start - timedelta(hours=9), end + timedelta(hours=1))
        return [
            GlucoseReading(datetime.fromtimestamp(float(t), self.tz), float(v),
                           meal_tag(float(t), meals), int(t) // step)
            for t, v in zip(times, values, strict=True)
        ]
