"""Alarm-fatigue figures: how often carers are interrupted, and how fast alerts are taken.

Two sources, on purpose: the ``alarm_fatigue_daily`` view (migration 0005) is the record,
per patient and local day, for dashboards and :func:`daily`; :class:`FatigueMetrics` is what
this process saw, for Prometheus. Per-patient numbers never become metric labels (unbounded
cardinality): the spread of notifications over patients is a gauge histogram refreshed from
the database.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import asyncpg
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeHistogramMetricFamily, GaugeMetricFamily, Metric

from vigil.notifier.model import Alert

# Seconds from an alert's start to its acknowledgement.
ACK_BUCKETS = (30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0)
# Notifications one patient caused in 24 h.
PER_PATIENT_BUCKETS = (1, 2, 5, 10, 20, 50, 100)
_ACKED_KEPT = 10_000  # alert ids remembered so that a repeated ack is observed once

DAILY_COLUMNS = ("patient_id", "day", "day_start", "alerts_fired", "notifications_sent",
                 "critical", "median_time_to_ack_s", "p90_time_to_ack_s", "unacked",
                 "snoozes", "silences")

# One message per (receiver, kind, sent_at): a grouped delivery writes one row per alert.
PER_PATIENT_24H = """
SELECT a.patient_id, count(DISTINCT (n.receiver, n.kind, n.sent_at)) AS sent
  FROM notifications n JOIN alerts a USING (alert_id)
 WHERE n.status = 'sent'
   AND n.sent_at > coalesce($1::timestamptz, now()) - INTERVAL '24 hours'
   AND n.sent_at <= coalesce($1::timestamptz, now())
 GROUP BY 1"""


async def daily(conn: asyncpg.Connection, since: datetime, until: datetime
                ) -> list[dict[str, Any]]:
    """Rows of ``alarm_fatigue_daily`` for the local days starting in [since, until)."""
    rows = await conn.fetch(
        f"SELECT {', '.join(DAILY_COLUMNS)} FROM alarm_fatigue_daily"
        " WHERE day_start >= $1 AND day_start < $2 ORDER BY day_start, patient_id",
        since, until)
    return [dict(r) for r in rows]


class FatigueMetrics:
    """Prometheus figures of alarm fatigue, on an injected registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.time_to_ack = Histogram(
            "vigil_notifier_time_to_ack_seconds", "From an alert's start to its first ack",
            ["severity"], buckets=ACK_BUCKETS, registry=registry)
        self.notifications = Counter(
            "vigil_notifier_notifications_total", "Messages delivered (one per delivery)",
            ["receiver", "severity", "kind"], registry=registry)
        self.snoozes = Counter("vigil_notifier_snoozes_total", "Snoozes created",
                               registry=registry)
        self._acked: OrderedDict[str, None] = OrderedDict()
        self._per_patient: list[int] = []
        registry.register(_PerPatient(self))

    def sent(self, alert: Alert, receiver: str, kind: str) -> None:
        """One message delivered; ``alert`` is its most severe alert."""
        self.notifications.labels(receiver, alert.severity.name.lower(), kind).inc()

    def acked(self, alert: Alert, at: float) -> None:
        """An alert acknowledged at ``at``; later acks of the same alert are not observed."""
        if alert.alert_id in self._acked:
            return
        self._acked[alert.alert_id] = None
        if len(self._acked) > _ACKED_KEPT:
            self._acked.popitem(last=False)
        self.time_to_ack.labels(alert.severity.name.lower()).observe(
            max(0.0, at - alert.started_at))

    def snoozed(self) -> None:
        """A snooze was created."""
        self.snoozes.inc()

    async def refresh(self, conn: asyncpg.Connection, now: datetime | None = None) -> None:
        """Re-read notifications per patient over the 24 h before ``now`` (default: the
        database's now) for the gauge histogram."""
        rows = await conn.fetch(PER_PATIENT_24H, now)
        self._per_patient = sorted(int(r["sent"]) for r in rows)

    def per_patient(self) -> list[int]:
        """The last refresh: notifications of each notified patient, ascending."""
        return list(self._per_patient)


class _PerPatient:
    """Exposes the last refresh as ``vigil_notifier_patient_notifications_24h``: a gauge
    histogram over notified patients (count = patients, sum = notifications), and its max."""

    def __init__(self, fatigue: FatigueMetrics) -> None:
        self._fatigue = fatigue

    def collect(self) -> Iterator[Metric]:
        values = self._fatigue.per_patient()
        buckets = [(str(b), float(sum(v <= b for v in values))) for b in PER_PATIENT_BUCKETS]
        yield GaugeHistogramMetricFamily(
            "vigil_notifier_patient_notifications_24h",
            "Patients by notifications delivered for them in the last 24 h",
            buckets=[*buckets, ("+Inf", float(len(values)))], gsum_value=float(sum(values)))
        yield GaugeMetricFamily(
            "vigil_notifier_patient_notifications_24h_max",
            "Most notifications delivered for one patient in the last 24 h",
            value=float(values[-1] if values else 0))
