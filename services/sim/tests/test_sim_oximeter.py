"""Pulse-oximeter batches: protobuf that decodes, consecutive seq, plausible samples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np

from vigil.core.catalogue import METRICS
from vigil.sim.devices import SimDevice, SimOptions, oximeter_events
from vigil.sim.oximeter import Oximeter
from vigil.v1 import status_pb2, telemetry_pb2

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
NAMES = {telemetry_pb2.METRIC_HEART_RATE: "heart_rate", telemetry_pb2.METRIC_SPO2: "spo2",
         telemetry_pb2.METRIC_SIGNAL_QUALITY: "signal_quality",
         telemetry_pb2.METRIC_BATTERY: "battery"}


def decode(payload: bytes) -> telemetry_pb2.DeviceTelemetry:
    msg = telemetry_pb2.DeviceTelemetry()
    msg.ParseFromString(payload)
    return msg


def test_batches_decode_with_consecutive_seq_and_one_sample_per_second() -> None:
    device = SimDevice("ox-1", "oximeter")
    stream = oximeter_events(device, SimOptions(seed=1), NOW - timedelta(minutes=10), NOW)
    batches = [decode(next(stream).payload) for _ in range(60)]
    assert [b.seq for b in batches] == list(range(60))
    assert len({b.boot_id for b in batches}) == 1
    assert all(b.device_id == "ox-1" and b.dropped_batches == 0 for b in batches)
    assert np.all(np.diff([b.base_time_ms for b in batches]) == 10_000)
    for b in batches:
        kinds = [s.metric for s in b.samples]
        assert kinds.count(telemetry_pb2.METRIC_HEART_RATE) == 10
        assert kinds.count(telemetry_pb2.METRIC_SPO2) == 10
        assert kinds.count(telemetry_pb2.METRIC_SIGNAL_QUALITY) == 10
        assert kinds.count(telemetry_pb2.METRIC_BATTERY) == 1
        for s in b.samples:
            METRICS[NAMES[s.metric]].check(s.value)
            assert 0 <= s.offset_ms < 10_000
            assert 0 <= s.quality <= 100


def test_vitals_are_physiological() -> None:
    ox = Oximeter("ox-1", 5)
    t = NOW.timestamp() + np.arange(0, 86400, 7.0)
    hr, spo2, quality = ox.vitals(t)
    assert 55 <= hr.mean() <= 85
    assert 95 <= np.median(spo2) <= 99
    assert spo2.min() >= 85
    assert np.median(quality) > 85
    assert quality.min() < 60  # motion artefacts happen


def test_copd_profile_sits_lower() -> None:
    t = NOW.timestamp() + np.arange(0, 3600, 1.0)
    assert np.median(Oximeter("ox", 1, profile="copd").vitals(t)[1]) <= 93


def test_backfill_beyond_the_buffer_is_counted_as_dropped() -> None:
    device = SimDevice("ox-1", "oximeter")
    options = SimOptions(buffer_batches=30)
    stream = oximeter_events(device, options, NOW - timedelta(hours=1), NOW)
    first = decode(next(stream).payload)
    assert first.dropped_batches == 360 - 30
    assert first.seq == 0
    assert first.base_time_ms == int((NOW - timedelta(seconds=300)).timestamp() * 1000)


def test_each_run_gets_a_new_boot_id_but_the_same_values() -> None:
    a, b = Oximeter("ox", 9), Oximeter("ox", 9)
    assert a.boot_id != b.boot_id
    ba, bb = a.batch(NOW), b.batch(NOW)
    assert [s.value for s in ba.samples] == [s.value for s in bb.samples]


def test_status_round_trip() -> None:
    ox = Oximeter("ox-1", 2)
    ox.batch(NOW)
    raw = ox.status(True, NOW + timedelta(minutes=5)).SerializeToString()
    status = status_pb2.DeviceStatus()
    status.ParseFromString(raw)
    assert status.online
    assert (status.device_id, status.boot_id) == ("ox-1", ox.boot_id)
    assert status.uptime_s == 300
    assert 0 <= status.battery_pct <= 100
    assert -90 < status.rssi_dbm < 0
    assert not ox.status(False, NOW).online
