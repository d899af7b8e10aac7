"""The SQL behind every Vigil dashboard panel, as Grafana sends it (macros not yet expanded).

Every query runs unchanged on TimescaleDB (continuous aggregates) and on plain PostgreSQL (views
of the same names, plus a ``time_bucket()`` shim), so it uses only ``$__timeFilter``,
``$__timeFrom()``, ``$__timeTo()``, ``$__interval_ms`` and the ``patient`` variable:
no ``$__timeGroup``/``$__timeGroupAlias`` (whose output differs between Grafana versions).

Charts read the rollups (``readings_1m``/``_1h``/``_1d``), never raw readings, except where a
statistic needs every value (time in range, SD, percentiles) or the newest single row.
"""

from __future__ import annotations

# Quoted and escaped by Grafana (the `sqlstring` format), whatever the id holds.
PATIENT = "${patient:sqlstring}"
# The panel's bucket width as an interval; panels set a 1-minute minimum (the finest rollup).
INTERVAL = "($__interval_ms * INTERVAL '1 millisecond')"

# Which rollup serves which bucket width. Minute rollups are kept 90 days only and a 30-day
# chart would re-aggregate 43,200 of them per series, so wider buckets read coarser rollups.
# The comparison involves constants only: the planner folds it, and the two branches that do
# not apply are never executed.
TIERS: list[tuple[str, str]] = [
    ("readings_1m", f"{INTERVAL} < INTERVAL '1 hour'"),
    ("readings_1h", f"{INTERVAL} >= INTERVAL '1 hour' AND {INTERVAL} < INTERVAL '1 day'"),
    ("readings_1d", f"{INTERVAL} >= INTERVAL '1 day'"),
]

# Consensus CGM bands (Battelino et al., Diabetes Care 2019), mg/dL, as SQL conditions on {v}.
GLUCOSE_BANDS: list[tuple[str, str]] = [
    ("very low (< 54)", "{v} < 54"),
    ("low (54-69)", "{v} >= 54 AND {v} < 70"),
    ("in range (70-180)", "{v} >= 70 AND {v} <= 180"),
    ("high (181-250)", "{v} > 180 AND {v} <= 250"),
    ("very high (> 250)", "{v} > 250"),
]

# Aggregates of rollup columns that stay exact when rollups are merged into wider buckets.
_AGG = {
    "avg": "sum(avg * count) FILTER (WHERE metric = '{m}')"
           " / sum(count) FILTER (WHERE metric = '{m}')",
    "min": "min(min) FILTER (WHERE metric = '{m}')",
    "max": "max(max) FILTER (WHERE metric = '{m}')",
    "sum": "sum(avg * count) FILTER (WHERE metric = '{m}')",
}


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tiered(select: str, where: str, group: str) -> str:
    """One SELECT per rollup tier, glued with UNION ALL; only the matching tier runs."""
    branches = [
        f"SELECT {select}\n  FROM {view}\n WHERE {where}\n   AND {cond}\n GROUP BY {group}"
        for view, cond in TIERS
    ]
    return "\nUNION ALL\n".join(branches) + "\nORDER BY 1"


def vitals_series(series: list[tuple[str, str, str]]) -> str:
    """A patient's metrics over time, one column per ``(label, metric, aggregate)``."""
    cols = ",\n       ".join(
        _AGG[agg].format(m=metric) + f" AS {_quote_ident(label)}" for label, metric, agg in series
    )
    metrics = ", ".join(sorted({f"'{metric}'" for _, metric, _ in series}))
    return _tiered(
        f"time_bucket({INTERVAL}, bucket) AS time,\n       {cols}",
        f"patient_id = {PATIENT} AND metric IN ({metrics}) AND $__timeFilter(bucket)",
        "1",
    )


def latest(metrics: list[tuple[str, str]]) -> str:
    """The newest reading of each ``(label, metric)`` in the time range (one row, wide)."""
    cols = ",\n       ".join(
        f"(SELECT value FROM readings WHERE patient_id = {PATIENT} AND metric = '{metric}'"
        f" AND $__timeFilter(time) ORDER BY time DESC LIMIT 1) AS {_quote_ident(label)}"
        for label, metric in metrics
    )
    return f"SELECT {cols}"


def daily_totals(series: list[tuple[str, str]]) -> str:
    """Per-day sums of ``(label, metric)`` over the patient's local calendar days.

    Hourly rollups, re-grouped by the day in the patient's time zone: a day's steps (or a
    night's sleep, exported when it ends) belong to the patient's day, not to a UTC one.
    """
    cols = ",\n       ".join(
        f"sum(r.avg * r.count) FILTER (WHERE r.metric = '{metric}') AS {_quote_ident(label)}"
        for label, metric in series
    )
    metrics = ", ".join(f"'{metric}'" for _, metric in series)
    return (
        "SELECT date_trunc('day', r.bucket AT TIME ZONE p.timezone) AT TIME ZONE p.timezone"
        f" AS time,\n       {cols}\n"
        "  FROM readings_1h r JOIN patients p USING (patient_id)\n"
        f" WHERE r.patient_id = {PATIENT} AND r.metric IN ({metrics})"
        " AND $__timeFilter(r.bucket)\n"
        " GROUP BY 1\n ORDER BY 1"
    )


ACTIVE_ALERTS = f"""SELECT started_at AS "started", severity, rule, metric, value, summary,
       acked_at AS "acknowledged", acked_by AS "acknowledged by"
  FROM alerts
 WHERE patient_id = {PATIENT} AND state = 'firing'
 ORDER BY started_at DESC"""

# Every glucose reading of the range: CGM metrics are defined over readings, not rollups.
_GLUCOSE = f"FROM readings WHERE patient_id = {PATIENT} AND metric = 'glucose'" \
           " AND $__timeFilter(time)"

TIME_IN_RANGE = "SELECT " + ",\n       ".join(
    f"100.0 * count(*) FILTER (WHERE {cond.format(v='value')}) / NULLIF(count(*), 0)"
    f" AS {_quote_ident(label)}"
    for label, cond in GLUCOSE_BANDS
) + f"\n  {_GLUCOSE}"

# The same bands per calendar day of the patient (their time zone), to see which days went wrong.
TIME_IN_RANGE_DAILY = (
    "SELECT date_trunc('day', r.time AT TIME ZONE p.timezone) AT TIME ZONE p.timezone AS time,\n"
    "       " + ",\n       ".join(
        f"100.0 * count(*) FILTER (WHERE {cond.format(v='r.value')})"
        f" / count(*) AS {_quote_ident(label)}" for label, cond in GLUCOSE_BANDS)
    + "\n  FROM readings r JOIN patients p USING (patient_id)\n"
    f" WHERE r.patient_id = {PATIENT} AND r.metric = 'glucose' AND $__timeFilter(r.time)\n"
    " GROUP BY 1\n ORDER BY 1"
)

MEAN_GLUCOSE = f'SELECT avg(value) AS "mean glucose"\n  {_GLUCOSE}'
# Glucose management indicator (Bergenstal et al., Diabetes Care 2018), estimated HbA1c in %.
GMI = f'SELECT 3.31 + 0.02392 * avg(value) AS "GMI"\n  {_GLUCOSE}'
# Coefficient of variation: SD / mean; >= 36 % marks unstable glucose.
GLUCOSE_CV = f'SELECT 100.0 * stddev_samp(value) / NULLIF(avg(value), 0) AS "CV"\n  {_GLUCOSE}'
GLUCOSE_COUNT = f'SELECT count(*) AS "readings"\n  {_GLUCOSE}'

# Ambulatory glucose profile: percentiles per hour of the patient's local day, every day of the
# range laid over one another.
AGP = f"""SELECT extract(hour FROM r.time AT TIME ZONE p.timezone)::int AS "hour of day",
       percentile_cont(0.05) WITHIN GROUP (ORDER BY r.value) AS "5th percentile",
       percentile_cont(0.25) WITHIN GROUP (ORDER BY r.value) AS "25th percentile",
       percentile_cont(0.50) WITHIN GROUP (ORDER BY r.value) AS "median",
       percentile_cont(0.75) WITHIN GROUP (ORDER BY r.value) AS "75th percentile",
       percentile_cont(0.95) WITHIN GROUP (ORDER BY r.value) AS "95th percentile"
  FROM readings r JOIN patients p USING (patient_id)
 WHERE r.patient_id = {PATIENT} AND r.metric = 'glucose' AND $__timeFilter(r.time)
 GROUP BY 1
 ORDER BY 1"""

READINGS_PER_MINUTE = _tiered(
    f"time_bucket({INTERVAL}, bucket) AS time, metric,\n"
    "       sum(count) * 60000.0 / $__interval_ms AS \"readings/min\"",
    "$__timeFilter(bucket)",
    "1, 2",
)

DEVICES = """SELECT device_id AS "device", kind, patient_id AS "patient",
       CASE WHEN online THEN 'online' WHEN NOT online THEN 'offline' ELSE 'unknown' END
         AS "status",
       last_seen AS "last seen",
       extract(epoch FROM now() - last_seen) AS "silent for",
       battery_pct AS "battery", rssi_dbm AS "RSSI", firmware_version AS "firmware"
  FROM devices
 ORDER BY last_seen DESC NULLS LAST, device_id"""

DEVICES_ONLINE = """SELECT count(*) FILTER (WHERE online) AS "online",
       count(*) AS "registered"
  FROM devices"""

# Reasons embed ids and numbers ("device 'ox-9' is not registered"); folding quoted strings and
# numbers to '#' turns them into a handful of series instead of one per device or value.
REASON = ("stage || ': ' || left(regexp_replace(reason, '''[^'']*''|[0-9]+(\\.[0-9]+)?', '#',"
          " 'g'), 80)")

DEAD_LETTERS_BY_REASON = f"""SELECT time_bucket({INTERVAL}, time) AS time,
       {REASON} AS reason,
       count(*) AS "dead letters"
  FROM dead_letters
 WHERE $__timeFilter(time)
 GROUP BY 1, 2
 ORDER BY 1"""

# The payload itself is never shown: it may hold health values (CONVENTIONS.md, Logs).
LATEST_DEAD_LETTERS = """SELECT time, stage, topic, device_id AS "device", reason,
       octet_length(payload) AS "payload bytes"
  FROM dead_letters
 WHERE $__timeFilter(time)
 ORDER BY time DESC, id DESC
 LIMIT 100"""

# How long since the ingest last stored a reading measured in the range. Bounded by the time
# filter so that only the newest chunks are read (ingested_at has no index of its own).
INGEST_FRESHNESS = """SELECT extract(epoch FROM now() - max(ingested_at)) AS "since last write"
  FROM readings
 WHERE $__timeFilter(time)"""

FIRING_ALERTS = """SELECT count(*) AS "firing" FROM alerts WHERE state = 'firing'"""

NOTIFICATIONS_BY_STATUS = f"""SELECT time_bucket({INTERVAL}, sent_at) AS time, status,
       count(*) AS "notifications"
  FROM notifications
 WHERE $__timeFilter(sent_at)
 GROUP BY 1, 2
 ORDER BY 1"""

PATIENTS = "SELECT patient_id FROM patients ORDER BY 1"

# --- Alarm fatigue (views of migration 0005) ------------------------------------------------
# alarm_fatigue_daily has one row per patient and calendar day *of the patient* (their time
# zone): a day is shown when it overlaps the range, so a range starting at UTC midnight still
# shows the first local day of a patient east of UTC.
_FATIGUE_DAYS = ("f.day_start + INTERVAL '1 day' > $__timeFrom()"
                 " AND f.day_start < $__timeTo()")

NOTIFICATIONS_PER_PATIENT_DAY = f"""SELECT f.day_start AS time, f.patient_id AS patient,
       f.notifications_sent AS "notifications"
  FROM alarm_fatigue_daily f
 WHERE {_FATIGUE_DAYS}
 ORDER BY 1, 2"""

# All patients, per UTC day (patients' days start at different instants).
TIME_TO_ACK = """SELECT time_bucket(INTERVAL '1 day', started_at) AS time,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY time_to_ack_s) AS "median",
       percentile_cont(0.9) WITHIN GROUP (ORDER BY time_to_ack_s) AS "90th percentile"
  FROM alert_ack_times
 WHERE time_to_ack_s IS NOT NULL AND $__timeFilter(started_at)
 GROUP BY 1
 ORDER BY 1"""

SNOOZES_PER_DAY = f"""SELECT f.day_start AS time, sum(f.snoozes) AS "snoozes",
       sum(f.silences) AS "silences"
  FROM alarm_fatigue_daily f
 WHERE {_FATIGUE_DAYS}
 GROUP BY 1
 ORDER BY 1"""


def _ack_percentile(p: float) -> str:
    return (f"(SELECT percentile_cont({p}) WITHIN GROUP (ORDER BY t.time_to_ack_s)"
            " FROM alert_ack_times t WHERE t.patient_id = f.patient_id"
            " AND $__timeFilter(t.started_at))")


# Ack percentiles over the alerts that started in the range (exact, not a mean of daily ones).
FATIGUE_BY_PATIENT = f"""SELECT f.patient_id AS "patient", sum(f.alerts_fired) AS "alerts",
       sum(f.critical) AS "critical", sum(f.notifications_sent) AS "notifications",
       sum(f.notifications_sent) / greatest(1.0, extract(epoch FROM
         $__timeTo()::timestamptz - $__timeFrom()::timestamptz) / 86400) AS "per day",
       {_ack_percentile(0.5)} AS "median time to ack",
       {_ack_percentile(0.9)} AS "p90 time to ack",
       sum(f.unacked) AS "never acknowledged", sum(f.snoozes) AS "snoozes",
       sum(f.silences) AS "silences"
  FROM alarm_fatigue_daily f
 WHERE {_FATIGUE_DAYS}
 GROUP BY f.patient_id
 ORDER BY "notifications" DESC, 1"""
