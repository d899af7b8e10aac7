"""A physiological glucose model for people without diabetes (every profile but ``diabetic``).

simglucose implements the UVA/Padova model of *type 1* diabetes: its virtual patients make no
insulin of their own, so it cannot produce a healthy curve. For the other profiles the curve is
the sum of:

* a fasting baseline with a dawn phenomenon (cortisol and growth hormone raise glucose around
  06:00-07:00);
* one gamma-shaped excursion per meal, ``A (x/tp)^k exp(k (1 - x/tp))`` with the peak ``A``
  proportional to the carbohydrate eaten, reached ``tp`` minutes after the first bite: the shape
  of post-prandial curves measured by CGM in healthy people (fast rise, slower return);
* an optional reactive undershoot after meals (reactive hypoglycaemia);
* negative gamma-shaped dips for exercise, alcohol (which blocks hepatic gluconeogenesis hours
  later) and spontaneous hypoglycaemia episodes;
* a slow smooth wander and CGM sensor noise.

Every value is a pure function of (seed, profile, time): events are drawn from a generator
seeded by (seed, profile, local date), noise is counter-based (:mod:`vigil.sim.seeds`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

import numpy as np

from vigil.sim import seeds
from vigil.sim.profiles import PhysioProfile


@dataclass(frozen=True, slots=True)
class Event:
    """One excursion: starts at ``start`` (Unix s), peaks ``amplitude`` mg/dL ``peak_min`` later."""

    start: float
    amplitude: float
    peak_min: float
    shape: float
    meal: bool


def gamma_response(minutes: np.ndarray, peak_min: float, shape: float) -> np.ndarray:
    """A unit-peak gamma-shaped response, zero before the event."""
    x = np.clip(minutes / peak_min, 0.0, None)
    with np.errstate(divide="ignore"):
        out = np.exp(shape * (np.log(np.where(x > 0, x, 1.0)) + 1.0 - x))
    return np.where(x > 0, out, 0.0)


class PhysioModel:
    """The glucose curve of one non-diabetic simulated person."""

    def __init__(self, profile: PhysioProfile, seed: int, tz: tzinfo) -> None:
        self.profile = profile
        self.seed = seed
        self.tz = tz
        self._days: dict[date, list[Event]] = {}

    def _at(self, day: date, hour: float) -> float:
        midnight = datetime.combine(day, time(0), tzinfo=self.tz)
        return (midnight + timedelta(hours=hour)).timestamp()

    def events(self, day: date) -> list[Event]:
        """The meals and dips of a local day (deterministic under the seed)."""
        if day in self._days:
            return self._days[day]
        p = self.profile
        g = seeds.rng(self.seed, p.name, day.toordinal())
        out: list[Event] = []
        for meal in p.meals:
            hour, coin = meal.hour + meal.sd_h * g.normal(), g.random()
            carbs = g.uniform(*meal.carbs)
            if coin >= meal.p:
                continue
            start = self._at(day, hour)
            amp = p.gain * carbs
            out.append(Event(start, amp, p.peak_min, p.shape, meal=True))
            if p.undershoot:
                out.append(Event(start + p.peak_min * 90, -p.undershoot * amp * g.uniform(0.7, 1.2),
                                 p.peak_min * 1.1, 3.0, meal=False))
        for dip in p.dips:
            if dip.count:
                hours = list(g.uniform(0, 24, size=g.poisson(dip.p)))
            else:
                hour, coin = dip.hour + dip.sd_h * g.normal(), g.random()
                hours = [hour] if coin < dip.p else []
            out.extend(Event(self._at(day, h), -g.uniform(*dip.depth), dip.peak_min, dip.shape,
                             meal=False) for h in hours)
        self._days[day] = out
        if len(self._days) > 16:
            self._days.pop(min(self._days))
        return out

    def _days_of(self, times: np.ndarray) -> list[date]:
        first = datetime.fromtimestamp(float(times.min()), self.tz).date() - timedelta(days=2)
        last = datetime.fromtimestamp(float(times.max()), self.tz).date()
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def values(self, times: np.ndarray) -> np.ndarray:
        """Glucose in mg/dL at ``times`` (Unix seconds), as a CGM would read it."""
        times = np.asarray(times, dtype=np.float64)
        p = self.profile
        hours = np.array([_local_hour(t, self.tz) for t in times])
        out = p.baseline + p.dawn * np.exp(-0.5 * ((hours - 6.5) / 1.3) ** 2)
        for day in self._days_of(times):
            for ev in self.events(day):
                out = out + ev.amplitude * gamma_response((times - ev.start) / 60.0, ev.peak_min,
                                                          ev.shape)
        out = out + p.drift_sd * seeds.smooth_noise(self.seed, f"{p.name}/drift", times, 2400.0)
        out = out + p.sensor_sd * seeds.normal(self.seed, f"{p.name}/sensor",
                                               (times // 60).astype(np.int64))
        return np.asarray(out)

    def meal_starts(self, start: datetime, end: datetime) -> list[float]:
        """Unix times of the meals that start in [start, end)."""
        lo, hi = start.timestamp(), end.timestamp()
        days = self._days_of(np.array([lo, hi]))
        starts = (e.start for d in days for e in self.events(d) if e.meal)
        return sorted(s for s in starts if lo <= s < hi)


def _local_hour(t: float, tz: tzinfo) -> float:
    local = datetime.fromtimestamp(t, tz)
    return local.hour + local.minute / 60 + local.second / 3600
