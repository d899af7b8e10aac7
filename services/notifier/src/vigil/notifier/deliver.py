"""Delivery: rate limit → send → retry with exponential backoff and jitter → record.

Every attempt is recorded: ``sent``, ``failed`` (will retry) or ``dead`` (gave up).
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from vigil.core import logging
from vigil.notifier.channel import Channel
from vigil.notifier.config import Receiver
from vigil.notifier.dispatch import Notification
from vigil.notifier.message import Formatter
from vigil.notifier.ratelimit import RateLimit

log = logging.get(__name__)


@dataclass(frozen=True)
class Attempt:
    """One try at one notification; maps onto rows of the ``notifications`` table."""

    alert_ids: tuple[str, ...]
    receiver: str
    kind: str
    attempt: int
    status: str
    error: str | None
    at: float
    # The notification's group and timing state (see ``Notification``), for restarts.
    group: str = ""
    due_at: float | None = None
    level: int = 0
    escalation_start: float | None = None


class Recorder(Protocol):
    """Where attempts are written."""

    def record(self, attempt: Attempt) -> None:
        """Keep one attempt."""
        ...


@dataclass
class MemoryRecorder:
    """Keeps attempts in a list (tests, and the service until the DB recorder lands)."""

    attempts: list[Attempt] = field(default_factory=list)

    def record(self, attempt: Attempt) -> None:
        """Append."""
        self.attempts.append(attempt)


@dataclass(frozen=True)
class Retry:
    """Up to ``attempts`` tries; the wait before try n+1 is ``base * 2**(n-1)`` capped at
    ``cap``, scaled by a random factor in [0.5, 1) so receivers are not hit in lockstep."""

    attempts: int = 5
    base: float = 1.0
    cap: float = 60.0

    def delay(self, attempt: int, rng: Callable[[], float]) -> float:
        """Seconds to wait after failed try ``attempt``."""
        return float(min(self.cap, self.base * 2 ** (attempt - 1)) * (0.5 + rng() / 2))


class Deliverer:
    """Sends notifications through channels with retries, rate limits and records."""

    def __init__(self, channels: Mapping[str, Channel], receivers: Mapping[str, Receiver],
                 formatter: Formatter, recorder: Recorder, retry: Retry | None = None, *,
                 clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 rng: Callable[[], float] = random.random) -> None:
        self._channels = channels
        self._formatter = formatter
        self._recorder = recorder
        self._retry = retry or Retry()
        self._clock = clock
        self._sleep = sleep
        self._rng = rng
        self._limits = {name: RateLimit(r.rate_count, r.rate_per, clock, sleep)
                        for name, r in receivers.items()}

    async def deliver(self, note: Notification) -> bool:
        """Deliver one notification; True when it was sent."""
        ids = tuple(a.alert_id for a in (note.firing or note.resolved))
        channel = self._channels.get(note.receiver)
        if channel is None:
            self._record(note, ids, 1, "dead", "unknown receiver")
            return False
        message = self._formatter.render(note)
        for attempt in range(1, self._retry.attempts + 1):
            await self._limits[note.receiver].acquire()
            try:
                error = await channel.notify(message)
            except Exception as exc:
                # A channel bug must not stop the pager; the text may hold a URL, so name only.
                error = type(exc).__name__
            if error is None:
                self._record(note, ids, attempt, "sent", None)
                return True
            last = attempt == self._retry.attempts
            self._record(note, ids, attempt, "dead" if last else "failed", error)
            if last:
                log.error("notification_dead", receiver=note.receiver, kind=note.kind,
                          alert_ids=list(ids), attempts=attempt)
                return False
            await self._sleep(self._retry.delay(attempt, self._rng))
        return False

    def _record(self, note: Notification, ids: tuple[str, ...], attempt: int, status: str,
                error: str | None) -> None:
        self._recorder.record(Attempt(ids, note.receiver, note.kind, attempt, status, error,
                                      self._clock(), note.group, note.at, note.level,
                                      note.escalation_start))
