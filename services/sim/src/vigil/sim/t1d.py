"""The ``diabetic`` profile: a type 1 patient simulated with simglucose (UVA/Padova 2008).

simglucose's virtual patients (FDA-accepted UVA/Padova parameters) are driven minute by minute
with meals and insulin from a basal-bolus regimen, the therapy of most people with T1D:
a constant basal rate (the patient's steady-state insulin ``u2ss``) and a bolus at each meal of
``carbs / CR`` plus a correction ``(G - 140) / CF`` when above 150 mg/dL (simglucose's
``BBController`` formula, with the patient's own CR and CF from its ``Quest.csv``). Real patients
miscount carbohydrates (mostly under) and sometimes forget a bolus or eat an unannounced snack,
which is what makes their curves go high: the carb estimate is off by a log-normal factor
(median 0.86, 30 % spread), 10 % of meal boluses are missed, snacks are often not bolused, and
each person's prescribed basal and bolus doses are 0-25 % short of the ideal ones. Readings are
the subcutaneous glucose plus simglucose's CGM noise model (Johnson-distributed, GuardianRT
sensor, every 5 minutes).

Simulating a minute costs ~4 ms, so the model steps 5 minutes at a time outside meals (about two
seconds per simulated day) and keeps the 5-minute history it has computed, extending it lazily
from a start anchored at a local midnight.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

import numpy as np

from vigil.sim import seeds

PATIENTS = ("adult#001", "adult#002", "adult#003", "adult#006", "adult#007",
            "adolescent#001", "adolescent#003", "adolescent#006")
STEP_MIN = 5
TARGET = 140.0


@dataclass(frozen=True, slots=True)
class Intake:
    """A meal or snack: minute since the anchor, carbs (g) and the bolus taken for it (U)."""

    minute: int
    carbs: float
    estimate: float  # carbs the patient counted; 0 when no bolus was taken


def _simglucose() -> tuple[Any, Any, Any, Any]:
    """Import simglucose lazily and quietly (it imports gym and logs every meal at INFO)."""
    logging.getLogger("simglucose").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from simglucose.controller.basal_bolus_ctrller import CONTROL_QUEST
        from simglucose.patient.t1dpatient import Action, T1DPatient
        from simglucose.sensor.cgm import CGMSensor
    return Action, T1DPatient, CGMSensor, CONTROL_QUEST


class T1DModel:
    """A simglucose virtual patient on basal-bolus therapy, with seeded meals."""

    def __init__(self, seed: int, tz: tzinfo, anchor: datetime) -> None:
        import pandas as pd

        action, patient_cls, sensor_cls, quest_file = _simglucose()
        self.seed = seed
        self.tz = tz
        self.anchor = datetime.combine(anchor.astimezone(tz).date(), time(0), tzinfo=tz)
        self.name = PATIENTS[seed % len(PATIENTS)]
        self._action = action
        self._patient = patient_cls.withName(self.name)
        params = self._patient._params  # simglucose exposes no getter
        quest = pd.read_csv(quest_file)
        row = quest[quest.Name == self.name].iloc[0]
        self._cr, self._cf = float(row.CR), float(row.CF)
        # Prescribed doses are rarely exact: this person's basal and meal boluses run a bit low.
        therapy = seeds.rng(seed, "diabetic", "therapy")
        self._basal = float(params.u2ss) * float(params.BW) / 6000 * therapy.uniform(0.92, 1.0)
        self._dose = float(therapy.uniform(0.75, 0.95))
        sensor = sensor_cls.withName("GuardianRT", seed=seed & 0xFFFFFFFF)
        self._noise = iter(sensor._noise_generator)  # the CGM noise model alone
        self._history: list[float] = []
        self._intakes: dict[int, Intake] = {}
        self._planned_days: set[date] = set()
        self._minute = 0

    def _plan(self, day: date) -> None:
        if day in self._planned_days:
            return
        self._planned_days.add(day)
        g = seeds.rng(self.seed, "diabetic", day.toordinal())
        midnight = datetime.combine(day, time(0), tzinfo=self.tz).timestamp()
        base = int((midnight - self.anchor.timestamp()) // 60)
        # (hour, sd, carbs range, probability, probability the bolus is skipped)
        plan = [(7.25, 0.5, (40, 70), 1.0, 0.1), (12.5, 0.75, (60, 100), 1.0, 0.1),
                (15.5, 1.0, (15, 35), 0.5, 0.5), (19.0, 0.75, (70, 120), 1.0, 0.1),
                (22.0, 0.5, (20, 40), 0.25, 0.6)]
        for hour, sd, carbs_range, p, skip in plan:
            minute = base + int(60 * (hour + sd * g.normal()))
            carbs, coin, miss, error = g.uniform(*carbs_range), g.random(), g.random(), g.normal()
            if coin < p and minute >= 0:
                estimate = 0.0 if miss < skip else carbs * float(np.exp(0.3 * error - 0.15))
                self._intakes[minute] = Intake(minute, round(carbs), estimate)

    def _bolus(self, intake: Intake, glucose: float) -> float:
        if intake.estimate <= 0:
            return 0.0
        correction = (glucose - TARGET) / self._cf if glucose > 150 else 0.0
        return max(0.0, self._dose * intake.estimate / self._cr + correction)

    def _step(self, minutes: int, carbs: float, insulin: float) -> None:
        p = self._patient
        p.SAMPLE_TIME = minutes
        p.step(self._action(CHO=carbs, insulin=insulin))
        self._minute += minutes

    def _simulate_to(self, minute: int) -> None:
        p = self._patient
        while len(self._history) * STEP_MIN <= minute:
            now = self.anchor.timestamp() + 60 * self._minute
            day = datetime.fromtimestamp(now, self.tz).date()
            self._plan(day)
            self._plan(day + timedelta(days=1))
            if self._minute % STEP_MIN == 0 and self._minute // STEP_MIN == len(self._history):
                noise = float(next(self._noise))
                self._history.append(float(np.clip(p.observation.Gsub + noise, 39.0, 600.0)))
            intake = self._intakes.get(self._minute)
            eating = p.planned_meal > 0 or p._last_action.CHO > 0
            soon = any(self._minute <= m < self._minute + STEP_MIN for m in self._intakes)
            if intake is not None:
                glucose = self._history[-1]
                self._step(1, intake.carbs, self._basal + self._bolus(intake, glucose))
            elif eating or soon or self._minute % STEP_MIN:
                self._step(1, 0.0, self._basal)
            else:
                self._step(STEP_MIN, 0.0, self._basal)

    def values(self, times: np.ndarray) -> np.ndarray:
        """CGM glucose in mg/dL at ``times`` (Unix seconds), interpolated on the 5-min grid."""
        minutes = (np.asarray(times, dtype=np.float64) - self.anchor.timestamp()) / 60.0
        if minutes.size and minutes.min() < 0:
            raise ValueError(f"the T1D simulation starts at {self.anchor.isoformat()}")
        self._simulate_to(int(np.ceil(minutes.max())) + STEP_MIN if minutes.size else 0)
        grid = np.arange(len(self._history)) * STEP_MIN
        return np.asarray(np.interp(minutes, grid, np.asarray(self._history)), dtype=np.float64)

    def meal_starts(self, start: datetime, end: datetime) -> list[float]:
        """Unix times of the meals and snacks that start in [start, end)."""
        a = self.anchor.timestamp()
        days = {(start - timedelta(days=1)).astimezone(self.tz).date(),
                start.astimezone(self.tz).date(), end.astimezone(self.tz).date()}
        for day in days:
            self._plan(day)
        lo, hi = start.timestamp(), end.timestamp()
        return sorted(a + 60 * m for m in self._intakes if lo <= a + 60 * m < hi)
