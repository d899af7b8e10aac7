"""Bounded runs against a real Mosquitto: exact message counts, topics and payloads."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from vigil.cli.sim import app
from vigil.core.config import CommonSettings
from vigil.sim.devices import SimDevice, SimOptions
from vigil.sim.run import SimError, run_all
from vigil.v1 import status_pb2, telemetry_pb2

pytestmark = pytest.mark.integration
DEVICES = [SimDevice("g-1", "glucose_meter", "athlete"), SimDevice("p-1", "phone"),
           SimDevice("o-1", "oximeter")]


def vigil_sim(*args: str) -> subprocess.CompletedProcess[str]:
    """Run `vigil sim ARGS` in its own process, as a user would."""
    code = "from vigil.cli.sim import app; app(prog_name='vigil sim')"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=120, check=False)


def plain(text: str) -> str:
    """Rich's boxed error text as one line of words."""
    return " ".join(text.replace("│", " ").split())


def by_topic(recorder: Any, n: int) -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = {}
    for m in recorder.wait_for(n):
        out.setdefault(m.topic, []).append(m.payload)
    return out


def test_run_all_publishes_exact_counts(broker: str, recorder: Any) -> None:
    settings = CommonSettings(mqtt_url=broker)
    counts = run_all(settings, DEVICES, speed=36_000, backfill=timedelta(hours=1),
                     options=SimOptions(seed=3, count=5))
    assert counts == {"g-1": 5, "p-1": 5, "o-1": 5}
    got = by_topic(recorder, 17)
    prefix = "vigil/v1/devices"
    assert {t: len(p) for t, p in got.items()} == {
        f"{prefix}/g-1/glucose": 5, f"{prefix}/p-1/hae": 5, f"{prefix}/o-1/telemetry": 5,
        f"{prefix}/o-1/status": 2,
    }
    readings = [json.loads(p) for p in got[f"{prefix}/g-1/glucose"]]
    assert [r["seq"] for r in readings] == list(range(readings[0]["seq"], readings[0]["seq"] + 5))
    batches = [telemetry_pb2.DeviceTelemetry.FromString(p) for p in got[f"{prefix}/o-1/telemetry"]]
    assert [b.seq for b in batches] == [0, 1, 2, 3, 4]
    statuses = [status_pb2.DeviceStatus.FromString(p) for p in got[f"{prefix}/o-1/status"]]
    assert [s.online for s in statuses] == [True, False]
    assert all(json.loads(p)["data"]["metrics"] for p in got[f"{prefix}/p-1/hae"])


def test_status_is_retained_and_the_last_will_says_offline(
    broker: str, subscribe: Callable[[str], Any]
) -> None:
    stop = threading.Event()
    settings = CommonSettings(mqtt_url=broker)
    options = SimOptions(count=1000)
    runner = threading.Thread(target=run_all, args=(settings, [DEVICES[2]], 1.0,
                                                     timedelta(0), stop),
                              kwargs={"options": options})
    runner.start()
    time.sleep(1.0)
    retained = subscribe("vigil/v1/devices/o-1/status").wait_for(1)
    stop.set()
    runner.join(10)
    assert retained
    assert retained[0].retain
    assert status_pb2.DeviceStatus.FromString(retained[0].payload).online
    final = subscribe("vigil/v1/devices/o-1/status").wait_for(1)
    assert not status_pb2.DeviceStatus.FromString(final[-1].payload).online


def test_duration_bounds_simulated_time(broker: str, recorder: Any) -> None:
    start = datetime(2026, 11, 23, 10, 2, tzinfo=UTC)
    counts = run_all(CommonSettings(mqtt_url=broker), [DEVICES[0]], speed=100_000,
                     backfill=timedelta(0), start=start,
                     options=SimOptions(duration=timedelta(hours=1)))
    assert counts == {"g-1": 12}  # 10:05 ... 11:00, every 5 minutes
    assert len(recorder.wait_for(12)) == 12


def test_unreachable_broker_is_an_error_naming_the_device() -> None:
    settings = CommonSettings(mqtt_url="mqtt://127.0.0.1:1")
    with pytest.raises(SimError, match="g-1"):
        run_all(settings, [DEVICES[0]], options=SimOptions(count=1, connect_timeout_s=1.0))


def test_cli_glucose_bounded_run(broker: str, recorder: Any) -> None:
    result = vigil_sim(
        "glucose", "--device-id", "cli-g", "--profile", "low-glucose", "--url", broker,
        "--count", "3", "--backfill", "1h", "--seed", "4", "--unit", "mmol/L", "--tz", "UTC",
    )
    assert result.returncode == 0, result.stderr
    assert "cli-g" in result.stdout
    got = by_topic(recorder, 3)
    assert list(got) == ["vigil/v1/devices/cli-g/glucose"]
    assert [json.loads(p)["unit"] for p in got["vigil/v1/devices/cli-g/glucose"]] == ["mmol/L"] * 3


def test_cli_all_with_devices_file_and_phone_presets(broker: str, recorder: Any,
                                                     tmp_path: Path) -> None:
    devices = tmp_path / "devices.json"
    devices.write_text(json.dumps([
        {"device_id": "phone-05", "kind": "phone", "patient_id": "demo-05", "profile": "us"},
        {"device_id": "ox-01", "kind": "oximeter", "patient_id": "demo-01", "profile": "normal"},
    ]))
    result = vigil_sim("all", "--devices", str(devices), "--url", broker, "--count", "2",
                       "--speed", "100000")
    assert result.returncode == 0, result.stderr
    got = by_topic(recorder, 6)
    hae = json.loads(got["vigil/v1/devices/phone-05/hae"][0])
    units = {m["name"]: m["units"] for m in hae["data"]["metrics"]}
    assert units["walking_running_distance"] == "mi"
    assert "M +" in hae["data"]["metrics"][0]["data"][0]["date"]  # 12-hour clock
    assert len(got["vigil/v1/devices/ox-01/telemetry"]) == 2


@pytest.mark.parametrize(("args", "message"), [
    (["glucose", "--device-id", "d", "--profile", "keto"], "valid profiles: diabetic"),
    (["glucose", "--device-id", "d", "--url", "http://x"], "--url"),
    (["glucose", "--device-id", "bad/id"], "--device-id"),
    (["hae", "--device-id", "d", "--units", "imperial"], "metric, us"),
    (["oximeter", "--device-id", "d", "--backfill", "soon"], "--backfill"),
    (["all", "--device", "toaster:t-1"], "unknown device kind"),
])
def test_cli_rejects_bad_arguments_clearly(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert message in plain(result.output)


def test_cli_reports_a_bad_environment_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIGIL_MQTT_URL", "localhost:1883")
    result = CliRunner().invoke(app, ["glucose", "--device-id", "d", "--count", "1"])
    assert result.exit_code == 2
    assert "VIGIL_MQTT_URL" in result.output
