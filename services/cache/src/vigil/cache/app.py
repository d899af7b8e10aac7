"""Wiring of the cache service: broker -> Redis (pipelined) and requests -> answers.

Consumed messages are acknowledged to the broker only after their Redis writes succeeded, so a
crash loses nothing (the persistent session redelivers, and the writes are idempotent).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque

import asyncpg
import redis.asyncio as aioredis
from prometheus_client import CollectorRegistry
from redis.exceptions import RedisError

from vigil.cache.decode import Event, InvalidMessageError, decode, kind_of
from vigil.cache.keys import Keys
from vigil.cache.metrics import CacheMetrics
from vigil.cache.rebuild import rebuild
from vigil.cache.serve import Readiness, Responder
from vigil.cache.settings import CacheSettings
from vigil.cache.state import StatePublisher
from vigil.cache.store import Store, now_ms
from vigil.core import db, http, mqtt, topics
from vigil.core import logging as vlog
from vigil.core.inbox import on_signals
from vigil.core.message import Message

log = vlog.get(__name__)
_DB_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class CacheService:
    """One cache replica."""

    def __init__(self, settings: CacheSettings, registry: CollectorRegistry | None = None):
        self.settings = settings
        self.registry = registry or CollectorRegistry()
        self.metrics = CacheMetrics(self.registry)
        self.redis = aioredis.Redis.from_url(settings.redis_url, socket_timeout=5,
                                             socket_connect_timeout=5)
        self.store = Store(self.redis, Keys(settings.cache_key_prefix),
                           retention_ms=settings.retention_ms,
                           latest_ttl_ms=settings.cache_latest_ttl_s * 1000,
                           max_points=settings.cache_series_max_points)
        self.readiness = Readiness()
        self._pool: asyncpg.Pool | None = None
        self.responder = Responder(self.store, lambda: self._pool, self.readiness, self.metrics,
                                   latest_ttl_ms=settings.cache_latest_ttl_s * 1000,
                                   max_points=settings.cache_max_range_points)
        self.mqtt = mqtt.Client(settings.mqtt, settings.cache_client_id, manual_ack=True,
                                on_message=self._on_message,
                                receive_maximum=settings.cache_receive_maximum,
                                session_expiry=settings.cache_session_expiry_s)
        self.state = StatePublisher(self.store, self.mqtt, self.metrics,
                                    settings.cache_state_interval_s)
        self._inbox: deque[Message] = deque()
        self._requests: deque[Message] = deque()
        self._wake = asyncio.Event()
        self._wake_requests = asyncio.Event()
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._redis_ok = False
        self._phase = "starting"
        self._rebuilds = 0
        self._last_rebuild_s: float | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def _on_message(self, m: Message) -> None:
        """Network thread: queue and wake the right loop."""
        if self._loop is None:
            return
        if m.topic == topics.CACHE_REQUESTS:
            self._requests.append(m)
            self._loop.call_soon_threadsafe(self._wake_requests.set)
        else:
            self._inbox.append(m)
            self._loop.call_soon_threadsafe(self._wake.set)

    def health(self) -> tuple[bool, dict[str, object]]:
        """Ready when connected to broker and Redis, and the cache is built (not rebuilding)."""
        ok = self.mqtt.connected and self._redis_ok and self.readiness.ready
        return ok, {"cache": self._phase, "mqtt": self.mqtt.connected, "redis": self._redis_ok,
                    "database": self._pool is not None, "rebuilds": self._rebuilds,
                    "last_rebuild_s": self._last_rebuild_s,
                    "pending": len(self._inbox)}

    def stop(self) -> None:
        """Leave after the current batch (unacknowledged messages stay in the session)."""
        self._stop.set()
        self._wake.set()
        self._wake_requests.set()

    async def run(self) -> None:
        """Serve until :meth:`stop` (or SIGTERM/SIGINT)."""
        self._loop = asyncio.get_running_loop()
        on_signals(self._loop, self.stop)
        server = None
        if self.settings.cache_http_port:
            server = await http.serve(self.settings.cache_http_host,
                                      self.settings.cache_http_port, self.registry, self.health)
        await self._connect_redis()
        await self._connect_db()
        group = self.settings.cache_group
        for f in (topics.readings_filter(), f"{topics.PREFIX}/alerts/+", topics.ACKS,
                  topics.CACHE_REQUESTS):
            self.mqtt.subscribe(topics.shared(group, f), qos=1)
        # Status is retained, and shared subscriptions get no retained messages: every
        # replica takes all of it (writes are idempotent).
        self.mqtt.subscribe(topics.device_filter("status"), qos=1)
        await asyncio.to_thread(self.mqtt.connect)
        await self._start_or_rebuild()
        log.info("cache_started", group=group, client_id=self.settings.cache_client_id)
        loops = [asyncio.create_task(c) for c in (
            self._consume_loop(), self._request_loop(), self._maintenance_loop(),
            self._state_loop())]
        try:
            await self._stop.wait()
        finally:
            for t in loops:
                t.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            self.mqtt.close()
            if server:
                server.close()
            if self._pool is not None:
                await self._pool.close()
            await self.redis.aclose()
            log.info("cache_stopped")

    async def _connect_redis(self) -> None:
        delay = 0.2
        while not self._stop.is_set():
            try:
                await self.redis.ping()
                self._redis_ok = True
                return
            except (RedisError, OSError) as exc:
                log.warning("redis_connect_failed", error=type(exc).__name__, retry_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _connect_db(self) -> None:
        delay = 0.2
        while self._pool is None and not self._stop.is_set():
            try:
                self._pool = await db.pool(self.settings, self.settings.cache_db_pool_size)
            except _DB_ERRORS as exc:
                log.warning("db_connect_failed", error=type(exc).__name__, retry_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _start_or_rebuild(self) -> None:
        """Warm Redis with a recent heartbeat: serve it. Cold, flushed or abandoned: rebuild."""
        meta = await self.store.meta()
        age_ms = now_ms() - meta.get("heartbeat_ms", 0)
        if meta and age_ms < self.settings.cache_session_expiry_s * 1000:
            self.readiness.built_from_ms = meta.get("built_from_ms", now_ms())
            self._set_ready()
            log.info("cache_warm", heartbeat_age_s=round(age_ms / 1000, 1))
            return
        await self._rebuild("cold" if not meta else "abandoned")

    def _set_ready(self) -> None:
        self.readiness.ready = True
        self._phase = "ready"
        self._ready.set()

    async def _rebuild(self, reason: str) -> None:
        self.readiness.ready = False
        self._ready.clear()
        self._phase = "rebuilding"
        log.info("rebuild_started", reason=reason)
        delay = 0.2
        while not self._stop.is_set():
            try:
                assert self._pool is not None
                async with self._pool.acquire() as conn:
                    done = await rebuild(self.store, conn, self.settings.cache_client_id)
                break
            except (*_DB_ERRORS, RedisError) as exc:
                log.warning("rebuild_failed", error=type(exc).__name__, retry_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        else:
            return
        self._rebuilds += 1
        self._last_rebuild_s = round(done.seconds, 3)
        self.metrics.rebuilds.inc()
        self.metrics.rebuild_seconds.set(done.seconds)
        self.metrics.rebuild_points.set(done.points)
        self.readiness.built_from_ms = done.built_from_ms
        self._set_ready()
        log.info("rebuild_done", reason=reason, series=done.series, points=done.points,
                 alerts=done.alerts, seconds=round(done.seconds, 3))

    async def _maintenance_loop(self) -> None:
        """Heartbeat every second; a vanished meta key (FLUSHDB, empty restart) -> rebuild."""
        while not self._stop.is_set():
            await asyncio.sleep(1.0)
            try:
                alive = await self.store.heartbeat()
                self._redis_ok = True
            except (RedisError, OSError) as exc:
                if self._redis_ok:
                    log.warning("redis_unavailable", error=type(exc).__name__)
                self._redis_ok = False
                continue
            if not alive and self.readiness.ready:
                await self._rebuild("flushed")

    async def _state_loop(self) -> None:
        tick = max(0.05, self.settings.cache_state_interval_s / 4)
        while not self._stop.is_set():
            await asyncio.sleep(tick)
            if not self.readiness.ready:
                continue
            try:
                await self.state.publish_due()
            except (RedisError, OSError) as exc:
                log.warning("state_publish_failed", error=type(exc).__name__)

    async def _consume_loop(self) -> None:
        size = self.settings.cache_batch_messages
        while not self._stop.is_set():
            await self._wake.wait()
            self._wake.clear()
            while self._inbox and not self._stop.is_set():
                await self._ready.wait()
                batch = [self._inbox.popleft() for _ in range(min(size, len(self._inbox)))]
                await self._apply(batch)
            self.metrics.pending.set(len(self._inbox))

    async def _apply(self, batch: list[Message]) -> None:
        events: list[Event] = []
        for m in batch:
            kind = kind_of(m.topic)
            self.metrics.messages.labels(kind).inc()
            try:
                events.append(decode(m.topic, m.payload))
            except InvalidMessageError as exc:
                self._dead_letter(m, kind, str(exc))
        delay = 0.1
        while not self._stop.is_set():
            try:
                touched = await self.store.apply(events)
                break
            except (RedisError, OSError) as exc:
                self._redis_ok = False
                self.metrics.redis_errors.inc()
                log.warning("redis_write_failed", error=type(exc).__name__, retry_s=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        else:
            return  # stopping: leave them unacknowledged for the next start
        self._redis_ok = True
        self.metrics.readings.inc(sum(
            len(ps) for e in events for ps in getattr(e, "points", {}).values()))
        self.state.mark(touched)
        for m in batch:
            self.mqtt.ack(m)

    def _dead_letter(self, m: Message, kind: str, reason: str) -> None:
        self.metrics.invalid.labels(kind).inc()
        log.warning("dead_letter", kind=kind, topic=m.topic)
        self.mqtt.publish(topics.dlq("cache"), m.payload, qos=1,
                          user_properties=[("reason", reason[:1000]), ("topic", m.topic)])

    async def _request_loop(self) -> None:
        while not self._stop.is_set():
            await self._wake_requests.wait()
            self._wake_requests.clear()
            while self._requests:
                task = asyncio.create_task(self._serve(self._requests.popleft()))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _serve(self, m: Message) -> None:
        try:
            op, body = await self.responder.handle(m.payload)
            if m.response_topic:
                self.mqtt.publish(m.response_topic, body, qos=min(m.qos, 1),
                                  correlation_data=m.correlation_data)
            self.metrics.request_seconds.labels(op).observe(
                (time.monotonic_ns() - m.received_ns) / 1e9)
        except Exception:  # a bug in one answer must not stop the service
            log.exception("request_crashed")
        finally:
            with contextlib.suppress(Exception):
                self.mqtt.ack(m)
