"""`vigil bench alerts`' moving parts: background publishers and the probe (the CLI starts
the servers and services; these need only the core, so the spawned publishers import little).

Background devices publish glucose readings five simulated minutes apart whose values never
cross a rule (85-105 mg/dL), so every one is evaluated and none alerts. Probe devices
alternate 600 and 100 mg/dL against a ``bench-probe`` rule (above 500): each probe reading
fires or resolves exactly one alert, and the probe times publish -> AlertEvent received.
"""

from __future__ import annotations

import contextlib
import json
import math
import multiprocessing as mp
import re
import socket
import struct
import threading
import time
import uuid
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any

from vigil.core import topics
from vigil.core.config import MqttUrl
from vigil.core.message import Message
from vigil.core.mqtt import Client
from vigil.v1 import alerts_pb2, readings_pb2, telemetry_pb2

STEP_MS = 300_000  # five minutes between a device's readings, as a CGM
PROBE_RULE = {"name": "bench-probe", "metric": "glucose", "severity": "critical", "above": 500}


def _body(t_ms: int, value: float) -> bytes:
    when = datetime.fromtimestamp(t_ms / 1000, UTC).isoformat()
    return json.dumps({"time": when, "value": round(value, 1), "unit": "mg/dL"}).encode()


def _batch(device: str, seq: int, t0_ms: int, n: int) -> bytes:
    """``n`` glucose readings in one DeviceTelemetry, as a sensor node that batches sends."""
    msg = telemetry_pb2.DeviceTelemetry(device_id=device, boot_id=1, seq=seq,
                                        base_time_ms=t0_ms + seq * n * STEP_MS)
    for k in range(n):
        msg.samples.add(metric=telemetry_pb2.METRIC_GLUCOSE, offset_ms=k * STEP_MS,
                        value=round(95 + 10 * math.sin((seq * n + k) / 5), 1), quality=100)
    return msg.SerializeToString()


class RawPublisher:
    """A minimal MQTT 3.1.1 QoS 1 publisher on a plain socket, for the background load.

    The background stands for a thousand devices that run on their own hardware; through
    paho each publish costs ~60 µs of Python, so at 5,000 messages/s the load generator
    took a third of the 2 cores it is meant to measure. Here packets are encoded with
    ``struct`` and sent in bursts, and a reader thread counts PUBACKs.
    """

    def __init__(self, url: str, client_id: str) -> None:
        mq = MqttUrl.parse(url)
        self._sock = socket.create_connection((mq.host, mq.port), timeout=10)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        cid = client_id.encode()
        var = b"\x00\x04MQTT\x04\x02\x00\x00"  # MQTT 3.1.1, clean session, no keep-alive
        self._sock.sendall(b"\x10" + _varint(len(var) + 2 + len(cid)) + var
                           + struct.pack("!H", len(cid)) + cid)
        connack = self._recv_exact(4)
        if connack[0] != 0x20 or connack[3] != 0:
            raise ConnectionError(f"broker refused the connection: CONNACK {connack.hex()}")
        self._sock.settimeout(None)
        self.sent = 0
        self.acked = 0
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _recv_exact(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self._sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("broker closed the connection")
            buf += chunk
        return buf

    def _read(self) -> None:
        rest = b""
        while True:
            try:
                chunk = self._sock.recv(65536)
            except OSError:
                return
            if not chunk:
                return
            rest += chunk
            while len(rest) >= 2:  # only PUBACKs come back: 0x40 0x02 id id
                if rest[0] != 0x40:
                    raise ConnectionError(f"unexpected packet type {rest[0]:#x}")
                self.acked += 1
                rest = rest[4:]

    def publish(self, messages: list[tuple[str, bytes]]) -> None:
        """Send ``messages`` (topic, payload) at QoS 1 in one write."""
        out = []
        for topic, payload in messages:
            self.sent += 1
            t = topic.encode()
            body = struct.pack("!H", len(t)) + t + struct.pack("!H", self.sent % 65535 + 1)
            out.append(b"\x32" + _varint(len(body) + len(payload)) + body + payload)
        self._sock.sendall(b"".join(out))

    def close(self, timeout: float = 60.0) -> None:
        """Wait until every message was acknowledged, then disconnect."""
        deadline = time.monotonic() + timeout
        while self.acked < self.sent and time.monotonic() < deadline:
            time.sleep(0.01)
        if self.acked < self.sent:
            raise TimeoutError(f"{self.sent - self.acked} of {self.sent} publishes not acked")
        with contextlib.suppress(OSError):
            self._sock.sendall(b"\xe0\x00")
        self._sock.close()


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        n, digit = divmod(n, 128)
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def background(url: str, devices: list[str], rate: float, seconds: float, t0_ms: int,
               out: Connection, batch: int = 1) -> None:
    """Publish ``rate`` readings/s round-robin over ``devices`` for ``seconds``.

    ``batch`` 1: one glucose-meter JSON message per reading; more: telemetry batches.
    Messages go out in bursts of at most a millisecond's worth, on schedule.
    """
    c = RawPublisher(url, f"bench-bg-{uuid.uuid4().hex[:6]}")
    messages = int(rate * seconds) // batch
    per_s = rate / batch
    start = time.monotonic()
    i = 0
    while i < messages:
        due = min(messages, int((time.monotonic() - start) * per_s) + 1)
        chunk = []
        for j in range(i, due):
            d, seq = devices[j % len(devices)], j // len(devices)
            if batch == 1:
                chunk.append((topics.device(d, "glucose"),
                              _body(t0_ms + seq * STEP_MS, 95 + 10 * math.sin(seq / 5))))
            else:
                chunk.append((topics.device(d, "telemetry"), _batch(d, seq, t0_ms, batch)))
        if chunk:
            c.publish(chunk)
        i = due
        time.sleep(0.001)
    c.close()
    out.send((messages * batch, time.monotonic() - start))


def start_background(url: str, devices: list[str], rate: float, seconds: float, t0_ms: int,
                     publishers: int, batch: int = 1,
                     ) -> list[tuple[mp.process.BaseProcess, Connection]]:
    """Publisher processes (spawned: forking a process with MQTT threads can deadlock)."""
    ctx = mp.get_context("spawn")
    procs: list[tuple[mp.process.BaseProcess, Connection]] = []
    for k in range(publishers):
        recv, send = ctx.Pipe(duplex=False)
        p = ctx.Process(target=background, args=(url, devices[k::publishers], rate / publishers,
                                                 seconds, t0_ms, send, batch))
        p.start()
        procs.append((p, recv))
    return procs


class Probe:
    """Publishes probe readings and times each one to its AlertEvent."""

    def __init__(self, url: str, devices: list[str], t0_ms: int) -> None:
        self.devices = devices
        self.t0_ms = t0_ms
        self.sent: dict[tuple[str, int], float] = {}
        self.latency_ms: list[float] = []
        self.fired: dict[str, float] = {}  # alert_id of a probe alert -> its reading's publish
        self.ingest_ms: list[float] = []
        self.events = 0
        self._lock = threading.Lock()
        self._c = Client(MqttUrl.parse(url), f"bench-probe-{uuid.uuid4().hex[:6]}",
                         clean_start=True, on_message=self._on)
        self._c.subscribe("vigil/v1/alerts/+", qos=1)
        for d in devices:  # the probe patients' readings: where the time goes, ingest or rules
            self._c.subscribe(f"vigil/v1/readings/+/bp-{d}", qos=0)
        self._c.connect()
        time.sleep(0.2)

    def _on(self, m: Message) -> None:
        now = time.time()
        if m.topic.startswith("vigil/v1/readings/"):
            batch = readings_pb2.ReadingBatch.FromString(m.payload)
            with self._lock:
                for r in batch.readings:
                    sent = self.sent.get((r.device_id, r.time_ms))
                    if sent is not None:
                        self.ingest_ms.append((now - sent) * 1000)
            return
        ev = alerts_pb2.AlertEvent.FromString(m.payload)
        with self._lock:
            self.events += 1
            if ev.rule != PROBE_RULE["name"]:
                return
            sent = self.sent.pop((ev.device_id, ev.reading_time_ms), None)
            if sent is not None:
                self.latency_ms.append((now - sent) * 1000)
                if ev.state == alerts_pb2.ALERT_STATE_FIRING:
                    self.fired[ev.alert_id] = sent

    def run(self, seconds: float, interval: float) -> int:
        """Publish one probe reading every ``interval`` seconds; return how many."""
        n = 0
        start = time.monotonic()
        while time.monotonic() - start < seconds:
            d = self.devices[n % len(self.devices)]
            seq = n // len(self.devices)
            t_ms = self.t0_ms + seq * STEP_MS
            with self._lock:
                self.sent[(d, t_ms)] = time.time()
            self._c.publish(topics.device(d, "glucose"), _body(t_ms, 600 if seq % 2 == 0
                                                                else 100), qos=1)
            n += 1
            time.sleep(max(0.0, start + n * interval - time.monotonic()))
        return n

    def close(self, wait: float = 5.0) -> None:
        """Wait for the last events, then disconnect."""
        deadline = time.monotonic() + wait
        while self.sent and time.monotonic() < deadline:
            time.sleep(0.05)
        self._c.close()


_ACK_ID = re.compile(r"Ack id: (\w+)")


def sink_routing(port: int) -> str:
    """A routing file paging every alert at once, one message per alert, to a local
    ``json://`` webhook on ``port`` (the bench's page receiver)."""
    return (f"receivers:\n  bench:\n    urls: ['json://127.0.0.1:{port}/hook']\n"
            "    rate_limit: 100000/1s\n"
            "route:\n  receiver: bench\n  group_by: [alert_id]\n  group_wait: 0s\n"
            "  group_interval: 1s\n  repeat_interval: 1h\n")


def page_latencies(pages: list[dict[str, Any]], fired: dict[str, float]) -> list[float]:
    """Publish -> webhook received (ms) for each probe alert's first page (the message's
    ``Ack id`` line names the alert)."""
    out: dict[str, float] = {}
    for page in pages:
        found = _ACK_ID.search(str(page.get("message", "")))
        alert_id = found.group(1) if found else ""
        if alert_id in fired and alert_id not in out:
            out[alert_id] = (float(page["received_at"]) - fired[alert_id]) * 1000
    return list(out.values())


def pct(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank)."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]
