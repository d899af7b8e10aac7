"""The notifier's database: attempts into ``notifications`` (one row per alert per attempt),
silences, the acks it took; on start, firing alerts (the rules service's ``alerts`` rows),
whom they were paged to and each group's timing."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import asyncpg

from vigil.notifier.deliver import Attempt
from vigil.notifier.dispatch import GroupTiming
from vigil.notifier.model import Alert, Severity
from vigil.notifier.silence import KEEP_ENDED_S, Silence

# What a lost or refused database connection raises.
DB_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)
_INSERT = ("INSERT INTO notifications (alert_id, receiver, kind, attempt, status, error, sent_at,"
           " group_key, due_at, level, escalation_start)"
           " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)")
# Timing comes from decided notifications: sent, or given up on. One still being retried at
# a crash is decided again after the restart (at-least-once). A notification has one row per
# alert and attempt; the order is the order the dispatcher decided them in.
_TIMING = """
SELECT DISTINCT group_key, kind, due_at, level, escalation_start, receiver
FROM notifications
WHERE group_key = ANY($1::text[]) AND status IN ('sent', 'dead') AND due_at IS NOT NULL
ORDER BY group_key, due_at, level, kind DESC, receiver"""


def _dt(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def _ts(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


async def record(conn: asyncpg.Connection, attempts: list[Attempt]) -> None:
    """Insert ``attempts`` in one transaction."""
    rows = [(alert_id, a.receiver, a.kind, a.attempt, a.status, a.error, _dt(a.at),
             a.group or None, _dt(a.due_at), a.level, _dt(a.escalation_start))
            for a in attempts for alert_id in a.alert_ids]
    if rows:
        async with conn.transaction():
            await conn.executemany(_INSERT, rows)


async def firing(conn: asyncpg.Connection) -> list[tuple[Alert, str | None]]:
    """Every firing alert, with who acknowledged it (the rules' record, else ours) or None."""
    rows = await conn.fetch(
        "SELECT alert_id, patient_id, rule, severity, metric, value, unit, summary, labels,"
        " started_at, device_id, trend_per_min, coalesce(acked_by, (SELECT k.acked_by"
        " FROM notifier_acks k WHERE k.alert_id = a.alert_id ORDER BY k.acked_at LIMIT 1))"
        " AS acked_by FROM alerts a WHERE state = 'firing'")
    out = []
    for r in rows:
        try:
            severity = Severity.parse(r["severity"])
        except ValueError:
            severity = Severity.CRITICAL  # fail safe, as for the wire message
        labels = json.loads(r["labels"]) if isinstance(r["labels"], str) else r["labels"]
        alert = Alert(
            alert_id=r["alert_id"], patient_id=r["patient_id"], rule=r["rule"],
            severity=severity, firing=True, metric=r["metric"] or "", value=r["value"] or 0.0,
            unit=r["unit"] or "", summary=r["summary"], started_at=r["started_at"].timestamp(),
            trend_per_min=r["trend_per_min"] or 0.0, device_id=r["device_id"] or "",
            labels={str(k): str(v) for k, v in (labels or {}).items()})
        out.append((alert, r["acked_by"]))
    return out


async def paged(conn: asyncpg.Connection, alert_ids: list[str]) -> dict[str, dict[str, float]]:
    """alert_id → {receiver: first time it was successfully paged}."""
    rows = await conn.fetch(
        "SELECT alert_id, receiver, min(sent_at) AS first FROM notifications"
        " WHERE status = 'sent' AND kind NOT IN ('resolved', 'acked')"
        " AND alert_id = ANY($1::text[])"
        " GROUP BY alert_id, receiver", alert_ids)
    out: dict[str, dict[str, float]] = {}
    for r in rows:
        out.setdefault(r["alert_id"], {})[r["receiver"]] = r["first"].timestamp()
    return out


async def timing(conn: asyncpg.Connection, group_keys: list[str]) -> dict[str, GroupTiming]:
    """group key → its timing as last logged (groups with no logged notification are absent)."""
    logged: dict[str, list[tuple[str, float, int, float | None]]] = {}
    for r in await conn.fetch(_TIMING, group_keys):
        logged.setdefault(r["group_key"], []).append(
            (r["kind"], r["due_at"].timestamp(), r["level"] or 0, _ts(r["escalation_start"])))
    return {key: GroupTiming.from_log(rows) for key, rows in logged.items()}


async def record_ack(conn: asyncpg.Connection, alert_id: str, by: str, at: float, channel: str,
                     comment: str = "") -> None:
    """Keep one acknowledgement the notifier applied."""
    await conn.execute("INSERT INTO notifier_acks (alert_id, acked_by, acked_at, channel, comment)"
                       " VALUES ($1, $2, $3, $4, $5)", alert_id, by, _dt(at), channel, comment)


async def alert_patient(conn: asyncpg.Connection, alert_id: str) -> str | None:
    """The patient of a firing alert in ``alerts``, or None when there is no such alert."""
    value: str | None = await conn.fetchval(
        "SELECT patient_id FROM alerts WHERE alert_id = $1 AND state = 'firing'", alert_id)
    return value


async def silences(conn: asyncpg.Connection, now: float) -> list[Silence]:
    """Silences not ended, or ended recently enough to be listed."""
    rows = await conn.fetch(
        "SELECT id, matchers::text AS matchers, starts_at, ends_at, created_by, comment,"
        " created_at, expired_at FROM silences WHERE ends_at > $1 ORDER BY created_at",
        _dt(now - KEEP_ENDED_S))
    return [Silence(r["id"], {str(k): str(v) for k, v in json.loads(r["matchers"]).items()},
                    r["starts_at"].timestamp(), r["ends_at"].timestamp(), r["created_by"],
                    r["comment"], r["created_at"].timestamp(), _ts(r["expired_at"]))
            for r in rows]


async def save_silence(conn: asyncpg.Connection, s: Silence) -> None:
    """Insert a silence, or store its new end (expiry)."""
    await conn.execute(
        "INSERT INTO silences (id, matchers, starts_at, ends_at, created_by, comment, created_at,"
        " expired_at) VALUES ($1, $2::jsonb, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO UPDATE"
        " SET ends_at = EXCLUDED.ends_at, expired_at = EXCLUDED.expired_at",
        s.id, json.dumps(dict(s.matchers)), _dt(s.starts_at), _dt(s.ends_at), s.created_by,
        s.comment, _dt(s.created_at), _dt(s.expired_at))
