"""Helpers shared by the cross-service tests: publishing and building device payloads."""

from __future__ import annotations

import contextlib
import socket
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


class PacedPublisher(threading.Thread):
    """Publishes messages from a background thread at a steady rate, QoS 1, one client.

    Faults are injected while it runs; paho keeps unacknowledged QoS 1 publishes and resends
    them, so :meth:`finish` returns only once the broker has acknowledged every message.
    """

    def __init__(self, url: str, messages: list[tuple[str, bytes]], per_second: float) -> None:
        super().__init__(daemon=True, name="paced-publisher")
        self.messages = messages
        self.interval = 1.0 / per_second
        self.sent = 0
        self.error: BaseException | None = None
        self._client = Client(MqttUrl.parse(url), f"test-pub-{uuid.uuid4().hex[:8]}",
                              clean_start=True)
        self._pubs: list = []

    def run(self) -> None:
        try:
            self._client.connect()
            start = time.monotonic()
            for i, (topic, payload) in enumerate(self.messages):
                # Schedule against the start so the rate stays steady whatever each call costs.
                delay = start + i * self.interval - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                self._pubs.append(self._client.publish(topic, payload, qos=1))
                self.sent = i + 1
        except BaseException as exc:  # re-raised by finish(), in the test's thread
            self.error = exc

    def finish(self, timeout: float = 60.0) -> int:
        """Wait for the last publish and every PUBACK; return how many were published."""
        self.join(timeout)
        try:
            assert not self.is_alive(), "publisher still running"
            if self.error is not None:
                raise self.error
            deadline = time.monotonic() + timeout
            for p in self._pubs:
                p.wait(max(0.1, deadline - time.monotonic()))
            assert all(p.done for p in self._pubs), "some publishes were never acknowledged"
            return len(self._pubs)
        finally:
            self._client.close()


def telemetry_values(device_id: str, base_ms: int, n: int,
                     hr: float) -> dict[tuple[str, int], float]:
    """What :func:`telemetry` with these arguments must store: (device, time_ms) -> value."""
    return {(device_id, base_ms + i * 1000): hr + (i % 7) for i in range(n)}


def telemetry_stream(devices: list[str], batches: int, n: int, base_ms: int,
                     ) -> tuple[list[tuple[str, bytes]], dict[tuple[str, int], float]]:
    """``batches`` telemetry batches of ``n`` samples per device, the devices interleaved.

    Returns the messages and what must be stored: (device, time_ms) -> value. Values vary with
    the batch so that a reading stored under the wrong time or device shows up as a mismatch.
    """
    from vigil.core import topics

    messages: list[tuple[str, bytes]] = []
    expected: dict[tuple[str, int], float] = {}
    for seq in range(batches):
        for k, d in enumerate(devices):
            start = base_ms + seq * n * 1000
            hr = 40.0 + (seq * 7 + k) % 150
            messages.append((topics.device(d, "telemetry"), telemetry(d, seq, start, n, hr=hr)))
            expected.update(telemetry_values(d, start, n, hr))
    return messages, expected


def stored_readings(stack: object, metric: str = "heart_rate") -> dict[tuple[str, int], float]:
    """Every stored reading of ``metric`` as (device, time_ms) -> value."""
    rows = stack.fetch(  # type: ignore[attr-defined]
        "SELECT device_id, (extract(epoch FROM time) * 1000)::int8, value FROM readings"
        " WHERE metric = $1", metric)
    return {(r[0], r[1]): r[2] for r in rows}


class SlowCloseProxy:
    """A TCP proxy that forwards bytes at once but passes the server's close on late.

    Between a server's last bytes (PostgreSQL's FATAL on a terminated backend) and its close
    there is normally a moment; a NAT, a load balancer or a busy host can stretch it. This
    stretches it to ``close_delay`` seconds, so code that mishandles it fails every time.
    """

    def __init__(self, upstream_port: int, close_delay: float) -> None:
        self.upstream_port, self.close_delay = upstream_port, close_delay
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._closed = False
        threading.Thread(target=self._accept, daemon=True, name="proxy-accept").start()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:
                client.close()
                continue
            threading.Thread(target=self._pump, args=(client, upstream, 0.0), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, self.close_delay),
                             daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket, delay: float) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        time.sleep(delay)
        for sock in (dst, src):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        """Stop accepting (open connections end with their servers)."""
        self._closed = True
        self._server.close()
