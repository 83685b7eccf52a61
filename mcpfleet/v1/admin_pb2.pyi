import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from mcpfleet.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ConfigState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONFIG_STATE_UNSPECIFIED: _ClassVar[ConfigState]
    CONFIG_STATE_VALID: _ClassVar[ConfigState]
    CONFIG_STATE_REJECTED: _ClassVar[ConfigState]

class PlacementState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PLACEMENT_STATE_UNSPECIFIED: _ClassVar[PlacementState]
    PLACEMENT_STATE_PLACED: _ClassVar[PlacementState]
    PLACEMENT_STATE_PENDING: _ClassVar[PlacementState]
CONFIG_STATE_UNSPECIFIED: ConfigState
CONFIG_STATE_VALID: ConfigState
CONFIG_STATE_REJECTED: ConfigState
PLACEMENT_STATE_UNSPECIFIED: PlacementState
PLACEMENT_STATE_PLACED: PlacementState
PLACEMENT_STATE_PENDING: PlacementState

class ListWorkspacesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class WorkspaceSummary(_message.Message):
    __slots__ = ("name", "config", "config_error", "version", "last_modified", "placement", "placement_reason", "host", "port", "worker")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    CONFIG_ERROR_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    LAST_MODIFIED_FIELD_NUMBER: _ClassVar[int]
    PLACEMENT_FIELD_NUMBER: _ClassVar[int]
    PLACEMENT_REASON_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    WORKER_FIELD_NUMBER: _ClassVar[int]
    name: str
    config: ConfigState
    config_error: str
    version: str
    last_modified: _timestamp_pb2.Timestamp
    placement: PlacementState
    placement_reason: str
    host: str
    port: int
    worker: _common_pb2.WorkerStatus
    def __init__(self, name: _Optional[str] = ..., config: _Optional[_Union[ConfigState, str]] = ..., config_error: _Optional[str] = ..., version: _Optional[str] = ..., last_modified: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., placement: _Optional[_Union[PlacementState, str]] = ..., placement_reason: _Optional[str] = ..., host: _Optional[str] = ..., port: _Optional[int] = ..., worker: _Optional[_Union[_common_pb2.WorkerStatus, _Mapping]] = ...) -> None: ...

class ListWorkspacesResponse(_message.Message):
    __slots__ = ("workspaces",)
    WORKSPACES_FIELD_NUMBER: _ClassVar[int]
    workspaces: _containers.RepeatedCompositeFieldContainer[WorkspaceSummary]
    def __init__(self, workspaces: _Optional[_Iterable[_Union[WorkspaceSummary, _Mapping]]] = ...) -> None: ...
