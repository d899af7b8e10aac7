"""Turns a list of MQTT messages into one :class:`Batch`: decode, validate, resolve patients.

Every message ends as readings, a dead letter, or both (a payload with some bad items keeps
its good ones). Nothing here touches the network; :mod:`vigil.ingest.app` does.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from vigil.core.message import Message
from vigil.core.status import StatusError, parse_status
from vigil.core.topics import DeviceTopic, TopicError
from vigil.ingest.decode.glucose import decode_glucose
from vigil.ingest.decode.hae import decode_hae
from vigil.ingest.decode.model import Decoded, DecodeError
from vigil.ingest.decode.telemetry import decode_telemetry
from vigil.ingest.registry import Registry
from vigil.ingest.writer import Batch

_MAX_REASONS = 20
_DEAD_PAYLOAD_BYTES = 64 * 1024


@dataclass(slots=True)
class Plan:
    """One flush: what to write, what to republish even if unchanged, what to dead-letter."""

    batch: Batch = field(default_factory=Batch)
    # Keys of rows from redelivered messages: republished even when already stored, since a
    # crash may have come between the commit and the publish.
    replayed: set[tuple[str, str, datetime]] = field(default_factory=set)
    received: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    dlq: list[tuple[str, bytes, str]] = field(default_factory=list)
    gaps: int = 0


def device_id_of(topic: str) -> str | None:
    """The device id in a device topic, or None."""
    try:
        return DeviceTopic.parse(topic).device_id
    except TopicError:
        return None


def _summary(rejects: list[str]) -> str:
    more = len(rejects) - _MAX_REASONS
    head = "; ".join(rejects[:_MAX_REASONS])
    return head + (f"; and {more} more" if more > 0 else "")


class Planner:
    """Decodes messages into plans; keeps per-device sequence state for gap detection."""

    def __init__(self, registry: Registry, max_payload: int,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self._registry = registry
        self._max_payload = max_payload
        self._now = now
        self._last_seq: dict[str, tuple[int, int]] = {}

    def plan(self, messages: Iterable[Message]) -> Plan:
        """Decode every message of a flush."""
        plan = Plan()
        now = self._now()
        for m in messages:
            self._one(plan, m, now)
        return plan

    def take(self, inbox: deque[Message], max_messages: int, max_rows: int,
             ) -> tuple[list[Message], Plan]:
        """Decode messages from the left of ``inbox`` until either limit is reached."""
        plan = Plan()
        now = self._now()
        batch: list[Message] = []
        while inbox and len(batch) < max_messages and len(plan.batch.rows) < max_rows:
            m = inbox.popleft()
            batch.append(m)
            self._one(plan, m, now)
        return batch, plan

    def _dead(self, plan: Plan, m: Message, device: str | None, kind: str, reason: str) -> None:
        plan.rejected[kind] += 1
        plan.batch.dead.append((m.topic, device, reason, m.payload[:_DEAD_PAYLOAD_BYTES]))
        plan.dlq.append((m.topic, m.payload[:_DEAD_PAYLOAD_BYTES], reason))

    def _one(self, plan: Plan, m: Message, now: datetime) -> None:
        try:
            topic = DeviceTopic.parse(m.topic)
        except TopicError as exc:
            plan.received["invalid"] += 1
            self._dead(plan, m, None, "bad_topic", str(exc))
            return
        device, channel = topic.device_id, topic.channel
        plan.received[channel] += 1
        if channel == "status" and not m.payload:
            return  # an empty retained message only clears the broker's retained status
        refused = self._refusal(m, device)
        if refused is None:
            decoded = self._decode_safely(plan, m, device, channel, now)
            if decoded is None:
                return
            patient = self._registry.patient_of(device)
            if patient is not None:
                self._keep(plan, m, device, patient, decoded, now)
                return
            refused = ("no_patient", f"device {device!r} has no patient")
        self._dead(plan, m, device, *refused)

    def _refusal(self, m: Message, device: str) -> tuple[str, str] | None:
        """Why a message is refused before decoding (metric label, reason), or None."""
        if len(m.payload) > self._max_payload:
            return "oversized", f"payload of {len(m.payload)} bytes exceeds {self._max_payload}"
        if not self._registry.known(device):
            return "unknown_device", f"device {device!r} is not registered"
        return None

    def _decode_safely(self, plan: Plan, m: Message, device: str, channel: str,
                       now: datetime) -> Decoded | None:
        """Decoded samples; None when the message became a status update or a dead letter."""
        try:
            if channel == "status":
                st = parse_status(m.payload, device)
                plan.batch.status.append((device, st.online, st.firmware, st.battery_pct,
                                          st.rssi_dbm, st.boot_id, now))
                return None
            return self._decode(plan, channel, m.payload, device)
        except (DecodeError, StatusError) as exc:
            self._dead(plan, m, device, "decode", str(exc))
        except Exception as exc:  # a decoder bug must cost one message, not the service
            self._dead(plan, m, device, "internal", f"{channel}: decoder failed: "
                       f"{type(exc).__name__}: {str(exc)[:200]}")
        return None

    def _keep(self, plan: Plan, m: Message, device: str, patient: str, decoded: Decoded,
              now: datetime) -> None:
        if decoded.rejects:
            plan.rejected["item"] += len(decoded.rejects)
            reason = _summary(decoded.rejects)
            plan.batch.dead.append((m.topic, device, reason, m.payload[:_DEAD_PAYLOAD_BYTES]))
            plan.dlq.append((m.topic, m.payload[:_DEAD_PAYLOAD_BYTES], reason))
        for s in decoded.samples:
            plan.batch.add_row((s.time, patient, device, s.metric, s.value, s.unit, s.quality))
            if m.dup:
                plan.replayed.add((device, s.metric, s.time))
        boot_seq = self._last_seq.get(device)
        plan.batch.seen[device] = (now, *boot_seq) if boot_seq else (now, None, None)

    def _decode(self, plan: Plan, channel: str, payload: bytes, device: str) -> Decoded:
        if channel == "telemetry":
            decoded, msg = decode_telemetry(payload, device)
            last = self._last_seq.get(device)
            if last and last[0] == msg.boot_id and msg.seq > last[1] + 1:
                plan.gaps += msg.seq - last[1] - 1
            if not last or last[0] != msg.boot_id or msg.seq > last[1]:
                self._last_seq[device] = (msg.boot_id, msg.seq)
            return decoded
        if channel == "hae":
            return decode_hae(payload)
        if channel == "glucose":
            return decode_glucose(payload)
        raise DecodeError(f"devices do not publish on {channel!r}")
