"""Helpers for the rules unit tests: an engine from YAML text, readings on a minute grid."""

from __future__ import annotations

from vigil.rules.lifecycle import Transition
from vigil.rules.load import parse_rules
from vigil.rules.ruleset import RuleSet
from vigil.rules.state import Engine, Reading

T0 = 1_700_006_400_000  # 2023-11-15 00:00:00 UTC, a whole day
MIN = 60_000


def engine(text: str, skew_s: float = 300.0) -> Engine:
    """An engine over the rules in ``text`` (a YAML rule file)."""
    return Engine(RuleSet(parse_rules(text, "test.yaml")), skew_s)


def at(minute: float) -> int:
    """Event time ``minute`` minutes after T0."""
    return T0 + round(minute * MIN)


def feed(e: Engine, metric: str, points: list[tuple[float, float]], patient: str = "p1",
         device: str = "d1", wall: float | None = None) -> list[Transition]:
    """Process readings one message each; wall clock = reading time unless ``wall`` given."""
    out: list[Transition] = []
    for minute, value in points:
        wall_ms = at(minute if wall is None else wall)
        out += e.process(patient, [Reading(at(minute), metric, value, device)], wall_ms)
    return out


def events(ts: list[Transition]) -> list[tuple[str, str, float, str]]:
    """(rule, kind, minute, severity) of each transition."""
    return [(t.rule, t.kind, (t.at_ms - T0) / MIN, t.severity) for t in ts]
