"""Threshold: the latest reading (at or before the evaluation time), optionally recent enough."""

from __future__ import annotations

from vigil.rules.kinds.base import Context, Sample
from vigil.rules.model import Signal


def threshold(s: Signal, ctx: Context) -> Sample | None:
    """The latest value; None if there is none or it is older than ``max_age``."""
    p = ctx.of(s.metric).latest(ctx.at_ms)
    if p is None or (s.max_age is not None and ctx.at_ms - p.time_ms > s.max_age * 1000):
        return None
    return Sample(p.value, {"value": p.value, "time_ms": p.time_ms}, p.time_ms, p.device_id)
