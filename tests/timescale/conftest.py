"""Fixtures for the TimescaleDB lane: a fresh WASM TimescaleDB per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.timescale.pglite import Pglite, PgliteError, serve


@pytest.fixture
def pglite(tmp_path: Path) -> Iterator[Pglite]:
    """A fresh, empty pglite with the timescaledb extension available, stopped afterwards."""
    try:
        with serve(tmp_path) as server:
            yield server
    except PgliteError as exc:
        # Fail, not skip: a lane that silently skips is a lane that never runs.
        pytest.fail(str(exc))


@pytest.fixture
async def ts_conn(pglite: Pglite) -> AsyncIterator[asyncpg.Connection]:
    """One connection to a fresh pglite (pglite-socket serves one client at a time)."""
    conn = await pglite.connect()
    try:
        yield conn
    finally:
        await conn.close(timeout=10)
