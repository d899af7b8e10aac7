"""Glucose profiles produce realistic, deterministic curves and contract-exact payloads."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from vigil.core.catalogue import METRICS
from vigil.sim.glucose import INTERVAL, GlucoseMeter, GlucoseReading
from vigil.sim.profiles import PROFILES, UnknownProfileError, check_profile

TZ = ZoneInfo("Europe/Paris")
START = datetime(2026, 11, 16, tzinfo=TZ)
DAYS = {"diabetic": 3}  # simglucose takes ~2 s per simulated day


@cache
def week(profile: str, seed: int = 0) -> tuple[GlucoseReading, ...]:
    meter = GlucoseMeter(f"dev-{profile}", profile, seed, TZ, START)
    return tuple(meter.readings(START, START + timedelta(days=DAYS.get(profile, 7))))


def values(profile: str, seed: int = 0) -> np.ndarray:
    return np.array([r.mg_dl for r in week(profile, seed)])


def fasting(profile: str) -> float:
    """Mean glucose 03:00-05:00, before breakfast and after the night's lows have passed."""
    return float(np.mean([r.mg_dl for r in week(profile) if r.time.hour in (3, 4)]))


@pytest.mark.parametrize("profile", PROFILES)
def test_every_profile_stays_in_the_catalogue_range_on_a_5_minute_grid(profile: str) -> None:
    readings = week(profile)
    glucose = METRICS["glucose"]
    for r in readings:
        glucose.check(r.mg_dl)
    times = [r.time.timestamp() for r in readings]
    assert np.all(np.diff(times) == INTERVAL.total_seconds())
    assert len(readings) == DAYS.get(profile, 7) * 288
    assert all(r.seq == int(r.time.timestamp()) // 300 for r in readings)


def test_low_glucose_spends_time_below_70_with_urgent_lows() -> None:
    v = values("low-glucose")
    assert (v < 70).mean() > 0.08
    assert (v < 54).sum() >= 10
    per_day = v.reshape(7, 288)
    assert sum((day < 70).any() for day in per_day) >= 6  # nearly every day has a low


def test_diabetic_is_a_plausible_type_1_curve() -> None:
    for seed in (0, 3):
        v = values("diabetic", seed)
        tir = ((v >= 70) & (v <= 180)).mean()
        assert 120 <= v.mean() <= 200
        assert 0.45 <= tir <= 0.97
        assert v.max() > 180  # goes high after meals
        assert v.std() > 20  # not a flat line


def test_healthy_profiles_rarely_leave_the_normal_range() -> None:
    for profile in ("athlete", "elderly"):
        v = values(profile)
        assert ((v >= 70) & (v <= 180)).mean() > 0.9
        assert v.max() < 200


def test_fasting_baselines_are_ordered_as_documented() -> None:
    athlete, elderly = fasting("athlete"), fasting("elderly")
    assert 72 <= athlete <= 92
    assert 100 <= elderly <= 125
    assert athlete < elderly
    assert fasting("diabetic") > athlete


def test_party_goer_has_late_night_lows_and_late_meals() -> None:
    readings = week("party-goer")
    night = [r.mg_dl for r in readings if 2 <= r.time.hour < 8]
    assert min(night) < 70
    late = [r for r in readings if r.meal == "after_meal" and r.time.hour >= 22]
    assert late


def test_meal_excursions_are_shaped_not_sine_waves() -> None:
    v = values("athlete").reshape(7, 288)
    # Days differ (meal times and sizes are drawn per day): no repeating pattern.
    assert np.abs(v[0] - v[1]).mean() > 3
    # The curve rises after meals: post-meal readings are higher than fasting ones.
    readings = week("elderly")
    after = np.mean([r.mg_dl for r in readings if r.meal == "after_meal"])
    assert after > fasting("elderly") + 15


def test_same_seed_same_values_and_other_seed_differs() -> None:
    again = GlucoseMeter("dev-athlete", "athlete", 0, TZ, START)
    assert [r.mg_dl for r in again.readings(START, START + timedelta(days=1))] == [
        r.mg_dl for r in week("athlete")[:288]
    ]
    assert not np.allclose(values("athlete", 1)[:288], values("athlete", 0)[:288])


def test_a_late_window_equals_the_same_slice_of_a_long_one() -> None:
    meter = GlucoseMeter("dev-athlete", "athlete", 0, TZ, START)
    a = START + timedelta(days=2, hours=5)
    part = meter.readings(a, a + timedelta(hours=3))
    full = {r.time: r.mg_dl for r in week("athlete")}
    assert [full[r.time] for r in part] == [r.mg_dl for r in part]


def test_payload_has_exactly_the_contract_keys() -> None:
    r = week("elderly")[100]
    body = json.loads(r.payload())
    assert set(body) == {"time", "value", "unit", "meal", "seq"}
    assert body["unit"] == "mg/dL"
    assert isinstance(body["value"], int)
    assert body["meal"] in ("before_meal", "after_meal", "fasting", "unspecified")
    parsed = datetime.fromisoformat(body["time"])
    assert parsed.utcoffset() == timedelta(hours=1)
    assert parsed == r.time
    mmol = json.loads(r.payload("mmol/L"))
    assert mmol["unit"] == "mmol/L"
    assert METRICS["glucose"].to_canonical(mmol["value"], "mmol/L") == pytest.approx(r.mg_dl,
                                                                                     abs=1.0)


def test_unknown_profile_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownProfileError, match="diabetic, athlete, party-goer"):
        check_profile("keto")
