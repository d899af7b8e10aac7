from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Metric(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    METRIC_UNSPECIFIED: _ClassVar[Metric]
    METRIC_HEART_RATE: _ClassVar[Metric]
    METRIC_SPO2: _ClassVar[Metric]
    METRIC_SIGNAL_QUALITY: _ClassVar[Metric]
    METRIC_BATTERY: _ClassVar[Metric]
    METRIC_GLUCOSE: _ClassVar[Metric]
    METRIC_RESPIRATORY_RATE: _ClassVar[Metric]
    METRIC_BODY_TEMPERATURE: _ClassVar[Metric]
    METRIC_BLOOD_PRESSURE_SYSTOLIC: _ClassVar[Metric]
    METRIC_BLOOD_PRESSURE_DIASTOLIC: _ClassVar[Metric]
    METRIC_RESTING_HEART_RATE: _ClassVar[Metric]
    METRIC_STEPS: _ClassVar[Metric]
METRIC_UNSPECIFIED: Metric
METRIC_HEART_RATE: Metric
METRIC_SPO2: Metric
METRIC_SIGNAL_QUALITY: Metric
METRIC_BATTERY: Metric
METRIC_GLUCOSE: Metric
METRIC_RESPIRATORY_RATE: Metric
METRIC_BODY_TEMPERATURE: Metric
METRIC_BLOOD_PRESSURE_SYSTOLIC: Metric
METRIC_BLOOD_PRESSURE_DIASTOLIC: Metric
METRIC_RESTING_HEART_RATE: Metric
METRIC_STEPS: Metric

class Sample(_message.Message):
    __slots__ = ("metric", "offset_ms", "value", "quality")
    METRIC_FIELD_NUMBER: _ClassVar[int]
    OFFSET_MS_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    metric: Metric
    offset_ms: int
    value: float
    quality: int
    def __init__(self, metric: _Optional[_Union[Metric, str]] = ..., offset_ms: _Optional[int] = ..., value: _Optional[float] = ..., quality: _Optional[int] = ...) -> None: ...

class DeviceTelemetry(_message.Message):
    __slots__ = ("device_id", "boot_id", "seq", "base_time_ms", "samples", "dropped_batches")
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    BOOT_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    BASE_TIME_MS_FIELD_NUMBER: _ClassVar[int]
    SAMPLES_FIELD_NUMBER: _ClassVar[int]
    DROPPED_BATCHES_FIELD_NUMBER: _ClassVar[int]
    device_id: str
    boot_id: int
    seq: int
    base_time_ms: int
    samples: _containers.RepeatedCompositeFieldContainer[Sample]
    dropped_batches: int
    def __init__(self, device_id: _Optional[str] = ..., boot_id: _Optional[int] = ..., seq: _Optional[int] = ..., base_time_ms: _Optional[int] = ..., samples: _Optional[_Iterable[_Union[Sample, _Mapping]]] = ..., dropped_batches: _Optional[int] = ...) -> None: ...
