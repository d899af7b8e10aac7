"""The rules service's database work: alert rows (idempotent by alert_id), the outbox, acks,
overrides and the history that rebuilds state after a restart."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from vigil.rules.events import to_dt, to_ms, unit_of
from vigil.rules.lifecycle import Transition
from vigil.rules.ruleset import Override

_INSERT = """
INSERT INTO alerts (alert_id, patient_id, rule, severity, state, metric, value, summary, labels,
    started_at, rule_version, inputs, thresholds, unit, device_id, reading_time, trend_per_min,
    pending_publish, updated_at)
VALUES ($1, $2, $3, $4, 'firing', $5, $6, $7, $8::jsonb, $9, $10, $11::jsonb, $12::jsonb, $13,
    $14, $15, $16, true, now())
ON CONFLICT DO NOTHING RETURNING alert_id"""
_ESCALATE = """
UPDATE alerts SET severity = $2, summary = $3, value = $4,
    history = history || $5::jsonb, pending_publish = true, updated_at = now()
WHERE alert_id = $1 AND state = 'firing' AND severity <> $2 RETURNING alert_id"""
_RESOLVE = """
UPDATE alerts SET state = 'resolved', resolved_at = $2, summary = $3,
    history = history || $4::jsonb, pending_publish = true, updated_at = now()
WHERE alert_id = $1 AND state = 'firing' RETURNING alert_id"""
ROW_COLUMNS = ("alert_id, patient_id, rule, severity, state, metric, value, unit, summary, labels,"
               " started_at, resolved_at, updated_at, device_id, reading_time, trend_per_min,"
               " rule_version, published_firing")


def _step(t: Transition) -> str:
    return json.dumps([{"kind": t.kind, "at_ms": t.at_ms, "severity": t.severity,
                        "value": t.value, "inputs": t.inputs}])


_PROGRESS = """
INSERT INTO rule_progress AS g (patient_id, watermark)
SELECT * FROM unnest($1::text[], $2::timestamptz[])
ON CONFLICT (patient_id) DO UPDATE SET watermark = GREATEST(g.watermark, EXCLUDED.watermark),
    updated_at = now()"""


async def write(conn: asyncpg.Connection, ts: Sequence[Transition],
                progress: dict[str, int] | None = None,
                published: Sequence[str] = ()) -> list[Transition]:
    """Apply transitions (and the patients' evaluated-up-to watermarks) in one transaction;
    return those that changed a row (a replayed transition, or a second alert for a
    (rule, patient) already firing, changes nothing).

    ``published``: alerts whose events the broker acknowledged, marked first (see
    :func:`mark_published`), so a transition in the same call stays in the outbox.
    """
    applied: list[Transition] = []
    async with conn.transaction():
        await mark_published(conn, published)
        if progress:
            await conn.execute(_PROGRESS, list(progress), [to_dt(ms) for ms in progress.values()])
        for t in ts:
            if t.kind == "firing":
                done = await conn.fetchval(
                    _INSERT, t.alert_id, t.patient_id, t.rule, t.severity, t.metric, t.value,
                    t.summary, json.dumps(t.labels), to_dt(t.started_ms), t.rule_version,
                    json.dumps(t.inputs), json.dumps(t.thresholds),
                    unit_of(t.metric, str(t.inputs.get("kind", ""))), t.device_id,
                    to_dt(t.reading_time_ms), t.trend_per_min)
            elif t.kind == "escalated":
                done = await conn.fetchval(_ESCALATE, t.alert_id, t.severity, t.summary, t.value,
                                           _step(t))
            else:
                done = await conn.fetchval(_RESOLVE, t.alert_id, to_dt(t.at_ms), t.summary,
                                           _step(t))
            if done is not None:
                applied.append(t)
    return applied


async def mark_published(conn: asyncpg.Connection, ids: Sequence[str]) -> None:
    """Clear the outbox flag of alerts whose events the broker acknowledged."""
    if ids:
        await conn.execute("UPDATE alerts SET pending_publish = false, published_firing = true"
                           " WHERE alert_id = ANY($1::text[])", list(ids))


async def unpublished(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Alert rows whose current state was never acknowledged by the broker."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"SELECT {ROW_COLUMNS} FROM alerts WHERE pending_publish")
    return rows


async def firing(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every firing alert (patient_id, rule, alert_id, started_at, severity)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT patient_id, rule, alert_id, started_at, severity FROM alerts"
        " WHERE state = 'firing'")
    return rows


async def open_between(conn: asyncpg.Connection, patient_ids: Sequence[str],
                       since: datetime) -> list[asyncpg.Record]:
    """Alerts of ``patient_ids`` still firing, or resolved after ``since``."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT patient_id, rule, alert_id, started_at, resolved_at, severity FROM alerts"
        " WHERE patient_id = ANY($1::text[]) AND (resolved_at IS NULL OR resolved_at > $2)",
        list(patient_ids), since)
    return rows


async def overrides(conn: asyncpg.Connection) -> list[Override]:
    """Every per-patient override."""
    rows = await conn.fetch("SELECT patient_id, rule, enabled, params::text AS params"
                            " FROM rule_overrides ORDER BY patient_id, rule")
    return [Override(r["patient_id"], r["rule"], r["enabled"], json.loads(r["params"]))
            for r in rows]


async def record_ack(conn: asyncpg.Connection, alert_id: str, by: str, at: datetime) -> bool:
    """Store the first acknowledgement of an alert; False when unknown or already acked."""
    done = await conn.fetchval(
        "UPDATE alerts SET acked_at = $2, acked_by = $3, updated_at = now()"
        " WHERE alert_id = $1 AND acked_at IS NULL RETURNING alert_id", alert_id, at, by)
    return done is not None


async def patients(conn: asyncpg.Connection) -> list[str]:
    """Every registered patient."""
    return [r[0] for r in await conn.fetch("SELECT patient_id FROM patients")]


async def devices(conn: asyncpg.Connection) -> dict[str, dict[str, bool]]:
    """patient -> {device -> online} for devices that reported a status."""
    out: dict[str, dict[str, bool]] = {}
    for r in await conn.fetch("SELECT patient_id, device_id, online FROM devices"
                              " WHERE patient_id IS NOT NULL AND online IS NOT NULL"):
        out.setdefault(r[0], {})[r[1]] = bool(r[2])
    return out


async def progress(conn: asyncpg.Connection, patient_ids: Sequence[str]) -> dict[str, int]:
    """patient -> evaluated-up-to watermark (unix ms)."""
    rows = await conn.fetch("SELECT patient_id, watermark FROM rule_progress"
                            " WHERE patient_id = ANY($1::text[])", list(patient_ids))
    return {r[0]: to_ms(r[1]) for r in rows}


async def latest(conn: asyncpg.Connection, patient_ids: Sequence[str],
                 metrics: Sequence[str]) -> dict[tuple[str, str], int]:
    """(patient, metric) -> time of the newest stored reading (unix ms)."""
    rows = await conn.fetch(
        "SELECT p.patient_id, m.metric, l.last FROM unnest($1::text[]) AS p(patient_id)"
        " CROSS JOIN unnest($2::text[]) AS m(metric) CROSS JOIN LATERAL"
        " (SELECT max(time) AS last FROM readings WHERE patient_id = p.patient_id"
        "  AND metric = m.metric) l WHERE l.last IS NOT NULL",
        list(patient_ids), list(metrics))
    return {(r[0], r[1]): to_ms(r[2]) for r in rows}


async def history(conn: asyncpg.Connection,
                  starts: dict[tuple[str, str], int]) -> list[asyncpg.Record]:
    """Raw readings of each (patient, metric) from its start (unix ms), in time order."""
    keys = sorted(starts)
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT k.patient_id, k.metric, r.time, r.value, r.device_id, r.ingested_at"
        " FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS k(patient_id, metric, start)"
        " JOIN readings r ON r.patient_id = k.patient_id AND r.metric = k.metric"
        " AND r.time >= k.start ORDER BY r.time",
        [k[0] for k in keys], [k[1] for k in keys], [to_dt(starts[k]) for k in keys])
    return rows


async def rollups(conn: asyncpg.Connection, metric: str, width_ms: int, since_ms: int,
                  before: dict[str, int]) -> list[asyncpg.Record]:
    """Bucket sums of ``metric`` per patient from ``since_ms`` to the patient's ``before``
    (where the raw replay starts, so no reading is counted twice)."""
    keys = sorted(before)
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT k.patient_id, (floor(extract(epoch FROM r.time) * 1000 / $3)::bigint * $3)"
        " AS start_ms, sum(r.value) AS total, count(*) AS n"
        " FROM unnest($1::text[], $4::timestamptz[]) AS k(patient_id, before)"
        " JOIN readings r ON r.patient_id = k.patient_id AND r.metric = $2"
        " AND r.time >= $5 AND r.time < k.before GROUP BY 1, 2",
        keys, metric, width_ms, [to_dt(before[k]) for k in keys], to_dt(since_ms))
    return rows
