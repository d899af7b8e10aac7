"""Device status payloads (``…/status``), shared by every service that tracks presence.

Three forms are accepted: protobuf ``DeviceStatus`` (our firmware, retained, last will with
``online=false``), JSON ``{"online": bool, "firmware": str}``, or a bare ``online``/``offline``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from google.protobuf.message import DecodeError as ProtobufDecodeError

from vigil.v1 import status_pb2


class StatusError(ValueError):
    """A status payload in none of the accepted forms; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class DeviceState:
    """What a status message says about a device; None where it says nothing."""

    online: bool
    firmware: str | None = None
    battery_pct: float | None = None
    rssi_dbm: int | None = None
    boot_id: int | None = None
    time: datetime | None = None


def parse_status(payload: bytes, device_id: str) -> DeviceState:
    """Decode any of the three forms; raise :class:`StatusError` naming the problem."""
    text = payload.strip().lower()
    if text in (b"online", b"offline"):
        return DeviceState(online=text == b"online")
    if text.startswith(b"{"):
        try:
            doc = json.loads(payload)
        except ValueError as exc:
            raise StatusError(f"status: invalid JSON ({exc})") from None
        online = doc.get("online") if isinstance(doc, dict) else None
        if not isinstance(online, bool):
            raise StatusError("status: JSON needs a boolean 'online'")
        fw = doc.get("firmware")
        return DeviceState(online=online, firmware=fw if isinstance(fw, str) else None)
    msg = status_pb2.DeviceStatus()
    try:
        msg.ParseFromString(payload)
    except ProtobufDecodeError as exc:
        raise StatusError(f"status: not a DeviceStatus protobuf ({exc})") from None
    if msg.device_id and msg.device_id != device_id:
        raise StatusError(f"status: device_id {msg.device_id!r} != {device_id!r} in the topic")
    if not msg.online:
        # A last will says only "gone": proto3 zeros in it are not readings of battery or RSSI.
        return DeviceState(online=False)
    return DeviceState(
        online=True,
        firmware=msg.firmware or None,
        battery_pct=msg.battery_pct if 0 <= msg.battery_pct <= 100 else None,
        rssi_dbm=msg.rssi_dbm or None,
        boot_id=msg.boot_id or None,
        time=datetime.fromtimestamp(msg.time_ms / 1000, UTC) if msg.time_ms else None,
    )
