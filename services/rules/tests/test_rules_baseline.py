"""Deviation from the patient's own baseline (robust z-score over hourly buckets)."""

from __future__ import annotations

import pytest

from services.rules.tests.rules_testkit import engine, events, feed

RULE = """
rules:
  - {name: hr-baseline, kind: baseline, metric: heart_rate, lookback: 7d, bucket: 1h,
     min_points: 24, severity: info, hysteresis: 1, above: 4}
"""


def history(hours: int) -> list[tuple[float, float]]:
    """Every 10 minutes; 59 bpm in even hours, 61 in odd ones (median 60, MAD 1)."""
    return [(h * 60 + m, 59.0 if h % 2 == 0 else 61.0) for h in range(hours)
            for m in range(0, 60, 10)]


def test_fires_when_the_hour_mean_leaves_the_baseline():
    e = engine(RULE)
    assert feed(e, "heart_rate", history(73)) == []
    ts = feed(e, "heart_rate", [(73 * 60, 100), (73 * 60 + 10, 100)])
    # 73:00: window mean (5 x 59 + 100) / 6 = 65.83, z = 5.83 / 1.4826 = 3.93: not yet.
    # 73:10: (4 x 59 + 2 x 100) / 6 = 72.67, z = 8.54.
    assert events(ts) == [("hr-baseline", "firing", 73 * 60 + 10, "info")]
    assert ts[0].inputs["centre"] == 60
    assert ts[0].inputs["spread"] == pytest.approx(1.4826)
    assert ts[0].inputs["buckets"] == 72


def test_unknown_until_enough_history():
    e = engine(RULE)
    assert feed(e, "heart_rate", [*history(20), (20 * 60, 200)]) == []


def test_raw_readings_are_trimmed_but_rollups_kept():
    e = engine(RULE)
    feed(e, "heart_rate", history(73))
    s = e.patient("p1").series["heart_rate"]
    assert len(s) <= 6 + 7  # one hour of raw readings plus the margin
    assert len(s.rollups[3_600_000]) == 73
