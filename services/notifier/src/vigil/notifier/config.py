"""The routing file: receivers, the routing tree and escalation chains, validated on load.

Every error names the file, the place in the tree and the field, e.g.
``routing.yaml: route.routes[1].group_wait: invalid duration '5 minutes'``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from vigil.notifier.model import Severity

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h|d)$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
_VARIABLE = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")
_TIME_WINDOW = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_ROUTE_KEYS = {"name", "match", "receiver", "group_by", "group_wait", "group_interval",
               "repeat_interval", "escalation", "continue", "routes"}
DEFAULTS: Mapping[str, Any] = {
    "group_by": ("patient_id",), "group_wait": 30.0, "group_interval": 300.0,
    "repeat_interval": 3600.0, "escalation": ()}


class ConfigError(ValueError):
    """The routing file is invalid; the message names file, route and field."""


@dataclass(frozen=True)
class Receiver:
    """A named list of Apprise URLs, rate limited to ``rate_count`` per ``rate_per`` seconds."""

    name: str
    urls: tuple[str, ...]
    rate_count: int = 30
    rate_per: float = 60.0


@dataclass(frozen=True)
class EscalationLevel:
    """Page ``receiver`` when the group is still unacknowledged ``after`` seconds on."""

    after: float
    receiver: str


@dataclass(frozen=True)
class Matchers:
    """All given conditions must hold; an absent one matches everything."""

    severities: frozenset[Severity] | None = None
    labels: Mapping[str, frozenset[str]] = field(default_factory=dict)
    # Minutes since local midnight; a window may wrap past midnight (22:00-06:00).
    time_window: tuple[int, int] | None = None
    # Local weekdays (0 = Monday) a window starts on: an on-call rota (weekends, nights).
    days: frozenset[int] | None = None


@dataclass(frozen=True)
class Route:
    """A node of the routing tree with its settings already inherited from its parents."""

    path: str
    matchers: Matchers
    receiver: str
    group_by: tuple[str, ...]
    group_wait: float
    group_interval: float
    repeat_interval: float
    escalation: tuple[EscalationLevel, ...]
    continue_: bool = False
    routes: tuple[Route, ...] = ()


@dataclass(frozen=True)
class Config:
    """The whole routing file."""

    receivers: Mapping[str, Receiver]
    route: Route | None
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))


def parse_duration(text: Any, where: str) -> float:
    """``"90s"``, ``"5m"``, ``"1.5h"`` → seconds."""
    found = _DURATION.match(str(text).strip())
    if not found:
        raise ConfigError(f"{where}: invalid duration {text!r} (e.g. 30s, 5m, 4h)")
    return float(found.group(1)) * _UNIT_SECONDS[found.group(2)]


Lookup = Callable[[str], str | None]


def secret_lookup(name: str) -> str | None:
    """``$NAME`` from the environment, else the file ``$VIGIL_SECRETS_DIR/NAME``."""
    if name in os.environ:
        return os.environ[name]
    folder = os.environ.get("VIGIL_SECRETS_DIR")
    path = Path(folder, name) if folder else None
    return path.read_text().strip() if path is not None and path.is_file() else None


def load(path: Path, lookup: Lookup = secret_lookup) -> Config:
    """Read and validate a routing file; ``${NAME}`` in URLs is filled in by ``lookup``."""
    try:
        raw = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as error:
        raise ConfigError(f"{path.name}: cannot read: {error}") from error
    return parse(raw, source=path.name, lookup=lookup)


def parse(raw: Any, source: str = "<config>", lookup: Lookup = secret_lookup) -> Config:
    """Validate an already-parsed document; errors are prefixed with ``source``."""
    try:
        return _parse(raw or {}, lookup)
    except ConfigError as error:
        raise ConfigError(f"{source}: {error}") from None


def _expand(url: str, where: str, lookup: Lookup) -> str:
    """Fill in ``${NAME}``: Apprise URLs carry tokens that belong in secrets, not in YAML."""
    def one(found: re.Match[str]) -> str:
        value = lookup(found.group(1))
        if value is None:
            raise ConfigError(f"{where}: variable {found.group(1)} is not set")
        return value
    return _VARIABLE.sub(one, url)


def _parse(raw: Any, lookup: Lookup) -> Config:
    _expect(raw, dict, "top level")
    unknown = set(raw) - {"receivers", "route", "timezone"}
    if unknown:
        raise ConfigError(f"top level: unknown field(s) {sorted(unknown)}")
    try:
        tz = ZoneInfo(str(raw.get("timezone", "UTC")))
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"timezone: unknown time zone {raw.get('timezone')!r}") from None
    receivers = _receivers(raw.get("receivers") or {}, lookup)
    route = None
    if raw.get("route") is not None:
        route = _route(raw["route"], "route", dict(DEFAULTS), receivers, root=True)
    return Config(receivers=receivers, route=route, timezone=tz)


def _receivers(raw: Any, lookup: Lookup) -> dict[str, Receiver]:
    _expect(raw, dict, "receivers")
    out = {}
    for name, given in raw.items():
        where = f"receivers.{name}"
        spec = {"urls": given} if isinstance(given, list) else given
        _expect(spec, dict, where)
        urls = spec.get("urls")
        if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
            raise ConfigError(f"{where}.urls: must be a non-empty list of Apprise URLs")
        count, per = 30, 60.0
        if "rate_limit" in spec:
            text = str(spec["rate_limit"])
            count_text, _, per_text = text.partition("/")
            if not count_text.isdigit() or int(count_text) < 1 or not per_text:
                raise ConfigError(f"{where}.rate_limit: expected COUNT/DURATION, got {text!r}")
            count, per = int(count_text), parse_duration(per_text, f"{where}.rate_limit")
        expanded = tuple(_expand(u, f"{where}.urls[{i}]", lookup) for i, u in enumerate(urls))
        out[str(name)] = Receiver(str(name), expanded, count, per)
    return out


def _route(raw: Any, where: str, parent: dict[str, Any], receivers: Mapping[str, Receiver],
           *, root: bool = False) -> Route:
    _expect(raw, dict, where)
    unknown = set(raw) - _ROUTE_KEYS
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {sorted(unknown)}")
    if root and raw.get("match"):
        raise ConfigError(f"{where}.match: the root route matches every alert")
    settings = dict(parent)
    receiver = raw.get("receiver", parent.get("receiver"))
    if receiver is None:
        raise ConfigError(f"{where}.receiver: required on the root route")
    if receiver not in receivers:
        raise ConfigError(f"{where}.receiver: unknown receiver {receiver!r}")
    settings["receiver"] = receiver
    if "group_by" in raw:
        group_by = raw["group_by"]
        if not isinstance(group_by, list) or not all(isinstance(g, str) for g in group_by):
            raise ConfigError(f"{where}.group_by: must be a list of label names")
        settings["group_by"] = tuple(group_by)
    for key in ("group_wait", "group_interval", "repeat_interval"):
        if key in raw:
            settings[key] = parse_duration(raw[key], f"{where}.{key}")
    if settings["group_interval"] <= 0 or settings["repeat_interval"] <= 0:
        raise ConfigError(f"{where}: group_interval and repeat_interval must be positive")
    if "escalation" in raw:
        settings["escalation"] = _escalation(raw["escalation"], f"{where}.escalation", receivers)
    children = raw.get("routes") or []
    _expect(children, list, f"{where}.routes")
    label = f"{where}({raw['name']})" if "name" in raw else where
    return Route(
        path=label,
        matchers=_matchers(raw.get("match") or {}, f"{where}.match"),
        receiver=receiver,
        group_by=settings["group_by"],
        group_wait=settings["group_wait"],
        group_interval=settings["group_interval"],
        repeat_interval=settings["repeat_interval"],
        escalation=settings["escalation"],
        continue_=bool(raw.get("continue", False)),
        routes=tuple(_route(child, f"{where}.routes[{i}]", settings, receivers)
                     for i, child in enumerate(children)),
    )


def _escalation(raw: Any, where: str, receivers: Mapping[str, Receiver]
                ) -> tuple[EscalationLevel, ...]:
    _expect(raw, list, where)
    levels: list[EscalationLevel] = []
    for i, step in enumerate(raw):
        at = f"{where}[{i}]"
        _expect(step, dict, at)
        if step.get("receiver") not in receivers:
            raise ConfigError(f"{at}.receiver: unknown receiver {step.get('receiver')!r}")
        after = parse_duration(step.get("after"), f"{at}.after")
        if levels and after <= levels[-1].after:
            raise ConfigError(f"{at}.after: must be later than the level before")
        levels.append(EscalationLevel(after, step["receiver"]))
    return tuple(levels)


def _matchers(raw: Any, where: str) -> Matchers:
    _expect(raw, dict, where)
    severities = None
    if "severity" in raw:
        severities = _severities(raw["severity"], f"{where}.severity")
    window = None
    if "time" in raw:
        found = _TIME_WINDOW.match(str(raw["time"]).strip())
        if not found:
            raise ConfigError(f"{where}.time: expected HH:MM-HH:MM, got {raw['time']!r}")
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59:
            raise ConfigError(f"{where}.time: not a time of day: {raw['time']!r}")
        window = (h1 * 60 + m1, h2 * 60 + m2)
    days = _days(raw["days"], f"{where}.days") if "days" in raw else None
    labels = {}
    for key, value in raw.items():
        if key in {"severity", "time", "days"}:
            continue
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str | int) for v in values):
            raise ConfigError(f"{where}.{key}: must be a value or a list of values")
        labels[str(key)] = frozenset(str(v) for v in values)
    return Matchers(severities=severities, labels=labels, time_window=window, days=days)


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _days(raw: Any, where: str) -> frozenset[int]:
    """``mon-fri``, ``[sat, sun]`` or ``mon,wed,fri`` (ranges may wrap: ``fri-mon``)."""
    parts = raw if isinstance(raw, list) else str(raw).split(",")
    out: set[int] = set()
    for part in parts:
        text = str(part).strip().lower()
        first, dash, last = text.partition("-")
        if first not in _WEEKDAYS or (dash and last not in _WEEKDAYS):
            raise ConfigError(f"{where}: expected days like mon-fri or [sat, sun], got {raw!r}")
        a = _WEEKDAYS.index(first)
        b = _WEEKDAYS.index(last) if dash else a
        out.update((a + k) % 7 for k in range((b - a) % 7 + 1))
    if not out:
        raise ConfigError(f"{where}: no day given")
    return frozenset(out)


def _severities(raw: Any, where: str) -> frozenset[Severity]:
    try:
        if isinstance(raw, str) and raw.startswith(">="):
            floor = Severity.parse(raw[2:])
            return frozenset(s for s in Severity if s >= floor)
        values = raw if isinstance(raw, list) else [raw]
        return frozenset(Severity.parse(str(v)) for v in values)
    except ValueError as error:
        raise ConfigError(f"{where}: {error}") from None


def _expect(value: Any, kind: type, where: str) -> None:
    if not isinstance(value, kind):
        raise ConfigError(f"{where}: expected a {'mapping' if kind is dict else 'list'}")
