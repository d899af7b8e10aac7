"""Evaluate a rule at one instant: three-valued (true / false / unknown) with hysteresis.

``met`` says whether the rule's condition holds (it may fire); ``active`` says whether a firing
alert should stay firing (the condition widened by ``hysteresis``). Unknown (a signal without
enough data) neither fires nor resolves: a gap in the data is the stale-data rule's business.
Composites combine their branches with Kleene logic.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vigil.rules.kinds import Context, Sample, compute
from vigil.rules.model import SEVERITY_RANK, Condition, Rule, Signal

Tri = bool | None


@dataclass(slots=True)
class Outcome:
    """What one evaluation found."""

    met: Tri
    active: Tri
    severity: str | None = None
    sample: Sample | None = None
    metric: str = ""
    # Built only when a transition needs them: most evaluations change nothing.
    explain: Callable[[], dict[str, Any]] | None = None

    @property
    def inputs(self) -> dict[str, Any]:
        """The inputs that produced this outcome (stored on the alert)."""
        return {} if self.explain is None else self.explain()


def _any(values: list[Tri]) -> Tri:
    if any(v is True for v in values):
        return True
    return None if any(v is None for v in values) else False


def _all(values: list[Tri]) -> Tri:
    if any(v is False for v in values):
        return False
    return None if any(v is None for v in values) else True


def _metric(s: Signal) -> str:
    return s.metric or {"news2": "news2", "offline": "devices_offline"}.get(s.kind, "")


def _single(rule: Rule, ctx: Context) -> Outcome:
    assert rule.signal is not None
    sample = compute(rule.signal, ctx)
    metric = _metric(rule.signal)
    if sample is None:
        return Outcome(None, None, metric=metric)
    v = sample.value
    met_levels = [lv for lv in rule.levels if lv.met(v)]
    severity = max((lv.severity for lv in met_levels), key=SEVERITY_RANK.__getitem__,
                   default=None)
    active = any(lv.met(v, rule.hysteresis) for lv in rule.levels)
    kind = rule.signal.kind
    return Outcome(bool(met_levels), active, severity, sample, metric,
                   lambda: {"kind": kind, "metric": metric, **sample.inputs})


def _branch(c: Condition, hysteresis: float, ctx: Context) -> tuple[Tri, Tri, Sample | None]:
    sample = compute(c, ctx)
    if sample is None:
        return None, None, None
    return c.met(sample.value), c.met(sample.value, hysteresis), sample


def _composite(rule: Rule, ctx: Context) -> Outcome:
    results = [_branch(c, rule.hysteresis, ctx) for c in rule.conditions]
    combine = _any if rule.any else _all
    met = combine([r[0] for r in results])
    active = combine([r[1] for r in results])

    def explain() -> dict[str, Any]:
        return {"combine": "any" if rule.any else "all", "branches": [
            {"kind": c.kind, "metric": _metric(c), "op": c.op, "bound": c.bound, "met": r[0],
             **(r[2].inputs if r[2] else {"value": None})}
            for c, r in zip(rule.conditions, results, strict=True)]}
    # The branch that explains the outcome: the first that holds, else the first known.
    pick = next((i for i, r in enumerate(results) if r[0]), None)
    if pick is None:
        pick = next((i for i, r in enumerate(results) if r[2] is not None), 0)
    return Outcome(met, active, rule.severity if met else None, results[pick][2],
                   _metric(rule.conditions[pick]), explain)


def evaluate(rule: Rule, ctx: Context) -> Outcome:
    """Evaluate ``rule`` on ``ctx``."""
    return _composite(rule, ctx) if rule.conditions else _single(rule, ctx)
