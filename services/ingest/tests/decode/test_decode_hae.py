"""Health Auto Export decoding: the golden payload, each shape's edge cases, payload errors."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from vigil.ingest.decode.hae import decode_hae
from vigil.ingest.decode.model import Decoded, DecodeError

TESTDATA = Path(__file__).parent / "testdata"
NOW = datetime(2024, 2, 7, 12, tzinfo=UTC)


def payload(*metrics: dict[str, Any]) -> bytes:
    return json.dumps({"data": {"metrics": list(metrics)}}).encode()


def metric(name: str, units: str, *items: Any) -> dict[str, Any]:
    return {"name": name, "units": units, "data": list(items)}


def rows(decoded: Decoded) -> list[tuple[str, str, float, str]]:
    return sorted(
        (s.metric, s.time.isoformat(), round(s.value, 6), s.unit) for s in decoded.samples
    )


def test_golden_payload_decodes_to_expected_file() -> None:
    decoded = decode_hae((TESTDATA / "hae_every_shape.json").read_bytes(), now=NOW)
    expected = json.loads((TESTDATA / "hae_every_shape.expected.json").read_text())
    got = sorted(
        (
            {
                "metric": s.metric,
                "time": s.time.isoformat().replace("+00:00", "Z"),
                "value": s.value,
                "unit": s.unit,
            }
            for s in decoded.samples
        ),
        key=lambda r: (r["time"], r["metric"]),
    )
    assert [{**r, "value": pytest.approx(r["value"], abs=1e-6)} for r in expected] == got
    assert all(s.quality == 100 and s.time.tzinfo is UTC for s in decoded.samples)
    assert decoded.rejects == [
        "hae: metrics[0] heart_rate data[1].Avg: value 900 bpm outside 20..300",
        "hae: metrics[1] heart_rate data[2].qty: expected a number, got bool",
        "hae: metrics[6] blood_pressure data[1].diastolic: expected a number, got str",
        "hae: metrics[9] step_count data[2].date: unrecognised date 'yesterday'",
        "hae: metrics[20] sleep_analysis data[6].value: unknown sleep stage 'Dozing'",
        "hae: metrics[21] vo2_max: unknown metric",
    ]


def test_golden_payload_holds_the_iphone_narrow_space() -> None:
    assert "\u202fPM" in (TESTDATA / "hae_every_shape.json").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe{}",
        b"not json",
        b"",
        b"[1, 2]",
        b'{"metrics": []}',
        b'{"data": []}',
        b'{"data": {"metrics": {}}}',
        b'{"data": {}}',
        b"[" * 100_000,
    ],
)
def test_non_export_payloads_raise_decode_error(body: bytes) -> None:
    with pytest.raises(DecodeError, match=r"^hae: "):
        decode_hae(body)


def test_workouts_only_export_is_empty_not_an_error() -> None:
    decoded = decode_hae(b'{"data": {"workouts": [{"name": "Walk"}]}}')
    assert decoded == Decoded()


def test_utf8_bom_is_accepted() -> None:
    steps = metric("step_count", "count", {"qty": 5, "date": "2024-02-06"})
    body = b"\xef\xbb\xbf" + payload(steps)
    assert len(decode_hae(body, now=NOW).samples) == 1


def test_unknown_metric_is_one_reason_per_name_not_per_item() -> None:
    items = [{"qty": 1, "date": "2024-02-06"}] * 50
    decoded = decode_hae(payload(metric("vo2_max", "x", *items), metric("vo2_max", "x", *items)))
    assert decoded.rejects == ["hae: metrics[0] vo2_max: unknown metric"]


@pytest.mark.parametrize(
    ("units", "reason"),
    [
        (None, "hae: metrics[0] walking_speed.units: missing, 1 items skipped"),
        ("furlong/fortnight", "hae: metrics[0] walking_speed.units: 'furlong/fortnight' is not "
         "convertible to 'km/hr', 1 items skipped"),
    ],
)
def test_bad_units_skip_the_entry_with_one_reason(units: str | None, reason: str) -> None:
    entry = {"name": "walking_speed", "data": [{"qty": 4, "date": "2024-02-06"}]}
    if units is not None:
        entry["units"] = units
    assert decode_hae(payload(entry), now=NOW).rejects == [reason]


@pytest.mark.parametrize(
    ("qty", "reason"),
    [
        (float("nan"), "value is not a finite number"),
        (float("inf"), "value is not a finite number"),
        (10**400, "number too large"),
        ("72", "expected a number, got str"),
        (None, "missing"),
        ([72], "expected a number, got list"),
        (-5, "value -5 bpm outside 20..300"),
    ],
)
def test_bad_values_become_rejects_naming_the_field(qty: object, reason: str) -> None:
    items = [{"qty": qty, "date": "2024-02-06"}, {"qty": 70, "date": "2024-02-05"}]
    decoded = decode_hae(payload(metric("heart_rate", "count/min", *items)), now=NOW)
    assert decoded.rejects == [f"hae: metrics[0] heart_rate data[0].qty: {reason}"]
    assert rows(decoded) == [("heart_rate", "2024-02-05T00:00:00+00:00", 70.0, "bpm")]


def test_items_and_entries_of_the_wrong_type_are_rejected() -> None:
    body = json.dumps({"data": {"metrics": [
        "heart_rate", {"name": 5, "data": []}, {"name": "step_count"},
        metric("step_count", "count", 7, [], {"qty": 3, "date": "2024-02-06"}),
    ]}}).encode()
    decoded = decode_hae(body, now=NOW)
    assert decoded.rejects == [
        "hae: metrics[0]: expected an object, got str",
        "hae: metrics[1].name: expected a string",
        "hae: metrics[2] step_count.data: expected a list",
        "hae: metrics[3] step_count data[0]: expected an object, got int",
        "hae: metrics[3] step_count data[1]: expected an object, got list",
    ]
    assert len(decoded.samples) == 1


def test_duplicates_keep_the_last_occurrence() -> None:
    decoded = decode_hae(payload(
        metric("heart_rate", "count/min", {"qty": 60, "date": "2024-02-06 10:00:00 +0000"}),
        metric("heart_rate", "count/min", {"Avg": 61, "Min": 50, "Max": 70,
                                           "date": "2024-02-06T11:00:00+01:00"}),
    ), now=NOW)
    assert rows(decoded) == [
        ("heart_rate", "2024-02-06T10:00:00+00:00", 61.0, "bpm"),
        ("heart_rate_max", "2024-02-06T10:00:00+00:00", 70.0, "bpm"),
        ("heart_rate_min", "2024-02-06T10:00:00+00:00", 50.0, "bpm"),
    ]


def test_heart_rate_item_without_values_is_rejected() -> None:
    empty = metric("heart_rate", "count/min", {"date": "2024-02-06"})
    decoded = decode_hae(payload(empty), now=NOW)
    assert decoded.rejects == ["hae: metrics[0] heart_rate data[0].qty: missing"]


def test_blood_pressure_is_kept_only_as_a_pair() -> None:
    decoded = decode_hae(payload(metric(
        "blood_pressure", "mmHg", {"systolic": 500, "diastolic": 80, "date": "2024-02-06"}
    )), now=NOW)
    assert decoded.samples == []
    assert decoded.rejects == [
        "hae: metrics[0] blood_pressure data[0].systolic: value 500 mmHg outside 40..300"
    ]


@pytest.mark.parametrize(
    ("name", "values", "expected"),
    [
        ("blood_oxygen_saturation", [0.97, 98], [97.0, 98.0]),  # per item: SpO2 < 1 % is impossible
        ("walking_asymmetry_percentage", [0.5, 0.04], [50.0, 4.0]),  # whole entry is fractions
        ("walking_asymmetry_percentage", [0.5, 4], [0.5, 4.0]),  # a value > 1: percent throughout
        ("walking_double_support_percentage", [0.25, 0.3], [25.0, 30.0]),
        ("walking_double_support_percentage", [0, 0], [0.0, 0.0]),
    ],
)
def test_percent_fractions(name: str, values: list[float], expected: list[float]) -> None:
    items = [{"qty": v, "date": f"2024-02-0{i + 1}"} for i, v in enumerate(values)]
    decoded = decode_hae(payload(metric(name, "%", *items)), now=NOW)
    assert [s.value for s in decoded.samples] == pytest.approx(expected)


def test_sleep_without_values_or_date_is_rejected() -> None:
    decoded = decode_hae(payload(metric(
        "sleep_analysis", "hr",
        {"date": "2024-02-06", "source": "Watch"},
        {"totalSleep": 7},
        {"startDate": "2024-02-06 01:00:00 +0000", "value": "Deep", "qty": 30},
    )), now=NOW)
    assert decoded.rejects == [
        "hae: metrics[0] sleep_analysis data[0]: no sleep values (totalSleep, asleep, core, "
        "deep, rem, ...)",
        "hae: metrics[0] sleep_analysis data[1].date: missing",
        "hae: metrics[0] sleep_analysis data[2].qty: value 30 hr outside 0..24",
    ]


def test_resent_night_replaces_instead_of_duplicating() -> None:
    night = {"date": "2024-02-06 00:00:00 -0800", "totalSleep": 7.0}
    later = {**night, "totalSleep": 7.5}
    decoded = decode_hae(payload(metric("sleep_analysis", "hr", night, later)), now=NOW)
    assert rows(decoded) == [("sleep_total", "2024-02-06T08:00:00+00:00", 7.5, "hr")]


def test_dates_more_than_a_day_ahead_are_rejected() -> None:
    decoded = decode_hae(payload(metric(
        "step_count", "count", {"qty": 1, "date": "2024-02-08"}, {"qty": 1, "date": "2024-02-09"}
    )), now=NOW)
    assert [s.time.day for s in decoded.samples] == [8]
    assert decoded.rejects == [
        "hae: metrics[0] step_count data[1].date: 2024-02-09T00:00:00+00:00 is more than a day "
        "in the future"
    ]


def test_sources_never_matter() -> None:
    sources: list[dict[str, Any]] = [
        {}, {"source": ""}, {"source": None}, {"source": "iPhone|Apple Watch"}, {"source": 5}
    ]
    items = [{"qty": i + 1, "date": f"2024-02-0{i + 1}", **src} for i, src in enumerate(sources)]
    decoded = decode_hae(payload(metric("flights_climbed", "count", *items)), now=NOW)
    assert len(decoded.samples) == 5
    assert decoded.rejects == []


def test_values_are_finite_and_in_canonical_units() -> None:
    decoded = decode_hae((TESTDATA / "hae_every_shape.json").read_bytes(), now=NOW)
    assert all(math.isfinite(s.value) for s in decoded.samples)
