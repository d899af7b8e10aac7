"""Rule kinds: each computes one number (a *signal*) from a patient's readings at a time.

``check_signal`` validates the fields a kind needs; ``compute`` evaluates it. A signal that
cannot be computed (no data, too few points) is ``None``: unknown, neither true nor false.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from vigil.rules.kinds.base import Context, Sample
from vigil.rules.kinds.stale import offline, stale
from vigil.rules.kinds.threshold import threshold
from vigil.rules.kinds.trend import predict, rate
from vigil.rules.kinds.window import window

if TYPE_CHECKING:
    from vigil.rules.model import Signal

__all__ = ["WALL_CLOCK_KINDS", "Context", "Sample", "check_signal", "compute", "lookback_s"]

# kind -> (required fields, allowed fields besides kind/metric)
_FIELDS: dict[str, tuple[set[str], set[str]]] = {
    "threshold": ({"metric"}, {"max_age"}),
    "window": ({"metric", "agg", "window"}, {"min_points"}),
    "rate": ({"metric"}, {"lookback", "min_points"}),
    "predict": ({"metric", "horizon"}, {"lookback", "min_points", "method"}),
    "stale": ({"metric", "expected"}, set()),
    "baseline": ({"metric"}, {"lookback", "bucket", "by_time_of_day", "method", "window",
                              "min_points"}),
    "news2": (set(), {"max_age", "spo2_scale", "oxygen"}),
    "offline": (set(), set()),
}
_DEFAULTS = {"kind", "min_points", "by_time_of_day", "spo2_scale", "oxygen"}
_METHODS = {"predict": {"linear", "ar2"}, "baseline": {"mad", "ewma"}}


def check_signal(s: Signal) -> None:
    """Raise ValueError naming a missing or misplaced field for the signal's kind."""
    required, optional = _FIELDS[s.kind]
    given = {k for k in s.model_fields_set if getattr(s, k) is not None} - {"kind"}
    for name in sorted(required - given):
        raise ValueError(f"kind {s.kind!r} needs field {name!r}")
    allowed = required | optional | _DEFAULTS | {"above", "below", "at_least", "at_most"}
    for name in sorted(given - allowed):
        raise ValueError(f"field {name!r} does not apply to kind {s.kind!r}")
    if s.method is not None and s.method not in _METHODS.get(s.kind, set()):
        raise ValueError(f"method {s.method!r} does not apply to kind {s.kind!r}")
    if s.kind == "window" and not s.window:
        raise ValueError("window must be longer than 0s")


def _baseline(s: Signal, ctx: Context) -> Sample | None:
    from vigil.rules.kinds.baseline import baseline

    return baseline(s, ctx)


def _news2(s: Signal, ctx: Context) -> Sample | None:
    from vigil.rules.news2 import news2_signal

    return news2_signal(s, ctx)


_COMPUTE: dict[str, Callable[[Signal, Context], Sample | None]] = {
    "threshold": threshold, "window": window, "rate": rate, "predict": predict,
    "stale": stale, "baseline": _baseline, "news2": _news2, "offline": offline,
}
WALL_CLOCK_KINDS = frozenset({"stale", "offline"})


def compute(s: Signal, ctx: Context) -> Sample | None:
    """The signal's value at ``ctx.at_ms`` (None: not enough data)."""
    return _COMPUTE[s.kind](s, ctx)


def lookback_s(s: Signal) -> float:
    """How much history (seconds before the evaluation time) the signal reads."""
    if s.kind == "window":
        return s.window or 0.0
    if s.kind in ("rate", "predict"):
        return s.lookback or 900.0
    if s.kind == "baseline":
        return s.lookback or 7 * 86400.0
    if s.kind == "news2":
        return s.max_age or 3600.0
    return s.max_age or 0.0
