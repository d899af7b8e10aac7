"""One data set and the numbers every dashboard panel must show for it, on both database lanes.

The PostgreSQL lane (tests/integration/test_dashboards.py) and the TimescaleDB lane
(tests/timescale/test_dashboards_timescale.py) write the same rows and run the committed
panels' SQL through :func:`check_all`, so a dashboard shows the same numbers on both flavours
(DESIGN.md, Invariant 6). Expected values are computed here in Python from the rows written,
or written out by hand; never read back from a database.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from tests.integration.grafana_macros import PanelSql, expand, panel_sql, variable_queries

T0 = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday; Paris is UTC+1 until 30 March
START, END = T0, T0 + timedelta(days=2)  # the dashboards' time range in every check
ALPHA, BETA = "p-alpha", "p-beta"
ZONES = {ALPHA: "Europe/Paris", BETA: "UTC"}
# $__interval_ms values: one per rollup tier (minute, hour, day).
INTERVALS = (60_000, 3_600_000, 86_400_000)
MINUTE, HOUR, DAY = (timedelta(milliseconds=ms) for ms in INTERVALS)
HOUR_MS = INTERVALS[1]

Row = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Reading:
    """One row of ``readings``; ``age_s``: how long before the test it was stored."""

    time: datetime
    patient: str
    device: str
    metric: str
    value: float
    age_s: float = 600.0


def _h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def _readings() -> list[Reading]:
    rows: list[Reading] = []
    add = rows.append
    for i in range(24):  # every 10 minutes, 08:00-11:50 UTC
        add(Reading(_h(8) + timedelta(minutes=10 * i), ALPHA, "ox-1", "heart_rate",
                    60.0 + (i * 7) % 31))
    add(Reading(_h(44), ALPHA, "ox-1", "heart_rate", 77.0, age_s=300.0))  # latest in range
    add(Reading(_h(49), ALPHA, "ox-1", "heart_rate", 150.0, age_s=10.0))  # after the range
    add(Reading(_h(47), BETA, "ox-2", "heart_rate", 120.0))  # another patient, later
    for i, sat in enumerate([97, 96, 95, 98, 94]):
        add(Reading(_h(8 + i / 2), ALPHA, "ox-1", "spo2", float(sat)))
    for i, (rr, temp) in enumerate([(14, 36.8), (18, 37.2)]):
        add(Reading(_h(9 + 24 * i), ALPHA, "phone-1", "respiratory_rate", float(rr)))
        add(Reading(_h(9 + 24 * i), ALPHA, "phone-1", "body_temperature", temp))
    for i, (sys, dia) in enumerate([(120, 80), (135, 85)]):
        add(Reading(_h(9 + 24 * i), ALPHA, "phone-1", "blood_pressure_systolic", float(sys)))
        add(Reading(_h(9 + 24 * i), ALPHA, "phone-1", "blood_pressure_diastolic", float(dia)))
    for i, v in enumerate(GLUCOSE):  # spread over both days, at many hours of the day
        add(Reading(_h(1) + timedelta(minutes=137 * i), ALPHA, "cgm-1", "glucose", v))
    add(Reading(_h(-2), ALPHA, "cgm-1", "glucose", 40.0))  # before the range
    add(Reading(_h(50), ALPHA, "cgm-1", "glucose", 400.0))  # after it
    add(Reading(_h(5), BETA, "ox-2", "glucose", 500.0))
    # Hourly step counts; 23:30 UTC on day one is 00:30 on day two in Paris.
    for hours, steps in [(7.5, 1200), (15, 3400), (23.5, 500), (34, 2000)]:
        add(Reading(_h(hours), ALPHA, "phone-1", "steps", float(steps)))
    for day, stages in enumerate([(1.5, 4.0, 1.25, 0.5), (1.0, 4.5, 1.5, 0.25)]):
        for metric, hours in zip(SLEEP_METRICS, stages, strict=True):
            add(Reading(_h(6 + 24 * day), ALPHA, "phone-1", metric, hours))
    return rows


# Five values per consensus band, one value on each band's edge.
GLUCOSE = [45.0, 50.0, 55.0, 60.0, 69.0, 70.0, 85.0, 100.0, 110.0, 120.0, 130.0, 140.0, 150.0,
           165.0, 180.0, 181.0, 200.0, 220.0, 250.0, 300.0]
SLEEP_METRICS = ("sleep_deep", "sleep_core", "sleep_rem", "sleep_awake")
READINGS = _readings()
UNITS = {"heart_rate": "bpm", "spo2": "%", "respiratory_rate": "breaths/min",
         "body_temperature": "degC", "blood_pressure_systolic": "mmHg",
         "blood_pressure_diastolic": "mmHg", "glucose": "mg/dL", "steps": "count"}

# (device, kind, patient, online, seconds since last seen)
DEVICES: list[tuple[str, str, str, bool | None, float | None]] = [
    ("ox-1", "oximeter", ALPHA, True, 30.0),
    ("cgm-1", "glucose_meter", ALPHA, False, 7200.0),
    ("phone-1", "phone", ALPHA, None, None),
    ("ox-2", "oximeter", BETA, None, None),
]
# (time, stage, device, reason, payload bytes)
DEAD_LETTERS: list[tuple[datetime, str, str | None, str, int]] = [
    (_h(-1), "ingest", "ox-1", "device 'ox-1' is not registered", 10),  # before the range
    (_h(1) + timedelta(minutes=5), "ingest", "ox-9", "device 'ox-9' is not registered", 12),
    (_h(1) + timedelta(minutes=10), "ingest", "ox-10", "device 'ox-10' is not registered", 14),
    (_h(1) + timedelta(minutes=15), "ingest", "zz", "device 'zz' is not registered", 16),
    (_h(3), "ingest", "ox-1", "payload of 70000 bytes exceeds 65536", 4096),
    (_h(3) + timedelta(minutes=1), "ingest", "ox-2", "payload of 80123 bytes exceeds 65536", 4096),
    (_h(3.5), "ingest", "cgm-1",
     "invalid JSON: Expecting value: line 1 column 1 (char 0)", 3),
]
# (id, patient, rule, severity, state, metric, value, started, acked by)
ALERTS: list[tuple[str, str, str, str, str, str, float, datetime, str | None]] = [
    ("a1", ALPHA, "spo2-low", "critical", "firing", "spo2", 94.0, _h(9), None),
    ("a2", ALPHA, "hr-high", "warning", "firing", "heart_rate", 77.0, _h(44), "nurse-1"),
    ("a3", ALPHA, "hr-low", "warning", "resolved", "heart_rate", 39.0, _h(2), None),
    ("b1", BETA, "hr-high", "warning", "firing", "heart_rate", 120.0, _h(47), None),
]
# (alert, status, sent at)
NOTIFICATIONS = [("a1", "sent", _h(9) + timedelta(minutes=1)),
                 ("a1", "failed", _h(9) + timedelta(minutes=2)),
                 ("a2", "dead", _h(44) + timedelta(minutes=1)),
                 ("b1", "sent", _h(52))]  # after the range


async def write(conn: asyncpg.Connection) -> None:
    """Insert the whole data set (plain SQL: pglite-socket has no COPY)."""
    for pid, tz in ZONES.items():
        await conn.execute("INSERT INTO patients (patient_id, timezone) VALUES ($1, $2)", pid, tz)
    for dev, kind, pid, online, seen in DEVICES:
        await conn.execute(
            "INSERT INTO devices (device_id, kind, patient_id, online, last_seen) VALUES"
            " ($1, $2, $3, $4, now() - $5::float8 * INTERVAL '1 second')",
            dev, kind, pid, online, seen)
    r = READINGS
    await conn.execute(
        "INSERT INTO readings (time, patient_id, device_id, metric, value, unit, ingested_at)"
        " SELECT t, p, d, m, v, u, now() - a * INTERVAL '1 second' FROM unnest($1::timestamptz[],"
        " $2::text[], $3::text[], $4::text[], $5::float8[], $6::text[], $7::float8[])"
        " AS x(t, p, d, m, v, u, a)",
        [x.time for x in r], [x.patient for x in r], [x.device for x in r],
        [x.metric for x in r], [x.value for x in r],
        [UNITS.get(x.metric, "hr") for x in r], [x.age_s for x in r])
    for t, stage, sender, reason, size in DEAD_LETTERS:
        await conn.execute(
            "INSERT INTO dead_letters (time, stage, topic, device_id, reason, payload)"
            " VALUES ($1, $2, $3, $4, $5, $6)",
            t, stage, f"vigil/v1/devices/{sender}/telemetry", sender, reason, b"x" * size)
    for aid, pid, rule, sev, state, metric, value, started, acked_by in ALERTS:
        await conn.execute(
            "INSERT INTO alerts (alert_id, patient_id, rule, severity, state, metric, value,"
            " summary, started_at, acked_at, acked_by) VALUES ($1, $2, $3, $4, $5, $6, $7,"
            " $8, $9, $10, $11)", aid, pid, rule, sev, state, metric, value, f"{rule} {value:g}",
            started, started + timedelta(minutes=3) if acked_by else None, acked_by)
    for aid, status, sent in NOTIFICATIONS:
        await conn.execute("INSERT INTO notifications (alert_id, receiver, kind, status, sent_at)"
                           " VALUES ($1, 'ward', 'webhook', $2, $3)", aid, status, sent)


# --- expectations, computed from the rows above -------------------------------------------

def _in_range(r: Reading, patient: str | None = ALPHA, metric: str | None = None) -> bool:
    return ((patient is None or r.patient == patient) and (metric is None or r.metric == metric)
            and START <= r.time <= END)


def _floor(t: datetime, width: timedelta) -> datetime:
    # Every width here divides a day, and time_bucket's origin is a UTC midnight.
    return T0 + ((t - T0) // width) * width


def _tier(interval: timedelta) -> timedelta:
    return MINUTE if interval < HOUR else HOUR if interval < DAY else DAY


def _buckets(interval: timedelta, keep: Callable[[Reading], bool],
             key: Callable[[Reading], Any] = lambda r: ()) -> dict[Any, list[float]]:
    """Values grouped as the tiered SQL groups them: rollup bucket in range, then by interval."""
    tier = _tier(interval)
    out: dict[Any, list[float]] = defaultdict(list)
    for r in READINGS:
        if keep(r) and START <= _floor(r.time, tier) <= END:
            out[(_floor(r.time, interval), *key(r))].append(r.value)
    return out


def heart_rate_series(interval: timedelta) -> list[Row]:
    """(time, mean, min, max) of the patient's heart rate per interval."""
    groups = _buckets(interval, lambda r: r.patient == ALPHA and r.metric == "heart_rate")
    return [(t, statistics.fmean(v), min(v), max(v)) for (t,), v in sorted(groups.items())]


def readings_per_minute(interval: timedelta) -> list[Row]:
    """(time, metric, readings per minute), all patients."""
    groups = _buckets(interval, lambda r: True, key=lambda r: (r.metric,))
    return sorted((t, m, len(v) * 60_000 / (interval / timedelta(milliseconds=1)))
                  for (t, m), v in groups.items())


def _glucose() -> list[float]:
    return [r.value for r in READINGS if _in_range(r, metric="glucose")]


def _bands(g: list[float]) -> Row:
    """Percent of ``g`` in each consensus band, lowest first."""
    bands = [sum(v < 54 for v in g), sum(54 <= v < 70 for v in g), sum(70 <= v <= 180 for v in g),
             sum(180 < v <= 250 for v in g), sum(v > 250 for v in g)]
    return tuple(100 * n / len(g) for n in bands)


def time_in_range() -> Row:
    """Percent of the range's glucose readings in each consensus band."""
    return _bands(_glucose())


def time_in_range_daily() -> list[Row]:
    """(local midnight, band percentages) per calendar day of the patient."""
    tz = ZoneInfo(ZONES[ALPHA])
    days: dict[datetime, list[float]] = defaultdict(list)
    for r in READINGS:
        if _in_range(r, metric="glucose"):
            midnight = r.time.astimezone(tz).replace(hour=0, minute=0, second=0)
            days[midnight.astimezone(UTC)].append(r.value)
    return [(d, *_bands(v)) for d, v in sorted(days.items())]


def _percentile(values: list[float], p: float) -> float:
    """PostgreSQL's percentile_cont: linear interpolation between the closest ranks."""
    s = sorted(values)
    pos = p * (len(s) - 1)
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def agp() -> list[Row]:
    """Glucose percentiles by hour of the patient's local day."""
    tz = ZoneInfo(ZONES[ALPHA])
    hours: dict[int, list[float]] = defaultdict(list)
    for r in READINGS:
        if _in_range(r, metric="glucose"):
            hours[r.time.astimezone(tz).hour].append(r.value)
    return [(h, *(_percentile(v, p) for p in (0.05, 0.25, 0.5, 0.75, 0.95)))
            for h, v in sorted(hours.items())]


def daily_totals(metrics: Iterable[str]) -> list[Row]:
    """Per local day (Paris midnight, as a UTC instant) sums of each metric, in order."""
    tz, metrics = ZoneInfo(ZONES[ALPHA]), list(metrics)
    days: dict[datetime, dict[str, float]] = defaultdict(lambda: dict.fromkeys(metrics, 0.0))
    for r in READINGS:
        if r.metric in metrics and _in_range(r) and START <= _floor(r.time, HOUR) <= END:
            local = r.time.astimezone(tz)
            midnight = local.replace(hour=0, minute=0).astimezone(UTC)
            days[midnight][r.metric] += r.value
    return [(d, *(v[m] for m in metrics)) for d, v in sorted(days.items())]


def _latest(metric: str) -> float:
    return max((r for r in READINGS if _in_range(r, metric=metric)), key=lambda r: r.time).value


def expected() -> dict[tuple[str, str], Callable[[timedelta], list[Row]]]:
    """The rows each key panel must return, by (dashboard uid, panel title) and interval."""
    g = _glucose()
    mean = statistics.fmean(g)
    vitals, glucose, platform = "vigil-patient-vitals", "vigil-glucose", "vigil-platform"
    firing = [a for a in ALERTS if a[1] == ALPHA and a[4] == "firing"]
    in_range_dl = sorted((d for d in DEAD_LETTERS if START <= d[0] <= END), reverse=True)
    return {
        (vitals, "Heart rate (latest)"): lambda _: [(_latest("heart_rate"),)],
        (vitals, "SpO2 (latest)"): lambda _: [(_latest("spo2"),)],
        (vitals, "Glucose (latest)"): lambda _: [(_latest("glucose"),)],
        (vitals, "Blood pressure (latest)"): lambda _: [(135.0, 85.0)],
        (vitals, "Heart rate"): heart_rate_series,
        (vitals, "Steps per day"): lambda _: daily_totals(["steps"]),
        (vitals, "Sleep per night"): lambda _: daily_totals(SLEEP_METRICS),
        (vitals, "Active alerts"): lambda _: [
            (a[7], a[3], a[2], a[5], a[6], f"{a[2]} {a[6]:g}",
             a[7] + timedelta(minutes=3) if a[8] else None, a[8])
            for a in sorted(firing, key=lambda a: a[7], reverse=True)],
        (glucose, "Time in range"): lambda _: [time_in_range()],
        (glucose, "Time in range per day"): lambda _: time_in_range_daily(),
        (glucose, "Mean glucose"): lambda _: [(mean,)],
        (glucose, "GMI"): lambda _: [(3.31 + 0.02392 * mean,)],
        (glucose, "Coefficient of variation"): lambda _: [(100 * statistics.stdev(g) / mean,)],
        (glucose, "Readings"): lambda _: [(len(g),)],
        (glucose, "Ambulatory glucose profile"): lambda _: agp(),
        (platform, "Readings per minute"): readings_per_minute,
        (platform, "Dead letters by reason"): dead_letters_by_reason,
        (platform, "Latest dead letters"): lambda _: [
            (t, stage, f"vigil/v1/devices/{dev}/telemetry", dev, reason, size)
            for t, stage, dev, reason, size in in_range_dl],
        (platform, "Devices online"): lambda _: [(1, len(DEVICES))],
        (platform, "Alerts firing"): lambda _: [(sum(a[4] == "firing" for a in ALERTS),)],
        (platform, "Notifications"): lambda iv: sorted(
            (_floor(t, iv), s, 1) for _, s, t in NOTIFICATIONS if START <= t <= END),
    }


# Reasons with ids and numbers folded, written out by hand.
FOLDED = {
    "device 'ox-1' is not registered": "device # is not registered",
    "device 'ox-9' is not registered": "device # is not registered",
    "device 'ox-10' is not registered": "device # is not registered",
    "device 'zz' is not registered": "device # is not registered",
    "payload of 70000 bytes exceeds 65536": "payload of # bytes exceeds #",
    "payload of 80123 bytes exceeds 65536": "payload of # bytes exceeds #",
    "invalid JSON: Expecting value: line 1 column 1 (char 0)":
        "invalid JSON: Expecting value: line # column # (char #)",
}


def dead_letters_by_reason(interval: timedelta) -> list[Row]:
    """(time, "stage: folded reason", count) per interval."""
    counts: dict[tuple[datetime, str], int] = defaultdict(int)
    for t, stage, _, reason, _ in DEAD_LETTERS:
        if START <= t <= END:
            counts[(_floor(t, interval), f"{stage}: {FOLDED[reason]}")] += 1
    return sorted((t, r, n) for (t, r), n in counts.items())


# --- running the panels --------------------------------------------------------------------

# Panels whose SQL orders only by time: rows of one bucket may come in any order.
UNORDERED = {("vigil-platform", "Readings per minute"), ("vigil-platform", "Notifications"),
             ("vigil-platform", "Dead letters by reason")}


def _plain(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


async def run(conn: asyncpg.Connection, panel: PanelSql, interval_ms: int,
              patient: str = ALPHA) -> list[Row]:
    """The rows ``panel`` shows for the data set's time range, as tuples of plain values."""
    sql = expand(panel.raw_sql, start=START, end=END, interval_ms=interval_ms,
                 variables={"patient": patient})
    try:
        records = await conn.fetch(sql)
    except asyncpg.PostgresError as exc:
        pytest.fail(f"{panel.key} at {interval_ms} ms failed: {exc}\n{sql}")
    return [tuple(_plain(v) for v in r) for r in records]


def _assert_rows(key: tuple[str, str], actual: list[Row], want: list[Row]) -> None:
    if key in UNORDERED:
        actual = sorted(actual)
    assert len(actual) == len(want), f"{key}: {actual} != {want}"
    for got, exp in zip(actual, want, strict=True):
        assert len(got) == len(exp), f"{key}: {got} != {exp}"
        for g, e in zip(got, exp, strict=True):
            if isinstance(e, float):
                assert g == pytest.approx(e, rel=1e-9, abs=1e-9), f"{key}: {got} != {exp}"
            else:
                assert g == e, f"{key}: {got} != {exp}"


async def _assert_live(conn: asyncpg.Connection, panels: dict[tuple[str, str], PanelSql]) -> None:
    """Panels that read now(): their numbers hold within the seconds a test takes."""
    (since,) = (await run(conn, panels["vigil-platform", "Since last write"], HOUR_MS))[0]
    assert 300 <= since < 360  # the newest write in range, not the later one outside it
    devices = await run(conn, panels["vigil-platform", "Devices"], HOUR_MS)
    assert [(d[0], d[3]) for d in devices] == [
        ("ox-1", "online"), ("cgm-1", "offline"), ("ox-2", "unknown"), ("phone-1", "unknown")]
    silent = {d[0]: d[5] for d in devices}
    assert 30 <= silent["ox-1"] < 90
    assert 7200 <= silent["cgm-1"] < 7260
    assert silent["phone-1"] is None


async def check_all(conn: asyncpg.Connection) -> set[tuple[str, str]]:
    """Run every panel at every rollup tier; assert the key panels' numbers.

    Returns the panels whose numbers were checked.
    """
    for sql in variable_queries():  # the patient selector of each clinical dashboard
        assert [tuple(r) for r in await conn.fetch(sql)] == [(ALPHA,), (BETA,)]
    panels = {p.key: p for p in panel_sql()}
    want = expected()
    assert set(want) <= set(panels), f"no panel for {set(want) - set(panels)}"
    for key, panel in panels.items():
        for ms in INTERVALS:
            rows = await run(conn, panel, ms)
            assert rows, f"{key} shows nothing at {ms} ms: a metric or column name is wrong"
            if key in want:
                _assert_rows(key, rows, want[key](timedelta(milliseconds=ms)))
        # Another patient's dashboard is not this one's: every patient-scoped panel changes.
        if "${patient:sqlstring}" in panel.raw_sql and key in want:
            assert await run(conn, panel, HOUR_MS, patient=BETA) != await run(
                conn, panel, HOUR_MS), key
    await _assert_live(conn, panels)
    return set(want) | {("vigil-platform", "Since last write"), ("vigil-platform", "Devices")}
