"""Simulated patients -> ingest -> rules -> alerts in the database and on the topic; replica
counts and a kill -9 change nothing about which alerts exist."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from tests.conftest import fetch, run_sync
from tests.helpers import publish_all
from tests.integration.test_rules_support import (
    collecting,
    expected_alerts,
    rules_process,
    rules_without_stale,
    sim_glucose,
    stored_alerts,
    wait_equal,
)
from vigil.core.migrate import migrate
from vigil.v1 import alerts_pb2

pytestmark = pytest.mark.e2e
START = datetime(2026, 11, 10, 0, 0, tzinfo=UTC)


def _register(stack, devices: dict[str, str]) -> dict[str, str]:
    return {d: stack.add_device(d, "glucose_meter") for d in devices}


def test_low_glucose_and_diabetic_patients_get_the_expected_alerts(stack, tmp_path):
    devices = {"gl-low-1": "low-glucose", "gl-low-2": "low-glucose", "gl-t1d-1": "diabetic"}
    patients = _register(stack, devices)
    rules = rules_without_stale(tmp_path / "rules.yaml")
    messages = sim_glucose(devices, START, hours=24)
    expected = expected_alerts(rules, messages, patients)
    rules_process(stack, rules_file=rules).start()
    with collecting(stack.mqtt_url) as topic:
        publish_all(stack.mqtt_url, messages)
        got = wait_equal(lambda: stored_alerts(stack.fetch), expected)
        assert got == expected
        events = topic.wait(len(expected) + sum(v[3] == "resolved" for v in expected.values()))
    by_rule = {(v[1], v[0]) for v in expected.values()}
    for low in ("gl-low-1", "gl-low-2"):
        assert (patients[low], "glucose-low") in by_rule
    assert any(v[1] == patients["gl-low-1"] and v[2] == "critical" for v in expected.values())
    assert (patients["gl-t1d-1"], "glucose-elevated") in by_rule
    fired = {e.alert_id for e in events if e.state == alerts_pb2.ALERT_STATE_FIRING}
    resolved = {e.alert_id for e in events if e.state == alerts_pb2.ALERT_STATE_RESOLVED}
    assert fired == set(expected)
    assert resolved == {k for k, v in expected.items() if v[3] == "resolved"}
    news = stack.fetch("SELECT count(*) FROM alerts WHERE inputs = '{}' OR thresholds = '{}'"
                       " OR rule_version IS NULL")
    assert news == [(0,)]


@pytest.fixture
def second_database(servers):
    name = f"t_{uuid.uuid4().hex[:12]}"
    servers.postgres.psql(f"CREATE DATABASE {name}")
    url = servers.postgres.url_for(name)

    async def go() -> None:
        conn = await asyncpg.connect(url)
        try:
            await migrate(conn)
        finally:
            await conn.close()

    run_sync(go())
    yield url
    servers.postgres.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


MIXED = {**{f"gm-low-{i}": "low-glucose" for i in range(4)},
         **{f"gm-party-{i}": "party-goer" for i in range(3)},
         **{f"gm-old-{i}": "elderly" for i in range(3)},
         **{f"gm-fit-{i}": "athlete" for i in range(2)}}


def _shards64(stack) -> None:
    stack.ingest.stop()
    stack.ingest.env["VIGIL_READINGS_SHARDS"] = "64"
    stack.ingest.start()


def test_two_replicas_over_64_shards_equal_one_replica(stack, tmp_path, second_database):
    _shards64(stack)
    patients = _register(stack, MIXED)
    rules = rules_without_stale(tmp_path / "rules.yaml")
    messages = sim_glucose(MIXED, START, hours=12)
    expected = expected_alerts(rules, messages, patients)
    common = {"VIGIL_READINGS_SHARDS": "64"}
    rules_process(stack, "single", rules, {**common, "VIGIL_RULES_REPLICAS": "1"}).start()
    pair = [rules_process(stack, f"pair-{k}", rules, {
        **common, "VIGIL_DATABASE_URL": second_database, "VIGIL_RULES_REPLICAS": "2",
        "VIGIL_RULES_ORDINAL": str(k)}) for k in (0, 1)]
    for proc in pair:
        proc.start()
    publish_all(stack.mqtt_url, messages)
    single = wait_equal(lambda: stored_alerts(stack.fetch), expected)
    double = wait_equal(lambda: stored_alerts(lambda q: fetch(second_database, q)), single)
    assert single == expected
    assert double == single
    owned = [proc.wait_ready()["patients"] for proc in pair]
    assert all(n > 0 for n in owned)
    assert sum(owned) == len(MIXED)


def test_kill_9_mid_run_misses_and_duplicates_nothing(stack, tmp_path):
    patients = _register(stack, MIXED)
    rules = rules_without_stale(tmp_path / "rules.yaml")
    messages = sim_glucose(MIXED, START, hours=24)
    expected = expected_alerts(rules, messages, patients)
    env = {"VIGIL_RULES_REPLICAS": "2"}
    keep = rules_process(stack, "keep", rules, {**env, "VIGIL_RULES_ORDINAL": "0"})
    victim = rules_process(stack, "victim", rules, {**env, "VIGIL_RULES_ORDINAL": "1"})
    keep.start()
    victim.start()
    half = len(messages) // 2
    with collecting(stack.mqtt_url) as topic:
        publish_all(stack.mqtt_url, messages[:half])
        rest = threading.Thread(target=publish_all, args=(stack.mqtt_url, messages[half:]))
        rest.start()
        time.sleep(0.3)
        victim.kill()
        rest.join()
        time.sleep(1)
        victim.start()
        got = wait_equal(lambda: stored_alerts(stack.fetch), expected)
        assert got == expected
        n_events = len(expected) + sum(v[3] == "resolved" for v in expected.values())
        events = topic.wait(n_events)
    fired = {e.alert_id for e in events if e.state == alerts_pb2.ALERT_STATE_FIRING}
    resolved = {e.alert_id for e in events if e.state == alerts_pb2.ALERT_STATE_RESOLVED}
    assert fired == set(expected)
    assert resolved == {k for k, v in expected.items() if v[3] == "resolved"}
    # The outbox flags are cleared once the broker acked the events (batched, within ~0.2 s).
    assert stack.wait_count("SELECT count(*) FROM alerts WHERE pending_publish", 0, 5) == 0
