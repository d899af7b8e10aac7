"""The rules engine's state: per patient, the readings each rule needs and each rule's alert.

Everything is driven by explicit times: ``process`` evaluates at the readings' event time and
``tick`` evaluates stale-data rules at a wall-clock time the caller passes (tests control it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from vigil.rules.evaluate import Outcome, evaluate
from vigil.rules.kinds import WALL_CLOCK_KINDS, Context
from vigil.rules.lifecycle import AlertState, Transition, step
from vigil.rules.model import Rule
from vigil.rules.ruleset import Effective, RuleSet
from vigil.rules.series import Point, Series

_MARGIN_MS = 60_000


@dataclass(frozen=True, slots=True)
class Reading:
    """One normalised reading (from a ReadingBatch or the readings table)."""

    time_ms: int
    metric: str
    value: float
    device_id: str = ""


@dataclass(slots=True)
class PatientState:
    """One patient's series, alert states and event-time watermark."""

    series: dict[str, Series] = field(default_factory=dict)
    alerts: dict[str, AlertState] = field(default_factory=dict)
    watermark_ms: int | None = None
    devices: dict[str, bool] = field(default_factory=dict)


def _on_clock(rule: Rule) -> bool:
    return any(s.kind in WALL_CLOCK_KINDS for s in rule.signals())


class Engine:
    """Evaluates the rule set on a stream of readings for the patients it is given."""

    def __init__(self, rules: RuleSet, max_future_skew_s: float = 300.0) -> None:
        self.rules = rules
        self.max_future_skew_ms = int(max_future_skew_s * 1000)
        self.patients: dict[str, PatientState] = {}
        self.evaluations = 0
        self.skewed = 0
        self.duplicates = 0

    def patient(self, patient_id: str) -> PatientState:
        """The state of ``patient_id`` (created empty)."""
        p = self.patients.get(patient_id)
        if p is None:
            p = self.patients[patient_id] = PatientState()
        return p

    def process(self, patient_id: str, readings: Iterable[Reading],
                wall_ms: int) -> list[Transition]:
        """Add readings (any order, duplicates allowed) and evaluate the rules they touch,
        each at the patient's event-time watermark after that reading."""
        p = self.patient(patient_id)
        eff = self.rules.for_patient(patient_id)
        out: list[Transition] = []
        touched: set[str] = set()
        for r in sorted(readings, key=lambda r: r.time_ms):
            if r.metric not in eff.retention_s:
                continue
            if r.time_ms > wall_ms + self.max_future_skew_ms:
                self.skewed += 1  # a device clock far ahead would freeze the patient's time
                continue
            s = self._series(p, eff, r.metric)
            if not s.add(Point(r.time_ms, r.value, r.device_id)):
                self.duplicates += 1
            s.arrived_ms = max(s.arrived_ms or wall_ms, wall_ms)
            touched.add(r.metric)
            p.watermark_ms = max(p.watermark_ms or r.time_ms, r.time_ms)
            ctx = Context(p.series, p.watermark_ms, wall_ms, patient_id, p.devices)
            for rule in eff.by_metric.get(r.metric, ()):
                t = self._step(rule, patient_id, p, ctx, p.watermark_ms)
                if t is not None:
                    out.append(t)
        for metric in touched:
            self._trim(p, eff, metric)
        return out

    def tick(self, wall_ms: int) -> list[Transition]:
        """Evaluate stale-data and offline-device rules at wall-clock ``wall_ms``."""
        out: list[Transition] = []
        for patient_id, p in self.patients.items():
            if p.watermark_ms is None and not p.devices:
                continue
            for rule in self.rules.for_patient(patient_id).rules:
                if _on_clock(rule):
                    ctx = Context(p.series, p.watermark_ms or wall_ms, wall_ms, patient_id,
                                  p.devices)
                    t = self._step(rule, patient_id, p, ctx, wall_ms)
                    if t is not None:
                        out.append(t)
        return out

    def set_rules(self, rules: RuleSet) -> list[Transition]:
        """Swap the rule set; alerts of rules that no longer apply to a patient resolve."""
        old, self.rules = self.rules, rules
        out: list[Transition] = []
        for patient_id, p in self.patients.items():
            names = {r.name for r in rules.for_patient(patient_id).rules}
            before = {r.name: r for r in old.for_patient(patient_id).rules}
            for name, st in list(p.alerts.items()):
                if name in names:
                    continue
                if st.firing and name in before:
                    at = p.watermark_ms or 0
                    t = step(before[name], patient_id, st, Outcome(False, False), at)
                    if t is not None:
                        t.summary = f"{name} resolved: rule removed or disabled"
                        out.append(t)
                del p.alerts[name]
        return out

    def adopt(self, patient_id: str, rule: str, alert_id: str, started_ms: int,
              severity: str) -> None:
        """Take over a firing alert stored in the database (after a restart)."""
        st = self.patient(patient_id).alerts.setdefault(rule, AlertState())
        st.alert_id, st.started_ms, st.severity = alert_id, started_ms, severity
        st.pending_since_ms = None

    def reconcile(self, patient_ids: Iterable[str],
                  firing: Iterable[tuple[str, str, str, int, str]]) -> None:
        """Make the firing alerts of ``patient_ids`` exactly the stored ones
        (patient, rule, alert_id, started_ms, severity): the database is the record."""
        owned = set(patient_ids)
        for patient_id in owned & set(self.patients):
            for st in self.patients[patient_id].alerts.values():
                st.alert_id = st.started_ms = st.severity = None
        for patient_id, rule, aid, started_ms, severity in firing:
            if patient_id in owned:
                self.adopt(patient_id, rule, aid, started_ms, severity)

    def seed_rollup(self, patient_id: str, metric: str, width_ms: int, start_ms: int,
                    total: float, count: int) -> None:
        """Load a roll-up bucket computed by the database (baseline history)."""
        p = self.patient(patient_id)
        s = self._series(p, self.rules.for_patient(patient_id), metric)
        s.rollups.setdefault(width_ms, {})[start_ms] = [total, count]

    def set_arrived(self, patient_id: str, metric: str, arrived_ms: int) -> None:
        """When the latest reading of ``metric`` arrived (rebuilt from ``ingested_at``)."""
        s = self.patient(patient_id).series.get(metric)
        if s is not None:
            s.arrived_ms = arrived_ms

    def set_devices(self, status: dict[str, dict[str, bool]]) -> None:
        """Each patient's devices and whether they are online (from the device registry)."""
        for patient_id, devices in status.items():
            self.patient(patient_id).devices = devices
        for patient_id, p in self.patients.items():
            if patient_id not in status:
                p.devices = {}

    def forget(self, patient_id: str) -> None:
        """Drop a patient's state (its shard moved to another replica)."""
        self.patients.pop(patient_id, None)

    def _series(self, p: PatientState, eff: Effective, metric: str) -> Series:
        s = p.series.get(metric)
        if s is None:
            s = p.series[metric] = Series()
            for width in eff.rollups.get(metric, ()):
                s.rollups[width] = {}
        return s

    def _step(self, rule: Rule, patient_id: str, p: PatientState, ctx: Context,
              at_ms: int) -> Transition | None:
        self.evaluations += 1
        st = p.alerts.get(rule.name)
        if st is None:
            st = p.alerts[rule.name] = AlertState()
        return step(rule, patient_id, st, evaluate(rule, ctx), at_ms)

    @staticmethod
    def _trim(p: PatientState, eff: Effective, metric: str) -> None:
        s = p.series[metric]
        w = p.watermark_ms or 0
        keep_ms = int(eff.retention_s.get(metric, 0.0) * 1000) + _MARGIN_MS
        roll = eff.baseline_s.get(metric)
        s.trim(w - keep_ms, None if roll is None else w - int(roll * 1000) - 86_400_000)
