"""Support for the cache tests (no tests here): a requesting client and a cache process.

Named test_cache_*.py only because the cache's tests own that pattern; pytest finds nothing
to run in it.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import redis

from vigil.cli.processes import ServiceProcess
from vigil.cli.servers import free_port
from vigil.core import topics
from vigil.core.config import MqttUrl
from vigil.core.message import Message
from vigil.core.mqtt import Client

REDIS_DB = 9  # the session's Redis is shared: cache tests use their own db index and prefix


class Requester:
    """An MQTT 5 client asking the cache (response topic + correlation data)."""

    def __init__(self, url: str) -> None:
        self.topic = f"test/cache/responses/{uuid.uuid4().hex[:8]}"
        self._answers: dict[bytes, Message] = {}
        self._cond = threading.Condition()
        self._c = Client(MqttUrl.parse(url), f"test-req-{uuid.uuid4().hex[:8]}",
                         clean_start=True, on_message=self._on)
        self._c.subscribe(self.topic, qos=1)
        self._c.connect()
        time.sleep(0.2)

    def _on(self, m: Message) -> None:
        with self._cond:
            self._answers[m.correlation_data or b""] = m
            self._cond.notify_all()

    def raw(self, payload: bytes, timeout: float = 10.0) -> dict[str, Any]:
        """Send any payload; return the decoded answer."""
        corr = uuid.uuid4().bytes
        self._c.publish(topics.CACHE_REQUESTS, payload, qos=1, correlation_data=corr,
                        response_topic=self.topic)
        with self._cond:
            assert self._cond.wait_for(lambda: corr in self._answers, timeout), "no answer"
            answer: dict[str, Any] = json.loads(self._answers.pop(corr).payload)
            return answer

    def ask(self, **request: Any) -> dict[str, Any]:
        """Send a request; return the decoded answer."""
        return self.raw(json.dumps(request).encode())

    def close(self) -> None:
        """Disconnect."""
        self._c.close()


@dataclass
class Cache:
    """A running cache process with a client, its Redis database and its health."""

    proc: ServiceProcess
    req: Requester
    redis: redis.Redis
    prefix: str

    def health(self) -> dict[str, Any]:
        """/healthz body, whatever the status code."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.proc.port}/healthz") as r:
                body: dict[str, Any] = json.loads(r.read())
        except urllib.error.HTTPError as exc:
            body = json.loads(exc.read())
        return body

    def metric(self, name: str) -> float:
        """Sum of a metric's samples on /metrics."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.proc.port}/metrics") as r:
            lines = r.read().decode().splitlines()
        return sum(float(x.rsplit(" ", 1)[1]) for x in lines
                   if x.startswith(name) and not x.startswith("#"))


@contextmanager
def running_cache(stack: Any, servers: Any) -> Iterator[Cache]:
    """A cache replica of its own (group, client id, key prefix) on a test's stack."""
    name = f"cache-{uuid.uuid4().hex[:8]}"
    port = free_port()
    redis_url = f"redis://127.0.0.1:{servers.redis.port}/{REDIS_DB}"
    prefix = f"{name}:"
    env = {**stack.env, "VIGIL_REDIS_URL": redis_url, "VIGIL_CACHE_KEY_PREFIX": prefix,
           "VIGIL_CACHE_CLIENT_ID": name, "VIGIL_CACHE_GROUP": name,
           "VIGIL_CACHE_HTTP_PORT": str(port), "VIGIL_CACHE_STATE_INTERVAL_S": "0.5"}
    proc = ServiceProcess("cache", servers.home / "procs" / name, "vigil.cache", env, port)
    proc.start()
    r = redis.Redis.from_url(redis_url)
    c = Cache(proc, Requester(servers.mqtt_url), r, prefix)
    try:
        yield c
    finally:
        c.req.close()
        proc.stop()
        forget = Client(MqttUrl.parse(servers.mqtt_url), name, clean_start=True,
                        session_expiry=0)
        forget.connect()
        forget.close()
        keys = list(r.scan_iter(match=f"{prefix}*", count=1000))
        if keys:
            r.unlink(*keys)
        r.close()
