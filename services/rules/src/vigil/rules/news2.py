"""NEWS2 (Royal College of Physicians, 2017) from the vitals a patient's devices provide.

Each parameter scores 0-3 from the chart's bands; the total is the sum over the parameters
present. Values are rounded as the chart is read (whole numbers; temperature to 0.1 °C).
Consciousness is not measured by any device: it is taken as Alert (0) and listed as assumed.
Supplemental oxygen and the SpO2 scale (scale 2 for hypercapnic respiratory failure) are rule
or per-patient settings (``oxygen``, ``spo2_scale``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from vigil.rules.kinds.base import Context, Sample
from vigil.rules.model import NEWS2_INPUTS, Signal

# (upper bound inclusive, points) bands, read top-down; the last band is open-ended.
_BANDS: dict[str, list[tuple[float, int]]] = {
    "respiratory_rate": [(8, 3), (11, 1), (20, 0), (24, 2), (math.inf, 3)],
    "blood_pressure_systolic": [(90, 3), (100, 2), (110, 1), (219, 0), (math.inf, 3)],
    "heart_rate": [(40, 3), (50, 1), (90, 0), (110, 1), (130, 2), (math.inf, 3)],
    "body_temperature": [(35.0, 3), (36.0, 1), (38.0, 0), (39.0, 1), (math.inf, 2)],
}
_SPO2_SCALE1 = [(91, 3), (93, 2), (95, 1), (math.inf, 0)]
_SPO2_SCALE2_AIR = [(83, 3), (85, 2), (87, 1), (math.inf, 0)]
_SPO2_SCALE2_O2 = [(83, 3), (85, 2), (87, 1), (92, 0), (94, 1), (96, 2), (math.inf, 3)]


def _round(metric: str, value: float) -> float:
    if metric == "body_temperature":
        return math.floor(value * 10 + 0.5) / 10
    return float(math.floor(value + 0.5))


def _band(bands: list[tuple[float, int]], value: float) -> int:
    return next(points for upper, points in bands if value <= upper)


def score_parameter(metric: str, value: float, *, spo2_scale: int = 1,
                    oxygen: bool = False) -> int:
    """Points of one parameter (0-3) by the NEWS2 chart."""
    v = _round(metric, value)
    if metric == "spo2":
        if spo2_scale == 2:
            return _band(_SPO2_SCALE2_O2 if oxygen else _SPO2_SCALE2_AIR, v)
        return _band(_SPO2_SCALE1, v)
    return _band(_BANDS[metric], v)


@dataclass(frozen=True)
class News2:
    """A score with its parts and what was missing or assumed."""

    total: int
    parts: dict[str, int]
    values: dict[str, float]
    missing: list[str]
    assumed: dict[str, str] = field(default_factory=dict)

    @property
    def red(self) -> bool:
        """Any single parameter scoring 3 (urgent review even with a low total)."""
        return any(p == 3 for p in self.parts.values())

    @property
    def risk(self) -> str:
        """low (0-4), low-medium (a red score), medium (5-6), high (7+)."""
        if self.total >= 7:
            return "high"
        if self.total >= 5:
            return "medium"
        return "low-medium" if self.red else "low"

    def as_inputs(self) -> dict[str, Any]:
        """What is stored on the alert."""
        return {"score": self.total, "parts": self.parts, "values": self.values,
                "missing": self.missing, "assumed": self.assumed, "risk": self.risk}


def score(values: dict[str, float], *, spo2_scale: int = 1, oxygen: bool = False,
          alert: bool = True) -> News2:
    """NEWS2 from the vitals in ``values`` (metric -> value); absent ones are listed."""
    parts = {m: score_parameter(m, v, spo2_scale=spo2_scale, oxygen=oxygen)
             for m, v in values.items() if m in NEWS2_INPUTS}
    parts["oxygen"] = 2 if oxygen else 0
    parts["consciousness"] = 0 if alert else 3
    assumed = {"consciousness": "alert" if alert else "cvpu",
               "oxygen": "supplemental" if oxygen else "air"}
    missing = [m for m in NEWS2_INPUTS if m not in values]
    return News2(sum(parts.values()), parts, {m: values[m] for m in values}, missing, assumed)


def news2_signal(s: Signal, ctx: Context) -> Sample | None:
    """The score from each input's latest reading within ``max_age`` (default 1 h); None when
    fewer than ``min_points`` inputs are present."""
    max_age_ms = (s.max_age or 3600.0) * 1000
    values: dict[str, float] = {}
    newest = None
    for metric in NEWS2_INPUTS:
        p = ctx.of(metric).latest(ctx.at_ms)
        if p is not None and ctx.at_ms - p.time_ms <= max_age_ms:
            values[metric] = p.value
            if newest is None or p.time_ms > newest.time_ms:
                newest = p
    if newest is None or len(values) < s.min_points:
        return None
    result = score(values, spo2_scale=s.spo2_scale, oxygen=s.oxygen)
    return Sample(float(result.total), result.as_inputs(), newest.time_ms, newest.device_id)
