"""The routing file: defaults, inheritance and errors naming file, route and field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from vigil.notifier import config
from vigil.notifier.config import ConfigError
from vigil.notifier.model import Severity


def test_ward_file_loads_with_inheritance(ward: config.Config) -> None:
    assert ward.route is not None
    assert ward.route.group_wait == 30
    critical = ward.route.routes[1]
    assert critical.path == "route.routes[1](critical)"
    assert critical.receiver == "ward-nurse"  # inherited
    assert critical.group_by == ("patient_id",)
    assert (critical.group_wait, critical.group_interval, critical.repeat_interval) == (0, 60, 300)
    assert [s.receiver for s in critical.escalation] == ["charge-nurse", "doctor"]
    assert ward.route.routes[0].matchers.severities == {Severity.HIGH, Severity.CRITICAL}
    assert ward.receivers["charge-nurse"].rate_count == 10
    assert ward.receivers["charge-nurse"].rate_per == 60


def test_empty_file_routes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert config.load(path).route is None


def _doc(**route: Any) -> dict[str, Any]:
    return {"receivers": {"r": ["json://x"]},
            "route": {"receiver": "r", "routes": [{"name": "bad", **route}]}}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (_doc(group_wait="5 minutes"),
         "w.yaml: route.routes[0].group_wait: invalid duration '5 minutes'"),
        (_doc(receiver="nobody"), "w.yaml: route.routes[0].receiver: unknown receiver 'nobody'"),
        (_doc(match={"severity": "dire"}),
         "w.yaml: route.routes[0].match.severity: unknown severity 'dire'"),
        (_doc(match={"time": "8-20"}), "w.yaml: route.routes[0].match.time: expected HH:MM-HH:MM"),
        (_doc(escalation=[{"after": "5m", "receiver": "r"}, {"after": "1m", "receiver": "r"}]),
         "w.yaml: route.routes[0].escalation[1].after: must be later"),
        (_doc(recevier="r"), "w.yaml: route.routes[0]: unknown field(s) ['recevier']"),
        ({"receivers": {"r": []}}, "w.yaml: receivers.r.urls: must be a non-empty list"),
        ({"receivers": {"r": {"urls": ["x"], "rate_limit": "lots"}}},
         "w.yaml: receivers.r.rate_limit: expected COUNT/DURATION"),
        ({"route": {"group_wait": "1s"}}, "w.yaml: route.receiver: required on the root route"),
        ({"timezone": "Mars/Olympus"}, "w.yaml: timezone: unknown time zone"),
    ],
)
def test_errors_name_file_route_and_field(tmp_path: Path, doc: dict[str, Any], message: str
                                          ) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError) as raised:
        config.load(path)
    assert str(raised.value).startswith(message)


def test_unreadable_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("route: [unclosed")
    with pytest.raises(ConfigError, match=r"^broken\.yaml: cannot read"):
        config.load(path)


def test_urls_take_secrets_from_variables_without_echoing_them(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    (tmp_path / "VIGIL_NOTIFIER_URL_WARD").write_text("s3cret-token\n")
    monkeypatch.setenv("VIGIL_SECRETS_DIR", str(tmp_path))
    monkeypatch.setenv("PAGER_HOST", "pager.example.org")
    doc = {"receivers": {"ward": ["json://${PAGER_HOST}/${VIGIL_NOTIFIER_URL_WARD}"]}}
    assert config.parse(doc).receivers["ward"].urls == ("json://pager.example.org/s3cret-token",)
    missing = {"receivers": {"ward": ["json://x", "json://${NOT_SET_ANYWHERE}"]}}
    with pytest.raises(ConfigError, match=r"^w\.yaml: receivers\.ward\.urls\[1\]: variable "
                                          r"NOT_SET_ANYWHERE is not set$"):
        config.parse(missing, source="w.yaml")
