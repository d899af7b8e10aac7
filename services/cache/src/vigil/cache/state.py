"""Retained ``vigil/v1/state/{patient_id}`` summaries, at most one per patient per interval."""

from __future__ import annotations

import json
import time

from vigil.cache.keys import Point
from vigil.cache.metrics import CacheMetrics
from vigil.cache.protocol import iso
from vigil.cache.store import Store, now_ms
from vigil.core import mqtt, topics

_CHUNK = 500  # patients read from Redis per round trip


class StatePublisher:
    """Collects patients whose state changed and publishes each at most once per interval."""

    def __init__(self, store: Store, client: mqtt.Client, metrics: CacheMetrics,
                 interval_s: float) -> None:
        self.store = store
        self.client = client
        self.metrics = metrics
        self.interval_s = interval_s
        self._dirty: set[str] = set()
        self._last: dict[str, float] = {}

    def mark(self, patients: set[str]) -> None:
        """These patients' latest values or alerts changed."""
        self._dirty |= patients

    def due(self) -> list[str]:
        """Dirty patients not published within the interval (they leave the dirty set)."""
        now = time.monotonic()
        due = [p for p in self._dirty if now - self._last.get(p, -1e9) >= self.interval_s]
        self._dirty.difference_update(due)
        for p in due:
            self._last[p] = now
        return due

    async def publish_due(self) -> int:
        """Publish the summaries that are due; return how many."""
        due = self.due()
        for i in range(0, len(due), _CHUNK):
            chunk = due[i:i + _CHUNK]
            for patient, (latest, alerts) in zip(chunk, await self.store.summaries(chunk),
                                                 strict=True):
                self.client.publish(topics.state(patient), summary(patient, latest, alerts),
                                    qos=1, retain=True)
        self.metrics.state_published.inc(len(due))
        return len(due)


def summary(patient: str, latest: dict[bytes, bytes], alerts: int) -> bytes:
    """The retained state document: newest vitals (with their times) and active alert count."""
    vitals = {}
    for metric, raw in sorted(latest.items()):
        p = Point.decode(raw)
        vitals[metric.decode()] = {"value": p.value, "unit": p.unit, "time_ms": p.time_ms,
                                   "time": iso(p.time_ms)}
    return json.dumps({"patient_id": patient, "as_of": iso(now_ms()), "vitals": vitals,
                       "active_alerts": alerts}, separators=(",", ":")).encode()
