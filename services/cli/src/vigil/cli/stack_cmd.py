"""`vigil up|down|status|env|migrate`: the local stack and the database schema."""

from __future__ import annotations

import asyncio
import glob
import shlex
import shutil
import subprocess
import time
from pathlib import Path
from typing import Annotated

import asyncpg
import typer
from rich.console import Console
from rich.table import Table

from vigil.cli import demo
from vigil.cli import settings as cli_settings
from vigil.cli.servers import ServerError
from vigil.cli.stack import LocalStack, state_dir
from vigil.core.migrate import migrate as run_migrations

console = Console()


async def _migrate(url: str, seed_path: object = None) -> tuple[list[str], int]:
    conn = await asyncpg.connect(url)
    try:
        applied = await run_migrations(conn)
        seeded = await demo.register(conn, seed_path) if seed_path else 0  # type: ignore[arg-type]
        return applied, seeded
    finally:
        await conn.close()


def up(
    sim: Annotated[bool, typer.Option(help="Start the device simulators")] = True,
    speed: Annotated[float, typer.Option(
        help="Simulated seconds per real second after the backfill (>1 runs ahead of the clock,"
        " and ingest rejects readings from the future)")] = 1.0,
    backfill: Annotated[str, typer.Option(help="History the simulators publish at start")] = "6h",
) -> None:
    """Start Mosquitto, PostgreSQL, Redis, every service and the simulators; wait until healthy."""
    if speed <= 0:
        raise typer.BadParameter("must be > 0", param_hint="--speed")
    _install_missing()
    stack = LocalStack(state_dir())
    ports = stack.ports()
    stack.save(ports)
    env = stack.env(ports)
    try:
        for server in stack.servers(ports):
            with console.status(f"starting {server.name} on port {server.port}"):
                server.start()
        applied, seeded = asyncio.run(_migrate(env["VIGIL_DATABASE_URL"],
                                               stack.home / "demo-devices.json"))
        for name in applied:
            console.print(f"migrated {name}")
        console.print(f"registered {seeded} demo devices")
        stack.write_notifier_files(ports)
        for svc in [stack.pager(ports), *stack.services(ports)]:
            with console.status(f"starting {svc.name}"):
                svc.start()
        if sim:
            stack.simulators(ports, speed, backfill).start()
    except ServerError as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(1) from None
    status()
    console.print(f'\nPoint a shell at it: [bold]eval "$(vigil env)"[/]   state: {stack.home}')
    console.print("Pages the demo on-call setup sent: [bold]vigil pages[/] (--follow to watch)")


def _install_missing() -> None:
    """Run the repository's bootstrap script when a server binary is missing."""
    missing = [name for name, where in (("mosquitto", "/usr/sbin/mosquitto"),
                                        ("redis-server", "/usr/bin/redis-server"))
               if not (shutil.which(name) or Path(where).exists())]
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb") and not shutil.which("initdb"):
        missing.append("postgresql")
    if not missing:
        return
    script = Path(__file__).resolve().parents[5] / "scripts" / "bootstrap.sh"
    if not script.exists():
        console.print(f"[red]missing {', '.join(missing)}: install them (Debian: apt-get install "
                      "mosquitto redis-server postgresql)")
        raise typer.Exit(1)
    console.print(f"installing {', '.join(missing)} with {script}")
    subprocess.run([str(script)], check=True)


def down() -> None:
    """Stop everything the local stack started (data stays under the state folder)."""
    stack = LocalStack(state_dir())
    for proc in reversed(stack.all_processes()):
        if proc.running():
            proc.stop()
            console.print(f"stopped {proc.name}")


def status() -> None:
    """Show each component: pid, port, running or not, and recent readings."""
    stack = LocalStack(state_dir())
    table = Table("component", "pid", "port", "state", "log")
    running_db = False
    for proc in stack.all_processes():
        pid = proc.pid()
        if proc.name == "postgres" and pid:
            running_db = True
        table.add_row(proc.name, str(pid or ""), str(proc.port or ""),
                      "[green]running" if pid else "[red]stopped", str(proc.logfile))
    console.print(table)
    if running_db:
        url = stack.saved_env()["VIGIL_DATABASE_URL"]
        try:
            rows = asyncio.run(_recent(url))
        except (OSError, asyncpg.PostgresError):
            return
        summary = ", ".join(f"{kind}: {n}" for kind, n in rows) or "none yet"
        console.print(f"readings stored in the last 10 minutes by device kind: {summary}")


async def _recent(url: str) -> list[tuple[str, int]]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT d.kind, count(*) FROM readings r JOIN devices d USING (device_id)"
            " WHERE r.ingested_at > now() - interval '10 minutes' GROUP BY 1 ORDER BY 1")
        return [(r[0], r[1]) for r in rows]
    finally:
        await conn.close()


def env() -> None:
    """Print the running stack's settings as shell exports: eval "$(vigil env)"."""
    saved = LocalStack(state_dir()).saved_env()
    if not saved:
        Console(stderr=True).print("[red]no local stack has been started here; run `vigil up`")
        raise typer.Exit(1)
    for key, value in saved.items():
        print(f"export {key}={shlex.quote(value)}")


def migrate() -> None:
    """Apply missing migrations to VIGIL_DATABASE_URL (safe to re-run)."""
    settings = cli_settings.load()
    started = time.monotonic()
    try:
        applied, _ = asyncio.run(_migrate(settings.database_url))
    except (OSError, asyncpg.PostgresError) as exc:
        console.print(f"[red]migration failed: {exc}")
        raise typer.Exit(1) from None
    for name in applied:
        console.print(f"applied {name}")
    console.print(f"schema up to date ({len(applied)} applied, "
                  f"{time.monotonic() - started:.2f}s)")


def pages(
    last: Annotated[int, typer.Option("--last", "-n", min=1, help="How many pages")] = 20,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new pages")
                      ] = False,
) -> None:
    """The pages the local stack's notifier sent to its pager inbox (newest last)."""
    from datetime import UTC, datetime

    from vigil.cli.pager import read

    path = LocalStack(state_dir()).pages_file
    seen = 0

    def show(batch: list[dict[str, object]]) -> None:
        for p in batch:
            at = datetime.fromtimestamp(float(p.get("received_at", 0)), UTC)  # type: ignore[arg-type]
            console.print(f"[bold]{at:%H:%M:%S}[/] → {p.get('receiver', '?')}: "
                          f"[bold]{p.get('title', '')}[/]", highlight=False)
            for line in str(p.get("message", "")).splitlines():
                console.print(f"    {line}", highlight=False, soft_wrap=True)

    found = read(path, last)
    if not found and not follow:
        console.print(f"no pages yet in {path} (the demo pages after group_wait, 30 s; "
                      "critical alerts at once)", highlight=False)
    show(found)
    seen = len(path.read_text().splitlines()) if path.exists() else 0
    while follow:
        time.sleep(1)
        lines = path.read_text().splitlines() if path.exists() else []
        if len(lines) > seen:
            show(read(path, len(lines) - seen))
            seen = len(lines)
