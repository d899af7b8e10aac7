"""`vigil sim …`: device simulators (glucose patients, Health Auto Export phone, pulse-oximeter)."""

from __future__ import annotations

import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from vigil.core.config import CommonSettings
    from vigil.sim.devices import SimDevice, SimOptions

app = typer.Typer(
    help="Simulated devices: glucose patients (5 profiles), a Health Auto Export phone and a "
    "pulse-oximeter, publishing to the broker at VIGIL_MQTT_URL.",
    no_args_is_help=True,
)
console = Console(stderr=True)

UrlOpt = Annotated[str | None, typer.Option(
    "--url", help="Broker URL, e.g. mqtt://127.0.0.1:1883 [default: $VIGIL_MQTT_URL]")]
SpeedOpt = Annotated[float, typer.Option(
    help="Simulated seconds per real second (1 = real time, 60 = an hour a minute)")]
BackfillOpt = Annotated[str, typer.Option(
    help="History published at once at start, e.g. 0s, 1h, 1d")]
SeedOpt = Annotated[int, typer.Option(help="Seed: the same seed gives the same values")]
CountOpt = Annotated[int | None, typer.Option(
    help="Stop after this many data messages per device (backfill included)")]
DurationOpt = Annotated[str | None, typer.Option(
    help="Stop after this much simulated time past the start, e.g. 30m, 2h")]
TzOpt = Annotated[str | None, typer.Option(
    "--tz", help="IANA time zone of the simulated people [default: this machine's]")]
UnitOpt = Annotated[str, typer.Option(help="Glucose unit: mg/dL or mmol/L")]
UnitsOpt = Annotated[str, typer.Option(help="Phone distance units: metric or us")]
EnergyOpt = Annotated[str, typer.Option(help="Phone energy unit: kcal or kj")]
ClockOpt = Annotated[str, typer.Option(help="Phone clock: 24h or 12h (dates like 2:00:00 PM)")]
BatchOpt = Annotated[int, typer.Option(help="Oximeter batch period in seconds")]


def _choice(value: str, valid: tuple[str, ...], option: str) -> str:
    if value not in valid:
        raise typer.BadParameter(f"{value!r} is not one of: {', '.join(valid)}",
                                 param_hint=option)
    return value


def _settings(url: str | None) -> CommonSettings:
    """Settings from the environment, with --url overriding VIGIL_MQTT_URL; errors name which."""
    from vigil.core.config import CommonSettings, MqttUrl

    if url is not None:
        try:
            MqttUrl.parse(url)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--url") from None
    try:
        return CommonSettings(mqtt_url=url) if url is not None else CommonSettings()
    except ValidationError as exc:
        for err in exc.errors():
            name = "VIGIL_" + "_".join(str(p) for p in err["loc"]).upper()
            console.print(f"[red]configuration error: {name}: {err['msg']}")
        raise typer.Exit(2) from None


def _duration(text: str, option: str) -> timedelta:
    from vigil.sim.clock import parse_duration

    try:
        return parse_duration(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def _options(*, seed: int, count: int | None, duration: str | None, tz: str | None,
             unit: str = "mg/dL", units: str = "metric", energy: str = "kcal",
             clock: str = "24h", batch: int = 10) -> SimOptions:
    from vigil.sim.clock import parse_tz
    from vigil.sim.devices import SimOptions
    from vigil.sim.hae import ExportFormat

    if count is not None and count < 0:
        raise typer.BadParameter("must be >= 0", param_hint="--count")
    if batch < 1:
        raise typer.BadParameter("must be >= 1 second", param_hint="--batch")
    try:
        zone = parse_tz(tz)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--tz") from None
    fmt = ExportFormat(units=_choice(units, ("metric", "us"), "--units"),  # type: ignore[arg-type]
                       energy=_choice(energy, ("kcal", "kj"), "--energy"),  # type: ignore[arg-type]
                       clock=_choice(clock, ("24h", "12h"), "--clock"))  # type: ignore[arg-type]
    return SimOptions(
        seed=seed, count=count, tz=zone,
        duration=_duration(duration, "--duration") if duration is not None else None,
        glucose_unit=_choice(unit, ("mg/dL", "mmol/L"), "--unit"),  # type: ignore[arg-type]
        hae_format=fmt, batch_s=batch,
    )


def _device(device_id: str, kind: str, profile: str | None) -> SimDevice:
    from vigil.core.topics import TopicError
    from vigil.sim.devices import DeviceSpecError, SimDevice
    from vigil.sim.profiles import UnknownProfileError

    try:
        return SimDevice(device_id, kind, profile)  # type: ignore[arg-type]
    except TopicError as exc:
        raise typer.BadParameter(str(exc), param_hint="--device-id") from None
    except (DeviceSpecError, UnknownProfileError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--profile") from None


def _run(url: str | None, devices: list[SimDevice], speed: float, backfill: str,
         options: SimOptions) -> None:
    from vigil.core import logging as vlog
    from vigil.sim.run import SimError, run_all

    if not speed > 0:
        raise typer.BadParameter("must be > 0", param_hint="--speed")
    back = _duration(backfill, "--backfill")
    settings = _settings(url)
    vlog.configure(settings.log_level, service="sim")
    stop = threading.Event()
    try:
        counts = run_all(settings, devices, speed, back, stop, options=options)
    except SimError as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    table = Table("device", "kind", "messages")
    for d in devices:
        table.add_row(d.device_id, d.kind, str(counts.get(d.device_id, 0)))
    Console(file=sys.stdout).print(table)


@app.command()
def glucose(
    *,
    device_id: Annotated[str, typer.Option(help="Device id (registered to a patient)")],
    profile: Annotated[str, typer.Option(
        help="diabetic, athlete, party-goer, low-glucose or elderly")] = "diabetic",
    url: UrlOpt = None, speed: SpeedOpt = 1.0, backfill: BackfillOpt = "1h",
    seed: SeedOpt = 0, count: CountOpt = None, duration: DurationOpt = None,
    tz: TzOpt = None, unit: UnitOpt = "mg/dL",
) -> None:
    """A patient wearing a CGM: one reading every 5 simulated minutes on .../glucose."""
    dev = _device(device_id, "glucose_meter", profile)
    _run(url, [dev], speed, backfill, _options(seed=seed, count=count, duration=duration, tz=tz,
                                                  unit=unit))


@app.command()
def hae(
    *,
    device_id: Annotated[str, typer.Option(help="Device id of the phone")],
    url: UrlOpt = None, speed: SpeedOpt = 1.0, backfill: BackfillOpt = "1h",
    seed: SeedOpt = 0, count: CountOpt = None, duration: DurationOpt = None,
    tz: TzOpt = None, units: UnitsOpt = "metric", energy: EnergyOpt = "kcal",
    clock: ClockOpt = "24h",
) -> None:
    """A phone running Health Auto Export: an hourly export of today and yesterday on .../hae."""
    dev = _device(device_id, "phone", None)
    opts = _options(seed=seed, count=count, duration=duration, tz=tz, units=units,
                    energy=energy, clock=clock)
    _run(url, [dev], speed, backfill, opts)


@app.command()
def oximeter(
    *,
    device_id: Annotated[str, typer.Option(help="Device id of the pulse-oximeter")],
    profile: Annotated[str, typer.Option(help="normal or copd (low SpO2)")] = "normal",
    url: UrlOpt = None, speed: SpeedOpt = 1.0, backfill: BackfillOpt = "1h",
    seed: SeedOpt = 0, count: CountOpt = None, duration: DurationOpt = None,
    tz: TzOpt = None, batch: BatchOpt = 10,
) -> None:
    """A pulse-oximeter: protobuf batches of 1 Hz samples on .../telemetry, status retained."""
    dev = _device(device_id, "oximeter", profile)
    _run(url, [dev], speed, backfill, _options(seed=seed, count=count, duration=duration, tz=tz,
                                                  batch=batch))


@app.command("all")
def all_devices(
    *,
    device: Annotated[list[str] | None, typer.Option(
        "--device", help="KIND:DEVICE_ID[:PROFILE], repeatable (kinds: glucose_meter, phone, "
        "oximeter) [default: one of each profile]")] = None,
    devices: Annotated[Path | None, typer.Option(
        "--devices", help="JSON list of {device_id, kind, profile} (as `vigil up` writes)")] = None,
    url: UrlOpt = None, speed: SpeedOpt = 60.0, backfill: BackfillOpt = "1h",
    seed: SeedOpt = 0, count: CountOpt = None, duration: DurationOpt = None,
    tz: TzOpt = None, unit: UnitOpt = "mg/dL", units: UnitsOpt = "metric",
    energy: EnergyOpt = "kcal", clock: ClockOpt = "24h", batch: BatchOpt = 10,
) -> None:
    """Every device at once on one simulated clock (what `vigil up` starts)."""
    from vigil.core.topics import TopicError
    from vigil.sim.devices import DeviceSpecError, SimDevice, default_devices, load_devices
    from vigil.sim.profiles import UnknownProfileError

    try:
        sims = [SimDevice.parse(spec) for spec in device or []]
        if devices is not None:
            sims += load_devices(devices)
    except (DeviceSpecError, UnknownProfileError, TopicError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--device/--devices") from None
    opts = _options(seed=seed, count=count, duration=duration, tz=tz, unit=unit, units=units,
                    energy=energy, clock=clock, batch=batch)
    _run(url, sims or default_devices(), speed, backfill, opts)


@app.command()
def profiles() -> None:
    """List the glucose profiles and what each simulates."""
    from vigil.sim.devices import PHONE_PRESETS
    from vigil.sim.oximeter import OXIMETER_PROFILES
    from vigil.sim.profiles import DESCRIPTIONS

    table = Table("kind", "profile", "what it simulates")
    for name, text in DESCRIPTIONS.items():
        table.add_row("glucose_meter", name, text)
    for name, fmt in PHONE_PRESETS.items():
        table.add_row("phone", name, f"units {fmt.units}, energy {fmt.energy}, clock {fmt.clock}")
    for name, spo2 in OXIMETER_PROFILES.items():
        table.add_row("oximeter", name, f"SpO2 baseline {spo2:g} %")
    Console(file=sys.stdout).print(table)
