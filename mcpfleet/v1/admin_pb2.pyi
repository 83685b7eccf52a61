import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from mcpfleet.v1 import agent_pb2 as _agent_pb2
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

class ApplyOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    APPLY_OUTCOME_UNSPECIFIED: _ClassVar[ApplyOutcome]
    APPLY_OUTCOME_APPLIED: _ClassVar[ApplyOutcome]
    APPLY_OUTCOME_UNCHANGED: _ClassVar[ApplyOutcome]
    APPLY_OUTCOME_ACCEPTED: _ClassVar[ApplyOutcome]
    APPLY_OUTCOME_ROLLED_BACK: _ClassVar[ApplyOutcome]
    APPLY_OUTCOME_FAILED: _ClassVar[ApplyOutcome]
    APPLY_OUTCOME_DELETED: _ClassVar[ApplyOutcome]

class AgentStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    AGENT_STATUS_UNSPECIFIED: _ClassVar[AgentStatus]
    AGENT_STATUS_READY: _ClassVar[AgentStatus]
    AGENT_STATUS_UNKNOWN: _ClassVar[AgentStatus]
    AGENT_STATUS_DRAINING: _ClassVar[AgentStatus]
CONFIG_STATE_UNSPECIFIED: ConfigState
CONFIG_STATE_VALID: ConfigState
CONFIG_STATE_REJECTED: ConfigState
PLACEMENT_STATE_UNSPECIFIED: PlacementState
PLACEMENT_STATE_PLACED: PlacementState
PLACEMENT_STATE_PENDING: PlacementState
APPLY_OUTCOME_UNSPECIFIED: ApplyOutcome
APPLY_OUTCOME_APPLIED: ApplyOutcome
APPLY_OUTCOME_UNCHANGED: ApplyOutcome
APPLY_OUTCOME_ACCEPTED: ApplyOutcome
APPLY_OUTCOME_ROLLED_BACK: ApplyOutcome
APPLY_OUTCOME_FAILED: ApplyOutcome
APPLY_OUTCOME_DELETED: ApplyOutcome
AGENT_STATUS_UNSPECIFIED: AgentStatus
AGENT_STATUS_READY: AgentStatus
AGENT_STATUS_UNKNOWN: AgentStatus
AGENT_STATUS_DRAINING: AgentStatus

class ListWorkspacesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class WorkspaceSummary(_message.Message):
    __slots__ = ("name", "config", "config_error", "version", "last_modified", "placement", "placement_reason", "host", "port", "worker", "breaker")
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
    BREAKER_FIELD_NUMBER: _ClassVar[int]
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
    breaker: _common_pb2.BreakerState
    def __init__(self, name: _Optional[str] = ..., config: _Optional[_Union[ConfigState, str]] = ..., config_error: _Optional[str] = ..., version: _Optional[str] = ..., last_modified: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., placement: _Optional[_Union[PlacementState, str]] = ..., placement_reason: _Optional[str] = ..., host: _Optional[str] = ..., port: _Optional[int] = ..., worker: _Optional[_Union[_common_pb2.WorkerStatus, _Mapping]] = ..., breaker: _Optional[_Union[_common_pb2.BreakerState, str]] = ...) -> None: ...

class ListWorkspacesResponse(_message.Message):
    __slots__ = ("workspaces",)
    WORKSPACES_FIELD_NUMBER: _ClassVar[int]
    workspaces: _containers.RepeatedCompositeFieldContainer[WorkspaceSummary]
    def __init__(self, workspaces: _Optional[_Iterable[_Union[WorkspaceSummary, _Mapping]]] = ...) -> None: ...

class FleetEvent(_message.Message):
    __slots__ = ("seq", "type", "time", "workspace", "host", "data_json", "boot_id")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    DATA_JSON_FIELD_NUMBER: _ClassVar[int]
    BOOT_ID_FIELD_NUMBER: _ClassVar[int]
    seq: int
    type: str
    time: _timestamp_pb2.Timestamp
    workspace: str
    host: str
    data_json: str
    boot_id: str
    def __init__(self, seq: _Optional[int] = ..., type: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., workspace: _Optional[str] = ..., host: _Optional[str] = ..., data_json: _Optional[str] = ..., boot_id: _Optional[str] = ...) -> None: ...

class WatchEventsRequest(_message.Message):
    __slots__ = ("workspace", "types", "recent", "replay_only")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    TYPES_FIELD_NUMBER: _ClassVar[int]
    RECENT_FIELD_NUMBER: _ClassVar[int]
    REPLAY_ONLY_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    types: _containers.RepeatedScalarFieldContainer[str]
    recent: int
    replay_only: bool
    def __init__(self, workspace: _Optional[str] = ..., types: _Optional[_Iterable[str]] = ..., recent: _Optional[int] = ..., replay_only: _Optional[bool] = ...) -> None: ...

class EventsResync(_message.Message):
    __slots__ = ("dropped",)
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    dropped: int
    def __init__(self, dropped: _Optional[int] = ...) -> None: ...

class WatchEventsResponse(_message.Message):
    __slots__ = ("event", "resync")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    RESYNC_FIELD_NUMBER: _ClassVar[int]
    event: FleetEvent
    resync: EventsResync
    def __init__(self, event: _Optional[_Union[FleetEvent, _Mapping]] = ..., resync: _Optional[_Union[EventsResync, _Mapping]] = ...) -> None: ...

class GetStateRequest(_message.Message):
    __slots__ = ("component", "show_secrets")
    COMPONENT_FIELD_NUMBER: _ClassVar[int]
    SHOW_SECRETS_FIELD_NUMBER: _ClassVar[int]
    component: str
    show_secrets: bool
    def __init__(self, component: _Optional[str] = ..., show_secrets: _Optional[bool] = ...) -> None: ...

class GetStateResponse(_message.Message):
    __slots__ = ("json",)
    JSON_FIELD_NUMBER: _ClassVar[int]
    json: str
    def __init__(self, json: _Optional[str] = ...) -> None: ...

class ValidateStateRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StateIssue(_message.Message):
    __slots__ = ("severity", "component", "workspace", "host", "issue")
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    COMPONENT_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    HOST_FIELD_NUMBER: _ClassVar[int]
    ISSUE_FIELD_NUMBER: _ClassVar[int]
    severity: str
    component: str
    workspace: str
    host: str
    issue: str
    def __init__(self, severity: _Optional[str] = ..., component: _Optional[str] = ..., workspace: _Optional[str] = ..., host: _Optional[str] = ..., issue: _Optional[str] = ...) -> None: ...

class ValidateStateResponse(_message.Message):
    __slots__ = ("issues",)
    ISSUES_FIELD_NUMBER: _ClassVar[int]
    issues: _containers.RepeatedCompositeFieldContainer[StateIssue]
    def __init__(self, issues: _Optional[_Iterable[_Union[StateIssue, _Mapping]]] = ...) -> None: ...

class BreakerInfo(_message.Message):
    __slots__ = ("component", "state", "failure_count", "last_failure", "next_retry", "open_count", "recent_errors", "health")
    COMPONENT_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    FAILURE_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_FAILURE_FIELD_NUMBER: _ClassVar[int]
    NEXT_RETRY_FIELD_NUMBER: _ClassVar[int]
    OPEN_COUNT_FIELD_NUMBER: _ClassVar[int]
    RECENT_ERRORS_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    component: str
    state: _common_pb2.BreakerState
    failure_count: int
    last_failure: _timestamp_pb2.Timestamp
    next_retry: _timestamp_pb2.Timestamp
    open_count: int
    recent_errors: _containers.RepeatedScalarFieldContainer[str]
    health: _common_pb2.Health
    def __init__(self, component: _Optional[str] = ..., state: _Optional[_Union[_common_pb2.BreakerState, str]] = ..., failure_count: _Optional[int] = ..., last_failure: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., next_retry: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., open_count: _Optional[int] = ..., recent_errors: _Optional[_Iterable[str]] = ..., health: _Optional[_Union[_common_pb2.Health, str]] = ...) -> None: ...

class ListBreakersRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListBreakersResponse(_message.Message):
    __slots__ = ("breakers",)
    BREAKERS_FIELD_NUMBER: _ClassVar[int]
    breakers: _containers.RepeatedCompositeFieldContainer[BreakerInfo]
    def __init__(self, breakers: _Optional[_Iterable[_Union[BreakerInfo, _Mapping]]] = ...) -> None: ...

class ResetBreakerRequest(_message.Message):
    __slots__ = ("component",)
    COMPONENT_FIELD_NUMBER: _ClassVar[int]
    component: str
    def __init__(self, component: _Optional[str] = ...) -> None: ...

class ResetBreakerResponse(_message.Message):
    __slots__ = ("breaker",)
    BREAKER_FIELD_NUMBER: _ClassVar[int]
    breaker: BreakerInfo
    def __init__(self, breaker: _Optional[_Union[BreakerInfo, _Mapping]] = ...) -> None: ...

class GetWorkspaceRequest(_message.Message):
    __slots__ = ("name", "show_secrets")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SHOW_SECRETS_FIELD_NUMBER: _ClassVar[int]
    name: str
    show_secrets: bool
    def __init__(self, name: _Optional[str] = ..., show_secrets: _Optional[bool] = ...) -> None: ...

class GetWorkspaceResponse(_message.Message):
    __slots__ = ("summary", "config_json", "desired", "restart_count")
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    CONFIG_JSON_FIELD_NUMBER: _ClassVar[int]
    DESIRED_FIELD_NUMBER: _ClassVar[int]
    RESTART_COUNT_FIELD_NUMBER: _ClassVar[int]
    summary: WorkspaceSummary
    config_json: str
    desired: _agent_pb2.DesiredStatus
    restart_count: int
    def __init__(self, summary: _Optional[_Union[WorkspaceSummary, _Mapping]] = ..., config_json: _Optional[str] = ..., desired: _Optional[_Union[_agent_pb2.DesiredStatus, str]] = ..., restart_count: _Optional[int] = ...) -> None: ...

class ApplyWorkspaceRequest(_message.Message):
    __slots__ = ("name", "content", "wait")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    name: str
    content: bytes
    wait: bool
    def __init__(self, name: _Optional[str] = ..., content: _Optional[bytes] = ..., wait: _Optional[bool] = ...) -> None: ...

class ApplyWorkspaceResponse(_message.Message):
    __slots__ = ("name", "outcome", "version", "previous_version", "reason", "revision", "started_at", "finished_at")
    NAME_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_VERSION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    name: str
    outcome: ApplyOutcome
    version: str
    previous_version: str
    reason: str
    revision: str
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., outcome: _Optional[_Union[ApplyOutcome, str]] = ..., version: _Optional[str] = ..., previous_version: _Optional[str] = ..., reason: _Optional[str] = ..., revision: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class DeleteWorkspaceRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class WorkspaceActionRequest(_message.Message):
    __slots__ = ("name", "wait")
    NAME_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    name: str
    wait: bool
    def __init__(self, name: _Optional[str] = ..., wait: _Optional[bool] = ...) -> None: ...

class WorkspaceActionResponse(_message.Message):
    __slots__ = ("summary",)
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    summary: WorkspaceSummary
    def __init__(self, summary: _Optional[_Union[WorkspaceSummary, _Mapping]] = ...) -> None: ...

class WorkspaceHistoryRequest(_message.Message):
    __slots__ = ("name", "limit")
    NAME_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    name: str
    limit: int
    def __init__(self, name: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class Revision(_message.Message):
    __slots__ = ("sha", "time", "author", "subject")
    SHA_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    sha: str
    time: _timestamp_pb2.Timestamp
    author: str
    subject: str
    def __init__(self, sha: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., author: _Optional[str] = ..., subject: _Optional[str] = ...) -> None: ...

class WorkspaceHistoryResponse(_message.Message):
    __slots__ = ("revisions",)
    REVISIONS_FIELD_NUMBER: _ClassVar[int]
    revisions: _containers.RepeatedCompositeFieldContainer[Revision]
    def __init__(self, revisions: _Optional[_Iterable[_Union[Revision, _Mapping]]] = ...) -> None: ...

class RollbackWorkspaceRequest(_message.Message):
    __slots__ = ("name", "revision", "wait")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    name: str
    revision: str
    wait: bool
    def __init__(self, name: _Optional[str] = ..., revision: _Optional[str] = ..., wait: _Optional[bool] = ...) -> None: ...

class AgentInfo(_message.Message):
    __slots__ = ("host_id", "address", "status", "version", "connected", "last_seen", "port_min", "port_max", "workspaces", "rss_mib", "cpu_percent", "process_count")
    HOST_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_FIELD_NUMBER: _ClassVar[int]
    LAST_SEEN_FIELD_NUMBER: _ClassVar[int]
    PORT_MIN_FIELD_NUMBER: _ClassVar[int]
    PORT_MAX_FIELD_NUMBER: _ClassVar[int]
    WORKSPACES_FIELD_NUMBER: _ClassVar[int]
    RSS_MIB_FIELD_NUMBER: _ClassVar[int]
    CPU_PERCENT_FIELD_NUMBER: _ClassVar[int]
    PROCESS_COUNT_FIELD_NUMBER: _ClassVar[int]
    host_id: str
    address: str
    status: AgentStatus
    version: str
    connected: bool
    last_seen: _timestamp_pb2.Timestamp
    port_min: int
    port_max: int
    workspaces: _containers.RepeatedScalarFieldContainer[str]
    rss_mib: float
    cpu_percent: float
    process_count: int
    def __init__(self, host_id: _Optional[str] = ..., address: _Optional[str] = ..., status: _Optional[_Union[AgentStatus, str]] = ..., version: _Optional[str] = ..., connected: _Optional[bool] = ..., last_seen: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., port_min: _Optional[int] = ..., port_max: _Optional[int] = ..., workspaces: _Optional[_Iterable[str]] = ..., rss_mib: _Optional[float] = ..., cpu_percent: _Optional[float] = ..., process_count: _Optional[int] = ...) -> None: ...

class ListAgentsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListAgentsResponse(_message.Message):
    __slots__ = ("agents",)
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    agents: _containers.RepeatedCompositeFieldContainer[AgentInfo]
    def __init__(self, agents: _Optional[_Iterable[_Union[AgentInfo, _Mapping]]] = ...) -> None: ...

class DrainAgentRequest(_message.Message):
    __slots__ = ("host_id", "undo")
    HOST_ID_FIELD_NUMBER: _ClassVar[int]
    UNDO_FIELD_NUMBER: _ClassVar[int]
    host_id: str
    undo: bool
    def __init__(self, host_id: _Optional[str] = ..., undo: _Optional[bool] = ...) -> None: ...

class DrainAgentResponse(_message.Message):
    __slots__ = ("agent", "moving", "staying")
    AGENT_FIELD_NUMBER: _ClassVar[int]
    MOVING_FIELD_NUMBER: _ClassVar[int]
    STAYING_FIELD_NUMBER: _ClassVar[int]
    agent: AgentInfo
    moving: _containers.RepeatedScalarFieldContainer[str]
    staying: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, agent: _Optional[_Union[AgentInfo, _Mapping]] = ..., moving: _Optional[_Iterable[str]] = ..., staying: _Optional[_Iterable[str]] = ...) -> None: ...

class StreamLogsRequest(_message.Message):
    __slots__ = ("workspace", "tail_lines", "follow")
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    TAIL_LINES_FIELD_NUMBER: _ClassVar[int]
    FOLLOW_FIELD_NUMBER: _ClassVar[int]
    workspace: str
    tail_lines: int
    follow: bool
    def __init__(self, workspace: _Optional[str] = ..., tail_lines: _Optional[int] = ..., follow: _Optional[bool] = ...) -> None: ...

class StreamLogsResponse(_message.Message):
    __slots__ = ("data", "host_id")
    DATA_FIELD_NUMBER: _ClassVar[int]
    HOST_ID_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    host_id: str
    def __init__(self, data: _Optional[bytes] = ..., host_id: _Optional[str] = ...) -> None: ...

class ListEdgesRequest(_message.Message):
    __slots__ = ("connections",)
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    connections: bool
    def __init__(self, connections: _Optional[bool] = ...) -> None: ...

class EdgeSummary(_message.Message):
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

class EdgeConnection(_message.Message):
    __slots__ = ("edge_id", "session_id_prefix", "workspace", "transport", "client_name", "connected_at")
    EDGE_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_PREFIX_FIELD_NUMBER: _ClassVar[int]
    WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    TRANSPORT_FIELD_NUMBER: _ClassVar[int]
    CLIENT_NAME_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_AT_FIELD_NUMBER: _ClassVar[int]
    edge_id: str
    session_id_prefix: str
    workspace: str
    transport: str
    client_name: str
    connected_at: str
    def __init__(self, edge_id: _Optional[str] = ..., session_id_prefix: _Optional[str] = ..., workspace: _Optional[str] = ..., transport: _Optional[str] = ..., client_name: _Optional[str] = ..., connected_at: _Optional[str] = ...) -> None: ...

class ListEdgesResponse(_message.Message):
    __slots__ = ("edges", "connections")
    EDGES_FIELD_NUMBER: _ClassVar[int]
    CONNECTIONS_FIELD_NUMBER: _ClassVar[int]
    edges: _containers.RepeatedCompositeFieldContainer[EdgeSummary]
    connections: _containers.RepeatedCompositeFieldContainer[EdgeConnection]
    def __init__(self, edges: _Optional[_Iterable[_Union[EdgeSummary, _Mapping]]] = ..., connections: _Optional[_Iterable[_Union[EdgeConnection, _Mapping]]] = ...) -> None: ...
