"""Request bodies of the HTTP API, validated with pydantic (unknown fields are refused)."""

from __future__ import annotations

import re

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from vigil.notifier.config import ConfigError, parse_duration

_LABEL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_STRICT = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _duration(value: str) -> float:
    try:
        seconds = parse_duration(value, "duration")
    except ConfigError as exc:
        raise ValueError(str(exc).removeprefix("duration: ")) from None
    if seconds <= 0:
        raise ValueError("must be longer than 0s")
    return seconds


class SilenceIn(BaseModel):
    """``POST /api/v1/silences``: give ``ends_at`` or ``duration`` (e.g. ``2h``)."""

    model_config = _STRICT
    matchers: dict[str, str] = Field(min_length=1)
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    duration: str | None = Field(default=None, validate_default=True)
    created_by: str = Field(min_length=1, max_length=200)
    comment: str = Field(min_length=1, max_length=2000)

    @field_validator("matchers")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        for name, wanted in value.items():
            if not _LABEL.match(name):
                raise ValueError(f"label name {name!r} is not a name (e.g. patient_id)")
            if not wanted.strip():
                raise ValueError(f"label {name!r} needs a value")
        return {name: wanted.strip() for name, wanted in value.items()}

    @field_validator("duration")
    @classmethod
    def _one_end(cls, value: str | None, info: ValidationInfo) -> str | None:
        ends_at = info.data.get("ends_at")
        if value is None and ends_at is None:
            raise ValueError("give a duration (e.g. 2h) or ends_at")
        if value is not None and ends_at is not None:
            raise ValueError("give a duration or ends_at, not both")
        if value is not None:
            _duration(value)
        return value

    @property
    def duration_s(self) -> float | None:
        """The duration in seconds, when one was given."""
        return None if self.duration is None else _duration(self.duration)


class SnoozeIn(BaseModel):
    """``POST /api/v1/alerts/{alert_id}/snooze`` (or ``/patients/{patient_id}/snooze``)."""

    model_config = _STRICT
    duration: str
    by: str = Field(min_length=1, max_length=200)
    comment: str = Field(default="snoozed", min_length=1, max_length=2000)

    @field_validator("duration")
    @classmethod
    def _valid(cls, value: str) -> str:
        _duration(value)
        return value

    @property
    def duration_s(self) -> float:
        """The duration in seconds."""
        return _duration(self.duration)


class AckIn(BaseModel):
    """``POST /api/v1/alerts/{alert_id}/ack``."""

    model_config = _STRICT
    by: str = Field(min_length=1, max_length=200)
    comment: str = Field(default="", max_length=2000)
