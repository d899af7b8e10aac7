"""The first user's rule, exactly: glucose > 115 mg/dL OR 10-minute rolling average > 105."""

from __future__ import annotations

from pathlib import Path

from services.rules.tests.rules_testkit import engine, events, feed
from vigil.rules.load import load_file

RULE = """
rules:
  - name: glucose-elevated
    severity: warning
    any:
      - {kind: threshold, metric: glucose, above: 115}
      - {kind: window, metric: glucose, agg: avg, window: 10m, above: 105}
"""


def test_average_branch_fires_window_is_open_at_its_start():
    e = engine(RULE)
    ts = feed(e, "glucose", [(0, 100), (5, 110), (10, 110), (15, 100)])
    # 5: avg(100, 110) = 105 is not > 105. 10: the 0-minute reading has left (t-10, t]:
    # avg(110, 110) = 110 > 105. 15: avg(110, 100) = 105, and 100 <= 115: resolved.
    assert events(ts) == [("glucose-elevated", "firing", 10, "warning"),
                          ("glucose-elevated", "resolved", 15, "warning")]
    branches = ts[0].inputs["branches"]
    assert [b["met"] for b in branches] == [False, True]
    assert branches[1]["value"] == 110
    assert branches[1]["count"] == 2
    assert ts[0].metric == "glucose"
    assert ts[0].value == 110


def test_value_branch_fires_and_average_keeps_it_open():
    e = engine(RULE)
    ts = feed(e, "glucose", [(0, 90), (5, 90), (10, 115), (15, 116), (20, 115), (25, 90)])
    # 10: 115 is not > 115 and avg(90, 115) = 102.5. 15: 116 > 115 fires.
    # 20: 115, avg(116, 115) = 115.5 > 105 holds. 25: avg(115, 90) = 102.5: resolved.
    assert events(ts) == [("glucose-elevated", "firing", 15, "warning"),
                          ("glucose-elevated", "resolved", 25, "warning")]
    assert [b["met"] for b in ts[0].inputs["branches"]] == [True, True]


def test_single_high_reading_fires_at_once():
    e = engine(RULE)
    assert events(feed(e, "glucose", [(0, 80), (5, 80), (10, 115.5)])) == [
        ("glucose-elevated", "firing", 10, "warning")]


def test_all_composite_needs_every_branch():
    text = RULE.replace("any:", "all:")
    e = engine(text)
    ts = feed(e, "glucose", [(0, 120), (5, 100), (10, 116), (15, 100)])
    # 0: 120 > 115 and avg 120 > 105. 5: 100 fails the first branch. 10: 116, avg 108: both.
    assert events(ts) == [("glucose-elevated", "firing", 0, "warning"),
                          ("glucose-elevated", "resolved", 5, "warning"),
                          ("glucose-elevated", "firing", 10, "warning"),
                          ("glucose-elevated", "resolved", 15, "warning")]


def test_the_default_rule_file_carries_the_rule_verbatim():
    repo = Path(__file__).resolve().parents[3]
    rule = next(r for r in load_file(repo / "infra/rules/default-rules.yaml")
                if r.name == "glucose-elevated")
    mine = engine(RULE).rules.rules[0]
    assert rule.any == mine.any
    assert rule.severity == mine.severity


def test_window_counts_a_redelivered_reading_once_and_takes_late_ones():
    e = engine(RULE)
    # 110 at 5 is delivered three times: the average stays (100 + 110) / 2 = 105, no alert.
    assert feed(e, "glucose", [(0, 100), (5, 110), (5, 110), (5, 110)]) == []
    # A late reading (at 3) joins the window: avg(100, 130, 110) = 113.3 > 105, evaluated at 5.
    ts = feed(e, "glucose", [(3, 130)])
    assert events(ts) == [("glucose-elevated", "firing", 5, "warning")]
    assert ts[0].inputs["branches"][1]["count"] == 3


def test_a_gap_empties_the_window_and_the_alert_waits():
    e = engine(RULE.replace("{kind: threshold, metric: glucose, above: 115}",
                            "{kind: threshold, metric: glucose, above: 115, max_age: 5m}"))
    assert events(feed(e, "glucose", [(0, 120)])) == [("glucose-elevated", "firing", 0,
                                                       "warning")]
    # 60 minutes later: the old reading left both branches; the new one decides.
    assert events(feed(e, "glucose", [(60, 100)])) == [("glucose-elevated", "resolved", 60,
                                                        "warning")]
