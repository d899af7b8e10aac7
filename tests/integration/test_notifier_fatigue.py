"""Alarm-fatigue figures: the ``alarm_fatigue_daily`` view on a real, freshly migrated
PostgreSQL database, and the Prometheus metrics."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import pytest
from prometheus_client import CollectorRegistry

from tests.integration.grafana_macros import expand, panel_sql
from vigil.core.migrate import migrate
from vigil.notifier.fatigue import FatigueMetrics, daily
from vigil.notifier.model import Alert, Severity

T0 = datetime(2025, 3, 3, tzinfo=UTC)  # Paris is UTC+1 until 30 March


def _h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


PATIENTS = [("pa", "Europe/Paris"), ("pb", "UTC")]  # "pc" has no patients row: UTC
# (alert, patient, severity, started, alerts.acked_at, notifier_acks.acked_at)
ALERTS = [
    ("a1", "pa", "critical", _h(8), _h(8) + timedelta(minutes=2), None),  # 120 s
    ("a2", "pa", "warning", _h(9), None, _h(9) + timedelta(minutes=10)),  # 600 s
    ("a3", "pa", "high", _h(10), _h(10.5), _h(10) + timedelta(minutes=20)),  # first: 1200 s
    ("a4", "pa", "warning", _h(11), None, None),  # never acknowledged
    ("a5", "pa", "warning", _h(23.5), _h(23.5) + timedelta(minutes=1), None),  # 4 March, Paris
    ("b1", "pb", "critical", _h(23.5), None, None),
    ("c1", "pc", "warning", _h(36), None, None),
]
# (alert ids of one delivery, receiver, kind, status, sent at)
NOTIFICATIONS = [
    (["a1"], "ward", "firing", "failed", _h(8) + timedelta(seconds=20)),
    (["a1"], "ward", "firing", "sent", _h(8) + timedelta(seconds=30)),
    (["a1"], "charge", "escalation", "sent", _h(8) + timedelta(minutes=10)),
    (["a1", "a2"], "ward", "repeat", "sent", _h(9) + timedelta(seconds=30)),  # one message
    (["a4"], "ward", "firing", "dead", _h(11) + timedelta(seconds=30)),
    (["a4"], "ward", "firing", "sent", _h(11) + timedelta(minutes=1)),
    (["a5", "b1"], "ward", "firing", "sent", _h(23.5) + timedelta(seconds=30)),  # two patients
]
# (matchers, created at)
SILENCES = [
    ({"alert_id": "a4"}, _h(11) + timedelta(minutes=5)),  # a snooze of pa's alert
    ({"patient_id": "pb"}, _h(12)),  # a silence of pb
    ({"rule": "hr-high"}, _h(12)),  # not one patient's
    ({"alert_id": "a1", "severity": "warning"}, _h(12)),  # not a snooze, no patient
]


@pytest.fixture
async def conn(fresh_database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A migrated database holding the data set above."""
    c = await asyncpg.connect(fresh_database_url)
    try:
        await migrate(c, want_timescale=False)
        await c.executemany("INSERT INTO patients (patient_id, timezone) VALUES ($1, $2)",
                            PATIENTS)
        for aid, pid, sev, started, acked, notifier_ack in ALERTS:
            await c.execute(
                "INSERT INTO alerts (alert_id, patient_id, rule, severity, state, started_at,"
                " acked_at, acked_by) VALUES ($1, $2, $1, $3, 'firing', $4, $5, $6)",
                aid, pid, sev, started, acked, "nurse" if acked else None)
            if notifier_ack:
                await c.execute("INSERT INTO notifier_acks (alert_id, acked_by, acked_at,"
                                " channel) VALUES ($1, 'nurse', $2, 'http')", aid, notifier_ack)
        await c.executemany(
            "INSERT INTO notifications (alert_id, receiver, kind, status, sent_at)"
            " VALUES ($1, $2, $3, $4, $5)",
            [(aid, r, k, s, t) for ids, r, k, s, t in NOTIFICATIONS for aid in ids])
        for n, (matchers, created) in enumerate(SILENCES):
            await c.execute(
                "INSERT INTO silences (id, matchers, starts_at, ends_at, created_by, comment,"
                " created_at) VALUES ($1, $2::jsonb, $3, $4, 'nurse', 'test', $3)",
                f"s{n}", json.dumps(matchers), created, created + timedelta(hours=1))
        yield c
    finally:
        await c.close()


def _day(pid: str, day: str, start: datetime, fired: int, sent: int, critical: int,
         median: float | None, p90: float | None, unacked: int, snoozes: int = 0,
         silences: int = 0) -> dict[str, object]:
    return {"patient_id": pid, "day": datetime.fromisoformat(day).date(), "day_start": start,
            "alerts_fired": fired, "notifications_sent": sent, "critical": critical,
            "median_time_to_ack_s": median, "p90_time_to_ack_s": p90, "unacked": unacked,
            "snoozes": snoozes, "silences": silences}


async def test_daily_rows_per_patient_and_local_day(conn: asyncpg.Connection) -> None:
    rows = await daily(conn, T0 - timedelta(days=1), T0 + timedelta(days=3))
    assert rows == [
        # Paris day 3 March starts at 23:00 UTC the day before; a5 (23:30 UTC) is on the 4th.
        # Ack times 120, 600, 1200 s: median 600, p90 600 + 0.8 * 600 = 1080.
        _day("pa", "2025-03-03", _h(-1), 4, 4, 1, 600.0, 1080.0, 1, snoozes=1),
        _day("pb", "2025-03-03", _h(0), 1, 1, 1, None, None, 1, silences=1),
        _day("pa", "2025-03-04", _h(23), 1, 1, 0, 60.0, 60.0, 0),
        _day("pc", "2025-03-04", _h(24), 1, 0, 0, None, None, 1),
    ]
    # Days are selected by when they start.
    assert [(r["patient_id"], r["day_start"]) for r in await daily(conn, T0, _h(24))] == [
        ("pb", _h(0)), ("pa", _h(23))]


async def test_ack_times_view_takes_the_first_ack(conn: asyncpg.Connection) -> None:
    rows = await conn.fetch("SELECT alert_id, time_to_ack_s FROM alert_ack_times ORDER BY 1")
    assert [tuple(r) for r in rows] == [
        ("a1", 120.0), ("a2", 600.0), ("a3", 1200.0), ("a4", None), ("a5", 60.0),
        ("b1", None), ("c1", None)]


async def test_refresh_fills_the_per_patient_gauge_histogram(conn: asyncpg.Connection) -> None:
    registry = CollectorRegistry()
    fatigue = FatigueMetrics(registry)
    await fatigue.refresh(conn, now=_h(32))  # the 24 h from 08:00 on 3 March
    assert fatigue.per_patient() == [1, 5]  # pb: 1; pa: 5 (failed and dead rows not counted)

    def bucket(le: str) -> float | None:
        return registry.get_sample_value("vigil_notifier_patient_notifications_24h_bucket",
                                         {"le": le})

    assert [bucket(le) for le in ("1", "2", "5", "10", "+Inf")] == [1, 1, 2, 2, 2]
    assert registry.get_sample_value("vigil_notifier_patient_notifications_24h_gcount") == 2
    assert registry.get_sample_value("vigil_notifier_patient_notifications_24h_gsum") == 6
    assert registry.get_sample_value("vigil_notifier_patient_notifications_24h_max") == 5

    await fatigue.refresh(conn, now=_h(8))  # the message at 08:00:30 is not yet sent
    assert fatigue.per_patient() == []
    await fatigue.refresh(conn)  # the database's now: years later, nothing
    assert registry.get_sample_value("vigil_notifier_patient_notifications_24h_max") == 0
    assert bucket("+Inf") == 0


def test_metrics_the_service_feeds() -> None:
    registry = CollectorRegistry()
    fatigue = FatigueMetrics(registry)
    crit = Alert("a1", "pa", "spo2-low", Severity.CRITICAL, True, started_at=1000.0)
    warn = Alert("a2", "pa", "hr-high", Severity.WARNING, True, started_at=1000.0)
    fatigue.sent(crit, "ward", "firing")
    fatigue.sent(crit, "ward", "firing")
    fatigue.sent(warn, "charge", "escalation")
    fatigue.acked(crit, 1090.0)
    fatigue.acked(crit, 5000.0)  # a second ack of the same alert: not observed
    fatigue.acked(warn, 990.0)  # clocks disagree: never negative
    fatigue.snoozed()

    def value(name: str, **labels: str) -> float | None:
        return registry.get_sample_value(name, labels)

    assert value("vigil_notifier_notifications_total", receiver="ward", severity="critical",
                 kind="firing") == 2
    assert value("vigil_notifier_notifications_total", receiver="charge", severity="warning",
                 kind="escalation") == 1
    assert value("vigil_notifier_time_to_ack_seconds_count", severity="critical") == 1
    assert value("vigil_notifier_time_to_ack_seconds_sum", severity="critical") == 90
    assert value("vigil_notifier_time_to_ack_seconds_bucket", severity="critical", le="60.0") == 0
    assert value("vigil_notifier_time_to_ack_seconds_bucket", severity="critical",
                 le="120.0") == 1
    assert value("vigil_notifier_time_to_ack_seconds_sum", severity="warning") == 0
    assert value("vigil_notifier_snoozes_total") == 1
    assert value("vigil_notifier_patient_notifications_24h_bucket", le="+Inf") == 0


async def test_platform_dashboard_fatigue_panels(conn: asyncpg.Connection) -> None:
    """The committed panels' SQL (macros expanded as Grafana does) on the data set above."""
    panels = {p.title: p.raw_sql for p in panel_sql() if p.dashboard == "vigil-platform"}

    async def show(title: str) -> list[tuple[Any, ...]]:
        sql = expand(panels[title], start=T0, end=_h(48), interval_ms=3_600_000, variables={})
        return [tuple(round(float(v), 6) if isinstance(v, Decimal | float) else v for v in r)
                for r in await conn.fetch(sql)]

    assert await show("Notifications per patient per day") == [
        (_h(-1), "pa", 4), (_h(0), "pb", 1), (_h(23), "pa", 1), (_h(24), "pc", 0)]
    # UTC 3 March: 60, 120, 600, 1200 s (a5 started 23:30 UTC).
    assert await show("Time to acknowledge") == [(_h(0), 360.0, 1020.0)]
    assert await show("Snoozes and silences per day") == [
        (_h(-1), 1, 0), (_h(0), 0, 1), (_h(23), 0, 0), (_h(24), 0, 0)]
    assert await show("Alarm fatigue by patient") == [
        ("pa", 5, 1, 5, 2.5, 360.0, 1020.0, 1, 1, 0),
        ("pb", 1, 1, 1, 0.5, None, None, 1, 0, 1),
        ("pc", 1, 0, 0, 0.0, None, None, 1, 0, 0)]


async def test_cli_prints_the_days_of_the_view(conn: asyncpg.Connection,
                                               fresh_database_url: str) -> None:
    from typer.testing import CliRunner

    from vigil.cli.main import app

    env = {"VIGIL_DATABASE_URL": fresh_database_url, "COLUMNS": "200"}

    async def vigil(*args: str) -> Any:  # the CLI runs its own event loop: not in this one
        return await asyncio.to_thread(CliRunner().invoke, app, ["notifier", *args], env=env)

    def days(output: str) -> list[str]:
        lines = [" ".join(line.replace("│", " ").split()) for line in output.splitlines()]
        return [line for line in lines if line.startswith("2025-")]

    result = await vigil("fatigue", "--since", "2025-03-03", "--days", "1")
    assert result.exit_code == 0, result.output
    assert days(result.output) == ["2025-03-03 pa 4 1 4 600 1080 1 1 0",
                                   "2025-03-03 pb 1 1 1 - - 1 0 1"]
    result = await vigil("fatigue", "--since", "2025-03-04", "--patient", "pc")
    assert days(result.output) == ["2025-03-04 pc 1 0 0 - - 1 0 0"]
    bad = await vigil("fatigue", "--since", "March")
    assert bad.exit_code == 2
    assert "expected an ISO date, got 'March'" in " ".join(bad.output.split())
