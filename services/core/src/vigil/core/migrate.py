"""Versioned SQL migrations: ``vigil migrate`` applies what is missing, safe to re-run.

Files are ``NNNN_name.sql`` (both flavours), ``NNNN_name.timescaledb.sql`` or
``NNNN_name.postgres.sql`` (one flavour each). The flavour is TimescaleDB when the extension
can be created in this database, PostgreSQL otherwise; it is recorded with each version.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import asyncpg

Flavour = Literal["timescaledb", "postgres"]
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+?)(?:\.(timescaledb|postgres))?\.sql$")
# Serialises concurrent `vigil migrate` runs (two replicas starting at once).
_LOCK_KEY = 0x5649_4749


@dataclass(frozen=True, slots=True)
class Migration:
    """One SQL file to apply."""

    version: int
    name: str
    sql: str


def load(flavour: Flavour) -> list[Migration]:
    """The migrations for ``flavour``, in version order."""
    found: list[Migration] = []
    for entry in resources.files("vigil.core.migrations").iterdir():
        match = _NAME.match(entry.name)
        if not match:
            continue
        version, name, only = match.groups()
        if only is None or only == flavour:
            found.append(Migration(int(version), name, entry.read_text()))
    found.sort(key=lambda m: m.version)
    return found


async def detect_flavour(conn: asyncpg.Connection, want_timescale: bool = True) -> Flavour:
    """Create the timescaledb extension if it is available; report which flavour we run."""
    if want_timescale:
        available = await conn.fetchval(
            "SELECT count(*) FROM pg_available_extensions WHERE name = 'timescaledb'"
        )
        if available:
            await conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    installed = await conn.fetchval("SELECT count(*) FROM pg_extension WHERE extname='timescaledb'")
    return "timescaledb" if installed else "postgres"


async def migrate(conn: asyncpg.Connection, want_timescale: bool = True) -> list[str]:
    """Apply every missing migration; return the names applied (empty when up to date)."""
    await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
    try:
        flavour = await detect_flavour(conn, want_timescale)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY,"
            " name text NOT NULL, flavour text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        applied: list[str] = []
        for m in load(flavour):
            if m.version in done:
                continue
            async with conn.transaction():
                await conn.execute(m.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name, flavour) VALUES ($1, $2, $3)",
                    m.version, m.name, flavour,
                )
            applied.append(f"{m.version:04d}_{m.name} ({flavour})")
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
