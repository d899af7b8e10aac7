"""Rate of change and predicted value, from the readings in ``(t - lookback, t]``.

``rate`` is the least-squares slope in unit per minute. ``predict`` projects the value
``horizon`` ahead of the latest reading: ``linear`` extends that slope; ``ar2`` fits
``x[k] = c + a1·x[k-1] + a2·x[k-2]`` to the readings (assumed evenly spaced, as CGM readings
are) and iterates it, which follows a curve that is bending (a fall that is slowing down).
"""

from __future__ import annotations

import itertools
from statistics import median

from vigil.rules.kinds.base import Context, Sample
from vigil.rules.model import Signal
from vigil.rules.series import Point

_MIN_MS = 60_000.0


def _points(s: Signal, ctx: Context) -> list[Point] | None:
    lookback_ms = int((s.lookback or 900.0) * 1000)
    pts = ctx.of(s.metric).window(ctx.at_ms - lookback_ms, ctx.at_ms)
    if len(pts) < max(2, s.min_points) or pts[-1].time_ms == pts[0].time_ms:
        return None
    return pts


def slope_per_min(pts: list[Point]) -> tuple[float, float]:
    """Least-squares (slope per minute, fitted value at the last reading)."""
    t0 = pts[-1].time_ms
    xs = [(p.time_ms - t0) / _MIN_MS for p in pts]
    ys = [p.value for p in pts]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    return slope, my - slope * mx


def rate(s: Signal, ctx: Context) -> Sample | None:
    """Slope in unit/min; None with fewer than ``min_points`` readings."""
    pts = _points(s, ctx)
    if pts is None:
        return None
    slope, _ = slope_per_min(pts)
    last = pts[-1]
    return Sample(slope, {"rate_per_min": slope, "points": len(pts), "from_ms": pts[0].time_ms,
                          "to_ms": last.time_ms}, last.time_ms, last.device_id, slope)


def _solve3(a: list[list[float]], b: list[float]) -> list[float] | None:
    """Gaussian elimination with partial pivoting; None when singular."""
    m = [[*row[:], v] for row, v in zip(a, b, strict=True)]
    for c in range(3):
        p = max(range(c, 3), key=lambda r: abs(m[r][c]))
        if abs(m[p][c]) < 1e-12:
            return None
        m[c], m[p] = m[p], m[c]
        for r in range(3):
            if r != c:
                f = m[r][c] / m[c][c]
                m[r] = [x - f * y for x, y in zip(m[r], m[c], strict=True)]
    return [m[r][3] / m[r][r] for r in range(3)]


def ar2_forecast(values: list[float], steps: int) -> float | None:
    """Fit AR(2) with intercept by least squares and iterate ``steps`` ahead."""
    if len(values) < 5:
        return None
    rows = [(1.0, values[k - 1], values[k - 2]) for k in range(2, len(values))]
    ys = values[2:]
    ata = [[sum(r[i] * r[j] for r in rows) for j in range(3)] for i in range(3)]
    aty = [sum(r[i] * y for r, y in zip(rows, ys, strict=True)) for i in range(3)]
    coef = _solve3(ata, aty)
    if coef is None:
        return None
    c, a1, a2 = coef
    x1, x2 = values[-1], values[-2]
    for _ in range(steps):
        x1, x2 = c + a1 * x1 + a2 * x2, x1
    return x1


def predict(s: Signal, ctx: Context) -> Sample | None:
    """The projected value ``horizon`` after the latest reading."""
    pts = _points(s, ctx)
    if pts is None:
        return None
    assert s.horizon is not None
    horizon_min = s.horizon / 60
    slope, fitted = slope_per_min(pts)
    last = pts[-1]
    method = s.method or "linear"
    value: float | None = fitted + slope * horizon_min
    if method == "ar2":
        step_ms = median(b.time_ms - a.time_ms for a, b in itertools.pairwise(pts))
        steps = max(1, round(s.horizon * 1000 / step_ms)) if step_ms > 0 else 0
        value = ar2_forecast([p.value for p in pts], steps) if steps else None
        if value is None:
            return None
    assert value is not None
    return Sample(value, {"method": method, "predicted": value, "horizon_s": s.horizon,
                          "rate_per_min": slope, "points": len(pts), "last": last.value},
                  last.time_ms, last.device_id, slope)
