"""The ingest benchmark's moving parts: publisher processes and the committed-readings probe.

Latency is publish -> commit: each ReadingBatch carries ``committed_at_ms`` (stamped by ingest
right after the transaction commits), and the publisher records when it published each message;
both clocks are this machine's.
"""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any

from vigil.cli.measure import pct, peak_rss_mb
from vigil.core import topics
from vigil.core.config import MqttUrl
from vigil.core.message import Message
from vigil.core.mqtt import Client
from vigil.v1 import readings_pb2, telemetry_pb2

_T0 = 1_600_000_000_000  # sample times start here; one time slot per (device, seq)


@dataclass(frozen=True)
class Scenario:
    """One payload kind: flood then paced run."""

    kind: str  # "protobuf" (batches) or "json" (one glucose reading per message)
    samples: int
    flood: int
    rate: int
    seconds: float


def _slot_ms(kind: str) -> int:
    return 60_000 if kind == "protobuf" else 1_000


def _payload(kind: str, device: str, seq: int, n: int) -> tuple[str, bytes]:
    base = _T0 + seq * _slot_ms(kind)
    if kind == "protobuf":
        msg = telemetry_pb2.DeviceTelemetry(device_id=device, boot_id=1, seq=seq,
                                            base_time_ms=base)
        for i in range(n):
            msg.samples.add(metric=telemetry_pb2.METRIC_HEART_RATE, offset_ms=i * 1000,
                            value=60 + i % 40, quality=90)
        return topics.device(device, "telemetry"), msg.SerializeToString()
    when = datetime.fromtimestamp(base / 1000, UTC).isoformat()
    return (topics.device(device, "glucose"),
            f'{{"time": "{when}", "value": {90 + seq % 60}, "unit": "mg/dL"}}'.encode())


def _publisher(url: str, jobs: list[tuple[str, int]], kind: str, n: int, rate: float,
               out: Connection) -> None:
    payloads = [(_payload(kind, d, s, n), (d, s)) for d, s in jobs]
    c = Client(MqttUrl.parse(url), f"bench-pub-{uuid.uuid4().hex[:6]}", clean_start=True)
    c.connect()
    sent: dict[tuple[str, int], float] = {}
    pubs = []
    start = time.monotonic()
    for i, ((topic, body), key) in enumerate(payloads):
        if rate:
            delay = start + i / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        sent[key] = time.time()
        pubs.append(c.publish(topic, body, qos=1))
    for p in pubs:
        p.wait(120)
    c.close()
    out.send(sent)


class Probe:
    """Subscribes to the readings topic and records commit time per (device, seq)."""

    def __init__(self, url: str, kind: str) -> None:
        self.kind = kind
        self.committed: dict[tuple[str, int], float] = {}
        self.readings = 0
        self._lock = threading.Lock()
        self._c = Client(MqttUrl.parse(url), f"bench-probe-{uuid.uuid4().hex[:6]}",
                         clean_start=True, on_message=self._on)
        self._c.subscribe(topics.readings_filter())
        self._c.connect()
        time.sleep(0.2)

    def _on(self, m: Message) -> None:
        batch = readings_pb2.ReadingBatch.FromString(m.payload)
        slot = _slot_ms(self.kind)
        with self._lock:
            self.readings += len(batch.readings)
            for r in batch.readings:
                self.committed.setdefault((r.device_id, (r.time_ms - _T0) // slot),
                                          batch.committed_at_ms / 1000)

    def wait(self, expected: int, timeout: float) -> float:
        """Wait until ``expected`` readings arrived; return the last commit time seen."""
        deadline = time.monotonic() + timeout
        while self.readings < expected and time.monotonic() < deadline:
            time.sleep(0.01)
        with self._lock:
            return max(self.committed.values(), default=0.0)

    def close(self) -> None:
        """Disconnect."""
        self._c.close()


def _publish(url: str, scenario: Scenario, devices: list[str], seq0: int, count: int,
             rate: float, publishers: int) -> dict[tuple[str, int], float]:
    jobs = [(devices[i % len(devices)], seq0 + i // len(devices)) for i in range(count)]
    ctx = mp.get_context("spawn")  # forking a process with MQTT threads can deadlock
    procs, pipes = [], []
    for k in range(publishers):
        recv, send = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_publisher, args=(url, jobs[k::publishers], scenario.kind,
                                                 scenario.samples, rate / publishers, send))
        p.start()
        procs.append(p)
        pipes.append(recv)
    sent: dict[tuple[str, int], float] = {}
    for recv in pipes:
        sent.update(recv.recv())
    for p in procs:
        p.join()
    return sent


def run_scenario(s: Scenario, url: str, db_url: str, devices: list[str], publishers: int,
                 ingest_pids: list[int]) -> dict[str, Any]:
    """Flood (throughput), then a paced run (latency); check the stored count is exact."""
    import asyncio

    import asyncpg

    probe = Probe(url, s.kind)
    sent = _publish(url, s, devices, 0, s.flood, 0, publishers)
    last_commit = probe.wait(s.flood * s.samples, 300)
    flood_s = last_commit - min(sent.values())
    flood_readings = probe.readings
    paced_n = int(s.rate * s.seconds)
    seq0 = s.flood // len(devices) + 1
    sent2 = _publish(url, s, devices, seq0, paced_n, s.rate, publishers)
    probe.wait(flood_readings + paced_n * s.samples, 300)
    probe.close()
    lat = [(probe.committed[k] - t) * 1000 for k, t in sent2.items() if k in probe.committed]
    paced_s = max(sent2.values()) - min(sent2.values())

    async def count() -> int:
        conn = await asyncpg.connect(db_url)
        try:
            metric = "heart_rate" if s.kind == "protobuf" else "glucose"
            return int(await conn.fetchval(
                "SELECT count(*) FROM readings WHERE metric = $1", metric))
        finally:
            await conn.close()

    stored = asyncio.run(count())
    expected = (s.flood + paced_n) * s.samples
    return {
        "kind": s.kind, "samples_per_message": s.samples, "rate": s.rate,
        "flood_msgs_s": s.flood / flood_s if flood_s > 0 else 0.0,
        "flood_readings_s": flood_readings / flood_s if flood_s > 0 else 0.0,
        "paced_msgs_s": paced_n / paced_s if paced_s > 0 else 0.0,
        "p50_ms": pct(lat, 0.50), "p99_ms": pct(lat, 0.99), "lost": paced_n - len(lat),
        "stored": stored, "expected": expected, "exact": stored == expected,
        # Per process: each replica is its own pod.
        "peak_rss_mb": max(peak_rss_mb(pid) for pid in ingest_pids),
    }
