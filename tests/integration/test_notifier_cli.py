"""`vigil notifier silence add|list|expire`, `vigil notifier ack|snooze` against a running
notifier process (and a rules process, which records the ack in ``alerts.acked_by``)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.helpers import publish_all
from tests.integration.test_notifier_service import notifier_process
from tests.integration.test_notifier_support import free_port, wait_for, webhook
from tests.integration.test_rules_support import rules_process
from vigil.cli.main import app
from vigil.core import topics
from vigil.v1 import alerts_pb2

pytestmark = pytest.mark.integration
runner = CliRunner()


def vigil(url: str, *args: str) -> tuple[int, str]:
    """Exit code and output on one line (rich's error box drawn away)."""
    result = runner.invoke(app, ["notifier", *args], env={"VIGIL_NOTIFIER_URL": url})
    return result.exit_code, " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.output).split())


def test_silences_and_acks_through_the_cli(stack: Any, tmp_path: Path) -> None:
    with webhook() as (port, web):
        routing = tmp_path / "routing.yaml"
        routing.write_text(f"receivers: {{nurse: ['json://127.0.0.1:{port}/nurse']}}\n"
                           "route: {receiver: nurse, group_wait: 0s, group_interval: 1s,\n"
                           "        repeat_interval: 2s}\n")
        url = f"http://127.0.0.1:{notifier_process(stack, routing).port}"
        rules_process(stack).start()

        code, out = vigil(url, "silence", "add", "--match", "severity=warning", "--match",
                          "patient=p1", "--for", "2h", "--by", "alice", "--comment",
                          "bed bath")
        assert code == 0, out
        found = re.fullmatch(r"silence ([0-9a-f]{32}) active until (\S+)", out)
        assert found is not None, out
        silence_id = found.group(1)
        code, out = vigil(url, "silence", "list")
        assert code == 0
        assert silence_id in out
        assert "severity=warning, patient_id=p1" in out
        assert "alice" in out
        assert "bed bath" in out
        assert vigil(url, "silence", "expire", silence_id)[1].startswith(
            f"silence {silence_id} expired at ")
        assert vigil(url, "silence", "list", "--state", "active") == (0, "no silences")
        assert vigil(url, "silence", "expire", "nope") == (
            1, "notifier refused (404): no silence 'nope'")
        assert stack.fetch("SELECT created_by, comment, expired_at IS NOT NULL FROM silences") \
            == [("alice", "bed bath", True)]

        stack.fetch("INSERT INTO alerts (alert_id, patient_id, rule, severity, state, summary,"
                    " started_at) VALUES ('a-c1', 'p-c', 'spo2_low', 'high', 'firing',"
                    " 'SpO2 low', now())")
        now_ms = int(time.time() * 1000)
        event = alerts_pb2.AlertEvent(
            alert_id="a-c1", patient_id="p-c", rule="spo2_low", summary="SpO2 low",
            severity=alerts_pb2.SEVERITY_HIGH, state=alerts_pb2.ALERT_STATE_FIRING,
            started_at_ms=now_ms, event_time_ms=now_ms)
        publish_all(stack.mqtt_url, [(topics.alerts("p-c"), event.SerializeToString())])
        assert wait_for(lambda: len(web.posts) == 1)
        code, out = vigil(url, "ack", "a-c1", "--by", "bob")
        assert code == 0, out
        assert out.startswith("alert a-c1 acknowledged by bob at ")
        assert stack.wait_count("SELECT count(*) FROM alerts WHERE acked_by = 'bob'", 1,
                                timeout=10) == 1
        time.sleep(2.2)  # past repeat_interval: an acked alert is not repeated
        assert [body["title"] for _, body in web.posts] == [
            "HIGH p-c: SpO2 low", "ACKED by bob p-c: SpO2 low"]
        code, out = vigil(url, "snooze", "p-c", "--patient", "--for", "30m", "--by", "kim")
        assert code == 0, out
        assert out.startswith("snoozed until ")


@pytest.mark.parametrize(("args", "option", "message"), [
    (["silence", "add", "--match", "severity", "--for", "2h", "--by", "a", "--comment", "c"],
     "--match", "expected LABEL=VALUE (e.g. patient_id=p1), got 'severity'"),
    (["silence", "add", "--match", "rule=r", "--for", "2 hours", "--by", "a", "--comment", "c"],
     "--for", "invalid duration '2 hours' (e.g. 30m, 2h, 1d)"),
    (["silence", "add", "--match", "rule=r", "--by", "a", "--comment", "c"],
     "--for", "give exactly one of --for or --until"),
    (["silence", "add", "--match", "rule=r", "--until", "tomorrow", "--by", "a",
      "--comment", "c"], "--until", "use ISO 8601"),
    (["silence", "list", "--state", "gone"], "--state", "one of active, pending, expired"),
    (["snooze", "a1", "--for", "soon", "--by", "kim"], "--for", "invalid duration 'soon'"),
    (["ack", "a1", "--by", "bob", "--url", "ftp://x"], "--url", "must start with http://"),
])
def test_bad_arguments_name_the_option(args: list[str], option: str, message: str) -> None:
    code, out = vigil("http://127.0.0.1:1", *args)
    assert code == 2, out
    assert f"Invalid value for {option}: {message}" in out


def test_an_unreachable_notifier_is_one_clear_line_and_exit_1() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    code, out = vigil(url, "ack", "a1", "--by", "bob")
    assert code == 1
    assert out.startswith(f"cannot reach the notifier at {url}: [Errno 111] Connection refused")
    assert "set --url or VIGIL_NOTIFIER_URL" in out
