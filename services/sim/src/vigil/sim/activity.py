"""The day of the person carrying the Health Auto Export phone, as hourly Apple Health figures.

A day is planned from (seed, local date): wake and bed times (an hour later at weekends), an
evening workout on about half the days, two blood-pressure cuff readings, and the night that
ended that morning split into sleep stages (deep ~15 %, REM ~22 %, awake ~5 %, the rest core).
Each hour then gets an activity level from a daily pattern (commute, lunch walk) with log-normal
noise; steps, distance, stairs and energy follow from it, heart rate rises with it and falls
during sleep, and the watch's night-time measurements (SpO2, respiratory rate) appear only while
asleep. Everything is a pure function of (seed, date, hour), so re-sending a past day gives
exactly the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from vigil.sim import seeds

# Relative activity by local hour (0-23) on an office day.
_PATTERN = (0, 0, 0, 0, 0, 0, 0.3, 0.8, 1.6, 0.6, 0.5, 0.6, 1.3, 0.9, 0.5, 0.5, 0.6, 1.4,
            0.9, 0.7, 0.5, 0.4, 0.2, 0.1)
BMR_KCAL_DAY = 1680.0


@dataclass(frozen=True, slots=True)
class Night:
    """The night that ended on the morning of a day (hours per stage)."""

    in_bed: datetime
    asleep: datetime
    wake: datetime
    out_of_bed: datetime
    deep: float
    rem: float
    core: float
    awake: float


@dataclass(frozen=True, slots=True)
class DayPlan:
    """What happens on one local day."""

    day: date
    night: Night  # the sleep that ended this morning
    bed: datetime  # tonight
    workout: tuple[datetime, float] | None  # start, minutes
    blood_pressure: tuple[tuple[datetime, float, float], ...]  # (time, systolic, diastolic)
    resting_hr: float


@dataclass(frozen=True, slots=True)
class HourStats:
    """Canonical-unit figures for one hour (None: not measured in that hour)."""

    start: datetime
    steps: float
    distance_km: float
    flights: float
    active_kcal: float
    basal_kcal: float
    hr: tuple[float, float, float]  # min, avg, max
    walking: tuple[float, float, float, float] | None  # km/hr, cm, asymmetry %, double support %
    audio_db: float | None
    spo2: float | None
    respiratory: float | None


def _overlap(a0: datetime, a1: datetime, b0: datetime, b1: datetime) -> float:
    """Seconds shared by [a0, a1) and [b0, b1) (timestamps: exact across DST changes)."""
    lo = max(a0.timestamp(), b0.timestamp())
    return max(0.0, min(a1.timestamp(), b1.timestamp()) - lo)


class ActivityModel:
    """Hourly Apple Health figures of one simulated person."""

    def __init__(self, seed: int, tz: tzinfo) -> None:
        self.seed = seed
        self.tz = tz
        self._plans: dict[date, DayPlan] = {}

    def midnight(self, day: date) -> datetime:
        """Local midnight starting ``day``."""
        return datetime.combine(day, time(0), tzinfo=self.tz)

    def _local(self, day: date, hour: float) -> datetime:
        # Wall-clock hour of that day, held in UTC so later arithmetic is exact.
        return (self.midnight(day) + timedelta(hours=hour)).astimezone(UTC)

    def plan(self, day: date) -> DayPlan:
        """The plan of ``day`` (cached; deterministic under the seed)."""
        if day in self._plans:
            return self._plans[day]
        g = seeds.rng(self.seed, "day", day.toordinal())
        bed_prev, bed = self._bed(day - timedelta(days=1)), self._bed(day)
        wake = self._local(day, 6.8 + 0.35 * g.normal() + (1.0 if day.weekday() >= 5 else 0.0))
        asleep = bed_prev + timedelta(minutes=float(g.uniform(5, 25)))
        total = (wake - asleep).total_seconds() / 3600
        awake = round(total * g.uniform(0.03, 0.07), 3)
        deep, rem = round(total * g.uniform(0.12, 0.18), 3), round(total * g.uniform(0.18, 0.25), 3)
        night = Night(bed_prev, asleep, wake, wake + timedelta(minutes=float(g.uniform(2, 15))),
                      deep, rem, round(total - awake - deep - rem, 3), awake)
        workout = None
        if g.random() < 0.5:
            workout = (self._local(day, 18.0 + 0.7 * g.normal()), float(g.uniform(30, 60)))
        bp = tuple((self._local(day, h + 0.4 * g.normal()), round(118 + 7 * g.normal()),
                    round(77 + 5 * g.normal())) for h in (7.7, 21.2))
        plan = DayPlan(day, night, bed, workout, bp, round(57 + 2 * g.normal()))
        self._plans[day] = plan
        if len(self._plans) > 8:
            self._plans.pop(min(self._plans))
        return plan

    def _bed(self, day: date) -> datetime:
        """Bedtime on the evening of ``day`` (later on Friday and Saturday nights)."""
        g = seeds.rng(self.seed, "bed", day.toordinal())
        late = 0.8 if day.weekday() in (4, 5) else 0.0
        return self._local(day, 23.0 + 0.5 * g.normal() + late)

    def hour_starts(self, day: date) -> list[datetime]:
        """Starts of the (23, 24 or 25) real hours of a local day."""
        start = self.midnight(day).astimezone(UTC)
        end = self.midnight(day + timedelta(days=1)).astimezone(UTC)
        n = round((end - start).total_seconds() / 3600)
        return [(start + timedelta(hours=k)).astimezone(self.tz) for k in range(n)]

    def asleep_fraction(self, start: datetime) -> float:
        """Fraction of the hour from ``start`` spent asleep."""
        end = start.astimezone(UTC) + timedelta(hours=1)
        day = start.astimezone(self.tz).date()
        nights = [self.plan(day).night, self.plan(day + timedelta(days=1)).night]
        return min(1.0, sum(_overlap(start, end, n.asleep, n.wake) for n in nights) / 3600)

    def hour(self, start: datetime) -> HourStats:
        """The full-hour figures of the hour starting at ``start``."""
        start = start.astimezone(self.tz)
        g = seeds.rng(self.seed, "hour", int(start.timestamp()) // 3600)
        plan = self.plan(start.date())
        sleep = self.asleep_fraction(start)
        level = (1 - sleep) * max(_PATTERN[start.hour], 0.15) * float(g.lognormal(0, 0.45))
        workout_min = 0.0
        if plan.workout:
            w0, minutes = plan.workout
            workout_min = _overlap(start, start.astimezone(UTC) + timedelta(hours=1), w0,
                                   w0 + timedelta(minutes=minutes)) / 60
        steps = round(level * 850 + workout_min * 150 * float(g.uniform(0.9, 1.1)))
        step_cm = round(71 + 3 * g.normal() + (25 if workout_min > 20 else 0), 1)
        walking = None
        if steps >= 150:
            speed = 4.7 + 0.35 * g.normal() + (5.0 * workout_min / 60)
            walking = (round(speed, 2), step_cm, round(float(g.gamma(1.5, 1.2)), 1),
                       round(28 + 1.5 * g.normal() - (6 * workout_min / 60), 1))
        hr_avg = (52 + 4 * g.normal()) * sleep + (72 + 9 * level) * (1 - sleep) \
            + 70 * workout_min / 60
        hr_min = hr_avg - g.uniform(4, 10) - (8 * level)
        hr_max = hr_avg + g.uniform(8, 20) + 10 * level + (60 if workout_min > 10 else 0)
        audio = round(float(g.uniform(62, 80)), 1) if start.hour in (8, 17, 18) else None
        night = sleep > 0.5
        return HourStats(
            start=start, steps=steps,
            distance_km=round(steps * step_cm / 100_000, 3),
            flights=float(g.poisson(level * 1.1)),
            active_kcal=round(steps * 0.042 + workout_min * 7.5 + (1 - sleep) * g.uniform(4, 9), 1),
            basal_kcal=round(BMR_KCAL_DAY / 24 * (1 - 0.08 * sleep) * g.uniform(0.98, 1.02), 2),
            hr=(round(max(hr_min, 38)), round(hr_avg), round(min(hr_max, 185))),
            walking=walking, audio_db=audio,
            spo2=round(float(min(99.0, 96.5 + 1.2 * g.normal())), 1) if night else None,
            respiratory=round(float(14 + 1.2 * g.normal()), 1) if night else None,
        )
