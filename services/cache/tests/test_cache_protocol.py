"""Request validation and the point/bucket encodings."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from vigil.cache.keys import ORIGIN_MS, Keys, Point, bucket_of
from vigil.cache.protocol import BadRequestError, LatestRequest, RangeRequest, iso, ok, parse
from vigil.cache.serve import aggregate


def test_latest_request():
    assert parse(b'{"op": "latest", "patient_id": "p-1"}') == LatestRequest(
        op="latest", patient_id="p-1")


def test_range_request_window_defaults_to_now():
    req = parse(b'{"op": "range", "patient_id": "p1", "metric": "glucose", '
                b'"from": "2026-11-20T00:00:00+01:00"}')
    assert isinstance(req, RangeRequest)
    assert req.resolution == "raw"
    start = int(datetime(2026, 11, 19, 23, tzinfo=UTC).timestamp() * 1000)
    assert req.window_ms(start + 10) == (start, start + 11)


def test_range_accepts_unix_milliseconds():
    req = parse(b'{"op": "range", "patient_id": "p1", "metric": "glucose", '
                b'"from": 1763856000000, "to": 1763859600000, "resolution": "1h"}')
    assert isinstance(req, RangeRequest)
    assert req.window_ms(0) == (1763856000000, 1763859600000)


@pytest.mark.parametrize(("payload", "field"), [
    (b"[]", ""),
    (b'{"op": "latest", "patient_id": ""}', "patient_id"),
    (b'{"op": "range", "patient_id": "p1", "metric": "Glucose!", "from": 1}', "metric"),
    (b'{"op": "alerts", "patient_id": "' + b"x" * 65 + b'"}', "patient_id"),
])
def test_refusals_name_the_field(payload, field):
    with pytest.raises(BadRequestError, match=f"^{field}"):
        parse(payload)


def test_point_round_trip_keeps_every_bit():
    p = Point(1763856000123, "ox-1", 0.1 + 0.2, "count/min", 95)
    assert Point.decode(p.encode()) == p
    assert Point.decode(p.encode().encode()) == p


def test_keys_share_a_hash_tag_per_patient():
    k = Keys("vigil:cache:")
    assert k.latest("p1") == "vigil:cache:{p1}:latest"
    assert k.series("p1", "glucose") == "vigil:cache:{p1}:s:glucose"


def test_buckets_follow_time_bucket_origin():
    assert bucket_of(ORIGIN_MS + 86_400_000 * 3 + 5, 86_400_000) == ORIGIN_MS + 86_400_000 * 3
    assert bucket_of(1763856061234, 60_000) == 1763856060000


def test_aggregate_like_the_rollup_views():
    pts = [Point(60_000 * 10 + i * 20_000, "d", float(v), "u", 100)
           for i, v in enumerate([3, 1, 2, 9, 4])]
    assert aggregate(pts, 60_000) == [
        {"bucket_ms": 600_000, "min": 1.0, "max": 3.0, "avg": 2.0, "count": 3, "last": 2.0},
        {"bucket_ms": 660_000, "min": 4.0, "max": 9.0, "avg": 6.5, "count": 2, "last": 4.0},
    ]


def test_answers():
    doc = json.loads(ok("latest", "redis", 1763856000000, {"x": 1}))
    assert doc == {"ok": True, "op": "latest", "source": "redis",
                   "as_of": "2025-11-23T00:00:00.000Z", "data": {"x": 1}}
    assert iso(0) == "1970-01-01T00:00:00.000Z"
