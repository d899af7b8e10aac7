"""What every benchmark reports alongside its figures: the machine, percentiles, peak memory."""

from __future__ import annotations

import os
import platform
from pathlib import Path

import asyncpg

from vigil.core.migrate import migrate


def machine() -> str:
    """CPU model and core count, for the README table."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores"


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank) of ``values``; NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a running process, in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


async def prepare_devices(url: str, devices: list[str]) -> None:
    """Migrate and register one patient per benchmark device."""
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
        await conn.executemany(
            "INSERT INTO patients (patient_id) VALUES ($1) ON CONFLICT DO NOTHING",
            [(f"bp-{d}",) for d in devices])
        await conn.executemany(
            "INSERT INTO devices (device_id, kind, patient_id) VALUES ($1, 'other', $2)"
            " ON CONFLICT DO NOTHING", [(d, f"bp-{d}") for d in devices])
    finally:
        await conn.close()
