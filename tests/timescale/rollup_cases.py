"""One data set and one set of rollup expectations, asserted by both database lanes.

The TimescaleDB lane (continuous aggregates in pglite) and the PostgreSQL lane (plain views)
import this module, so Invariant 6 -- every query returns the same numbers on both -- is
checked with the very same rows and the very same assertions.

Expected numbers never come from a database: ``expected()`` recomputes them in Python from the
rows written, and ``CHOSEN`` holds a few buckets worked out by hand from the tables below.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

# A Monday: TimescaleDB's time_bucket() aligns weeks to Monday 2000-01-03, and so must the
# compatibility function on PostgreSQL.
D0 = datetime(2025, 1, 6, tzinfo=UTC)
_ORIGIN = datetime(2000, 1, 3, tzinfo=UTC)

VIEWS: dict[str, timedelta] = {
    "readings_1m": timedelta(minutes=1),
    "readings_1h": timedelta(hours=1),
    "readings_1d": timedelta(days=1),
}
# The columns (and types) every dashboard relies on, identical in both flavours.
COLUMNS: list[tuple[str, str]] = [
    ("bucket", "timestamp with time zone"),
    ("patient_id", "text"),
    ("metric", "text"),
    ("min", "double precision"),
    ("max", "double precision"),
    ("avg", "double precision"),
    ("count", "bigint"),
    ("last", "double precision"),
]

# The ingest's write (vigil.ingest.writer): a replayed message with the same natural key
# replaces the stored value instead of adding a row.
UPSERT = """
INSERT INTO readings (time, patient_id, device_id, metric, value, unit, quality)
SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::float8[],
                     $6::text[], $7::int2[])
ON CONFLICT (device_id, metric, time) DO UPDATE
   SET value = EXCLUDED.value, unit = EXCLUDED.unit, quality = EXCLUDED.quality,
       patient_id = EXCLUDED.patient_id, ingested_at = now()
 WHERE (readings.value, readings.unit, readings.quality, readings.patient_id)
       IS DISTINCT FROM (EXCLUDED.value, EXCLUDED.unit, EXCLUDED.quality, EXCLUDED.patient_id)
"""

_UNITS = {"heart_rate": "bpm", "spo2": "%", "blood_glucose": "mmol/L"}


@dataclass(frozen=True, slots=True)
class Reading:
    """One row of ``readings``."""

    time: datetime
    patient_id: str
    device_id: str
    metric: str
    value: float

    @property
    def key(self) -> tuple[str, str, datetime]:
        """The natural key the ingest upserts on."""
        return (self.device_id, self.metric, self.time)


@dataclass(frozen=True, slots=True)
class Rollup:
    """One row of a rollup view, without its bucket/patient/metric key."""

    min: float
    max: float
    avg: float
    count: int
    last: float


Key = tuple[datetime, str, str]  # (bucket, patient_id, metric)


def at(day: int, clock: str) -> datetime:
    """``clock`` (HH:MM or HH:MM:SS, UTC) on day ``day`` after D0."""
    parts = [int(p) for p in clock.split(":")] + [0]
    return D0 + timedelta(days=day, hours=parts[0], minutes=parts[1], seconds=parts[2])


# Which patient wears which device (Ann has two heart-rate sources).
PATIENT_OF = {"ox-ann": "p-ann", "phone-ann": "p-ann", "ox-bob": "p-bob", "glu-cat": "p-cat"}


def _r(day: int, clock: str, device: str, metric: str, value: float) -> Reading:
    return Reading(at(day, clock), PATIENT_OF[device], device, metric, value)


# First delivery: three patients, four devices, three metrics, over minutes, hours and days
# (including a minute, an hour, a day and a chunk boundary, and a Sunday/Monday week boundary).
FIRST: list[Reading] = [
    _r(0, "08:00:00", "ox-ann", "heart_rate", 71),
    _r(0, "08:00:20", "ox-ann", "heart_rate", 74),
    _r(0, "08:00:40", "ox-ann", "heart_rate", 73),
    _r(0, "08:00:50", "phone-ann", "heart_rate", 75),  # 2nd device, same minute
    _r(0, "08:01:10", "ox-ann", "heart_rate", 80),
    _r(0, "08:59:59", "ox-ann", "heart_rate", 90),
    _r(0, "09:00:00", "ox-ann", "heart_rate", 60),
    _r(1, "10:00:00", "phone-ann", "heart_rate", 68),
    _r(0, "08:00:00", "ox-ann", "spo2", 97),
    _r(0, "08:00:30", "ox-ann", "spo2", 95),
    _r(0, "08:01:00", "ox-ann", "spo2", 96),
    _r(0, "23:59:30", "ox-bob", "heart_rate", 101),
    _r(1, "00:00:10", "ox-bob", "heart_rate", 99),
    _r(1, "00:00:40", "ox-bob", "heart_rate", 104),
    _r(0, "23:59:30", "ox-bob", "spo2", 91.5),
    _r(1, "00:00:10", "ox-bob", "spo2", 92.25),
    _r(0, "07:00", "glu-cat", "blood_glucose", 5.4),
    _r(0, "12:30", "glu-cat", "blood_glucose", 7.9),
    _r(0, "19:15", "glu-cat", "blood_glucose", 6.1),
    _r(1, "07:05", "glu-cat", "blood_glucose", 5.2),
    _r(2, "07:10", "glu-cat", "blood_glucose", 5.6),
    _r(6, "23:30", "glu-cat", "blood_glucose", 6.6),  # Sunday
    _r(7, "00:30", "glu-cat", "blood_glucose", 6.0),  # next Monday
]
# A re-sent export (QoS 1 redelivery): two changed values must replace, two identical ones
# must change nothing.
RESENT: list[Reading] = [
    _r(0, "08:00:20", "ox-ann", "heart_rate", 76),
    _r(0, "08:00:40", "ox-ann", "heart_rate", 73),
    _r(1, "07:05", "glu-cat", "blood_glucose", 5.3),
    _r(1, "00:00:40", "ox-bob", "heart_rate", 104),
]
# A late correction to the oldest day (on TimescaleDB: after that chunk is compressed).
LATE: list[Reading] = [
    _r(0, "08:00:00", "ox-ann", "heart_rate", 70),
]

# Worked out by hand from the tables above, after FIRST + RESENT.
CHOSEN: dict[str, dict[Key, Rollup]] = {
    "readings_1m": {
        # 71, 76 (re-sent, was 74), 73, and the phone's 75 at :50, the latest.
        (at(0, "08:00"), "p-ann", "heart_rate"): Rollup(71, 76, 73.75, 4, 75),
        (at(0, "23:59"), "p-bob", "spo2"): Rollup(91.5, 91.5, 91.5, 1, 91.5),
    },
    "readings_1h": {
        (at(0, "08:00"), "p-ann", "heart_rate"): Rollup(71, 90, 465 / 6, 6, 90),
        (at(0, "09:00"), "p-ann", "heart_rate"): Rollup(60, 60, 60, 1, 60),
        (at(1, "00:00"), "p-bob", "heart_rate"): Rollup(99, 104, 101.5, 2, 104),
    },
    "readings_1d": {
        (at(0, "00:00"), "p-ann", "heart_rate"): Rollup(60, 90, 75, 7, 60),
        (at(0, "00:00"), "p-bob", "heart_rate"): Rollup(101, 101, 101, 1, 101),
        (at(1, "00:00"), "p-bob", "heart_rate"): Rollup(99, 104, 101.5, 2, 104),
        (at(0, "00:00"), "p-cat", "blood_glucose"): Rollup(5.4, 7.9, 19.4 / 3, 3, 6.1),
        (at(1, "00:00"), "p-cat", "blood_glucose"): Rollup(5.3, 5.3, 5.3, 1, 5.3),
    },
}
# After LATE as well: 70 replaced 71 in these buckets.
CHOSEN_AFTER_LATE: dict[str, dict[Key, Rollup]] = {
    "readings_1m": {(at(0, "08:00"), "p-ann", "heart_rate"): Rollup(70, 76, 73.5, 4, 75)},
    "readings_1h": {(at(0, "08:00"), "p-ann", "heart_rate"): Rollup(70, 90, 464 / 6, 6, 90)},
    "readings_1d": {(at(0, "00:00"), "p-ann", "heart_rate"): Rollup(60, 90, 524 / 7, 7, 60)},
}
# A dashboard query bucketing raw readings by week: 6 readings from Monday D0 to Sunday,
# 1 on the next Monday. A week origin other than a Monday would split them differently.
WEEKLY_GLUCOSE_COUNTS = {at(0, "00:00"): 6, at(7, "00:00"): 1}
WEEKLY_QUERY = """
SELECT time_bucket(INTERVAL '1 week', time) AS week, count(*) AS n
FROM readings WHERE patient_id = 'p-cat' AND metric = 'blood_glucose' GROUP BY 1 ORDER BY 1
"""


def stored(*batches: Iterable[Reading]) -> list[Reading]:
    """What ``readings`` holds after writing ``batches`` in order: the last write of a key wins."""
    rows: dict[tuple[str, str, datetime], Reading] = {}
    for batch in batches:
        for reading in batch:
            rows[reading.key] = reading
    return list(rows.values())


def _bucket(ts: datetime, width: timedelta) -> datetime:
    return ts - (ts - _ORIGIN) % width


def expected(rows: Iterable[Reading], width: timedelta) -> dict[Key, Rollup]:
    """Every bucket of a rollup of ``rows``, computed in Python."""
    groups: dict[Key, list[Reading]] = defaultdict(list)
    for reading in rows:
        groups[(_bucket(reading.time, width), reading.patient_id, reading.metric)].append(reading)
    result: dict[Key, Rollup] = {}
    for key, members in groups.items():
        values = [m.value for m in members]
        latest = max(members, key=lambda m: m.time)
        # `last` is only well defined when the latest time is unique in its bucket.
        assert sum(m.time == latest.time for m in members) == 1, f"tie for last in {key}"
        result[key] = Rollup(min(values), max(values), sum(values) / len(values), len(values),
                             latest.value)
    return result


async def write(conn: asyncpg.Connection, batch: Iterable[Reading]) -> None:
    """Write ``batch`` with the ingest's upsert, in one transaction as the ingest does."""
    rows = list(batch)
    async with conn.transaction():
        await conn.execute(
            UPSERT,
            [r.time for r in rows], [r.patient_id for r in rows], [r.device_id for r in rows],
            [r.metric for r in rows], [r.value for r in rows], [_UNITS[r.metric] for r in rows],
            [100] * len(rows),
        )


async def fetch(conn: asyncpg.Connection, view: str) -> dict[Key, Rollup]:
    """Every row of rollup ``view``."""
    assert view in VIEWS  # only known names are ever formatted into SQL
    records = await conn.fetch(
        f"SELECT bucket, patient_id, metric, min, max, avg, count, last FROM {view}"
    )
    return {
        (r["bucket"], r["patient_id"], r["metric"]): Rollup(
            r["min"], r["max"], r["avg"], r["count"], r["last"]
        )
        for r in records
    }


def assert_same(actual: Mapping[Key, Rollup], wanted: Mapping[Key, Rollup], view: str) -> None:
    """``actual`` has exactly the buckets of ``wanted`` with the same numbers (avg to 1e-12)."""
    assert sorted(actual) == sorted(wanted), f"{view}: buckets differ"
    for key, want in wanted.items():
        got = actual[key]
        assert (got.min, got.max, got.count, got.last) == (
            want.min, want.max, want.count, want.last
        ), f"{view} {key}: {got} != {want}"
        assert got.avg == pytest.approx(want.avg, rel=1e-12), f"{view} {key}: avg"


async def assert_rollups(
    conn: asyncpg.Connection,
    rows: list[Reading],
    chosen: Mapping[str, Mapping[Key, Rollup]],
) -> None:
    """Every rollup view holds exactly the buckets of ``rows``; the hand-checked ones match."""
    for view, width in VIEWS.items():
        actual = await fetch(conn, view)
        assert_same(actual, expected(rows, width), view)
        assert_same({k: actual[k] for k in chosen[view]}, chosen[view], view)


async def assert_rollups_away_from_utc(
    conn: asyncpg.Connection, rows: list[Reading], chosen: Mapping[str, Mapping[Key, Rollup]]
) -> None:
    """The same buckets when the session's time zone is not UTC (buckets are UTC-aligned)."""
    await conn.execute("SET TIME ZONE 'America/New_York'")
    try:
        await assert_rollups(conn, rows, chosen)
        await assert_weekly(conn)
    finally:
        await conn.execute("RESET TIME ZONE")


async def assert_columns(conn: asyncpg.Connection) -> None:
    """The rollup views have the same column names and types in both flavours."""
    for view in VIEWS:
        found = await conn.fetch(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
            view,
        )
        columns = [(r["column_name"], r["data_type"]) for r in found]
        assert columns == COLUMNS, f"{view}: {columns}"


async def assert_weekly(conn: asyncpg.Connection) -> None:
    """``time_bucket`` puts weeks on Mondays, as TimescaleDB does."""
    found = {r["week"]: r["n"] for r in await conn.fetch(WEEKLY_QUERY)}
    assert found == WEEKLY_GLUCOSE_COUNTS, f"weekly buckets: {found}"
