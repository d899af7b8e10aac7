"""Cold start and recovery: reload the cached window from the database into Redis.

Runs while the consumer is paused (messages wait in the inbox and are applied afterwards, and
the writes are idempotent, so the overlap is harmless) and requests are answered from the
database. The meta key is written last: until it exists the cache counts as cold.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import defaultdict
from dataclasses import dataclass

import asyncpg
from redis.asyncio.client import Pipeline

from vigil.cache import database as db
from vigil.cache.store import Store, now_ms

_FLUSH_EVERY = 64  # series per pipeline
LOCK_MS = 600_000  # a rebuild lock outlives a crashed owner by at most this


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """What a rebuild loaded."""

    built_from_ms: int
    series: int
    points: int
    alerts: int
    seconds: float


async def clear(store: Store) -> int:
    """Delete every key of this cache but the rebuild lock (SCAN, never KEYS); return how many."""
    deleted = 0
    batch: list[bytes] = []
    lock = store.keys.lock.encode()
    async for key in store.r.scan_iter(match=store.keys.pattern, count=1000):
        if key == lock:
            continue
        batch.append(key)
        if len(batch) >= 500:
            deleted += await store.r.unlink(*batch)
            batch = []
    if batch:
        deleted += await store.r.unlink(*batch)
    return deleted


async def rebuild(store: Store, conn: asyncpg.Connection, owner: str = "") -> Rebuilt:
    """Rebuild, or wait for the replica that holds the rebuild lock to finish."""
    lock = store.keys.lock
    while not await store.r.set(lock, owner or "?", nx=True, px=LOCK_MS):
        done = await _wait_for_other(store)
        if done is not None:
            return done
    try:
        return await _rebuild(store, conn)
    finally:
        await store.r.delete(lock)


async def _wait_for_other(store: Store) -> Rebuilt | None:
    """Wait for a rebuild that ends after now; None if its owner let go without finishing."""
    started, since = time.perf_counter(), now_ms()
    while True:
        holding = await store.r.exists(store.keys.lock)
        meta = await store.meta()
        if meta.get("built_at_ms", 0) >= since:
            return Rebuilt(meta.get("built_from_ms", 0), 0, 0, 0, time.perf_counter() - started)
        if not holding:
            return None
        await asyncio.sleep(0.2)


async def _rebuild(store: Store, conn: asyncpg.Connection) -> Rebuilt:
    """Replace the cache's content with the last ``retention`` of the database."""
    started = time.perf_counter()
    k = store.keys
    since = now_ms() - store.retention_ms
    await store.r.delete(k.meta)
    await clear(store)
    pairs = await db.series(conn, since)
    pipe = store.r.pipeline(transaction=False)
    points = await _series(store, conn, pipe, pairs, since)
    await _devices(store, conn, pipe)
    alerts = await _alerts(store, conn, pipe)
    await pipe.execute()
    seconds = time.perf_counter() - started
    await store.r.hset(k.meta, mapping={
        "built_at_ms": now_ms(), "built_from_ms": since, "heartbeat_ms": now_ms(),
        "rebuild_ms": int(seconds * 1000), "points": points})
    return Rebuilt(since, len(pairs), points, alerts, seconds)


async def _series(store: Store, conn: asyncpg.Connection, pipe: Pipeline,
                  pairs: list[tuple[str, str]], since: int) -> int:
    """Series, latest values and devices seen; returns the number of points loaded."""
    k = store.keys
    points = 0
    seen: dict[str, dict[str, int]] = defaultdict(dict)
    for n, (patient, metric) in enumerate(pairs, 1):
        rows = await db.newest(conn, patient, metric, since, store.max_points)
        if not rows:
            continue
        points += len(rows)
        pipe.zadd(k.series(patient, metric), {p.encode(): p.time_ms for p in rows})
        pipe.pexpire(k.series(patient, metric), store.series_ttl_ms)
        pipe.hset(k.latest(patient), metric, rows[0].encode())
        pipe.pexpire(k.latest(patient), store.latest_ttl_ms)
        if len(rows) >= store.max_points:
            # The cap cut the series: it is complete only after its oldest point's time.
            pipe.hset(k.cover(patient), metric, rows[-1].time_ms + 1)
            pipe.pexpire(k.cover(patient), store.series_ttl_ms)
        for p in rows:
            if p.time_ms > seen[patient].get(p.device_id, 0):
                seen[patient][p.device_id] = p.time_ms
        if n % _FLUSH_EVERY == 0:
            await pipe.execute()
    for patient, devices in seen.items():
        pipe.hset(k.seen(patient), mapping=devices)  # type: ignore[arg-type]
        pipe.pexpire(k.seen(patient), store.series_ttl_ms)
    return points


async def _devices(store: Store, conn: asyncpg.Connection, pipe: Pipeline) -> None:
    """Presence as the device registry last recorded it (status messages refine it)."""
    async for d in db.devices(conn):
        fields: dict[str, str | int] = {}
        if d["online"] is not None:
            fields["online"] = int(d["online"])
        if d["last_seen"] is not None:
            fields["status_ms"] = db.ms(d["last_seen"])
        if d["battery_pct"] is not None:
            fields["battery_pct"] = repr(float(d["battery_pct"]))
        if d["firmware_version"]:
            fields["firmware"] = d["firmware_version"]
        if d["rssi_dbm"]:
            fields["rssi_dbm"] = int(d["rssi_dbm"])
        if fields:
            pipe.hset(store.keys.device(d["device_id"]), mapping=fields)  # type: ignore[arg-type]
            pipe.pexpire(store.keys.device(d["device_id"]), store.series_ttl_ms)


async def _alerts(store: Store, conn: asyncpg.Connection, pipe: Pipeline) -> int:
    """Firing alerts with their acknowledgements; returns how many."""
    k = store.keys
    alerts = await db.active_alerts(conn, None)
    for a in alerts:
        patient = a.pop("patient_id")
        pipe.hset(k.alerts(patient), a["alert_id"], json.dumps(a))
        pipe.pexpire(k.alerts(patient), store.series_ttl_ms)
        if "acked_at_ms" in a:
            pipe.hset(k.acks(patient), a["alert_id"], f"{a['acked_at_ms']}|{a['acked_by']}")
            pipe.pexpire(k.acks(patient), store.series_ttl_ms)
    return len(alerts)
