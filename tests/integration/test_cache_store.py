"""The Redis model's Lua scripts on a real Redis: idempotence, corrections, trimming, cover."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import redis.asyncio as aioredis

from tests.integration.test_cache_support import REDIS_DB
from vigil.cache.decode import Alert, Readings
from vigil.cache.keys import Keys, Point
from vigil.cache.rebuild import clear, rebuild
from vigil.cache.store import Store
from vigil.core.migrate import migrate

pytestmark = pytest.mark.integration
DAY = 86_400_000


@pytest.fixture
async def store(servers) -> AsyncIterator[Store]:
    """A store under a unique prefix, with a cap of 5 points per series."""
    client = aioredis.Redis(port=servers.redis.port, db=REDIS_DB)
    s = Store(client, Keys(f"st-{uuid.uuid4().hex[:8]}:"), retention_ms=7 * DAY,
              latest_ttl_ms=DAY, max_points=5)
    try:
        yield s
    finally:
        await clear(s)
        await client.aclose()


def _batch(patient: str, *points: Point) -> Readings:
    return Readings(patient, {"glucose": list(points)})


async def test_replays_and_corrections(store: Store):
    now = int(time.time() * 1000)
    a, b = Point(now - 2000, "gm", 100.0, "mg/dL", 100), Point(now - 1000, "gm", 110.0, "mg/dL", 90)
    await store.apply([_batch("p1", a, b)])
    await store.apply([_batch("p1", a, b), _batch("p1", a)])  # QoS 1 redelivery
    assert await store.points("p1", "glucose", 0, now + 1, 100) == [a, b]
    fixed = b._replace(value=111.5)
    await store.apply([_batch("p1", fixed)])  # same (time, device), corrected value
    other = b._replace(device_id="gm2", value=90.0)  # same time, another device: both kept
    await store.apply([_batch("p1", other)])
    assert await store.points("p1", "glucose", 0, now + 1, 100) == [a, fixed, other]
    got = await store.latest("p1")
    assert got is not None
    assert got[0]["glucose"].time_ms == b.time_ms
    # An older reading arriving late does not replace the latest value.
    await store.apply([_batch("p1", Point(now - 5000, "gm", 50.0, "mg/dL", 100))])
    got = await store.latest("p1")
    assert got is not None
    assert got[0]["glucose"].time_ms == b.time_ms


async def test_window_and_cap_trimming_record_cover(store: Store):
    now = int(time.time() * 1000)
    await store.apply([_batch("p2", Point(now - 8 * DAY, "gm", 1.0, "mg/dL", 100))])
    assert await store.latest("p2") is None  # outside the window: the database answers
    pts = [Point(now - 10_000 + i * 1000, "gm", float(i), "mg/dL", 100) for i in range(8)]
    await store.apply([_batch("p2", *pts)])
    kept = await store.points("p2", "glucose", 0, now + 1, 100)
    assert kept == pts[3:]
    assert await store.cover_from("p2", "glucose") == pts[2].time_ms + 1
    assert await store.r.pttl(store.keys.series("p2", "glucose")) > 7 * DAY


async def test_resolved_alert_is_not_resurrected(store: Store):
    def alert(firing: bool, t: int) -> Alert:
        return Alert("p3", "a1", firing, t, {"alert_id": "a1", "started_at_ms": 1})

    await store.apply([alert(True, 1), alert(False, 2)])
    await store.apply([alert(True, 1)])
    assert await store.alerts("p3") == []


async def test_replicas_do_not_rebuild_together(store: Store, fresh_database_url):
    conns = [await asyncpg.connect(fresh_database_url) for _ in range(2)]
    try:
        await migrate(conns[0])
        await conns[0].execute("INSERT INTO patients (patient_id) VALUES ('p9')")
        await conns[0].execute(
            "INSERT INTO readings (time, patient_id, device_id, metric, value, unit) "
            "SELECT now() - g * interval '1 minute', 'p9', 'gm', 'glucose', g, 'mg/dL' "
            "FROM generate_series(1, 20) g")
        a, b = await asyncio.gather(rebuild(store, conns[0], "a"), rebuild(store, conns[1], "b"))
    finally:
        for c in conns:
            await c.close()
    assert sorted([a.points, b.points]) == [0, 5]  # one loaded (the cap is 5), one waited
    assert a.built_from_ms == b.built_from_ms
    assert not await store.r.exists(store.keys.lock)
    assert len(await store.points("p9", "glucose", 0, 2**50, 100)) == 5
