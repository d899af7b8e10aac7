"""Silences and snoozes, with the safety floor: a critical alert is never muted."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace

from vigil.notifier.model import Alert, Severity

# The floor: alerts at or above this severity break through every silence and snooze.
SAFETY_FLOOR = Severity.CRITICAL
# Ended silences are kept this long (for listing) before they are forgotten.
KEEP_ENDED_S = 86_400.0


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
    created_at: float = 0.0
    expired_at: float | None = None

    def active(self, now: float) -> bool:
        """In force at ``now`` (start inclusive, end exclusive)."""
        return self.starts_at <= now < self.ends_at

    def state(self, now: float) -> str:
        """``pending``, ``active`` or ``expired``."""
        if now >= self.ends_at or self.expired_at is not None:
            return "expired"
        return "active" if now >= self.starts_at else "pending"

    def covers(self, alert: Alert) -> bool:
        """Every matcher equals the alert's value for that label."""
        return all(alert.label(name) == value for name, value in self.matchers.items())


class Silences:
    """The set of silences; pure, time is always passed in. The service persists them."""

    def __init__(self) -> None:
        self._silences: dict[str, Silence] = {}

    def build(self, matchers: Mapping[str, str], starts_at: float, ends_at: float,
              created_by: str, comment: str, created_at: float = 0.0) -> Silence:
        """A validated new silence (not yet added): needs a matcher, an author, a comment."""
        if not matchers:
            raise SilenceError("a silence needs at least one matcher")
        if any(not str(name).strip() or not str(value).strip()
               for name, value in matchers.items()):
            raise SilenceError("a matcher needs a label name and a value")
        if ends_at <= starts_at:
            raise SilenceError("a silence must end after it starts")
        if not created_by.strip() or not comment.strip():
            raise SilenceError("a silence needs created_by and a comment")
        return Silence(uuid.uuid4().hex, dict(matchers), starts_at, ends_at,
                       created_by.strip(), comment.strip(), created_at or starts_at)

    def add(self, matchers: Mapping[str, str], starts_at: float, ends_at: float,
            created_by: str, comment: str) -> Silence:
        """Create and keep a silence."""
        silence = self.build(matchers, starts_at, ends_at, created_by, comment)
        self.put(silence)
        return silence

    def put(self, silence: Silence) -> None:
        """Keep ``silence`` (a new one, or one loaded from the database)."""
        self._silences[silence.id] = silence

    def snooze(self, alert_id: str, now: float, until: float, by: str) -> Silence:
        """Mute one alert episode until ``until``."""
        return self.add({"alert_id": alert_id}, now, until, by, "snoozed")

    def get(self, silence_id: str) -> Silence | None:
        """The silence with this id, or None."""
        return self._silences.get(silence_id)

    def expired(self, silence_id: str, now: float) -> Silence:
        """The silence as it is once expired at ``now`` (not stored); KeyError if unknown."""
        old = self._silences[silence_id]
        if old.state(now) == "expired":
            return old
        return replace(old, ends_at=min(old.ends_at, now), expired_at=now)

    def expire(self, silence_id: str, now: float) -> Silence:
        """End a silence early; KeyError when unknown. Expiring twice changes nothing."""
        silence = self.expired(silence_id, now)
        self._silences[silence_id] = silence
        return silence

    def all(self, now: float) -> list[Silence]:
        """Every silence known, oldest first; those ended long ago are forgotten."""
        for silence in [s for s in self._silences.values() if s.ends_at < now - KEEP_ENDED_S]:
            del self._silences[silence.id]
        return sorted(self._silences.values(), key=lambda s: (s.created_at, s.id))

    def active(self, now: float) -> list[Silence]:
        """Silences in force at ``now``."""
        return [s for s in self._silences.values() if s.active(now)]

    def muting(self, alert: Alert, now: float) -> Silence | None:
        """The silence that mutes ``alert`` now, or None; never one for a critical alert."""
        if alert.severity >= SAFETY_FLOOR:
            return None
        return next((s for s in self.active(now) if s.covers(alert)), None)
