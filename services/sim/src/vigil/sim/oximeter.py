"""A pulse-oximeter node (the ESP32 firmware's behaviour): protobuf batches on ``.../telemetry``.

Each second it samples heart rate, SpO2 and a signal-quality index; every ``batch_s`` seconds
it publishes a ``DeviceTelemetry`` with those samples as offsets from the batch's base time and
its battery charge. ``boot_id`` is random per run and ``seq`` counts batches from 0, so the
platform can tell a new boot from a replay. Presence goes to ``.../status`` as a retained
``DeviceStatus`` (online at start; the last will says offline).

Physiology: heart rate wanders around a resting rate with a circadian swing (lower asleep) and
bouts of activity; SpO2 sits at 95-99 % with brief shallow dips; motion artefacts lower the
signal quality and make both readings noisier, as on a real finger or wrist sensor. Values are
pure functions of (seed, time), like every simulator here.
"""

from __future__ import annotations

import math
import secrets
from datetime import datetime, timedelta

import numpy as np

from vigil.sim import seeds
from vigil.v1 import status_pb2, telemetry_pb2

FIRMWARE = "vigil-sim-oximeter/0.1.0"
# Baseline SpO2 (%) per profile: "copd" sits low with deeper desaturations (alerts fire).
OXIMETER_PROFILES: dict[str, float] = {"normal": 97.3, "copd": 92.0}
_M = telemetry_pb2


class Oximeter:
    """One simulated pulse-oximeter; :meth:`batch` builds consecutive batches of one boot."""

    def __init__(self, device_id: str, seed: int, batch_s: int = 10,
                 boot_id: int | None = None, profile: str = "normal") -> None:
        if batch_s < 1:
            raise ValueError("batch_s must be at least 1 second")
        if profile not in OXIMETER_PROFILES:
            raise ValueError(f"unknown oximeter profile {profile!r}; valid: "
                             f"{', '.join(OXIMETER_PROFILES)}")
        self.spo2_base = OXIMETER_PROFILES[profile]
        self.device_id = device_id
        self.seed = seed
        self.batch_s = batch_s
        # Random per run even under a fixed seed: a repeated boot id would read as a replay.
        self.boot_id = boot_id if boot_id is not None else secrets.randbits(32) or 1
        self.seq = 0
        self.dropped = 0
        self.booted_at: datetime | None = None
        self._stream = f"oximeter/{device_id}"

    def vitals(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Heart rate (bpm), SpO2 (%) and signal quality (0-100) at Unix seconds ``times``."""
        t = np.asarray(times, dtype=np.float64)
        s, key = self.seed, self._stream
        hour = (t % 86400) / 3600.0
        sleep = 0.5 * (1 + np.cos(2 * np.pi * (hour - 3.5) / 24))  # 1 at 03:30 UTC, 0 at 15:30
        activity = np.clip(seeds.smooth_noise(s, f"{key}/act", t, 600.0), 0, None) * (1 - sleep)
        motion = np.clip(seeds.smooth_noise(s, f"{key}/motion", t, 45.0) - 1.2, 0, None)
        quality = np.clip(96 - 4 * np.abs(seeds.normal(s, f"{key}/q", t.astype(np.int64)))
                          - 45 * motion, 5, 100)
        jitter = 1 + 3 * motion
        hr = (66 - 8 * sleep + 30 * activity
              + 4 * seeds.smooth_noise(s, f"{key}/hr", t, 120.0)
              + 1.2 * jitter * seeds.normal(s, f"{key}/hrn", t.astype(np.int64)))
        desat = 2.0 if self.spo2_base > 95 else 4.0
        spo2 = (self.spo2_base + 0.6 * seeds.smooth_noise(s, f"{key}/spo2", t, 300.0)
                - desat * np.clip(seeds.smooth_noise(s, f"{key}/desat", t, 90.0) - 1.5, 0, None)
                + 0.4 * jitter * seeds.normal(s, f"{key}/spo2n", t.astype(np.int64)))
        return np.clip(np.round(hr), 35, 200), np.clip(np.round(spo2), 85, 100), np.round(quality)

    def battery(self, when: datetime) -> float:
        """Charge in percent: drains ~2.2 %/h from boot and is recharged when it reaches 15 %."""
        booted = self.booted_at or when
        hours = max(0.0, (when - booted).total_seconds() / 3600)
        start = 60 + 40 * float(seeds.uniform(self.seed, f"{self._stream}/bat", np.array([0]))[0])
        drained = (100 - start + 2.2 * hours) % 85
        return round(100 - drained, 1)

    def batch(self, base: datetime) -> telemetry_pb2.DeviceTelemetry:
        """The next batch: ``batch_s`` one-second samples from ``base``; advances ``seq``."""
        if self.booted_at is None:
            self.booted_at = base
        base_ms = math.floor(base.timestamp()) * 1000
        times = base_ms / 1000 + np.arange(self.batch_s)
        hr, spo2, quality = self.vitals(times)
        msg = _M.DeviceTelemetry(device_id=self.device_id, boot_id=self.boot_id, seq=self.seq,
                                 base_time_ms=base_ms, dropped_batches=self.dropped)
        for i in range(self.batch_s):
            q, offset = int(quality[i]), i * 1000
            msg.samples.add(metric=_M.METRIC_HEART_RATE, offset_ms=offset, value=float(hr[i]),
                            quality=q)
            msg.samples.add(metric=_M.METRIC_SPO2, offset_ms=offset, value=float(spo2[i]),
                            quality=q)
            msg.samples.add(metric=_M.METRIC_SIGNAL_QUALITY, offset_ms=offset,
                            value=float(quality[i]), quality=q)
        msg.samples.add(metric=_M.METRIC_BATTERY, offset_ms=(self.batch_s - 1) * 1000,
                        value=self.battery(base + timedelta(seconds=self.batch_s)), quality=100)
        self.seq += 1
        return msg

    def status(self, online: bool, when: datetime) -> status_pb2.DeviceStatus:
        """The retained presence message (the last will is built with ``online=False``)."""
        booted = self.booted_at or when
        rssi = -55 - int(20 * float(seeds.uniform(self.seed, f"{self._stream}/rssi",
                                                  np.array([int(when.timestamp()) // 600]))[0]))
        return status_pb2.DeviceStatus(
            device_id=self.device_id, online=online, firmware=FIRMWARE,
            battery_pct=self.battery(when) if online else -1.0, rssi_dbm=rssi if online else 0,
            time_ms=int(when.timestamp() * 1000), boot_id=self.boot_id,
            uptime_s=max(0, int((when - booted).total_seconds())),
        )
