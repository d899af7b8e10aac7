"""A patient's readings of one metric, in event-time order, idempotent to duplicates."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field


@dataclass(slots=True)
class Point:
    """One reading as the rules see it."""

    time_ms: int
    value: float
    device_id: str = ""


@dataclass(slots=True)
class Series:
    """Readings sorted by time; a (time, device) pair is stored once (the last value wins)."""

    times: list[int] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    # Wall-clock time (ms) the latest reading arrived: what stale-data rules measure.
    arrived_ms: int | None = None
    # bucket width (ms) -> bucket start -> [sum, count]: the long history baselines read,
    # kept as sums so that days of 1 Hz readings cost a few hundred numbers.
    rollups: dict[int, dict[int, list[float]]] = field(default_factory=dict)

    def _roll(self, time_ms: int, delta: float, count: int) -> None:
        for width, buckets in self.rollups.items():
            b = buckets.setdefault(time_ms - time_ms % width, [0.0, 0])
            b[0] += delta
            b[1] += count

    def add(self, p: Point) -> bool:
        """Insert ``p``; return False when it is a duplicate (same time and device, same value)."""
        i = bisect_left(self.times, p.time_ms)
        j = i
        while j < len(self.times) and self.times[j] == p.time_ms:
            old = self.points[j]
            if old.device_id == p.device_id:
                if old.value == p.value:
                    return False
                self.points[j] = p
                self._roll(p.time_ms, p.value - old.value, 0)
                return True
            j += 1
        self.times.insert(j, p.time_ms)
        self.points.insert(j, p)
        self._roll(p.time_ms, p.value, 1)
        return True

    def trim(self, before_ms: int, rollups_before_ms: int | None = None) -> None:
        """Forget readings older than ``before_ms`` (always keeping the latest one), and
        rolled-up buckets older than ``rollups_before_ms``."""
        if rollups_before_ms is not None:
            for buckets in self.rollups.values():
                for start in [s for s in buckets if s < rollups_before_ms]:
                    del buckets[start]
        k = min(bisect_left(self.times, before_ms), len(self.times) - 1)
        if k > 0:
            del self.times[:k]
            del self.points[:k]

    def window(self, start_ms: int, end_ms: int) -> list[Point]:
        """Readings with ``start_ms < time <= end_ms``."""
        return self.points[bisect_right(self.times, start_ms):bisect_right(self.times, end_ms)]

    def latest(self, at_ms: int) -> Point | None:
        """The last reading at or before ``at_ms``."""
        k = bisect_right(self.times, at_ms)
        return self.points[k - 1] if k else None

    @property
    def last_time_ms(self) -> int | None:
        """Time of the newest reading."""
        return self.times[-1] if self.times else None

    def __len__(self) -> int:
        return len(self.times)
