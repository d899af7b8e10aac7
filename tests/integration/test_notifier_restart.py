"""Restarts of the real notifier (broker, PostgreSQL, webhook) on a fake clock: the next
escalation step and repeat fall when they would have without the restart, nothing is paged
twice, and silences are kept."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from services.notifier.tests.notifier_testkit import NOON, FakeClock
from tests.helpers import publish_all
from tests.integration.test_notifier_support import Hook, in_process, until, webhook
from vigil.core import topics
from vigil.v1 import alerts_pb2

pytestmark = pytest.mark.integration
MIN = 60.0


def routing(port: int) -> str:
    return (
        "receivers:\n"
        + "".join(f"  {r}: ['json://127.0.0.1:{port}/{r}']\n"
                  for r in ("nurse", "charge", "doctor"))
        + "route:\n"
        "  receiver: nurse\n"
        "  group_wait: 30s\n"
        "  group_interval: 5m\n"
        "  repeat_interval: 1h\n"
        "  escalation: [{after: 10m, receiver: charge}, {after: 20m, receiver: doctor}]\n")


def fire(stack: Any, alert_id: str, patient: str, severity: str = "critical",
         rule: str = "spo2_low") -> None:
    """What the rules service does: the row in ``alerts``, then the AlertEvent."""
    stack.fetch("INSERT INTO alerts (alert_id, patient_id, rule, severity, state, metric, value,"
                " unit, summary, started_at) VALUES ($1, $2, $3, $4, 'firing', 'spo2',"
                " 84, '%', 'SpO2 low', to_timestamp($5))", alert_id, patient, rule, severity,
                NOON)
    event = alerts_pb2.AlertEvent(
        alert_id=alert_id, patient_id=patient, rule=rule, metric="spo2", value=84,
        severity=getattr(alerts_pb2, f"SEVERITY_{severity.upper()}"), unit="%",
        state=alerts_pb2.ALERT_STATE_FIRING, summary="SpO2 low",
        started_at_ms=int(NOON * 1000), event_time_ms=int(NOON * 1000))
    publish_all(stack.mqtt_url, [(topics.alerts(patient), event.SerializeToString())])


def posts(web: Hook) -> list[tuple[str, str]]:
    with web.lock:
        return [(path, body["title"]) for path, body in web.posts]


async def test_restart_halfway_to_escalation_escalates_at_the_original_time_once(
        stack: Any) -> None:
    clock = FakeClock()
    with webhook() as (port, web):
        async with in_process(stack, clock, routing(port)) as notifier:
            fire(stack, "a-r1", "p-r")
            assert await until(lambda: notifier.live.dispatcher.find("a-r1") is not None)
            await notifier.at(29)
            assert posts(web) == []
            await notifier.at(30)
            assert await until(lambda: len(web.posts) == 1)
            await notifier.at(5 * MIN)
            assert stack.wait_count("SELECT count(*) FROM notifications", 1, timeout=10) == 1

            await notifier.restart()  # halfway between the page and the first escalation
            assert notifier.live.dispatcher.next_due() == NOON + 5 * MIN + 30
            await notifier.at(10 * MIN + 29, settle=0.3)
            assert posts(web) == [("/nurse", "CRITICAL p-r: SpO2 low")]
            await notifier.at(10 * MIN + 30)
            assert await until(lambda: len(web.posts) == 2)
            await notifier.at(15 * MIN, settle=0.3)

            await notifier.restart()  # between the two escalation steps
            await notifier.at(20 * MIN + 29, settle=0.3)
            assert len(web.posts) == 2
            await notifier.at(20 * MIN + 30)
            assert await until(lambda: len(web.posts) == 3)

            await notifier.restart()  # before the repeat
            await notifier.at(60 * MIN + 29, settle=0.3)
            assert len(web.posts) == 3
            await notifier.at(60 * MIN + 30)
            assert await until(lambda: len(web.posts) == 6)
            await notifier.at(64 * MIN, settle=0.3)
        assert posts(web)[:3] == [("/nurse", "CRITICAL p-r: SpO2 low"),
                                  ("/charge", "ESCALATED CRITICAL p-r: SpO2 low"),
                                  ("/doctor", "ESCALATED CRITICAL p-r: SpO2 low")]
        assert sorted(posts(web)[3:]) == [(f"/{r}", "STILL FIRING CRITICAL p-r: SpO2 low")
                                          for r in ("charge", "doctor", "nurse")]
    rows = stack.fetch("SELECT receiver, kind, status, extract(epoch FROM due_at) - $1, level,"
                       " extract(epoch FROM escalation_start) - $1 FROM notifications"
                       " ORDER BY due_at, level, receiver", NOON)
    assert [(r, k, s, float(t), lv, float(e)) for r, k, s, t, lv, e in rows] == [
        ("nurse", "firing", "sent", 30.0, 0, 30.0),
        ("charge", "escalation", "sent", 630.0, 1, 30.0),
        ("doctor", "escalation", "sent", 1230.0, 2, 30.0),
        ("charge", "repeat", "sent", 3630.0, 2, 30.0),
        ("doctor", "repeat", "sent", 3630.0, 2, 30.0),
        ("nurse", "repeat", "sent", 3630.0, 2, 30.0)]


async def test_silences_are_kept_across_a_restart(stack: Any) -> None:
    clock = FakeClock()
    with webhook() as (port, web):
        async with in_process(stack, clock, routing(port)) as notifier, \
                aiohttp.ClientSession(notifier.url) as http:
            made = await http.post("/api/v1/silences", json={
                "matchers": {"patient_id": "p-s"}, "duration": "1h", "created_by": "alice",
                "comment": "bed bath"})
            assert made.status == 201, await made.text()
            silence = await made.json()
            await notifier.restart()
            listed = await (await http.get("/api/v1/silences")).json()
            assert listed == {"silences": [{**silence, "state": "active"}]}
            fire(stack, "a-s1", "p-s", "warning")
            # The safety floor: a critical alert of the silenced patient pages anyway.
            fire(stack, "a-s2", "p-s", "critical", rule="spo2_critical")
            assert await until(lambda: notifier.live.dispatcher.find("a-s1") is not None
                               and notifier.live.dispatcher.find("a-s2") is not None)
            await notifier.at(30)
            assert await until(lambda: len(web.posts) == 1)
            await notifier.at(10 * MIN + 30)
            assert await until(lambda: len(web.posts) == 2)
            await notifier.at(12 * MIN, settle=0.3)
            assert posts(web) == [("/nurse", "CRITICAL p-s: SpO2 low"),
                                  ("/charge", "ESCALATED CRITICAL p-s: SpO2 low")]
            gone = await http.delete(f"/api/v1/silences/{silence['id']}")
            assert (await gone.json())["state"] == "expired"
            await notifier.restart()
            # Expired before the restart, still expired after: the warning pages at the next
            # look (on the group's old phase), to every level reached.
            await notifier.at(15 * MIN + 30)
            assert await until(lambda: len(web.posts) == 4)
    assert sorted(posts(web)[2:]) == [("/charge", "CRITICAL p-s: SpO2 low (+1 more)"),
                                      ("/nurse", "CRITICAL p-s: SpO2 low (+1 more)")]
    row = stack.fetch("SELECT matchers, created_by, comment, extract(epoch FROM starts_at) - $1,"
                      " extract(epoch FROM expired_at) - $1 FROM silences", NOON)
    assert [(m, b, c, float(s), float(e)) for m, b, c, s, e in row] == [
        ('{"patient_id": "p-s"}', "alice", "bed bath", 0.0, 12 * MIN)]
