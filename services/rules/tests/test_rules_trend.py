"""Rate of change and predicted crossing (linear and AR2)."""

from __future__ import annotations

import pytest

from services.rules.tests.rules_testkit import engine, events, feed
from vigil.rules.kinds.trend import ar2_forecast

RATE = """
rules:
  - {name: falling, kind: rate, metric: glucose, lookback: 15m, min_points: 3,
     severity: warning, below: -1.5}
"""
PREDICT = """
rules:
  - {name: predicted-low, kind: predict, metric: glucose, lookback: 20m, horizon: 20m,
     min_points: 3, severity: high, below: 70}
"""


def test_rate_fires_on_the_third_point_and_a_gap_is_unknown():
    e = engine(RATE)
    ts = feed(e, "glucose", [(0, 100), (5, 90), (10, 80), (60, 85), (65, 86), (70, 87)])
    # 5: two points are not enough. 10: slope -2/min. 60 and 65: fewer than 3 points in
    # (t-15, t]: unknown, the alert stays open. 70: slope +0.2/min: resolved.
    assert events(ts) == [("falling", "firing", 10, "warning"),
                          ("falling", "resolved", 70, "warning")]
    assert ts[0].trend_per_min == pytest.approx(-2.0)
    assert ts[0].inputs["points"] == 3


def test_rate_boundary_is_strict():
    e = engine(RATE)
    assert feed(e, "glucose", [(0, 100), (5, 92.5), (10, 85)]) == []  # exactly -1.5/min


def test_linear_prediction_crosses_exactly_at_the_boundary_then_below():
    e = engine(PREDICT)
    ts = feed(e, "glucose", [(0, 130), (5, 120), (10, 110), (15, 100)])
    # 10: fitted 110 - 2/min x 20 min = 70, not below 70. 15: 100 - 40 = 60.
    assert events(ts) == [("predicted-low", "firing", 15, "high")]
    assert ts[0].inputs["predicted"] == pytest.approx(60.0)
    assert ts[0].inputs["method"] == "linear"


def test_prediction_is_unknown_until_min_points():
    e = engine(PREDICT)
    assert feed(e, "glucose", [(0, 200), (5, 100)]) == []


def test_ar2_recovers_an_exact_ar2_process():
    xs = [100.0, 98.0]
    for _ in range(10):
        xs.append(20 + 0.9 * xs[-1] - 0.1 * xs[-2])
    expected = xs[-1], xs[-2]
    x1, x2 = expected
    for _ in range(4):
        x1, x2 = 20 + 0.9 * x1 - 0.1 * x2, x1
    assert ar2_forecast(xs, 4) == pytest.approx(x1, abs=1e-6)


def test_ar2_prediction_follows_a_slowing_fall():
    text = PREDICT.replace("min_points: 3", "min_points: 5, method: ar2")
    e = engine(text)
    # A fall that halves each step levels off near 90: linear would cross 70, AR2 does not.
    vals = [(m * 5, 90 + 40 * 0.5 ** m) for m in range(6)]
    assert feed(e, "glucose", vals) == []
    lin = engine(PREDICT)
    assert events(feed(lin, "glucose", vals[:3])) == [("predicted-low", "firing", 10, "high")]
