"""The metric catalogue: conversions, ranges, and agreement with the proto enum."""

from __future__ import annotations

import math

import pytest

from vigil.core import catalogue
from vigil.v1 import telemetry_pb2


def test_every_proto_metric_is_in_the_catalogue():
    names = [v.name.removeprefix("METRIC_").lower()
             for v in telemetry_pb2.Metric.DESCRIPTOR.values if v.number]
    assert [n for n in names if n not in catalogue.METRICS] == []


def test_required_metrics_exist():
    required = {"heart_rate", "resting_heart_rate", "heart_rate_min", "heart_rate_max", "spo2",
                "glucose", "respiratory_rate", "body_temperature", "blood_pressure_systolic",
                "blood_pressure_diastolic", "steps", "active_energy", "resting_energy",
                "walking_speed", "walking_step_length", "walking_asymmetry",
                "walking_double_support", "flights_climbed", "headphone_audio_exposure",
                "walking_running_distance", "sleep_total", "signal_quality", "battery"}
    assert required <= catalogue.METRICS.keys()


@pytest.mark.parametrize(("metric", "value", "unit", "expected"), [
    ("glucose", 5.5, "mmol<180.1558800000541>/L", 99.085734),
    ("glucose", 5.5, "mmol/L", 99.085734),
    ("glucose", 99, "mg/dL", 99.0),
    ("body_temperature", 98.6, "degF", 37.0),
    ("active_energy", 418.4, "kJ", 100.0),
    ("walking_speed", 3.0, "mi/hr", 4.828032),
    ("walking_step_length", 30, "in", 76.2),
    ("walking_running_distance", 1500, "m", 1.5),
    ("sleep_deep", 90, "min", 1.5),
    ("heart_rate", 60, "count/min", 60.0),
])
def test_conversions_to_canonical_units(metric, value, unit, expected):
    assert catalogue.get(metric).to_canonical(value, unit) == pytest.approx(expected, abs=1e-6)


@pytest.mark.parametrize(("metric", "value"), [
    ("heart_rate", 19.9), ("heart_rate", 300.1), ("spo2", 101), ("glucose", 9),
    ("glucose", math.nan), ("steps", -1), ("battery", math.inf),
])
def test_out_of_range_values_are_refused(metric, value):
    with pytest.raises(catalogue.RangeError):
        catalogue.get(metric).to_canonical(value, None)


def test_boundaries_are_inclusive():
    assert catalogue.get("heart_rate").to_canonical(20, "bpm") == 20
    assert catalogue.get("heart_rate").to_canonical(300, "bpm") == 300


def test_unknown_unit_and_metric_name_what_is_wrong():
    with pytest.raises(catalogue.UnitError, match="'furlong/fortnight'"):
        catalogue.get("walking_speed").to_canonical(1, "furlong/fortnight")
    with pytest.raises(catalogue.UnknownMetricError, match="'mood'"):
        catalogue.get("mood")
