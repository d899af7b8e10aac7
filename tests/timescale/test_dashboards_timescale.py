"""The dashboards on TimescaleDB: the same panels, data and numbers as the PostgreSQL lane.

The rollups are real-time continuous aggregates here: the panels must show the same numbers
before any refresh (every bucket computed from raw readings) and after one (materialised).
"""

from __future__ import annotations

import asyncpg
import pytest

from tests.integration import dashboard_cases as cases
from vigil.core.migrate import migrate

pytestmark = pytest.mark.timescale


async def _materialised(conn: asyncpg.Connection, view: str) -> int:
    """How many buckets of ``view`` are stored rather than computed from raw readings."""
    where = await conn.fetchrow(
        "SELECT materialization_hypertable_schema AS s, materialization_hypertable_name AS t"
        " FROM timescaledb_information.continuous_aggregates WHERE view_name = $1", view)
    assert where is not None
    count: int = await conn.fetchval(f'SELECT count(*) FROM "{where["s"]}"."{where["t"]}"')
    return count


async def test_every_panel_query_on_timescaledb(ts_conn: asyncpg.Connection) -> None:
    """Every panel runs on the real TimescaleDB migrations and shows the expected numbers."""
    applied = await migrate(ts_conn)
    assert all(m.endswith("(timescaledb)") for m in applied)
    await cases.write(ts_conn)
    for view in ("readings_1m", "readings_1h", "readings_1d"):
        assert await _materialised(ts_conn, view) == 0
    checked = await cases.check_all(ts_conn)  # real time: every bucket from raw readings

    for view in ("readings_1m", "readings_1h", "readings_1d"):
        # A procedure that commits as it goes: outside any transaction block.
        await ts_conn.execute(f"CALL refresh_continuous_aggregate('{view}', NULL, NULL)")
        assert await _materialised(ts_conn, view) > 0
    assert await cases.check_all(ts_conn) == checked
