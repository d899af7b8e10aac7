"""Wiring of the notifier: alerts and acks from MQTT → dispatcher → deliverer → records, and
the HTTP API (silences, snoozes, acks, ack links, metrics, health).

The dispatcher's state lives in memory; on start it is rebuilt from the firing rows of
``alerts``, the notification log (who was paged, each group's timing) and ``silences``, so a
restart neither forgets a firing alert nor pages it twice nor shifts its repeats and
escalation (see the README for what is still lost).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from google.protobuf.message import DecodeError
from prometheus_client import CollectorRegistry

from vigil.core import logging as vlog
from vigil.core import mqtt, topics
from vigil.core.db import connect
from vigil.core.inbox import Inbox, on_signals
from vigil.core.message import Message
from vigil.notifier import api, channel, config, store
from vigil.notifier.acklink import AckLinks
from vigil.notifier.annotations import Annotator
from vigil.notifier.annotations import stop as stop_annotations
from vigil.notifier.deliver import Attempt, Deliverer, Retry
from vigil.notifier.dispatch import Dispatcher, Notification, UnknownAlertError
from vigil.notifier.fatigue import FatigueMetrics
from vigil.notifier.message import Formatter
from vigil.notifier.metrics import NotifierMetrics
from vigil.notifier.model import Alert
from vigil.notifier.settings import NotifierSettings
from vigil.notifier.silence import Silence, Silences
from vigil.v1 import alerts_pb2

log = vlog.get(__name__)
ALERTS_FILTER = f"{topics.PREFIX}/alerts/+"
_IDLE_S = 1.0
_PUBLISH_WAIT_S = 5.0
_DRAIN_S = 5.0


@dataclass(frozen=True)
class AckResult:
    """An acknowledgement taken through the API or a link."""

    alert_id: str
    by: str
    at: float
    channel: str
    published: bool


class NotifierService:
    """One notifier process."""

    def __init__(self, settings: NotifierSettings, registry: CollectorRegistry | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.registry = registry or CollectorRegistry()
        self.metrics = NotifierMetrics(self.registry)
        self.clock = clock
        path = settings.notifier_routing_file
        self.config = config.load(Path(path)) if path else config.Config({}, None)
        secret = settings.notifier_ack_secret
        self.links = (AckLinks(secret.get_secret_value(), settings.public_url(),
                               settings.notifier_ack_ttl_s) if secret else None)
        formatter = Formatter(settings.notifier_grafana_url, self.config.timezone,
                              settings.notifier_ack_hint, self.links)
        self.silences = Silences()
        self.dispatcher = Dispatcher(self.config, self.silences, clock)
        self._pending: list[Attempt] = []
        self._pending_acks: list[tuple[str, str, float, str, str]] = []
        # Acks we published: when they come back on the topic they are not recorded twice.
        self._own_acks: set[tuple[str, str, int]] = set()
        self.deliverer = Deliverer(
            channel.build(self.config.receivers), self.config.receivers, formatter, self,
            Retry(settings.notifier_retry_attempts, settings.notifier_retry_base_s,
                  settings.notifier_retry_cap_s), clock=clock)
        self._inbox = Inbox()
        self._stop = asyncio.Event()
        self._conn: asyncpg.Connection | None = None
        self._db_lock = asyncio.Lock()
        self._db_ok = False
        self._tasks: set[asyncio.Task[None]] = set()
        token = settings.notifier_grafana_token
        self.annotator = Annotator(settings.notifier_grafana_api_url,
                                   token.get_secret_value() if token else None,
                                   settings.notifier_grafana_dashboard_uid,
                                   settings.notifier_grafana_timeout_s, registry=self.registry)
        self.fatigue = FatigueMetrics(self.registry)
        self._fatigue_at = 0.0
        self.mqtt = mqtt.Client(settings.mqtt, settings.notifier_client_id, manual_ack=True,
                                on_message=self._inbox.put)

    def record(self, attempt: Attempt) -> None:
        """Recorder: count now, write to the database in the loop."""
        self.metrics.attempts.labels(attempt.receiver, attempt.status).inc()
        self._pending.append(attempt)

    def health(self) -> tuple[bool, dict[str, object]]:
        """Ready when the broker is connected and the database answered."""
        ok = self.mqtt.connected and self._db_ok
        return ok, {"mqtt": self.mqtt.connected, "database": self._db_ok,
                    "routed": self.config.route is not None,
                    "receivers": len(self.config.receivers)}

    def stop(self) -> None:
        """Leave after the current step."""
        self._stop.set()
        self._inbox.wake()

    def wake(self) -> None:
        """Look at the dispatcher now (after a change made through the API, or a clock jump)."""
        self._inbox.wake()

    async def run(self) -> None:
        """Serve until :meth:`stop` (or SIGTERM/SIGINT)."""
        loop = asyncio.get_running_loop()
        self._inbox.bind(loop)
        on_signals(loop, self.stop)
        runner = None
        annotating = asyncio.create_task(self.annotator.run())
        if self.settings.notifier_http_port:
            runner = await api.serve(self, self.settings.notifier_http_host,
                                     self.settings.notifier_http_port)
        try:
            if self.config.route is None:
                log.warning("notifier_nothing_routed", reason="no VIGIL_NOTIFIER_ROUTING_FILE"
                            if not self.settings.notifier_routing_file else "no route")
            if self.links is None:
                log.info("ack_links_off", reason="VIGIL_NOTIFIER_ACK_SECRET is not set")
            async with self.database() as conn:
                await self._restore(conn)
            self.mqtt.subscribe(ALERTS_FILTER, qos=1)
            self.mqtt.subscribe(topics.ACKS, qos=1)
            await asyncio.to_thread(self.mqtt.connect)
            log.info("notifier_started", client_id=self.settings.notifier_client_id,
                     receivers=len(self.config.receivers))
            await self._loop()
        finally:
            # Deliveries under way get a moment to finish and be recorded (else re-sent).
            if self._tasks:
                await asyncio.wait(list(self._tasks), timeout=_DRAIN_S)
            for task in list(self._tasks):
                task.cancel()
            # An attempt not written here is re-sent after the restart: never lost, maybe twice.
            with contextlib.suppress(Exception):
                await self._flush_records()
            await stop_annotations(self.annotator, annotating)
            self.mqtt.close()
            if runner is not None:
                await runner.cleanup()
            if self._conn is not None:
                await self._conn.close()
            log.info("notifier_stopped")

    async def _restore(self, conn: asyncpg.Connection) -> None:
        """Silences, firing alerts and the notification log → dispatcher, before any message
        is taken: who was paged is not paged again, and each group keeps its clock."""
        for silence in await store.silences(conn, self.clock()):
            self.silences.put(silence)
        alerts = await store.firing(conn)
        log_rows = await store.paged(conn, [a.alert_id for a, _ in alerts])
        for alert, acked_by in alerts:
            self.dispatcher.restore(alert, acked_by, log_rows.get(alert.alert_id, {}))
        timings = await store.timing(conn, self.dispatcher.group_keys())
        for key, timing in timings.items():
            self.dispatcher.restore_timing(key, timing)
        log.info("notifier_restored", firing=len(alerts), already_paged=len(log_rows),
                 groups_timed=len(timings), silences=len(self.silences.active(self.clock())))

    async def _loop(self) -> None:
        while not self._stop.is_set():
            due = self.dispatcher.next_due()
            timeout = _IDLE_S if due is None else min(_IDLE_S, max(0.0, due - self.clock()))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._inbox.wait(), timeout)
            for message in self._inbox.take(len(self._inbox)):
                self._take(message)
            for note in self.dispatcher.tick():
                self._send(note)
            await self._flush_records()
            await self._refresh_fatigue()

    async def _refresh_fatigue(self) -> None:
        """The per-patient 24 h figures, from the database every so often."""
        if time.monotonic() - self._fatigue_at < self.settings.notifier_fatigue_refresh_s:
            return
        self._fatigue_at = time.monotonic()
        try:
            async with self.database() as conn:
                await self.fatigue.refresh(conn)
        except store.DB_ERRORS as error:
            log.warning("fatigue_refresh_failed", error=type(error).__name__)

    def _take(self, message: Message) -> None:
        try:
            if message.topic == topics.ACKS:
                ack = alerts_pb2.AlertAck.FromString(message.payload)
                self.metrics.events.labels("ack").inc()
                own = (ack.alert_id, ack.by, ack.at_ms)
                if own in self._own_acks:
                    self._own_acks.discard(own)
                else:
                    self._apply_ack(ack.alert_id, ack.by or "unknown", ack.channel or "mqtt",
                                    ack.comment)
            else:
                event = alerts_pb2.AlertEvent.FromString(message.payload)
                self.metrics.events.labels("alert").inc()
                alert = Alert.from_event(event)
                self.dispatcher.receive(alert)
                self.annotator.submit(alert)  # repeats of an episode are deduplicated there
        except DecodeError:
            self.metrics.dead_letters.inc()
            log.warning("undecodable_message", topic=message.topic)
        self.mqtt.ack(message)

    def _apply_ack(self, alert_id: str, by: str, channel_name: str, comment: str) -> bool:
        """Stop repeats and escalation; keep a record the first time (our own published acks
        come back on the topic)."""
        already = self.dispatcher.acked_by(alert_id) is not None
        # Acked through its own link: that receiver needs no "taken by" message.
        known = self.dispatcher.ack(alert_id, by, by if channel_name == "link" else "")
        if not already:
            now = self.clock()
            self._pending_acks.append((alert_id, by, now, channel_name, comment))
            alert = self.dispatcher.find(alert_id)
            if known and alert is not None:
                self.fatigue.acked(alert, now)
        return known

    async def acknowledge(self, alert_id: str, by: str, channel_name: str,
                          comment: str = "") -> AckResult:
        """An ack from the API or a link: applied at once, recorded, and published on
        ``vigil/v1/acks`` (so the rules service keeps it in ``alerts.acked_by``)."""
        alert = self.dispatcher.find(alert_id)
        patient = alert.patient_id if alert is not None else None
        if patient is None:
            async with self.database() as conn:
                patient = await store.alert_patient(conn, alert_id)
        if patient is None:
            raise UnknownAlertError(alert_id)
        now = self.clock()
        self._apply_ack(alert_id, by, channel_name, comment)
        ack = alerts_pb2.AlertAck(alert_id=alert_id, patient_id=patient, by=by,
                                  at_ms=int(now * 1000), channel=channel_name, comment=comment)
        self._own_acks.add((alert_id, by, ack.at_ms))
        publish = self.mqtt.publish(topics.ACKS, ack.SerializeToString(), qos=1)
        published = True
        try:
            await asyncio.wait_for(self.mqtt.wait_published([publish]), _PUBLISH_WAIT_S)
        except TimeoutError:
            published = False  # paho keeps it and sends it after the reconnect
            log.warning("ack_publish_slow", alert_id=alert_id)
        await self._flush_records()
        self.wake()
        log.info("ack_taken", alert_id=alert_id, by=by, channel=channel_name)
        return AckResult(alert_id, by, now, channel_name, published)

    async def add_silence(self, silence: Silence) -> Silence:
        """Persist, then apply; raises a database error (and applies nothing) if not stored."""
        async with self.database() as conn:
            await store.save_silence(conn, silence)
        self.silences.put(silence)
        if set(silence.matchers) == {"alert_id"}:
            self.fatigue.snoozed()  # as alarm_fatigue_daily counts: a snooze is on one alert
        self.wake()
        log.info("silence_created", silence_id=silence.id, by=silence.created_by,
                 matchers=sorted(silence.matchers))
        return silence

    async def expire_silence(self, silence_id: str) -> Silence:
        """End a silence now (KeyError when unknown); persisted before it takes effect."""
        silence = self.silences.expired(silence_id, self.clock())
        async with self.database() as conn:
            await store.save_silence(conn, silence)
        self.silences.put(silence)
        self.wake()
        log.info("silence_expired", silence_id=silence_id)
        return silence

    def _send(self, note: Notification) -> None:
        # One task per notification: a slow or failing receiver never holds up the others.
        task = asyncio.create_task(self._deliver(note))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, note: Notification) -> None:
        if await self.deliverer.deliver(note):
            worst = max(note.firing or note.resolved, key=lambda a: a.severity)
            self.fatigue.sent(worst, note.receiver, note.kind)

    async def _flush_records(self) -> None:
        if not self._pending and not self._pending_acks:
            return
        batch, self._pending = self._pending, []
        acks, self._pending_acks = self._pending_acks, []
        try:
            async with self.database() as conn, conn.transaction():
                await store.record(conn, batch)
                for ack in acks:
                    await store.record_ack(conn, *ack)
        except store.DB_ERRORS as error:
            self._pending = batch + self._pending
            self._pending_acks = acks + self._pending_acks
            log.warning("notification_log_unavailable", error=type(error).__name__)

    @contextlib.asynccontextmanager
    async def database(self) -> AsyncIterator[asyncpg.Connection]:
        """The connection, one user at a time (the loop and the API share it); a failure
        drops it, and the next use reconnects."""
        async with self._db_lock:
            try:
                if self._conn is None:
                    self._conn = await connect(self.settings)
                self._db_ok = True
                yield self._conn
            except store.DB_ERRORS:
                self._db_ok = False
                conn, self._conn = self._conn, None
                if conn is not None:
                    with contextlib.suppress(Exception):
                        conn.terminate()
                raise
