"""The notifier's HTTP API against the real service (broker, PostgreSQL, webhook), on a fake
clock: silences, snoozes, acks, signed ack links, and the health and metrics endpoints."""

from __future__ import annotations

import contextlib
import re
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from services.notifier.tests.notifier_testkit import NOON, FakeClock
from tests.integration.test_notifier_restart import fire, posts, routing
from tests.integration.test_notifier_support import in_process, until, webhook
from vigil.core import topics
from vigil.core.config import MqttUrl
from vigil.core.message import Message
from vigil.core.mqtt import Client
from vigil.v1 import alerts_pb2

pytestmark = pytest.mark.integration
MIN = 60.0
SECRET = "test-secret-0123456789"


@contextlib.contextmanager
def acks_seen(url: str) -> Iterator[list[alerts_pb2.AlertAck]]:
    """Collect AlertAcks published on vigil/v1/acks."""
    seen: list[alerts_pb2.AlertAck] = []
    lock = threading.Lock()

    def keep(m: Message) -> None:
        with lock:
            seen.append(alerts_pb2.AlertAck.FromString(m.payload))

    c = Client(MqttUrl.parse(url), f"test-acks-{uuid.uuid4().hex[:8]}", clean_start=True,
               on_message=keep)
    c.subscribe(topics.ACKS)
    c.connect()
    try:
        yield seen
    finally:
        c.close()


async def _json(response: aiohttp.ClientResponse) -> tuple[int, Any]:
    return response.status, await response.json()


async def test_health_and_metrics_are_still_served(stack: Any) -> None:
    async with in_process(stack, FakeClock()) as notifier, \
            aiohttp.ClientSession(notifier.url) as http:
        assert await _json(await http.get("/readyz")) == (200, {
            "status": "ok", "mqtt": True, "database": True, "routed": False, "receivers": 0})
        assert (await http.get("/healthz")).status == 200
        metrics = await http.get("/metrics")
        assert metrics.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        assert "vigil_notifier_dead_letters_total 0.0" in await metrics.text()
        assert (await http.get("/nope")).status == 404


BAD_SILENCES = [
    ("{not json", {"error": "body: not valid JSON", "field": "body"}),
    ("[]", {"error": "body: Input should be a valid dictionary or instance of SilenceIn",
            "field": "body"}),
    ('{"matchers": {"patient_id": "p1"}, "created_by": "a", "comment": "c"}',
     {"error": "duration: give a duration (e.g. 2h) or ends_at", "field": "duration"}),
    ('{"matchers": {"patient_id": "p1"}, "duration": "2 h", "created_by": "a", "comment": "c"}',
     {"error": "duration: invalid duration '2 h' (e.g. 30s, 5m, 4h)", "field": "duration"}),
    ('{"matchers": {}, "duration": "2h", "created_by": "a", "comment": "c"}',
     {"error": "matchers: Dictionary should have at least 1 item after validation, not 0",
      "field": "matchers"}),
    ('{"matchers": {"rule": "r"}, "ends_at": "2026-01-15T11:00:00Z", "created_by": "a",'
     ' "comment": "c"}', {"error": "ends_at: the silence would already be over",
                          "field": "ends_at"}),
]


async def test_bad_silences_are_400_naming_the_field(stack: Any) -> None:
    async with in_process(stack, FakeClock()) as notifier, \
            aiohttp.ClientSession(notifier.url) as http:
        for body, error in BAD_SILENCES:
            answer = await http.post("/api/v1/silences", data=body,
                                     headers={"Content-Type": "application/json"})
            assert await _json(answer) == (400, error), body
        assert await _json(await http.get("/api/v1/silences")) == (200, {"silences": []})
        assert (await http.get("/readyz")).status == 200  # and it keeps running


async def test_silence_create_list_expire(stack: Any) -> None:
    clock = FakeClock()
    async with in_process(stack, clock) as notifier, \
            aiohttp.ClientSession(notifier.url) as http:
        status, made = await _json(await http.post("/api/v1/silences", json={
            "matchers": {"severity": "warning", "patient_id": "p1"},
            "starts_at": "2026-01-15T12:30:00+00:00", "ends_at": "2026-01-15T14:00:00Z",
            "created_by": "alice", "comment": "bed bath"}))
        assert status == 201
        assert made == {"id": made["id"], "matchers": {"severity": "warning", "patient_id": "p1"},
                        "starts_at": "2026-01-15T12:30:00+00:00",
                        "ends_at": "2026-01-15T14:00:00+00:00", "created_by": "alice",
                        "comment": "bed bath", "created_at": "2026-01-15T12:00:00+00:00",
                        "expired_at": None, "state": "pending"}
        assert await _json(await http.get("/api/v1/silences?state=pending")) == (
            200, {"silences": [made]})
        assert await _json(await http.get("/api/v1/silences?state=active")) == (
            200, {"silences": []})
        assert (await http.get("/api/v1/silences?state=bogus")).status == 400
        await notifier.at(10 * MIN)
        status, gone = await _json(await http.delete(f"/api/v1/silences/{made['id']}"))
        assert (status, gone["state"], gone["expired_at"]) == (
            200, "expired", "2026-01-15T12:10:00+00:00")
        assert await _json(await http.delete("/api/v1/silences/nope")) == (
            404, {"error": "no silence 'nope'", "field": "id"})
    assert stack.fetch("SELECT count(*) FROM silences WHERE expired_at IS NOT NULL") == [(1,)]


async def test_ack_by_api_stops_escalation_and_is_published_and_recorded(stack: Any) -> None:
    clock = FakeClock()
    with webhook() as (port, web), acks_seen(stack.mqtt_url) as seen:
        async with in_process(stack, clock, routing(port)) as notifier, \
                aiohttp.ClientSession(notifier.url) as http:
            fire(stack, "a-k1", "p-k")
            assert await until(lambda: notifier.live.dispatcher.find("a-k1") is not None)
            await notifier.at(30)
            assert await until(lambda: len(web.posts) == 1)
            await notifier.at(5 * MIN)
            assert await _json(await http.post("/api/v1/alerts/a-k1/ack", json={})) == (
                400, {"error": "by: Field required", "field": "by"})
            assert await _json(await http.post("/api/v1/alerts/nope/ack", json={"by": "bob"})) \
                == (404, {"error": "no firing alert 'nope'", "field": "alert_id"})
            status, done = await _json(await http.post(
                "/api/v1/alerts/a-k1/ack", json={"by": "bob", "comment": "on my way"}))
            assert (status, done) == (200, {
                "alert_id": "a-k1", "acked_by": "bob", "acked_at": "2026-01-15T12:05:00+00:00",
                "channel": "http", "published": True})
            assert notifier.live.dispatcher.acked_by("a-k1") == "bob"
            await notifier.at(3 * 3600, settle=0.3)  # no escalation, no repeat
            assert posts(web) == [("/nurse", "CRITICAL p-k: SpO2 low"),
                                  ("/nurse", "ACKED by bob p-k: SpO2 low")]
        assert await until(lambda: len(seen) == 1)
    assert [(a.alert_id, a.patient_id, a.by, a.at_ms, a.channel, a.comment) for a in seen] == [
        ("a-k1", "p-k", "bob", int((NOON + 5 * MIN) * 1000), "http", "on my way")]
    rows = stack.fetch("SELECT alert_id, acked_by, extract(epoch FROM acked_at) - $1, channel,"
                       " comment FROM notifier_acks", NOON)
    assert [(a, b, float(t), c, m) for a, b, t, c, m in rows] == [
        ("a-k1", "bob", 5 * MIN, "http", "on my way")]  # once, though it came back on MQTT


async def test_signed_ack_link_in_the_message_acks_after_confirmation(stack: Any) -> None:
    clock = FakeClock()
    with webhook() as (port, web):
        async with in_process(stack, clock, routing(port), notifier_ack_secret=SECRET,
                              notifier_ack_ttl_s=3600,
                              notifier_public_url="https://vigil.example.org") as notifier, \
                aiohttp.ClientSession(notifier.url) as http:
            fire(stack, "a-l1", "p-l")
            fire(stack, "a-l2", "p-m")
            assert await until(lambda: notifier.live.dispatcher.find("a-l2") is not None)
            await notifier.at(30)
            assert await until(lambda: len(web.posts) == 2)
            links = {}
            for _, body in web.posts:
                found = re.findall(r"^Ack: https://vigil\.example\.org(/ack/\S+)$",
                                   body["message"], flags=re.MULTILINE)
                assert len(found) == 1, body["message"]
                links[body["title"].split()[1].rstrip(":")] = found[0]
            page = await http.get(links["p-l"])
            text = await page.text()
            assert page.status == 200
            assert "Acknowledge alert a-l1?" in text
            assert '<form method="post">' in text
            assert notifier.live.dispatcher.acked_by("a-l1") is None  # a GET never acks
            tampered = links["p-l"][:-3] + ("AAA" if not links["p-l"].endswith("AAA") else "BBB")
            refused = await http.post(tampered)
            assert refused.status == 403
            assert "invalid ack link signature" in await refused.text()
            done = await http.post(links["p-l"])
            assert done.status == 200
            assert "Alert a-l1 acknowledged by nurse." in await done.text()
            assert notifier.live.dispatcher.acked_by("a-l1") == "nurse"
            await notifier.at(30 + 3600)  # the link of a-l2 has expired
            expired = await http.post(links["p-m"])
            assert expired.status == 403
            assert "ack link expired 0 s ago" in await expired.text()
            assert notifier.live.dispatcher.acked_by("a-l2") is None
    rows = stack.fetch("SELECT alert_id, acked_by, channel FROM notifier_acks")
    assert rows == [("a-l1", "nurse", "link")]


async def test_without_a_secret_there_are_no_links_and_ack_urls_say_why(stack: Any) -> None:
    clock = FakeClock()
    with webhook() as (port, web):
        async with in_process(stack, clock, routing(port)) as notifier, \
                aiohttp.ClientSession(notifier.url) as http:
            fire(stack, "a-n1", "p-n")
            assert await until(lambda: notifier.live.dispatcher.find("a-n1") is not None)
            await notifier.at(30)
            assert await until(lambda: len(web.posts) == 1)
            assert "/ack/" not in web.posts[0][1]["message"]
            answer = await http.get("/ack/anything")
            assert answer.status == 404
            assert "VIGIL_NOTIFIER_ACK_SECRET is not set" in await answer.text()


async def test_snooze_mutes_one_alert_but_never_a_critical_one(stack: Any) -> None:
    clock = FakeClock()
    with webhook() as (port, web):
        async with in_process(stack, clock, routing(port)) as notifier, \
                aiohttp.ClientSession(notifier.url) as http:
            fire(stack, "a-z1", "p-z", "warning")
            fire(stack, "a-z2", "p-y", "critical")
            assert await until(lambda: notifier.live.dispatcher.find("a-z2") is not None)
            status, warned = await _json(await http.post(
                "/api/v1/alerts/a-z1/snooze", json={"duration": "20m", "by": "kim"}))
            assert (status, warned["matchers"], warned["comment"], "note" in warned) == (
                201, {"alert_id": "a-z1"}, "snoozed", False)
            status, floor = await _json(await http.post(
                "/api/v1/alerts/a-z2/snooze", json={"duration": "20m", "by": "kim"}))
            assert (status, floor["note"]) == (
                201, "critical alerts are never muted (safety floor): this one still pages")
            status, patient = await _json(await http.post(
                "/api/v1/patients/p-q/snooze", json={"duration": "1h", "by": "kim",
                                                     "comment": "scan"}))
            assert (status, patient["matchers"]) == (201, {"patient_id": "p-q"})
            assert await _json(await http.post("/api/v1/alerts/a-z1/snooze",
                                               json={"duration": "later", "by": "kim"})) == (
                400, {"error": "duration: invalid duration 'later' (e.g. 30s, 5m, 4h)",
                      "field": "duration"})
            await notifier.at(30)
            assert await until(lambda: len(web.posts) == 1)
            await notifier.at(20 * MIN + 30)  # the snooze is over: paged at the next look
            assert await until(lambda: len(web.posts) == 4)
            await notifier.at(21 * MIN, settle=0.3)
    assert posts(web)[:2] == [("/nurse", "CRITICAL p-y: SpO2 low"),
                              ("/charge", "ESCALATED CRITICAL p-y: SpO2 low")]
    assert sorted(posts(web)) == sorted([("/nurse", "CRITICAL p-y: SpO2 low"),
                                         ("/charge", "ESCALATED CRITICAL p-y: SpO2 low"),
                                         ("/doctor", "ESCALATED CRITICAL p-y: SpO2 low"),
                                         ("/nurse", "WARNING p-z: SpO2 low")])
