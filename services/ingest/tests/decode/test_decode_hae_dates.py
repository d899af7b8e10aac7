"""Every date form Health Auto Export emits parses to the right instant, always tz-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from vigil.ingest.decode.hae_dates import DateCache, DateError, parse_hae_date

AT = datetime(2024, 2, 6, 22, 30, tzinfo=UTC)  # 14:30 at -08:00


@pytest.mark.parametrize(
    "text",
    [
        "2024-02-06 14:30:00 -0800",
        "2024-02-06 14:30:00-0800",
        "2024-02-06 2:30:00 PM -0800",
        "2024-02-06 02:30:00 PM -0800",
        "2024-02-06 2:30:00 pm -0800",
        "2024-02-06 2:30:00\u202fPM -0800",
        "2024-02-06 2:30:00\u00a0p.m. -0800",
        "2024-02-06 2:30:00PM -08:00",
        "2024-02-06 2:30 PM -0800",
        "2024-02-06T14:30:00-08:00",
        "2024-02-06T22:30:00Z",
        "2024-02-06T22:30:00.000+00:00",
        "2024-02-07T04:00:00+05:30",
        "  2024-02-06 14:30:00 -0800 ",
    ],
)
def test_forms_of_one_instant(text: str) -> None:
    parsed = parse_hae_date(text)
    assert parsed == AT
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-02-06 12:05:00 AM +0000", datetime(2024, 2, 6, 0, 5, tzinfo=UTC)),
        ("2024-02-06 12:05:00 PM +0000", datetime(2024, 2, 6, 12, 5, tzinfo=UTC)),
        ("2024-02-06 11:59:59 pm +0100", datetime(2024, 2, 6, 22, 59, 59, tzinfo=UTC)),
        ("2024-02-06", datetime(2024, 2, 6, tzinfo=UTC)),  # daily aggregates: midnight UTC
        ("2024-12-31 23:30:00 -0100", datetime(2025, 1, 1, 0, 30, tzinfo=UTC)),
    ],
)
def test_twelve_hour_clock_and_date_only(text: str, expected: datetime) -> None:
    assert parse_hae_date(text) == expected


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("2024-02-06 14:30:00", "no UTC offset"),
        ("2024-02-06 2:30:00 PM", "no UTC offset"),
        ("2024-02-06 13:30:00 PM -0800", "12-hour"),
        ("2024-02-06 0:30:00 AM -0800", "12-hour"),
        ("2024-02-30 2:30:00 PM -0800", "day is out of range"),
        ("2024-02-06 2:30:00 PM +2500", "bad UTC offset"),
        ("0001-01-01 00:00:00 +0100", "out of range"),
        ("yesterday", "unrecognised"),
        ("", "unrecognised"),
        ("2024-02-06 ٢:30:00 PM -0800", "unrecognised"),
        (1707258600, "expected a date string, got int"),
        (None, "expected a date string, got NoneType"),
    ],
)
def test_refused(text: object, why: str) -> None:
    with pytest.raises(DateError, match=why):
        parse_hae_date(text)


def test_cache_returns_the_same_results_and_errors() -> None:
    cache = DateCache()
    assert cache.parse("2024-02-06 14:30:00 -0800") == AT
    assert cache.parse("2024-02-06 14:30:00 -0800") == AT
    for _ in range(2):
        with pytest.raises(DateError, match="unrecognised"):
            cache.parse("nope")
    with pytest.raises(DateError):
        cache.parse(3)
