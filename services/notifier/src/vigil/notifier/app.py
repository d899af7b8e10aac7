"""Wiring of the notifier: alerts and acks from MQTT → dispatcher → deliverer → records.

The dispatcher's state lives in memory; on start it is rebuilt from the firing rows of
``alerts`` and the notification log, so a restart neither forgets a firing alert nor pages it
twice (see the README for what is still lost).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from pathlib import Path

import asyncpg
from google.protobuf.message import DecodeError
from prometheus_client import CollectorRegistry

from vigil.core import http, mqtt, topics
from vigil.core import logging as vlog
from vigil.core.db import connect
from vigil.core.inbox import Inbox, on_signals
from vigil.core.message import Message
from vigil.notifier import channel, config, store
from vigil.notifier.deliver import Attempt, Deliverer, Retry
from vigil.notifier.dispatch import Dispatcher, Notification
from vigil.notifier.message import Formatter
from vigil.notifier.metrics import NotifierMetrics
from vigil.notifier.model import Alert
from vigil.notifier.settings import NotifierSettings
from vigil.notifier.silence import Silences
from vigil.v1 import alerts_pb2

log = vlog.get(__name__)
ALERTS_FILTER = f"{topics.PREFIX}/alerts/+"
_IDLE_S = 1.0


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
        formatter = Formatter(settings.notifier_grafana_url, self.config.timezone,
                              settings.notifier_ack_hint)
        self.silences = Silences()
        self.dispatcher = Dispatcher(self.config, self.silences, clock)
        self._pending: list[Attempt] = []
        self.deliverer = Deliverer(
            channel.build(self.config.receivers), self.config.receivers, formatter, self,
            Retry(settings.notifier_retry_attempts, settings.notifier_retry_base_s,
                  settings.notifier_retry_cap_s), clock=clock)
        self._inbox = Inbox()
        self._stop = asyncio.Event()
        self._conn: asyncpg.Connection | None = None
        self._db_ok = False
        self._tasks: set[asyncio.Task[bool]] = set()
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

    async def run(self) -> None:
        """Serve until :meth:`stop` (or SIGTERM/SIGINT)."""
        loop = asyncio.get_running_loop()
        self._inbox.bind(loop)
        on_signals(loop, self.stop)
        server = None
        if self.settings.notifier_http_port:
            server = await http.serve(self.settings.notifier_http_host,
                                      self.settings.notifier_http_port, self.registry,
                                      self.health)
        try:
            if self.config.route is None:
                log.warning("notifier_nothing_routed", reason="no VIGIL_NOTIFIER_ROUTING_FILE"
                            if not self.settings.notifier_routing_file else "no route")
            await self._restore(await self._db())
            self.mqtt.subscribe(ALERTS_FILTER, qos=1)
            self.mqtt.subscribe(topics.ACKS, qos=1)
            await asyncio.to_thread(self.mqtt.connect)
            log.info("notifier_started", client_id=self.settings.notifier_client_id,
                     receivers=len(self.config.receivers))
            await self._loop()
        finally:
            for task in list(self._tasks):
                task.cancel()
            # An attempt not written here is re-sent after the restart: never lost, maybe twice.
            with contextlib.suppress(Exception):
                await self._flush_records()
            self.mqtt.close()
            if server:
                server.close()
            if self._conn is not None:
                await self._conn.close()
            log.info("notifier_stopped")

    async def _restore(self, conn: asyncpg.Connection) -> None:
        """Firing alerts and the notification log → dispatcher, before any message is taken."""
        alerts = await store.firing(conn)
        log_rows = await store.paged(conn, [a.alert_id for a, _ in alerts])
        for alert, acked_by in alerts:
            self.dispatcher.restore(alert, acked_by, log_rows.get(alert.alert_id, {}))
        log.info("notifier_restored", firing=len(alerts), already_paged=len(log_rows))

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

    def _take(self, message: Message) -> None:
        try:
            if message.topic == topics.ACKS:
                ack = alerts_pb2.AlertAck.FromString(message.payload)
                self.metrics.events.labels("ack").inc()
                self.dispatcher.ack(ack.alert_id, ack.by)
            else:
                event = alerts_pb2.AlertEvent.FromString(message.payload)
                self.metrics.events.labels("alert").inc()
                self.dispatcher.receive(Alert.from_event(event))
        except DecodeError:
            self.metrics.dead_letters.inc()
            log.warning("undecodable_message", topic=message.topic)
        self.mqtt.ack(message)

    def _send(self, note: Notification) -> None:
        # One task per notification: a slow or failing receiver never holds up the others.
        task = asyncio.create_task(self.deliverer.deliver(note))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flush_records(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        try:
            await store.record(await self._db(), batch)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            self._db_ok = False
            self._conn = None
            self._pending = batch + self._pending
            log.warning("notification_log_unavailable", error=type(error).__name__)

    async def _db(self) -> asyncpg.Connection:
        if self._conn is None:
            self._conn = await connect(self.settings)
        self._db_ok = True
        return self._conn
