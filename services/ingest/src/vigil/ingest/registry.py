"""The device registry, cached: which patient a device belongs to, and whether it exists."""

from __future__ import annotations

import time

import asyncpg


class Registry:
    """device_id -> patient_id (None: registered without a patient), reloaded on a TTL."""

    def __init__(self, ttl_s: float) -> None:
        self._ttl = ttl_s
        self._owner: dict[str, str | None] = {}
        self._loaded = float("-inf")

    async def ensure(self, conn: asyncpg.Connection, device_ids: set[str]) -> None:
        """Reload all when stale; look up ids not in the cache every time.

        A device registered a moment before its first message must be accepted, so a miss is
        never cached; the look-up is one indexed query per batch, whatever the number of ids.
        """
        if time.monotonic() - self._loaded > self._ttl:
            rows = await conn.fetch("SELECT device_id, patient_id FROM devices")
            self.replace({r["device_id"]: r["patient_id"] for r in rows})
        missing = device_ids - self._owner.keys()
        if missing:
            rows = await conn.fetch("SELECT device_id, patient_id FROM devices"
                                    " WHERE device_id = ANY($1::text[])", list(missing))
            self._owner.update((r["device_id"], r["patient_id"]) for r in rows)

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
