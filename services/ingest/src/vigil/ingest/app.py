"""Wiring of the ingest service: broker -> decode -> one transaction -> republish -> ack.

A message is acknowledged to the broker only after its rows (or its dead letter) are
committed and the resulting ``ReadingBatch`` publishes are acknowledged by the broker, so a
crash at any instant loses nothing; the natural key makes the redelivery harmless.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import defaultdict, deque
from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg
from prometheus_client import CollectorRegistry
from vigil.core import http, mqtt, topics
from vigil.core import logging as vlog
from vigil.core.db import connect
from vigil.core.message import Message
from vigil.ingest.metrics import IngestMetrics
from vigil.ingest.pipeline import Plan, Planner, device_id_of
from vigil.ingest.registry import Registry
from vigil.ingest.settings import IngestSettings
from vigil.ingest.writer import write
from vigil.v1 import readings_pb2

log = vlog.get(__name__)
CHANNELS: tuple[topics.DeviceChannel, ...] = ("telemetry", "hae", "glucose", "status")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Connection-level failures are retried with the batch intact; anything else is a data error.
_RETRYABLE = (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError,
              asyncpg.CannotConnectNowError, asyncpg.AdminShutdownError,
              asyncpg.ConnectionDoesNotExistError, TimeoutError)


def _ms(t: datetime) -> int:
    return (t - _EPOCH) // _MS_DELTA


_MS_DELTA = datetime(1970, 1, 1, 0, 0, 0, 1000, tzinfo=UTC) - _EPOCH


class IngestService:
    """One ingest replica."""

    def __init__(self, settings: IngestSettings, registry: CollectorRegistry | None = None):
        self.settings = settings
        self.registry = registry or CollectorRegistry()
        self.metrics = IngestMetrics(self.registry)
        self._devices = Registry(settings.ingest_registry_ttl_s)
        self._planner = Planner(self._devices, settings.ingest_max_payload_bytes)
        self._inbox: deque[Message] = deque()
        self._in_flight = 0
        self._wake = asyncio.Event()
        self._wake_pending = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conn: asyncpg.Connection | None = None
        self._db_ok = False
        self._stop = asyncio.Event()
        self.mqtt = mqtt.Client(
            settings.mqtt, settings.ingest_client_id, manual_ack=True,
            on_message=self._on_message, receive_maximum=settings.ingest_receive_maximum,
        )

    def _on_message(self, message: Message) -> None:
        """Network thread: queue and wake the flush loop (at most one pending wake-up)."""
        self._inbox.append(message)
        if not self._wake_pending and self._loop is not None:
            self._wake_pending = True
            self._loop.call_soon_threadsafe(self._wake.set)

    def health(self) -> tuple[bool, dict[str, object]]:
        """Ready when connected to the broker and the last database use succeeded."""
        ok = self.mqtt.connected and self._db_ok
        return ok, {"mqtt": self.mqtt.connected, "database": self._db_ok,
                    "pending": len(self._inbox) + self._in_flight}

    def stop(self) -> None:
        """Finish the current batch, then leave (unacknowledged messages stay in the session)."""
        self._stop.set()
        self._wake.set()

    async def run(self) -> None:
        """Serve until :meth:`stop` (or SIGTERM/SIGINT)."""
        self._loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self._loop.add_signal_handler(sig, self.stop)
            except (RuntimeError, ValueError):  # not the main thread (tests)
                break
        await self._db()
        server = None
        if self.settings.ingest_http_port:
            server = await http.serve(self.settings.ingest_http_host,
                                      self.settings.ingest_http_port, self.registry, self.health)
        group = self.settings.ingest_group
        for channel in CHANNELS:
            self.mqtt.subscribe(topics.shared(group, topics.device_filter(channel)), qos=1)
        await asyncio.to_thread(self.mqtt.connect)
        log.info("ingest_started", group=group, client_id=self.settings.ingest_client_id)
        try:
            await self._flush_loop()
        finally:
            self.mqtt.close()
            if server:
                server.close()
            if self._conn is not None:
                await self._conn.close()
            log.info("ingest_stopped")

    async def _flush_loop(self) -> None:
        linger = self.settings.ingest_flush_ms / 1000
        size = self.settings.ingest_batch_messages
        while not self._stop.is_set():
            await self._wake.wait()
            self._wake.clear()
            self._wake_pending = False
            if linger and len(self._inbox) < size:
                await asyncio.sleep(linger)
            while self._inbox and not self._stop.is_set():
                batch = [self._inbox.popleft() for _ in range(min(size, len(self._inbox)))]
                self._in_flight = len(batch)
                await self._process_safely(batch)
                self._in_flight = 0
            self.metrics.pending.set(len(self._inbox))

    async def _process_safely(self, batch: list[Message]) -> None:
        """A bug must not stop the service: isolate the message that triggers it."""
        try:
            await self._process(batch)
        except Exception:
            self.metrics.internal_errors.inc()
            log.exception("batch_failed", messages=len(batch))
            for m in batch:
                try:
                    await self._process([m])
                except Exception as exc:
                    log.exception("message_failed", topic=m.topic)
                    await self._dead_letter_db(m, exc, "internal error")
                    self.mqtt.ack(m)

    async def _db(self) -> asyncpg.Connection:
        """The connection, (re)opened with back-off until the database answers."""
        delay = 0.2
        while self._conn is None or self._conn.is_closed():
            try:
                self._conn = await connect(self.settings)
                self._db_ok = True
            except (*_RETRYABLE, asyncpg.PostgresError) as exc:
                self._db_ok = False
                log.warning("db_connect_failed", error=type(exc).__name__, retry_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        return self._conn

    async def _process(self, batch: list[Message]) -> None:
        self.metrics.lag_seconds.set((time.monotonic_ns() - batch[0].received_ns) / 1e9)
        self.metrics.pending.set(len(self._inbox) + len(batch))
        plan: Plan | None = None
        delay = 0.2
        while True:
            try:
                conn = await self._db()
                if plan is None:
                    ids = {d for m in batch if (d := device_id_of(m.topic))}
                    await self._devices.ensure(conn, ids)
                    plan = self._planner.plan(batch)
                started = time.perf_counter()
                changed = await write(conn, plan.batch)
                self.metrics.commit_seconds.observe(time.perf_counter() - started)
                self._db_ok = True
                break
            except _RETRYABLE as exc:
                self._db_ok = False
                self.metrics.db_errors.inc()
                log.warning("db_write_failed", error=type(exc).__name__, retry_s=delay)
                if self._conn is not None:
                    self._conn.terminate()
                    self._conn = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            except asyncpg.PostgresError as exc:
                if len(batch) == 1:
                    await self._dead_letter_db(batch[0], exc, "database refused the rows")
                    changed, plan = [], None
                    break
                # Find the message the database refuses; the others go through.
                for m in batch:
                    await self._process([m])
                return
        pubs = self._publish(plan, changed) if plan else []
        await mqtt.wait_all(pubs)
        for m in batch:
            self.mqtt.ack(m)
        self._count(plan, changed)

    async def _dead_letter_db(self, m: Message, exc: Exception, what: str) -> None:
        conn = await self._db()
        reason = f"{what}: {type(exc).__name__}: {str(exc)[:300]}"
        await conn.execute(
            "INSERT INTO dead_letters (stage, topic, device_id, reason, payload)"
            " VALUES ('ingest', $1, $2, $3, $4)", m.topic, device_id_of(m.topic), reason,
            m.payload[:65536])
        self.metrics.rejected.labels("db").inc()
        log.warning("dead_letter", reason="db", topic=m.topic)

    def _publish(self, plan: Plan, changed: Sequence[asyncpg.Record]) -> list[mqtt.Publish]:
        shards = self.settings.readings_shards
        by_patient: dict[str, list[readings_pb2.Reading]] = defaultdict(list)
        published: set[tuple[str, str, datetime]] = set()
        for r in changed:
            t, patient, device, metric, value, unit, quality = r
            by_patient[patient].append(readings_pb2.Reading(
                time_ms=_ms(t), metric=metric, value=value, unit=unit, quality=quality,
                device_id=device))
            if plan.replayed:
                published.add((device, metric, t))
        for key in plan.replayed - published:
            t, patient, device, metric, value, unit, quality = plan.batch.rows[key]
            by_patient[patient].append(readings_pb2.Reading(
                time_ms=_ms(t), metric=metric, value=value, unit=unit, quality=quality,
                device_id=device))
        now_ms = time.time_ns() // 1_000_000
        pubs = []
        for patient, readings in by_patient.items():
            readings.sort(key=lambda r: r.time_ms)
            msg = readings_pb2.ReadingBatch(patient_id=patient, readings=readings,
                                            committed_at_ms=now_ms)
            pubs.append(self.mqtt.publish(topics.readings(patient, shards),
                                          msg.SerializeToString(), qos=1))
        dlq = topics.dlq("ingest")
        for topic, payload, reason in plan.dlq:
            pubs.append(self.mqtt.publish(dlq, payload, qos=1, user_properties=[
                ("reason", reason[:1000]), ("topic", topic)]))
        return pubs

    def _count(self, plan: Plan | None, changed: Sequence[asyncpg.Record]) -> None:
        if plan is None:
            return
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
