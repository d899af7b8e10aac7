"""A received MQTT message as a plain value object (no paho types leak out of the core)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Message:
    """One message taken from the broker, with what is needed to acknowledge it later."""

    topic: str
    payload: bytes
    qos: int
    mid: int
    dup: bool = False
    retain: bool = False
    received_ns: int = 0
    user_properties: tuple[tuple[str, str], ...] = ()
    response_topic: str | None = None
    correlation_data: bytes | None = field(default=None, repr=False)
