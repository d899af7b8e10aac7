from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Reading(_message.Message):
    __slots__ = ("time_ms", "metric", "value", "unit", "quality", "device_id")
    TIME_MS_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    time_ms: int
    metric: str
    value: float
    unit: str
    quality: int
    device_id: str
    def __init__(self, time_ms: _Optional[int] = ..., metric: _Optional[str] = ..., value: _Optional[float] = ..., unit: _Optional[str] = ..., quality: _Optional[int] = ..., device_id: _Optional[str] = ...) -> None: ...

class ReadingBatch(_message.Message):
    __slots__ = ("patient_id", "readings", "committed_at_ms", "source")
    PATIENT_ID_FIELD_NUMBER: _ClassVar[int]
    READINGS_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_AT_MS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    patient_id: str
    readings: _containers.RepeatedCompositeFieldContainer[Reading]
    committed_at_ms: int
    source: str
    def __init__(self, patient_id: _Optional[str] = ..., readings: _Optional[_Iterable[_Union[Reading, _Mapping]]] = ..., committed_at_ms: _Optional[int] = ..., source: _Optional[str] = ...) -> None: ...
