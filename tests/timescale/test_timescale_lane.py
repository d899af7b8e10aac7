"""The TimescaleDB lane: every migration, applied by the production runner, on real TimescaleDB.

TimescaleDB runs as WASM inside Node (pglite, see DESIGN.md); asyncpg talks to it over
pglite-socket exactly as the services talk to a TimescaleDB server.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import pytest

from tests.timescale import rollup_cases as cases
from tests.timescale.pglite import Pglite
from vigil.core.migrate import load, migrate

pytestmark = pytest.mark.timescale

CAGGS = ("readings_1m", "readings_1h", "readings_1d")
# (proc_name, the hypertable or continuous aggregate it applies to, its config)
POLICIES = {
    ("policy_refresh_continuous_aggregate", "readings_1m",
     '{"end_offset": "00:01:00", "start_offset": "89 days", "buckets_per_batch": 1440}'),
    ("policy_refresh_continuous_aggregate", "readings_1h",
     '{"end_offset": "01:00:00", "start_offset": "399 days", "buckets_per_batch": 168}'),
    ("policy_refresh_continuous_aggregate", "readings_1d",
     '{"end_offset": "1 day", "start_offset": "399 days", "buckets_per_batch": 31}'),
    ("policy_compression", "readings", '{"compress_after": "7 days"}'),
    ("policy_retention", "readings", '{"drop_after": "400 days"}'),
    ("policy_retention", "readings_1m", '{"drop_after": "90 days"}'),
}


async def _refresh(conn: asyncpg.Connection) -> None:
    # A procedure that commits as it goes: it must run outside any transaction block.
    for view in CAGGS:
        await conn.execute(f"CALL refresh_continuous_aggregate('{view}', NULL, NULL)")


async def _materialized_rows(conn: asyncpg.Connection, view: str) -> int:
    """How many buckets of ``view`` are stored (not computed on the fly from raw readings)."""
    where = await conn.fetchrow(
        "SELECT materialization_hypertable_schema AS s, materialization_hypertable_name AS t"
        " FROM timescaledb_information.continuous_aggregates WHERE view_name = $1", view,
    )
    assert where is not None
    count: int = await conn.fetchval(f'SELECT count(*) FROM "{where["s"]}"."{where["t"]}"')
    return count


async def _snapshot(conn: asyncpg.Connection) -> dict[str, Any]:
    """Everything migrations create or configure, and what the rollups return."""
    queries = {
        "migrations": "SELECT * FROM schema_migrations ORDER BY version",
        "relations": "SELECT relname, relkind::text FROM pg_class"
                     " WHERE relnamespace = 'public'::regnamespace ORDER BY relname",
        "hypertables": "SELECT * FROM timescaledb_information.hypertables",
        "caggs": "SELECT view_name, materialized_only, view_definition"
                 " FROM timescaledb_information.continuous_aggregates ORDER BY view_name",
        "jobs": "SELECT job_id, proc_name, hypertable_name, schedule_interval, config::text"
                " FROM timescaledb_information.jobs ORDER BY job_id",
        "compression": "SELECT * FROM timescaledb_information.compression_settings"
                       " ORDER BY hypertable_name, attname",
    }
    snap: dict[str, Any] = {k: [dict(r) for r in await conn.fetch(q)] for k, q in queries.items()}
    for view in cases.VIEWS:
        snap[view] = await cases.fetch(conn, view)
    return snap


async def test_migrations_apply_as_timescaledb(pglite: Pglite, ts_conn: asyncpg.Connection) -> None:
    """The runner detects the extension in pglite and applies every TimescaleDB migration."""
    assert pglite.timescaledb is not None, "pglite did not load the timescaledb extension"
    applied = await migrate(ts_conn)
    assert applied == [f"{m.version:04d}_{m.name} (timescaledb)" for m in load("timescaledb")]
    assert len(applied) == len({m.version for m in load("postgres")})  # both flavours in step
    version = await ts_conn.fetchval(
        "SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'"
    )
    assert version == pglite.timescaledb


async def test_hypertable_caggs_policies_and_compression(ts_conn: asyncpg.Connection) -> None:
    """The objects and policies the TimescaleDB migration promises all exist."""
    await migrate(ts_conn)
    hypertables = await ts_conn.fetch(
        "SELECT hypertable_name, primary_dimension, compression_enabled"
        " FROM timescaledb_information.hypertables WHERE hypertable_schema = 'public'"
    )
    assert [tuple(r) for r in hypertables] == [("readings", "time", True)]
    interval = await ts_conn.fetchval(
        "SELECT time_interval FROM timescaledb_information.dimensions"
        " WHERE hypertable_name = 'readings' AND column_name = 'time'"
    )
    assert interval == timedelta(days=1)

    caggs = await ts_conn.fetch(
        "SELECT view_name, hypertable_name, materialized_only, finalized"
        " FROM timescaledb_information.continuous_aggregates ORDER BY view_name"
    )
    # Real-time (materialized_only = false): exact up to the last reading, like the plain views.
    assert sorted(tuple(r) for r in caggs) == sorted(
        (view, "readings", False, True) for view in CAGGS
    )

    jobs = await ts_conn.fetch(
        "SELECT proc_name, hypertable_name, config - 'hypertable_id' - 'mat_hypertable_id' AS c"
        " FROM timescaledb_information.jobs WHERE proc_schema = '_timescaledb_functions'"
        " AND hypertable_schema = 'public'"
    )
    assert {(r["proc_name"], r["hypertable_name"], r["c"]) for r in jobs} == POLICIES

    segmentby = await ts_conn.fetch(
        "SELECT attname FROM timescaledb_information.compression_settings"
        " WHERE hypertable_name = 'readings' AND segmentby_column_index IS NOT NULL"
        " ORDER BY segmentby_column_index"
    )
    assert [r["attname"] for r in segmentby] == ["patient_id", "device_id", "metric"]
    await cases.assert_columns(ts_conn)


async def test_realtime_rollups_without_refresh(ts_conn: asyncpg.Connection) -> None:
    """Nothing materialised yet: the real-time caggs compute every bucket from raw readings."""
    await migrate(ts_conn)
    await cases.write(ts_conn, cases.FIRST)
    await cases.write(ts_conn, cases.RESENT)
    rows = cases.stored(cases.FIRST, cases.RESENT)
    assert await ts_conn.fetchval("SELECT count(*) FROM readings") == len(rows)
    for view in CAGGS:
        assert await _materialized_rows(ts_conn, view) == 0
    await cases.assert_rollups(ts_conn, rows, cases.CHOSEN)
    await cases.assert_weekly(ts_conn)
    await cases.assert_rollups_away_from_utc(ts_conn, rows, cases.CHOSEN)


async def test_rollups_after_refresh_and_late_data(ts_conn: asyncpg.Connection) -> None:
    """Refreshed buckets give the same numbers; a late write shows once the next refresh runs."""
    await migrate(ts_conn)
    await cases.write(ts_conn, cases.FIRST)
    await cases.write(ts_conn, cases.RESENT)
    rows = cases.stored(cases.FIRST, cases.RESENT)
    await _refresh(ts_conn)
    for view, width in cases.VIEWS.items():
        assert await _materialized_rows(ts_conn, view) == len(cases.expected(rows, width))
    await cases.assert_rollups(ts_conn, rows, cases.CHOSEN)

    await cases.write(ts_conn, cases.LATE)
    # A materialised bucket is not recomputed until a refresh covers it: this is where
    # TimescaleDB differs from the plain views, for as long as the refresh policies' schedule.
    await cases.assert_rollups(ts_conn, rows, cases.CHOSEN)
    await _refresh(ts_conn)
    await cases.assert_rollups(
        ts_conn, cases.stored(cases.FIRST, cases.RESENT, cases.LATE), cases.CHOSEN_AFTER_LATE
    )


async def test_compressed_chunk_gives_the_same_numbers(ts_conn: asyncpg.Connection) -> None:
    """Compressing the oldest chunk changes no rollup, and it still accepts a late upsert."""
    await migrate(ts_conn)
    await cases.write(ts_conn, cases.FIRST)
    await cases.write(ts_conn, cases.RESENT)
    rows = cases.stored(cases.FIRST, cases.RESENT)

    chunks = await ts_conn.fetch(
        "SELECT show_chunks('readings', older_than => $1::timestamptz)",
        cases.D0 + timedelta(days=1),
    )
    assert len(chunks) == 1  # chunk_time_interval is one day: D0's readings only
    await ts_conn.execute("SELECT compress_chunk($1::regclass)", chunks[0][0])
    compressed = await ts_conn.fetch(
        "SELECT range_start FROM timescaledb_information.chunks"
        " WHERE hypertable_name = 'readings' AND is_compressed"
    )
    assert [r["range_start"] for r in compressed] == [cases.D0]

    await cases.assert_rollups(ts_conn, rows, cases.CHOSEN)  # real time, read from compressed
    await _refresh(ts_conn)
    await cases.assert_rollups(ts_conn, rows, cases.CHOSEN)  # materialised from compressed

    await cases.write(ts_conn, cases.LATE)  # an export re-sent after its chunk was compressed
    await _refresh(ts_conn)
    late = cases.stored(cases.FIRST, cases.RESENT, cases.LATE)
    assert await ts_conn.fetchval("SELECT count(*) FROM readings") == len(late)
    await cases.assert_rollups(ts_conn, late, cases.CHOSEN_AFTER_LATE)


async def test_migrate_again_applies_and_changes_nothing(ts_conn: asyncpg.Connection) -> None:
    """A second `vigil migrate` (a restart, a second replica) is a no-op."""
    await migrate(ts_conn)
    await cases.write(ts_conn, cases.FIRST)
    await _refresh(ts_conn)
    before = await _snapshot(ts_conn)
    assert await migrate(ts_conn) == []
    assert await _snapshot(ts_conn) == before


async def _run_policies(conn: asyncpg.Connection) -> None:
    # pglite has no background scheduler: run every job once, as the scheduler would.
    jobs = await conn.fetch(
        "SELECT job_id FROM timescaledb_information.jobs WHERE hypertable_schema = 'public'"
        " ORDER BY job_id"
    )
    assert len(jobs) == len(POLICIES)
    for job in jobs:
        await conn.execute("CALL run_job($1)", job["job_id"])


def _days_ago(rows: list[cases.Reading], today: datetime, days: int) -> list[cases.Reading]:
    """``rows`` moved by whole days (every bucket boundary kept) so that D0 is ``days`` ago."""
    shift = today - timedelta(days=days) - cases.D0
    return [replace(r, time=r.time + shift) for r in rows]


async def test_policies_run_and_backfill_stays_visible(ts_conn: asyncpg.Connection) -> None:
    """Every policy runs; rows older than the watermark still reach every rollup.

    Data ending three days ago gives compression (after 7 days) old chunks to compress and
    retention (400 and 90 days) nothing to drop; then an export re-sent 40 days late lands
    below every watermark and must still show once the refresh policies have run again.
    """
    await migrate(ts_conn)
    now = await ts_conn.fetchval("SELECT now()")
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    recent = _days_ago(cases.stored(cases.FIRST, cases.RESENT), today, 10)
    await cases.write(ts_conn, recent)
    await _run_policies(ts_conn)
    no_chosen: dict[str, dict[cases.Key, cases.Rollup]] = {view: {} for view in cases.VIEWS}
    await cases.assert_rollups(ts_conn, recent, no_chosen)

    chunks = await ts_conn.fetch(
        "SELECT range_end, is_compressed FROM timescaledb_information.chunks"
        " WHERE hypertable_name = 'readings' ORDER BY range_start"
    )
    assert len(chunks) == len({r.time.date() for r in recent})  # retention dropped nothing
    assert [c["is_compressed"] for c in chunks] == [
        c["range_end"] <= now - timedelta(days=7) for c in chunks
    ]
    assert any(c["is_compressed"] for c in chunks)

    backfill = _days_ago(cases.stored(cases.FIRST), today, 40)
    await cases.write(ts_conn, backfill)
    await _run_policies(ts_conn)
    await cases.assert_rollups(ts_conn, recent + backfill, no_chosen)
