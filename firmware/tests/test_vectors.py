"""Shared protobuf test vectors: the device's nanopb encoder and the platform's Python protobuf
modules must agree on every field, in both directions, and on the bytes themselves.

The C side is ``vector-tool`` (firmware/host/vector_tool.c). It is taken from
$VIGIL_FIRMWARE_BUILD (default firmware/build), built there by firmware/scripts/build.sh when
missing.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from vigil.v1 import status_pb2, telemetry_pb2

FIRMWARE = Path(__file__).resolve().parents[1]
BUILD = Path(os.environ.get("VIGIL_FIRMWARE_BUILD", FIRMWARE / "build"))

LONGEST_ID = "ESP32_ab.cd:ef-" + "x" * 49  # 64 characters, the maximum
assert len(LONGEST_ID) == 64

TELEMETRY = [
    {"device_id": "oxi-01", "boot_id": 0xDEADBEEF, "seq": 0, "base_time_ms": 1763860000000,
     "dropped_batches": 0,
     "samples": [(1, 0, 72.5, 98), (2, 0, 97.0, 98), (3, 0, 98.0, 98), (4, 900, 88.0, 100)]},
    {"device_id": LONGEST_ID, "boot_id": 4294967295, "seq": 4294967295,
     "base_time_ms": 9007199254740993, "dropped_batches": 123456,
     "samples": [((i % 11) + 1, -30000 + i * 997, (i - 20) * 0.1 + 1e-9 * i, i % 101)
                 for i in range(64)]},
    {"device_id": "a", "boot_id": 1, "seq": 1, "base_time_ms": 1500000000000,
     "dropped_batches": 0, "samples": []},
    {"device_id": "dev.7", "boot_id": 77, "seq": 12, "base_time_ms": -5,
     "dropped_batches": 1,
     "samples": [(3, -9223372036854775807, 1e-300, 0), (1, 9223372036854775807,
                                                        1.7976931348623157e308, 100),
                 (2, 1, 0.0, 50)]},
]

STATUS = [
    {"device_id": "oxi-01", "online": True, "firmware": "vigil-oximeter/0.1.0",
     "battery_pct": 87.5, "rssi_dbm": -61, "time_ms": 1763860000000, "boot_id": 0xDEADBEEF,
     "uptime_s": 3600},
    {"device_id": LONGEST_ID, "online": False, "firmware": "x" * 31, "battery_pct": -1.0,
     "rssi_dbm": 0, "time_ms": 0, "boot_id": 4294967295, "uptime_s": 4294967295},
    {"device_id": "b", "online": True, "firmware": "v2", "battery_pct": 0.25,
     "rssi_dbm": -2147483648, "time_ms": -1, "boot_id": 0, "uptime_s": 0},
]


@pytest.fixture(scope="module")
def vector_tool() -> Path:
    tool = BUILD / "host" / "vector-tool"
    if not tool.exists():
        # Same script (and so the same CMake generator) as firmware/scripts/test.sh.
        subprocess.run([str(FIRMWARE / "scripts" / "build.sh"), str(BUILD)], check=True,
                       capture_output=True)
    assert tool.exists()
    return tool


def run(tool: Path, *args: str, stdin: str) -> list[str]:
    out = subprocess.run([str(tool), *args], input=stdin, capture_output=True, text=True,
                         check=True)
    return out.stdout.splitlines()


def telemetry_text(v: dict) -> str:
    lines = [f"telemetry {v['device_id']} {v['boot_id']} {v['seq']} {v['base_time_ms']} "
             f"{v['dropped_batches']}"]
    lines += [f"sample {m} {o} {val!r} {q}" for m, o, val, q in v["samples"]]
    return "\n".join([*lines, "end"]) + "\n"


def status_text(v: dict) -> str:
    return (f"status {v['device_id']} {int(v['online'])} {v['firmware']} {v['battery_pct']!r} "
            f"{v['rssi_dbm']} {v['time_ms']} {v['boot_id']} {v['uptime_s']}\n")


def telemetry_msg(v: dict) -> telemetry_pb2.DeviceTelemetry:
    msg = telemetry_pb2.DeviceTelemetry(
        device_id=v["device_id"], boot_id=v["boot_id"], seq=v["seq"],
        base_time_ms=v["base_time_ms"], dropped_batches=v["dropped_batches"])
    for m, o, val, q in v["samples"]:
        msg.samples.add(metric=m, offset_ms=o, value=val, quality=q)
    return msg


def status_msg(v: dict) -> status_pb2.DeviceStatus:
    return status_pb2.DeviceStatus(**v)


def assert_telemetry(msg: telemetry_pb2.DeviceTelemetry, v: dict) -> None:
    assert msg.device_id == v["device_id"]
    assert msg.boot_id == v["boot_id"]
    assert msg.seq == v["seq"]
    assert msg.base_time_ms == v["base_time_ms"]
    assert msg.dropped_batches == v["dropped_batches"]
    assert len(msg.samples) == len(v["samples"])
    for s, (m, o, val, q) in zip(msg.samples, v["samples"], strict=True):
        assert (s.metric, s.offset_ms, s.value, s.quality) == (m, o, val, q)


def assert_status(msg: status_pb2.DeviceStatus, v: dict) -> None:
    for key, want in v.items():
        assert getattr(msg, key) == want, key


@pytest.mark.parametrize("v", TELEMETRY, ids=lambda v: v["device_id"][:8])
def test_telemetry_c_to_python(vector_tool: Path, v: dict) -> None:
    (hexline,) = run(vector_tool, "encode", stdin=telemetry_text(v))
    payload = bytes.fromhex(hexline)
    msg = telemetry_pb2.DeviceTelemetry.FromString(payload)
    assert_telemetry(msg, v)
    assert payload == telemetry_msg(v).SerializeToString(deterministic=True)


@pytest.mark.parametrize("v", TELEMETRY, ids=lambda v: v["device_id"][:8])
def test_telemetry_python_to_c(vector_tool: Path, v: dict) -> None:
    payload = telemetry_msg(v).SerializeToString()
    lines = run(vector_tool, "decode", "telemetry", stdin=payload.hex() + "\n")
    head = lines[0].split()
    assert head[0] == "telemetry"
    got = {"device_id": head[1], "boot_id": int(head[2]), "seq": int(head[3]),
           "base_time_ms": int(head[4]), "dropped_batches": int(head[5]),
           "samples": [(int(p[1]), int(p[2]), float(p[3]), int(p[4]))
                       for p in (line.split() for line in lines[1:-1])]}
    assert lines[-1] == "end"
    assert got == v


@pytest.mark.parametrize("v", STATUS, ids=lambda v: v["device_id"][:8])
def test_status_both_directions(vector_tool: Path, v: dict) -> None:
    (hexline,) = run(vector_tool, "encode", stdin=status_text(v))
    payload = bytes.fromhex(hexline)
    assert_status(status_pb2.DeviceStatus.FromString(payload), v)
    assert payload == status_msg(v).SerializeToString(deterministic=True)

    (line,) = run(vector_tool, "decode", "status", stdin=status_msg(v).SerializeToString().hex())
    p = line.split()
    got = {"device_id": p[1], "online": p[2] == "1", "firmware": p[3],
           "battery_pct": float(p[4]), "rssi_dbm": int(p[5]), "time_ms": int(p[6]),
           "boot_id": int(p[7]), "uptime_s": int(p[8])}
    assert got == v


def test_device_payload_matches_ingest_expectations(vector_tool: Path) -> None:
    """What the virtual device sends decodes to in-range platform values (catalogue ranges)."""
    (hexline,) = run(vector_tool, "encode", stdin=telemetry_text(TELEMETRY[0]))
    msg = telemetry_pb2.DeviceTelemetry.FromString(bytes.fromhex(hexline))
    names = {s.metric: telemetry_pb2.Metric.Name(s.metric) for s in msg.samples}
    assert set(names.values()) == {"METRIC_HEART_RATE", "METRIC_SPO2", "METRIC_SIGNAL_QUALITY",
                                   "METRIC_BATTERY"}
