"""Per-receiver rate limit: at most ``count`` sends in any ``per``-second window."""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable


class RateLimit:
    """A sliding window; ``acquire`` waits (on the injected sleep) until a send is allowed.

    Waiting rather than dropping: a page that is late is better than a page that is lost.
    """

    def __init__(self, count: int, per: float, clock: Callable[[], float],
                 sleep: Callable[[float], Awaitable[None]]) -> None:
        self._count = count
        self._per = per
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()

    async def acquire(self) -> float:
        """Take a slot; returns how long it waited."""
        waited = 0.0
        while True:
            now = self._clock()
            while self._sent and self._sent[0] <= now - self._per:
                self._sent.popleft()
            if len(self._sent) < self._count:
                self._sent.append(now)
                return waited
            delay = self._sent[0] + self._per - now
            waited += delay
            await self._sleep(delay)
