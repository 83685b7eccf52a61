from mcpfleet.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EdgeHello(_message.Message):
    __slots__ = ("edge_id", "public_address", "admin_address", "version")
    EDGE_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ADMIN_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    edge_id: str
    public_address: str
    admin_address: str
    version: str
    def __init__(self, edge_id: _Optional[str] = ..., public_address: _Optional[str] = ..., admin_address: _Optional[str] = ..., version: _Optional[str] = ...) -> None: ...

class ConnectionEvent(_message.Message):
    __slots__ = ("event", "session_id_prefix", "workspace", "transport", "client_name", "connected_at")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_PREFIX_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_FIELD_NUMBER: _ClassVar[int]
    CLIENT_NAME_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_AT_FIELD_NUMBER: _ClassVar[int]
    event: str
    session_id_prefix: str
    workspace: str
    transport: str
    client_name: str
    connected_at: str
    def __init__(self, event: _Optional[str] = ..., session_id_prefix: _Optional[str] = ..., workspace: _Optional[str] = ..., transport: _Optional[str] = ..., client_name: _Optional[str] = ..., connected_at: _Optional[str] = ...) -> None: ...

class EdgeMessage(_message.Message):
    __slots__ = ("seq", "hello", "connection")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    HELLO_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_FIELD_NUMBER: _ClassVar[int]
    seq: int
    hello: EdgeHello
    connection: ConnectionEvent
    def __init__(self, seq: _Optional[int] = ..., hello: _Optional[_Union[EdgeHello, _Mapping]] = ..., connection: _Optional[_Union[ConnectionEvent, _Mapping]] = ...) -> None: ...

class EdgeInfo(_message.Message):
    __slots__ = ("edge_id", "public_address", "admin_address", "version", "connections", "connected_at")
    EDGE_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ADMIN_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_AT_FIELD_NUMBER: _ClassVar[int]
    edge_id: str
    public_address: str
    admin_address: str
    version: str
    connections: int
    connected_at: str
    def __init__(self, edge_id: _Optional[str] = ..., public_address: _Optional[str] = ..., admin_address: _Optional[str] = ..., version: _Optional[str] = ..., connections: _Optional[int] = ..., connected_at: _Optional[str] = ...) -> None: ...

class RoutesSnapshot(_message.Message):
    __slots__ = ("routes", "edges")
    ROUTES_FIELD_NUMBER: _ClassVar[int]
    EDGES_FIELD_NUMBER: _ClassVar[int]
    routes: _containers.RepeatedCompositeFieldContainer[Route]
    edges: _containers.RepeatedCompositeFieldContainer[EdgeInfo]
    def __init__(self, routes: _Optional[_Iterable[_Union[Route, _Mapping]]] = ..., edges: _Optional[_Iterable[_Union[EdgeInfo, _Mapping]]] = ...) -> None: ...

class RouteChange(_message.Message):
    __slots__ = ("route", "removed")
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    route: Route
    removed: bool
    def __init__(self, route: _Optional[_Union[Route, _Mapping]] = ..., removed: _Optional[bool] = ...) -> None: ...

class EdgesChanged(_message.Message):
    __slots__ = ("edges",)
    EDGES_FIELD_NUMBER: _ClassVar[int]
    edges: _containers.RepeatedCompositeFieldContainer[EdgeInfo]
    def __init__(self, edges: _Optional[_Iterable[_Union[EdgeInfo, _Mapping]]] = ...) -> None: ...

class RoutesMessage(_message.Message):
    __slots__ = ("seq", "snapshot", "change", "edges")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    EDGES_FIELD_NUMBER: _ClassVar[int]
    seq: int
    snapshot: RoutesSnapshot
    change: RouteChange
    edges: EdgesChanged
    def __init__(self, seq: _Optional[int] = ..., snapshot: _Optional[_Union[RoutesSnapshot, _Mapping]] = ..., change: _Optional[_Union[RouteChange, _Mapping]] = ..., edges: _Optional[_Union[EdgesChanged, _Mapping]] = ...) -> None: ...

class ResolveRequest(_message.Message):
    __slots__ = ("workspace",)
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    def __init__(self, workspace: _Optional[str] = ...) -> None: ...

class Route(_message.Message):
    __slots__ = ("workspace", "status", "health", "address", "port", "request_timeout_seconds", "breaker", "config_error", "token_sha256", "config_version")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_TIMEOUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    BREAKER_FIELD_NUMBER: _ClassVar[int]
    CONFIG_ERROR_FIELD_NUMBER: _ClassVar[int]
    TOKEN_SHA256_FIELD_NUMBER: _ClassVar[int]
    CONFIG_VERSION_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    status: _common_pb2.ProcessStatus
    health: _common_pb2.Health
    address: str
    port: int
    request_timeout_seconds: float
    breaker: _common_pb2.BreakerState
    config_error: str
    token_sha256: _containers.RepeatedScalarFieldContainer[str]
    config_version: str
    def __init__(self, workspace: _Optional[str] = ..., status: _Optional[_Union[_common_pb2.ProcessStatus, str]] = ..., health: _Optional[_Union[_common_pb2.Health, str]] = ..., address: _Optional[str] = ..., port: _Optional[int] = ..., request_timeout_seconds: _Optional[float] = ..., breaker: _Optional[_Union[_common_pb2.BreakerState, str]] = ..., config_error: _Optional[str] = ..., token_sha256: _Optional[_Iterable[str]] = ..., config_version: _Optional[str] = ...) -> None: ...

class ResolveResponse(_message.Message):
    __slots__ = ("route",)
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    route: Route
    def __init__(self, route: _Optional[_Union[Route, _Mapping]] = ...) -> None: ...
