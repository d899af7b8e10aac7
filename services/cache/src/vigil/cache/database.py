"""Database queries: fallbacks for answers Redis cannot give, and the rebuild's source."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from vigil.cache.keys import Point
from vigil.core.catalogue import METRICS

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_ROLLUPS = {"1m": "readings_1m", "1h": "readings_1h", "1d": "readings_1d"}
# One index probe per catalogue metric (readings_patient_metric_time), instead of a
# DISTINCT ON that reads every row of the patient.
_LATEST = """
SELECT m.metric, r.time, r.device_id, r.value, r.unit, r.quality
FROM unnest($2::text[]) AS m(metric)
CROSS JOIN LATERAL (
    SELECT time, device_id, value, unit, quality FROM readings
    WHERE patient_id = $1 AND metric = m.metric ORDER BY time DESC, device_id LIMIT 1
) AS r
"""
_RAW = """
SELECT time, device_id, value, unit, quality FROM readings
WHERE patient_id = $1 AND metric = $2 AND time >= $3 AND time < $4
ORDER BY time, device_id LIMIT $5
"""
_ALERTS = """
SELECT alert_id, patient_id, rule, severity, metric, value, summary, started_at, acked_at,
       acked_by
FROM alerts WHERE state = 'firing' AND ($1::text IS NULL OR patient_id = $1)
ORDER BY started_at, alert_id
"""
# Index probes per (registered patient, catalogue metric) rather than a scan of a week of rows.
_SERIES = """
SELECT p.patient_id, m.metric
FROM patients AS p CROSS JOIN unnest($2::text[]) AS m(metric)
WHERE EXISTS (SELECT 1 FROM readings AS r WHERE r.patient_id = p.patient_id
              AND r.metric = m.metric AND r.time >= $1)
ORDER BY 1, 2
"""
_NEWEST = """
SELECT time, device_id, value, unit, quality FROM readings
WHERE patient_id = $1 AND metric = $2 AND time >= $3 ORDER BY time DESC, device_id LIMIT $4
"""
_DEVICES = """
SELECT device_id, patient_id, online, last_seen, battery_pct, firmware_version, rssi_dbm
FROM devices WHERE patient_id IS NOT NULL
"""


def ms(t: datetime) -> int:
    """Unix milliseconds of a timestamptz."""
    return (t - _EPOCH) // _MS


def dt(time_ms: int) -> datetime:
    """A timestamptz from unix milliseconds."""
    return _EPOCH + time_ms * _MS


def _point(r: asyncpg.Record) -> Point:
    return Point(ms(r["time"]), r["device_id"], float(r["value"]), r["unit"], int(r["quality"]))


async def latest(conn: asyncpg.Connection | asyncpg.Pool, patient: str) -> dict[str, Point]:
    """The newest row of each metric of a patient."""
    rows = await conn.fetch(_LATEST, patient, list(METRICS))
    return {r["metric"]: _point(r) for r in rows}


async def raw(conn: asyncpg.Connection | asyncpg.Pool, patient: str, metric: str,
              start_ms: int, end_ms: int, limit: int) -> list[Point]:
    """Rows with ``start <= time < end`` in time order."""
    rows = await conn.fetch(_RAW, patient, metric, dt(start_ms), dt(end_ms), limit)
    return [_point(r) for r in rows]


async def rollup(conn: asyncpg.Connection | asyncpg.Pool, resolution: str, patient: str,
                 metric: str, start_ms: int, end_ms: int, limit: int) -> list[dict[str, Any]]:
    """Buckets of a rollup view with ``start <= bucket < end``."""
    view = _ROLLUPS[resolution]
    rows = await conn.fetch(
        f"SELECT bucket, min, max, avg, count, last FROM {view} WHERE patient_id = $1"
        " AND metric = $2 AND bucket >= $3 AND bucket < $4 ORDER BY bucket LIMIT $5",
        patient, metric, dt(start_ms), dt(end_ms), limit)
    return [{"bucket_ms": ms(r["bucket"]), "min": r["min"], "max": r["max"], "avg": r["avg"],
             "count": int(r["count"]), "last": r["last"]} for r in rows]


async def active_alerts(conn: asyncpg.Connection | asyncpg.Pool,
                        patient: str | None) -> list[dict[str, Any]]:
    """Firing alerts (of one patient, or of everyone when ``patient`` is None)."""
    out = []
    for r in await conn.fetch(_ALERTS, patient):
        doc: dict[str, Any] = {
            "alert_id": r["alert_id"], "patient_id": r["patient_id"], "rule": r["rule"],
            "severity": r["severity"], "metric": r["metric"] or "", "value": r["value"],
            "summary": r["summary"], "started_at_ms": ms(r["started_at"])}
        if r["acked_at"] is not None:
            doc.update(acked_at_ms=ms(r["acked_at"]), acked_by=r["acked_by"] or "")
        out.append(doc)
    return out


async def series(conn: asyncpg.Connection, since_ms: int) -> list[tuple[str, str]]:
    """Every (registered patient, catalogue metric) with a reading since ``since_ms``."""
    return [(r[0], r[1]) for r in await conn.fetch(_SERIES, dt(since_ms), list(METRICS))]


async def newest(conn: asyncpg.Connection, patient: str, metric: str, since_ms: int,
                 limit: int) -> list[Point]:
    """The newest ``limit`` rows since ``since_ms``, newest first."""
    return [_point(r) for r in await conn.fetch(_NEWEST, patient, metric, dt(since_ms), limit)]


async def devices(conn: asyncpg.Connection) -> AsyncIterator[dict[str, Any]]:
    """Registered devices assigned to a patient, with what the registry knows of them."""
    for r in await conn.fetch(_DEVICES):
        yield dict(r)
