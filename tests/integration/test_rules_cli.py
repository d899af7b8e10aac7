"""`vigil rules check|list|backtest` and per-patient overrides in a running service."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.helpers import publish_all
from tests.integration.test_rules_support import T0, glucose_series, rules_process
from vigil.cli.rules_cmd import app

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _env(stack) -> dict[str, str]:
    return {"VIGIL_DATABASE_URL": stack.database_url, "VIGIL_MQTT_URL": stack.mqtt_url}


def test_check_accepts_the_default_file_and_names_every_problem(tmp_path):
    ok = runner.invoke(app, ["check", str(ROOT / "infra/rules/default-rules.yaml")])
    assert ok.exit_code == 0
    assert "ok, 12 rules" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - {name: a, metric: glucoze, above: 1, severity: high}\n"
                   "  - {name: b, kind: window, metric: glucose, above: 1, severity: high}\n")
    out = runner.invoke(app, ["check", str(bad)])
    assert out.exit_code == 1
    assert f"{bad}: rule 'a' (rules[0]): field 'metric': unknown metric 'glucoze'" in \
        out.output.replace("\n", "")
    assert "rule 'b' (rules[1]): field 'kind': kind 'window' needs field 'agg'" in \
        out.output.replace("\n", "")


def test_list_shows_overrides_and_the_service_applies_them(stack):
    patient = stack.add_device("gm-o", "glucose_meter")
    other = stack.add_device("gm-n", "glucose_meter")
    stack.fetch("INSERT INTO rule_overrides (patient_id, rule, params) VALUES ($1, 'glucose-low',"
                " $2::jsonb), ($1, 'glucose-elevated', '{}')", patient,
                json.dumps({"levels": [{"severity": "warning", "below": 80}]}))
    stack.fetch("UPDATE rule_overrides SET enabled = false WHERE rule = 'glucose-elevated'")
    out = runner.invoke(app, ["list", "--patient", patient], env=_env(stack))
    assert out.exit_code == 0, out.output
    assert "glucose-low" in out.output
    assert "warning: < 80" in out.output
    assert "disabled for this" in out.output
    rules_process(stack).start()
    publish_all(stack.mqtt_url, glucose_series("gm-o", [75]) + glucose_series("gm-n", [75]))
    assert stack.wait_count("SELECT count(*) FROM alerts", 1) == 1
    rows = stack.fetch("SELECT patient_id, rule, severity FROM alerts")
    assert rows == [(patient, "glucose-low", "warning")]
    assert other != patient


def test_backtest_prints_when_the_rule_would_have_fired(stack):
    stack.add_device("gm-b", "glucose_meter")
    publish_all(stack.mqtt_url, glucose_series("gm-b", [100, 110, 110, 100, 120, 90]))
    assert stack.wait_count("SELECT count(*) FROM readings", 6) == 6
    out = runner.invoke(app, ["backtest", "--rule", "glucose-elevated", "--patient", "p-gm-b",
                              "--from", T0.isoformat(), "--to",
                              T0.replace(hour=9).isoformat()], env=_env(stack))
    assert out.exit_code == 0, out.output
    text = out.output
    assert "6 readings replayed, 4 transitions" in text
    assert text.index("08:10:00") < text.index("08:15:00") < text.index("08:20:00")
    bad = runner.invoke(app, ["backtest", "--rule", "nope", "--patient", "p-gm-b", "--from",
                              T0.isoformat(), "--to", T0.replace(hour=9).isoformat()],
                        env=_env(stack))
    assert bad.exit_code == 1
    assert "no rule 'nope'" in bad.output
