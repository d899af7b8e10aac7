"""The request/response format on ``vigil/v1/cache/requests`` (JSON; README, "Requests").

A request is one JSON object with an ``op``; the answer goes to the request's MQTT 5 response
topic with the same correlation data: ``{"ok": true, "op", "source", "as_of", "data"}`` or
``{"ok": false, "error"}`` where the error names the field at fault.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from vigil.core import topics

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
Source = Literal["redis", "database"]
Resolution = Literal["raw", "1m", "1h", "1d"]


PatientId = Annotated[str, Field(min_length=1, max_length=64)]


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    patient_id: PatientId

    @model_validator(mode="after")
    def _valid_patient(self) -> _Request:
        try:
            topics.check_id("patient", self.patient_id)
        except topics.TopicError as exc:
            raise ValueError(f"patient_id: {exc}") from None
        return self


class LatestRequest(_Request):
    """The newest value of every metric of a patient, with device presence."""

    op: Literal["latest"]


class AlertsRequest(_Request):
    """The firing alerts of a patient."""

    op: Literal["alerts"]


class RangeRequest(_Request):
    """Readings of one metric with ``from <= time < to`` (raw points or rollup buckets)."""

    op: Literal["range"]
    metric: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]
    start: datetime = Field(alias="from")
    end: datetime | None = Field(default=None, alias="to")
    resolution: Resolution = "raw"

    @model_validator(mode="after")
    def _ordered(self) -> RangeRequest:
        for name, t in (("from", self.start), ("to", self.end)):
            if t is not None and t.tzinfo is None:
                raise ValueError(f"{name}: needs a UTC offset (e.g. 2026-11-23T10:00:00Z)")
        if self.end is not None and self.end <= self.start:
            raise ValueError("to: must be after 'from'")
        return self

    def window_ms(self, now_ms: int) -> tuple[int, int]:
        """``[from, to)`` in unix ms (``to`` defaults to now, inclusive of this millisecond)."""
        end = to_ms(self.end) if self.end is not None else now_ms + 1
        return to_ms(self.start), end


Request = Annotated[LatestRequest | AlertsRequest | RangeRequest, Field(discriminator="op")]
_ADAPTER: TypeAdapter[LatestRequest | AlertsRequest | RangeRequest] = TypeAdapter(Request)


class BadRequestError(ValueError):
    """A request that cannot be answered; the message names the field."""


def parse(payload: bytes) -> LatestRequest | AlertsRequest | RangeRequest:
    """Validate a request; raise :class:`BadRequestError` naming the first bad field."""
    try:
        return _ADAPTER.validate_json(payload)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"] if p not in ("latest", "alerts", "range"))
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "json_invalid":
            msg = f"request: not a JSON object ({msg})"
        elif err["type"] == "union_tag_invalid":
            msg = "op: must be one of 'latest', 'range', 'alerts'"
        elif err["type"] == "union_tag_not_found":
            msg = "op: missing (one of 'latest', 'range', 'alerts')"
        elif where and not msg.startswith(f"{where}:"):
            msg = f"{where}: {msg}"
        raise BadRequestError(msg) from None


def to_ms(t: datetime) -> int:
    """Unix milliseconds of an aware datetime."""
    return (t - _EPOCH) // _MS


def iso(ms: int) -> str:
    """ISO 8601 UTC with milliseconds."""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds") \
        .replace("+00:00", "Z")


def ok(op: str, source: Source, as_of_ms: int, data: Any) -> bytes:
    """A successful answer."""
    return json.dumps({"ok": True, "op": op, "source": source, "as_of": iso(as_of_ms),
                       "data": data}, separators=(",", ":")).encode()


def error(message: str) -> bytes:
    """A refused request."""
    return json.dumps({"ok": False, "error": message}).encode()
