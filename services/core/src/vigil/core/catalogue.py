"""The metric catalogue: the one source of truth for metric names, units and valid ranges.

Every decoder converts to the catalogue's canonical unit and checks the range here, so a value
that reaches the database or the readings topic always means the same thing.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["instant", "sum", "duration"]


class UnitError(ValueError):
    """A unit that cannot be converted to the metric's canonical unit."""


class RangeError(ValueError):
    """A value outside the metric's physiologically plausible range (or not finite)."""


@dataclass(frozen=True, slots=True)
class MetricDef:
    """One metric: canonical name and unit, valid range, and the units it is accepted in."""

    name: str
    unit: str
    low: float
    high: float
    kind: Kind = "instant"
    description: str = ""
    # Other spellings of the canonical unit (factor 1).
    aliases: frozenset[str] = field(default_factory=frozenset)
    # unit -> (factor, offset): canonical = value * factor + offset.
    conversions: dict[str, tuple[float, float]] = field(default_factory=dict)

    def to_canonical(self, value: float, unit: str | None) -> float:
        """Convert ``value`` given in ``unit`` (None: canonical) and check the range."""
        if unit is not None:
            unit = normalise_unit(unit)
        if unit is None or unit == self.unit or unit in self.aliases:
            out = float(value)
        elif unit in self.conversions:
            factor, offset = self.conversions[unit]
            out = float(value) * factor + offset
        else:
            raise UnitError(f"{self.name}: unit {unit!r} is not convertible to {self.unit!r}")
        self.check(out)
        return out

    def check(self, value: float) -> None:
        """Raise :class:`RangeError` unless ``low <= value <= high``."""
        if not math.isfinite(value):
            raise RangeError(f"{self.name}: value is not a finite number")
        if not self.low <= value <= self.high:
            raise RangeError(
                f"{self.name}: {value:g} {self.unit} outside {self.low:g}..{self.high:g}"
            )


_MOLAR = re.compile(r"^mmol<[0-9.]+>/L$")


def normalise_unit(unit: str) -> str:
    """Fold the spellings devices use into one (``mmol<180.15…>/L`` -> ``mmol/L``)."""
    unit = unit.strip()
    if _MOLAR.match(unit):
        return "mmol/L"
    return {"°C": "degC", "°F": "degF", "km/h": "km/hr", "mph": "mi/hr", "bpm": "count/min"}.get(
        unit, unit
    )


_BPM = frozenset({"count/min", "beats/min", "/min"})
_PCT = frozenset({"percent"})
_MI_KM = 1.609344
_HOURS = {"min": (1 / 60, 0.0), "s": (1 / 3600, 0.0), "sec": (1 / 3600, 0.0)}


def _m(name: str, unit: str, low: float, high: float, kind: Kind = "instant", desc: str = "",
       aliases: frozenset[str] = frozenset(), conv: dict[str, tuple[float, float]] | None = None,
       ) -> MetricDef:
    return MetricDef(name, unit, low, high, kind, desc, aliases, conv or {})


_SLEEP = [
    ("sleep_total", "total sleep"), ("sleep_asleep", "asleep, unspecified stage"),
    ("sleep_core", "core sleep"), ("sleep_deep", "deep sleep"), ("sleep_rem", "REM sleep"),
    ("sleep_awake", "awake in bed"), ("sleep_in_bed", "time in bed"),
]

METRICS: dict[str, MetricDef] = {
    m.name: m
    for m in [
        _m("heart_rate", "bpm", 20, 300, desc="heart rate", aliases=_BPM),
        _m("heart_rate_min", "bpm", 20, 300, desc="lowest heart rate in the period", aliases=_BPM),
        _m("heart_rate_max", "bpm", 20, 300, desc="highest heart rate in the period", aliases=_BPM),
        _m("resting_heart_rate", "bpm", 20, 200, desc="resting heart rate", aliases=_BPM),
        _m("heart_rate_variability", "ms", 0, 500, desc="HRV (SDNN)"),
        _m("spo2", "%", 50, 100, desc="blood oxygen saturation", aliases=_PCT),
        _m("glucose", "mg/dL", 10, 1000, desc="blood glucose",
           conv={"mmol/L": (18.015588, 0.0)}),
        _m("respiratory_rate", "breaths/min", 2, 80, desc="respiratory rate",
           aliases=frozenset({"count/min", "/min"})),
        _m("body_temperature", "degC", 25, 45, desc="body temperature",
           conv={"degF": (5 / 9, -32 * 5 / 9)}),
        _m("blood_pressure_systolic", "mmHg", 40, 300, desc="systolic blood pressure"),
        _m("blood_pressure_diastolic", "mmHg", 20, 200, desc="diastolic blood pressure"),
        _m("steps", "count", 0, 200_000, "sum", "steps"),
        _m("active_energy", "kcal", 0, 20_000, "sum", "active energy burned",
           conv={"kJ": (1 / 4.184, 0.0), "Cal": (1.0, 0.0)}),
        _m("resting_energy", "kcal", 0, 20_000, "sum", "resting (basal) energy burned",
           conv={"kJ": (1 / 4.184, 0.0), "Cal": (1.0, 0.0)}),
        _m("walking_speed", "km/hr", 0, 30, desc="walking speed",
           conv={"mi/hr": (_MI_KM, 0.0), "m/s": (3.6, 0.0)}),
        _m("walking_step_length", "cm", 0, 300, desc="walking step length",
           conv={"in": (2.54, 0.0), "m": (100.0, 0.0), "ft": (30.48, 0.0)}),
        _m("walking_asymmetry", "%", 0, 100, desc="walking asymmetry", aliases=_PCT),
        _m("walking_double_support", "%", 0, 100, desc="double support time", aliases=_PCT),
        _m("walking_running_distance", "km", 0, 500, "sum", "walking + running distance",
           conv={"mi": (_MI_KM, 0.0), "m": (0.001, 0.0), "yd": (0.0009144, 0.0)}),
        _m("flights_climbed", "count", 0, 1000, "sum", "flights of stairs climbed"),
        _m("headphone_audio_exposure", "dBASPL", 0, 150, desc="headphone audio level",
           aliases=frozenset({"dB", "dBA"})),
        *[_m(n, "hr", 0, 24, "duration", d, conv=_HOURS) for n, d in _SLEEP],
        _m("signal_quality", "%", 0, 100, desc="sensor signal-quality index", aliases=_PCT),
        _m("battery", "%", 0, 100, desc="device battery charge", aliases=_PCT),
    ]
}


class UnknownMetricError(KeyError):
    """A metric name that is not in the catalogue."""

    def __str__(self) -> str:
        return f"unknown metric {self.args[0]!r}"


def get(name: str) -> MetricDef:
    """Look a metric up by canonical name."""
    try:
        return METRICS[name]
    except KeyError:
        raise UnknownMetricError(name) from None
