"""Silences and snoozes, with the safety floor: a critical alert is never muted."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

from vigil.notifier.model import Alert, Severity

# The floor: alerts at or above this severity break through every silence and snooze.
SAFETY_FLOOR = Severity.CRITICAL


class SilenceError(ValueError):
    """A silence that cannot be created as asked."""


@dataclass(frozen=True)
class Silence:
    """Mutes alerts whose labels equal every matcher, from ``starts_at`` until ``ends_at``."""

    id: str
    matchers: Mapping[str, str]
    starts_at: float
    ends_at: float
    created_by: str
    comment: str

    def active(self, now: float) -> bool:
        """In force at ``now`` (start inclusive, end exclusive)."""
        return self.starts_at <= now < self.ends_at

    def covers(self, alert: Alert) -> bool:
        """Every matcher equals the alert's value for that label."""
        return all(alert.label(name) == value for name, value in self.matchers.items())


class Silences:
    """The set of silences; pure, time is always passed in."""

    def __init__(self) -> None:
        self._silences: dict[str, Silence] = {}
        self._ids = itertools.count(1)

    def add(self, matchers: Mapping[str, str], starts_at: float, ends_at: float,
            created_by: str, comment: str) -> Silence:
        """Create a silence; it needs at least one matcher, an author and a comment."""
        if not matchers:
            raise SilenceError("a silence needs at least one matcher")
        if ends_at <= starts_at:
            raise SilenceError("a silence must end after it starts")
        if not created_by.strip() or not comment.strip():
            raise SilenceError("a silence needs created_by and a comment")
        silence = Silence(f"s{next(self._ids)}", dict(matchers), starts_at, ends_at,
                          created_by, comment)
        self._silences[silence.id] = silence
        return silence

    def snooze(self, alert_id: str, now: float, until: float, by: str) -> Silence:
        """Mute one alert episode until ``until``."""
        return self.add({"alert_id": alert_id}, now, until, by, "snoozed")

    def expire(self, silence_id: str, now: float) -> None:
        """End a silence early."""
        old = self._silences[silence_id]
        self._silences[silence_id] = Silence(old.id, old.matchers, old.starts_at,
                                             min(old.ends_at, now), old.created_by, old.comment)

    def active(self, now: float) -> list[Silence]:
        """Silences in force at ``now``."""
        return [s for s in self._silences.values() if s.active(now)]

    def muting(self, alert: Alert, now: float) -> Silence | None:
        """The silence that mutes ``alert`` now, or None; never one for a critical alert."""
        if alert.severity >= SAFETY_FLOOR:
            return None
        return next((s for s in self.active(now) if s.covers(alert)), None)
