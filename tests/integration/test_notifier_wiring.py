"""The real notifier with Grafana annotations and alarm-fatigue figures wired in: an alert that
fires, is paged, acknowledged over HTTP and resolved leaves exactly one Grafana annotation
(a point, then a region) on a local stand-in of Grafana's API, and exact counts and times in
the Prometheus metrics and ``alarm_fatigue_daily``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import asyncpg
import pytest

from services.notifier.tests.notifier_testkit import NOON, FakeClock
from services.notifier.tests.test_notifier_annotations import TOKEN, FakeGrafana, grafana
from tests.helpers import publish_all
from tests.integration.test_notifier_restart import fire
from tests.integration.test_notifier_support import in_process, until, webhook
from vigil.core import topics
from vigil.notifier.fatigue import daily
from vigil.v1 import alerts_pb2

pytestmark = pytest.mark.integration
__all__ = ["grafana"]  # the stand-in's fixture, used below

ROUTING = ("receivers:\n  nurse: ['json://127.0.0.1:{port}/nurse']\n"
           "route:\n  receiver: nurse\n  group_wait: 30s\n  group_interval: 1m\n"
           "  repeat_interval: 1h\n")


def resolve(stack: Any, alert_id: str, patient: str, at: float) -> None:
    """What the rules service does when the alert clears."""
    stack.fetch("UPDATE alerts SET state = 'resolved', resolved_at = to_timestamp($2)"
                " WHERE alert_id = $1", alert_id, at)
    event = alerts_pb2.AlertEvent(
        alert_id=alert_id, patient_id=patient, rule="spo2_low", metric="spo2", value=95,
        severity=alerts_pb2.SEVERITY_CRITICAL, unit="%", state=alerts_pb2.ALERT_STATE_RESOLVED,
        summary="SpO2 low", started_at_ms=int(NOON * 1000), event_time_ms=int(at * 1000))
    publish_all(stack.mqtt_url, [(topics.alerts(patient), event.SerializeToString())])


def sample(notifier: Any, name: str, labels: dict[str, str] | None = None) -> float:
    value = notifier.live.registry.get_sample_value(name, labels or {})
    return value or 0.0


async def test_alert_annotated_paged_acked_resolved_with_fatigue_figures(
        stack: Any, grafana: tuple[FakeGrafana, str]) -> None:
    fake, grafana_url = grafana
    clock = FakeClock()
    with webhook() as (port, web):
        async with in_process(stack, clock, ROUTING.format(port=port),
                              notifier_grafana_api_url=grafana_url,
                              notifier_grafana_token=TOKEN) as notifier:
            fire(stack, "a-w1", "p-w")
            assert await until(lambda: len(fake.annotations) == 1)
            ann = fake.annotations[1]
            assert ann["time"] == int(NOON * 1000)
            assert ann["tags"] == ["vigil", "alert", "spo2_low", "critical", "patient:p-w"]
            assert ann["text"] == "CRITICAL p-w: SpO2 low"

            await notifier.at(30)
            assert await until(lambda: len(web.posts) == 1)
            assert await until(lambda: sample(
                notifier, "vigil_notifier_notifications_total",
                {"receiver": "nurse", "severity": "critical", "kind": "firing"}) == 1)

            await notifier.at(90)  # acknowledged 90 s after the alert started
            async with aiohttp.ClientSession() as http, http.post(
                    f"{notifier.url}/api/v1/alerts/a-w1/ack", json={"by": "nurse-7"}) as r:
                assert r.status == 200
            labels = {"severity": "critical"}
            assert sample(notifier, "vigil_notifier_time_to_ack_seconds_count", labels) == 1
            assert sample(notifier, "vigil_notifier_time_to_ack_seconds_sum", labels) == 90

            resolve(stack, "a-w1", "p-w", NOON + 600)
            assert await until(lambda: "resolved" in fake.annotations[1]["tags"])
            assert fake.annotations[1]["timeEnd"] == int((NOON + 600) * 1000)
            assert len(fake.annotations) == 1
            assert all(r.auth == f"Bearer {TOKEN}" for r in fake.requests)
            await notifier.at(600 + 60)
            assert await until(lambda: len(web.posts) == 3)
            assert [body["title"].split(" p-w")[0] for _, body in web.posts] == [
                "CRITICAL", "ACKED by nurse-7", "RESOLVED"]

    day = datetime.fromtimestamp(NOON, UTC).replace(hour=0, minute=0, second=0)
    conn = await asyncpg.connect(stack.database_url)
    try:
        rows = await daily(conn, day, day + timedelta(days=1))
    finally:
        await conn.close()
    assert [(r["patient_id"], r["alerts_fired"], r["notifications_sent"], r["critical"],
             r["median_time_to_ack_s"], r["unacked"]) for r in rows] == [
        ("p-w", 1, 3, 1, 90.0, 0)]  # three messages: page, "taken by", resolved
