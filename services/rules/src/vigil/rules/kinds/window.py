"""Rolling-window aggregate over ``(t - window, t]`` in event time."""

from __future__ import annotations

from vigil.rules.kinds.base import Context, Sample
from vigil.rules.model import Signal


def window(s: Signal, ctx: Context) -> Sample | None:
    """avg/min/max/sum/count of the readings in the window; None when it is empty
    (``count`` is 0 then), or holds fewer than ``min_points`` when that was given."""
    assert s.window is not None
    assert s.agg is not None
    pts = ctx.of(s.metric).window(ctx.at_ms - int(s.window * 1000), ctx.at_ms)
    need = s.min_points if "min_points" in s.model_fields_set else 1
    if s.agg == "count":
        value = float(len(pts))
    elif len(pts) < need or not pts:
        return None
    else:
        values = [p.value for p in pts]
        value = {"avg": lambda: sum(values) / len(values), "min": lambda: min(values),
                 "max": lambda: max(values), "sum": lambda: float(sum(values))}[s.agg]()
    last = pts[-1] if pts else None
    inputs = {"agg": s.agg, "value": value, "count": len(pts),
              "from_ms": ctx.at_ms - int(s.window * 1000), "to_ms": ctx.at_ms}
    return Sample(value, inputs, last.time_ms if last else ctx.at_ms,
                  last.device_id if last else "")
