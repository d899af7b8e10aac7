"""Glucose patient profiles: who each simulated patient is, in numbers.

``diabetic`` is a type 1 patient simulated by simglucose (UVA/Padova); the others are people
whose pancreas works, which simglucose (a T1D model) cannot represent, so they use the
excursion model of :mod:`vigil.sim.physio` with the parameters below.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Meal:
    """A usual meal: local hour, timing spread (h), carbohydrate range (g), how often eaten."""

    hour: float
    sd_h: float
    carbs: tuple[float, float]
    p: float = 1.0


@dataclass(frozen=True, slots=True)
class Dip:
    """A usual glucose-lowering event (exercise, alcohol, hypoglycaemia) and its shape."""

    hour: float
    sd_h: float
    depth: tuple[float, float]  # mg/dL below baseline at the nadir
    peak_min: float  # minutes from start to nadir
    p: float = 1.0  # probability per day (a mean count when ``count`` is set)
    shape: float = 3.0
    count: bool = False  # True: Poisson number per day at uniformly random hours


@dataclass(frozen=True, slots=True)
class PhysioProfile:
    """Parameters of a non-diabetic glucose curve (see :mod:`vigil.sim.physio`)."""

    name: str
    description: str
    baseline: float  # fasting glucose, mg/dL
    dawn: float  # extra mg/dL at ~06:30 (dawn phenomenon)
    meals: tuple[Meal, ...]
    gain: float  # peak mg/dL per gram of carbohydrate
    peak_min: float  # minutes from the first bite to the peak
    shape: float  # gamma shape: larger is a narrower, more symmetric excursion
    dips: tuple[Dip, ...] = ()
    undershoot: float = 0.0  # reactive fall after a meal, fraction of the peak
    drift_sd: float = 4.0  # slow physiological wander, mg/dL
    sensor_sd: float = 2.5  # CGM sensor noise, mg/dL


_DAY_MEALS = (Meal(7.5, 0.5, (40, 70)), Meal(12.5, 0.6, (60, 90)), Meal(19.0, 0.6, (60, 100)))

PHYSIO: dict[str, PhysioProfile] = {
    p.name: p
    for p in [
        PhysioProfile(
            "athlete", "trained, insulin-sensitive adult: low-normal with exercise dips",
            baseline=83, dawn=5, gain=0.38, peak_min=35, shape=3.2,
            meals=(Meal(7.0, 0.4, (60, 90)), Meal(12.5, 0.5, (80, 110)),
                   Meal(16.0, 0.5, (30, 50), 0.6), Meal(19.5, 0.5, (80, 120))),
            dips=(Dip(17.5, 0.5, (12, 22), 55, 0.85, 2.0), Dip(6.3, 0.3, (6, 12), 40, 0.35, 2.0)),
            drift_sd=3.5,
        ),
        PhysioProfile(
            "party-goer", "young adult: late irregular meals, alcohol-induced late-night lows",
            baseline=88, dawn=4, gain=0.5, peak_min=40, shape=3.0,
            meals=(Meal(11.0, 1.5, (30, 70), 0.5), Meal(14.5, 1.5, (60, 110), 0.9),
                   Meal(21.5, 1.5, (60, 120)), Meal(26.0, 1.0, (30, 60), 0.4)),
            dips=(Dip(23.5, 1.5, (18, 32), 330, 0.6, 4.0),),
            drift_sd=6.0,
        ),
        PhysioProfile(
            "low-glucose", "recurrent hypoglycaemia: reactive falls after meals, night lows",
            baseline=80, dawn=3, gain=0.5, peak_min=35, shape=3.0, undershoot=0.75,
            meals=_DAY_MEALS,
            dips=(Dip(12.0, 0.0, (22, 48), 35, 2.5, 3.0, count=True),),
            drift_sd=5.0,
        ),
        PhysioProfile(
            "elderly", "older adult: higher fasting glucose, slow and prolonged excursions",
            baseline=106, dawn=10, gain=0.75, peak_min=75, shape=2.2,
            meals=(Meal(8.0, 0.4, (40, 60)), Meal(12.0, 0.4, (50, 80)), Meal(18.0, 0.4, (50, 70))),
            drift_sd=5.0,
        ),
    ]
}

DIABETIC = "diabetic"
PROFILES: tuple[str, ...] = (DIABETIC, *PHYSIO)
DESCRIPTIONS: dict[str, str] = {
    DIABETIC: "type 1 diabetes (simglucose UVA/Padova) on basal-bolus insulin, carb-count errors",
    **{name: p.description for name, p in PHYSIO.items()},
}


class UnknownProfileError(ValueError):
    """A profile name that is not one of :data:`PROFILES`."""


def check_profile(name: str) -> str:
    """Return ``name`` if it is a known profile, else raise listing the valid ones."""
    if name not in PROFILES:
        raise UnknownProfileError(
            f"unknown glucose profile {name!r}; valid profiles: {', '.join(PROFILES)}"
        )
    return name
