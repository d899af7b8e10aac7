"""How the CLI finds its settings: the environment first, then the running local stack."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
import typer
from rich.console import Console

from vigil.cli.stack import LocalStack, state_dir
from vigil.core.config import CommonSettings, load_or_exit
from vigil.core.db import connect

T = TypeVar("T")


def load() -> CommonSettings:
    """Settings from VIGIL_* variables; unset connection keys default to the local stack's."""
    for key, value in LocalStack(state_dir()).saved_env().items():
        os.environ.setdefault(key, value)
    return load_or_exit(CommonSettings)


def with_db(query: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Run ``query`` on one connection; an unreachable database is one clear line, exit 1."""
    settings = load()

    async def go() -> T:
        conn = await connect(settings)
        try:
            return await query(conn)
        finally:
            await conn.close()

    try:
        return asyncio.run(go())
    except (OSError, asyncpg.PostgresConnectionError, asyncpg.InvalidPasswordError) as exc:
        where = settings.database_url.split("@")[-1]  # never the password
        Console(stderr=True).print(f"[red]cannot reach the database at {where} ({exc}); is the "
                                   "stack up? `vigil up`, or set VIGIL_DATABASE_URL",
                                   highlight=False)
        raise typer.Exit(1) from None
