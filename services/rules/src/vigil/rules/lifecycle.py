"""The alert lifecycle of one (rule, patient): pending (``for``), firing, escalated, resolved.

Pure and deterministic: a transition depends only on the outcomes and their times, so a replay
of the same readings produces the same alerts with the same ids.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Literal

from vigil.rules.evaluate import Outcome
from vigil.rules.model import SEVERITY_RANK, Rule

TransitionKind = Literal["firing", "escalated", "resolved"]


def alert_id(rule: str, patient_id: str, started_ms: int) -> str:
    """Deterministic id of an episode: the same rule, patient and start give the same id."""
    return hashlib.sha256(f"{rule}|{patient_id}|{started_ms}".encode()).hexdigest()[:32]


@dataclass(slots=True)
class AlertState:
    """Where one (rule, patient) stands."""

    pending_since_ms: int | None = None
    alert_id: str | None = None
    started_ms: int | None = None
    severity: str | None = None

    @property
    def firing(self) -> bool:
        """Whether an alert is open."""
        return self.alert_id is not None


@dataclass(slots=True)
class Transition:
    """A change to publish and store: an alert fired, escalated or resolved."""

    kind: TransitionKind
    rule: str
    rule_version: str
    patient_id: str
    alert_id: str
    severity: str
    started_ms: int
    at_ms: int
    metric: str
    value: float | None
    reading_time_ms: int
    device_id: str
    trend_per_min: float
    inputs: dict[str, Any] = field(default_factory=dict)
    thresholds: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    summary: str = ""


def _transition(kind: TransitionKind, rule: Rule, patient_id: str, st: AlertState,
                out: Outcome, at_ms: int) -> Transition:
    assert st.alert_id is not None
    assert st.started_ms is not None
    assert st.severity is not None
    s = out.sample
    value = s.value if s else None
    shown = "unknown" if value is None else f"{value:.4g}"
    verb = {"firing": "fired", "escalated": "escalated to", "resolved": "resolved"}[kind]
    # What a carer reads first on the pager: the rule's own description when it has one
    # (severity, value and trend are in their own fields and in the message).
    summary = rule.description or f"{rule.name} {verb} {st.severity}: {out.metric or 'value'} " \
        f"{shown}"
    return Transition(
        kind, rule.name, rule.version, patient_id, st.alert_id, st.severity, st.started_ms,
        at_ms, out.metric, value, s.time_ms if s else at_ms, s.device_id if s else "",
        s.trend_per_min if s else 0.0, out.inputs, rule.snapshot(), dict(rule.labels), summary)


def step(rule: Rule, patient_id: str, st: AlertState, out: Outcome,
         at_ms: int) -> Transition | None:
    """Advance ``st`` by one evaluation at event time ``at_ms``; return what changed."""
    if st.firing:
        if out.active is False:
            t = _transition("resolved", rule, patient_id, st, out, at_ms)
            st.alert_id = st.started_ms = st.severity = st.pending_since_ms = None
            return t
        if out.met and out.severity and SEVERITY_RANK[out.severity] > SEVERITY_RANK.get(
                st.severity or "", 0):
            st.severity = out.severity
            return _transition("escalated", rule, patient_id, st, out, at_ms)
        return None
    if out.met is False:
        st.pending_since_ms = None
    elif out.met:
        if st.pending_since_ms is None or st.pending_since_ms > at_ms:
            st.pending_since_ms = at_ms
        if at_ms - st.pending_since_ms >= rule.for_ * 1000:
            st.alert_id = alert_id(rule.name, patient_id, at_ms)
            st.started_ms, st.severity = at_ms, out.severity or "warning"
            st.pending_since_ms = None
            return _transition("firing", rule, patient_id, st, out, at_ms)
    return None
