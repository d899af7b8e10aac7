"""Reads and pipelined writes of the Redis data model (see keys.py and the README)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from typing import Any

import redis.asyncio as aioredis

from vigil.cache import scripts
from vigil.cache.decode import Ack, Alert, Event, Readings, Status
from vigil.cache.keys import Keys, Point


def now_ms() -> int:
    """Wall-clock unix milliseconds."""
    return time.time_ns() // 1_000_000


class Store:
    """The cache's view of Redis: one instance per service, shared by all tasks."""

    def __init__(self, client: aioredis.Redis, keys: Keys, *, retention_ms: int,
                 latest_ttl_ms: int, max_points: int) -> None:
        self.r = client
        self.keys = keys
        self.retention_ms = retention_ms
        self.latest_ttl_ms = latest_ttl_ms
        self.max_points = max_points
        # Series and alert keys outlive the window by a day, so trimming (not expiry) decides.
        self.series_ttl_ms = retention_ms + 86_400_000
        self._apply = client.register_script(scripts.APPLY_READINGS)
        self._alert = client.register_script(scripts.APPLY_ALERT)
        self._heartbeat = client.register_script(scripts.HEARTBEAT)
        self._latest = client.register_script(scripts.LATEST)

    async def apply(self, events: Iterable[Event]) -> set[str]:
        """Write a batch of events in one pipeline; return the patients whose state changed."""
        k = self.keys
        trim = now_ms() - self.retention_ms
        touched: set[str] = set()
        async with self.r.pipeline(transaction=False) as pipe:
            for e in events:
                if isinstance(e, Readings):
                    metrics = list(e.points)
                    argv: list[Any] = [trim, self.latest_ttl_ms, self.series_ttl_ms,
                                       self.max_points]
                    for i, metric in enumerate(metrics):
                        for p in e.points[metric]:
                            argv += [i + 4, metric, str(p.time_ms), p.encode()]
                    keys = [k.latest(e.patient_id), k.cover(e.patient_id), k.seen(e.patient_id),
                            *(k.series(e.patient_id, m) for m in metrics)]
                    await self._apply(keys=keys, args=argv, client=pipe)
                    touched.add(e.patient_id)
                elif isinstance(e, Alert):
                    await self._alert(
                        keys=[k.alerts(e.patient_id), k.resolved(e.patient_id),
                              k.acks(e.patient_id)],
                        args=[e.alert_id, "firing" if e.firing else "resolved",
                              json.dumps(e.doc), e.time_ms, self.series_ttl_ms],
                        client=pipe)
                    touched.add(e.patient_id)
                elif isinstance(e, Ack):
                    pipe.hset(k.acks(e.patient_id), e.alert_id, f"{e.at_ms}|{e.by}")
                    pipe.pexpire(k.acks(e.patient_id), self.series_ttl_ms)
                    touched.add(e.patient_id)
                elif isinstance(e, Status):
                    fields: dict[Any, Any] = {
                        "online": int(e.online), "status_ms": e.time_ms, **e.extra}
                    pipe.hset(k.device(e.device_id), mapping=fields)
                    pipe.pexpire(k.device(e.device_id), self.series_ttl_ms)
            await pipe.execute()
        return touched

    async def heartbeat(self) -> bool:
        """Refresh the heartbeat; False when the cache was flushed (meta is gone)."""
        return bool(await self._heartbeat(keys=[self.keys.meta], args=[now_ms()]))

    async def meta(self) -> dict[str, int]:
        """The meta hash ({} on a cold or flushed Redis)."""
        raw = await self.r.hgetall(self.keys.meta)
        return {(k.decode() if isinstance(k, bytes) else k): int(float(v))
                for k, v in raw.items()}

    async def latest(self, patient: str) -> tuple[dict[str, Point], dict[str, dict[str, Any]],
                                                  int] | None:
        """(metric -> point, devices, active alert count), or None when the key is missing."""
        k = self.keys
        res = await self._latest(keys=[k.latest(patient), k.seen(patient), k.alerts(patient)],
                                 args=[k.device("")])
        if not res:
            return None
        latest, seen, alerts, *statuses = res
        points = {latest[i].decode(): Point.decode(latest[i + 1])
                  for i in range(0, len(latest), 2)}
        devices = {}
        for n, st in enumerate(statuses):
            doc: dict[str, Any] = {"last_seen_ms": int(seen[2 * n + 1])}
            for f in range(0, len(st), 2):
                doc.update(_status_field(st[f].decode(), st[f + 1].decode()))
            devices[seen[2 * n].decode()] = doc
        return points, dict(sorted(devices.items())), int(alerts)

    async def cover_from(self, patient: str, metric: str) -> int:
        """Where the series has been trimmed by the point cap (0: never)."""
        raw = await self.r.hget(self.keys.cover(patient), metric)
        return int(raw) if raw else 0

    async def points(self, patient: str, metric: str, start_ms: int, end_ms: int,
                     limit: int) -> list[Point]:
        """Points with ``start <= time < end`` in time order (at most ``limit``)."""
        raw = await self.r.zrangebyscore(self.keys.series(patient, metric), start_ms,
                                         f"({end_ms}", start=0, num=limit)
        # Same-time members sort by their bytes ("t|gm2|" before "t|gm|"); the database
        # orders by (time, device_id).
        return sorted((Point.decode(m) for m in raw),  # type: ignore[arg-type]
                      key=lambda p: (p.time_ms, p.device_id))

    async def alerts(self, patient: str) -> list[dict[str, Any]]:
        """Firing alerts of a patient with their acknowledgement, oldest first."""
        async with self.r.pipeline(transaction=False) as pipe:
            pipe.hgetall(self.keys.alerts(patient))
            pipe.hgetall(self.keys.acks(patient))
            firing, acks = await pipe.execute()
        out = []
        for alert_id, doc in firing.items():
            alert = json.loads(doc)
            ack = acks.get(alert_id)
            if ack:
                at, by = ack.decode().split("|", 1)
                alert.update(acked_at_ms=int(at), acked_by=by)
            out.append(alert)
        return sorted(out, key=lambda a: (a.get("started_at_ms", 0), a["alert_id"]))

    async def summaries(self, patients: Sequence[str]) -> list[tuple[dict[bytes, bytes], int]]:
        """(latest hash, active alert count) of several patients in one round trip."""
        async with self.r.pipeline(transaction=False) as pipe:
            for p in patients:
                pipe.hgetall(self.keys.latest(p))
                pipe.hlen(self.keys.alerts(p))
            res = await pipe.execute()
        return [(res[i], int(res[i + 1])) for i in range(0, len(res), 2)]


def _status_field(name: str, text: str) -> dict[str, Any]:
    """One field of a device hash, typed."""
    if name == "online":
        return {name: text == "1"}
    if name in ("status_ms", "rssi_dbm"):
        return {name: int(text)}
    if name == "battery_pct":
        return {name: float(text)}
    return {name: text}
