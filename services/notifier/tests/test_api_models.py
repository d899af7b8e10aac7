"""API request bodies and settings: every refusal names the field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from vigil.notifier.api_models import AckIn, SilenceIn, SnoozeIn
from vigil.notifier.settings import NotifierSettings

GOOD = {"matchers": {"patient_id": "p1"}, "duration": "2h", "created_by": "alice",
        "comment": "bed bath"}


def _refusal(model: Any, body: dict[str, Any]) -> tuple[str, str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(body)
    first = caught.value.errors()[0]
    return ".".join(str(p) for p in first["loc"]), first["msg"].removeprefix("Value error, ")


def test_a_good_silence() -> None:
    given = SilenceIn.model_validate(GOOD)
    assert (given.duration_s, given.matchers, given.ends_at) == (7200.0, {"patient_id": "p1"},
                                                                 None)


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"matchers": {}}, "matchers", "Dictionary should have at least 1 item after validation, "
                                   "not 0"),
    ({"matchers": {"bad name": "x"}}, "matchers", "label name 'bad name' is not a name "
                                                  "(e.g. patient_id)"),
    ({"matchers": {"rule": " "}}, "matchers", "label 'rule' needs a value"),
    ({"duration": "2 hours"}, "duration", "invalid duration '2 hours' (e.g. 30s, 5m, 4h)"),
    ({"duration": "0s"}, "duration", "must be longer than 0s"),
    ({"duration": None}, "duration", "give a duration (e.g. 2h) or ends_at"),
    ({"ends_at": "2026-01-15T14:00:00+00:00"}, "duration", "give a duration or ends_at, "
                                                           "not both"),
    ({"ends_at": "2026-01-15T14:00:00", "duration": None}, "ends_at",
     "Input should have timezone info"),
    ({"created_by": "  "}, "created_by", "String should have at least 1 character"),
    ({"comment": ""}, "comment", "String should have at least 1 character"),
    ({"colour": "red"}, "colour", "Extra inputs are not permitted"),
])
def test_silence_refusals_name_the_field(change: dict[str, Any], field: str, message: str
                                         ) -> None:
    assert _refusal(SilenceIn, {**GOOD, **change}) == (field, message)


def test_ack_and_snooze_bodies() -> None:
    assert AckIn.model_validate({"by": " bob "}).by == "bob"
    assert _refusal(AckIn, {}) == ("by", "Field required")
    assert SnoozeIn.model_validate({"duration": "30m", "by": "kim"}).duration_s == 1800
    assert _refusal(SnoozeIn, {"duration": "soon", "by": "kim"})[0] == "duration"


def test_ack_settings_are_checked() -> None:
    assert NotifierSettings().notifier_ack_secret is None
    assert NotifierSettings(notifier_ack_secret="").notifier_ack_secret is None
    with pytest.raises(ValidationError, match="at least 16 characters"):
        NotifierSettings(notifier_ack_secret="short")
    with pytest.raises(ValidationError, match=r"only \{alert_id\} and \{ack_url\}"):
        NotifierSettings(notifier_ack_hint="Ack {alertid}")
    with pytest.raises(ValidationError, match="must start with http"):
        NotifierSettings(notifier_public_url="vigil.example.org")
    local = NotifierSettings(notifier_http_port=9999)
    assert local.public_url() == "http://127.0.0.1:9999"
    assert NotifierSettings(notifier_public_url="https://v.example/").public_url() == \
        "https://v.example"
