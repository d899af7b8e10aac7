"""Fixtures that start real Mosquitto, PostgreSQL and Redis servers for the whole session, and
per test a fresh database with a running ingest process (the real `python -m vigil.ingest`)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest

from vigil.cli.processes import ServiceProcess
from vigil.cli.servers import Mosquitto, Postgres, Redis, free_port
from vigil.core.migrate import migrate

T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even inside a running event loop."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


@dataclass
class Servers:
    """The session's servers."""

    home: Path
    broker: Mosquitto
    postgres: Postgres
    redis: Redis

    @property
    def mqtt_url(self) -> str:
        """Broker URL."""
        return f"mqtt://127.0.0.1:{self.broker.port}"

    @property
    def database_url(self) -> str:
        """Superuser URL of the main database."""
        return self.postgres.url

    @property
    def redis_url(self) -> str:
        """Redis URL."""
        return f"redis://127.0.0.1:{self.redis.port}/0"


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    """Mosquitto, PostgreSQL and Redis on free ports under a temporary folder."""
    # Not pytest's tmp_path: that is private to root, and PostgreSQL runs as `postgres`.
    home = Path(tempfile.mkdtemp(prefix="vigil-test-"))
    home.chmod(0o755)
    s = Servers(home, Mosquitto(home / "mosquitto", free_port(), autosave_s=1),
                Postgres(home / "postgres", free_port(), durable=False),
                Redis(home / "redis", free_port()))
    try:
        for server in (s.broker, s.postgres, s.redis):
            server.start()
        yield s
    finally:
        for server in (s.broker, s.postgres, s.redis):
            server.stop()
        shutil.rmtree(home, ignore_errors=True)


def fetch(url: str, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Run one query on a new connection; rows as tuples."""

    async def go() -> list[tuple[Any, ...]]:
        conn = await asyncpg.connect(url)
        try:
            return [tuple(r) for r in await conn.fetch(sql, *args)]
        finally:
            await conn.close()

    return run_sync(go())


@pytest.fixture
def fresh_database_url(servers: Servers) -> Iterator[str]:
    """A new empty database, dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    servers.postgres.psql(f"CREATE DATABASE {name}")
    yield servers.postgres.url_for(name)
    servers.postgres.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@dataclass
class Stack:
    """A migrated database and a running ingest replica, private to one test."""

    servers: Servers
    database_url: str
    env: dict[str, str]
    ingest: ServiceProcess
    extra: list[ServiceProcess] = field(default_factory=list)

    @property
    def mqtt_url(self) -> str:
        """Broker URL."""
        return self.servers.mqtt_url

    def fetch(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """Rows of a query against this test's database."""
        return fetch(self.database_url, sql, *args)

    def wait_count(self, sql: str, expected: int, timeout: float = 30.0) -> int:
        """Poll a count query until it equals ``expected`` (or time out); return the last count."""
        deadline = time.monotonic() + timeout
        while True:
            count = int(self.fetch(sql)[0][0])
            if count == expected or time.monotonic() > deadline:
                return count
            time.sleep(0.1)

    def add_device(self, device_id: str, kind: str = "oximeter",
                   patient_id: str | None = None) -> str:
        """Register a device (and its patient); return the patient id."""
        patient = patient_id or f"p-{device_id}"
        self.fetch("INSERT INTO patients (patient_id) VALUES ($1) ON CONFLICT DO NOTHING",
                   patient)
        self.fetch("INSERT INTO devices (device_id, kind, patient_id) VALUES ($1, $2, $3)",
                   device_id, kind, patient)
        return patient

    def replica(self, name: str) -> ServiceProcess:
        """Another ingest replica; both then use the group's shared subscription.

        The fixture's first replica is restarted in shared mode too, so that the two split the
        messages instead of both receiving all of them.
        """
        self.env["VIGIL_INGEST_SHARED_SUBSCRIPTION"] = "true"
        self.ingest.stop()
        _forget_session(self.servers.mqtt_url, self.env["VIGIL_INGEST_CLIENT_ID"])
        self.ingest.env.update(self.env)
        self.ingest.start()
        env = {**self.env, "VIGIL_INGEST_CLIENT_ID": f"{self.env['VIGIL_INGEST_GROUP']}-{name}",
               "VIGIL_INGEST_HTTP_PORT": str(free_port())}
        proc = ServiceProcess(f"ingest-{name}", self.ingest.home, "vigil.ingest", env,
                              int(env["VIGIL_INGEST_HTTP_PORT"]))
        self.extra.append(proc)
        return proc


def _forget_session(url: str, client_id: str) -> None:
    """Remove a persistent session so the shared broker stops queueing for it."""
    from vigil.core.config import MqttUrl
    from vigil.core.mqtt import Client

    c = Client(MqttUrl.parse(url), client_id, clean_start=True, session_expiry=0)
    c.connect()
    c.close()


def _clear_retained(url: str) -> None:
    """Delete retained device statuses, so a later test's ingest does not receive them."""
    from vigil.core.config import MqttUrl
    from vigil.core.message import Message
    from vigil.core.mqtt import Client

    seen: list[str] = []

    def keep(m: Message) -> None:
        if m.retain and m.payload:
            seen.append(m.topic)

    c = Client(MqttUrl.parse(url), f"test-clear-{uuid.uuid4().hex[:8]}", clean_start=True,
               on_message=keep)
    c.subscribe("vigil/v1/devices/+/status")
    c.connect()
    time.sleep(0.3)
    for p in [c.publish(t, b"", retain=True) for t in set(seen)]:
        p.wait(10)
    c.close()


@pytest.fixture
def stack(servers: Servers, fresh_database_url: str) -> Iterator[Stack]:
    """Fresh database, migrated, and one ingest process in a group of its own."""

    async def _migrate() -> None:
        conn = await asyncpg.connect(fresh_database_url)
        try:
            await migrate(conn)
        finally:
            await conn.close()

    run_sync(_migrate())
    group = f"ingest-{uuid.uuid4().hex[:8]}"
    port = free_port()
    env = {
        "VIGIL_MQTT_URL": servers.mqtt_url,
        "VIGIL_DATABASE_URL": fresh_database_url,
        "VIGIL_REDIS_URL": servers.redis_url,
        "VIGIL_ENVIRONMENT": "test",
        "VIGIL_INGEST_GROUP": group,
        "VIGIL_INGEST_CLIENT_ID": f"{group}-0",
        "VIGIL_INGEST_HTTP_PORT": str(port),
        "VIGIL_INGEST_REGISTRY_TTL_S": "5",
        # One replica, as in the local stack; Stack.replica() switches to a shared group.
        "VIGIL_INGEST_SHARED_SUBSCRIPTION": "false",
        "VIGIL_LOG_LEVEL": os.environ.get("VIGIL_LOG_LEVEL", "WARNING"),
    }
    ingest = ServiceProcess("ingest", servers.home / "procs" / group, "vigil.ingest", env, port)
    ingest.start()
    s = Stack(servers, fresh_database_url, env, ingest)
    try:
        yield s
    finally:
        for proc in (ingest, *s.extra):
            proc.stop()
        if servers.broker.running():
            _clear_retained(servers.mqtt_url)
            for proc in (ingest, *s.extra):
                _forget_session(servers.mqtt_url, proc.env["VIGIL_INGEST_CLIENT_ID"])
