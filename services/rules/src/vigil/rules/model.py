"""The rule file model: what a clinician writes, validated on construction.

A rule is a *signal* (a number computed from a patient's readings: the latest value, a window
aggregate, a trend, a projection, a data age, a baseline z-score or a NEWS2 score) compared with
one or more severity *levels*; or a *composite* of such conditions (``any``/``all``).
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cached_property
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from vigil.core import catalogue

Severity = Literal["info", "warning", "high", "critical"]
SEVERITY_RANK: dict[str, int] = {"info": 1, "warning": 2, "high": 3, "critical": 4}
Kind = Literal["threshold", "window", "rate", "predict", "stale", "baseline", "news2",
               "offline"]
Op = Literal["above", "below", "at_least", "at_most"]
OPS: tuple[Op, ...] = ("above", "below", "at_least", "at_most")
NEWS2_INPUTS = ("respiratory_rate", "spo2", "blood_pressure_systolic", "heart_rate",
                "body_temperature")

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, None: 1.0}
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")


def parse_duration(value: object) -> float:
    """Seconds from ``90``, ``"90s"``, ``"10m"``, ``"2h"`` or ``"7d"``."""
    if isinstance(value, bool):
        raise ValueError("a duration is a number of seconds or a string like '10m'")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and (m := _DURATION.match(value)):
        seconds = float(m.group(1)) * _UNIT_S[m.group(2)]
    else:
        raise ValueError(f"{value!r} is not a duration (use e.g. 30s, 10m, 2h, 7d)")
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    return seconds


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Comparison(_Strict):
    """One of ``above`` (>), ``below`` (<), ``at_least`` (>=), ``at_most`` (<=)."""

    above: float | None = None
    below: float | None = None
    at_least: float | None = None
    at_most: float | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Comparison:
        given = [op for op in OPS if getattr(self, op) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of above/below/at_least/at_most (got {given})")
        return self

    @cached_property
    def compiled(self) -> tuple[Op, float]:
        """(operator, bound), resolved once: evaluation is the hot path."""
        op = next(op for op in OPS if getattr(self, op) is not None)
        return op, float(getattr(self, op))

    @property
    def op(self) -> Op:
        """The operator given."""
        return self.compiled[0]

    @property
    def bound(self) -> float:
        """The threshold value."""
        return self.compiled[1]

    def met(self, value: float, slack: float = 0.0) -> bool:
        """Whether ``value`` meets the comparison; ``slack`` widens it (hysteresis)."""
        op, bound = self.compiled
        if op == "above":
            return value > bound - slack
        if op == "at_least":
            return value >= bound - slack
        if op == "below":
            return value < bound + slack
        return value <= bound + slack


class Level(Comparison):
    """A severity and its comparison, e.g. ``{severity: critical, below: 54}``."""

    severity: Severity


class Signal(_Strict):
    """What to compute from the readings; which fields apply depends on ``kind``."""

    kind: Kind = "threshold"
    metric: str | None = None
    agg: Literal["avg", "min", "max", "count", "sum"] | None = None
    window: float | None = None
    lookback: float | None = None
    horizon: float | None = None
    method: Literal["linear", "ar2", "mad", "ewma"] | None = None
    min_points: int = Field(default=3, ge=1)
    max_age: float | None = None
    expected: float | None = None
    bucket: float | None = None
    by_time_of_day: bool = False
    spo2_scale: Literal[1, 2] = 1
    oxygen: bool = False

    @field_validator("window", "lookback", "horizon", "max_age", "expected", "bucket",
                     mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        return None if value is None else parse_duration(value)

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, value: str | None) -> str | None:
        if value is not None and value not in catalogue.METRICS:
            raise ValueError(f"unknown metric {value!r} (see the catalogue)")
        return value

    @model_validator(mode="after")
    def _fields_of_kind(self) -> Signal:
        from vigil.rules.kinds import check_signal

        check_signal(self)
        return self


class Condition(Signal, Comparison):
    """A signal and one comparison: a branch of a composite rule."""


_SIGNAL_FIELDS = frozenset(Signal.model_fields)


class Rule(_Strict):
    """One alert rule; see the README for every field."""

    name: str
    description: str = ""
    enabled: bool = True
    labels: dict[str, str] = Field(default_factory=dict)
    for_: float = Field(default=0.0, alias="for")
    hysteresis: float = Field(default=0.0, ge=0)
    # Single-signal rules: a signal and levels (or severity + one comparison as a shorthand).
    signal: Signal | None = None
    levels: tuple[Level, ...] = ()
    # Composite rules: conditions combined with any (OR) or all (AND), at one severity.
    any: tuple[Condition, ...] = ()
    all: tuple[Condition, ...] = ()
    severity: Severity | None = None

    @field_validator("name")
    @classmethod
    def _valid_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("a rule name is 1-63 characters of [a-z0-9_.-], lower case first")
        return value

    @field_validator("for_", mode="before")
    @classmethod
    def _for_duration(cls, value: object) -> float:
        return parse_duration(value)

    @model_validator(mode="before")
    @classmethod
    def _lift_signal(cls, data: Any) -> Any:
        """Accept the signal's fields and a single comparison at the rule's top level."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        signal = {k: data.pop(k) for k in list(data) if k in _SIGNAL_FIELDS}
        if signal:
            if "signal" in data:
                raise ValueError("give the signal's fields either under 'signal' or inline")
            data["signal"] = signal
        comparison: dict[str, Any] = {k: data.pop(k) for k in OPS if k in data}
        if signal.get("kind") == "stale" and not comparison and not data.get("levels") \
                and signal.get("expected") is not None:
            # A stale rule's level is implied: the age exceeds the expected cadence.
            comparison = {"above": parse_duration(signal["expected"])}
            data.setdefault("severity", "warning")
        if signal.get("kind") == "offline" and not comparison and not data.get("levels"):
            comparison = {"above": 0}  # any device of the patient reported offline
            data.setdefault("severity", "warning")
        if comparison:
            if data.get("levels"):
                raise ValueError("give either 'levels' or one comparison, not both")
            data["levels"] = [{**comparison, "severity": data.get("severity")}]
        return data

    @model_validator(mode="after")
    def _shape(self) -> Rule:
        composite = bool(self.any) or bool(self.all)
        if self.any and self.all:
            raise ValueError("a composite rule has either 'any' or 'all', not both")
        if composite and (self.signal is not None or self.levels):
            raise ValueError("a composite rule has no signal of its own and no levels")
        if composite and self.severity is None:
            raise ValueError("a composite rule needs a 'severity'")
        if not composite:
            if self.signal is None:
                raise ValueError("a rule needs a signal ('kind', 'metric', …) or 'any'/'all'")
            if not self.levels:
                raise ValueError("a rule needs 'levels' or one of above/below/at_least/at_most")
            if self.signal.kind == "stale" and len(self.levels) != 1:
                raise ValueError("a stale rule has exactly one level")
        if any(s.kind in ("stale", "offline") for s in self.signals()) and self.for_:
            raise ValueError("'for' does not apply to stale or offline signals (wall clock)")
        return self

    @property
    def conditions(self) -> tuple[Condition, ...]:
        """The branches of a composite rule (empty for a single-signal rule)."""
        return self.any or self.all

    @property
    def version(self) -> str:
        """A short content hash: changes whenever anything that affects evaluation changes."""
        text = json.dumps(self.model_dump(mode="json", by_alias=True), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    def signals(self) -> list[Signal]:
        """Every signal the rule evaluates."""
        return [self.signal] if self.signal is not None else list(self.conditions)

    def metrics(self) -> set[str]:
        """Every metric whose readings can change the rule's outcome."""
        out: set[str] = set()
        for s in self.signals():
            out |= set(NEWS2_INPUTS) if s.kind == "news2" else {s.metric or ""}
        out.discard("")
        return out

    def snapshot(self) -> dict[str, Any]:
        """Thresholds as stored on the alert (what the rule compared against)."""
        return self.model_dump(mode="json", by_alias=True, exclude={"description", "labels"},
                               exclude_defaults=True)


class RuleFile(_Strict):
    """The whole file: ``version: 1`` and a list of rules with unique names."""

    version: Literal[1] = 1
    rules: tuple[Rule, ...] = ()
