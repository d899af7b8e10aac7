"""Support for the rules tests (no tests here): a rules process on a test's stack, glucose
payloads and an AlertEvent collector.

Named test_rules_*.py only because the rules' tests own that pattern; pytest finds nothing to
run in it.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from vigil.cli.processes import ServiceProcess
from vigil.cli.servers import free_port
from vigil.core import topics
from vigil.core.config import MqttUrl
from vigil.core.message import Message
from vigil.core.mqtt import Client
from vigil.v1 import alerts_pb2

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)  # readings in the past: no clock-skew guard


def glucose(t: datetime, value: float) -> bytes:
    """A glucose-meter JSON payload."""
    return json.dumps({"time": t.isoformat(), "value": value, "unit": "mg/dL"}).encode()


def glucose_series(device: str, values: list[float], start: datetime = T0,
                   step_min: float = 5) -> list[tuple[str, bytes]]:
    """(topic, payload) of readings ``step_min`` minutes apart."""
    return [(topics.device(device, "glucose"), glucose(start + timedelta(minutes=i * step_min), v))
            for i, v in enumerate(values)]


def rules_process(stack, name: str = "0", rules_file: Path | None = None,
                  extra: dict[str, str] | None = None) -> ServiceProcess:
    """A rules replica (not started) on ``stack``; the stack stops it at teardown."""
    port = free_port()
    env = {**stack.env, "VIGIL_RULES_CLIENT_ID": f"rules-{uuid.uuid4().hex[:8]}-{name}",
           "VIGIL_RULES_HTTP_PORT": str(port), "VIGIL_RULES_TICK_S": "0.5",
           "VIGIL_RULES_RELOAD_S": "0.5", "VIGIL_INGEST_CLIENT_ID": f"rules-sess-{name}",
           **(extra or {})}
    if rules_file is not None:
        env["VIGIL_RULES_FILE"] = str(rules_file)
    proc = ServiceProcess(f"rules-{name}", stack.ingest.home, "vigil.rules", env, port)
    # The stack forgets sessions by VIGIL_INGEST_CLIENT_ID at teardown: use the rules id.
    proc.env["VIGIL_INGEST_CLIENT_ID"] = env["VIGIL_RULES_CLIENT_ID"]
    stack.extra.append(proc)
    return proc


class AlertCollector:
    """Collects AlertEvents from ``vigil/v1/alerts/+``."""

    def __init__(self, url: str) -> None:
        self.events: list[alerts_pb2.AlertEvent] = []
        self._lock = threading.Lock()
        self._c = Client(MqttUrl.parse(url), f"test-alerts-{uuid.uuid4().hex[:8]}",
                         clean_start=True, on_message=self._on)
        self._c.subscribe("vigil/v1/alerts/+", qos=1)
        self._c.connect()
        time.sleep(0.2)

    def _on(self, m: Message) -> None:
        with self._lock:
            self.events.append(alerts_pb2.AlertEvent.FromString(m.payload))

    def snapshot(self) -> list[alerts_pb2.AlertEvent]:
        """Events so far."""
        with self._lock:
            return list(self.events)

    def wait(self, n: int, timeout: float = 30.0) -> list[alerts_pb2.AlertEvent]:
        """Wait until at least ``n`` events arrived."""
        deadline = time.monotonic() + timeout
        while len(self.snapshot()) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.snapshot()

    def close(self) -> None:
        """Disconnect."""
        self._c.close()


@contextmanager
def collecting(url: str) -> Iterator[AlertCollector]:
    """An AlertCollector for the duration of a block."""
    c = AlertCollector(url)
    try:
        yield c
    finally:
        c.close()


def sim_glucose(devices: dict[str, str], start: datetime, hours: float,
                seed: int = 3) -> list[tuple[str, bytes]]:
    """Simulated CGM messages (device -> profile), interleaved in time order."""
    from vigil.sim.devices import SimDevice, SimOptions, glucose_events

    end = start + timedelta(hours=hours)
    out: list[tuple[datetime, str, bytes]] = []
    for device_id, profile in devices.items():
        for ev in glucose_events(SimDevice(device_id, "glucose_meter", profile),
                                 SimOptions(seed=seed), start, end):
            if ev.time >= end:
                break
            out.append((ev.time, ev.topic, ev.payload))
    out.sort(key=lambda x: x[0])
    return [(t, p) for _, t, p in out]


def rules_without_stale(path: Path) -> Path:
    """The default rules minus the stale-data and offline ones (those follow the wall clock)."""
    import yaml

    from vigil.rules.load import load_file

    data = yaml.safe_load(load_file.__globals__["resources"].files("vigil.rules")
                          .joinpath("default_rules.yaml").read_text())
    data["rules"] = [r for r in data["rules"] if r.get("kind") not in ("stale", "offline")]
    path.write_text(yaml.safe_dump(data))
    return path


def expected_alerts(rules_file: Path, messages: list[tuple[str, bytes]],
                    patient_of: dict[str, str]) -> dict[str, tuple[object, ...]]:
    """What the engine decides offline for the same glucose messages, in publish order:
    alert_id -> (rule, patient, severity, state, started_at, resolved_at)."""
    from vigil.rules.events import to_dt
    from vigil.rules.load import load_file
    from vigil.rules.ruleset import RuleSet
    from vigil.rules.state import Engine, Reading

    engine = Engine(RuleSet(load_file(rules_file)))
    now_ms = int(time.time() * 1000)
    out: dict[str, tuple[object, ...]] = {}
    for topic, payload in messages:
        device = topic.split("/")[3]
        body = json.loads(payload)
        t_ms = int(datetime.fromisoformat(body["time"]).timestamp() * 1000)
        for t in engine.process(patient_of[device],
                                [Reading(t_ms, "glucose", float(body["value"]), device)], now_ms):
            started = to_dt(t.started_ms)
            state, resolved = ("resolved", to_dt(t.at_ms)) if t.kind == "resolved" else (
                "firing", None)
            out[t.alert_id] = (t.rule, t.patient_id, t.severity, state, started, resolved)
    return out


def stored_alerts(fetch) -> dict[str, tuple[object, ...]]:  # type: ignore[no-untyped-def]
    """The alerts table in the same shape as :func:`expected_alerts`."""
    return {r[0]: tuple(r[1:]) for r in fetch(
        "SELECT alert_id, rule, patient_id, severity, state, started_at, resolved_at"
        " FROM alerts")}


def wait_equal(get, expected, timeout: float = 60.0):  # type: ignore[no-untyped-def]
    """Poll ``get()`` until it equals ``expected``; return the last value."""
    deadline = time.monotonic() + timeout
    while True:
        got = get()
        if got == expected or time.monotonic() > deadline:
            return got
        time.sleep(0.2)
