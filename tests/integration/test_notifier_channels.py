"""Notifier channels against REAL local receivers: an aiosmtpd SMTP server and an HTTP server.

The pure dispatcher drives a scenario on a fake clock; every notification it emits goes out
through Apprise to the real servers, and the tests count and read exactly what arrived.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from services.notifier.tests.notifier_testkit import NOON, FakeClock, make_alert
from tests.integration.test_notifier_support import Hook, free_port, webhook
from vigil.notifier import channel, config
from vigil.notifier.deliver import Deliverer, MemoryRecorder, Retry
from vigil.notifier.dispatch import Dispatcher, Notification
from vigil.notifier.message import Formatter
from vigil.notifier.silence import Silences

pytestmark = pytest.mark.integration


class Mailbox:
    """aiosmtpd handler keeping every message it is handed."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802
        raw = envelope.original_content or b""
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Mailbox]]:
    """A real SMTP server on a free port."""
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, box
    controller.stop()


@pytest.fixture
def hook() -> Iterator[tuple[int, Hook]]:
    """A real webhook receiver on a free port."""
    with webhook() as running:
        yield running


def _routing(smtp_port: int, hook_port: int) -> config.Config:
    return config.parse({
        "receivers": {
            "nurse": [f"mailto://127.0.0.1:{smtp_port}?from=vigil@example.org"
                      "&to=nurse@example.org&mode=insecure"],
            "charge": [f"json://127.0.0.1:{hook_port}/charge"],
        },
        "route": {"receiver": "nurse", "group_wait": "30s", "group_interval": "5m",
                  "repeat_interval": "4h",
                  "escalation": [{"after": "10m", "receiver": "charge"}]},
    }, source="test")


def _run(dispatcher: Dispatcher, clock: FakeClock, until: float) -> list[Notification]:
    out: list[Notification] = []
    while (due := dispatcher.next_due()) is not None and due <= until:
        clock.now = max(clock.now, due)
        out.extend(dispatcher.tick())
    return out


def _plain(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


async def test_scenario_reaches_real_smtp_and_webhook(smtp: tuple[int, Mailbox],
                                                      hook: tuple[int, Hook]) -> None:
    (smtp_port, box), (hook_port, web) = smtp, hook
    routing = _routing(smtp_port, hook_port)
    clock = FakeClock()
    dispatcher = Dispatcher(routing, Silences(), clock)
    recorder = MemoryRecorder()
    deliverer = Deliverer(channel.build(routing.receivers), routing.receivers,
                          Formatter(grafana_url="http://grafana.local"), recorder,
                          Retry(attempts=3, base=0.01, cap=0.05))

    dispatcher.receive(make_alert("a1", patient="p7", severity="critical", value=84.0,
                                  trend_per_min=-1.5, summary="SpO2 low"))
    outgoing = _run(dispatcher, clock, NOON + 12 * 60)
    dispatcher.receive(make_alert("a1", patient="p7", severity="critical", firing=False))
    outgoing += _run(dispatcher, clock, NOON + 3600)
    assert [(n.at - NOON, n.receiver, n.kind) for n in outgoing] == [
        (30, "nurse", "firing"), (630, "charge", "escalation"),
        (930, "charge", "resolved"), (930, "nurse", "resolved")]

    for note in outgoing:
        assert await deliverer.deliver(note)

    assert [(a.receiver, a.kind, a.status) for a in recorder.attempts] == [
        ("nurse", "firing", "sent"), ("charge", "escalation", "sent"),
        ("charge", "resolved", "sent"), ("nurse", "resolved", "sent")]
    assert len(box.messages) == 2
    (to1, first), (to2, last) = box.messages
    assert to1 == to2 == ["nurse@example.org"]
    assert first["Subject"] == "CRITICAL p7: SpO2 low"
    assert _plain(first).strip().splitlines() == [
        "CRITICAL · patient p7", "SpO2 low: spo2 84 %, falling 1.5 %/min",
        "since 12:00 UTC (0 min)",
        "http://grafana.local/d/vigil-patient-vitals?var-patient=p7", "Ack id: a1"]
    assert last["Subject"] == "RESOLVED p7: SpO2 low"
    assert [path for path, _ in web.posts] == ["/charge", "/charge"]
    escalation, resolved = (payload for _, payload in web.posts)
    assert escalation["title"] == "ESCALATED CRITICAL p7: SpO2 low"
    assert "Ack id: a1" in escalation["message"]
    assert escalation["type"] == "failure"
    assert resolved["title"] == "RESOLVED p7: SpO2 low"
    assert resolved["type"] == "success"


async def test_webhook_failures_are_retried_and_every_attempt_recorded(
        hook: tuple[int, Hook]) -> None:
    port, web = hook
    web.fail = 2
    routing = config.parse({"receivers": {"charge": [f"json://127.0.0.1:{port}/charge"]}})
    recorder = MemoryRecorder()
    deliverer = Deliverer(channel.build(routing.receivers), routing.receivers, Formatter(),
                          recorder, Retry(attempts=4, base=0.01, cap=0.05))
    note = Notification(NOON, "charge", "firing", "g", firing=(make_alert("a9"),))
    assert await deliverer.deliver(note)
    assert [(a.attempt, a.status) for a in recorder.attempts] == [
        (1, "failed"), (2, "failed"), (3, "sent")]
    assert len(web.posts) == 1


async def test_dead_after_the_last_attempt(hook: tuple[int, Hook]) -> None:
    port, web = hook
    web.fail = 100
    routing = config.parse({"receivers": {"charge": [f"json://127.0.0.1:{port}/charge"]}})
    recorder = MemoryRecorder()
    deliverer = Deliverer(channel.build(routing.receivers), routing.receivers, Formatter(),
                          recorder, Retry(attempts=2, base=0.01, cap=0.05))
    note = Notification(NOON, "charge", "firing", "g", firing=(make_alert("a9"),))
    assert not await deliverer.deliver(note)
    assert [(a.attempt, a.status) for a in recorder.attempts] == [(1, "failed"), (2, "dead")]
    assert web.posts == []
