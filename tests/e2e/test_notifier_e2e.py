"""A glucose meter's urgent-low reading, end to end through the real processes: device JSON ->
ingest -> rules -> AlertEvent -> notifier -> the on-call webhook, with a signed ack link that
acknowledges the alert everywhere; the recovery reading sends the resolve message."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from typing import Any

import pytest

from tests.helpers import publish_all
from tests.integration.test_notifier_support import webhook
from tests.integration.test_rules_support import glucose_series, rules_process
from vigil.cli.processes import ServiceProcess
from vigil.cli.servers import free_port

pytestmark = pytest.mark.e2e
RULES = """
version: 1
rules:
  - name: glucose-low
    description: Hypoglycaemia (urgent below 54 mg/dL)
    metric: glucose
    hysteresis: 5
    levels:
      - {severity: high, below: 70}
      - {severity: critical, below: 54}
"""
ROUTING = """
receivers:
  ward: ['json://127.0.0.1:{port}/ward']
  oncall: ['json://127.0.0.1:{port}/oncall']
route:
  receiver: ward
  group_wait: 5m
  routes:
    - name: urgent
      match: {{severity: critical}}
      receiver: oncall
      group_by: [alert_id]
      group_wait: 0s
      group_interval: 1s
"""


def notifier_process(stack: Any, routing: str, tmp: Any) -> ServiceProcess:
    (tmp / "routing.yaml").write_text(routing)
    port = free_port()
    client_id = f"notifier-{uuid.uuid4().hex[:8]}"
    proc = ServiceProcess("notifier", stack.ingest.home, "vigil.notifier", {
        **stack.env, "VIGIL_NOTIFIER_ROUTING_FILE": str(tmp / "routing.yaml"),
        "VIGIL_NOTIFIER_HTTP_PORT": str(port), "VIGIL_NOTIFIER_CLIENT_ID": client_id,
        "VIGIL_NOTIFIER_ACK_SECRET": "e2e-secret-0123456789abcdef",
        # The stack forgets sessions by this name at teardown.
        "VIGIL_INGEST_CLIENT_ID": client_id}, port)
    stack.extra.append(proc)
    return proc


def test_urgent_low_reading_reaches_the_webhook_and_its_ack_link_acks(stack, tmp_path):
    patient = stack.add_device("gm-e2e", "glucose_meter")
    (tmp_path / "rules.yaml").write_text(RULES)
    rules = rules_process(stack, rules_file=tmp_path / "rules.yaml")
    rules.start()
    with webhook() as (port, hook):
        notifier = notifier_process(stack, ROUTING.format(port=port), tmp_path)
        notifier.start()
        readings = glucose_series("gm-e2e", [100, 92, 48, 45])
        sent = time.monotonic()
        publish_all(stack.mqtt_url, readings)
        deadline = time.monotonic() + 30
        while not hook.posts and time.monotonic() < deadline:
            time.sleep(0.01)
        took_ms = (time.monotonic() - sent) * 1000
        assert [p for p, _ in hook.posts] == ["/oncall"], hook.posts
        body = hook.posts[0][1]
        assert body["title"] == f"CRITICAL {patient}: Hypoglycaemia (urgent below 54 mg/dL)"
        assert body["type"] == "failure"
        lines = body["message"].splitlines()
        assert lines[0] == f"CRITICAL · patient {patient}"
        assert lines[1:3] == ["glucose 48 mg/dL", "Hypoglycaemia (urgent below 54 mg/dL)"]
        alert_id = stack.fetch("SELECT alert_id FROM alerts")[0][0]
        assert f"Ack id: {alert_id}" in lines
        link = next(line.removeprefix("Ack: ") for line in lines if line.startswith("Ack: "))
        print(f"reading publish -> webhook received: {took_ms:.0f} ms")  # noqa: T201

        # The link from the message acknowledges it: notifier, MQTT, and the rules' row.
        request = urllib.request.Request(link, data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as r:
            assert r.status == 200
        assert stack.wait_count(
            "SELECT count(*) FROM alerts WHERE acked_by = 'oncall'", 1) == 1
        assert stack.fetch("SELECT alert_id, acked_by, channel FROM notifier_acks") == [
            (alert_id, "oncall", "link")]

        publish_all(stack.mqtt_url, glucose_series("gm-e2e", [82], start=_after(readings, 4)))
        deadline = time.monotonic() + 30
        while len(hook.posts) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.5)  # nothing else may follow
        assert [(p, b["title"]) for p, b in hook.posts] == [
            ("/oncall", f"CRITICAL {patient}: Hypoglycaemia (urgent below 54 mg/dL)"),
            ("/oncall", f"RESOLVED {patient}: Hypoglycaemia (urgent below 54 mg/dL)")]
    assert stack.fetch("SELECT receiver, kind, status FROM notifications ORDER BY id") == [
        ("oncall", "firing", "sent"), ("oncall", "resolved", "sent")]


def _after(readings: list[tuple[str, bytes]], index: int) -> Any:
    """The time of reading ``index`` of a 5-minute series (the next one in the series)."""
    from datetime import datetime, timedelta

    first = datetime.fromisoformat(json.loads(readings[0][1])["time"])
    return first + timedelta(minutes=5 * index)
