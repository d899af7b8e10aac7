"""Answers to requests: from Redis when it holds the answer, else from the database."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
from redis.exceptions import RedisError

from vigil.cache import database as db
from vigil.cache.keys import BUCKET_MS, Point, bucket_of
from vigil.cache.metrics import CacheMetrics
from vigil.cache.protocol import (
    AlertsRequest,
    BadRequestError,
    LatestRequest,
    RangeRequest,
    Source,
    error,
    iso,
    ok,
    parse,
)
from vigil.cache.store import Store, now_ms
from vigil.core import logging as vlog

log = vlog.get(__name__)
_DB_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


@dataclass
class Readiness:
    """What the responder needs to know about the cache's state."""

    ready: bool = False
    built_from_ms: int = 0


class Responder:
    """Turns one request payload into one response payload; never raises."""

    def __init__(self, store: Store, pool: Callable[[], asyncpg.Pool | None],
                 readiness: Readiness, metrics: CacheMetrics, *, latest_ttl_ms: int,
                 max_points: int) -> None:
        self.store = store
        self._pool = pool
        self.readiness = readiness
        self.metrics = metrics
        self.latest_ttl_ms = latest_ttl_ms
        self.max_points = max_points

    async def handle(self, payload: bytes) -> tuple[str, bytes]:
        """(op, response) for a request payload."""
        try:
            req = parse(payload)
        except BadRequestError as exc:
            self.metrics.bad_requests.inc()
            return "invalid", error(str(exc))
        try:
            if isinstance(req, LatestRequest):
                source, data = await self._latest(req)
            elif isinstance(req, RangeRequest):
                source, data = await self._range(req)
            else:
                source, data = await self._alerts(req)
        except BadRequestError as exc:
            self.metrics.bad_requests.inc()
            return req.op, error(str(exc))
        except _DB_ERRORS as exc:
            log.warning("request_failed", op=req.op, error=type(exc).__name__)
            return req.op, error(f"unavailable: the database did not answer ({type(exc).__name__})")
        self.metrics.requests.labels(req.op, source).inc()
        return req.op, ok(req.op, source, now_ms(), data)

    def _db(self) -> asyncpg.Pool:
        pool = self._pool()
        if pool is None:
            raise OSError("no database connection yet")
        return pool

    async def _from_redis(self, op: str) -> bool:
        if self.readiness.ready:
            return True
        self.metrics.fallbacks.labels(op, "rebuilding").inc()
        return False

    def _redis_failed(self, op: str, exc: RedisError) -> None:
        self.metrics.redis_errors.inc()
        self.metrics.fallbacks.labels(op, "redis_error").inc()
        log.warning("redis_read_failed", op=op, error=type(exc).__name__)

    async def _latest(self, req: LatestRequest) -> tuple[Source, dict[str, Any]]:
        if await self._from_redis("latest"):
            try:
                got = await self.store.latest(req.patient_id)
            except RedisError as exc:
                self._redis_failed("latest", exc)
            else:
                if got is not None:
                    self.metrics.hits.labels("latest").inc()
                    return "redis", self._vitals(req.patient_id, *got)
                self.metrics.misses.labels("latest").inc()
                self.metrics.fallbacks.labels("latest", "miss").inc()
        pool = self._db()
        points = await db.latest(pool, req.patient_id)
        alerts = await db.active_alerts(pool, req.patient_id)
        return "database", self._vitals(req.patient_id, points, {}, len(alerts))

    def _vitals(self, patient: str, points: dict[str, Point], devices: dict[str, Any],
                alerts: int) -> dict[str, Any]:
        now = now_ms()
        vitals = {
            metric: {"value": p.value, "unit": p.unit, "time_ms": p.time_ms, "time": iso(p.time_ms),
                     "age_s": round((now - p.time_ms) / 1000, 3),
                     "stale": now - p.time_ms > self.latest_ttl_ms,
                     "device_id": p.device_id, "quality": p.quality}
            for metric, p in sorted(points.items())}
        return {"patient_id": patient, "vitals": vitals, "devices": devices,
                "active_alerts": alerts}

    async def _range(self, req: RangeRequest) -> tuple[Source, dict[str, Any]]:
        now = now_ms()
        start, end = req.window_ms(now)
        width = BUCKET_MS.get(req.resolution, 0)
        first = bucket_of(start, width) if width else start
        data: dict[str, Any] = {"patient_id": req.patient_id, "metric": req.metric,
                                "resolution": req.resolution, "from_ms": start, "to_ms": end}
        if await self._from_redis("range"):
            try:
                cover = max(self.readiness.built_from_ms, now - self.store.retention_ms,
                            await self.store.cover_from(req.patient_id, req.metric))
                if first >= cover:
                    self.metrics.hits.labels("range").inc()
                    return "redis", {**data, **await self._range_redis(req, start, end, width)}
            except RedisError as exc:
                self._redis_failed("range", exc)
            else:
                self.metrics.misses.labels("range").inc()
                self.metrics.fallbacks.labels("range", "outside").inc()
        pool = self._db()
        if not width:
            pts = await db.raw(pool, req.patient_id, req.metric, start, end, self.max_points + 1)
            return "database", {**data, **self._raw(pts)}
        buckets = await db.rollup(pool, req.resolution, req.patient_id, req.metric, start, end,
                                  self.max_points + 1)
        self._check_size(len(buckets))
        return "database", {**data, "buckets": buckets}

    async def _range_redis(self, req: RangeRequest, start: int, end: int,
                           width: int) -> dict[str, Any]:
        if not width:
            pts = await self.store.points(req.patient_id, req.metric, start, end,
                                          self.max_points + 1)
            return self._raw(pts)
        stop = bucket_of(end - 1, width) + width
        pts = await self.store.points(req.patient_id, req.metric, bucket_of(start, width), stop,
                                      self.store.max_points + 1)
        buckets = [b for b in aggregate(pts, width) if start <= b["bucket_ms"] < end]
        self._check_size(len(buckets))
        return {"buckets": buckets}

    def _raw(self, pts: list[Point]) -> dict[str, Any]:
        self._check_size(len(pts))
        return {"unit": pts[0].unit if pts else None,
                "points": [[p.time_ms, p.value, p.device_id] for p in pts]}

    def _check_size(self, n: int) -> None:
        if n > self.max_points:
            raise BadRequestError(f"from: more than {self.max_points} points in the range; "
                                  "narrow it or ask for resolution 1m, 1h or 1d")

    async def _alerts(self, req: AlertsRequest) -> tuple[Source, dict[str, Any]]:
        if await self._from_redis("alerts"):
            try:
                alerts = await self.store.alerts(req.patient_id)
            except RedisError as exc:
                self._redis_failed("alerts", exc)
            else:
                self.metrics.hits.labels("alerts").inc()
                return "redis", {"patient_id": req.patient_id, "alerts": alerts}
        alerts = await db.active_alerts(self._db(), req.patient_id)
        for a in alerts:
            a.pop("patient_id")
        return "database", {"patient_id": req.patient_id, "alerts": alerts}


def aggregate(points: list[Point], width: int) -> list[dict[str, Any]]:
    """Rollup buckets of time-ordered points, computed like the database's rollup views."""
    out: list[dict[str, Any]] = []
    current = None
    values: list[float] = []
    last = (0, 0.0)
    for p in points:
        b = bucket_of(p.time_ms, width)
        if b != current:
            if current is not None:
                out.append(_bucket(current, values, last[1]))
            current, values = b, []
        values.append(p.value)
        last = (p.time_ms, p.value)
    if current is not None:
        out.append(_bucket(current, values, last[1]))
    return out


def _bucket(start: int, values: list[float], last: float) -> dict[str, Any]:
    return {"bucket_ms": start, "min": min(values), "max": max(values),
            "avg": sum(values) / len(values), "count": len(values), "last": last}
