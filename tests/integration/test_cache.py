"""`vigil cache` against the real broker, Redis, PostgreSQL and a running ingest process.

Device payloads go through the broker and ingest (as in production); the cache consumes the
republished readings; every answer is checked against the database.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers import publish_all, telemetry
from tests.integration.test_cache_support import Cache, running_cache
from vigil.core import topics

pytestmark = pytest.mark.integration
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ms(t: datetime) -> int:
    """Unix ms of a database timestamp."""
    return (t - EPOCH) // timedelta(milliseconds=1)


@pytest.fixture
def cache(stack, servers) -> Iterator[Cache]:
    """A cache replica of its own on this test's stack."""
    with running_cache(stack, servers) as c:
        yield c


def _glucose(t: datetime, value: float) -> bytes:
    return json.dumps({"time": t.isoformat(), "value": value, "unit": "mg/dL"}).encode()


def _load(stack) -> dict[str, str]:
    """Three oximeters and two glucose meters through the broker; returns device -> patient."""
    now = datetime.now(UTC).replace(microsecond=0)
    base = int((now - timedelta(hours=2)).timestamp() * 1000)
    patients = {f"ox-{i}": stack.add_device(f"ox-{i}") for i in range(3)}
    patients |= {f"gm-{i}": stack.add_device(f"gm-{i}", "glucose_meter") for i in range(2)}
    msgs = [(topics.device(d, "telemetry"), telemetry(d, seq, base + seq * 600_000, 30,
                                                      hr=60 + i * 5 + seq))
            for i, d in enumerate(["ox-0", "ox-1", "ox-2"]) for seq in range(6)]
    msgs += [(topics.device(d, "glucose"),
              _glucose(now - timedelta(minutes=7 * k + i), 90.0 + 3 * k + i))
             for i, d in enumerate(["gm-0", "gm-1"]) for k in range(12)]
    publish_all(stack.mqtt_url, msgs)
    publish_all(stack.mqtt_url, msgs[:5] + msgs[-3:])  # replays: must change nothing
    assert stack.wait_count("SELECT count(*) FROM readings", 3 * 6 * 30 + 2 * 12) == 564
    return patients


def _db_latest(stack) -> dict[str, dict[str, tuple[int, float]]]:
    out: dict[str, dict[str, tuple[int, float]]] = {}
    for p, m, t, v in stack.fetch(
            "SELECT DISTINCT ON (patient_id, metric) patient_id, metric, time, value "
            "FROM readings ORDER BY patient_id, metric, time DESC"):
        out.setdefault(p, {})[m] = (ms(t), v)
    return out


def _cache_latest(cache: Cache, patient: str) -> tuple[str, dict[str, tuple[int, float]]]:
    a = cache.req.ask(op="latest", patient_id=patient)
    assert a["ok"], a
    return a["source"], {m: (v["time_ms"], v["value"]) for m, v in a["data"]["vitals"].items()}


def _wait_latest_equal(cache: Cache, expected: dict[str, dict[str, tuple[int, float]]]) -> None:
    deadline = time.monotonic() + 20
    while True:
        got = {p: _cache_latest(cache, p) for p in expected}
        if all(got[p] == ("redis", expected[p]) for p in expected):
            return
        assert time.monotonic() < deadline, (got, expected)
        time.sleep(0.2)


def _wait_for(predicate: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)


def _db_raw(stack, patient: str, metric: str, start: datetime,
            end: datetime) -> list[list[Any]]:
    return [[ms(t), v, d] for t, v, d in stack.fetch(
        "SELECT time, value, device_id FROM readings WHERE patient_id = $1 AND metric = $2 "
        "AND time >= $3 AND time < $4 ORDER BY time, device_id", patient, metric, start, end)]


def test_latest_and_range_match_the_database(stack, cache):
    patients = _load(stack)
    _wait_latest_equal(cache, _db_latest(stack))
    publish_all(stack.mqtt_url, [(topics.device("ox-0", "status"), b'{"online": true}')])
    _wait_for(lambda: cache.req.ask(op="latest", patient_id=patients["ox-0"])["data"]
              ["devices"].get("ox-0", {}).get("online") is True)
    # The replays added no second point: one member per stored row.
    for p in set(patients.values()):
        for m, n in stack.fetch("SELECT metric, count(*) FROM readings WHERE patient_id = $1"
                                " GROUP BY 1", p):
            assert cache.redis.zcard(f"{cache.prefix}{{{p}}}:s:{m}") == n

    now = datetime.now(UTC)
    start = now - timedelta(hours=3)
    for device, metric in (("ox-1", "heart_rate"), ("gm-0", "glucose")):
        p = patients[device]
        a = cache.req.ask(op="range", patient_id=p, metric=metric, **{
            "from": start.isoformat(), "to": (now + timedelta(minutes=1)).isoformat()})
        assert (a["ok"], a["source"]) == (True, "redis"), a
        expected = _db_raw(stack, p, metric, start, now + timedelta(minutes=1))
        assert a["data"]["points"] == expected
        assert len(expected) > 10
        # Rollup buckets computed from Redis equal the database's rollup view.
        a = cache.req.ask(op="range", patient_id=p, metric=metric, resolution="1h",
                          **{"from": start.isoformat()})
        assert a["source"] == "redis", a
        rows = stack.fetch("SELECT bucket, min, max, avg, count, last FROM readings_1h WHERE "
                           "patient_id = $1 AND metric = $2 AND bucket >= $3 ORDER BY 1",
                           p, metric, start)
        got = a["data"]["buckets"]
        assert [(b["bucket_ms"], b["min"], b["max"], b["count"], b["last"]) for b in got] == \
            [(ms(r[0]), r[1], r[2], r[4], r[5]) for r in rows]
        assert [b["avg"] for b in got] == pytest.approx([r[3] for r in rows], rel=1e-12)


def test_range_outside_the_window_comes_from_the_database(stack, cache):
    patient = stack.add_device("old-0", "glucose_meter")
    old = datetime.now(UTC).replace(microsecond=0) - timedelta(days=9)
    for k in range(48):
        stack.fetch("INSERT INTO readings (time, patient_id, device_id, metric, value, unit) "
                    "VALUES ($1, $2, 'old-0', 'glucose', $3, 'mg/dL')",
                    old + timedelta(minutes=30 * k), patient, 100.0 + k)
    start, end = old - timedelta(hours=1), old + timedelta(days=1)
    a = cache.req.ask(op="range", patient_id=patient, metric="glucose",
                      **{"from": start.isoformat(), "to": end.isoformat()})
    assert (a["ok"], a["source"]) == (True, "database"), a
    assert a["data"]["points"] == _db_raw(stack, patient, "glucose", start, end)
    assert len(a["data"]["points"]) == 48
    a = cache.req.ask(op="range", patient_id=patient, metric="glucose", resolution="1d",
                      **{"from": start.isoformat()})
    assert a["source"] == "database"
    rows = stack.fetch("SELECT bucket, count, last FROM readings_1d WHERE patient_id = $1 "
                       "AND bucket >= $2 ORDER BY 1", patient, start)
    assert rows
    assert [(b["bucket_ms"], b["count"], b["last"]) for b in a["data"]["buckets"]] == \
        [(ms(r[0]), r[1], r[2]) for r in rows]
    assert cache.metric("vigil_cache_db_fallbacks_total") >= 2


def test_flushed_redis_is_rebuilt_and_answers_correctly(stack, cache):
    patients = _load(stack)
    expected = _db_latest(stack)
    _wait_latest_equal(cache, expected)
    assert cache.health()["rebuilds"] == 1  # the cold start
    cache.redis.flushdb()
    deadline = time.monotonic() + 20
    while (h := cache.health())["rebuilds"] < 2 or h["cache"] != "ready":
        assert time.monotonic() < deadline, h
        time.sleep(0.1)
    assert h["status"] == "ok"
    _wait_latest_equal(cache, expected)
    p = patients["ox-2"]
    start = datetime.now(UTC) - timedelta(days=1)
    a = cache.req.ask(op="range", patient_id=p, metric="heart_rate", **{"from": start.isoformat()})
    assert a["source"] == "redis"
    assert a["data"]["points"] == _db_raw(stack, p, "heart_rate", start,
                                          datetime.now(UTC) + timedelta(seconds=1))
    assert cache.metric("vigil_cache_rebuild_seconds") > 0
