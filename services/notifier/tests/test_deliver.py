"""Delivery: retries with backoff and jitter, the rate limit, and a record of every attempt."""

from __future__ import annotations

import pytest

from services.notifier.tests.notifier_testkit import NOON, FakeClock, make_alert
from vigil.notifier.channel import AppriseChannel
from vigil.notifier.config import ConfigError, Receiver
from vigil.notifier.deliver import Deliverer, MemoryRecorder, Retry
from vigil.notifier.dispatch import Notification
from vigil.notifier.message import Formatter, Message


class FlakyChannel:
    """Fails the first ``failures`` sends, then accepts; remembers what it got and when."""

    def __init__(self, clock: FakeClock, failures: int = 0, boom: bool = False) -> None:
        self.clock, self.failures, self.boom = clock, failures, boom
        self.got: list[tuple[float, Message]] = []

    async def notify(self, message: Message) -> str | None:
        self.got.append((self.clock.now - NOON, message))
        if self.boom:
            raise RuntimeError("secret://token@host")
        if len(self.got) <= self.failures:
            return "apprise: failure"
        return None


def setup(clock: FakeClock, channel: FlakyChannel, rate: tuple[int, float] = (30, 60.0),
          attempts: int = 4) -> tuple[Deliverer, MemoryRecorder, list[float]]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.advance(seconds)

    recorder = MemoryRecorder()
    deliverer = Deliverer({"nurse": channel}, {"nurse": Receiver("nurse", ("x",), *rate)},
                          Formatter(), recorder, Retry(attempts=attempts, base=2, cap=5),
                          clock=clock, sleep=sleep, rng=lambda: 0.5)
    return deliverer, recorder, slept


def note(alert_id: str = "a1", receiver: str = "nurse") -> Notification:
    return Notification(NOON, receiver, "firing", "g", firing=(make_alert(alert_id),))


async def test_retries_with_capped_exponential_backoff_and_jitter(clock: FakeClock) -> None:
    channel = FlakyChannel(clock, failures=3)
    deliverer, recorder, slept = setup(clock, channel)
    assert await deliverer.deliver(note())
    assert slept == [1.5, 3.0, 3.75]  # 2, 4, min(8, 5) scaled by 0.5 + 0.5/2
    assert [(a.attempt, a.status, a.error) for a in recorder.attempts] == [
        (1, "failed", "apprise: failure"), (2, "failed", "apprise: failure"),
        (3, "failed", "apprise: failure"), (4, "sent", None)]
    assert recorder.attempts[-1].alert_ids == ("a1",)


async def test_gives_up_as_dead_and_never_leaks_exception_text(clock: FakeClock) -> None:
    deliverer, recorder, _ = setup(clock, FlakyChannel(clock, boom=True), attempts=2)
    assert not await deliverer.deliver(note())
    assert [(a.attempt, a.status, a.error) for a in recorder.attempts] == [
        (1, "failed", "RuntimeError"), (2, "dead", "RuntimeError")]


async def test_unknown_receiver_is_recorded_dead(clock: FakeClock) -> None:
    deliverer, recorder, _ = setup(clock, FlakyChannel(clock))
    assert not await deliverer.deliver(note(receiver="ghost"))
    assert [(a.receiver, a.status) for a in recorder.attempts] == [("ghost", "dead")]


async def test_rate_limit_delays_rather_than_drops(clock: FakeClock) -> None:
    channel = FlakyChannel(clock)
    deliverer, recorder, _ = setup(clock, channel, rate=(2, 60.0))
    for i in range(5):
        assert await deliverer.deliver(note(f"a{i}"))
    assert [t for t, _ in channel.got] == [0, 0, 60, 60, 120]
    assert [a.status for a in recorder.attempts] == ["sent"] * 5


def test_invalid_apprise_url_is_a_config_error_without_the_url() -> None:
    with pytest.raises(ConfigError) as raised:
        AppriseChannel(Receiver("nurse", ("json://ok.example", "nonsense-secret")))
    assert str(raised.value) == "receivers.nurse.urls[1]: not a valid Apprise URL"
