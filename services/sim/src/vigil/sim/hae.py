"""A phone running Health Auto Export: hourly JSON exports on ``.../hae``.

The app's "REST API / MQTT" automation posts its standard export: ``{"data": {"metrics":
[{"name", "units", "data": [...]}], "workouts": []}}`` with hourly aggregates. Like the real
app, every export covers the current day so far *and* re-sends the previous day, so ingest sees
each bucket many times: a bucket's date is its hour start, stable across sends; only the hour
still filling changes between sends. The export honours the app's settings that change its
output: distance units (``metric``/``us``), energy unit (``kcal``/``kJ``) and the phone's 12-hour
clock, which makes dates read ``2026-11-23 2:00:00 PM +0100``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Any, Literal

from vigil.sim.activity import ActivityModel, DayPlan, HourStats
from vigil.sim.clock import floor_time

Units = Literal["metric", "us"]
Energy = Literal["kcal", "kj"]
Clock = Literal["24h", "12h"]
KM_PER_MI = 1.609344
CM_PER_IN = 2.54
KJ_PER_KCAL = 4.184
WATCH, PHONE, BOTH = "Apple Watch", "iPhone", "iPhone|Apple Watch"

# Every metric an export carries (all appear in each export, through the previous day).
METRIC_NAMES = (
    "heart_rate", "resting_heart_rate", "step_count", "active_energy", "basal_energy_burned",
    "walking_speed", "walking_step_length", "walking_asymmetry_percentage",
    "walking_double_support_percentage", "flights_climbed", "walking_running_distance",
    "headphone_audio_exposure", "blood_oxygen_saturation", "respiratory_rate", "blood_pressure",
    "sleep_analysis",
)
Entry = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ExportFormat:
    """The app settings that shape an export."""

    units: Units = "metric"
    energy: Energy = "kcal"
    clock: Clock = "24h"

    def date(self, t: datetime) -> str:
        """A date as the app writes it: ``yyyy-MM-dd HH:mm:ss Z`` or the 12-hour form."""
        if self.clock == "12h":
            hour = t.hour % 12 or 12
            return f"{t:%Y-%m-%d} {hour}:{t:%M:%S} {'AM' if t.hour < 12 else 'PM'} {t:%z}"
        return f"{t:%Y-%m-%d %H:%M:%S %z}"

    def unit_names(self) -> dict[str, str]:
        """The unit strings per metric in these settings."""
        us = self.units == "us"
        energy = "kJ" if self.energy == "kj" else "kcal"
        return {
            "heart_rate": "count/min", "resting_heart_rate": "count/min", "step_count": "count",
            "active_energy": energy, "basal_energy_burned": energy,
            "walking_speed": "mi/hr" if us else "km/hr",
            "walking_step_length": "in" if us else "cm",
            "walking_asymmetry_percentage": "%", "walking_double_support_percentage": "%",
            "flights_climbed": "count", "walking_running_distance": "mi" if us else "km",
            "headphone_audio_exposure": "dBASPL", "blood_oxygen_saturation": "%",
            "respiratory_rate": "count/min", "blood_pressure": "mmHg", "sleep_analysis": "hr",
        }


def _scale(h: HourStats, f: float) -> HourStats:
    """The figures of an hour ``f`` (0-1) of the way through: sums so far, narrower extremes."""
    lo, avg, hi = h.hr
    return HourStats(
        h.start, round(h.steps * f), round(h.distance_km * f, 3), float(round(h.flights * f)),
        round(h.active_kcal * f, 1), round(h.basal_kcal * f, 2),
        (round(avg - (avg - lo) * f), avg, round(avg + (hi - avg) * f)),
        h.walking, h.audio_db, h.spo2, h.respiratory,
    )


class HaePhone:
    """The phone of one simulated person; :meth:`export` is what the app sends at a time."""

    def __init__(self, device_id: str, seed: int, tz: tzinfo,
                 fmt: ExportFormat | None = None) -> None:
        self.device_id = device_id
        self.tz = tz
        self.fmt = fmt or ExportFormat()
        self.model = ActivityModel(seed, tz)
        # The app's hourly automation fires a few minutes past the hour.
        self.minute = 2 + seed % 7

    def export_times(self, start: datetime, end: datetime) -> list[datetime]:
        """When the app exports in [start, end): hourly, ``minute`` minutes past the hour."""
        t = floor_time(start, timedelta(hours=1)) + timedelta(minutes=self.minute)  # UTC
        out = []
        while t < end:
            if t >= start:
                out.append(t)
            t += timedelta(hours=1)
        return out

    def export(self, now: datetime) -> dict[str, Any]:
        """The export sent at ``now``: the previous local day and today up to ``now``."""
        now = now.astimezone(self.tz)
        today = now.date()
        days = [today - timedelta(days=1), today]
        hours: list[HourStats] = []
        for day in days:
            for start in self.model.hour_starts(day):
                filled = (now.timestamp() - start.timestamp()) / 3600
                if filled <= 0:
                    break
                full = self.model.hour(start)
                hours.append(full if filled >= 1 else _scale(full, filled))
        plans = [self.model.plan(d) for d in days]
        entries = self._hourly(hours) | self._daily(plans, now)
        units = self.fmt.unit_names()
        metrics = [{"name": n, "units": units[n], "data": entries[n]} for n in METRIC_NAMES
                   if entries.get(n)]
        return {"data": {"metrics": metrics, "workouts": []}}

    def payload(self, now: datetime) -> bytes:
        """The export at ``now`` as the JSON bytes the app publishes."""
        return json.dumps(self.export(now), separators=(",", ":")).encode()

    def _date(self, t: datetime) -> str:
        return self.fmt.date(t.astimezone(self.tz))

    def _qty(self, t: datetime, qty: float, source: str) -> Entry:
        return {"qty": qty, "date": self._date(t), "source": source}

    def _hourly(self, hours: list[HourStats]) -> dict[str, list[Entry]]:
        us, kj = self.fmt.units == "us", self.fmt.energy == "kj"

        def dist(km: float) -> float:
            return round(km / KM_PER_MI, 3) if us else km

        def energy(kcal: float) -> float:
            return round(kcal * KJ_PER_KCAL, 1) if kj else kcal

        out: dict[str, list[Entry]] = {n: [] for n in METRIC_NAMES}
        for h in hours:
            t = h.start
            lo, avg, hi = h.hr
            out["heart_rate"].append({"date": self._date(t), "Min": lo, "Avg": avg, "Max": hi,
                                      "source": WATCH})
            out["step_count"].append(self._qty(t, h.steps, BOTH))
            out["walking_running_distance"].append(self._qty(t, dist(h.distance_km), BOTH))
            out["active_energy"].append(self._qty(t, energy(h.active_kcal), WATCH))
            out["basal_energy_burned"].append(self._qty(t, energy(h.basal_kcal), WATCH))
            if h.flights:
                out["flights_climbed"].append(self._qty(t, h.flights, BOTH))
            if h.walking:
                speed, step_cm, asym, double = h.walking
                out["walking_speed"].append(self._qty(t, dist(speed), PHONE))
                length = round(step_cm / CM_PER_IN, 2) if us else step_cm
                out["walking_step_length"].append(self._qty(t, length, PHONE))
                out["walking_asymmetry_percentage"].append(self._qty(t, asym, PHONE))
                out["walking_double_support_percentage"].append(self._qty(t, double, PHONE))
            if h.audio_db is not None:
                out["headphone_audio_exposure"].append(self._qty(t, h.audio_db, PHONE))
            if h.spo2 is not None:
                out["blood_oxygen_saturation"].append(self._qty(t, h.spo2, WATCH))
            if h.respiratory is not None:
                out["respiratory_rate"].append(self._qty(t, h.respiratory, WATCH))
        return out

    def _daily(self, plans: list[DayPlan], now: datetime) -> dict[str, list[Entry]]:
        out: dict[str, list[Entry]] = {"resting_heart_rate": [], "blood_pressure": [],
                                       "sleep_analysis": []}
        for plan in plans:
            n = plan.night
            midnight = self.model.midnight(plan.day)
            if n.out_of_bed <= now:
                out["resting_heart_rate"].append(self._qty(midnight, plan.resting_hr, WATCH))
                out["sleep_analysis"].append({
                    "date": self._date(midnight),
                    "totalSleep": round(n.deep + n.rem + n.core, 3), "asleep": 0,
                    "core": n.core, "deep": n.deep, "rem": n.rem, "awake": n.awake,
                    "inBed": round((n.out_of_bed - n.in_bed).total_seconds() / 3600, 3),
                    "sleepStart": self._date(n.asleep), "sleepEnd": self._date(n.wake),
                    "inBedStart": self._date(n.in_bed), "inBedEnd": self._date(n.out_of_bed),
                    "source": WATCH,
                })
            out["blood_pressure"].extend(
                {"date": self._date(t), "systolic": s, "diastolic": d, "source": "Omron Connect"}
                for t, s, d in plan.blood_pressure if t <= now
            )
        return out
