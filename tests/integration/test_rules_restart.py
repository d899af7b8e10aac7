"""A restarted rules replica rebuilds its windows from the database: it neither misses nor
re-fires an alert; stale-data rules follow the service's clock."""

from __future__ import annotations

import time

import pytest

from tests.helpers import publish_all
from tests.integration.test_rules_service import LOW_RULES
from tests.integration.test_rules_support import (
    T0,
    collecting,
    glucose,
    glucose_series,
    rules_process,
)
from vigil.v1 import alerts_pb2

pytestmark = pytest.mark.integration


def test_window_spanning_a_restart_fires_once(stack, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(LOW_RULES)
    stack.add_device("gm-r", "glucose_meter")
    proc = rules_process(stack, rules_file=rules)
    proc.start()
    series = glucose_series("gm-r", [100, 110, 110, 100])
    with collecting(stack.mqtt_url) as topic:
        publish_all(stack.mqtt_url, series[:2])
        assert stack.wait_count("SELECT count(*) FROM rule_progress", 1) == 1
        proc.stop()
        # Published while the replica is down: queued in its session, stored by ingest.
        publish_all(stack.mqtt_url, series[2:])
        assert stack.wait_count("SELECT count(*) FROM readings", 4) == 4
        proc.start()
        assert stack.wait_count("SELECT count(*) FROM alerts WHERE state = 'resolved'", 1) == 1
        proc.stop()
        proc.start()  # a second restart replays again: nothing new
        time.sleep(1.5)
        events = topic.snapshot()
    rows = stack.fetch("SELECT rule, started_at, resolved_at FROM alerts")
    assert rows == [("glucose-elevated", T0.replace(minute=10), T0.replace(minute=15))]
    assert [e.state for e in events] == [alerts_pb2.ALERT_STATE_FIRING,
                                         alerts_pb2.ALERT_STATE_RESOLVED]


def test_stale_data_fires_on_the_clock_and_resolves_on_the_next_reading(stack, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {name: cgm-stale, kind: stale, metric: glucose,"
                     " expected: 2s, severity: warning}\n")
    stack.add_device("gm-s", "glucose_meter")
    rules_process(stack, rules_file=rules).start()
    publish_all(stack.mqtt_url, glucose_series("gm-s", [100]))
    assert stack.wait_count("SELECT count(*) FROM alerts WHERE state = 'firing'", 1, 15) == 1
    inputs = stack.fetch("SELECT inputs->>'expected_s' FROM alerts")
    assert inputs == [("2.0",)]
    topic = "vigil/v1/devices/gm-s/glucose"
    publish_all(stack.mqtt_url, [(topic, glucose(T0.replace(minute=5), 101))])
    assert stack.wait_count("SELECT count(*) FROM alerts WHERE state = 'resolved'", 1, 15) == 1


def test_device_last_will_offline_fires_and_online_resolves(stack, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - {name: device-offline, kind: offline, severity: high}\n")
    stack.add_device("ox-lwt", "oximeter")
    rules_process(stack, rules_file=rules).start()
    status = "vigil/v1/devices/ox-lwt/status"
    publish_all(stack.mqtt_url, [(status, b"offline")])
    assert stack.wait_count("SELECT count(*) FROM alerts WHERE state = 'firing'", 1, 15) == 1
    assert stack.fetch("SELECT rule, severity, device_id, unit FROM alerts") == [
        ("device-offline", "high", "ox-lwt", "devices")]
    publish_all(stack.mqtt_url, [(status, b"online")])
    assert stack.wait_count("SELECT count(*) FROM alerts WHERE state = 'resolved'", 1, 15) == 1
