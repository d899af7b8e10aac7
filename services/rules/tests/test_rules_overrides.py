"""Per-patient overrides laid over global rules; rule set swaps resolve orphaned alerts."""

from __future__ import annotations

import pytest

from services.rules.tests.rules_testkit import events, feed
from vigil.rules.load import RuleError, apply_override, parse_rules
from vigil.rules.ruleset import Override, RuleSet
from vigil.rules.state import Engine

GLOBAL = parse_rules("""
rules:
  - name: glucose-low
    metric: glucose
    hysteresis: 5
    levels:
      - {severity: high, below: 70}
      - {severity: critical, below: 54}
  - {name: spo2-low, metric: spo2, below: 92, severity: high}
""", "global.yaml")


def test_override_replaces_levels_for_one_patient_only():
    rs = RuleSet(GLOBAL, [Override("p1", "glucose-low", True, {"below": 80,
                                                               "severity": "warning"})])
    e = Engine(rs)
    assert events(feed(e, "glucose", [(0, 75)], patient="p1")) == [
        ("glucose-low", "firing", 0, "warning")]
    assert feed(e, "glucose", [(0, 75)], patient="p2") == []
    mine = next(r for r in rs.effective_rules("p1") if r.name == "glucose-low")
    assert mine.hysteresis == 5  # what the override does not say is kept
    assert mine.version != GLOBAL[0].version


def test_disabled_override_and_patient_only_rule():
    rs = RuleSet(GLOBAL, [Override("p1", "spo2-low", False),
                          Override("p1", "hr-high", True, {"metric": "heart_rate",
                                                           "above": 120, "severity": "high"})])
    names = [r.name for r in rs.effective_rules("p1")]
    assert names == ["glucose-low", "hr-high"]
    assert [r.name for r in rs.effective_rules("p2")] == ["glucose-low", "spo2-low"]


def test_invalid_override_keeps_the_global_rule():
    rs = RuleSet(GLOBAL, [Override("p1", "glucose-low", True, {"below": "low"})])
    assert rs.effective_rules("p1")[0] == GLOBAL[0]
    with pytest.raises(RuleError, match=r"override for patient 'p1': rule 'glucose-low'"):
        apply_override(GLOBAL[0], "p1", "glucose-low", {"below": "low"})


def test_removing_a_rule_resolves_its_open_alerts():
    e = Engine(RuleSet(GLOBAL))
    fired = feed(e, "glucose", [(0, 60)])
    ts = e.set_rules(RuleSet(GLOBAL[1:]))
    assert [(t.kind, t.alert_id) for t in ts] == [("resolved", fired[0].alert_id)]
    assert "rule removed" in ts[0].summary
