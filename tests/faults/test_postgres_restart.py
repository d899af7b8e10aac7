"""PostgreSQL going away under a running ingest: a restart (fast shutdown) in the middle of a
20,000-sample stream, and backends terminated by an operator (or a failover) again and again.
Ingest keeps its batch, reconnects by itself with back-off, and every reading is stored
exactly once: a database outage is never a reason to dead-letter (and so drop) a reading.

The ingest process is never restarted here: unacknowledged messages stay in its MQTT session
and in memory while the database is down, and are written once it answers again.
"""

from __future__ import annotations

import signal
import time
import urllib.error
import urllib.request

import pytest

from tests.helpers import (
    Collector,
    PacedPublisher,
    SlowCloseProxy,
    publish_all,
    stored_readings,
    telemetry,
    telemetry_stream,
)
from vigil.core import topics

pytestmark = pytest.mark.faults

DEVICES = [f"pg-ox-{i}" for i in range(10)]
BATCHES, SAMPLES = 40, 50  # 20,000 readings
TOTAL = len(DEVICES) * BATCHES * SAMPLES
COUNT = "SELECT count(*) FROM readings"
EXACTLY_ONCE = "SELECT count(*), count(DISTINCT (device_id, metric, time)) FROM readings"
# Every backend of this test's database but the one asking: ingest's write and look-up
# connections (the test's own queries use short-lived connections of their own).
TERMINATE = ("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
             " WHERE datname = current_database() AND pid <> pg_backend_pid()")


def _ready(port: int) -> tuple[int, str]:
    """Status and body of ingest's /readyz."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def _register(stack) -> None:
    for d in DEVICES:
        stack.add_device(d)


def _wait_stored(stack, at_least: int, publisher: PacedPublisher) -> int:
    deadline = time.monotonic() + 20
    while (stored := stack.fetch(COUNT)[0][0]) < at_least and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stored >= at_least, (stored, publisher.sent, publisher.error)
    return stored


def test_postgres_restart_mid_stream_stores_everything_once(stack, servers):
    _register(stack)
    base = int(time.time() * 1000) - 12 * 3_600_000
    messages, expected = telemetry_stream(DEVICES, BATCHES, SAMPLES, base)
    collector = Collector(stack.mqtt_url, topics.readings_filter())
    # 50 messages/s: an 8 s stream, so PostgreSQL is down and back while it still runs.
    publisher = PacedPublisher(stack.mqtt_url, messages, per_second=50)
    try:
        publisher.start()
        stored = _wait_stored(stack, 2000, publisher)
        servers.postgres.stop(signal.SIGINT)
        sent_at_stop = publisher.sent
        # The outage must fall in the middle of the stream.
        assert stored < TOTAL
        assert sent_at_stop < len(messages)
        time.sleep(3.0)
        assert stack.ingest.running()
    finally:
        # `servers` is shared by the whole session: it must come back even if we failed.
        servers.postgres.start()
    assert publisher.finish() == len(messages)
    assert publisher.sent > sent_at_stop

    assert stack.wait_count(COUNT, TOTAL, timeout=30) == TOTAL, \
        stack.fetch("SELECT reason FROM dead_letters LIMIT 5")
    time.sleep(0.5)
    assert stack.fetch(EXACTLY_ONCE) == [(TOTAL, TOTAL)]
    assert stored_readings(stack) == expected
    assert stack.fetch("SELECT count(*) FROM dead_letters") == [(0,)]
    assert stack.ingest.running(), "ingest must survive the outage without a restart"
    assert _ready(int(stack.env["VIGIL_INGEST_HTTP_PORT"]))[0] == 200

    def republished() -> set[tuple[str, int]]:
        return {(r.device_id, r.time_ms) for _, r in collector.readings()}

    assert collector.wait(lambda: len(republished()) >= TOTAL, timeout=30)
    collector.close()
    assert republished() == set(expected)


def test_terminated_backends_mid_stream_lose_nothing(stack):
    # A terminated backend sends FATAL 57P01 and closes; when that reaches an idle
    # connection, the next query fails on the client side before the close is noticed.
    # Terminating every 50 ms for the whole stream makes that window likely to be hit.
    _register(stack)
    base = int(time.time() * 1000) - 30 * 3_600_000
    messages, expected = telemetry_stream(DEVICES, BATCHES, SAMPLES, base)
    publisher = PacedPublisher(stack.mqtt_url, messages, per_second=80)
    publisher.start()
    terminated = 0
    while publisher.is_alive():
        terminated += stack.fetch(TERMINATE)[0][0]
        time.sleep(0.05)
    assert publisher.finish() == len(messages)
    assert terminated >= 10, "the connections were hardly ever terminated"

    stored = stack.wait_count(COUNT, TOTAL, timeout=15)
    assert stack.fetch("SELECT reason FROM dead_letters") == [], "readings were dead-lettered"
    assert stored == TOTAL
    assert stack.fetch(EXACTLY_ONCE) == [(TOTAL, TOTAL)]
    assert stored_readings(stack) == expected
    assert stack.ingest.running()


@pytest.mark.parametrize("registry_due", [False, True], ids=["write", "registry-lookup"])
def test_backend_terminated_while_idle_is_retried(stack, servers, registry_due):
    # Deterministic version of the test above. PostgreSQL's FATAL for a terminated backend
    # reaches ingest's idle connection at once; the proxy holds back the close for 3 s, as
    # a slow network path can. A query in between fails on the client side with asyncpg's
    # InternalClientError ("another operation (2) is in progress"): the connection is dead,
    # and the batch must wait for a new one, never be dead-lettered, never stop ingest.
    stack.add_device("pg-term")
    proxy = SlowCloseProxy(servers.postgres.port, close_delay=3.0)
    try:
        stack.ingest.stop()
        stack.ingest.env["VIGIL_DATABASE_URL"] = stack.database_url.replace(
            f":{servers.postgres.port}/", f":{proxy.port}/")
        stack.ingest.start()
        topic = topics.device("pg-term", "telemetry")
        base = int(time.time() * 1000) - 3_600_000
        publish_all(stack.mqtt_url, [(topic, telemetry("pg-term", 0, base, 5))])
        assert stack.wait_count(COUNT, 5) == 5
        if registry_due:
            time.sleep(5.5)  # past VIGIL_INGEST_REGISTRY_TTL_S: the next message looks it up
        assert stack.fetch(TERMINATE) == [(2,)]  # the write and the look-up connections
        time.sleep(0.3)
        publish_all(stack.mqtt_url, [(topic, telemetry("pg-term", 1, base + 10_000, 5))])
        stored = stack.wait_count(COUNT, 10, timeout=8)
        assert stack.ingest.running(), "ingest exited: " + \
            stack.ingest.logfile.read_text()[-600:]
        assert stack.fetch("SELECT reason FROM dead_letters") == []
        assert stored == 10
    finally:
        proxy.close()


def test_readiness_reports_the_database_outage(stack, servers):
    # Readiness is "broker connected and the last database use succeeded". Once the device
    # registry is due for a reload (VIGIL_INGEST_REGISTRY_TTL_S=5 here), that look-up is the
    # database use that fails, and nothing is written until it succeeds.
    stack.add_device("pg-ready")
    port = int(stack.env["VIGIL_INGEST_HTTP_PORT"])
    base = int(time.time() * 1000) - 3_600_000
    publish_all(stack.mqtt_url, [(topics.device("pg-ready", "telemetry"),
                                  telemetry("pg-ready", 0, base, 5))])
    assert stack.wait_count(COUNT, 5) == 5
    assert _ready(port)[0] == 200
    try:
        servers.postgres.stop(signal.SIGINT)
        time.sleep(6.0)  # past the registry TTL
        publish_all(stack.mqtt_url, [(topics.device("pg-ready", "telemetry"),
                                      telemetry("pg-ready", 1, base + 10_000, 5))])
        time.sleep(2.0)
        status, body = _ready(port)
        assert status == 503, f"ready while the database is down: {body}"
        assert '"database": false' in body
    finally:
        servers.postgres.start()
    assert stack.wait_count(COUNT, 10) == 10
    deadline = time.monotonic() + 15
    while _ready(port)[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _ready(port)[0] == 200
