"""The effective rules: global rules, with each patient's overrides laid over them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from vigil.core import logging as vlog
from vigil.rules.kinds import lookback_s
from vigil.rules.kinds.baseline import bucket_ms
from vigil.rules.load import RuleError, apply_override
from vigil.rules.model import Rule

log = vlog.get(__name__)


@dataclass(frozen=True)
class Override:
    """One row of ``rule_overrides``: params laid over a global rule, or the rule disabled."""

    patient_id: str
    rule: str
    enabled: bool = True
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Effective:
    """A patient's rules and which metrics each evaluation touches."""

    rules: tuple[Rule, ...]
    by_metric: dict[str, tuple[Rule, ...]]
    # metric -> seconds of raw readings to keep, and roll-up widths (ms) to maintain.
    retention_s: dict[str, float]
    rollups: dict[str, tuple[int, ...]]
    baseline_s: dict[str, float]


def _index(rules: Iterable[Rule]) -> Effective:
    active = tuple(r for r in rules if r.enabled)
    by_metric: dict[str, list[Rule]] = defaultdict(list)
    retention: dict[str, float] = defaultdict(float)
    rollups: dict[str, set[int]] = defaultdict(set)
    baseline: dict[str, float] = defaultdict(float)
    for r in active:
        for m in r.metrics():
            by_metric[m].append(r)
        for s in r.signals():
            metrics = r.metrics() if s.kind == "news2" else {s.metric or ""}
            for m in metrics:
                if s.kind == "baseline":
                    rollups[m].add(bucket_ms(s))
                    baseline[m] = max(baseline[m], lookback_s(s))
                    keep = s.window or s.bucket or 3600.0
                else:
                    keep = lookback_s(s)
                retention[m] = max(retention[m], keep + r.for_)
    return Effective(active, {m: tuple(v) for m, v in by_metric.items()}, dict(retention),
                     {m: tuple(sorted(v)) for m, v in rollups.items()}, dict(baseline))


class RuleSet:
    """Global rules plus overrides; a patient's effective rules are computed once and cached."""

    def __init__(self, rules: Iterable[Rule], overrides: Iterable[Override] = ()) -> None:
        self.rules = tuple(rules)
        self._by_name = {r.name: r for r in self.rules}
        self.overrides: dict[str, dict[str, Override]] = defaultdict(dict)
        for o in overrides:
            self.overrides[o.patient_id][o.rule] = o
        self._global = _index(self.rules)
        self._cache: dict[str, Effective] = {}

    def for_patient(self, patient_id: str) -> Effective:
        """The patient's effective rules."""
        hit = self._cache.get(patient_id)
        if hit is None:
            own = self.overrides.get(patient_id)
            hit = self._global if not own else _index(self.effective_rules(patient_id))
            self._cache[patient_id] = hit
        return hit

    def effective_rules(self, patient_id: str) -> list[Rule]:
        """Global rules with the patient's overrides applied (a bad override is skipped and
        logged: the global rule stays in force)."""
        own = self.overrides.get(patient_id, {})
        out: list[Rule | None] = []
        for rule in self.rules:
            o = own.get(rule.name)
            out.append(rule if o is None else self._apply(rule, o))
        out += [self._apply(None, o) for name, o in sorted(own.items())
                if name not in self._by_name]
        return [r for r in out if r is not None and r.enabled]

    @staticmethod
    def _apply(rule: Rule | None, o: Override) -> Rule | None:
        if not o.enabled:
            return None
        try:
            return apply_override(rule, o.patient_id, o.rule, o.params)
        except RuleError as exc:
            log.warning("override_invalid", patient_id=o.patient_id, rule=o.rule,
                        problems=exc.problems)
            return rule
