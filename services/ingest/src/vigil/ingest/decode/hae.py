"""Decoder for Health Auto Export (iOS) JSON, as published on ``vigil/v1/devices/{id}/hae``.

The export is ``{"data": {"metrics": [{"name", "units", "data": [...]}], "workouts": [...]}}``.
Each metric entry is mapped to catalogue metrics, converted from the entry's ``units`` and
range-checked item by item: a bad item becomes a reject reason and its neighbours are kept. Only
a payload that is not UTF-8, not JSON or not this structure at all raises :class:`DecodeError`.
See ``services/ingest/PAYLOADS.md`` for the full format reference.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from vigil.core.catalogue import METRICS, normalise_unit

from . import hae_shapes as shapes
from .hae_dates import DateCache
from .model import Decoded, DecodeError, Sample

# HAE metric name -> (catalogue metric the units are checked against, item shape).
HAE_METRICS: dict[str, tuple[str, shapes.Shape]] = {
    "heart_rate": ("heart_rate", shapes.heart_rate),
    "resting_heart_rate": ("resting_heart_rate", shapes.common),
    "heart_rate_variability": ("heart_rate_variability", shapes.common),
    "blood_oxygen_saturation": ("spo2", shapes.common),
    "blood_glucose": ("glucose", shapes.common),
    "respiratory_rate": ("respiratory_rate", shapes.common),
    "body_temperature": ("body_temperature", shapes.common),
    "blood_pressure": ("blood_pressure_systolic", shapes.blood_pressure),
    "step_count": ("steps", shapes.common),
    "active_energy": ("active_energy", shapes.common),
    "basal_energy_burned": ("resting_energy", shapes.common),
    "walking_speed": ("walking_speed", shapes.common),
    "walking_step_length": ("walking_step_length", shapes.common),
    "walking_asymmetry_percentage": ("walking_asymmetry", shapes.common),
    "walking_double_support_percentage": ("walking_double_support", shapes.common),
    "flights_climbed": ("flights_climbed", shapes.common),
    "headphone_audio_exposure": ("headphone_audio_exposure", shapes.common),
    "walking_running_distance": ("walking_running_distance", shapes.common),
    "sleep_analysis": ("sleep_total", shapes.sleep),
}
# Percent metrics some app versions send as fractions, decided per entry (see shapes).
_FRACTION_ENTRIES = frozenset({"walking_asymmetry", "walking_double_support"})
# Daily aggregates carry a bare date read as midnight UTC, up to 14 hours ahead for a phone at
# UTC+14; a day of slack refuses only clocks that are really wrong.
FUTURE_SLACK = timedelta(days=1)


def decode_hae(payload: bytes, *, now: datetime | None = None) -> Decoded:
    """Decode one Health Auto Export payload into canonical samples and reject reasons.

    ``now`` (default: the current time) bounds how far in the future a sample may be.
    Within one payload, a later sample for the same metric and time replaces an earlier one.
    Raises :class:`DecodeError` when the payload is not UTF-8 JSON in the export's structure.
    """
    metrics = _metrics_list(payload)
    result = Decoded()
    out: dict[tuple[str, datetime], Sample] = {}
    dates = DateCache()
    latest = (now or datetime.now(UTC)) + FUTURE_SLACK
    unknown: set[str] = set()
    for i, raw in enumerate(metrics):
        try:
            name, unit, data = _header(i, raw, unknown)
        except _EntryError as skip:
            if skip.reason:
                result.rejects.append(skip.reason)
            continue
        target, shape = HAE_METRICS[name]
        fractions = target in _FRACTION_ENTRIES and shapes.percent_fractions(unit, data)
        entry = shapes.Entry(i, name, unit, dates, latest, out, result.rejects, fractions)
        for j, item in enumerate(data):
            if isinstance(item, dict):
                shape(entry, j, item, target)
            else:
                entry.reject(j, None, f"expected an object, got {type(item).__name__}")
    result.samples = list(out.values())
    return result


def _metrics_list(payload: bytes) -> list[Any]:
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise DecodeError(f"hae: payload must be bytes, got {type(payload).__name__}")
    try:
        text = str(payload, "utf-8")
    except UnicodeDecodeError as exc:
        raise DecodeError(f"hae: payload is not UTF-8 (byte {exc.start})") from None
    try:
        doc = json.loads(text.removeprefix("\ufeff"))
    except (ValueError, RecursionError) as exc:
        raise DecodeError(f"hae: payload is not JSON: {str(exc)[:120]}") from None
    data = doc.get("data") if isinstance(doc, dict) else None
    if not isinstance(data, dict):
        raise DecodeError('hae: not a Health Auto Export payload: no "data" object')
    metrics = data.get("metrics")
    if metrics is None and isinstance(data.get("workouts"), list):
        return []  # a workouts-only export is valid and simply holds no metrics
    if not isinstance(metrics, list):
        raise DecodeError('hae: not a Health Auto Export payload: no "data.metrics" list')
    return metrics


class _EntryError(Exception):
    """A ``metrics[i]`` entry that cannot be decoded at all; ``reason`` may be None (silent)."""

    def __init__(self, reason: str | None) -> None:
        super().__init__(reason)
        self.reason = reason


def _header(i: int, raw: object, unknown: set[str]) -> tuple[str, str, list[Any]]:
    """Validate ``metrics[i]``'s name, units and data: ``(name, unit, data)``, else raise."""
    if not isinstance(raw, dict):
        raise _EntryError(f"hae: metrics[{i}]: expected an object, got {type(raw).__name__}")
    name, data = raw.get("name"), raw.get("data")
    if not isinstance(name, str):
        raise _EntryError(f"hae: metrics[{i}].name: expected a string")
    if name not in HAE_METRICS:
        reason = None if name in unknown else f"hae: metrics[{i}] {name[:60]}: unknown metric"
        unknown.add(name)
        raise _EntryError(reason)
    if not isinstance(data, list):
        raise _EntryError(f"hae: metrics[{i}] {name}.data: expected a list")
    target = METRICS[HAE_METRICS[name][0]]
    units = raw.get("units")
    if not isinstance(units, str):
        raise _EntryError(f"hae: metrics[{i}] {name}.units: missing, {len(data)} items skipped")
    unit = normalise_unit(units)
    if unit != target.unit and unit not in target.aliases and unit not in target.conversions:
        raise _EntryError(
            f"hae: metrics[{i}] {name}.units: {units[:40]!r} is not convertible to "
            f"{target.unit!r}, {len(data)} items skipped"
        )
    return name, unit, data
