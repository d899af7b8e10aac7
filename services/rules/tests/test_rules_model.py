"""Rule file validation: every problem names the file, the rule and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.rules.load import RuleError, load_file, parse_rules
from vigil.rules.model import parse_duration

REPO = Path(__file__).resolve().parents[3]


def problems(text: str) -> list[str]:
    with pytest.raises(RuleError) as info:
        parse_rules(text, "rules.yaml")
    return info.value.problems


def test_default_rule_file_is_valid_and_packaged_copy_is_identical():
    infra = REPO / "infra" / "rules" / "default-rules.yaml"
    packaged = REPO / "services/rules/src/vigil/rules/default_rules.yaml"
    assert infra.read_text() == packaged.read_text()
    names = [r.name for r in load_file(infra)]
    assert "glucose-elevated" in names
    assert [r.name for r in load_file(None)] == names


@pytest.mark.parametrize(("text", "expected"), [
    ("rules:\n  - name: x\n    metric: glucose\n    above: abc\n    severity: high\n",
     "rules.yaml: rule 'x' (rules[0]): field 'levels[0].above': Input should be a valid number"),
    ("rules:\n  - name: x\n    metric: glucoze\n    above: 1\n    severity: high\n",
     "rules.yaml: rule 'x' (rules[0]): field 'metric': unknown metric 'glucoze'"),
    ("rules:\n  - name: x\n    metric: glucose\n    above: 1\n",
     "rules.yaml: rule 'x' (rules[0]): field 'levels[0].severity'"),
    ("rules:\n  - name: x\n    kind: window\n    metric: glucose\n    above: 1\n"
     "    severity: high\n", "field 'kind': kind 'window' needs field 'agg'"),
    ("rules:\n  - name: x\n    metric: glucose\n    for: soon\n    above: 1\n"
     "    severity: high\n", "field 'for': 'soon' is not a duration"),
    ("rules:\n  - name: x\n    metric: glucose\n    above: 1\n    severity: high\n"
     "    colour: red\n", "field 'colour': Extra inputs are not permitted"),
    ("rules:\n  - name: x\n    severity: high\n    any:\n      - {metric: glucose}\n",
     "rules.yaml: rule 'x' (rules[0]): field 'any[0]': give exactly one of"),
    ("rules:\n  - name: x\n    metric: glucose\n    above: 1\n    below: 2\n    severity: high\n",
     "give exactly one of above/below/at_least/at_most"),
    ("rules:\n  - metric: glucose\n    above: 1\n    severity: high\n",
     "rules.yaml: rules[0]: field 'name': Field required"),
    ("rules: [1]\n", "rules.yaml: rules[0]: field '(rule)'"),
    ("rules:\n  - {name: a, metric: glucose, above: 1, severity: high}\n"
     "  - {name: a, metric: glucose, above: 2, severity: high}\n",
     "rules.yaml: rule 'a' (rules[1]): field 'name': duplicate rule name 'a'"),
    ("version: 2\n", "rules.yaml: field 'version'"),
    ("rules: {\n", "rules.yaml: not valid YAML"),
    ("rules:\n  - {name: a, kind: news2, metric: spo2, at_least: 5, severity: high}\n",
     "field 'metric' does not apply to kind 'news2'"),
    ("rules:\n  - {name: a, kind: threshold, metric: spo2, horizon: 5m, below: 5, "
     "severity: high}\n", "field 'horizon' does not apply to kind 'threshold'"),
])
def test_errors_name_file_rule_and_field(text, expected):
    found = problems(text)
    assert any(expected in p for p in found), found


def test_every_problem_is_reported_at_once():
    text = ("rules:\n  - {name: a, metric: nope, above: 1, severity: high}\n"
            "  - {name: b, metric: glucose, above: x, severity: high}\n")
    found = problems(text)
    assert len(found) == 2
    assert "rule 'a'" in found[0]
    assert "rule 'b'" in found[1]


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(RuleError, match=r"nothere\.yaml: cannot read"):
        load_file(tmp_path / "nothere.yaml")


def test_shorthand_and_stale_levels():
    rules = parse_rules("rules:\n  - {name: s, kind: stale, metric: spo2, expected: 5m}\n"
                        "  - {name: t, metric: spo2, below: 90, severity: critical}\n", "f")
    assert rules[0].levels[0].above == 300
    assert rules[0].levels[0].severity == "warning"
    assert rules[1].levels[0].below == 90
    assert rules[1].levels[0].severity == "critical"


@pytest.mark.parametrize(("value", "seconds"), [
    (90, 90.0), ("90s", 90.0), ("10m", 600.0), ("2h", 7200.0), ("7d", 604800.0),
    ("1.5m", 90.0), ("250ms", 0.25)])
def test_durations(value, seconds):
    assert parse_duration(value) == seconds


def test_version_changes_with_thresholds_only():
    a = parse_rules("rules:\n  - {name: a, metric: spo2, below: 90, severity: high}\n", "f")[0]
    b = parse_rules("rules:\n  - {name: a, metric: spo2, below: 91, severity: high}\n", "f")[0]
    assert a.version != b.version
    assert len(a.version) == 12
