"""The item shapes of a Health Auto Export metric, each turned into canonical samples.

Every shape function takes one metric entry's context, the item index and the item, and either
adds samples to the context or records one reject reason naming the field. Items are validated
by hand rather than by a pydantic model per item: exports hold tens of thousands of items, and
the reasons must name the payload's own field (``data[17].Avg``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from vigil.core.catalogue import METRICS, MetricDef

from .hae_dates import DateCache, DateError
from .model import Sample

_PERCENT_UNITS = frozenset({"%", "percent"})
# Decimal places kept after unit conversion: far below any clinical resolution, but it stops
# float noise (98.6 degF -> 36.99999999999999 degC) reaching the database.
_DECIMALS = 6


@dataclass(slots=True)
class Entry:
    """One ``metrics[i]`` entry being decoded, and where its results go."""

    index: int
    name: str
    unit: str
    dates: DateCache
    latest: datetime
    out: dict[tuple[str, datetime], Sample]
    rejects: list[str]
    # True when the entry's percent values are fractions (0.97 for 97 %).
    fractions: bool = False

    def reject(self, j: int, field: str | None, why: str) -> None:
        """Record why item ``j`` (or its ``field``) was dropped."""
        where = f"data[{j}].{field}" if field else f"data[{j}]"
        self.rejects.append(f"hae: metrics[{self.index}] {self.name} {where}: {why}")

    def time(self, item: dict[str, Any], j: int, field: str) -> datetime | None:
        """The item's ``field`` as a UTC datetime, or None after recording a reject."""
        raw = item.get(field)
        if raw is None:
            self.reject(j, field, "missing")
            return None
        try:
            when = self.dates.parse(raw)
        except DateError as exc:
            self.reject(j, field, str(exc))
            return None
        if when > self.latest:
            self.reject(j, field, f"{when.isoformat()} is more than a day in the future")
            return None
        return when

    def value(self, item: dict[str, Any], j: int, field: str, metric: str) -> float | None:
        """The item's ``field`` converted to ``metric``'s canonical unit and range-checked."""
        mdef = METRICS[metric]
        raw = item.get(field)
        try:
            number = _number(raw)
            if self.fractions or (metric == "spo2" and number <= 1.0):
                number *= 100.0
            # None means "already canonical" and spares the catalogue re-normalising the unit.
            unit = None if self.unit == mdef.unit or self.unit in mdef.aliases else self.unit
            return round(mdef.to_canonical(number, unit), _DECIMALS)
        except (TypeError, ValueError) as exc:  # ValueError: the catalogue's RangeError
            self.reject(j, field, _range_reason(mdef, exc))
            return None

    def add(self, metric: str, when: datetime, value: float) -> None:
        """Store a sample; a later item for the same metric and time replaces an earlier one."""
        self.out[(metric, when)] = Sample(when, metric, value, METRICS[metric].unit)


def _number(raw: object) -> float:
    if type(raw) is float:  # the common case, checked first: this runs once per value
        return raw
    # bool is an int subclass: refuse it explicitly rather than store true as 1.
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        kind = "missing" if raw is None else f"expected a number, got {type(raw).__name__}"
        raise TypeError(kind)
    try:
        return float(raw)
    except OverflowError:  # a JSON integer with hundreds of digits
        raise TypeError("number too large") from None


def _range_reason(mdef: MetricDef, exc: Exception) -> str:
    text = str(exc).removeprefix(f"{mdef.name}: ")
    return text if text.startswith(("value", "missing", "expected", "number")) else f"value {text}"


def common(entry: Entry, j: int, item: dict[str, Any], metric: str) -> None:
    """``{"qty": N, "date": ...}``: the shape of most metrics."""
    when = entry.time(item, j, "date")
    if when is None:
        return
    value = entry.value(item, j, "qty", metric)
    if value is not None:
        entry.add(metric, when, value)


_HR_FIELDS = (("Avg", "heart_rate"), ("Min", "heart_rate_min"), ("Max", "heart_rate_max"))


def heart_rate(entry: Entry, j: int, item: dict[str, Any], metric: str) -> None:
    """``{"Min", "Avg", "Max", "date"}``, or a plain ``qty`` from other app versions.

    Min, Avg and Max are independent readings: a bad one does not drop the others.
    """
    present = [(f, m) for f, m in _HR_FIELDS if f in item]
    if not present:
        common(entry, j, item, metric)
        return
    when = entry.time(item, j, "date")
    if when is None:
        return
    for field, name in present:
        value = entry.value(item, j, field, name)
        if value is not None:
            entry.add(name, when, value)


def blood_pressure(entry: Entry, j: int, item: dict[str, Any], metric: str) -> None:
    """``{"systolic", "diastolic", "date"}``: kept only as a pair, since half a reading misleads."""
    when = entry.time(item, j, "date")
    if when is None:
        return
    systolic = entry.value(item, j, "systolic", "blood_pressure_systolic")
    if systolic is None:
        return
    diastolic = entry.value(item, j, "diastolic", "blood_pressure_diastolic")
    if diastolic is None:
        return
    entry.add("blood_pressure_systolic", when, systolic)
    entry.add("blood_pressure_diastolic", when, diastolic)


_SLEEP_TOTALS = (
    ("totalSleep", "sleep_total"), ("asleep", "sleep_asleep"), ("core", "sleep_core"),
    ("deep", "sleep_deep"), ("rem", "sleep_rem"), ("awake", "sleep_awake"),
    ("inBed", "sleep_in_bed"),
)
_SLEEP_STAGES = {
    "core": "sleep_core", "deep": "sleep_deep", "rem": "sleep_rem", "awake": "sleep_awake",
    "inbed": "sleep_in_bed", "asleep": "sleep_asleep", "unspecified": "sleep_asleep",
}


def sleep(entry: Entry, j: int, item: dict[str, Any], metric: str) -> None:
    """Sleep, aggregated per night or as unaggregated stage segments.

    A night's totals are stored at its ``date``, so a re-sent night replaces the earlier
    values; a segment is stored at its ``startDate``.
    """
    if "startDate" in item or isinstance(item.get("value"), str):
        _sleep_segment(entry, j, item)
        return
    present = [(f, m) for f, m in _SLEEP_TOTALS if item.get(f) is not None]
    if not present:
        entry.reject(j, None, "no sleep values (totalSleep, asleep, core, deep, rem, ...)")
        return
    when = entry.time(item, j, "date")
    if when is None:
        return
    for field, name in present:
        value = entry.value(item, j, field, name)
        if value is not None:
            entry.add(name, when, value)


def _sleep_segment(entry: Entry, j: int, item: dict[str, Any]) -> None:
    stage = item.get("value")
    name = _SLEEP_STAGES.get(stage.replace(" ", "").lower()) if isinstance(stage, str) else None
    if name is None:
        why = "missing" if stage is None else f"unknown sleep stage {str(stage)[:40]!r}"
        entry.reject(j, "value", why)
        return
    when = entry.time(item, j, "startDate")
    if when is None:
        return
    value = entry.value(item, j, "qty", name)
    if value is not None:
        entry.add(name, when, value)


Shape = Callable[[Entry, int, dict[str, Any], str], None]


def percent_fractions(entry_unit: str, data: list[Any]) -> bool:
    """True when every numeric value of a percent entry is at most 1.0: the app sent fractions.

    Decided per entry because 0.5 % asymmetry is plausible: only an entry with no value above
    1.0 is read as fractions.
    """
    if entry_unit not in _PERCENT_UNITS:
        return False
    seen = False
    for item in data:
        qty = item.get("qty") if isinstance(item, dict) else None
        if isinstance(qty, int | float) and not isinstance(qty, bool):
            if not qty <= 1.0:  # also catches NaN
                return False
            seen = True
    return seen
