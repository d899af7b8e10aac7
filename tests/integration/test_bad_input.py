"""Bad input never gets in and never stops ingest: 1,200 malformed messages over every device
channel, interleaved with valid ones, each land as exactly one dead-letter row (and one message
on the DLQ topic) with a reason naming the problem, while every valid reading, including the
good items of a partly bad payload, is stored with its exact value.

The cases come from a seeded fuzzer (``random.Random``), so every run publishes the same
messages in the same order: a failure always reproduces.
"""

from __future__ import annotations

import json
import math
import random
import struct
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf.message import DecodeError as ProtobufDecodeError

from tests.helpers import Collector, publish_all
from vigil.core import topics
from vigil.v1 import telemetry_pb2

pytestmark = pytest.mark.integration

SEED = 20261123
N_BAD = 1200
N_VALID = 360
MAX_PAYLOAD = 2 * 1024 * 1024  # VIGIL_INGEST_MAX_PAYLOAD_BYTES default
DEAD_PAYLOAD = 64 * 1024  # dead letters keep the first 64 KiB of the payload
OX, GL, PH, ORPHAN = "fz-ox", "fz-gl", "fz-ph", "fz-orphan"
MMOL = 18.015588  # mg/dL per mmol/L (PAYLOADS.md)
HR = telemetry_pb2.METRIC_HEART_RATE
Key = tuple[str, str, int]  # device, metric, time in ms


@dataclass
class Case:
    """One message to publish; ``expect`` is in its dead-letter reason (None: a valid one)."""

    topic: str
    payload: bytes
    expect: str | tuple[str, ...] | None
    good: dict[Key, float]

    def __post_init__(self) -> None:
        if isinstance(self.expect, str):
            self.expect = (self.expect,)


def _iso(ms: int, offset_h: int = 0) -> str:
    """ISO 8601 with the given UTC offset (the same instant whatever the offset)."""
    return datetime.fromtimestamp(ms / 1000, timezone(timedelta(hours=offset_h))).isoformat()


def _ms(iso: str) -> int:
    return round(datetime.fromisoformat(iso).timestamp() * 1000)


class Fuzzer:
    """Builds the cases; message ``k`` owns the times base + k * 200 s, so keys never clash."""

    def __init__(self, rng: random.Random, base_ms: int) -> None:
        self.rng, self.base = rng, base_ms

    def t(self, k: int, j: int = 0) -> int:
        return self.base + k * 200_000 + j * 1000

    # -- telemetry ---------------------------------------------------------------------
    def tel(self, k: int, samples: list[tuple[int, float, int]], device: str = OX,
            base: int | None = None) -> bytes:
        """A DeviceTelemetry; samples are (metric enum, value, quality), one per second."""
        return telemetry_pb2.DeviceTelemetry(
            device_id=device, boot_id=3, seq=k, base_time_ms=self.t(k) if base is None else base,
            samples=[telemetry_pb2.Sample(metric=m, offset_ms=j * 1000, value=v, quality=q)
                     for j, (m, v, q) in enumerate(samples)]).SerializeToString()

    def tel_good(self, k: int, n: int) -> tuple[list[tuple[int, float, int]], dict[Key, float]]:
        vals = [float(self.rng.randint(40, 180)) + self.rng.choice((0.0, 0.5)) for _ in range(n)]
        return ([(HR, v, 90) for v in vals],
                {(OX, "heart_rate", self.t(k, j)): v for j, v in enumerate(vals)})

    def tel_with_bad_sample(self, k: int, bad: tuple[int, float, int], expect: str) -> Case:
        """0 to 6 good samples with one bad one among them: the good ones are still stored."""
        samples, _ = self.tel_good(k, self.rng.randint(0, 6))
        values = [v for _, v, _ in samples]
        pos = self.rng.randint(0, len(samples))
        samples.insert(pos, bad)
        # Samples are one second apart: those after the bad one moved a second later.
        good = {(OX, "heart_rate", self.t(k, j + (j >= pos))): v for j, v in enumerate(values)}
        return Case(topics.device(OX, "telemetry"), self.tel(k, samples),
                    ("telemetry: samples[", expect), good)

    def truncated(self, k: int) -> Case:
        samples, _ = self.tel_good(k, self.rng.randint(2, 20))
        full = self.tel(k, samples)
        while True:
            cut = self.rng.randint(1, len(full) - 1)
            try:
                telemetry_pb2.DeviceTelemetry.FromString(full[:cut])
            except ProtobufDecodeError:
                return Case(topics.device(OX, "telemetry"), full[:cut],
                            "not a DeviceTelemetry protobuf", {})

    def garbage(self, k: int) -> Case:
        payload = struct.pack(">I", k) + self.rng.randbytes(self.rng.randint(0, 200))
        return Case(topics.device(OX, "telemetry"), payload, "telemetry:", {})

    def wrong_device(self, k: int) -> Case:
        samples, _ = self.tel_good(k, 3)
        other = self.rng.choice(("fz-ox-2", "", "FZ-OX", "fz-gl"))
        return Case(topics.device(OX, "telemetry"), self.tel(k, samples, device=other),
                    "device_id", {})

    def nonfinite(self, k: int) -> Case:
        v = self.rng.choice((math.nan, math.inf, -math.inf))
        return self.tel_with_bad_sample(k, (HR, v, 90), "not a finite number")

    def out_of_range(self, k: int) -> Case:
        metric, v = self.rng.choice(((HR, self.rng.uniform(301, 1e6)),
                                     (HR, self.rng.uniform(-50, 19)),
                                     (telemetry_pb2.METRIC_SPO2, self.rng.uniform(101, 500))))
        return self.tel_with_bad_sample(k, (metric, v, 90), "outside")

    def unknown_enum(self, k: int) -> Case:
        metric = self.rng.choice((0, 12, 99, 12345))
        return self.tel_with_bad_sample(k, (metric, 70.0, 90), "unknown enum value")

    def bad_quality(self, k: int) -> Case:
        return self.tel_with_bad_sample(k, (HR, 70.0, self.rng.randint(101, 100_000)),
                                        "quality")

    def bad_clock(self, k: int) -> Case:
        samples, _ = self.tel_good(k, 3)
        base = self.rng.choice((0, 1000 * k, 1_499_999_999_999 - k))
        return Case(topics.device(OX, "telemetry"), self.tel(k, samples, base=base),
                    "not a valid clock", {})

    def no_samples(self, k: int) -> Case:
        return Case(topics.device(OX, "telemetry"), self.tel(k, []), "no samples", {})

    # -- glucose -----------------------------------------------------------------------
    def gl_doc(self, k: int) -> dict[str, object]:
        return {"time": _iso(self.t(k), self.rng.choice((0, 1, -5, 9))),
                "value": self.rng.randint(60, 250), "unit": "mg/dL", "seq": k}

    def gl(self, doc: object, expect: str) -> Case:
        return Case(topics.device(GL, "glucose"), json.dumps(doc).encode(), expect, {})

    def gl_wrong_type(self, k: int) -> Case:
        doc = self.gl_doc(k)
        field, value = self.rng.choice((
            ("value", str(doc["value"])), ("value", True), ("value", [doc["value"]]),
            ("value", None), ("unit", 18), ("time", 1.7e12 + k), ("time", True),
            ("seq", "seven"), ("meal", 3)))
        doc[field] = value
        return self.gl(doc, f"glucose: {field}")

    def gl_missing(self, k: int) -> Case:
        doc = self.gl_doc(k)
        field = self.rng.choice(("time", "value", "unit"))
        del doc[field]
        return self.gl(doc, f"glucose: {field}: Field required")

    def gl_extra(self, k: int) -> Case:
        doc = self.gl_doc(k)
        doc[self.rng.choice(("valeu", "units", "timestamp", "device", "x"))] = k
        return self.gl(doc, "Extra inputs are not permitted")

    def gl_nonfinite(self, k: int) -> Case:
        doc = self.gl_doc(k)
        literal = self.rng.choice(("NaN", "Infinity", "-Infinity"))
        text = json.dumps(doc).replace(f'"value": {doc["value"]}', f'"value": {literal}')
        return Case(topics.device(GL, "glucose"), text.encode(), "glucose: value", {})

    def gl_range(self, k: int) -> Case:
        doc = self.gl_doc(k)
        doc["unit"], doc["value"] = self.rng.choice((
            ("mg/dL", self.rng.uniform(-100, 9.9)), ("mg/dL", self.rng.uniform(1000.1, 1e9)),
            ("mmol/L", self.rng.uniform(0, 0.5)), ("mmol/L", self.rng.uniform(56, 1000))))
        return self.gl(doc, "outside")

    def gl_unit(self, k: int) -> Case:
        doc = self.gl_doc(k)
        doc["unit"] = self.rng.choice(("mg/dl", "MG/DL", "mmol", "mmol/l", "", "mg"))
        return self.gl(doc, "glucose: unit")

    def gl_utf8(self, k: int) -> Case:
        doc = self.gl_doc(k)
        text = json.dumps(doc).encode()
        bad = self.rng.choice((b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80"))
        i = text.index(b'"mg/dL"') + 1
        return Case(topics.device(GL, "glucose"), text[:i] + bad + text[i:], "not UTF-8", {})

    def gl_not_json(self, k: int) -> Case:
        payload = self.rng.choice((f"glucose {k}", f"{{'value': {k}}}", f"[{k},", f"{k} mg/dL",
                                   f'{{"time": {k}')).encode()
        return Case(topics.device(GL, "glucose"), payload, "glucose: payload", {})

    def gl_time(self, k: int) -> Case:
        doc = self.gl_doc(k)
        now = datetime.now(UTC)
        doc["time"] = self.rng.choice((
            (now - timedelta(hours=1, seconds=k)).replace(tzinfo=None).isoformat(),  # no offset
            (now + timedelta(hours=2, seconds=k)).isoformat(),  # the future
            1_700_000_000 + k,  # seconds where milliseconds belong: 1970
            f"yesterday {k}"))
        return self.gl(doc, "glucose: time")

    def gl_meal_seq(self, k: int) -> Case:
        doc = self.gl_doc(k)
        field, value = self.rng.choice((("meal", "lunch"), ("meal", "Before Meal"),
                                        ("seq", -1 - k)))
        doc[field] = value
        return self.gl(doc, f"glucose: {field}")

    # -- Health Auto Export ------------------------------------------------------------
    def hae(self, metrics: object, expect: str | tuple[str, ...] | None,
            good: dict[Key, float] | None = None) -> Case:
        payload = json.dumps({"data": {"metrics": metrics, "workouts": []}}).encode()
        return Case(topics.device(PH, "hae"), payload, expect, good or {})

    def steps(self, k: int, n: int, first: int = 0) -> tuple[list[dict], dict[Key, float]]:
        items, good = [], {}
        for j in range(first, first + n):
            q = self.rng.randint(0, 5000)
            items.append({"qty": q, "date": _iso(self.t(k, j * 10), self.rng.choice((0, -8, 2))),
                          "source": "iPhone"})
            good[(PH, "steps", self.t(k, j * 10))] = float(q)
        return items, good

    def hae_not_json(self, k: int) -> Case:
        payload = self.rng.choice((f"<html>{k}</html>", f'{{"data": {k}', f"data={k}")).encode()
        return Case(topics.device(PH, "hae"), payload, "hae: payload is not JSON", {})

    def hae_utf8(self, k: int) -> Case:
        items, _ = self.steps(k, 2)
        text = json.dumps({"data": {"metrics": [{"name": "step_count", "units": "count",
                                                 "data": items}]}}).encode()
        i = text.index(b"iPhone")
        return Case(topics.device(PH, "hae"), text[:i] + b"\xff\xfe" + text[i:], "not UTF-8", {})

    def hae_structure(self, k: int) -> Case:
        doc = self.rng.choice(([k], k, f"export {k}", {"data": [k]}, {"metrics": [k]},
                               {"data": {"metrics": {"k": k}}}, {"data": {"metrics": f"{k}"}}))
        return Case(topics.device(PH, "hae"), json.dumps(doc).encode(),
                    "not a Health Auto Export payload", {})

    def hae_bad_item(self, k: int) -> Case:
        items, good = self.steps(k, self.rng.randint(0, 4))
        pos = self.rng.randint(0, len(items))
        date = _iso(self.t(k, 999))
        future = (datetime.now(UTC) + timedelta(days=3, seconds=k)).isoformat()
        bad, expect = self.rng.choice((
            ({"qty": "12", "date": date}, "expected a number"),
            ({"qty": True, "date": date}, "expected a number"),
            ({"qty": None, "date": date}, "qty: missing"),
            ({"qty": math.nan, "date": date}, "not a finite number"),
            ({"qty": -5, "date": date}, "outside"),
            ({"qty": 10, "date": date[:19]}, "no UTC offset"),
            ({"qty": 10, "date": f"last tuesday {k}"}, "unrecognised date"),
            ({"qty": 10}, "date: missing"),
            ({"qty": 10, "date": future}, "in the future"),
            ([10, date], "expected an object"),
        ))
        items.insert(pos, bad)
        return self.hae([{"name": "step_count", "units": "count", "data": items}],
                        (f"hae: metrics[0] step_count data[{pos}]", expect), good)

    def hae_bad_entry(self, k: int) -> Case:
        items, good = self.steps(k, self.rng.randint(1, 3))
        entry, expect = self.rng.choice((
            ({"name": f"mood_{k}", "units": "count", "data": [{"qty": 1, "date": "2024-01-01"}]},
             "unknown metric"),
            ({"name": "walking_speed", "units": "furlongs", "data": []}, "is not convertible"),
            ({"name": "walking_speed", "data": [{"qty": 4, "date": "2024-01-01"}]},
             "units: missing"),
            ({"name": "heart_rate", "units": "count/min", "data": "none"}, "expected a list"),
            ({"units": "count", "data": []}, "name: expected a string"),
            (f"step_count {k}", "expected an object"),
        ))
        # The bad entry comes first or last; the good entry beside it is still stored.
        good_entry = {"name": "step_count", "units": "count", "data": items}
        metrics = [entry, good_entry] if self.rng.random() < 0.5 else [good_entry, entry]
        return self.hae(metrics, expect, good)

    # -- any channel -------------------------------------------------------------------
    def valid_payload(self, k: int, channel: str, device: str) -> bytes:
        if channel == "telemetry":
            return self.tel(k, self.tel_good(k, 3)[0], device=device)
        if channel == "glucose":
            return json.dumps(self.gl_doc(k)).encode()
        return json.dumps({"data": {"metrics": [{"name": "step_count", "units": "count",
                                                 "data": self.steps(k, 2)[0]}]}}).encode()

    def unknown_device(self, k: int) -> Case:
        device, channel = f"fz-ghost-{k % 37}", self.rng.choice(("telemetry", "glucose", "hae"))
        return Case(topics.device(device, channel), self.valid_payload(k, channel, device),
                    "is not registered", {})

    def no_patient(self, k: int) -> Case:
        channel = self.rng.choice(("telemetry", "glucose", "hae"))
        return Case(topics.device(ORPHAN, channel), self.valid_payload(k, channel, ORPHAN),
                    "has no patient", {})

    def bad_topic_id(self, k: int) -> Case:
        channel = self.rng.choice(("telemetry", "glucose", "hae"))
        device = self.rng.choice((f"fz bad {k}", f"fz!{k}", f"fz-{'x' * 70}-{k}", f"fz%{k}"))
        return Case(f"vigil/v1/devices/{device}/{channel}", self.valid_payload(k, channel, OX),
                    "must be 1-64 characters", {})

    def oversized(self, k: int) -> Case:
        channel = self.rng.choice(("telemetry", "glucose", "hae"))
        device = {"telemetry": OX, "glucose": GL, "hae": PH}[channel]
        size = MAX_PAYLOAD + 1 + self.rng.randint(0, 64 * 1024)
        payload = f"{k:08d}".encode() + self.rng.randbytes(64) + b" " * (size - 72)
        return Case(topics.device(device, channel), payload, f"exceeds {MAX_PAYLOAD}", {})

    # -- valid -------------------------------------------------------------------------
    def valid(self, k: int) -> Case:
        kind = k % 3
        if kind == 0:
            samples, good = self.tel_good(k, self.rng.randint(1, 20))
            return Case(topics.device(OX, "telemetry"), self.tel(k, samples), None, good)
        if kind == 1:
            doc = self.gl_doc(k)
            if k % 2:
                doc["unit"], doc["value"] = "mmol/L", round(self.rng.uniform(3, 20), 1)
                value = round(doc["value"] * MMOL, 6)
            else:
                value = float(doc["value"])
            return Case(topics.device(GL, "glucose"), json.dumps(doc).encode(), None,
                        {(GL, "glucose", _ms(doc["time"])): value})
        items, good = self.steps(k, self.rng.randint(1, 6))
        return self.hae([{"name": "step_count", "units": "count", "data": items}], None, good)


def build_cases() -> list[Case]:
    rng = random.Random(SEED)
    # Whole seconds, ten days ago: every time is exact in ISO form and far from "the future".
    fz = Fuzzer(rng, (int(time.time()) - 10 * 86_400) * 1000)
    categories: list[Callable[[int], Case]] = [
        fz.truncated, fz.garbage, fz.wrong_device, fz.nonfinite, fz.out_of_range,
        fz.unknown_enum, fz.bad_quality, fz.bad_clock, fz.no_samples,
        fz.gl_wrong_type, fz.gl_missing, fz.gl_extra, fz.gl_nonfinite, fz.gl_range, fz.gl_unit,
        fz.gl_utf8, fz.gl_not_json, fz.gl_time, fz.gl_meal_seq,
        fz.hae_not_json, fz.hae_utf8, fz.hae_structure, fz.hae_bad_item, fz.hae_bad_item,
        fz.hae_bad_entry, fz.unknown_device, fz.no_patient, fz.bad_topic_id,
    ]
    cases: list[Case] = []
    seen: set[tuple[str, bytes]] = set()
    k = 0
    while len(cases) < N_BAD:
        make = fz.oversized if len(cases) % 200 == 0 else categories[k % len(categories)]
        case = make(k)
        k += 1
        key = (case.topic, case.payload[:DEAD_PAYLOAD])
        if key not in seen:  # each dead letter must map back to one case
            seen.add(key)
            cases.append(case)
    cases += [fz.valid(k + i) for i in range(N_VALID)]
    rng.shuffle(cases)
    return cases


def test_1200_bad_messages_each_dead_lettered_once_and_valid_ones_stored(stack):
    for device, kind in ((OX, "oximeter"), (GL, "glucose_meter"), (PH, "phone")):
        stack.add_device(device, kind)
    stack.fetch("INSERT INTO devices (device_id, kind) VALUES ($1, 'glucose_meter')", ORPHAN)
    cases = build_cases()
    bad = [c for c in cases if c.expect is not None]
    expected: dict[Key, float] = {}
    for c in cases:
        assert not expected.keys() & c.good.keys()
        expected.update(c.good)
    assert len(bad) == N_BAD
    assert sum(1 for c in bad if c.good) >= 150, "too few partly valid payloads"
    dlq = Collector(stack.mqtt_url, topics.dlq("ingest"))

    started = time.monotonic()
    publish_all(stack.mqtt_url, [(c.topic, c.payload) for c in cases], timeout=90)
    dead_count = stack.wait_count("SELECT count(*) FROM dead_letters", N_BAD, timeout=60)
    stored_count = stack.wait_count("SELECT count(*) FROM readings", len(expected), timeout=30)
    assert time.monotonic() - started < 90

    # Exactly one dead-letter row per bad message (an item-level reject inside an otherwise
    # valid payload is one row for the message, not one per item), none for a valid one.
    rows = stack.fetch("SELECT topic, payload, reason, device_id FROM dead_letters")
    assert dead_count == N_BAD
    by_key = {(c.topic, c.payload[:DEAD_PAYLOAD]): c for c in bad}
    assert Counter((r[0], bytes(r[1])) for r in rows) == Counter(list(by_key))
    wrong = []
    for topic, payload, reason, _ in rows:
        expect = by_key[(topic, bytes(payload))].expect
        if not reason or not all(e in reason for e in expect):
            wrong.append((topic, reason, expect))
    assert wrong == [], f"{len(wrong)} reasons do not name the problem, e.g. {wrong[:3]}"
    assert all(r[3] == r[0].split("/")[3] for r in rows if "must be 1-64" not in r[2])
    assert all(r[3] is None for r in rows if "must be 1-64" in r[2])

    # Every valid reading, including the good items beside bad ones, with its exact value.
    assert stored_count == len(expected)
    got = stack.fetch("SELECT device_id, metric, (extract(epoch FROM time) * 1000)::int8, value,"
                      " unit FROM readings")
    assert {(r[0], r[1], r[2]): r[3] for r in got} == pytest.approx(expected, abs=1e-6)
    units = {"heart_rate": "bpm", "glucose": "mg/dL", "steps": "count"}
    assert all(r[4] == units[r[1]] for r in got)

    # Nothing crashed: the process is up, ready, and counted no internal error.
    assert stack.ingest.running()
    port = stack.env["VIGIL_INGEST_HTTP_PORT"]
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
        assert r.status == 200
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        metrics = r.read().decode()
    assert "vigil_ingest_internal_errors_total 0.0" in metrics

    # The DLQ topic got the same messages, each with its reason and original topic.
    def dead_messages() -> list:
        return [m for m in dlq.messages if "/fz" in dict(m.user_properties).get("topic", "")]

    assert dlq.wait(lambda: len(dead_messages()) >= N_BAD, timeout=20)
    time.sleep(0.3)
    msgs = dead_messages()
    dlq.close()
    assert Counter((dict(m.user_properties)["topic"], m.payload) for m in msgs) == \
        Counter(list(by_key))
    assert all(dict(m.user_properties).get("reason") for m in msgs)
