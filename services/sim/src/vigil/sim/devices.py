"""Simulated devices as time-ordered streams of MQTT messages, independent of any broker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, Literal

from vigil.core import topics
from vigil.sim import seeds
from vigil.sim.clock import floor_time
from vigil.sim.glucose import GlucoseMeter, Unit
from vigil.sim.hae import ExportFormat, HaePhone
from vigil.sim.oximeter import OXIMETER_PROFILES, Oximeter
from vigil.sim.profiles import PROFILES, check_profile

DeviceKind = Literal["glucose_meter", "phone", "oximeter"]
KINDS: tuple[DeviceKind, ...] = ("glucose_meter", "phone", "oximeter")
# A phone's profile is its Health Auto Export settings ("us": miles and a 12-hour clock).
PHONE_PRESETS: dict[str, ExportFormat] = {
    "metric": ExportFormat(),
    "us": ExportFormat(units="us", clock="12h"),
    "metric-kj": ExportFormat(energy="kj"),
    "metric-12h": ExportFormat(clock="12h"),
}


class DeviceSpecError(ValueError):
    """A device description that cannot be simulated (names what is wrong)."""


@dataclass(frozen=True, slots=True)
class SimDevice:
    """One device to simulate; ``profile`` is the glucose profile of a ``glucose_meter``."""

    device_id: str
    kind: DeviceKind
    profile: str | None = None

    def __post_init__(self) -> None:
        topics.check_id("device", self.device_id)
        if self.kind not in KINDS:
            raise DeviceSpecError(f"unknown device kind {self.kind!r}; valid: {', '.join(KINDS)}")
        if self.kind == "glucose_meter":
            check_profile(self.profile or "")
            return
        valid = PHONE_PRESETS if self.kind == "phone" else OXIMETER_PROFILES
        if self.profile is not None and self.profile not in valid:
            raise DeviceSpecError(
                f"{self.kind} {self.device_id}: unknown profile {self.profile!r}; "
                f"valid: {', '.join(valid)}"
            )

    @classmethod
    def parse(cls, spec: str) -> SimDevice:
        """Parse ``KIND:DEVICE_ID[:PROFILE]`` (e.g. ``glucose_meter:g-1:diabetic``)."""
        parts = spec.split(":")
        if len(parts) not in (2, 3):
            raise DeviceSpecError(f"device {spec!r} must be KIND:DEVICE_ID[:PROFILE]")
        kind = parts[0]
        if kind not in KINDS:
            raise DeviceSpecError(f"unknown device kind {kind!r}; valid: {', '.join(KINDS)}")
        profile = parts[2] if len(parts) == 3 else None
        return cls(parts[1], kind, profile)

    @classmethod
    def from_dict(cls, item: dict[str, Any]) -> SimDevice:
        """From ``{"device_id", "kind", "profile"?}`` (other keys, like ``patient_id``, ignored)."""
        try:
            return cls(str(item["device_id"]), item["kind"], item.get("profile"))
        except KeyError as exc:
            raise DeviceSpecError(f"device {item!r} has no {exc.args[0]!r}") from None


def load_devices(path: Path) -> list[SimDevice]:
    """Read a JSON list of devices (the file `vigil up` writes for the simulators)."""
    try:
        items = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DeviceSpecError(f"cannot read devices from {path}: {exc}") from None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise DeviceSpecError(f"{path} must hold a JSON list of device objects")
    return [SimDevice.from_dict(i) for i in items]


def default_devices(prefix: str = "sim") -> list[SimDevice]:
    """One glucose meter per profile, one phone and one pulse-oximeter."""
    return [
        *(SimDevice(f"{prefix}-glucose-{p}", "glucose_meter", p) for p in PROFILES),
        SimDevice(f"{prefix}-phone", "phone"),
        SimDevice(f"{prefix}-oximeter", "oximeter"),
    ]


@dataclass(frozen=True, slots=True)
class SimOptions:
    """How to simulate: seed, bounds and the device settings that change payloads."""

    seed: int = 0
    count: int | None = None  # data messages per device (status messages not counted)
    duration: timedelta | None = None  # simulated time to run after the start (backfill apart)
    tz: tzinfo = field(default=UTC)
    glucose_unit: Unit = "mg/dL"
    hae_format: ExportFormat = field(default_factory=ExportFormat)
    batch_s: int = 10
    buffer_batches: int = 360  # the oximeter's offline buffer: older backfill counts as dropped
    connect_timeout_s: float = 15.0


@dataclass(frozen=True, slots=True)
class SimEvent:
    """One message to publish at simulated time ``time``."""

    time: datetime
    topic: str
    payload: bytes


def device_seed(seed: int, device_id: str) -> int:
    """The seed of one device: devices of one profile differ, and each is reproducible."""
    return seeds.key_of(seed, device_id)


def make_oximeter(device: SimDevice, options: SimOptions) -> Oximeter:
    """The pulse-oximeter of ``device`` (new boot id each call)."""
    return Oximeter(device.device_id, device_seed(options.seed, device.device_id),
                    options.batch_s, profile=device.profile or "normal")


def glucose_events(device: SimDevice, options: SimOptions, start: datetime,
                   now: datetime) -> Iterator[SimEvent]:
    """Readings every 5 minutes from ``start`` (backfill) on, each at its own time."""
    meter = GlucoseMeter(device.device_id, device.profile or "", device_seed(options.seed,
                         device.device_id), options.tz, start)
    topic = topics.device(device.device_id, "glucose")
    t = start
    while True:
        window = floor_time(t, timedelta(hours=1)) + timedelta(hours=1)
        for reading in meter.readings(t, window):
            yield SimEvent(reading.time, topic, reading.payload(options.glucose_unit))
        t = window


def hae_events(device: SimDevice, options: SimOptions, start: datetime,
               now: datetime) -> Iterator[SimEvent]:
    """The backfill's hourly exports, one export right at ``now``, then one per hour."""
    fmt = PHONE_PRESETS[device.profile] if device.profile else options.hae_format
    phone = HaePhone(device.device_id, device_seed(options.seed, device.device_id), options.tz, fmt)
    topic = topics.device(device.device_id, "hae")
    for t in phone.export_times(start, now):
        yield SimEvent(t, topic, phone.payload(t))
    yield SimEvent(now, topic, phone.payload(now))
    t = now
    while True:
        for when in phone.export_times(t, t + timedelta(days=1)):
            yield SimEvent(when, topic, phone.payload(when))
        t += timedelta(days=1)


def oximeter_events(device: SimDevice, options: SimOptions, start: datetime, now: datetime,
                    oximeter: Oximeter | None = None) -> Iterator[SimEvent]:
    """Batches every ``batch_s`` seconds, published when complete; backfill beyond the
    device's offline buffer is dropped (and counted in ``dropped_batches``)."""
    ox = oximeter or make_oximeter(device, options)
    topic = topics.device(device.device_id, "telemetry")
    step = timedelta(seconds=ox.batch_s)
    base = floor_time(start, step)
    if base < start:
        base += step
    backlog = int((now - base) / step) if now > base else 0
    if backlog > options.buffer_batches:
        ox.dropped = backlog - options.buffer_batches
        base += step * ox.dropped
    ox.booted_at = start
    while True:
        yield SimEvent(base + step, topic, ox.batch(base).SerializeToString())
        base += step


def events(device: SimDevice, options: SimOptions, start: datetime,
           now: datetime) -> Iterator[SimEvent]:
    """The message stream of a device, backfill from ``start`` and live from ``now``."""
    if device.kind == "glucose_meter":
        return glucose_events(device, options, start, now)
    if device.kind == "phone":
        return hae_events(device, options, start, now)
    return oximeter_events(device, options, start, now)
