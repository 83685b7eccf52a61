from mcpfleet.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DesiredStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DESIRED_STATUS_UNSPECIFIED: _ClassVar[DesiredStatus]
    DESIRED_STATUS_RUNNING: _ClassVar[DesiredStatus]
    DESIRED_STATUS_STOPPED: _ClassVar[DesiredStatus]

class RestartMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RESTART_MODE_UNSPECIFIED: _ClassVar[RestartMode]
    RESTART_MODE_ALWAYS: _ClassVar[RestartMode]
    RESTART_MODE_NEVER: _ClassVar[RestartMode]
    RESTART_MODE_ONCE: _ClassVar[RestartMode]
DESIRED_STATUS_UNSPECIFIED: DesiredStatus
DESIRED_STATUS_RUNNING: DesiredStatus
DESIRED_STATUS_STOPPED: DesiredStatus
RESTART_MODE_UNSPECIFIED: RestartMode
RESTART_MODE_ALWAYS: RestartMode
RESTART_MODE_NEVER: RestartMode
RESTART_MODE_ONCE: RestartMode

class AgentMessage(_message.Message):
    __slots__ = ("seq", "hello", "status", "heartbeat", "ack", "log_chunk", "check_result")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    HELLO_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    ACK_FIELD_NUMBER: _ClassVar[int]
    LOG_CHUNK_FIELD_NUMBER: _ClassVar[int]
    CHECK_RESULT_FIELD_NUMBER: _ClassVar[int]
    seq: int
    hello: AgentHello
    status: WorkerStatusUpdate
    heartbeat: Heartbeat
    ack: AssignmentsAck
    log_chunk: LogChunk
    check_result: CheckResult
    def __init__(self, seq: _Optional[int] = ..., hello: _Optional[_Union[AgentHello, _Mapping]] = ..., status: _Optional[_Union[WorkerStatusUpdate, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., ack: _Optional[_Union[AssignmentsAck, _Mapping]] = ..., log_chunk: _Optional[_Union[LogChunk, _Mapping]] = ..., check_result: _Optional[_Union[CheckResult, _Mapping]] = ...) -> None: ...

class AgentHello(_message.Message):
    __slots__ = ("host_id", "address", "port_min", "port_max", "version", "workers")
    HOST_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PORT_MIN_FIELD_NUMBER: _ClassVar[int]
    PORT_MAX_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    host_id: str
    address: str
    port_min: int
    port_max: int
    version: str
    workers: _containers.RepeatedCompositeFieldContainer[_common_pb2.WorkerStatus]
    def __init__(self, host_id: _Optional[str] = ..., address: _Optional[str] = ..., port_min: _Optional[int] = ..., port_max: _Optional[int] = ..., version: _Optional[str] = ..., workers: _Optional[_Iterable[_Union[_common_pb2.WorkerStatus, _Mapping]]] = ...) -> None: ...

class WorkerStatusUpdate(_message.Message):
    __slots__ = ("worker",)
    WORKER_FIELD_NUMBER: _ClassVar[int]
    worker: _common_pb2.WorkerStatus
    def __init__(self, worker: _Optional[_Union[_common_pb2.WorkerStatus, _Mapping]] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AssignmentsAck(_message.Message):
    __slots__ = ("boot_id", "generation")
    BOOT_ID_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    boot_id: str
    generation: int
    def __init__(self, boot_id: _Optional[str] = ..., generation: _Optional[int] = ...) -> None: ...

class ControlMessage(_message.Message):
    __slots__ = ("seq", "assignments", "logs", "status_ack", "check", "heartbeat")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    ASSIGNMENTS_FIELD_NUMBER: _ClassVar[int]
    LOGS_FIELD_NUMBER: _ClassVar[int]
    STATUS_ACK_FIELD_NUMBER: _ClassVar[int]
    CHECK_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    seq: int
    assignments: Assignments
    logs: LogsRequest
    status_ack: StatusAck
    check: CheckRequest
    heartbeat: Heartbeat
    def __init__(self, seq: _Optional[int] = ..., assignments: _Optional[_Union[Assignments, _Mapping]] = ..., logs: _Optional[_Union[LogsRequest, _Mapping]] = ..., status_ack: _Optional[_Union[StatusAck, _Mapping]] = ..., check: _Optional[_Union[CheckRequest, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ...) -> None: ...

class StatusAck(_message.Message):
    __slots__ = ("seq",)
    SEQ_FIELD_NUMBER: _ClassVar[int]
    seq: int
    def __init__(self, seq: _Optional[int] = ...) -> None: ...

class LogsRequest(_message.Message):
    __slots__ = ("request_id", "workspace", "tail_lines", "follow", "cancel")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    TAIL_LINES_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    workspace: str
    tail_lines: int
    follow: bool
    cancel: bool
    def __init__(self, request_id: _Optional[str] = ..., workspace: _Optional[str] = ..., tail_lines: _Optional[int] = ..., follow: _Optional[bool] = ..., cancel: _Optional[bool] = ...) -> None: ...

class LogChunk(_message.Message):
    __slots__ = ("request_id", "data", "eof", "error")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    EOF_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    data: bytes
    eof: bool
    error: str
    def __init__(self, request_id: _Optional[str] = ..., data: _Optional[bytes] = ..., eof: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class Assignment(_message.Message):
    __slots__ = ("workspace", "config_json", "config_version", "port", "desired", "restart_mode")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    CONFIG_JSON_FIELD_NUMBER: _ClassVar[int]
    CONFIG_VERSION_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    DESIRED_FIELD_NUMBER: _ClassVar[int]
    RESTART_MODE_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    config_json: str
    config_version: str
    port: int
    desired: DesiredStatus
    restart_mode: RestartMode
    def __init__(self, workspace: _Optional[str] = ..., config_json: _Optional[str] = ..., config_version: _Optional[str] = ..., port: _Optional[int] = ..., desired: _Optional[_Union[DesiredStatus, str]] = ..., restart_mode: _Optional[_Union[RestartMode, str]] = ...) -> None: ...

class Assignments(_message.Message):
    __slots__ = ("boot_id", "generation", "items", "heartbeat_interval_seconds")
    BOOT_ID_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_INTERVAL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    boot_id: str
    generation: int
    items: _containers.RepeatedCompositeFieldContainer[Assignment]
    heartbeat_interval_seconds: float
    def __init__(self, boot_id: _Optional[str] = ..., generation: _Optional[int] = ..., items: _Optional[_Iterable[_Union[Assignment, _Mapping]]] = ..., heartbeat_interval_seconds: _Optional[float] = ...) -> None: ...

class CheckRequest(_message.Message):
    __slots__ = ("request_id", "pids", "ports")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    PIDS_FIELD_NUMBER: _ClassVar[int]
    PORTS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    pids: _containers.RepeatedScalarFieldContainer[int]
    ports: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, request_id: _Optional[str] = ..., pids: _Optional[_Iterable[int]] = ..., ports: _Optional[_Iterable[int]] = ...) -> None: ...

class PortHolder(_message.Message):
    __slots__ = ("port", "ours")
    PORT_FIELD_NUMBER: _ClassVar[int]
    OURS_FIELD_NUMBER: _ClassVar[int]
    port: int
    ours: bool
    def __init__(self, port: _Optional[int] = ..., ours: _Optional[bool] = ...) -> None: ...

class CheckResult(_message.Message):
    __slots__ = ("request_id", "alive_pids", "listening", "error")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ALIVE_PIDS_FIELD_NUMBER: _ClassVar[int]
    LISTENING_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    alive_pids: _containers.RepeatedScalarFieldContainer[int]
    listening: _containers.RepeatedCompositeFieldContainer[PortHolder]
    error: str
    def __init__(self, request_id: _Optional[str] = ..., alive_pids: _Optional[_Iterable[int]] = ..., listening: _Optional[_Iterable[_Union[PortHolder, _Mapping]]] = ..., error: _Optional[str] = ...) -> None: ...
