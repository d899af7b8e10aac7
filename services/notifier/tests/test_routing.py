"""Which routes an alert reaches: severity, rule, patient, care team, time of day, continue."""

from __future__ import annotations

import pytest

from services.notifier.tests.notifier_testkit import NOON, make_alert
from vigil.notifier import config
from vigil.notifier.routing import route

HOUR = 3600.0


def _paths(ward: config.Config, now: float = NOON, **kw: object) -> list[str]:
    assert ward.route is not None
    alert = make_alert(**kw)  # type: ignore[arg-type]
    return [r.path for r in route(ward.route, alert, now, ward.timezone)]


def test_low_severity_falls_back_to_the_root(ward: config.Config) -> None:
    assert _paths(ward, severity="warning") == ["route"]


def test_continue_lets_an_alert_reach_two_routes(ward: config.Config) -> None:
    assert _paths(ward, severity="critical") == ["route.routes[0](audit)",
                                                 "route.routes[1](critical)"]


def test_without_continue_the_first_match_wins(ward: config.Config) -> None:
    # high matches audit (continue) and then nothing else: the root is not re-added.
    assert _paths(ward, severity="high") == ["route.routes[0](audit)"]


def test_time_of_day_window_wraps_midnight_in_the_configured_zone(ward: config.Config) -> None:
    cardio = {"severity": "warning", "labels": {"care_team": "cardio"}}
    assert _paths(ward, NOON, **cardio) == ["route"]
    # 23:30 in London in January is 23:30 UTC.
    assert _paths(ward, NOON + 11.5 * HOUR, **cardio) == ["route.routes[2](night)"]
    assert _paths(ward, NOON + 18 * HOUR, **cardio) == ["route.routes[2](night)"]  # 06:00
    assert _paths(ward, NOON + 19 * HOUR, **cardio) == ["route"]  # 07:00 is outside
    assert _paths(ward, NOON + 11.5 * HOUR, severity="warning") == ["route"]  # other team


def test_rule_and_patient_matchers() -> None:
    cfg = config.parse({
        "receivers": {"r": ["json://x"], "s": ["json://y"]},
        "route": {"receiver": "r", "routes": [
            {"match": {"rule": ["news2_high", "spo2_low"], "patient_id": "p9"}, "receiver": "s"},
        ]},
    })
    assert cfg.route is not None
    hit = route(cfg.route, make_alert(patient="p9"), NOON, cfg.timezone)
    miss = route(cfg.route, make_alert(patient="p8"), NOON, cfg.timezone)
    assert [r.receiver for r in hit] == ["s"]
    assert [r.receiver for r in miss] == ["r"]


def test_on_call_rota_by_weekday_and_night() -> None:
    # NOON is Thursday 15 January 2026, 12:00 in London (UTC in winter).
    cfg = config.parse({
        "timezone": "Europe/London",
        "receivers": {"ward": ["json://w"], "weekend": ["json://e"], "night": ["json://n"]},
        "route": {"receiver": "ward", "routes": [
            {"name": "friday-night", "match": {"days": ["fri"], "time": "22:00-07:00"},
             "receiver": "night"},  # first: the first matching child wins
            {"name": "weekend", "match": {"days": "sat-sun"}, "receiver": "weekend"},
        ]},
    })
    assert cfg.route is not None

    def at(hours_after_noon: float) -> list[str]:
        found = route(cfg.route, make_alert(), NOON + hours_after_noon * HOUR, cfg.timezone)
        return [r.receiver for r in found]

    assert at(0) == ["ward"]  # Thursday noon
    assert at(24 + 10) == ["night"]  # Friday 22:00
    assert at(24 + 18.99) == ["night"]  # Saturday 06:59: Friday's night still
    assert at(24 + 19) == ["weekend"]  # Saturday 07:00
    assert at(3 * 24 + 11.99) == ["weekend"]  # Sunday 23:59
    assert at(3 * 24 + 12) == ["ward"]  # Monday 00:00
    assert at(10) == ["ward"]  # Thursday 22:00: not Friday's night


@pytest.mark.parametrize(("days", "error"), [
    ("weekends", "expected days like mon-fri or [sat, sun], got 'weekends'"),
    (["mon", "funday"], "expected days like mon-fri or [sat, sun]"),
    ("mon-", "expected days like mon-fri"),
])
def test_bad_days_name_the_field(days: object, error: str) -> None:
    with pytest.raises(config.ConfigError, match=r"route\.routes\[0\]\.match\.days: ") as info:
        config.parse({"receivers": {"r": ["json://x"]}, "route": {
            "receiver": "r", "routes": [{"match": {"days": days}, "receiver": "r"}]}})
    assert error in str(info.value)


def test_a_wrapping_day_range() -> None:
    assert config._days("fri-mon", "d") == frozenset({4, 5, 6, 0})
    assert config._days("mon,wed", "d") == frozenset({0, 2})
