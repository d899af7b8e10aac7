"""Simulated time: a clock that runs ``speed`` simulated seconds per real second, and durations."""

from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d|w)?\s*$")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """Parse ``90s``, ``5m``, ``1h``, ``2d``, ``1.5h`` or a bare number of seconds."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 30s, 5m, 1h, 2d)")
    return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2) or "s"])


def parse_tz(name: str | None) -> tzinfo:
    """An IANA zone (``Europe/Paris``), ``UTC``, or None for the machine's local zone."""
    if not name:
        local = datetime.now().astimezone().tzinfo
        return local if local is not None else UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {name!r} (use an IANA name like Europe/Paris)"
        ) from None


def floor_time(t: datetime, step: timedelta) -> datetime:
    """Round ``t`` down to a multiple of ``step`` since the Unix epoch (in UTC, so that adding
    to it is exact across daylight-saving changes)."""
    seconds = step.total_seconds()
    return datetime.fromtimestamp(t.timestamp() // seconds * seconds, tz=UTC)


class SimClock:
    """Maps real (monotonic) time to simulated time: ``sim = start + (real - real0) * speed``."""

    def __init__(self, start: datetime, speed: float = 1.0,
                 stop: threading.Event | None = None) -> None:
        if not speed > 0:
            raise ValueError("speed must be > 0 simulated seconds per real second")
        self.start = start
        self.speed = speed
        self.stop = stop or threading.Event()
        self._real0 = time.monotonic()

    def now(self) -> datetime:
        """The current simulated time."""
        return self.start + timedelta(seconds=(time.monotonic() - self._real0) * self.speed)

    def sleep_until(self, when: datetime) -> bool:
        """Wait until simulated time ``when``; False if the stop event was set meanwhile."""
        while not self.stop.is_set():
            remaining = (when - self.now()).total_seconds() / self.speed
            if remaining <= 0:
                return True
            self.stop.wait(min(remaining, 1.0))
        return False
