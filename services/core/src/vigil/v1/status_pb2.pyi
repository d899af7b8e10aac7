from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class DeviceStatus(_message.Message):
    __slots__ = ("device_id", "online", "firmware", "battery_pct", "rssi_dbm", "time_ms", "boot_id", "uptime_s")
    DEVICE_ID_FIELD_NUMBER: _ClassVar[int]
    ONLINE_FIELD_NUMBER: _ClassVar[int]
    FIRMWARE_FIELD_NUMBER: _ClassVar[int]
    BATTERY_PCT_FIELD_NUMBER: _ClassVar[int]
    RSSI_DBM_FIELD_NUMBER: _ClassVar[int]
    TIME_MS_FIELD_NUMBER: _ClassVar[int]
    BOOT_ID_FIELD_NUMBER: _ClassVar[int]
    UPTIME_S_FIELD_NUMBER: _ClassVar[int]
    device_id: str
    online: bool
    firmware: str
    battery_pct: float
    rssi_dbm: int
    time_ms: int
    boot_id: int
    uptime_s: int
    def __init__(self, device_id: _Optional[str] = ..., online: _Optional[bool] = ..., firmware: _Optional[str] = ..., battery_pct: _Optional[float] = ..., rssi_dbm: _Optional[int] = ..., time_ms: _Optional[int] = ..., boot_id: _Optional[int] = ..., uptime_s: _Optional[int] = ...) -> None: ...
