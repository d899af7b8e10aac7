"""Threshold rules: levels, boundaries, hysteresis, `for`, duplicates, late readings, skew."""

from __future__ import annotations

from services.rules.tests.rules_testkit import at, engine, events, feed
from vigil.rules.state import Reading

LOW = """
rules:
  - name: glucose-low
    metric: glucose
    hysteresis: 5
    levels:
      - {severity: high, below: 70}
      - {severity: critical, below: 54}
"""


def test_levels_escalate_and_clear_with_hysteresis():
    e = engine(LOW)
    ts = feed(e, "glucose", [(0, 80), (5, 70), (10, 69), (15, 53), (20, 54), (25, 74), (30, 75),
                             (35, 69)])
    assert events(ts) == [
        ("glucose-low", "firing", 10, "high"),
        ("glucose-low", "escalated", 15, "critical"),
        ("glucose-low", "resolved", 30, "critical"),
        ("glucose-low", "firing", 35, "high"),
    ]
    assert ts[0].alert_id == ts[1].alert_id == ts[2].alert_id != ts[3].alert_id
    assert ts[0].value == 69
    assert ts[0].thresholds["levels"][0] == {"below": 70.0, "severity": "high"}
    assert ts[0].inputs["value"] == 69
    assert ts[0].rule_version == e.rules.rules[0].version


def test_first_reading_can_fire_at_critical_directly():
    e = engine(LOW)
    assert events(feed(e, "glucose", [(0, 40)])) == [("glucose-low", "firing", 0, "critical")]


def test_for_duration_must_hold_continuously():
    e = engine("rules:\n  - {name: spo2-low, metric: spo2, for: 15s, below: 92, "
               "severity: high}\n")
    sec = [(s / 60, v) for s, v in [(0, 91), (5, 91), (10, 93), (15, 91), (20, 91), (25, 91),
                                    (30, 91), (35, 91)]]
    assert events(feed(e, "spo2", sec)) == [("spo2-low", "firing", 0.5, "high")]


def test_duplicates_do_not_fire_twice_and_alert_ids_are_deterministic():
    e1, e2 = engine(LOW), engine(LOW)
    seq = [(0, 80), (5, 60), (5, 60), (10, 60), (10, 60), (5, 60)]
    a = feed(e1, "glucose", seq)
    b = feed(e2, "glucose", [(0, 80), (5, 60), (10, 60)])
    assert events(a) == events(b) == [("glucose-low", "firing", 5, "high")]
    assert a[0].alert_id == b[0].alert_id
    assert e1.duplicates == 2


def test_late_reading_never_moves_time_back_and_latest_value_wins():
    e = engine(LOW)
    assert feed(e, "glucose", [(10, 80), (5, 50)]) == []
    assert e.patient("p1").watermark_ms == at(10)


def test_batch_in_any_order_is_sorted_by_event_time():
    e = engine(LOW)
    batch = [Reading(at(m), "glucose", v, "d1") for m, v in [(10, 60), (0, 80), (5, 65)]]
    assert events(e.process("p1", batch, at(10))) == [("glucose-low", "firing", 5, "high")]


def test_device_clock_far_ahead_is_ignored():
    e = engine(LOW)
    assert feed(e, "glucose", [(60, 40)], wall=54.9) == []
    assert e.skewed == 1
    assert events(feed(e, "glucose", [(60, 40)], wall=55)) == [
        ("glucose-low", "firing", 60, "critical")]


def test_max_age_makes_an_old_value_unknown_not_false():
    e = engine("rules:\n  - {name: hr, metric: heart_rate, max_age: 5m, above: 130, "
               "severity: high}\n  - {name: sp, metric: spo2, below: 90, severity: high}\n")
    assert events(feed(e, "heart_rate", [(0, 140)])) == [("hr", "firing", 0, "high")]
    # An unrelated metric does not evaluate the heart-rate rule; the alert stays open.
    assert feed(e, "spo2", [(20, 97)]) == []
    assert e.patient("p1").alerts["hr"].firing


def test_patients_are_independent():
    e = engine(LOW)
    a = feed(e, "glucose", [(0, 60)], patient="a")
    b = feed(e, "glucose", [(0, 60)], patient="b")
    assert a[0].alert_id != b[0].alert_id
    assert (a[0].patient_id, b[0].patient_id) == ("a", "b")
