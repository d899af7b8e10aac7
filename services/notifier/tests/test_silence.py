"""Silences: validation, time windows, expiry and the safety floor."""

from __future__ import annotations

import pytest

from services.notifier.tests.notifier_testkit import NOON, make_alert
from vigil.notifier.silence import SilenceError, Silences


def test_silence_is_active_from_start_until_end() -> None:
    s = Silences()
    silence = s.add({"patient_id": "p1"}, NOON + 10, NOON + 20, "nurse-kim", "bed bath")
    alert = make_alert(severity="warning")
    assert s.muting(alert, NOON + 9) is None
    assert s.muting(alert, NOON + 10) == silence
    assert s.muting(alert, NOON + 20) is None
    assert s.muting(make_alert(patient="p2", severity="warning"), NOON + 15) is None


def test_expire_ends_a_silence_early() -> None:
    s = Silences()
    silence = s.add({"rule": "spo2_low"}, NOON, NOON + 3600, "nurse-kim", "probe off")
    s.expire(silence.id, NOON + 60)
    assert s.muting(make_alert(), NOON + 61) is None
    assert s.active(NOON + 30) != []


@pytest.mark.parametrize("severity", ["info", "warning", "high"])
def test_below_the_floor_is_muted(severity: str) -> None:
    s = Silences()
    s.snooze("a1", NOON, NOON + 60, by="nurse-kim")
    assert s.muting(make_alert("a1", severity=severity), NOON) is not None


def test_critical_is_never_muted() -> None:
    s = Silences()
    s.add({"patient_id": "p1"}, NOON, NOON + 60, "nurse-kim", "bed bath")
    s.snooze("a1", NOON, NOON + 60, by="nurse-kim")
    assert s.muting(make_alert("a1", severity="critical"), NOON) is None


@pytest.mark.parametrize(
    ("matchers", "end", "by", "comment"),
    [({}, 60, "kim", "x"), ({"rule": "r"}, 0, "kim", "x"), ({"rule": "r"}, 60, " ", "x"),
     ({"rule": "r"}, 60, "kim", "")],
)
def test_invalid_silences_are_refused(matchers: dict[str, str], end: float, by: str,
                                      comment: str) -> None:
    with pytest.raises(SilenceError):
        Silences().add(matchers, NOON, NOON + end, by, comment)


def test_expire_is_idempotent_and_states_follow_the_clock() -> None:
    s = Silences()
    silence = s.add({"patient_id": "p1"}, NOON + 60, NOON + 120, "nurse-kim", "bed bath")
    assert [silence.state(NOON + t) for t in (0, 60, 120)] == ["pending", "active", "expired"]
    ended = s.expire(silence.id, NOON + 90)
    assert (ended.ends_at, ended.expired_at, ended.state(NOON + 90)) == (NOON + 90, NOON + 90,
                                                                         "expired")
    assert s.expire(silence.id, NOON + 100) == ended  # a second expiry changes nothing
    with pytest.raises(KeyError):
        s.expire("nope", NOON)


def test_ids_are_unique_across_processes_and_old_silences_are_forgotten() -> None:
    first, second = Silences(), Silences()
    a = first.add({"rule": "r"}, NOON, NOON + 60, "kim", "x")
    b = second.add({"rule": "r"}, NOON, NOON + 60, "kim", "x")
    assert a.id != b.id
    first.put(b)
    assert first.all(NOON) == sorted([a, b], key=lambda s: (s.created_at, s.id))
    assert first.all(NOON + 60 + 86_401) == []


def test_a_matcher_needs_a_name_and_a_value() -> None:
    with pytest.raises(SilenceError, match="label name and a value"):
        Silences().build({"patient_id": " "}, NOON, NOON + 60, "kim", "x")
