"""Deviation from the patient's own baseline, as a robust z-score.

History is the patient's readings over ``lookback`` (default 7 days), rolled up into ``bucket``
means (default 1 h). The current value is the mean over the last ``window`` (default one
bucket), which is excluded from the history. ``mad``: z = (current - median) / (1.4826 · MAD);
``ewma``: z against an exponentially weighted mean and variance of the buckets (alpha 0.1).
With ``by_time_of_day`` only buckets within an hour of the same time of day are used, once
there are at least ``min_points`` of them; otherwise all. Fewer than ``min_points`` buckets
(default 3): unknown. The spread is floored at 1 % of the median so a flat history does not turn
noise into an infinite z-score.
"""

from __future__ import annotations

import math
from statistics import median

from vigil.rules.kinds.base import Context, Sample
from vigil.rules.model import Signal

_DAY_MS = 86_400_000
_HOUR_MS = 3_600_000


def bucket_ms(s: Signal) -> int:
    """The roll-up width the signal needs."""
    return int((s.bucket or 3600.0) * 1000)


def _history(s: Signal, ctx: Context, width: int) -> list[tuple[int, float]]:
    window_ms = int((s.window or s.bucket or 3600.0) * 1000)
    lookback_ms = int((s.lookback or 7 * 86400.0) * 1000)
    cut = ctx.at_ms - window_ms
    buckets = ctx.of(s.metric).rollups.get(width, {})
    out = sorted((start, b[0] / b[1]) for start, b in buckets.items()
                 if b[1] and ctx.at_ms - lookback_ms <= start and start + width <= cut)
    if s.by_time_of_day:
        here = ctx.at_ms % _DAY_MS

        def near(start: int) -> bool:
            d = abs((start + width // 2) % _DAY_MS - here)
            return min(d, _DAY_MS - d) <= _HOUR_MS

        same = [(t, v) for t, v in out if near(t)]
        if len(same) >= s.min_points:
            return same
    return out


def baseline(s: Signal, ctx: Context) -> Sample | None:
    """The z-score of the current window mean against the history."""
    width = bucket_ms(s)
    window_ms = int((s.window or s.bucket or 3600.0) * 1000)
    current = ctx.of(s.metric).window(ctx.at_ms - window_ms, ctx.at_ms)
    history = _history(s, ctx, width)
    if not current or len(history) < s.min_points:
        return None
    now = sum(p.value for p in current) / len(current)
    values = [v for _, v in history]
    if (s.method or "mad") == "mad":
        centre = median(values)
        spread = 1.4826 * median(abs(v - centre) for v in values)
    else:
        centre, var = values[0], 0.0
        for v in values[1:]:
            d = v - centre
            centre += 0.1 * d
            var = 0.9 * (var + 0.1 * d * d)
        spread = math.sqrt(var)
    spread = max(spread, abs(centre) * 0.01, 1e-9)
    z = (now - centre) / spread
    last = current[-1]
    return Sample(z, {"z": z, "current": now, "centre": centre, "spread": spread,
                      "buckets": len(values), "method": s.method or "mad"},
                  last.time_ms, last.device_id)
