"""Wiring of the rules service: owned shards -> engine -> alert rows -> AlertEvent -> ack.

A readings message is acknowledged to the broker only after the alert rows it caused are
committed and their events acknowledged by the broker. Alert rows carry an outbox flag, so a
crash between commit and publish republishes on restart; ids are deterministic, so a
redelivered message or a replay never creates a second alert.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

import asyncpg
from google.protobuf.message import DecodeError
from prometheus_client import CollectorRegistry

from vigil.core import http, mqtt, topics
from vigil.core import logging as vlog
from vigil.core.db import connect
from vigil.core.inbox import Inbox, on_signals
from vigil.core.message import Message
from vigil.rules import store
from vigil.rules.events import from_row, from_transition, to_dt, to_ms
from vigil.rules.lifecycle import Transition
from vigil.rules.metrics import RulesMetrics
from vigil.rules.rebuild import rebuild
from vigil.rules.reload import Reloader
from vigil.rules.settings import RulesSettings
from vigil.rules.state import Engine, Reading
from vigil.v1 import alerts_pb2, readings_pb2

log = vlog.get(__name__)
_IDLE_MARKS_S = 0.2  # outbox marks are written alone after this long without a message
_RETRYABLE = (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError,
              asyncpg.CannotConnectNowError, asyncpg.AdminShutdownError,
              asyncpg.ConnectionDoesNotExistError, TimeoutError)


class RulesService:
    """One rules replica: owns the shards ``s % replicas == ordinal``."""

    def __init__(self, settings: RulesSettings, registry: CollectorRegistry | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.registry = registry or CollectorRegistry()
        self.metrics = RulesMetrics(self.registry)
        self.clock = clock
        self.shards = set(settings.owned_shards())
        self.reloader = Reloader(settings.rules_file, self.metrics)
        self.engine = Engine(self.reloader.ruleset(), settings.rules_max_future_skew_s)
        self._inbox = Inbox()
        self._lock = asyncio.Lock()
        self._conn: asyncpg.Connection | None = None
        self._db_ok = False
        self._ready = False
        self._stop = asyncio.Event()
        self._progress: dict[str, int] = {}
        self._progress_at = 0.0
        self.mqtt = mqtt.Client(settings.mqtt, settings.rules_client_id, manual_ack=True,
                                on_message=self._inbox.put,
                                receive_maximum=settings.rules_receive_maximum)

        # Alert ids whose events the broker acknowledged; their outbox flags are cleared with
        # the next write, or once the inbox idles, never on the path of the next alert.
        self._marks: list[str] = []

    def owns(self, patient_id: str) -> bool:
        """Whether this replica evaluates ``patient_id``."""
        return topics.shard_of(patient_id, self.settings.readings_shards) in self.shards

    def _now_ms(self) -> int:
        return int(self.clock() * 1000)

    def health(self) -> tuple[bool, dict[str, object]]:
        """Ready once state is rebuilt, the broker connected and the database answering."""
        ok = self._ready and self.mqtt.connected and self._db_ok
        return ok, {"rebuilt": self._ready, "mqtt": self.mqtt.connected,
                    "database": self._db_ok, "shards": len(self.shards),
                    "patients": len(self.engine.patients), "pending": len(self._inbox)}

    def stop(self) -> None:
        """Finish the current batch, then leave (unacknowledged messages stay queued)."""
        self._stop.set()
        self._inbox.wake()

    async def run(self) -> None:
        """Serve until :meth:`stop` (or SIGTERM/SIGINT)."""
        loop = asyncio.get_running_loop()
        self._inbox.bind(loop)
        on_signals(loop, self.stop)
        server = None
        if self.settings.rules_http_port:
            server = await http.serve(self.settings.rules_http_host,
                                      self.settings.rules_http_port, self.registry, self.health)
        tasks: list[asyncio.Task[None]] = []
        try:
            await self._start()
            tasks = [asyncio.create_task(self._every(self.settings.rules_tick_s, self._tick)),
                     asyncio.create_task(self._every(self.settings.rules_reload_s,
                                                     self._reload))]
            await self._flush_loop()
        finally:
            for task in tasks:
                task.cancel()
            self.mqtt.close()
            if server:
                server.close()
            if self._conn is not None:
                await self._conn.close()
            log.info("rules_stopped")

    async def _start(self) -> None:
        conn = await self._db()
        await self.reloader.refresh_overrides(conn)
        self.engine.set_rules(self.reloader.ruleset())
        # Connect first: queued readings wait in the inbox until the state is rebuilt, and
        # the outbox goes out before the replay can resolve an alert nobody heard fire.
        for shard in sorted(self.shards):
            self.mqtt.subscribe(topics.readings_filter(shard), qos=1)
        self.mqtt.subscribe(topics.ACKS, qos=1)
        await asyncio.to_thread(self.mqtt.connect)
        outbox = [r for r in await store.unpublished(conn) if self.owns(r["patient_id"])]
        await self._publish([], [ev for r in outbox for ev in from_row(r)])
        started = time.perf_counter()
        patients, replayed = await rebuild(conn, self.engine, self.owns,
                                           self.settings.rules_rebuild_s, self._now_ms())
        applied = await self._write(replayed)
        self.engine.reconcile(patients, [
            (r["patient_id"], r["rule"], r["alert_id"], to_ms(r["started_at"]), r["severity"])
            for r in await store.firing(await self._db()) if self.owns(r["patient_id"])])
        await self._publish(applied)
        log.info("rules_rebuilt", patients=len(patients), replayed=len(replayed),
                 recovered=len(applied), republished=len(outbox),
                 seconds=round(time.perf_counter() - started, 3))
        self._ready = True
        log.info("rules_started", client_id=self.settings.rules_client_id,
                 shards=len(self.shards), ordinal=self.settings.rules_ordinal,
                 replicas=self.settings.rules_replicas)
        self._inbox.wake()

    async def _every(self, seconds: float, job: Callable[[], object]) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                await job()  # type: ignore[misc]
            except Exception:
                log.exception("periodic_job_failed", job=getattr(job, "__name__", "?"))

    async def _tick(self) -> None:
        async with self._lock:
            status = await store.devices(await self._db())
            self.engine.set_devices({p: d for p, d in status.items() if self.owns(p)})
            ts = self.engine.tick(self._now_ms())
            if ts:
                await self._publish(await self._write(ts))

    async def _reload(self) -> None:
        async with self._lock:  # one connection: never two queries at once
            changed = self.reloader.refresh_file()
            changed |= await self.reloader.refresh_overrides(await self._db())
            if changed:
                ts = self.engine.set_rules(self.reloader.ruleset())
                if ts:
                    await self._publish(await self._write(ts))

    async def _flush_loop(self) -> None:
        size = self.settings.rules_batch_messages
        while not self._stop.is_set():
            try:
                await asyncio.wait_for(self._inbox.wait(), _IDLE_MARKS_S if self._marks else None)
            except TimeoutError:
                async with self._lock:
                    await self._write([], flush_marks=True)
                continue
            while self._inbox and not self._stop.is_set():
                batch = self._inbox.take(size)
                async with self._lock:
                    await self._process(batch)

    async def _process(self, batch: list[Message]) -> None:
        started = time.perf_counter()
        now_ms = self._now_ms()
        e = self.engine
        before = (e.evaluations, e.duplicates, e.skewed)
        ts: list[Transition] = []
        acks: list[alerts_pb2.AlertAck] = []
        progress = self._progress
        for m in batch:
            try:
                if m.topic == topics.ACKS:
                    ack = alerts_pb2.AlertAck.FromString(m.payload)
                    if ack.alert_id and (not ack.patient_id or self.owns(ack.patient_id)):
                        acks.append(ack)
                    continue
                rb = readings_pb2.ReadingBatch.FromString(m.payload)
            except DecodeError:
                self.metrics.rejected.inc()
                log.warning("undecodable_message", topic=m.topic)
                continue
            if not rb.patient_id or not self.owns(rb.patient_id):
                continue
            self.metrics.readings.inc(len(rb.readings))
            try:
                ts += e.process(rb.patient_id, [Reading(r.time_ms, r.metric, r.value,
                                                        r.device_id) for r in rb.readings], now_ms)
            except Exception:  # a bug must not stop every other patient's alerts
                self.metrics.rejected.inc()
                log.exception("evaluation_failed", patient_id=rb.patient_id)
                continue
            mark = e.patient(rb.patient_id).watermark_ms
            if mark is not None:
                progress[rb.patient_id] = mark
        self.metrics.evaluations.inc(e.evaluations - before[0])
        self.metrics.duplicates.inc(e.duplicates - before[1])
        self.metrics.skewed.inc(e.skewed - before[2])
        self.metrics.evaluation_seconds.observe(time.perf_counter() - started)
        self.metrics.patients.set(len(e.patients))
        # Progress may lag (a restart then replays a little more, harmlessly): it is written
        # with alerts, or once a second, not on every batch of the hot path.
        due = ts or time.monotonic() - self._progress_at >= 1.0
        applied = await self._write(ts, acks, progress if due else None)
        if due:
            self._progress, self._progress_at = {}, time.monotonic()
        await self._publish(applied)
        for m in batch:
            self.mqtt.ack(m)

    async def _write(self, ts: Sequence[Transition], acks: Sequence[alerts_pb2.AlertAck] = (),
                     progress: dict[str, int] | None = None, flush_marks: bool = False,
                     ) -> list[Transition]:
        """Commit transitions, acks and progress, retrying until the database takes them.

        Pending outbox marks ride along in the same transaction, before the transitions (a
        resolve written now must stay pending); alone only with ``flush_marks``.
        """
        if not ts and not acks and not progress and not (flush_marks and self._marks):
            return []
        marks, self._marks = self._marks, []
        delay = 0.2
        while True:
            try:
                conn = await self._db()
                applied = await store.write(conn, ts, progress, marks)
                for ack in acks:
                    at = to_dt(ack.at_ms or self._now_ms())
                    if await store.record_ack(conn, ack.alert_id, ack.by or "unknown", at):
                        self.metrics.acks.inc()
                self._db_ok = True
                return applied
            except _RETRYABLE as exc:
                self._db_ok = False
                self._marks = marks + self._marks
                marks = []
                self.metrics.db_errors.inc()
                log.warning("db_write_failed", error=type(exc).__name__, retry_s=delay)
                if self._conn is not None:
                    self._conn.terminate()
                    self._conn = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _publish(self, applied: Sequence[Transition],
                       extra: Sequence[alerts_pb2.AlertEvent] = ()) -> None:
        """Publish events, wait for the broker, then clear their outbox flags."""
        events = [from_transition(t) for t in applied] + list(extra)
        if not events:
            return
        pubs = [self.mqtt.publish(topics.alerts(ev.patient_id), ev.SerializeToString(), qos=1)
                for ev in events]
        await self.mqtt.wait_published(pubs)
        now = self.clock()
        for t in applied:
            state = "resolved" if t.kind == "resolved" else "firing"
            self.metrics.alerts.labels(t.rule, t.severity, state).inc()
            self.metrics.alert_latency.observe(max(0.0, now - t.reading_time_ms / 1000))
            log.info("alert_" + t.kind, alert_id=t.alert_id, rule=t.rule,
                     patient_id=t.patient_id, severity=t.severity)
        self._marks += [ev.alert_id for ev in events]

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
