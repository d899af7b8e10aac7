"""Which routes an alert reaches: severity, rule, patient, care team, time of day, continue."""

from __future__ import annotations

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
