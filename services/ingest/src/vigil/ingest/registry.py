"""The device registry, cached: which patient a device belongs to, and whether it exists."""

from __future__ import annotations

import time

import asyncpg

# A device registered a moment ago must be usable at once, but a flood of messages from an
# unknown id must not turn into a flood of queries: misses reload at most this often.
_MISS_RELOAD_S = 1.0


class Registry:
    """device_id -> patient_id (None: registered without a patient), reloaded on a TTL."""

    def __init__(self, ttl_s: float) -> None:
        self._ttl = ttl_s
        self._owner: dict[str, str | None] = {}
        self._loaded = float("-inf")

    async def ensure(self, conn: asyncpg.Connection, device_ids: set[str]) -> None:
        """Reload when stale, or when a device is unknown and the last load is old enough."""
        age = time.monotonic() - self._loaded
        if age > self._ttl or (age > _MISS_RELOAD_S and not device_ids <= self._owner.keys()):
            rows = await conn.fetch("SELECT device_id, patient_id FROM devices")
            self.replace({r["device_id"]: r["patient_id"] for r in rows})

    def replace(self, owner: dict[str, str | None]) -> None:
        """Swap in a freshly loaded registry."""
        self._owner = owner
        self._loaded = time.monotonic()

    def known(self, device_id: str) -> bool:
        """Whether the device is registered."""
        return device_id in self._owner

    def patient_of(self, device_id: str) -> str | None:
        """The owning patient, or None."""
        return self._owner.get(device_id)
