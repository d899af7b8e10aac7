"""The notifier's database: attempts into ``notifications`` (one row per alert per attempt);
on start, firing alerts (the rules service's ``alerts`` rows) and whom they were paged to."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import asyncpg

from vigil.notifier.deliver import Attempt
from vigil.notifier.model import Alert, Severity

_INSERT = ("INSERT INTO notifications (alert_id, receiver, kind, attempt, status, error, sent_at)"
           " VALUES ($1, $2, $3, $4, $5, $6, $7)")


async def record(conn: asyncpg.Connection, attempts: list[Attempt]) -> None:
    """Insert ``attempts`` in one transaction."""
    rows = [(alert_id, a.receiver, a.kind, a.attempt, a.status, a.error,
             datetime.fromtimestamp(a.at, UTC))
            for a in attempts for alert_id in a.alert_ids]
    if rows:
        async with conn.transaction():
            await conn.executemany(_INSERT, rows)


async def firing(conn: asyncpg.Connection) -> list[tuple[Alert, str | None]]:
    """Every firing alert, with who acknowledged it (or None)."""
    rows = await conn.fetch(
        "SELECT alert_id, patient_id, rule, severity, metric, value, unit, summary, labels,"
        " started_at, acked_by, device_id, trend_per_min FROM alerts WHERE state = 'firing'")
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
        " WHERE status = 'sent' AND kind <> 'resolved' AND alert_id = ANY($1::text[])"
        " GROUP BY alert_id, receiver", alert_ids)
    out: dict[str, dict[str, float]] = {}
    for r in rows:
        out.setdefault(r["alert_id"], {})[r["receiver"]] = r["first"].timestamp()
    return out
