"""Helpers shared by the cross-service tests: publishing and building device payloads."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterable

from vigil.core.config import MqttUrl
from vigil.core.message import Message
from vigil.core.mqtt import Client
from vigil.v1 import readings_pb2, telemetry_pb2


def publish_all(url: str, messages: Iterable[tuple[str, bytes]], qos: int = 1,
                timeout: float = 60.0) -> int:
    """Publish and wait until the broker acknowledged every message; return the count."""
    c = Client(MqttUrl.parse(url), f"test-pub-{uuid.uuid4().hex[:8]}", clean_start=True)
    c.connect()
    try:
        pubs = [c.publish(t, p, qos=qos) for t, p in messages]
        for p in pubs:
            p.wait(timeout)
        return len(pubs)
    finally:
        c.close()


def telemetry(device_id: str, seq: int, base_ms: int, n: int, boot_id: int = 7,
              hr: float = 70.0) -> bytes:
    """A DeviceTelemetry batch of ``n`` one-second heart-rate samples."""
    return telemetry_pb2.DeviceTelemetry(
        device_id=device_id, boot_id=boot_id, seq=seq, base_time_ms=base_ms,
        samples=[telemetry_pb2.Sample(metric=telemetry_pb2.METRIC_HEART_RATE, offset_ms=i * 1000,
                                      value=hr + (i % 7), quality=95) for i in range(n)],
    ).SerializeToString()


class Collector:
    """Subscribes and collects messages (readings batches, dead letters) for assertions."""

    def __init__(self, url: str, topic_filter: str) -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()
        self._c = Client(MqttUrl.parse(url), f"test-sub-{uuid.uuid4().hex[:8]}",
                         clean_start=True, on_message=self._add)
        self._c.subscribe(topic_filter, qos=1)
        self._c.connect()
        time.sleep(0.2)  # let the SUBACK land before the test publishes

    def _add(self, m: Message) -> None:
        with self._lock:
            self.messages.append(m)

    def readings(self) -> list[tuple[str, readings_pb2.Reading]]:
        """(topic, reading) for every reading in every ReadingBatch received so far."""
        with self._lock:
            msgs = list(self.messages)
        out = []
        for m in msgs:
            batch = readings_pb2.ReadingBatch.FromString(m.payload)
            out.extend((m.topic, r) for r in batch.readings)
        return out

    def wait(self, predicate: object, timeout: float = 30.0) -> bool:
        """Poll ``predicate()`` until true or timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():  # type: ignore[operator]
                return True
            time.sleep(0.05)
        return False

    def close(self) -> None:
        """Disconnect."""
        self._c.close()
