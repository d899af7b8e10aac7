"""A restart in the middle of an episode changes nothing: the dispatcher rebuilt from the
notification log (who was paged, each group's timing) sends exactly what an uninterrupted one
would have sent, at the same moments, and nothing twice."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from services.notifier.tests.notifier_testkit import NOON, FakeClock, make_alert
from vigil.notifier import config
from vigil.notifier.dispatch import Dispatcher, GroupTiming, Notification
from vigil.notifier.model import Alert
from vigil.notifier.silence import Silences

MIN = 60.0
WARD = config.parse({
    "receivers": {"nurse": ["json://n"], "charge": ["json://c"], "doctor": ["json://d"]},
    "route": {"receiver": "nurse", "group_wait": "30s", "group_interval": "5m",
              "repeat_interval": "1h",
              "escalation": [{"after": "10m", "receiver": "charge"},
                             {"after": "20m", "receiver": "doctor"}]},
})
ALERTS = [make_alert("a1", patient="p1"), make_alert("b1", patient="p2", severity="warning")]
END = 2 * 3600 + 60
Row = tuple[float, str, str, list[str]]


def run(d: Dispatcher, clock: FakeClock, until: float) -> list[Notification]:
    out: list[Notification] = []
    while (due := d.next_due()) is not None and due <= NOON + until:
        clock.now = max(clock.now, due)
        out.extend(d.tick())
    clock.now = max(clock.now, NOON + until)
    return out


def rows(notes: Iterable[Notification]) -> list[Row]:
    return [(n.at - NOON, n.receiver, n.kind, [a.alert_id for a in n.firing or n.resolved])
            for n in notes]


def restore(clock: FakeClock, alerts: list[Alert], log: list[Notification],
            acked: dict[str, str] | None = None) -> Dispatcher:
    """What the service does on start, from what the store would read back."""
    d = Dispatcher(WARD, Silences(), clock)
    for alert in alerts:
        paged: dict[str, float] = {}
        for n in log:
            if n.kind != "resolved" and alert in n.firing:
                paged.setdefault(n.receiver, n.at)
        d.restore(alert, (acked or {}).get(alert.alert_id), paged)
    for key in d.group_keys():
        d.restore_timing(key, GroupTiming.from_log(
            (n.kind, n.at, n.level, n.escalation_start) for n in log if n.group == key))
    return d


def uninterrupted() -> list[Row]:
    clock = FakeClock()
    d = Dispatcher(WARD, Silences(), clock)
    for alert in ALERTS:
        d.receive(alert)
    return rows(run(d, clock, END))


def test_the_uninterrupted_schedule() -> None:
    repeats = [(t, r, "repeat", ids) for t in (30 + 3600, 30 + 7200)
               for ids in (["a1"], ["b1"]) for r in ("nurse", "charge", "doctor")]
    assert sorted(uninterrupted()) == sorted([
        (30, "nurse", "firing", ["a1"]), (30, "nurse", "firing", ["b1"]),
        (630, "charge", "escalation", ["a1"]), (630, "charge", "escalation", ["b1"]),
        (1230, "doctor", "escalation", ["a1"]), (1230, "doctor", "escalation", ["b1"]),
        *repeats])


@pytest.mark.parametrize("restart_at", [5 * MIN, 630, 15 * MIN, 45 * MIN, 3630, 61 * MIN,
                                        90 * MIN])
def test_restart_anywhere_keeps_the_schedule(restart_at: float) -> None:
    clock = FakeClock()
    before = Dispatcher(WARD, Silences(), clock)
    for alert in ALERTS:
        before.receive(alert)
    log = run(before, clock, restart_at)
    after = restore(clock, ALERTS, log)
    assert rows(log) + rows(run(after, clock, END)) == uninterrupted()


def test_restart_halfway_to_escalation_escalates_on_time_and_once() -> None:
    clock = FakeClock()
    before = Dispatcher(WARD, Silences(), clock)
    before.receive(ALERTS[0])
    log = run(before, clock, 5 * MIN)
    assert rows(log) == [(30, "nurse", "firing", ["a1"])]
    after = restore(clock, ALERTS[:1], log)
    assert after.next_due() == NOON + 5 * MIN + 30  # the next look, on the old phase
    assert rows(run(after, clock, 10 * MIN + 29)) == []
    assert rows(run(after, clock, 25 * MIN)) == [(630, "charge", "escalation", ["a1"]),
                                                 (1230, "doctor", "escalation", ["a1"])]


def test_acked_before_the_restart_stays_quiet() -> None:
    clock = FakeClock()
    before = Dispatcher(WARD, Silences(), clock)
    before.receive(ALERTS[0])
    log = run(before, clock, 12 * MIN)
    before.ack("a1", "charge-sam")
    after = restore(clock, ALERTS[:1], log, acked={"a1": "charge-sam"})
    assert rows(run(after, clock, 3 * 3600)) == []


def test_a_log_without_timing_falls_back_to_first_page_times() -> None:
    clock = FakeClock(NOON + 12 * MIN)
    d = Dispatcher(WARD, Silences(), clock)
    # Rows written before 0004 have no group key: the first-page times are all there is.
    d.restore(ALERTS[0], None, {"nurse": NOON + 30, "charge": NOON + 630})
    assert rows(run(d, clock, 25 * MIN)) == [(1230, "doctor", "escalation", ["a1"])]


def test_timing_from_log_takes_the_last_decision() -> None:
    assert GroupTiming.from_log([]) == GroupTiming()
    assert GroupTiming.from_log([
        ("firing", 30.0, 0, 30.0), ("escalation", 630.0, 1, 30.0),
        ("resolved", 930.0, 1, 30.0)]) == GroupTiming(30.0, 930.0, 1, 30.0)
