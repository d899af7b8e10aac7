"""Scenarios: exactly which notifications go out, to whom and when, on a fake clock."""

from __future__ import annotations

import pytest

from services.notifier.tests.notifier_testkit import NOON, FakeClock, drive, make_alert
from vigil.notifier import config
from vigil.notifier.dispatch import Dispatcher
from vigil.notifier.silence import Silences

MIN = 60.0
WARD = {
    "receivers": {"nurse": ["json://n"], "charge": ["json://c"], "doctor": ["json://d"]},
    "route": {"receiver": "nurse", "group_by": ["patient_id"], "group_wait": "30s",
              "group_interval": "5m", "repeat_interval": "1h",
              "escalation": [{"after": "10m", "receiver": "charge"},
                             {"after": "20m", "receiver": "doctor"}]},
}
NO_ESCALATION = {**WARD, "route": {**WARD["route"], "escalation": []}}  # type: ignore[dict-item]


@pytest.fixture
def silences() -> Silences:
    return Silences()


def make(doc: dict[str, object], clock: FakeClock, silences: Silences) -> Dispatcher:
    return Dispatcher(config.parse(doc), silences, clock)


def test_first_notification_waits_for_group_wait_then_group_interval(
        clock: FakeClock, silences: Silences) -> None:
    d = make(NO_ESCALATION, clock, silences)
    d.receive(make_alert("a1", patient="p1"))
    clock.advance(20)
    d.receive(make_alert("a2", patient="p1"))
    d.receive(make_alert("b1", patient="p2"))
    assert drive(d, clock, 29) == []
    assert drive(d, clock, 60) == [
        (30, "nurse", "firing", ["a1", "a2"]),
        (50, "nurse", "firing", ["b1"]),  # its own group, its own group_wait
    ]
    d.receive(make_alert("a3", patient="p1"))  # joins an already-notified group
    assert drive(d, clock, 20 * MIN) == [(330, "nurse", "firing", ["a1", "a2", "a3"])]


def test_no_change_means_silence_until_repeat_interval(clock: FakeClock, silences: Silences
                                                        ) -> None:
    d = make(NO_ESCALATION, clock, silences)
    d.receive(make_alert("a1"))
    for _ in range(5):  # the rules service re-publishing the same episode is deduplicated
        d.receive(make_alert("a1", value=87.0))
    assert drive(d, clock, 2 * 3600 + 60) == [
        (30, "nurse", "firing", ["a1"]),
        # repeats land on the group_interval tick after repeat_interval has passed
        (30 + 3600, "nurse", "repeat", ["a1"]),
        (30 + 7200, "nurse", "repeat", ["a1"]),
    ]


def test_ack_stops_repeats(clock: FakeClock, silences: Silences) -> None:
    d = make(NO_ESCALATION, clock, silences)
    d.receive(make_alert("a1"))
    assert drive(d, clock, 60) == [(30, "nurse", "firing", ["a1"])]
    assert d.ack("a1", by="nurse-kim")
    assert not d.ack("nope", by="nurse-kim")
    assert drive(d, clock, 3 * 3600) == [(60, "nurse", "acked", ["a1"])]  # then nothing


def test_escalation_chain_pages_each_level_in_turn(clock: FakeClock, silences: Silences) -> None:
    d = make(WARD, clock, silences)
    d.receive(make_alert("a1"))
    assert drive(d, clock, 40 * MIN) == [
        (30, "nurse", "firing", ["a1"]),
        (30 + 10 * MIN, "charge", "escalation", ["a1"]),
        (30 + 20 * MIN, "doctor", "escalation", ["a1"]),
    ]


def test_ack_stops_escalation(clock: FakeClock, silences: Silences) -> None:
    d = make(WARD, clock, silences)
    d.receive(make_alert("a1"))
    assert drive(d, clock, 15 * MIN) == [
        (30, "nurse", "firing", ["a1"]),
        (30 + 10 * MIN, "charge", "escalation", ["a1"]),
    ]
    d.ack("a1", by="charge-sam")
    # Everyone paged hears who took it, then nothing more: no doctor, no repeats.
    assert drive(d, clock, 3 * 3600) == [(15 * MIN, "charge", "acked", ["a1"]),
                                         (15 * MIN, "nurse", "acked", ["a1"])]


def test_repeats_go_to_every_level_reached(clock: FakeClock, silences: Silences) -> None:
    d = make(WARD, clock, silences)
    d.receive(make_alert("a1"))
    sent = drive(d, clock, 3600 + 60)
    assert sent[-3:] == [(30 + 3600, r, "repeat", ["a1"]) for r in ("nurse", "charge", "doctor")]


def test_resolved_goes_to_everyone_paged_and_only_them(clock: FakeClock, silences: Silences
                                                       ) -> None:
    d = make(WARD, clock, silences)
    d.receive(make_alert("a1"))
    drive(d, clock, 12 * MIN)  # nurse at 30 s, charge at 10m30s
    d.receive(make_alert("a1", firing=False))
    # flushes run at 30 s + k * 5 min; the one after 12 min is at 15m30s
    assert drive(d, clock, 3 * 3600) == [
        (30 + 15 * MIN, "charge", "resolved", ["a1"]),
        (30 + 15 * MIN, "nurse", "resolved", ["a1"]),
    ]
    assert d.next_due() is None  # the group is gone


def test_resolved_before_group_wait_sends_nothing(clock: FakeClock, silences: Silences) -> None:
    d = make(WARD, clock, silences)
    d.receive(make_alert("a1"))
    clock.advance(10)
    d.receive(make_alert("a1", firing=False))
    assert drive(d, clock, 3600) == []


def test_silence_mutes_and_its_end_unmutes(clock: FakeClock, silences: Silences) -> None:
    d = make(NO_ESCALATION, clock, silences)
    silences.add({"patient_id": "p1"}, NOON, NOON + 10 * MIN, "nurse-kim", "bed bath")
    d.receive(make_alert("a1", severity="warning"))
    assert drive(d, clock, 12 * MIN) == [(30 + 10 * MIN, "nurse", "firing", ["a1"])]


def test_silenced_alert_that_resolves_is_never_sent(clock: FakeClock, silences: Silences) -> None:
    d = make(WARD, clock, silences)
    silences.add({"rule": "spo2_low"}, NOON, NOON + 3600, "nurse-kim", "probe off")
    d.receive(make_alert("a1", severity="high"))
    assert drive(d, clock, 30 * MIN) == []
    d.receive(make_alert("a1", firing=False))
    assert drive(d, clock, 3 * 3600) == []


def test_safety_floor_critical_breaks_through_silence_and_snooze(
        clock: FakeClock, silences: Silences) -> None:
    d = make(WARD, clock, silences)
    silences.add({"patient_id": "p1"}, NOON, NOON + 3600, "nurse-kim", "bed bath")
    silences.snooze("a1", NOON, NOON + 3600, by="nurse-kim")
    silences.snooze("b1", NOON, NOON + 3600, by="nurse-kim")
    d.receive(make_alert("a1", severity="critical"))
    d.receive(make_alert("b1", patient="p2", severity="warning"))
    assert drive(d, clock, 11 * MIN) == [
        (30, "nurse", "firing", ["a1"]),
        (30 + 10 * MIN, "charge", "escalation", ["a1"]),  # and escalates through it too
    ]


def test_snooze_mutes_one_episode_only(clock: FakeClock, silences: Silences) -> None:
    d = make(NO_ESCALATION, clock, silences)
    silences.snooze("a1", NOON, NOON + 3600, by="nurse-kim")
    d.receive(make_alert("a1"))
    d.receive(make_alert("a2"))
    assert drive(d, clock, 60) == [(30, "nurse", "firing", ["a2"])]


def test_nothing_routed_without_a_route(clock: FakeClock, silences: Silences) -> None:
    d = make({}, clock, silences)
    d.receive(make_alert("a1", severity="critical"))
    assert d.next_due() is None
    assert d.tick() == []


def test_critical_route_pages_at_once_and_audit_copy_continues(
        clock: FakeClock, silences: Silences, ward: config.Config) -> None:
    d = Dispatcher(ward, silences, clock)
    d.receive(make_alert("a1", severity="critical"))
    assert drive(d, clock, 60) == [
        (0, "ward-nurse", "firing", ["a1"]),
        (30, "audit", "firing", ["a1"]),
    ]


def test_restore_does_not_page_again_and_carries_on_escalating(clock: FakeClock,
                                                                silences: Silences) -> None:
    d = make(WARD, clock, silences)
    # Before the restart: nurse paged 12 min ago, charge 2 min ago (escalation level 1).
    d.restore(make_alert("a1"), None, {"nurse": NOON - 12 * MIN, "charge": NOON - 2 * MIN})
    d.restore(make_alert("a2", patient="p2"), None, {})  # firing, never paged
    d.restore(make_alert("a3", patient="p3"), "nurse-kim", {"nurse": NOON - 5 * MIN})
    assert drive(d, clock, 10 * MIN) == [
        (30, "nurse", "firing", ["a2"]),
        # level 2 was due 20 min after the first page: 8 min after the restart
        (8 * MIN, "doctor", "escalation", ["a1"]),
    ]
    d.receive(make_alert("a3", patient="p3", firing=False))
    assert drive(d, clock, 20 * MIN) == [
        (30 + 10 * MIN, "charge", "escalation", ["a2"]),  # a2 escalates from its own page
        (30 + 10 * MIN, "nurse", "resolved", ["a3"]),  # acked, yet resolved to whom was paged
    ]


def test_restore_ignores_resolved_alerts(clock: FakeClock, silences: Silences) -> None:
    d = make(WARD, clock, silences)
    d.restore(make_alert("a1", firing=False), None, {"nurse": NOON})
    assert d.next_due() is None


def test_a_higher_severity_pages_again_even_when_acked(clock: FakeClock, silences: Silences
                                                       ) -> None:
    d = make(NO_ESCALATION, clock, silences)
    d.receive(make_alert("a1", severity="high"))
    assert drive(d, clock, 60) == [(30, "nurse", "firing", ["a1"])]
    d.ack("a1", by="nurse-kim")
    d.receive(make_alert("a1", severity="warning"))  # a lower severity is not news
    assert drive(d, clock, 6 * MIN) == [(60, "nurse", "acked", ["a1"])]
    d.receive(make_alert("a1", severity="critical"))
    assert drive(d, clock, 12 * MIN) == [(30 + 10 * MIN, "nurse", "firing", ["a1"])]


def test_a_rise_to_critical_moves_to_the_critical_route_without_a_duplicate_page(
        clock: FakeClock, silences: Silences, ward: config.Config) -> None:
    d = Dispatcher(ward, silences, clock)
    d.receive(make_alert("a1", severity="warning"))  # no child matches: the root route
    assert drive(d, clock, 60) == [(30, "ward-nurse", "firing", ["a1"])]
    d.ack("a1", by="nurse-kim")
    d.receive(make_alert("a1", severity="critical"))  # urgent: the critical route, at once
    assert drive(d, clock, 340) == [
        (60, "ward-nurse", "acked", ["a1"]),
        (60, "ward-nurse", "firing", ["a1"]),  # not acked on this route: it pages
        (90, "audit", "firing", ["a1"]),
    ]  # and the root group's look at 330 s does not page the same nurse for the rise again
    d.receive(make_alert("a1", severity="critical", firing=False))
    assert drive(d, clock, 1000) == [  # each person paged hears of the resolve once
        (360, "ward-nurse", "resolved", ["a1"]), (390, "audit", "resolved", ["a1"])]


def test_an_ack_is_announced_once_to_the_others_who_were_paged(
        clock: FakeClock, silences: Silences) -> None:
    d = make(WARD, clock, silences)
    d.receive(make_alert("a1"))
    d.receive(make_alert("a2", patient="p2"))
    assert [n[1:3] for n in drive(d, clock, 11 * MIN)] == [
        ("nurse", "firing"), ("nurse", "firing"), ("charge", "escalation"),
        ("charge", "escalation")]
    # The charge nurse acknowledges a1 from the link in their own message: only the ward
    # nurse is told; a second ack (the rules service echoing it) announces nothing.
    assert d.ack("a1", by="charge", announce_to_self="charge")
    assert d.ack("a1", by="charge")
    notes = d.tick()
    assert [(n.receiver, n.kind, n.acked_by, [a.alert_id for a in n.firing]) for n in notes] \
        == [("nurse", "acked", "charge", ["a1"])]
    assert d.tick() == []
    # a2 is still unacknowledged: it escalates to the doctor at 20 min 30 s, a1 does not.
    assert drive(d, clock, 25 * MIN) == [(30 + 20 * MIN, "doctor", "escalation", ["a2"])]
