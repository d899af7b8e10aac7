"""The Redis data model: key names and the encoding of one point.

Every key of a patient carries the patient id as a hash tag (``{p1}``), so a patient's keys
live in one slot. A point is one string, ``time_ms|device_id|value|unit|quality``: the same
string is the member of the series sorted set (score = time) and the value of the latest hash,
so a replayed reading rewrites the very same member and never adds a second point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


class Point(NamedTuple):
    """One reading as the cache keeps it."""

    time_ms: int
    device_id: str
    value: float
    unit: str
    quality: int

    def encode(self) -> str:
        """The member/field string (``repr`` keeps every bit of the float)."""
        return f"{self.time_ms}|{self.device_id}|{self.value!r}|{self.unit}|{self.quality}"

    @classmethod
    def decode(cls, raw: str | bytes) -> Point:
        """Parse a member written by :meth:`encode`."""
        text = raw.decode() if isinstance(raw, bytes) else raw
        t, device, value, unit, quality = text.split("|", 4)
        return cls(int(t), device, float(value), unit, int(quality))


@dataclass(frozen=True, slots=True)
class Keys:
    """Builds every key name under one prefix."""

    prefix: str

    @property
    def meta(self) -> str:
        """Hash: built_at_ms, built_from_ms, heartbeat_ms, rebuild_s. Gone = cold cache."""
        return f"{self.prefix}meta"

    @property
    def lock(self) -> str:
        """String: the replica rebuilding right now (so replicas do not rebuild together)."""
        return f"{self.prefix}rebuild-lock"

    def latest(self, patient: str) -> str:
        """Hash metric -> point: the newest reading of each metric."""
        return f"{self.prefix}{{{patient}}}:latest"

    def series(self, patient: str, metric: str) -> str:
        """Sorted set of points scored by time: the cached window of one metric."""
        return f"{self.prefix}{{{patient}}}:s:{metric}"

    def cover(self, patient: str) -> str:
        """Hash metric -> ms: the series is complete from here on (set when the cap trims)."""
        return f"{self.prefix}{{{patient}}}:cover"

    def seen(self, patient: str) -> str:
        """Hash device_id -> time of the newest reading of that device for this patient."""
        return f"{self.prefix}{{{patient}}}:devices"

    def alerts(self, patient: str) -> str:
        """Hash alert_id -> JSON of the firing alert."""
        return f"{self.prefix}{{{patient}}}:alerts"

    def resolved(self, patient: str) -> str:
        """Hash alert_id -> resolve time: a replayed 'firing' cannot resurrect it."""
        return f"{self.prefix}{{{patient}}}:resolved"

    def acks(self, patient: str) -> str:
        """Hash alert_id -> ``at_ms|by``."""
        return f"{self.prefix}{{{patient}}}:acks"

    def device(self, device_id: str) -> str:
        """Hash: online, status_ms, battery_pct, firmware, rssi_dbm."""
        return f"{self.prefix}dev:{device_id}"

    @property
    def pattern(self) -> str:
        """SCAN pattern matching every key of this cache."""
        return f"{self.prefix}*"


BUCKET_MS = {"1m": 60_000, "1h": 3_600_000, "1d": 86_400_000}
# time_bucket()'s origin (2000-01-03, a Monday) is a whole number of days after the epoch, so
# flooring unix ms gives the same buckets as the database's rollups.
ORIGIN_MS = 946_857_600_000


def bucket_of(time_ms: int, width_ms: int) -> int:
    """Start of the rollup bucket holding ``time_ms``."""
    return time_ms - (time_ms - ORIGIN_MS) % width_ms
