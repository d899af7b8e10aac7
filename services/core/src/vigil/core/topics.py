"""The v1 topic contract (DESIGN.md): the one place that builds and parses topic names.

Devices in the field depend on these names: a change is a new version beside this one.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Literal

PREFIX = "vigil/v1"
DeviceChannel = Literal["telemetry", "hae", "glucose", "status", "commands"]
DEVICE_CHANNELS: tuple[DeviceChannel, ...] = ("telemetry", "hae", "glucose", "status", "commands")
ACKS = f"{PREFIX}/acks"
CACHE_REQUESTS = f"{PREFIX}/cache/requests"

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


class TopicError(ValueError):
    """A topic or an id inside a topic is not part of the contract."""


def check_id(kind: str, value: str) -> str:
    """Return ``value`` if it is a valid device or patient id (no wildcards, no slashes)."""
    if not _ID.match(value):
        raise TopicError(f"{kind} id {value!r} must be 1-64 characters of [A-Za-z0-9_.:-]")
    return value


def shard_of(patient_id: str, shards: int) -> int:
    """The readings shard of a patient: stable across processes, languages and restarts."""
    return zlib.crc32(patient_id.encode()) % shards


def device(device_id: str, channel: DeviceChannel) -> str:
    """``vigil/v1/devices/{device_id}/{channel}``."""
    return f"{PREFIX}/devices/{check_id('device', device_id)}/{channel}"


def readings(patient_id: str, shards: int) -> str:
    """``vigil/v1/readings/{shard}/{patient_id}``."""
    check_id("patient", patient_id)
    return f"{PREFIX}/readings/{shard_of(patient_id, shards)}/{patient_id}"


def readings_filter(shard: int | None = None) -> str:
    """Subscription filter for one shard, or all of them."""
    return f"{PREFIX}/readings/{'+' if shard is None else shard}/+"


def alerts(patient_id: str) -> str:
    """``vigil/v1/alerts/{patient_id}``."""
    return f"{PREFIX}/alerts/{check_id('patient', patient_id)}"


def dlq(stage: str) -> str:
    """``vigil/v1/dlq/{stage}``."""
    return f"{PREFIX}/dlq/{check_id('stage', stage)}"


def state(patient_id: str) -> str:
    """Retained per-patient summary served by the cache."""
    return f"{PREFIX}/state/{check_id('patient', patient_id)}"


def device_filter(channel: DeviceChannel | Literal["+"]) -> str:
    """Subscription filter for one channel of every device."""
    return f"{PREFIX}/devices/+/{channel}"


def shared(group: str, topic_filter: str) -> str:
    """An MQTT 5 shared subscription: replicas in ``group`` split the messages."""
    return f"$share/{check_id('group', group)}/{topic_filter}"


@dataclass(frozen=True, slots=True)
class DeviceTopic:
    """A parsed ``vigil/v1/devices/{device_id}/{channel}`` topic."""

    device_id: str
    channel: DeviceChannel

    @classmethod
    def parse(cls, topic: str) -> DeviceTopic:
        """Parse a device topic; raises :class:`TopicError` naming what is wrong."""
        parts = topic.split("/")
        if len(parts) != 5 or parts[0] != "vigil" or parts[1] != "v1" or parts[2] != "devices":
            raise TopicError(f"not a v1 device topic: {topic!r}")
        channel = parts[4]
        if channel not in DEVICE_CHANNELS:
            raise TopicError(f"unknown device channel {channel!r} in {topic!r}")
        return cls(check_id("device", parts[3]), channel)
