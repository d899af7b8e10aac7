"""Stale data and offline devices, both on the wall clock.

Stale: seconds since a reading of the metric last *arrived* (wall clock).

Arrival time, not reading time: a device whose clock is wrong is not silent, and a backfill of
old readings proves the device is talking. Evaluated on every tick of the service's clock.
"""

from __future__ import annotations

from vigil.rules.kinds.base import Context, Sample
from vigil.rules.model import Signal


def stale(s: Signal, ctx: Context) -> Sample | None:
    """Age in seconds of the latest arrival; None when the metric was never seen."""
    series = ctx.of(s.metric)
    if series.arrived_ms is None:
        return None
    age = (ctx.wall_ms - series.arrived_ms) / 1000
    last = series.points[-1] if series.points else None
    return Sample(age, {"age_s": age, "expected_s": s.expected, "arrived_ms": series.arrived_ms},
                  last.time_ms if last else 0, last.device_id if last else "")


def offline(s: Signal, ctx: Context) -> Sample | None:
    """How many of the patient's devices last reported offline (their broker last will or an
    explicit status); None when no device ever reported a status."""
    if not ctx.devices:
        return None
    down = sorted(d for d, online in ctx.devices.items() if not online)
    return Sample(float(len(down)), {"offline": down, "devices": len(ctx.devices)},
                  ctx.wall_ms, down[0] if down else "")
