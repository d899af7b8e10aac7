"""`python -m vigil.notifier` against the real broker and PostgreSQL, paging a real webhook."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import publish_all
from tests.integration.test_notifier_support import free_port, wait_for, webhook
from vigil.cli.processes import ServiceProcess
from vigil.core import topics
from vigil.v1 import alerts_pb2

pytestmark = pytest.mark.integration


def notifier_process(stack: Any, routing: Path | None = None) -> ServiceProcess:
    """A notifier (started, ready) with exactly the variables `vigil up` sets."""
    port = free_port()
    client_id = f"notifier-{uuid.uuid4().hex[:8]}"
    env = {**stack.env, "VIGIL_NOTIFIER_HTTP_PORT": str(port),
           "VIGIL_NOTIFIER_CLIENT_ID": client_id,
           # The stack forgets broker sessions by this key at teardown.
           "VIGIL_INGEST_CLIENT_ID": client_id}
    if routing is not None:
        env["VIGIL_NOTIFIER_ROUTING_FILE"] = str(routing)
    proc = ServiceProcess("notifier", stack.ingest.home / client_id, "vigil.notifier", env, port)
    stack.extra.append(proc)
    proc.start(timeout=10)
    return proc


def _metrics(proc: ServiceProcess) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{proc.port}/metrics", timeout=5) as r:
        return str(r.read().decode())


def _event(state: int, severity: int = alerts_pb2.SEVERITY_CRITICAL) -> tuple[str, bytes]:
    now_ms = int(time.time() * 1000)
    event = alerts_pb2.AlertEvent(
        alert_id="a-svc-1", patient_id="p-svc", rule="spo2_low", severity=severity,
        state=state, metric="spo2", value=84, unit="%", summary="SpO2 low",
        started_at_ms=now_ms, event_time_ms=now_ms)
    return topics.alerts("p-svc"), event.SerializeToString()


def test_starts_with_no_configuration_routes_nothing_and_is_ready(stack: Any) -> None:
    started = time.monotonic()
    proc = notifier_process(stack)
    assert time.monotonic() - started < 10
    body = proc.wait_ready()
    assert body["routed"] is False
    assert body["receivers"] == 0
    assert "notifier_nothing_routed" in Path(proc.logfile).read_text()
    publish_all(stack.mqtt_url, [_event(alerts_pb2.ALERT_STATE_FIRING)])
    # Taken and acknowledged, but nobody is paged.
    assert wait_for(lambda: 'vigil_notifier_events_total{kind="alert"} 1.0' in _metrics(proc))
    assert "vigil_notifier_attempts_total{" not in _metrics(proc)
    assert stack.fetch("SELECT count(*) FROM notifications") == [(0,)]


def test_pages_escalates_unless_acked_resolves_and_records(stack: Any, tmp_path: Path) -> None:
    with webhook() as (port, web):
        routing = tmp_path / "routing.yaml"
        routing.write_text(
            "receivers:\n"
            f"  nurse: ['json://127.0.0.1:{port}/nurse']\n"
            f"  charge: ['json://127.0.0.1:{port}/charge']\n"
            "route:\n"
            "  receiver: nurse\n"
            "  group_wait: 0s\n"
            "  group_interval: 1s\n"
            "  escalation: [{after: 2s, receiver: charge}]\n")
        notifier_process(stack, routing)
        publish_all(stack.mqtt_url, [_event(alerts_pb2.ALERT_STATE_FIRING)])
        assert wait_for(lambda: len(web.posts) == 2)  # the page, then the escalation
        assert [path for path, _ in web.posts] == ["/nurse", "/charge"]
        assert web.posts[0][1]["title"] == "CRITICAL p-svc: SpO2 low"
        assert web.posts[1][1]["title"].startswith("ESCALATED CRITICAL p-svc")
        publish_all(stack.mqtt_url, [_event(alerts_pb2.ALERT_STATE_RESOLVED)])
        assert wait_for(lambda: len(web.posts) == 4)
        assert sorted(path for path, _ in web.posts[2:]) == ["/charge", "/nurse"]
        assert all(p["title"] == "RESOLVED p-svc: SpO2 low" for _, p in web.posts[2:])
    assert stack.wait_count("SELECT count(*) FROM notifications", 4, timeout=10) == 4
    rows = stack.fetch("SELECT alert_id, receiver, kind, attempt, status FROM notifications"
                       " ORDER BY id")
    assert rows[:2] == [("a-svc-1", "nurse", "firing", 1, "sent"),
                        ("a-svc-1", "charge", "escalation", 1, "sent")]
    assert sorted(rows[2:]) == [("a-svc-1", "charge", "resolved", 1, "sent"),
                                ("a-svc-1", "nurse", "resolved", 1, "sent")]


def test_ack_stops_escalation(stack: Any, tmp_path: Path) -> None:
    with webhook() as (port, web):
        routing = tmp_path / "routing.yaml"
        routing.write_text(
            "receivers:\n"
            f"  nurse: ['json://127.0.0.1:{port}/nurse']\n"
            f"  charge: ['json://127.0.0.1:{port}/charge']\n"
            "route: {receiver: nurse, group_wait: 0s, group_interval: 1s,\n"
            "        escalation: [{after: 3s, receiver: charge}]}\n")
        notifier_process(stack, routing)
        publish_all(stack.mqtt_url, [_event(alerts_pb2.ALERT_STATE_FIRING)])
        assert wait_for(lambda: len(web.posts) == 1)
        ack = alerts_pb2.AlertAck(alert_id="a-svc-1", patient_id="p-svc", by="nurse-kim",
                                  at_ms=int(time.time() * 1000), channel="mqtt")
        publish_all(stack.mqtt_url, [(topics.ACKS, ack.SerializeToString())])
        time.sleep(4)  # past the escalation: the charge nurse is never paged
        assert [(path, body["title"].split(" p-svc")[0]) for path, body in web.posts] == [
            ("/nurse", "CRITICAL"), ("/nurse", "ACKED by nurse-kim")]
        assert json.dumps(web.posts[0][1]).count("a-svc-1") >= 1


def _insert_firing(stack: Any, alert_id: str, patient_id: str) -> None:
    stack.fetch("INSERT INTO alerts (alert_id, patient_id, rule, severity, state, metric, value,"
                " unit, summary, started_at) VALUES ($1, $2, 'spo2_low', 'critical', 'firing',"
                " 'spo2', 84, '%', 'SpO2 low', now())", alert_id, patient_id)


def test_restart_neither_forgets_nor_repages(stack: Any, tmp_path: Path) -> None:
    with webhook() as (port, web):
        routing = tmp_path / "routing.yaml"
        routing.write_text(
            f"receivers: {{nurse: ['json://127.0.0.1:{port}/nurse']}}\n"
            "route: {receiver: nurse, group_wait: 0s, group_interval: 1s}\n")
        proc = notifier_process(stack, routing)
        _insert_firing(stack, "a-svc-1", "p-svc")  # as the rules service would
        publish_all(stack.mqtt_url, [_event(alerts_pb2.ALERT_STATE_FIRING)])
        assert wait_for(lambda: len(web.posts) == 1)
        assert stack.wait_count("SELECT count(*) FROM notifications", 1, timeout=10) == 1
        proc.stop()
        _insert_firing(stack, "a-svc-2", "p-other")  # fired while the notifier was down
        proc.start(timeout=10)
        assert wait_for(lambda: len(web.posts) == 2)
        time.sleep(1.5)  # a few group_interval looks: a-svc-1 must not be paged again
        assert [p["title"] for _, p in web.posts] == ["CRITICAL p-svc: SpO2 low",
                                                      "CRITICAL p-other: SpO2 low"]
        publish_all(stack.mqtt_url, [_event(alerts_pb2.ALERT_STATE_RESOLVED)])
        assert wait_for(lambda: len(web.posts) == 3)
        assert web.posts[2][1]["title"] == "RESOLVED p-svc: SpO2 low"
