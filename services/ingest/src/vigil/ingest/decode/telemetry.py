"""Protobuf ``DeviceTelemetry`` from sensor nodes (the ESP32 pulse-oximeter)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf.message import DecodeError as ProtobufDecodeError

from vigil.core import catalogue
from vigil.ingest.decode.model import Decoded, DecodeError, Sample
from vigil.v1 import telemetry_pb2

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
# Enum value -> catalogue entry, built once from the proto's own names.
_METRICS: dict[int, catalogue.MetricDef] = {
    v.number: catalogue.get(v.name.removeprefix("METRIC_").lower())
    for v in telemetry_pb2.Metric.DESCRIPTOR.values
    if v.number != 0
}
# Devices whose clock is unset send times near 1970; anything before this is refused.
_MIN_TIME_MS = 1_500_000_000_000


def decode_telemetry(
    payload: bytes, device_id: str
) -> tuple[Decoded, telemetry_pb2.DeviceTelemetry]:
    """Decode a batch; samples that fail validation become rejects, the rest are kept."""
    msg = telemetry_pb2.DeviceTelemetry()
    try:
        msg.ParseFromString(payload)
    except ProtobufDecodeError as exc:
        raise DecodeError(f"telemetry: not a DeviceTelemetry protobuf ({exc})") from None
    if msg.device_id != device_id:
        raise DecodeError(
            f"telemetry: device_id {msg.device_id!r} in the payload != {device_id!r} in the topic")
    if msg.base_time_ms < _MIN_TIME_MS:
        raise DecodeError(f"telemetry: base_time_ms {msg.base_time_ms} is not a valid clock")
    if not msg.samples:
        raise DecodeError("telemetry: batch has no samples")
    out = Decoded()
    base = msg.base_time_ms
    for i, s in enumerate(msg.samples):
        metric = _METRICS.get(s.metric)
        if metric is None:
            out.rejects.append(f"telemetry: samples[{i}].metric: unknown enum value {s.metric}")
            continue
        if s.quality > 100:
            out.rejects.append(f"telemetry: samples[{i}].quality {s.quality} outside 0..100")
            continue
        try:
            metric.check(s.value)
        except catalogue.RangeError as exc:
            out.rejects.append(f"telemetry: samples[{i}] {exc}")
            continue
        out.samples.append(Sample(_EPOCH + (base + s.offset_ms) * _MS, metric.name, s.value,
                                  metric.unit, s.quality))
    return out, msg
