"""`vigil bench cache`: request -> response latency of the cache over MQTT, and Redis memory.

The bench starts its own broker, PostgreSQL, Redis and cache process, loads patients through
the readings topic (as ingest would publish them), then a separate process sends requests at a
fixed rate (70 % latest, 20 % range of the last 6 hours, 10 % alerts) and times each answer.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import random
import shutil
import socket
import tempfile
import threading
import time
import urllib.request
import uuid
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Annotated, Any

import asyncpg
import typer
from rich.console import Console
from rich.table import Table

from vigil.cli.measure import machine, pct, peak_rss_mb
from vigil.cli.processes import ServiceProcess
from vigil.cli.servers import Mosquitto, Postgres, Redis, free_port
from vigil.core import topics
from vigil.core.config import MqttUrl
from vigil.core.message import Message
from vigil.core.migrate import migrate
from vigil.core.mqtt import Client
from vigil.v1 import alerts_pb2, readings_pb2

console = Console(width=150)
METRICS = [("heart_rate", "count/min", 60.0), ("spo2", "%", 96.0), ("glucose", "mg/dL", 110.0),
           ("respiratory_rate", "/min", 16.0), ("body_temperature", "degC", 36.8)]
_PER_MESSAGE = 100


class _NoDelayMosquitto(Mosquitto):
    """Mosquitto with Nagle off, as request/response needs (the README says why)."""

    def prepare(self) -> None:
        """The usual configuration plus ``set_tcp_nodelay true``."""
        super().prepare()
        conf = self.home / "mosquitto.conf"
        conf.write_text(conf.read_text() + "set_tcp_nodelay true\n")


def _no_delay(client: Client) -> None:
    """Nagle off on the client side too (paho does not do it)."""

    def on_open(_c: object, _u: object, sock: Any) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    client._c.on_socket_open = on_open


def _load(url: str, patients: int, metrics: int, points: int) -> int:
    """Publish ``points`` readings per patient and metric over the last 6 days; return total."""
    c = Client(MqttUrl.parse(url), f"bench-load-{uuid.uuid4().hex[:6]}", clean_start=True)
    c.connect()
    now = int(time.time() * 1000)
    step = 6 * 86_400_000 // points
    total, pubs = 0, []
    for i in range(patients):
        pid = f"bp-{i:05d}"
        readings = [readings_pb2.Reading(time_ms=now - k * step, metric=m, value=base + k % 7,
                                         unit=unit, quality=100, device_id=f"bd-{i:05d}")
                    for m, unit, base in METRICS[:metrics] for k in range(points)]
        for j in range(0, len(readings), _PER_MESSAGE):
            batch = readings_pb2.ReadingBatch(patient_id=pid, readings=readings[j:j + _PER_MESSAGE],
                                              committed_at_ms=now, source="bench")
            pubs.append(c.publish(topics.readings(pid, 16), batch.SerializeToString()))
        if i % 10 == 0:
            pubs.append(c.publish(topics.alerts(pid), alerts_pb2.AlertEvent(
                alert_id=f"ba-{i}", patient_id=pid, rule="bench",
                state=alerts_pb2.ALERT_STATE_FIRING, severity=alerts_pb2.SEVERITY_HIGH,
                metric="spo2", value=88, started_at_ms=now, event_time_ms=now,
            ).SerializeToString()))
        total += len(readings)
    for p in pubs:
        p.wait(60)
    c.close()
    return total


def _requester(url: str, patients: int, rate: int, seconds: float, qos: int, nodelay: bool,
               out: Connection) -> None:
    """Separate process: paced requests, latency of each answer (one clock: this process)."""
    rng = random.Random(7)  # noqa: S311 - a reproducible request mix, not a secret
    sent: dict[bytes, tuple[str, float]] = {}
    got: dict[bytes, float] = {}
    bad: list[bytes] = []
    lock = threading.Lock()
    topic = f"bench/cache/{uuid.uuid4().hex[:8]}"

    def on(m: Message) -> None:
        t = time.perf_counter()
        with lock:
            got[m.correlation_data or b""] = t
            if not m.payload.startswith(b'{"ok":true'):
                bad.append(m.payload[:200])

    c = Client(MqttUrl.parse(url), f"bench-req-{uuid.uuid4().hex[:6]}", clean_start=True,
               on_message=on)
    if nodelay:
        _no_delay(c)
    c.subscribe(topic)
    c.connect()
    time.sleep(0.3)
    # The first second of requests warms both ends (imports, Lua script cache, connection
    # buffers) and is not counted, as is usual for latency benchmarks.
    warm = rate
    n = int(rate * seconds)
    start = time.perf_counter()
    for i in range(warm + n):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        pid, roll = f"bp-{rng.randrange(patients):05d}", rng.random()
        if roll < 0.7:
            req: dict[str, Any] = {"op": "latest", "patient_id": pid}
        elif roll < 0.9:
            req = {"op": "range", "patient_id": pid, "metric": "heart_rate",
                   "from": int(time.time() * 1000) - 6 * 3_600_000}
        else:
            req = {"op": "alerts", "patient_id": pid}
        corr = i.to_bytes(4, "big")
        if i >= warm:
            sent[corr] = (req["op"], time.perf_counter())
        c.publish(topics.CACHE_REQUESTS, json.dumps(req).encode(), qos=qos,
                  correlation_data=corr, response_topic=topic)
    elapsed = time.perf_counter() - start - warm / rate
    deadline = time.monotonic() + 10
    while len(got) < warm + n and time.monotonic() < deadline:
        time.sleep(0.05)
    c.close()
    lat: dict[str, list[float]] = {}
    per_s: dict[int, list[float]] = {}
    with lock:
        for corr, (op, t0) in sent.items():
            if corr in got:
                lat.setdefault(op, []).append((got[corr] - t0) * 1000)
                per_s.setdefault(int(t0 - start), []).append((got[corr] - t0) * 1000)
    answered = sum(1 for corr in sent if corr in got)
    out.send({"sent": n, "answered": answered, "errors": len(bad), "first_error":
              bad[0].decode(errors="replace") if bad else "", "rate": n / elapsed, "lat": lat,
              "p99_by_second": [round(pct(v, 0.99), 2) for _, v in sorted(per_s.items())]})


def _info(port: int, section: str, field: str) -> int:
    """One integer of Redis INFO, over a plain socket (the CLI does not depend on redis-py)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(f"INFO {section}\r\n".encode())
        data = b""
        while f"{field}:".encode() not in data or not data.endswith(b"\r\n"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    for line in data.decode().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split(":", 1)[1])
    raise RuntimeError(f"redis INFO has no {field}")


def _used_memory(port: int) -> int:
    """Redis ``used_memory``."""
    return _info(port, "memory", "used_memory")


def _applied(port: int) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("vigil_cache_readings_applied_total"):
                return float(line.split()[1])
    return 0.0


def _measure(url: str, redis_port: int, cache: ServiceProcess, patients: int, metrics: int,
             points: int, rate: int, seconds: float, qos: int,
             nodelay: bool) -> dict[str, Any]:
    before = _used_memory(redis_port)
    started = time.perf_counter()
    total = _load(url, patients, metrics, points)
    deadline = time.monotonic() + 600
    while _applied(cache.port) < total and time.monotonic() < deadline:
        time.sleep(0.2)
    load_s = time.perf_counter() - started
    used = _used_memory(redis_port)
    # Measure the steady state: not the AOF rewrite the load triggered, nor the state burst.
    while _info(redis_port, "persistence", "aof_rewrite_in_progress") or \
            _info(redis_port, "persistence", "aof_rewrite_scheduled"):
        time.sleep(0.2)
    time.sleep(2)
    ctx = mp.get_context("spawn")  # forking a process with MQTT threads can deadlock
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_requester, args=(url, patients, rate, seconds, qos, nodelay,
                                                         send))
    proc.start()
    res: dict[str, Any] = recv.recv()
    proc.join()
    everything = [x for v in res["lat"].values() for x in v]
    return {**{k: v for k, v in res.items() if k != "lat"},
            "patients": patients, "metrics": metrics, "points_per_series": points,
            "readings_loaded": total, "load_readings_s": total / load_s,
            "redis_used_memory_mb": used / 2**20,
            "bytes_per_patient": (used - before) / patients,
            "p50_ms": pct(everything, 0.5), "p99_ms": pct(everything, 0.99),
            "max_ms": max(everything, default=float("nan")),
            "by_op": {op: {"n": len(v), "p50_ms": pct(v, 0.5), "p99_ms": pct(v, 0.99)}
                      for op, v in sorted(res["lat"].items())},
            "cache_peak_rss_mb": peak_rss_mb(cache.pid() or 0)}


async def _migrate(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()


def bench_cache(
    patients: Annotated[int, typer.Option(help="Patients cached")] = 1000,
    metrics: Annotated[int, typer.Option(help="Metrics per patient (1-5)")] = 3,
    points: Annotated[int, typer.Option(help="Readings per patient and metric")] = 200,
    rate: Annotated[int, typer.Option(help="Requests per second")] = 1000,
    seconds: Annotated[float, typer.Option(help="Length of the request run")] = 10.0,
    appendfsync: Annotated[str, typer.Option(help="Redis appendfsync policy")] = "everysec",
    qos: Annotated[int, typer.Option(help="QoS of the requests (answers use the same)")] = 1,
    nodelay: Annotated[bool, typer.Option(
        help="TCP_NODELAY on the broker and the requesting client")] = True,
    output: Annotated[Path | None, typer.Option(help="Also write the figures as JSON")] = None,
) -> None:
    """p50/p99 request -> response latency over MQTT, and the Redis memory used."""
    for name, value in (("--patients", patients), ("--points", points), ("--rate", rate)):
        if value < 1:
            raise typer.BadParameter("must be >= 1", param_hint=name)
    if not 1 <= metrics <= len(METRICS):
        raise typer.BadParameter(f"must be 1-{len(METRICS)}", param_hint="--metrics")
    if qos not in (0, 1):
        raise typer.BadParameter("0 or 1", param_hint="--qos")
    if appendfsync not in ("always", "everysec", "no"):
        raise typer.BadParameter("always, everysec or no", param_hint="--appendfsync")
    home = Path(tempfile.mkdtemp(prefix="vigil-bench-"))
    home.chmod(0o755)
    broker = (_NoDelayMosquitto if nodelay else Mosquitto)(home / "mosquitto", free_port())
    pg = Postgres(home / "postgres", free_port(), durable=False)
    rds = Redis(home / "redis", free_port(), appendfsync=appendfsync)
    try:
        for server in (broker, pg, rds):
            server.start()
        asyncio.run(_migrate(pg.url))
        url = f"mqtt://127.0.0.1:{broker.port}"
        port = free_port()
        cache = ServiceProcess("cache", home / "cache", "vigil.cache", {
            "VIGIL_MQTT_URL": url, "VIGIL_DATABASE_URL": pg.url, "VIGIL_LOG_LEVEL": "WARNING",
            "VIGIL_REDIS_URL": f"redis://127.0.0.1:{rds.port}/0",
            "VIGIL_CACHE_CLIENT_ID": "bench-cache-0", "VIGIL_CACHE_HTTP_PORT": str(port),
        }, port)
        cache.start()
        console.log(f"loading {patients} patients x {metrics} metrics x {points} readings, "
                    f"then {rate} requests/s for {seconds:g}s")
        result = _measure(url, rds.port, cache, patients, metrics, points, rate, seconds, qos,
                          nodelay)
        cache.stop()
    finally:
        for server in (rds, pg, broker):
            server.stop()
        shutil.rmtree(home, ignore_errors=True)
    result.update(appendfsync=appendfsync, qos=qos, nodelay=nodelay)
    _print(result)
    if output:
        output.write_text(json.dumps({"machine": machine(), "result": result}, indent=2))


def _print(r: dict[str, Any]) -> None:
    table = Table("requests", "achieved req/s", "answered", "errors", "p50 ms", "p99 ms",
                  "max ms", "Redis used MB", "bytes/patient", "load readings/s",
                  "cache peak RSS MB", title=f"vigil bench cache — {machine()} — QoS {r['qos']}, "
                  f"nodelay {'on' if r['nodelay'] else 'off'}, appendfsync {r['appendfsync']}")
    table.add_row(f"{r['sent']:,}", f"{r['rate']:,.0f}", f"{r['answered']:,}", str(r["errors"]),
                  f"{r['p50_ms']:.2f}", f"{r['p99_ms']:.2f}", f"{r['max_ms']:.1f}",
                  f"{r['redis_used_memory_mb']:.1f}", f"{r['bytes_per_patient']:,.0f}",
                  f"{r['load_readings_s']:,.0f}", f"{r['cache_peak_rss_mb']:.0f}")
    console.print(table)
    for op, v in r["by_op"].items():
        console.print(f"  {op:7} n={v['n']:,}  p50 {v['p50_ms']:.2f} ms  p99 {v['p99_ms']:.2f} ms")
    console.print(f"  p99 of each second (ms): {r['p99_by_second']}")
    if r["first_error"]:
        console.print(f"[red]first error answer: {r['first_error']}")
