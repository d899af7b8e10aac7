"""Topic names are the public contract: built and parsed in one place."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.core import topics


def test_builders_follow_the_v1_contract():
    assert topics.device("ox-01", "telemetry") == "vigil/v1/devices/ox-01/telemetry"
    assert topics.alerts("p1") == "vigil/v1/alerts/p1"
    assert topics.dlq("ingest") == "vigil/v1/dlq/ingest"
    assert topics.readings_filter() == "vigil/v1/readings/+/+"
    assert topics.readings_filter(3) == "vigil/v1/readings/3/+"
    shared = topics.shared("ingest", "vigil/v1/devices/+/hae")
    assert shared == "$share/ingest/vigil/v1/devices/+/hae"


def test_shard_is_stable_crc32():
    # crc32(b"demo-01") = 0x06469eb2; fixed so that other languages can compute the same shard.
    assert topics.shard_of("demo-01", 16) == 0x06469EB2 % 16
    assert topics.readings("demo-01", 16) == f"vigil/v1/readings/{0x06469EB2 % 16}/demo-01"


@pytest.mark.parametrize("bad", ["", "a/b", "+", "#", "x" * 65, "-lead", "sp ace"])
def test_ids_with_wildcards_or_slashes_are_refused(bad):
    with pytest.raises(topics.TopicError):
        topics.device(bad, "glucose")


@pytest.mark.parametrize("topic", [
    "vigil/v1/devices/ox/unknown", "vigil/v2/devices/ox/hae", "vigil/v1/devices/hae",
    "vigil/v1/devices/a/b/hae", "other/v1/devices/ox/hae",
])
def test_parse_refuses_what_is_not_a_device_topic(topic):
    with pytest.raises(topics.TopicError):
        topics.DeviceTopic.parse(topic)


@given(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}", fullmatch=True),
       st.sampled_from(topics.DEVICE_CHANNELS))
def test_build_then_parse_round_trips(device_id, channel):
    parsed = topics.DeviceTopic.parse(topics.device(device_id, channel))
    assert (parsed.device_id, parsed.channel) == (device_id, channel)
