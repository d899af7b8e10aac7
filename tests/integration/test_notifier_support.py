"""Local receivers and helpers for the notifier's integration tests (no tests here)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from vigil.core import mqtt
from vigil.core.config import MqttUrl

if TYPE_CHECKING:
    from vigil.notifier.app import NotifierService


def free_port() -> int:
    """A TCP port free right now on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(check: Callable[[], bool], timeout: float = 15.0) -> bool:
    """Poll ``check`` until true or ``timeout``; return the last result."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


class Hook:
    """A webhook receiver: records JSON bodies; answers 500 to the first ``fail`` requests."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.posts: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()


@contextlib.contextmanager
def webhook() -> Iterator[tuple[int, Hook]]:
    """Serve a :class:`Hook` on a free port until the block ends."""
    state = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with state.lock:
                failing = state.fail > 0
                state.fail -= 1
                if not failing:
                    state.posts.append((self.path, json.loads(body)))
            self.send_response(500 if failing else 200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server.server_address[1], state
    finally:
        server.shutdown()
        server.server_close()


async def until(check: Callable[[], bool], within: float = 10.0) -> bool:
    """Async :func:`wait_for`: poll without blocking the loop the notifier runs in."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


def forget_session(mqtt_url: str, client_id: str) -> None:
    """Drop a persistent session so the shared broker stops queueing for it."""
    c = mqtt.Client(MqttUrl.parse(mqtt_url), client_id, clean_start=True, session_expiry=0)
    c.connect()
    c.close()


class InProcess:
    """A real :class:`NotifierService` in the test's event loop, on a fake clock, with the
    real broker, database and HTTP API. ``restart()`` is a new service, as after a crash."""

    def __init__(self, stack: Any, clock: Any, routing: str | None = None,
                 **settings: Any) -> None:
        self.stack, self.clock = stack, clock
        self.port = free_port()
        self.client_id = f"notifier-{uuid.uuid4().hex[:8]}"
        self.settings: dict[str, Any] = {
            "mqtt_url": stack.mqtt_url, "database_url": stack.database_url,
            "notifier_http_host": "127.0.0.1", "notifier_http_port": self.port,
            "notifier_client_id": self.client_id, "notifier_retry_base_s": 0.01,
            "notifier_retry_cap_s": 0.05, **settings}
        if routing is not None:
            path = stack.ingest.home / f"{self.client_id}.yaml"
            path.write_text(routing)
            self.settings["notifier_routing_file"] = str(path)
        self.service: NotifierService | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        """Base URL of the HTTP API."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def live(self) -> NotifierService:
        """The running service."""
        assert self.service is not None
        return self.service

    async def start(self) -> InProcess:
        """Start and wait until ready (restored, connected)."""
        from vigil.notifier.app import NotifierService
        from vigil.notifier.settings import NotifierSettings

        self.service = NotifierService(NotifierSettings(**self.settings), clock=self.clock)
        self._task = asyncio.create_task(self.service.run())
        service = self.service
        assert await until(lambda: service.health()[0] or self._task is None
                           or self._task.done())
        if self._task.done():
            self._task.result()
        return self

    async def stop(self) -> None:
        """Stop as on SIGTERM."""
        if self.service is not None and self._task is not None:
            self.service.stop()
            await self._task
        self.service, self._task = None, None

    async def restart(self) -> None:
        """Stop, then start a new service with the same settings and client id."""
        await self.stop()
        await self.start()

    async def at(self, offset: float, settle: float = 0.0) -> None:
        """Let the fake clock run to NOON + ``offset``, stopping at every moment the
        dispatcher has something due (as real time would), and let the service act."""
        from services.notifier.tests.notifier_testkit import NOON

        target = NOON + offset
        dispatcher = self.live.dispatcher
        while (due := dispatcher.next_due()) is not None and self.clock.now < due <= target:
            self.clock.now = due
            self.live.wake()
            assert await until(lambda due=due: dispatcher.next_due() != due, within=5)
        self.clock.now = target
        self.live.wake()
        await asyncio.sleep(0.05 + settle)

    async def close(self) -> None:
        """Stop and forget the broker session."""
        await self.stop()
        await asyncio.to_thread(forget_session, self.stack.mqtt_url, self.client_id)


@contextlib.asynccontextmanager
async def in_process(stack: Any, clock: Any, routing: str | None = None,
                     **settings: Any) -> AsyncIterator[InProcess]:
    """A started :class:`InProcess` notifier, closed at the end of the block."""
    notifier = InProcess(stack, clock, routing, **settings)
    await notifier.start()
    try:
        yield notifier
    finally:
        await notifier.close()
