"""Decoder for glucose-meter JSON, one reading per message on ``vigil/v1/devices/{id}/glucose``.

``{"time": "2026-11-23T10:15:00+01:00" | 1700000000000, "value": 112, "unit": "mg/dL",
"meal": "before_meal", "seq": 42}``: ``time`` is ISO 8601 with an offset or unix milliseconds;
``meal`` and ``seq`` are optional; any other key is refused so a typo cannot pass silently.
This is the ingest hot path, so the schema is compiled once and validated straight from bytes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from vigil.core.catalogue import RangeError, get

from .model import Decoded, DecodeError, Sample

_GLUCOSE = get("glucose")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Readings dated before this come from a meter whose clock was never set (or that sent
# seconds where milliseconds belong): refused rather than stored decades in the past.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
# Clock-skew guard: a meter may run a little fast, but not by more than this.
MAX_AHEAD = timedelta(minutes=10)


class GlucoseReading(BaseModel):
    """The wire format of one glucose reading (strict: no strings for numbers, no bools)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    time: str | int
    value: Annotated[float, Field(allow_inf_nan=False)]
    unit: Literal["mg/dL", "mmol/L"]
    meal: Literal["before_meal", "after_meal", "fasting", "unspecified"] | None = None
    seq: Annotated[int, Field(ge=0)] | None = None


def decode_glucose(payload: bytes, *, now: datetime | None = None) -> Decoded:
    """Decode one glucose-meter reading into a single ``glucose`` sample in mg/dL.

    ``now`` (default: the current time) is the reference for the clock-skew guard. Every
    problem raises :class:`DecodeError` whose message names the field.
    """
    try:
        reading = GlucoseReading.model_validate_json(payload)
    except ValidationError as exc:
        raise DecodeError(_describe(exc, payload)) from None
    when = _time(reading.time)
    if when < EARLIEST:
        raise DecodeError(
            f"glucose: time: {when.isoformat()} is before {EARLIEST.date()} "
            "(clock not set, or seconds sent instead of milliseconds?)"
        )
    if when > (now or datetime.now(UTC)) + MAX_AHEAD:
        raise DecodeError(f"glucose: time: {when.isoformat()} is more than 10 minutes ahead")
    try:
        value = _GLUCOSE.to_canonical(reading.value, reading.unit)
    except RangeError as exc:
        raise DecodeError(f"glucose: value: {str(exc).removeprefix('glucose: ')}") from None
    return Decoded(samples=[Sample(when, "glucose", round(value, 6), _GLUCOSE.unit)])


def _time(raw: str | int) -> datetime:
    if isinstance(raw, int):
        try:
            return _EPOCH + timedelta(milliseconds=raw)
        except OverflowError:
            raise DecodeError(f"glucose: time: {raw} ms is out of range") from None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise DecodeError(f"glucose: time: {raw[:40]!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise DecodeError(f"glucose: time: {raw[:40]!r} has no UTC offset")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise DecodeError(f"glucose: time: {raw[:40]!r} is out of range") from None


def _describe(exc: ValidationError, payload: bytes) -> str:
    problems: dict[str, str] = {}
    for err in exc.errors(include_url=False, include_input=False):
        if err["type"] == "json_invalid":
            return f"glucose: payload: {_json_problem(payload, err['msg'])}"
        field = str(err["loc"][0]) if err["loc"] else "payload"
        if field == "time" and len(err["loc"]) > 1:  # one error per member of the union
            problems[field] = "expected an ISO 8601 string or an integer of unix milliseconds"
        else:
            problems.setdefault(field, err["msg"])
    return "glucose: " + "; ".join(f"{f}: {m}" for f, m in list(problems.items())[:4])


def _json_problem(payload: bytes, msg: str) -> str:
    try:
        str(payload, "utf-8")
    except (UnicodeDecodeError, TypeError):
        return "not UTF-8"
    return msg
