"""`python -m vigil.rules` against the real broker, PostgreSQL and a running ingest process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.helpers import publish_all
from tests.integration.test_rules_support import T0, collecting, glucose_series, rules_process
from vigil.core import topics
from vigil.v1 import alerts_pb2

pytestmark = pytest.mark.integration
LOW_RULES = """
version: 1
rules:
  - name: glucose-low
    metric: glucose
    hysteresis: 5
    levels:
      - {severity: high, below: 70}
      - {severity: critical, below: 54}
  - name: glucose-elevated
    severity: warning
    any:
      - {kind: threshold, metric: glucose, above: 115}
      - {kind: window, metric: glucose, agg: avg, window: 10m, above: 105}
"""


def _metrics(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return r.read().decode()


def test_starts_with_the_packaged_default_rules_and_is_ready_quickly(stack):
    proc = rules_process(stack)
    started = time.monotonic()
    proc.start(timeout=30)
    assert time.monotonic() - started < 30
    body = proc.wait_ready()
    assert body["status"] == "ok"
    assert body["shards"] == 16
    assert "vigil_rules_rules_loaded 12.0" in _metrics(proc.port)


def test_low_glucose_fires_escalates_resolves_and_is_acknowledged(stack, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(LOW_RULES)
    patient = stack.add_device("gm-1", "glucose_meter")
    proc = rules_process(stack, rules_file=rules)
    proc.start()
    with collecting(stack.mqtt_url) as alerts:
        publish_all(stack.mqtt_url, glucose_series("gm-1", [80, 69, 53, 60, 76, 90]))
        assert stack.wait_count("SELECT count(*) FROM alerts WHERE state = 'resolved'", 1) == 1
        events = alerts.wait(3)
    rows = stack.fetch("SELECT rule, severity, state, started_at, resolved_at, rule_version,"
                       " inputs, thresholds, value, unit, device_id, history FROM alerts")
    assert len(rows) == 1
    rule, severity, state, started, resolved, version, inputs, thresholds, value, unit, dev, \
        history = rows[0]
    assert (rule, severity, state, value, unit, dev) == (
        "glucose-low", "critical", "resolved", 53.0, "mg/dL", "gm-1")
    assert started == T0.replace(minute=5)
    assert resolved == T0.replace(minute=20)
    assert len(version) == 12
    assert json.loads(inputs)["value"] == 69
    assert json.loads(thresholds)["levels"][1] == {"below": 54.0, "severity": "critical"}
    assert [h["kind"] for h in json.loads(history)] == ["escalated", "resolved"]
    assert [(e.rule, e.state, e.severity) for e in events] == [
        ("glucose-low", alerts_pb2.ALERT_STATE_FIRING, alerts_pb2.SEVERITY_HIGH),
        ("glucose-low", alerts_pb2.ALERT_STATE_FIRING, alerts_pb2.SEVERITY_CRITICAL),
        ("glucose-low", alerts_pb2.ALERT_STATE_RESOLVED, alerts_pb2.SEVERITY_CRITICAL)]
    assert {e.alert_id for e in events} == {stack.fetch("SELECT alert_id FROM alerts")[0][0]}
    assert events[0].patient_id == patient
    # The outbox flags are cleared once the broker acked the events (batched, within ~0.2 s).
    assert stack.wait_count("SELECT count(*) FROM alerts WHERE pending_publish", 0, 5) == 0
    ack = alerts_pb2.AlertAck(alert_id=events[0].alert_id, patient_id=patient, by="nurse-7",
                              at_ms=1_700_000_000_000, channel="mqtt")
    publish_all(stack.mqtt_url, [(topics.ACKS, ack.SerializeToString())])
    assert stack.wait_count("SELECT count(*) FROM alerts WHERE acked_by = 'nurse-7'", 1) == 1
    assert 'vigil_rules_alerts_total{rule="glucose-low",severity="high",state="firing"} 1.0' \
        in _metrics(proc.port)


def test_first_users_rule_end_to_end(stack, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(LOW_RULES)
    stack.add_device("gm-2", "glucose_meter")
    rules_process(stack, rules_file=rules).start()
    publish_all(stack.mqtt_url, glucose_series("gm-2", [100, 110, 110, 100]))
    assert stack.wait_count("SELECT count(*) FROM alerts WHERE state = 'resolved'", 1) == 1
    rows = stack.fetch("SELECT rule, started_at, resolved_at FROM alerts")
    assert rows == [("glucose-elevated", T0.replace(minute=10), T0.replace(minute=15))]


def test_bad_rule_file_at_start_exits_2_naming_file_rule_and_field(stack, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - {name: x, metric: glucose, above: high, severity: high}\n")
    env = {**stack.env, "VIGIL_RULES_FILE": str(bad), "VIGIL_RULES_HTTP_PORT": "0"}
    done = subprocess.run([sys.executable, "-m", "vigil.rules"], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert f"rule error: {bad}: rule 'x' (rules[0]): field 'levels[0].above'" in done.stderr


def test_bad_rule_file_on_reload_keeps_the_running_rules(stack, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(LOW_RULES)
    stack.add_device("gm-3", "glucose_meter")
    proc = rules_process(stack, rules_file=rules)
    proc.start()
    rules.write_text("rules: [{name: broken}]\n")
    deadline = time.monotonic() + 10
    while "vigil_rules_rule_file_errors_total 1.0" not in _metrics(proc.port):
        assert time.monotonic() < deadline, "the bad file was not noticed"
        time.sleep(0.2)
    publish_all(stack.mqtt_url, glucose_series("gm-3", [50]))
    assert stack.wait_count("SELECT count(*) FROM alerts WHERE rule = 'glucose-low'", 1) == 1
    assert proc.running()
