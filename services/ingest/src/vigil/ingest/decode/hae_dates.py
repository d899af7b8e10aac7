"""Date parsing for Health Auto Export payloads: every form the app emits, always tz-aware UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

# 12-hour clock, as iOS writes it with a 12-hour locale setting. The space before AM/PM may be a
# plain space, a no-break space or the narrow no-break space (U+202F) that iOS 17 inserts.
_TWELVE_HOUR = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?"
    r"[ \u00a0\u202f]?([AaPp])\.?[Mm]\.?"
    r"(?:[ \u00a0\u202f]?(Z|[+-]\d{2}:?\d{2}))?",
    re.ASCII,
)
_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


class DateError(ValueError):
    """A date string that is not one of the forms the app emits, or has no UTC offset."""


def _offset(text: str) -> timezone:
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 23 or minutes > 59:
        raise DateError(f"bad UTC offset {text!r}")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _twelve_hour(text: str) -> datetime | None:
    m = _TWELVE_HOUR.fullmatch(text)
    if m is None:
        return None
    year, month, day, hour, minute, second, half, tz = m.groups()
    h = int(hour)
    if not 1 <= h <= 12:
        raise DateError(f"hour {h} is not on a 12-hour clock in {text!r}")
    h = h % 12 + (12 if half in "Pp" else 0)
    if tz is None:
        raise DateError(f"date {text!r} has no UTC offset")
    return datetime(
        int(year), int(month), int(day), h, int(minute), int(second or 0), tzinfo=_offset(tz)
    )


def _twelve_hour_or_raise(text: str) -> datetime:
    try:
        parsed = _twelve_hour(text)
    except ValueError as exc:  # out-of-range day, month, offset...
        raise DateError(str(exc)) from None
    if parsed is None:
        raise DateError(f"unrecognised date {text[:40]!r}")
    return parsed


def parse_hae_date(text: object) -> datetime:
    """Parse one date from a Health Auto Export payload into a tz-aware UTC datetime.

    Accepted: ``2024-02-06 14:30:00 -0800`` (the app's default), the same with a 12-hour clock
    (``2:30:00 PM``, any case, optional U+202F before AM/PM), ISO 8601 with an offset or ``Z``,
    and a bare date ``2024-02-06`` (daily aggregates), read as midnight UTC. A date-time without
    an offset is refused rather than guessed. Raises :class:`DateError`.
    """
    if not isinstance(text, str):
        raise DateError(f"expected a date string, got {type(text).__name__}")
    text = text.strip()
    if "M" in text or "m" in text:  # AM/PM: no ISO form has an M, so skip the failing C parser
        parsed = _twelve_hour_or_raise(text)
    else:
        try:
            # The C parser takes the app's default form (space before the offset too) and ISO.
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise DateError(f"unrecognised date {text[:40]!r}") from None
    if parsed.tzinfo is None:
        if not _DATE_ONLY.fullmatch(text):
            raise DateError(f"date {text[:40]!r} has no UTC offset")
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise DateError(f"date {text[:40]!r} is out of range") from None


class DateCache:
    """Memoises :func:`parse_hae_date` for one payload: exports repeat the same hourly dates
    across metrics, so most look-ups are hits."""

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        # A failed parse is kept as its message, so a repeated bad date costs one look-up too.
        self._seen: dict[str, datetime | str] = {}

    def parse(self, text: object) -> datetime:
        """Parse like :func:`parse_hae_date`, reusing earlier results for the same string."""
        if not isinstance(text, str):
            return parse_hae_date(text)
        hit = self._seen.get(text)
        if hit is None:
            try:
                hit = parse_hae_date(text)
            except DateError as exc:
                hit = str(exc)
            self._seen[text] = hit
        if isinstance(hit, str):
            raise DateError(hit)
        return hit
