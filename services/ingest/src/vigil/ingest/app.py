"""Wiring of the ingest service: broker -> decode -> one transaction -> republish -> ack.

A message is acknowledged to the broker only after its rows (or its dead letter) are
committed and the resulting publishes are acknowledged by the broker, so a crash at any
instant loses nothing; the natural key makes the redelivery harmless.

Two stages overlap: while one batch is in the database, the next is decoded.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Sequence

import asyncpg
from prometheus_client import CollectorRegistry

from vigil.core import http, mqtt, topics
from vigil.core import logging as vlog
from vigil.core.db import connect
from vigil.core.inbox import Inbox, on_signals
from vigil.core.message import Message
from vigil.ingest import republish, writer
from vigil.ingest.metrics import IngestMetrics
from vigil.ingest.pipeline import Plan, Planner, device_id_of
from vigil.ingest.registry import Registry
from vigil.ingest.settings import IngestSettings

log = vlog.get(__name__)
CHANNELS: tuple[topics.DeviceChannel, ...] = ("telemetry", "hae", "glucose", "status")
# Connection-level failures are retried with the batch intact; anything else is a data error.
RETRYABLE = (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError,
             asyncpg.CannotConnectNowError, asyncpg.AdminShutdownError,
             asyncpg.ConnectionDoesNotExistError, TimeoutError,
             # A FATAL (terminated backend, shutdown) that reached an idle connection before
             # the socket closed surfaces as this on the next query.
             asyncpg.InternalClientError)


class Database:
    """One connection, reopened with back-off until the database answers."""

    def __init__(self, settings: IngestSettings, staging: bool) -> None:
        self._settings, self._staging = settings, staging
        self.conn: asyncpg.Connection | None = None
        self.ok = False

    async def get(self) -> asyncpg.Connection:
        """The open connection (waits for the database as long as it takes)."""
        delay = 0.2
        while self.conn is None or self.conn.is_closed():
            try:
                self.conn = await connect(self._settings)
                if self._staging:
                    await writer.prepare(self.conn)
                self.ok = True
            except (*RETRYABLE, asyncpg.PostgresError) as exc:
                self.ok = False
                log.warning("db_connect_failed", error=type(exc).__name__, retry_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        return self.conn

    def failed(self) -> None:
        """Drop the connection after an error; the next get() reconnects."""
        self.ok = False
        if self.conn is not None:
            self.conn.terminate()
            self.conn = None


class IngestService:
    """One ingest replica."""

    def __init__(self, settings: IngestSettings, registry: CollectorRegistry | None = None):
        self.settings = settings
        self.registry = registry or CollectorRegistry()
        self.metrics = IngestMetrics(self.registry)
        self._devices = Registry(settings.ingest_registry_ttl_s)
        self._planner = Planner(self._devices, settings.ingest_max_payload_bytes)
        self._writes = Database(settings, staging=True)
        self._lookups = Database(settings, staging=False)
        self._inbox = Inbox()
        self._planned: asyncio.Queue[tuple[list[Message], Plan]] = asyncio.Queue(maxsize=1)
        self._stop = asyncio.Event()
        self.mqtt = mqtt.Client(
            settings.mqtt, settings.ingest_client_id, manual_ack=True,
            on_message=self._inbox.put, receive_maximum=settings.ingest_receive_maximum,
        )

    def health(self) -> tuple[bool, dict[str, object]]:
        """Ready when connected to the broker and the last database use succeeded."""
        db_ok = self._writes.ok and self._lookups.ok
        return self.mqtt.connected and db_ok, {"mqtt": self.mqtt.connected, "database": db_ok,
                                               "pending": len(self._inbox)}

    def stop(self) -> None:
        """Finish the current batch, then leave (unacknowledged messages stay in the session)."""
        self._stop.set()
        self._inbox.wake()

    async def run(self) -> None:
        """Serve until :meth:`stop` (or SIGTERM/SIGINT)."""
        loop = asyncio.get_running_loop()
        self._inbox.bind(loop)
        on_signals(loop, self.stop)
        await self._writes.get()
        await self._lookups.get()
        server = None
        if self.settings.ingest_http_port:
            server = await http.serve(self.settings.ingest_http_host,
                                      self.settings.ingest_http_port, self.registry, self.health)
        group = self.settings.ingest_group
        for channel in CHANNELS:
            topic_filter = topics.device_filter(channel)
            if self.settings.ingest_shared_subscription:
                topic_filter = topics.shared(group, topic_filter)
            self.mqtt.subscribe(topic_filter, qos=1)
        await asyncio.to_thread(self.mqtt.connect)
        log.info("ingest_started", group=group, client_id=self.settings.ingest_client_id,
                 shared=self.settings.ingest_shared_subscription)
        consumer = asyncio.create_task(self._commit_loop())
        try:
            await self._plan_loop()
            await self._planned.join()
        finally:
            consumer.cancel()
            self.mqtt.close()
            if server:
                server.close()
            for db in (self._writes, self._lookups):
                if db.conn is not None:
                    await db.conn.close()
            log.info("ingest_stopped")

    async def _plan_loop(self) -> None:
        linger = self.settings.ingest_flush_ms / 1000
        size = self.settings.ingest_batch_messages
        while not self._stop.is_set():
            await self._inbox.wait()
            if linger and len(self._inbox) < size:
                await asyncio.sleep(linger)
            while self._inbox and not self._stop.is_set():
                await self._refresh_registry(size)
                batch, plan = self._planner.take(self._inbox.messages, size,
                                                 self.settings.ingest_batch_rows)
                self.metrics.pending.set(len(self._inbox) + len(batch))
                await self._planned.put((batch, plan))

    async def _refresh_registry(self, size: int) -> None:
        """Make sure the devices of the next ``size`` messages are looked up."""
        # One C call copies the head of the deque: the network thread may append meanwhile.
        head = list(itertools.islice(self._inbox.messages, size))
        ids = {d for m in head if (d := device_id_of(m.topic))}
        while True:
            try:
                await self._devices.ensure(await self._lookups.get(), ids)
                return
            except RETRYABLE as exc:
                log.warning("registry_lookup_failed", error=type(exc).__name__)
                self._lookups.failed()
                await asyncio.sleep(0.5)

    async def _commit_loop(self) -> None:
        while True:
            batch, plan = await self._planned.get()
            try:
                await self._commit_safely(batch, plan)
            finally:
                self._planned.task_done()

    async def _commit_safely(self, batch: list[Message], plan: Plan) -> None:
        """A bug or a row the database refuses must not stop the service: isolate it."""
        try:
            await self._commit(batch, plan)
        except Exception as exc:
            if len(batch) == 1:
                log.exception("message_failed", topic=batch[0].topic)
                await self._dead_letter(batch[0], exc)
                self.mqtt.ack(batch[0])
                return
            self.metrics.internal_errors.inc()
            log.warning("batch_failed", messages=len(batch), error=type(exc).__name__)
            for m in batch:
                await self._commit_safely([m], self._planner.plan([m]))

    async def _commit(self, batch: list[Message], plan: Plan) -> None:
        self.metrics.lag_seconds.set((time.monotonic_ns() - batch[0].received_ns) / 1e9)
        delay = 0.2
        while True:
            try:
                started = time.perf_counter()
                changed = await writer.write(await self._writes.get(), plan.batch)
                self.metrics.commit_seconds.observe(time.perf_counter() - started)
                break
            except RETRYABLE as exc:
                self.metrics.db_errors.inc()
                log.warning("db_write_failed", error=type(exc).__name__, retry_s=delay)
                self._writes.failed()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        pubs = republish.publish(self.mqtt, plan, changed, self.settings.readings_shards)
        await self.mqtt.wait_published(pubs)
        for m in batch:
            self.mqtt.ack(m)
        self._count(plan, changed)

    async def _dead_letter(self, m: Message, exc: Exception) -> None:
        reason = f"could not be stored: {type(exc).__name__}: {str(exc)[:300]}"
        while True:
            try:
                await (await self._writes.get()).execute(
                    "INSERT INTO dead_letters (stage, topic, device_id, reason, payload)"
                    " VALUES ('ingest', $1, $2, $3, $4)", m.topic, device_id_of(m.topic), reason,
                    m.payload[:65536])
                break
            except RETRYABLE:
                self._writes.failed()
                await asyncio.sleep(0.5)
        self.metrics.rejected.labels("db").inc()
        log.warning("dead_letter", reason="db", topic=m.topic)

    def _count(self, plan: Plan, changed: Sequence[asyncpg.Record]) -> None:
        for channel, n in plan.received.items():
            self.metrics.received.labels(channel).inc(n)
        for reason, n in plan.rejected.items():
            self.metrics.rejected.labels(reason).inc(n)
            log.info("dead_letter", reason=reason, count=n)
        self.metrics.stored.inc(len(changed))
        self.metrics.unchanged.inc(len(plan.batch.rows) - len(changed))
        self.metrics.batch_rows.observe(len(plan.batch.rows))
        if plan.gaps:
            self.metrics.sequence_gaps.inc(plan.gaps)
