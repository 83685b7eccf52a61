import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ProcessStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PROCESS_STATUS_UNSPECIFIED: _ClassVar[ProcessStatus]
    PROCESS_STATUS_STOPPED: _ClassVar[ProcessStatus]
    PROCESS_STATUS_STARTING: _ClassVar[ProcessStatus]
    PROCESS_STATUS_RUNNING: _ClassVar[ProcessStatus]
    PROCESS_STATUS_STOPPING: _ClassVar[ProcessStatus]
    PROCESS_STATUS_ERROR: _ClassVar[ProcessStatus]

class Health(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HEALTH_UNSPECIFIED: _ClassVar[Health]
    HEALTH_HEALTHY: _ClassVar[Health]
    HEALTH_DEGRADED: _ClassVar[Health]
    HEALTH_UNHEALTHY: _ClassVar[Health]

class BreakerState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BREAKER_STATE_UNSPECIFIED: _ClassVar[BreakerState]
    BREAKER_STATE_CLOSED: _ClassVar[BreakerState]
    BREAKER_STATE_OPEN: _ClassVar[BreakerState]
    BREAKER_STATE_HALF_OPEN: _ClassVar[BreakerState]
PROCESS_STATUS_UNSPECIFIED: ProcessStatus
PROCESS_STATUS_STOPPED: ProcessStatus
PROCESS_STATUS_STARTING: ProcessStatus
PROCESS_STATUS_RUNNING: ProcessStatus
PROCESS_STATUS_STOPPING: ProcessStatus
PROCESS_STATUS_ERROR: ProcessStatus
HEALTH_UNSPECIFIED: Health
HEALTH_HEALTHY: Health
HEALTH_DEGRADED: Health
HEALTH_UNHEALTHY: Health
BREAKER_STATE_UNSPECIFIED: BreakerState
BREAKER_STATE_CLOSED: BreakerState
BREAKER_STATE_OPEN: BreakerState
BREAKER_STATE_HALF_OPEN: BreakerState

class ProcessError(_message.Message):
    __slots__ = ("time", "reason", "message", "exit_code")
    TIME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    time: _timestamp_pb2.Timestamp
    reason: str
    message: str
    exit_code: int
    def __init__(self, time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ..., exit_code: _Optional[int] = ...) -> None: ...

class WorkerStatus(_message.Message):
    __slots__ = ("workspace", "pid", "port", "status", "start_time", "last_health_check", "restart_count", "error_history", "health", "config_version", "rss_mib", "cpu_percent", "create_time", "process_count", "health_reason")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    LAST_HEALTH_CHECK_FIELD_NUMBER: _ClassVar[int]
    RESTART_COUNT_FIELD_NUMBER: _ClassVar[int]
    ERROR_HISTORY_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    CONFIG_VERSION_FIELD_NUMBER: _ClassVar[int]
    RSS_MIB_FIELD_NUMBER: _ClassVar[int]
    CPU_PERCENT_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    PROCESS_COUNT_FIELD_NUMBER: _ClassVar[int]
    HEALTH_REASON_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    pid: int
    port: int
    status: ProcessStatus
    start_time: _timestamp_pb2.Timestamp
    last_health_check: _timestamp_pb2.Timestamp
    restart_count: int
    error_history: _containers.RepeatedCompositeFieldContainer[ProcessError]
    health: Health
    config_version: str
    rss_mib: float
    cpu_percent: float
    create_time: float
    process_count: int
    health_reason: str
    def __init__(self, workspace: _Optional[str] = ..., pid: _Optional[int] = ..., port: _Optional[int] = ..., status: _Optional[_Union[ProcessStatus, str]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_health_check: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., restart_count: _Optional[int] = ..., error_history: _Optional[_Iterable[_Union[ProcessError, _Mapping]]] = ..., health: _Optional[_Union[Health, str]] = ..., config_version: _Optional[str] = ..., rss_mib: _Optional[float] = ..., cpu_percent: _Optional[float] = ..., create_time: _Optional[float] = ..., process_count: _Optional[int] = ..., health_reason: _Optional[str] = ...) -> None: ...
