"""Health Auto Export and glucose-meter JSON, from the broker to the readings table, the rollups
and the readings topic.

The HAE payload is the decoder's golden file holding every item shape the app emits
(services/ingest/tests/decode/testdata/hae_every_shape.json); its expected rows are the
golden file beside it, so the unit test and this end-to-end test hold ingest to the same rows.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.helpers import Collector, publish_all
from vigil.core import topics

pytestmark = pytest.mark.e2e

TESTDATA = (Path(__file__).resolve().parents[2] / "services" / "ingest" / "tests" / "decode"
            / "testdata")
GOLDEN = (TESTDATA / "hae_every_shape.json").read_bytes()
EXPECTED = json.loads((TESTDATA / "hae_every_shape.expected.json").read_text())
PHONE, METER = "hae-phone", "gl-meter"
ROWS = ("SELECT metric, time, value, unit, ingested_at FROM readings"
        " WHERE device_id = $1 ORDER BY time, metric")
# The hourly bucket the app re-sends while it is still filling: steps, 14:00 at UTC-8.
RESENT_DATE, RESENT_OLD, RESENT_NEW = "2024-02-06 14:00:00 -0800", 1234, 1500
RESENT_TIME = datetime(2024, 2, 6, 22, 0, tzinfo=UTC)


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _ms(t: datetime) -> int:
    return int(t.timestamp() * 1000)


def _expected(changes: dict[tuple[str, datetime], float] | None = None,
              ) -> dict[tuple[str, datetime], tuple[float, str]]:
    rows = {(e["metric"], _utc(e["time"])): (float(e["value"]), e["unit"]) for e in EXPECTED}
    for key, value in (changes or {}).items():
        rows[key] = (value, rows[key][1])
    return rows


def _assert_rows(stack, expected: dict[tuple[str, datetime], tuple[float, str]]) -> None:
    rows = stack.fetch(ROWS, PHONE)
    got = {(r[0], r[1]): (r[2], r[3]) for r in rows}
    assert len(rows) == len(expected)
    assert got.keys() == expected.keys()
    for key, (value, unit) in expected.items():
        assert got[key][1] == unit, key
        assert got[key][0] == pytest.approx(value, abs=1e-6), key


def _resent_export() -> bytes:
    """The golden export with one hourly step count changed, as the app re-sends it."""
    doc = json.loads(GOLDEN)
    (entry,) = [m for m in doc["data"]["metrics"] if m["name"] == "step_count"]
    (item,) = [i for i in entry["data"] if i["date"] == RESENT_DATE]
    assert item["qty"] == RESENT_OLD
    item["qty"] = RESENT_NEW
    return json.dumps(doc, ensure_ascii=False).encode()


def _wait_dead_letters(stack, n: int) -> None:
    # Each copy of the export has the same bad items, so it adds exactly one dead-letter
    # row in the transaction of its readings: the row says the export was committed.
    assert stack.wait_count("SELECT count(*) FROM dead_letters", n) == n


def test_hae_every_shape_stored_once_and_a_resent_bucket_replaced(stack):
    patient = stack.add_device(PHONE, "phone")
    readings = Collector(stack.mqtt_url, topics.readings_filter())
    topic = topics.device(PHONE, "hae")
    expected = _expected()

    # 1. The golden export: every shape, metric names, canonical units, UTC times.
    publish_all(stack.mqtt_url, [(topic, GOLDEN)])
    assert stack.wait_count("SELECT count(*) FROM readings", len(expected)) == len(expected)
    _wait_dead_letters(stack, 1)
    _assert_rows(stack, expected)
    (reason,) = stack.fetch("SELECT reason FROM dead_letters")[0]
    # The payload's bad items are named (and the good ones beside them were stored above).
    assert "heart_rate data[1].Avg" in reason
    assert "step_count data[2].date" in reason
    assert "vo2_max" in reason
    assert readings.wait(lambda: len(readings.readings()) >= len(expected))
    time.sleep(0.3)
    first = readings.readings()
    assert len(first) == len(expected)
    assert {(r.metric, r.time_ms) for _, r in first} == {(m, _ms(t)) for m, t in expected}
    assert {t for t, _ in first} == {topics.readings(patient, 16)}
    first_rows = stack.fetch(ROWS, PHONE)

    # 2. The same export again: nothing new stored, nothing rewritten, nothing republished.
    before = len(readings.messages)
    publish_all(stack.mqtt_url, [(topic, GOLDEN)])
    _wait_dead_letters(stack, 2)
    time.sleep(0.5)  # a ReadingBatch for unchanged rows would arrive by now
    assert stack.fetch(ROWS, PHONE) == first_rows  # ingested_at included
    assert len(readings.messages) == before

    # 3. A later export re-sends the hour still filling with a new figure: that row alone is
    # replaced, so the rollups count the hour once, with the new value.
    before = len(readings.messages)
    publish_all(stack.mqtt_url, [(topic, _resent_export())])
    _wait_dead_letters(stack, 3)
    _assert_rows(stack, _expected({("steps", RESENT_TIME): RESENT_NEW}))
    rows = stack.fetch(ROWS, PHONE)
    changed = [(a, b) for a, b in zip(first_rows, rows, strict=True) if a != b]
    assert len(changed) == 1
    old, new = changed[0]
    assert (new[0], new[1], new[2]) == ("steps", RESENT_TIME, RESENT_NEW)
    assert new[4] > old[4]  # ingested_at moved: the row was rewritten
    for view, bucket in (("readings_1m", RESENT_TIME), ("readings_1h", RESENT_TIME)):
        assert stack.fetch(
            f"SELECT count, min, max, avg, last FROM {view}"
            " WHERE patient_id = $1 AND metric = 'steps' AND bucket = $2", patient, bucket,
        ) == [(1, RESENT_NEW, RESENT_NEW, RESENT_NEW, RESENT_NEW)], view
    # The day holds the 22:00 and 23:00 UTC hours: 1500 + 98, not 1234 + 1500 + 98.
    assert stack.fetch("SELECT count, min, max FROM readings_1d WHERE patient_id = $1"
                       " AND metric = 'steps' AND bucket = '2024-02-06T00:00:00Z'",
                       patient) == [(2, 98, RESENT_NEW)]
    assert stack.fetch("SELECT sum(value) FROM readings WHERE metric = 'steps'") == \
        [(RESENT_NEW + 98,)]
    # One ReadingBatch, carrying exactly the changed reading.
    assert readings.wait(lambda: len(readings.messages) > before)
    time.sleep(0.5)
    readings.close()
    assert len(readings.messages) == before + 1
    new_readings = readings.readings()[len(first):]
    assert [(r.metric, r.time_ms, r.value, r.unit, r.device_id) for _, r in new_readings] == \
        [("steps", _ms(RESENT_TIME), RESENT_NEW, "count", PHONE)]


def test_glucose_json_in_mg_dl_and_mmol_l_stored_in_mg_dl(stack):
    patient = stack.add_device(METER, "glucose_meter")
    readings = Collector(stack.mqtt_url, topics.readings_filter())
    topic = topics.device(METER, "glucose")
    # Times with different offsets and as unix ms; all a day or two before now.
    now_s = int(time.time()) // 60 * 60
    t1 = datetime.fromtimestamp(now_s - 86_400, UTC)
    t2 = datetime.fromtimestamp(now_s - 2 * 86_400, UTC)
    t3 = datetime.fromtimestamp(now_s - 3 * 86_400, UTC)
    docs = [
        {"time": t1.astimezone(timezone(timedelta(hours=-5))).isoformat(), "value": 112,
         "unit": "mg/dL", "meal": "before_meal", "seq": 1},
        {"time": t2.isoformat().replace("+00:00", "Z"), "value": 6.2, "unit": "mmol/L",
         "seq": 2},
        {"time": _ms(t3), "value": 4.4, "unit": "mmol/L", "meal": None},
    ]
    messages = [(topic, json.dumps(d).encode()) for d in docs]
    publish_all(stack.mqtt_url, messages)
    assert stack.wait_count("SELECT count(*) FROM readings", 3) == 3
    # 6.2 mmol/L x 18.015588 = 111.696646 mg/dL, as in the HAE golden file.
    expected = [(t3, 79.268587), (t2, 111.696646), (t1, 112.0)]
    rows = stack.fetch("SELECT time, value, unit, metric, patient_id FROM readings ORDER BY time")
    assert [(r[0], r[2], r[3], r[4]) for r in rows] == \
        [(t, "mg/dL", "glucose", patient) for t, _ in expected]
    for r, (_, value) in zip(rows, expected, strict=True):
        assert r[1] == pytest.approx(value, abs=1e-6)
    assert readings.wait(lambda: len(readings.readings()) >= 3)

    # A meter re-sending its memory (same times, same values) stores nothing new.
    publish_all(stack.mqtt_url, messages)
    publish_all(stack.mqtt_url, [(topic, b'{"value": 1}')])  # then a bad one, as a marker
    assert stack.wait_count("SELECT count(*) FROM dead_letters", 1) == 1
    assert stack.fetch("SELECT count(*) FROM readings") == [(3,)]
    time.sleep(0.3)
    got = readings.readings()
    readings.close()
    assert sorted((r.time_ms, round(r.value, 6), r.unit) for _, r in got) == \
        [(_ms(t), v, "mg/dL") for t, v in expected]
