"""Health Auto Export exports: shape, units, 12-hour dates, stable re-sends, plausible values."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from vigil.core.catalogue import METRICS
from vigil.sim.hae import METRIC_NAMES, ExportFormat, HaePhone

TZ = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 14, 5, tzinfo=TZ)
# Health Auto Export name -> catalogue name (ingest's mapping, restated to check ranges/units).
CATALOGUE = {
    "heart_rate": "heart_rate", "resting_heart_rate": "resting_heart_rate",
    "step_count": "steps", "active_energy": "active_energy",
    "basal_energy_burned": "resting_energy", "walking_speed": "walking_speed",
    "walking_step_length": "walking_step_length",
    "walking_asymmetry_percentage": "walking_asymmetry",
    "walking_double_support_percentage": "walking_double_support",
    "flights_climbed": "flights_climbed", "walking_running_distance": "walking_running_distance",
    "headphone_audio_exposure": "headphone_audio_exposure",
    "blood_oxygen_saturation": "spo2", "respiratory_rate": "respiratory_rate",
}
DATE_24H, DATE_12H = "%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %I:%M:%S %p %z"


def metrics(export: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in export["data"]["metrics"]}


def by_date(metric: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["date"]: e for e in metric["data"]}


@pytest.fixture
def phone() -> HaePhone:
    return HaePhone("phone-1", 7, TZ)


def test_every_metric_appears_with_its_units(phone: HaePhone) -> None:
    export = phone.export(NOW)
    assert set(export) == {"data"}
    assert export["data"]["workouts"] == []
    found = metrics(export)
    assert set(found) == set(METRIC_NAMES)
    for name, metric in found.items():
        assert metric["data"], name
        if name in CATALOGUE:
            for entry in metric["data"]:
                value = entry["Avg"] if name == "heart_rate" else entry["qty"]
                METRICS[CATALOGUE[name]].to_canonical(value, metric["units"])
    hr = found["heart_rate"]["data"]
    assert all(e["Min"] <= e["Avg"] <= e["Max"] for e in hr)
    assert len(hr) == 24 + 15  # all of yesterday and today's hours up to 14:05
    bp = found["blood_pressure"]["data"]
    assert 2 <= len(bp) <= 4
    assert all(90 <= e["systolic"] <= 160 and 50 <= e["diastolic"] <= 100 for e in bp)
    sleep = found["sleep_analysis"]["data"]
    assert len(sleep) == 2  # one per night
    for night in sleep:
        assert 4 <= night["totalSleep"] <= 10
        assert night["totalSleep"] == pytest.approx(night["core"] + night["deep"] + night["rem"])
        METRICS["sleep_total"].to_canonical(night["totalSleep"], "hr")


def test_daily_totals_are_plausible(phone: HaePhone) -> None:
    found = metrics(phone.export(NOW))
    yesterday = "2026-11-22"
    steps = sum(e["qty"] for e in found["step_count"]["data"] if e["date"].startswith(yesterday))
    basal = sum(e["qty"] for e in found["basal_energy_burned"]["data"]
                if e["date"].startswith(yesterday))
    assert 2_000 <= steps <= 25_000
    assert 1_500 <= basal <= 1_900
    night_hr = [e["Avg"] for e in found["heart_rate"]["data"]
                if e["date"].startswith(f"{yesterday} 03")]
    day_hr = [e["Avg"] for e in found["heart_rate"]["data"]
              if e["date"].startswith(f"{yesterday} 12")]
    assert night_hr[0] < day_hr[0]


def test_bucket_dates_are_hour_starts_in_local_time(phone: HaePhone) -> None:
    for entry in metrics(phone.export(NOW))["step_count"]["data"]:
        t = datetime.strptime(entry["date"], DATE_24H)
        assert (t.minute, t.second) == (0, 0)
        assert t.utcoffset() == timedelta(hours=1)


def test_resend_of_previous_day_is_identical(phone: HaePhone) -> None:
    first = metrics(phone.export(NOW))
    later = metrics(HaePhone("phone-1", 7, TZ).export(NOW + timedelta(hours=3)))
    for name in METRIC_NAMES:
        a, b = by_date(first[name]), by_date(later[name])
        for date, entry in a.items():
            if date.startswith("2026-11-22") or date < "2026-11-23 14":
                assert b[date] == entry, (name, date)


def test_the_hour_still_filling_grows_between_sends(phone: HaePhone) -> None:
    early = by_date(metrics(phone.export(NOW))["step_count"])
    late = by_date(metrics(phone.export(NOW + timedelta(minutes=50)))["step_count"])
    key = "2026-11-23 14:00:00 +0100"
    assert early[key]["qty"] < late[key]["qty"]


def test_previous_day_is_resent_after_midnight(phone: HaePhone) -> None:
    export = metrics(phone.export(datetime(2026, 11, 24, 0, 5, tzinfo=TZ)))
    dates = {e["date"][:10] for e in export["heart_rate"]["data"]}
    assert dates == {"2026-11-23", "2026-11-24"}


def test_json_round_trip(phone: HaePhone) -> None:
    payload = phone.payload(NOW)
    assert json.loads(payload) == phone.export(NOW)


def test_twelve_hour_clock_dates_parse_to_the_same_times() -> None:
    h24 = metrics(HaePhone("p", 7, TZ).export(NOW))
    h12 = metrics(HaePhone("p", 7, TZ, ExportFormat(clock="12h")).export(NOW))
    a = [datetime.strptime(e["date"], DATE_24H) for e in h24["heart_rate"]["data"]]
    b = [datetime.strptime(e["date"], DATE_12H) for e in h12["heart_rate"]["data"]]
    assert a == b
    assert "2026-11-23 2:00:00 PM +0100" in {e["date"] for e in h12["heart_rate"]["data"]}
    assert "2026-11-23 12:00:00 AM +0100" in {e["date"] for e in h12["heart_rate"]["data"]}


def test_us_units_and_kilojoules_convert_back_to_the_metric_values() -> None:
    metric = metrics(HaePhone("p", 7, TZ).export(NOW))
    us = metrics(HaePhone("p", 7, TZ, ExportFormat(units="us", energy="kj")).export(NOW))
    checks = {"walking_running_distance": ("mi", 0.01), "walking_speed": ("mi/hr", 0.01),
              "walking_step_length": ("in", 0.05), "active_energy": ("kJ", 0.1)}
    for name, (unit, tol) in checks.items():
        assert us[name]["units"] == unit
        for date, entry in by_date(us[name]).items():
            canonical = METRICS[CATALOGUE[name]].to_canonical(entry["qty"], unit)
            assert canonical == pytest.approx(by_date(metric[name])[date]["qty"], abs=tol)


def test_same_seed_same_export_other_seed_differs() -> None:
    assert HaePhone("p", 3, TZ).payload(NOW) == HaePhone("p", 3, TZ).payload(NOW)
    assert HaePhone("p", 3, TZ).payload(NOW) != HaePhone("p", 4, TZ).payload(NOW)


def test_export_times_are_hourly() -> None:
    phone = HaePhone("p", 7, TZ)
    times = phone.export_times(NOW, NOW + timedelta(hours=5))
    assert len(times) == 5
    assert all(b - a == timedelta(hours=1) for a, b in pairwise(times))


def test_daylight_saving_days_have_23_and_25_hourly_buckets() -> None:
    phone = HaePhone("p", 7, TZ)
    spring = metrics(phone.export(datetime(2026, 3, 30, 0, 30, tzinfo=TZ)))["heart_rate"]["data"]
    autumn = metrics(phone.export(datetime(2026, 10, 26, 0, 30, tzinfo=TZ)))["heart_rate"]["data"]
    assert sum(e["date"].startswith("2026-03-29") for e in spring) == 23
    assert sum(e["date"].startswith("2026-10-25") for e in autumn) == 25
    assert len({e["date"] for e in autumn}) == len(autumn)  # +0200 and +0100 keep them apart
