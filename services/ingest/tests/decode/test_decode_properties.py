"""Property tests: whatever arrives, decoders raise only DecodeError and emit only valid samples."""

from __future__ import annotations

import copy
import json
import math
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.core.catalogue import METRICS
from vigil.ingest.decode.glucose import decode_glucose
from vigil.ingest.decode.hae import HAE_METRICS, decode_hae
from vigil.ingest.decode.hae_dates import parse_hae_date
from vigil.ingest.decode.model import Decoded, DecodeError

GOLDEN = (Path(__file__).parent / "testdata" / "hae_every_shape.json").read_bytes()
NOW = datetime(2024, 2, 7, 12, tzinfo=UTC)
SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = (
    st.none() | st.booleans() | st.integers() | st.integers(-(10**400), 10**400)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=30)
)
json_values = st.recursive(
    scalars,
    lambda kids: st.lists(kids, max_size=4)
    | st.dictionaries(st.text(max_size=9), kids, max_size=4),
    max_leaves=20,
)


def mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``good`` nine times in ten: ``a | b`` flattens unions, so ``bad`` would dominate."""
    return st.integers(0, 9).flatmap(lambda k: bad if k == 9 else good)


offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))
instants = st.datetimes(
    min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=offsets
).map(lambda d: d.replace(microsecond=0))
# Mostly before NOW, so that most generated items pass the future guard and reach the catalogue.
past = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2024, 2, 7), timezones=offsets
).map(lambda d: d.replace(microsecond=0))


def hae_date(when: datetime, form: int) -> str:
    off = when.strftime("%z")
    twelve = f"{when.hour % 12 or 12}:{when:%M:%S}"
    half = "AM" if when.hour < 12 else "PM"
    return [
        f"{when:%Y-%m-%d %H:%M:%S} {off}",
        f"{when:%Y-%m-%d} {twelve}\u202f{half} {off}",
        f"{when:%Y-%m-%d} {twelve} {half.lower()} {off}",
        when.isoformat(),
        when.astimezone(UTC).isoformat().replace("+00:00", "Z"),
    ][form]


dates = mostly(
    st.builds(hae_date, past, st.integers(0, 4)) | st.dates(max_value=NOW.date()).map(str),
    st.builds(hae_date, instants, st.integers(0, 4)) | st.text(max_size=30) | scalars,
)
numbers = mostly(st.integers(0, 300) | st.floats(0, 300), scalars)
shape_keys = st.sampled_from([
    ("qty",), ("Avg", "Min", "Max"), ("systolic", "diastolic"),
    ("totalSleep", "asleep", "core", "deep", "rem", "awake", "inBed"),
])
items = st.tuples(
    st.fixed_dictionaries(
        {"date": dates},
        optional={
            "startDate": dates,
            "source": mostly(st.sampled_from(["", "iPhone|Watch"]), scalars),
            "value": st.sampled_from(["Core", "Deep", "REM", "Awake", "In Bed", "Asleep", "x"]),
        },
    ),
    shape_keys.flatmap(lambda keys: st.fixed_dictionaries(dict.fromkeys(keys, numbers))),
    st.dictionaries(st.text(max_size=8), scalars, max_size=2),
).map(lambda parts: parts[2] | parts[0] | parts[1])


UNITS = {
    "heart_rate": ["count/min"], "resting_heart_rate": ["count/min"],
    "heart_rate_variability": ["ms"], "blood_oxygen_saturation": ["%"],
    "blood_glucose": ["mg/dL", "mmol<180.1558800000541>/L"], "respiratory_rate": ["count/min"],
    "body_temperature": ["degF", "degC"], "blood_pressure": ["mmHg"], "step_count": ["count"],
    "active_energy": ["kcal", "kJ"], "basal_energy_burned": ["kcal", "kJ"],
    "walking_speed": ["km/hr", "mi/hr"], "walking_step_length": ["cm", "in", "m"],
    "walking_asymmetry_percentage": ["%"], "walking_double_support_percentage": ["%"],
    "flights_climbed": ["count"], "headphone_audio_exposure": ["dBASPL"],
    "walking_running_distance": ["km", "mi"], "sleep_analysis": ["hr", "min"],
}
assert set(UNITS) == set(HAE_METRICS)
entries = st.sampled_from(sorted(UNITS)).flatmap(lambda name: st.fixed_dictionaries({
    "name": mostly(st.just(name), scalars),
    "units": mostly(st.sampled_from(UNITS[name]), scalars),
    "data": st.lists(mostly(items, json_values), max_size=6),
}))


def check(decoded: Decoded) -> None:
    assert isinstance(decoded, Decoded)
    for s in decoded.samples:
        mdef = METRICS[s.metric]
        assert s.time.utcoffset() is not None
        assert math.isfinite(s.value)
        assert mdef.low <= s.value <= mdef.high
        assert s.unit == mdef.unit
        assert s.quality == 100
    assert all(isinstance(r, str) and r.startswith("hae: ") for r in decoded.rejects)


def hae(body: bytes) -> None:
    try:
        decoded = decode_hae(body, now=NOW)
    except DecodeError as exc:
        assert str(exc).startswith("hae: ")  # noqa: PT017 - the property, not one expected raise
        return
    check(decoded)


def glucose(body: bytes) -> None:
    try:
        decoded = decode_glucose(body, now=NOW)
    except DecodeError as exc:
        assert str(exc).startswith("glucose: ")  # noqa: PT017
        return
    (s,) = decoded.samples
    assert s.time.utcoffset() is not None
    assert 10 <= s.value <= 1000
    assert s.unit == "mg/dL"


@SETTINGS
@given(st.binary(max_size=300))
def test_arbitrary_bytes(body: bytes) -> None:
    hae(body)
    glucose(body)


@SETTINGS
@given(json_values)
def test_arbitrary_json(doc: Any) -> None:
    hae(json.dumps(doc).encode())
    hae(json.dumps({"data": {"metrics": [doc]}}).encode())
    glucose(json.dumps(doc).encode())


@SETTINGS
@given(st.lists(entries, max_size=5))
def test_structured_hae_entries(metrics: list[dict[str, Any]]) -> None:
    hae(json.dumps({"data": {"metrics": metrics, "workouts": []}}).encode())


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(
        node, list) else []
    for key, child in children:
        found += paths(child, (*prefix, key))
    return found


GOLDEN_DOC = json.loads(GOLDEN)
GOLDEN_PATHS = paths(GOLDEN_DOC)[1:]


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(GOLDEN_PATHS), st.booleans(), json_values), max_size=4))
def test_mutated_golden_payload(mutations: list[tuple[tuple[Any, ...], bool, Any]]) -> None:
    doc = copy.deepcopy(GOLDEN_DOC)
    for path, delete, value in mutations:
        parent = doc
        try:
            for key in path[:-1]:
                parent = parent[key]
            if delete:
                del parent[path[-1]]
            else:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation removed or replaced this path
    hae(json.dumps(doc).encode())


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, len(GOLDEN) - 1), st.integers(0, 255)), max_size=6))
def test_byte_flipped_golden_payload(flips: list[tuple[int, int]]) -> None:
    body = bytearray(GOLDEN)
    for at, byte in flips:
        body[at] = byte
    hae(bytes(body))


@SETTINGS
@given(instants, st.integers(0, 4))
def test_every_date_form_keeps_the_instant(when: datetime, form: int) -> None:
    parsed = parse_hae_date(hae_date(when, form))
    assert parsed == when
    assert parsed.tzinfo is UTC


@SETTINGS
@given(st.fixed_dictionaries(
    {},
    optional={
        "time": mostly(
            st.integers(946_684_800_000, 1_707_300_000_000)
            | st.builds(hae_date, past, st.sampled_from([3, 4])),
            st.builds(hae_date, instants, st.integers(0, 4)) | scalars,
        ),
        "value": mostly(st.floats(5, 1100) | st.integers(5, 1100), scalars),
        "unit": mostly(st.sampled_from(["mg/dL", "mmol/L"]), scalars),
        "meal": mostly(st.sampled_from(["before_meal", "fasting", "unspecified"]), scalars),
        "seq": mostly(st.integers(), scalars),
        "extra": scalars,
    },
))
def test_glucose_readings(reading: dict[str, Any]) -> None:
    glucose(json.dumps(reading).encode())
