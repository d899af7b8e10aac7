"""Stale data: measured on the wall clock the caller controls, no sleeping."""

from __future__ import annotations

from services.rules.tests.rules_testkit import T0, at, engine, events, feed

RULE = "rules:\n  - {name: ox-stale, kind: stale, metric: spo2, expected: 5m}\n"


def test_fires_after_expected_cadence_and_resolves_on_the_next_reading():
    e = engine(RULE)
    assert feed(e, "spo2", [(0, 97)]) == []
    assert e.tick(at(5)) == []  # 300 s is not more than 300 s
    ts = e.tick(at(5) + 1)
    assert events(ts) == [("ox-stale", "firing", 5 + 1 / 60_000, "warning")]
    assert ts[0].inputs["age_s"] == 300.001
    assert e.tick(at(6)) == []  # still firing, no duplicate
    assert events(feed(e, "spo2", [(7, 97)])) == [("ox-stale", "resolved", 7, "warning")]


def test_arrival_time_not_device_time_counts():
    e = engine(RULE)
    # A backfilled reading from an hour ago arrives now: the device is talking.
    feed(e, "spo2", [(0, 97)], wall=60)
    assert e.tick(at(64)) == []
    assert len(e.tick(at(66))) == 1


def test_never_seen_metric_is_not_stale():
    e = engine(RULE)
    feed(e, "glucose", [(0, 100)])
    assert e.tick(T0 + 10**9) == []


OFFLINE = "rules:\n  - {name: device-offline, kind: offline}\n"


def test_offline_device_fires_at_once_and_resolves_when_back():
    e = engine(OFFLINE)
    e.set_devices({"p1": {"ox-1": True, "gm-1": True}})
    assert e.tick(at(0)) == []
    e.set_devices({"p1": {"ox-1": False, "gm-1": True}})
    ts = e.tick(at(1))
    assert events(ts) == [("device-offline", "firing", 1, "warning")]
    assert ts[0].inputs["offline"] == ["ox-1"]
    assert ts[0].device_id == "ox-1"
    assert e.tick(at(2)) == []
    e.set_devices({"p1": {"ox-1": True, "gm-1": True}})
    assert events(e.tick(at(3))) == [("device-offline", "resolved", 3, "warning")]


def test_no_status_ever_is_unknown():
    e = engine(OFFLINE)
    feed(e, "spo2", [(0, 97)])
    assert e.tick(at(10)) == []
