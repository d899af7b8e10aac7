"""Glucose-meter JSON: one reading per message, strict schema, clock-skew guard."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from vigil.ingest.decode.glucose import decode_glucose
from vigil.ingest.decode.model import DecodeError, Sample

NOW = datetime(2026, 11, 23, 12, tzinfo=UTC)


def body(**fields: Any) -> bytes:
    reading = {"time": "2026-11-23T10:15:00+01:00", "value": 112, "unit": "mg/dL"} | fields
    return json.dumps({k: v for k, v in reading.items() if v is not ...}).encode()


def test_full_reading() -> None:
    decoded = decode_glucose(body(meal="before_meal", seq=42), now=NOW)
    assert decoded.samples == [
        Sample(datetime(2026, 11, 23, 9, 15, tzinfo=UTC), "glucose", 112.0, "mg/dL", 100)
    ]
    assert decoded.rejects == []


def test_unix_milliseconds_and_mmol() -> None:
    (sample,) = decode_glucose(body(time=1700000000123, value=6.2, unit="mmol/L"), now=NOW).samples
    assert sample.time == datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)
    assert sample.value == pytest.approx(111.696646)
    assert sample.unit == "mg/dL"


@pytest.mark.parametrize("meal", ["before_meal", "after_meal", "fasting", "unspecified", None, ...])
def test_meal_is_optional(meal: object) -> None:
    assert len(decode_glucose(body(meal=meal), now=NOW).samples) == 1


def test_a_reading_up_to_ten_minutes_ahead_is_accepted() -> None:
    assert decode_glucose(body(time="2026-11-23T12:10:00Z"), now=NOW).samples


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"time": ...}, "glucose: time: Field required"),
        ({"value": ...}, "glucose: value: Field required"),
        ({"unit": ...}, "glucose: unit: Field required"),
        ({"valeu": 1}, "glucose: valeu: Extra inputs are not permitted"),
        ({"value": "112"}, "glucose: value: Input should be a valid number"),
        ({"value": True}, "glucose: value: Input should be a valid number"),
        ({"value": float("nan")}, "glucose: value: Input should be a finite number"),
        ({"value": 1200}, "glucose: value: 1200 mg/dL outside 10..1000"),
        ({"value": 0.2, "unit": "mmol/L"}, "glucose: value: 3.60312 mg/dL outside 10..1000"),
        ({"unit": "mg/dl"}, "glucose: unit: Input should be 'mg/dL' or 'mmol/L'"),
        ({"meal": "lunch"}, "glucose: meal: Input should be"),
        ({"seq": -1}, "glucose: seq: Input should be greater than or equal to 0"),
        ({"seq": "42"}, "glucose: seq: Input should be a valid integer"),
        ({"time": 1.7e12}, "glucose: time: expected an ISO 8601 string or an integer"),
        ({"time": True}, "glucose: time: expected an ISO 8601 string or an integer"),
        ({"time": "2026-11-23T10:15:00"}, "glucose: time: '2026-11-23T10:15:00' has no UTC"),
        ({"time": "23/11/2026 10:15"}, "glucose: time: '23/11/2026 10:15' is not an ISO 8601"),
        ({"time": "2026-11-23T12:10:01Z"}, "glucose: time: .* is more than 10 minutes ahead"),
        ({"time": 1700000000}, "glucose: time: 1970-01-20.* seconds sent instead of millis"),
        ({"time": 10**30}, "glucose: time: 1000000000000000000000000000000 ms is out of range"),
        ({"time": "0001-01-01T00:00:00+01:00"}, "glucose: time: .* is out of range"),
    ],
)
def test_problems_name_the_field(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(DecodeError, match=f"^{message}"):
        decode_glucose(body(**fields), now=NOW)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"\xff{}", "glucose: payload: not UTF-8"),
        (b"{", "glucose: payload: Invalid JSON"),
        (b"", "glucose: payload: Invalid JSON"),
        (b"[112]", "glucose: payload: Input should be an object"),
        (b"null", "glucose: payload: Input should be an object"),
    ],
)
def test_payload_errors(payload: bytes, message: str) -> None:
    with pytest.raises(DecodeError, match=f"^{message}"):
        decode_glucose(payload, now=NOW)


def test_default_now_is_the_current_time() -> None:
    assert decode_glucose(body(time=int(datetime.now(UTC).timestamp() * 1000))).samples
