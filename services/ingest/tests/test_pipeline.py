"""The planner turns messages into one batch: rows, dead letters, replays and sequence gaps."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from vigil.core import topics
from vigil.core.message import Message
from vigil.ingest.pipeline import Planner
from vigil.ingest.registry import Registry
from vigil.v1 import telemetry_pb2

BASE = 1_700_000_000_000
NOW = datetime(2023, 11, 14, 23, 0, tzinfo=UTC)


def _registry() -> Registry:
    reg = Registry(ttl_s=60)
    reg.replace({"ox-1": "p-1", "gm-1": "p-2", "orphan": None})
    return reg


def _tele(seq: int, values: list[float], boot: int = 1, device: str = "ox-1") -> bytes:
    return telemetry_pb2.DeviceTelemetry(
        device_id=device, boot_id=boot, seq=seq, base_time_ms=BASE + seq * 10_000,
        samples=[telemetry_pb2.Sample(metric=telemetry_pb2.METRIC_HEART_RATE, offset_ms=i * 1000,
                                      value=v, quality=90) for i, v in enumerate(values)],
    ).SerializeToString()


def _msg(topic: str, payload: bytes, mid: int = 1, dup: bool = False) -> Message:
    return Message(topic, payload, 1, mid, dup=dup)


def test_rows_dead_letters_and_item_rejects():
    planner = Planner(_registry(), max_payload=4096, now=lambda: NOW)
    glucose = json.dumps({"time": "2023-11-14T22:00:00+00:00", "value": 5.5,
                          "unit": "mmol/L"}).encode()
    plan = planner.plan([
        _msg(topics.device("ox-1", "telemetry"), _tele(0, [60, 61, 999])),
        _msg(topics.device("gm-1", "glucose"), glucose),
        _msg(topics.device("nobody", "glucose"), glucose),
        _msg(topics.device("orphan", "glucose"), glucose),
        _msg(topics.device("gm-1", "glucose"), b"x" * 5000),
        _msg("vigil/v1/devices/a/b/c", b"{}"),
    ])
    rows = sorted((r[2], r[3], r[4], r[1]) for r in plan.batch.rows.values())
    assert rows == [("gm-1", "glucose", 99.085734, "p-2"), ("ox-1", "heart_rate", 60.0, "p-1"),
                    ("ox-1", "heart_rate", 61.0, "p-1")]
    reasons = [d[2] for d in plan.batch.dead]
    assert len(reasons) == 5
    assert "samples[2] heart_rate: 999 bpm outside 20..300" in reasons[0]
    assert reasons[1:] == ["device 'nobody' is not registered", "device 'orphan' has no patient",
                           "payload of 5000 bytes exceeds 4096",
                           "not a v1 device topic: 'vigil/v1/devices/a/b/c'"]
    assert dict(plan.rejected) == {"item": 1, "unknown_device": 1, "no_patient": 1,
                                   "oversized": 1, "bad_topic": 1}
    assert [(t, r) for t, _, r in plan.dlq] == [(d[0], d[2]) for d in plan.batch.dead]


def test_same_key_twice_keeps_the_last_and_replays_are_marked():
    planner = Planner(_registry(), max_payload=4096, now=lambda: NOW)
    plan = planner.plan([_msg(topics.device("ox-1", "telemetry"), _tele(0, [60, 61])),
                         _msg(topics.device("ox-1", "telemetry"), _tele(0, [70, 71]), 2, True)])
    assert sorted(r[4] for r in plan.batch.rows.values()) == [70.0, 71.0]
    assert len(plan.replayed) == 2


def test_sequence_gaps_are_counted_per_boot():
    planner = Planner(_registry(), max_payload=4096, now=lambda: NOW)
    topic = topics.device("ox-1", "telemetry")
    assert planner.plan([_msg(topic, _tele(0, [60])), _msg(topic, _tele(1, [60]))]).gaps == 0
    assert planner.plan([_msg(topic, _tele(5, [60]))]).gaps == 3
    # A reboot starts a new sequence: no gap; a replay of an old batch is not a gap either.
    assert planner.plan([_msg(topic, _tele(0, [60], boot=2))]).gaps == 0
    plan = planner.plan([_msg(topic, _tele(0, [60], boot=2))])
    assert plan.gaps == 0
    assert plan.batch.seen["ox-1"][1:] == (2, 0)
