from mcpfleet.v1 import common_pb2 as _common_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ResolveRequest(_message.Message):
    __slots__ = ("workspace",)
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    def __init__(self, workspace: _Optional[str] = ...) -> None: ...

class Route(_message.Message):
    __slots__ = ("workspace", "status", "health", "address", "port", "request_timeout_seconds", "breaker", "config_error")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    BREAKER_FIELD_NUMBER: _ClassVar[int]
    CONFIG_ERROR_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    status: _common_pb2.ProcessStatus
    health: _common_pb2.Health
    address: str
    port: int
    request_timeout_seconds: float
    breaker: _common_pb2.BreakerState
    config_error: str
    def __init__(self, workspace: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.ProcessStatus, str]] = ..., health: _Optional[_Union[_common_pb2.Health, str]] = ..., address: _Optional[str] = ..., port: _Optional[int] = ..., request_timeout_seconds: _Optional[float] = ..., breaker: _Optional[_Union[_common_pb2.BreakerState, str]] = ..., config_error: _Optional[str] = ...) -> None: ...

class ResolveResponse(_message.Message):
    __slots__ = ("route",)
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    route: Route
    def __init__(self, route: _Optional[_Union[Route, _Mapping]] = ...) -> None: ...
