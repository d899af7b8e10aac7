"""What every decoder returns: samples in canonical units, plus reasons for skipped items."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


class DecodeError(ValueError):
    """The whole payload is unusable; the message says what was wrong and where."""


@dataclass(slots=True)
class Sample:
    """One reading from a payload, converted to the catalogue's canonical unit and range-checked.

    ``time`` is timezone-aware. The patient is not known here: ingest resolves it from the
    device registry.
    """

    time: datetime
    metric: str
    value: float
    unit: str
    quality: int = 100


@dataclass(slots=True)
class Decoded:
    """A payload's valid samples, and one reason per item that was dropped from it.

    A payload with some bad items keeps its good ones: ingest stores ``samples`` and writes
    each reason in ``rejects`` to the dead-letter table.
    """

    samples: list[Sample] = field(default_factory=list)
    rejects: list[str] = field(default_factory=list)
