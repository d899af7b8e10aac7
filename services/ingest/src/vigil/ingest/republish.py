"""After commit: the ``ReadingBatch`` per patient and the dead letters, as MQTT publishes."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import asyncpg

from vigil.core import mqtt, topics
from vigil.ingest.pipeline import Plan
from vigil.v1 import readings_pb2

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


def to_ms(t: datetime) -> int:
    """Unix milliseconds, exact (no float rounding)."""
    return (t - _EPOCH) // _MS


def publish(client: mqtt.Client, plan: Plan, changed: Sequence[asyncpg.Record],
            shards: int) -> list[mqtt.Publish]:
    """Publish what the commit changed, plus every row of redelivered messages.

    A redelivered message may follow a crash between commit and publish, so its rows are
    published again even if already stored: the readings topic is at-least-once.
    """
    by_patient: dict[str, list[readings_pb2.Reading]] = defaultdict(list)
    published: set[tuple[str, str, datetime]] = set()
    for t, patient, device, metric, value, unit, quality in changed:
        by_patient[patient].append(readings_pb2.Reading(
            time_ms=to_ms(t), metric=metric, value=value, unit=unit, quality=quality,
            device_id=device))
        if plan.replayed:
            published.add((device, metric, t))
    for key in plan.replayed - published:
        t, patient, device, metric, value, unit, quality = plan.batch.rows[key]
        by_patient[patient].append(readings_pb2.Reading(
            time_ms=to_ms(t), metric=metric, value=value, unit=unit, quality=quality,
            device_id=device))
    now_ms = time.time_ns() // 1_000_000
    pubs = []
    for patient, readings in by_patient.items():
        readings.sort(key=lambda r: r.time_ms)
        msg = readings_pb2.ReadingBatch(patient_id=patient, readings=readings,
                                        committed_at_ms=now_ms)
        pubs.append(client.publish(topics.readings(patient, shards), msg.SerializeToString()))
    dlq = topics.dlq("ingest")
    for topic, payload, reason in plan.dlq:
        pubs.append(client.publish(dlq, payload, user_properties=[
            ("reason", reason[:1000]), ("topic", topic)]))
    return pubs
