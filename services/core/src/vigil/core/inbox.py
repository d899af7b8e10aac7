"""Hand-over of MQTT messages from paho's network thread to a service's asyncio loop."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections import deque
from collections.abc import Callable

from vigil.core.message import Message


class Inbox:
    """A deque filled by the network thread; the loop waits on it.

    At most one wake-up is pending at a time, so a burst of messages costs one cross-thread
    call, not one per message.
    """

    def __init__(self) -> None:
        self.messages: deque[Message] = deque()
        self._wake = asyncio.Event()
        self._pending = False
        self._loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Attach to the loop that consumes (call from that loop before messages arrive)."""
        self._loop = loop

    def put(self, message: Message) -> None:
        """Network thread: queue ``message`` and wake the loop."""
        self.messages.append(message)
        if not self._pending and self._loop is not None:
            self._pending = True
            self._loop.call_soon_threadsafe(self._wake.set)

    def wake(self) -> None:
        """Loop thread: wake the waiter without a message (to stop)."""
        self._wake.set()

    async def wait(self) -> None:
        """Until messages were put (or :meth:`wake`)."""
        await self._wake.wait()
        self._wake.clear()
        self._pending = False

    def take(self, n: int) -> list[Message]:
        """Up to ``n`` messages from the front."""
        return [self.messages.popleft() for _ in range(min(n, len(self.messages)))]

    def __len__(self) -> int:
        return len(self.messages)


def on_signals(loop: asyncio.AbstractEventLoop, stop: Callable[[], None]) -> None:
    """Call ``stop`` on SIGTERM and SIGINT (a no-op outside the main thread, as in tests)."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop)
