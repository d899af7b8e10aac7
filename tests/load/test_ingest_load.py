"""Sustained load: every reading stored exactly once while publishers run flat out.

CI runs the bounded size (VIGIL_LOAD_SCALE=1: 100,000 readings); set VIGIL_LOAD_SCALE=10 for
a million. Speed is measured by `vigil bench ingest`, not here.
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from tests.helpers import publish_all, telemetry
from vigil.core import topics

pytestmark = pytest.mark.load
SCALE = int(os.environ.get("VIGIL_LOAD_SCALE", "1"))


def test_flat_out_publishers_lose_and_duplicate_nothing(stack):
    devices = [f"ld-{i:03d}" for i in range(50)]
    for d in devices:
        stack.add_device(d)
    batches = 40 * SCALE  # per device, 50 samples each
    base = int(time.time() * 1000) - 86_400_000
    jobs = [[(topics.device(d, "telemetry"), telemetry(d, s, base + s * 50_000, 50))
             for s in range(batches) for d in devices[k::2]] for k in range(2)]
    threads = [threading.Thread(target=publish_all, args=(stack.mqtt_url, j), kwargs={
        "timeout": 300}) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expected = len(devices) * batches * 50
    assert stack.wait_count("SELECT count(*) FROM readings", expected, timeout=300) == expected
    rows = stack.fetch("SELECT count(DISTINCT (device_id, time)), count(DISTINCT device_id),"
                       " min(value), max(value) FROM readings")
    assert rows == [(expected, 50, 70.0, 76.0)]
    assert stack.fetch("SELECT count(*) FROM dead_letters") == [(0,)]
