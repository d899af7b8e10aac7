"""Database connections (asyncpg) configured once for every service."""

from __future__ import annotations

import asyncpg

from vigil.core.config import CommonSettings


async def connect(settings: CommonSettings) -> asyncpg.Connection:
    """One connection, with the statement cache the settings ask for."""
    conn: asyncpg.Connection = await asyncpg.connect(
        settings.database_url, statement_cache_size=settings.db_statement_cache
    )
    return conn


async def pool(settings: CommonSettings, size: int = 4) -> asyncpg.Pool:
    """A connection pool for services that run queries concurrently."""
    created = await asyncpg.create_pool(
        settings.database_url,
        min_size=1,
        max_size=size,
        statement_cache_size=settings.db_statement_cache,
    )
    assert created is not None
    return created
