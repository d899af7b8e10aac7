"""`vigil bench alerts`' moving parts: background publishers and the probe (the CLI starts
the servers and services; these need only the core, so the spawned publishers import little).

Background devices publish glucose readings five simulated minutes apart whose values never
cross a rule (85-105 mg/dL), so every one is evaluated and none alerts. Probe devices
alternate 600 and 100 mg/dL against a ``bench-probe`` rule (above 500): each probe reading
fires or resolves exactly one alert, and the probe times publish -> AlertEvent received.
"""

from __future__ import annotations

import json
import math
import multiprocessing as mp
import threading
import time
import uuid
from datetime import UTC, datetime
from multiprocessing.connection import Connection

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


def background(url: str, devices: list[str], rate: float, seconds: float, t0_ms: int,
               out: Connection, batch: int = 1) -> None:
    """Publish ``rate`` readings/s round-robin over ``devices`` for ``seconds``.

    ``batch`` 1: one glucose-meter JSON message per reading; more: telemetry batches.
    """
    c = Client(MqttUrl.parse(url), f"bench-bg-{uuid.uuid4().hex[:6]}", clean_start=True)
    c.connect()
    messages = int(rate * seconds) // batch
    per_s = rate / batch
    start = time.monotonic()
    pending = []
    for i in range(messages):
        delay = start + i / per_s - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        d, seq = devices[i % len(devices)], i // len(devices)
        if batch == 1:
            topic = topics.device(d, "glucose")
            body = _body(t0_ms + seq * STEP_MS, 95 + 10 * math.sin(seq / 5))
        else:
            topic, body = topics.device(d, "telemetry"), _batch(d, seq, t0_ms, batch)
        pending.append(c.publish(topic, body, qos=1))
        if len(pending) >= 2000:
            pending = [p for p in pending if not p.done]
    for p in pending:
        p.wait(60)
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


def pct(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank)."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]
