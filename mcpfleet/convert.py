"""Protobuf <-> dataclass conversion, used only by `*_endpoint.py` and `*_link.py` modules.

Enum values map by name: `Status.RUNNING` <-> `PROCESS_STATUS_RUNNING`, `half-open` <->
`BREAKER_STATE_HALF_OPEN`. Times: protobuf Timestamp <-> float seconds since the epoch (unset = None).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, TypeVar

from google.protobuf.timestamp_pb2 import Timestamp

from mcpfleet.lifecycle import Health, Status
from mcpfleet.model import (
    AgentHello,
    Assignment,
    AssignmentSet,
    Desired,
    ProcessError,
    RestartMode,
    Route,
    WorkerState,
)
from mcpfleet.v1 import agent_pb2, common_pb2, routing_pb2

E = TypeVar("E", bound=StrEnum)


def enum_to_pb(prefix: str, value: StrEnum | str) -> str:
    """`("PROCESS_STATUS", Status.RUNNING)` -> `"PROCESS_STATUS_RUNNING"` (protobuf accepts names)."""
    return f"{prefix}_{str(value).upper().replace('-', '_')}"


def enum_from_pb(pb_enum: Any, prefix: str, number: int, cls: type[E], default: E) -> E:
    """The inverse of `enum_to_pb`; `*_UNSPECIFIED` (0) gives `default`."""
    if number == 0:
        return default
    name = pb_enum.Name(number).removeprefix(prefix + "_").lower().replace("_", "-")
    return cls(name)


def ts_to_pb(seconds: float | None) -> Timestamp | None:
    """Float epoch seconds -> Timestamp (None stays unset)."""
    if seconds is None:
        return None
    ts = Timestamp()
    ts.FromNanoseconds(int(seconds * 1e9))
    return ts


def ts_from_pb(msg: Any, field: str) -> float | None:
    """Read Timestamp field `field` of `msg` as float epoch seconds, None when unset."""
    if not msg.HasField(field):
        return None
    return float(getattr(msg, field).ToNanoseconds()) / 1e9


class _Breaker(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half-open"


def worker_to_pb(w: WorkerState) -> common_pb2.WorkerStatus:
    return common_pb2.WorkerStatus(
        workspace=w.workspace,
        pid=w.pid or 0,
        port=w.port,
        status=enum_to_pb("PROCESS_STATUS", w.status),
        start_time=ts_to_pb(w.start_time),
        last_health_check=ts_to_pb(w.last_health_check),
        restart_count=w.restart_count,
        error_history=[
            common_pb2.ProcessError(
                time=ts_to_pb(e.time), reason=e.reason, message=e.message,
                exit_code=e.exit_code if e.exit_code is not None else 0,
            )
            for e in w.error_history
        ],
        health=enum_to_pb("HEALTH", w.health),
        config_version=w.config_version,
        rss_mib=w.rss_mib,
        cpu_percent=w.cpu_percent,
        create_time=w.create_time or 0.0,
        process_count=w.process_count,
        health_reason=w.health_reason,
    )


def worker_from_pb(m: common_pb2.WorkerStatus) -> WorkerState:
    return WorkerState(
        workspace=m.workspace,
        pid=m.pid or None,
        port=m.port,
        status=enum_from_pb(common_pb2.ProcessStatus, "PROCESS_STATUS", m.status, Status, Status.STOPPED),
        start_time=ts_from_pb(m, "start_time"),
        last_health_check=ts_from_pb(m, "last_health_check"),
        restart_count=m.restart_count,
        error_history=tuple(
            ProcessError(time=ts_from_pb(e, "time") or 0.0, reason=e.reason, message=e.message,
                         exit_code=e.exit_code)
            for e in m.error_history
        ),
        health=enum_from_pb(common_pb2.Health, "HEALTH", m.health, Health, Health.UNHEALTHY),
        config_version=m.config_version,
        rss_mib=m.rss_mib,
        cpu_percent=m.cpu_percent,
        create_time=m.create_time or None,
        process_count=m.process_count,
        health_reason=m.health_reason,
    )


def hello_to_pb(h: AgentHello) -> agent_pb2.AgentHello:
    return agent_pb2.AgentHello(
        host_id=h.host_id, address=h.address, port_min=h.port_min, port_max=h.port_max,
        version=h.version, workers=[worker_to_pb(w) for w in h.workers],
    )


def hello_from_pb(m: agent_pb2.AgentHello) -> AgentHello:
    return AgentHello(
        host_id=m.host_id, address=m.address, port_min=m.port_min, port_max=m.port_max,
        version=m.version, workers=tuple(worker_from_pb(w) for w in m.workers),
    )


def assignments_to_pb(a: AssignmentSet) -> agent_pb2.Assignments:
    return agent_pb2.Assignments(
        boot_id=a.boot_id,
        generation=a.generation,
        heartbeat_interval_seconds=a.heartbeat_interval_seconds,
        items=[
            agent_pb2.Assignment(
                workspace=i.workspace, config_json=i.config_json, config_version=i.config_version,
                port=i.port, desired=enum_to_pb("DESIRED_STATUS", i.desired),
                restart_mode=enum_to_pb("RESTART_MODE", i.restart_mode),
            )
            for i in a.items
        ],
    )


def assignments_from_pb(m: agent_pb2.Assignments) -> AssignmentSet:
    return AssignmentSet(
        boot_id=m.boot_id,
        generation=m.generation,
        heartbeat_interval_seconds=m.heartbeat_interval_seconds,
        items=tuple(
            Assignment(
                workspace=i.workspace, config_json=i.config_json, config_version=i.config_version,
                port=i.port,
                desired=enum_from_pb(agent_pb2.DesiredStatus, "DESIRED_STATUS", i.desired, Desired,
                                     Desired.RUNNING),
                restart_mode=enum_from_pb(agent_pb2.RestartMode, "RESTART_MODE", i.restart_mode,
                                          RestartMode, RestartMode.ALWAYS),
            )
            for i in m.items
        ),
    )


def route_to_pb(r: Route) -> routing_pb2.Route:
    return routing_pb2.Route(
        workspace=r.workspace, status=enum_to_pb("PROCESS_STATUS", r.status),
        health=enum_to_pb("HEALTH", r.health), address=r.address, port=r.port,
        request_timeout_seconds=r.request_timeout_seconds,
        breaker=enum_to_pb("BREAKER_STATE", r.breaker), config_error=r.config_error,
        token_sha256=list(r.token_sha256), config_version=r.config_version,
    )


def route_from_pb(m: routing_pb2.Route) -> Route:
    return Route(
        workspace=m.workspace,
        status=enum_from_pb(common_pb2.ProcessStatus, "PROCESS_STATUS", m.status, Status, Status.STOPPED),
        health=enum_from_pb(common_pb2.Health, "HEALTH", m.health, Health, Health.UNHEALTHY),
        address=m.address, port=m.port, request_timeout_seconds=m.request_timeout_seconds,
        breaker=str(enum_from_pb(common_pb2.BreakerState, "BREAKER_STATE", m.breaker, _Breaker,
                                 _Breaker.CLOSED)),
        config_error=m.config_error, token_sha256=tuple(m.token_sha256), config_version=m.config_version,
    )
