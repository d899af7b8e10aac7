"""`vigil patient …` and `vigil device …`: the registry, with clear errors on bad input."""

from __future__ import annotations

import re
from typing import Annotated, Any

import asyncpg
import typer
from rich.console import Console
from rich.table import Table

from vigil.cli import settings as cli_settings
from vigil.core.topics import TopicError, check_id

patient_app = typer.Typer(help="Register and list patients.", no_args_is_help=True)
device_app = typer.Typer(help="Register and list devices.", no_args_is_help=True)
KINDS = ("oximeter", "glucose_meter", "phone", "other")
_MAC = re.compile(r"^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$")
console = Console()


def _id(kind: str, value: str) -> str:
    try:
        return check_id(kind, value)
    except TopicError as exc:
        raise typer.BadParameter(str(exc)) from None


def _run(query: Any) -> Any:
    return cli_settings.with_db(query)


@patient_app.command("add")
def patient_add(
    patient_id: Annotated[str, typer.Argument(help="Pseudonymous id, [A-Za-z0-9_.:-]{1,64}")],
    label: Annotated[str, typer.Option(help="Dashboard label (no real names)")] = "",
    care_team: Annotated[str, typer.Option(help="Care team that is paged")] = "default",
    timezone: Annotated[str, typer.Option(help="IANA time zone, e.g. Europe/Paris")] = "UTC",
) -> None:
    """Register a patient."""
    _id("patient", patient_id)
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise typer.BadParameter(f"unknown time zone {timezone!r}",
                                 param_hint="--timezone") from None

    async def q(conn: asyncpg.Connection) -> str:
        return str(await conn.execute(
            "INSERT INTO patients (patient_id, label, care_team, timezone) VALUES ($1,$2,$3,$4)"
            " ON CONFLICT (patient_id) DO NOTHING", patient_id, label, care_team, timezone))

    if _run(q).endswith(" 0"):
        console.print(f"[red]patient {patient_id!r} already exists")
        raise typer.Exit(1)
    console.print(f"patient {patient_id} added")


@patient_app.command("list")
def patient_list() -> None:
    """List patients with their device counts."""

    async def q(conn: asyncpg.Connection) -> list[asyncpg.Record]:
        return list(await conn.fetch(
            "SELECT p.patient_id, p.label, p.care_team, p.timezone, count(d.device_id) AS n"
            " FROM patients p LEFT JOIN devices d USING (patient_id)"
            " GROUP BY 1, 2, 3, 4 ORDER BY 1"))

    table = Table("patient", "label", "care team", "time zone", "devices")
    for r in _run(q):
        table.add_row(r["patient_id"], r["label"], r["care_team"], r["timezone"], str(r["n"]))
    console.print(table)


@device_app.command("add")
def device_add(
    device_id: Annotated[str, typer.Argument(help="Device id used in its MQTT topics")],
    kind: Annotated[str, typer.Option(help=f"One of {', '.join(KINDS)}")],
    patient: Annotated[str, typer.Option(help="Owning patient id (must exist)")],
    mac: Annotated[str | None, typer.Option(help="MAC address, aa:bb:cc:dd:ee:ff")] = None,
    firmware: Annotated[str | None, typer.Option(help="Firmware version")] = None,
    assigned_by: Annotated[str, typer.Option(help="Who assigned the device")] = "cli",
) -> None:
    """Register a device and assign it to a patient."""
    _id("device", device_id)
    _id("patient", patient)
    if kind not in KINDS:
        raise typer.BadParameter(f"{kind!r} is not one of {', '.join(KINDS)}", param_hint="--kind")
    if mac is not None and not _MAC.match(mac):
        raise typer.BadParameter(f"{mac!r} is not a MAC address like aa:bb:cc:dd:ee:ff",
                                 param_hint="--mac")

    async def q(conn: asyncpg.Connection) -> str:
        if not await conn.fetchval("SELECT 1 FROM patients WHERE patient_id = $1", patient):
            return "no-patient"
        return str(await conn.execute(
            "INSERT INTO devices (device_id, kind, patient_id, mac, firmware_version,"
            " assigned_by) VALUES ($1, $2, $3, $4::macaddr, $5, $6)"
            " ON CONFLICT (device_id) DO NOTHING",
            device_id, kind, patient, mac, firmware, assigned_by))

    result = _run(q)
    if result == "no-patient":
        console.print(f"[red]patient {patient!r} does not exist; add it with `vigil patient add`")
        raise typer.Exit(1)
    if result.endswith(" 0"):
        console.print(f"[red]device {device_id!r} is already registered")
        raise typer.Exit(1)
    console.print(f"device {device_id} ({kind}) assigned to {patient}")


@device_app.command("list")
def device_list() -> None:
    """List devices with presence and last contact."""

    async def q(conn: asyncpg.Connection) -> list[asyncpg.Record]:
        return list(await conn.fetch(
            "SELECT device_id, kind, patient_id, firmware_version, online, battery_pct,"
            " last_seen FROM devices ORDER BY device_id"))

    table = Table("device", "kind", "patient", "firmware", "online", "battery %", "last seen")
    for r in _run(q):
        online = {True: "yes", False: "no", None: "?"}[r["online"]]
        battery = "" if r["battery_pct"] is None else f"{r['battery_pct']:.0f}"
        seen = r["last_seen"].isoformat(timespec="seconds") if r["last_seen"] else "never"
        table.add_row(r["device_id"], r["kind"], r["patient_id"] or "", r["firmware_version"]
                      or "", online, battery, seen)
    console.print(table)
