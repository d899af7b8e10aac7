"""The PostgreSQL lane: the rollup views on plain PostgreSQL return the TimescaleDB numbers.

The data and the assertions are the TimescaleDB lane's own (tests/timescale/rollup_cases.py),
so both flavours are held to the very same expectations (DESIGN.md, Invariant 6).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from tests.timescale import rollup_cases as cases
from vigil.core.migrate import load, migrate

pytestmark = pytest.mark.integration


@pytest.fixture
async def pg_conn(fresh_database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A connection to a new, empty database on the session's PostgreSQL."""
    conn = await asyncpg.connect(fresh_database_url)
    try:
        yield conn
    finally:
        await conn.close()


async def _migrate(conn: asyncpg.Connection) -> list[str]:
    # want_timescale=False: this lane checks the plain-PostgreSQL flavour even on a server
    # that happens to have the extension.
    return await migrate(conn, want_timescale=False)


async def test_migrations_apply_as_postgres(pg_conn: asyncpg.Connection) -> None:
    """Every PostgreSQL migration applies; the rollups are views with the TimescaleDB columns."""
    applied = await _migrate(pg_conn)
    assert applied == [f"{m.version:04d}_{m.name} (postgres)" for m in load("postgres")]
    kinds = await pg_conn.fetch(
        "SELECT relname, relkind::text FROM pg_class WHERE relnamespace = 'public'::regnamespace"
        " AND relname = ANY($1::text[])", list(cases.VIEWS),
    )
    assert {(r["relname"], r["relkind"]) for r in kinds} == {(v, "v") for v in cases.VIEWS}
    await cases.assert_columns(pg_conn)


async def test_rollups(pg_conn: asyncpg.Connection) -> None:
    """The views give the exact numbers of the shared cases, re-sent and late writes included."""
    await _migrate(pg_conn)
    await cases.write(pg_conn, cases.FIRST)
    await cases.write(pg_conn, cases.RESENT)
    rows = cases.stored(cases.FIRST, cases.RESENT)
    assert await pg_conn.fetchval("SELECT count(*) FROM readings") == len(rows)
    await cases.assert_rollups(pg_conn, rows, cases.CHOSEN)
    await cases.assert_weekly(pg_conn)
    await cases.assert_rollups_away_from_utc(pg_conn, rows, cases.CHOSEN)

    # Views are always exact: a late correction shows at once (TimescaleDB: after a refresh).
    await cases.write(pg_conn, cases.LATE)
    late = cases.stored(cases.FIRST, cases.RESENT, cases.LATE)
    await cases.assert_rollups(pg_conn, late, cases.CHOSEN_AFTER_LATE)


async def test_migrate_again_applies_and_changes_nothing(pg_conn: asyncpg.Connection) -> None:
    """A second `vigil migrate` is a no-op on plain PostgreSQL too."""

    async def snapshot() -> list[object]:
        return [
            [tuple(r) for r in await pg_conn.fetch(
                "SELECT * FROM schema_migrations ORDER BY version")],
            [tuple(r) for r in await pg_conn.fetch(
                "SELECT viewname, definition FROM pg_views WHERE schemaname = 'public'"
                " ORDER BY viewname")],
            [tuple(r) for r in await pg_conn.fetch(
                "SELECT p.oid, pg_get_functiondef(p.oid) FROM pg_proc p"
                " WHERE p.pronamespace = 'public'::regnamespace ORDER BY p.oid")],
            *[await cases.fetch(pg_conn, view) for view in cases.VIEWS],
        ]

    await _migrate(pg_conn)
    await cases.write(pg_conn, cases.FIRST)
    before = await snapshot()
    assert await _migrate(pg_conn) == []
    assert await snapshot() == before
