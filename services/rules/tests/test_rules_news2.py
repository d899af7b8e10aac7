"""NEWS2 against the RCP chart: worked examples, every band boundary, scale 2, the rule."""

from __future__ import annotations

import pytest

from services.rules.tests.rules_testkit import at, engine, events
from vigil.rules.news2 import score, score_parameter
from vigil.rules.state import Reading

WORKED = {"respiratory_rate": 24, "spo2": 93, "blood_pressure_systolic": 105,
          "heart_rate": 115, "body_temperature": 38.5}


def test_worked_example_scores_8():
    s = score(WORKED)
    assert s.total == 8
    assert s.parts == {"respiratory_rate": 2, "spo2": 2, "blood_pressure_systolic": 1,
                       "heart_rate": 2, "body_temperature": 1, "oxygen": 0,
                       "consciousness": 0}
    assert s.missing == []
    assert s.risk == "high"


def test_normal_vitals_score_0_and_worst_case_scores_20():
    assert score({"respiratory_rate": 16, "spo2": 97, "blood_pressure_systolic": 120,
                  "heart_rate": 70, "body_temperature": 37.0}).total == 0
    worst = score({"respiratory_rate": 8, "spo2": 91, "blood_pressure_systolic": 90,
                   "heart_rate": 131, "body_temperature": 35.0}, oxygen=True, alert=False)
    assert worst.total == 20


def test_medium_risk_and_red_score():
    s = score({"respiratory_rate": 22, "spo2": 95, "heart_rate": 100, "body_temperature": 38.2})
    assert (s.total, s.risk) == (5, "medium")  # 2 + 1 + 1 + 1
    red = score({"heart_rate": 135, "spo2": 98})
    assert (red.total, red.red, red.risk) == (3, True, "low-medium")
    assert red.missing == ["respiratory_rate", "blood_pressure_systolic", "body_temperature"]


@pytest.mark.parametrize(("metric", "bands"), [
    ("respiratory_rate", [(8, 3), (9, 1), (11, 1), (12, 0), (20, 0), (21, 2), (24, 2), (25, 3)]),
    ("spo2", [(91, 3), (92, 2), (93, 2), (94, 1), (95, 1), (96, 0), (100, 0)]),
    ("blood_pressure_systolic", [(90, 3), (91, 2), (100, 2), (101, 1), (110, 1), (111, 0),
                                 (219, 0), (220, 3)]),
    ("heart_rate", [(40, 3), (41, 1), (50, 1), (51, 0), (90, 0), (91, 1), (110, 1), (111, 2),
                    (130, 2), (131, 3)]),
    ("body_temperature", [(35.0, 3), (35.1, 1), (36.0, 1), (36.1, 0), (38.0, 0), (38.1, 1),
                          (39.0, 1), (39.1, 2)]),
])
def test_every_band_boundary(metric, bands):
    assert [(v, score_parameter(metric, v)) for v, _ in bands] == bands


def test_values_are_read_as_the_chart_rounds_them():
    assert score_parameter("heart_rate", 90.4) == 0
    assert score_parameter("heart_rate", 90.5) == 1
    assert score_parameter("body_temperature", 38.04) == 0
    assert score_parameter("body_temperature", 38.05) == 1


@pytest.mark.parametrize(("spo2", "oxygen", "points"), [
    (83, False, 3), (84, False, 2), (86, False, 1), (88, False, 0), (93, False, 0),
    (97, False, 0), (92, True, 0), (93, True, 1), (95, True, 2), (97, True, 3)])
def test_spo2_scale_2(spo2, oxygen, points):
    assert score_parameter("spo2", spo2, spo2_scale=2, oxygen=oxygen) == points


RULE = """
rules:
  - name: news2
    kind: news2
    max_age: 1h
    min_points: 2
    levels:
      - {severity: high, at_least: 5}
      - {severity: critical, at_least: 7}
"""


def test_rule_fires_critical_with_score_parts_and_missing_inputs_stored():
    e = engine(RULE)
    batch = [Reading(at(0), m, v, "d1") for m, v in WORKED.items() if m != "body_temperature"]
    ts = e.process("p1", batch, at(0))
    # 2 + 2 + 1 + 2 = 7 once all four are in (they are evaluated one by one, in order).
    assert events(ts)[-1][1:] in [("firing", 0, "critical"), ("escalated", 0, "critical")]
    final = ts[-1]
    assert final.inputs["score"] == 7
    assert final.inputs["missing"] == ["body_temperature"]
    assert final.inputs["assumed"] == {"consciousness": "alert", "oxygen": "air"}
    assert final.metric == "news2"


def test_inputs_older_than_max_age_are_missing():
    e = engine(RULE)
    assert e.process("p1", [Reading(at(0), "heart_rate", 135, "d"),
                            Reading(at(0), "spo2", 91, "d")], at(0))  # 3 + 3 = 6: high
    ts = e.process("p1", [Reading(at(61), "spo2", 91, "d")], at(61))
    assert ts == []  # heart rate is now too old: one input, unknown, the alert stays
    assert e.patient("p1").alerts["news2"].firing
