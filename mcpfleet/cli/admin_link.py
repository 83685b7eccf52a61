"""The CLI's calls to the control plane's AdminService (the only CLI module that touches gRPC)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mcpfleet.convert import ts_from_pb
from mcpfleet.rpc import open_bridge
from mcpfleet.v1 import admin_pb2, admin_pb2_grpc, agent_pb2, common_pb2

CONNECT_TIMEOUT = 1.5  # seconds; with process start-up, "unreachable" is said within 2 s
CALL_TIMEOUT = 10.0


@dataclass(frozen=True)
class AdminTarget:
    """Where the control plane listens and the admin token, if one is configured."""

    address: str
    token: str | None = None

    @classmethod
    def from_args(cls, args: Any) -> AdminTarget:
        """From the CLI's global `--control-plane` and `--token`."""
        return cls(args.control_plane, args.token)


def _enum(pb_enum: Any, prefix: str, number: int) -> str:
    if number == 0:
        return ""
    return str(pb_enum.Name(number)).removeprefix(prefix + "_").lower().replace("_", "-")


def summary_to_dict(s: admin_pb2.WorkspaceSummary) -> dict[str, Any]:
    """One workspace as the JSON the CLI prints (camelCase, times as epoch seconds)."""
    w = s.worker if s.HasField("worker") else None
    return {
        "name": s.name,
        "config": _enum(admin_pb2.ConfigState, "CONFIG_STATE", s.config),
        "configError": s.config_error or None,
        "version": s.version or None,
        "placement": _enum(admin_pb2.PlacementState, "PLACEMENT_STATE", s.placement),
        "placementReason": s.placement_reason or None,
        "host": s.host or None,
        "port": s.port or None,
        "status": _enum(common_pb2.ProcessStatus, "PROCESS_STATUS", w.status) if w else "unknown",
        "health": _enum(common_pb2.Health, "HEALTH", w.health) if w else None,
        "pid": (w.pid or None) if w else None,
        "restartCount": w.restart_count if w else 0,
        "startTime": ts_from_pb(w, "start_time") if w else None,
        "breaker": _enum(common_pb2.BreakerState, "BREAKER_STATE", s.breaker) or "closed",
    }


async def list_workspaces(target: AdminTarget) -> list[dict[str, Any]]:
    """AdminService.ListWorkspaces. Raises errors.Unavailable within ~2 s when unreachable."""
    async with open_bridge() as bridge:
        channel = await bridge.channel(target.address, token=target.token)
        await channel.wait_ready(CONNECT_TIMEOUT, fail_fast=True)
        resp = await channel.unary(admin_pb2_grpc.AdminServiceStub, "ListWorkspaces",
                                   admin_pb2.ListWorkspacesRequest(), timeout=CALL_TIMEOUT)
    return [summary_to_dict(s) for s in resp.workspaces]


# -- workspaces: get, apply, delete, stop/start/restart, history, rollback -------------------------

WAIT_TIMEOUT = 600.0  # seconds a `--wait` call may take (the control plane bounds the real wait)


def rfc3339(seconds: float | None) -> str | None:
    """Epoch seconds -> `2026-11-30T05:00:00.123Z` (UTC), None stays None."""
    if seconds is None:
        return None
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="milliseconds").replace(
        "+00:00", "Z")


async def _admin(target: AdminTarget, method: str, request: Any, timeout: float = CALL_TIMEOUT) -> Any:
    async with open_bridge() as bridge:
        channel = await bridge.channel(target.address, token=target.token)
        await channel.wait_ready(CONNECT_TIMEOUT, fail_fast=True)
        return await channel.unary(admin_pb2_grpc.AdminServiceStub, method, request, timeout=timeout)


def apply_to_dict(r: admin_pb2.ApplyWorkspaceResponse) -> dict[str, Any]:
    """An apply/rollback/delete outcome as JSON (camelCase, RFC 3339 times)."""
    return {
        "name": r.name,
        "outcome": _enum(admin_pb2.ApplyOutcome, "APPLY_OUTCOME", r.outcome),
        "version": r.version or None,
        "previousVersion": r.previous_version or None,
        "reason": r.reason or None,
        "revision": r.revision or None,
        "startedAt": rfc3339(ts_from_pb(r, "started_at")),
        "finishedAt": rfc3339(ts_from_pb(r, "finished_at")),
    }


async def get_workspace(target: AdminTarget, name: str, show_secrets: bool) -> dict[str, Any]:
    """AdminService.GetWorkspace: the summary fields plus `desired` and the `configJson` text."""
    r = await _admin(target, "GetWorkspace", admin_pb2.GetWorkspaceRequest(name=name,
                                                                           show_secrets=show_secrets))
    out = summary_to_dict(r.summary)
    out["lastModified"] = rfc3339(ts_from_pb(r.summary, "last_modified"))
    out["startTime"] = rfc3339(out["startTime"])
    out["desired"] = _enum(agent_pb2.DesiredStatus, "DESIRED_STATUS", r.desired)
    w = r.summary.worker if r.summary.HasField("worker") else None
    out["runningVersion"] = (w.config_version or None) if w else None
    out["errors"] = [{"time": rfc3339(ts_from_pb(e, "time")), "reason": e.reason, "message": e.message}
                     for e in (w.error_history if w else [])]
    out["spec"] = json.loads(r.config_json) if r.config_json else None
    return out


async def apply_workspace(target: AdminTarget, name: str, content: bytes, wait: bool) -> dict[str, Any]:
    """AdminService.ApplyWorkspace."""
    r = await _admin(target, "ApplyWorkspace",
                     admin_pb2.ApplyWorkspaceRequest(name=name, content=content, wait=wait),
                     WAIT_TIMEOUT if wait else CALL_TIMEOUT)
    return apply_to_dict(r)


async def rollback_workspace(target: AdminTarget, name: str, revision: str, wait: bool) -> dict[str, Any]:
    """AdminService.RollbackWorkspace."""
    r = await _admin(target, "RollbackWorkspace",
                     admin_pb2.RollbackWorkspaceRequest(name=name, revision=revision, wait=wait),
                     WAIT_TIMEOUT if wait else CALL_TIMEOUT)
    return apply_to_dict(r)


async def delete_workspace(target: AdminTarget, name: str) -> dict[str, Any]:
    """AdminService.DeleteWorkspace."""
    return apply_to_dict(await _admin(target, "DeleteWorkspace", admin_pb2.DeleteWorkspaceRequest(name=name)))


async def workspace_action(target: AdminTarget, verb: str, name: str, wait: bool) -> dict[str, Any]:
    """AdminService.Stop|Start|RestartWorkspace (`verb` = stop|start|restart); the summary after it."""
    method = {"stop": "StopWorkspace", "start": "StartWorkspace", "restart": "RestartWorkspace"}[verb]
    r = await _admin(target, method, admin_pb2.WorkspaceActionRequest(name=name, wait=wait),
                     WAIT_TIMEOUT if wait else CALL_TIMEOUT)
    return summary_to_dict(r.summary)


async def workspace_history(target: AdminTarget, name: str, limit: int) -> list[dict[str, Any]]:
    """AdminService.WorkspaceHistory, newest first."""
    r = await _admin(target, "WorkspaceHistory", admin_pb2.WorkspaceHistoryRequest(name=name, limit=limit))
    return [{"revision": v.sha, "time": rfc3339(ts_from_pb(v, "time")), "author": v.author,
             "subject": v.subject} for v in r.revisions]


# -- events, state, breakers -----------------------------------------------------------------------

def event_to_dict(e: admin_pb2.FleetEvent) -> dict[str, Any]:
    """A FleetEvent as JSON: seq, type, time (RFC 3339), workspace, host, data."""
    try:
        data = json.loads(e.data_json) if e.data_json else {}
    except ValueError:
        data = {"raw": e.data_json}
    return {"seq": e.seq, "type": e.type, "time": rfc3339(ts_from_pb(e, "time")),
            "workspace": e.workspace or None, "host": e.host or None, "data": data}


async def watch_events(target: AdminTarget, on_item: Callable[[dict[str, Any]], None], *, workspace: str = "",
                       recent: int = 0, follow: bool = True) -> None:
    """AdminService.WatchEvents: call `on_item` with each event dict, or `{"resync": {"dropped": n}}`
    when the watcher fell behind. Without `follow`, ends after the `recent` replay; with it, runs
    until cancelled or the control plane goes away (errors.Unavailable)."""
    async with open_bridge() as bridge:
        channel = await bridge.channel(target.address, token=target.token)
        await channel.wait_ready(CONNECT_TIMEOUT, fail_fast=True)
        request = admin_pb2.WatchEventsRequest(workspace=workspace, recent=recent, replay_only=not follow)
        async with channel.server_stream(admin_pb2_grpc.AdminServiceStub, "WatchEvents", request,
                                         timeout=None if follow else CALL_TIMEOUT) as stream:
            async for msg in stream:
                if msg.WhichOneof("body") == "resync":
                    on_item({"resync": {"dropped": msg.resync.dropped}})
                else:
                    on_item(event_to_dict(msg.event))


async def get_state(target: AdminTarget, component: str, show_secrets: bool = False) -> Any:
    """AdminService.GetState: the component's JSON document (errors.NotFound for an unknown one)."""
    r = await _admin(target, "GetState", admin_pb2.GetStateRequest(component=component, show_secrets=show_secrets))
    return json.loads(r.json)


async def validate_state(target: AdminTarget) -> list[dict[str, Any]]:
    """AdminService.ValidateState: issues with severity error|warning|info."""
    r = await _admin(target, "ValidateState", admin_pb2.ValidateStateRequest(), WAIT_TIMEOUT)
    return [{"severity": i.severity, "component": i.component, "workspace": i.workspace or None,
             "host": i.host or None, "issue": i.issue} for i in r.issues]


def breaker_to_dict(b: admin_pb2.BreakerInfo) -> dict[str, Any]:
    """A BreakerInfo as JSON (seed ErrorState entry, RFC 3339 times)."""
    return {"component": b.component, "state": _enum(common_pb2.BreakerState, "BREAKER_STATE", b.state),
            "failureCount": b.failure_count, "openCount": b.open_count,
            "lastFailure": rfc3339(ts_from_pb(b, "last_failure")), "nextRetry": rfc3339(ts_from_pb(b, "next_retry")),
            "healthStatus": _enum(common_pb2.Health, "HEALTH", b.health), "recentErrors": list(b.recent_errors)}


async def list_breakers(target: AdminTarget) -> list[dict[str, Any]]:
    """AdminService.ListBreakers."""
    r = await _admin(target, "ListBreakers", admin_pb2.ListBreakersRequest())
    return [breaker_to_dict(b) for b in r.breakers]


async def reset_breaker(target: AdminTarget, component: str) -> dict[str, Any]:
    """AdminService.ResetBreaker (`component`: workspace/<name>, agent/<host> or a workspace name)."""
    r = await _admin(target, "ResetBreaker", admin_pb2.ResetBreakerRequest(component=component))
    return breaker_to_dict(r.breaker)


# -- agents and logs -------------------------------------------------------------------------------

def agent_to_dict(a: admin_pb2.AgentInfo) -> dict[str, Any]:
    """One agent as the JSON `agents list` prints (camelCase; MiB, percent of one core)."""
    return {
        "hostId": a.host_id, "address": a.address,
        "status": _enum(admin_pb2.AgentStatus, "AGENT_STATUS", a.status), "version": a.version,
        "connected": a.connected, "lastSeen": rfc3339(ts_from_pb(a, "last_seen")),
        "portRange": {"min": a.port_min, "max": a.port_max}, "workspaces": list(a.workspaces),
        "rssMB": round(a.rss_mib, 1), "cpuPercent": round(a.cpu_percent, 1),
        "processCount": a.process_count,
    }


async def list_agents(target: AdminTarget) -> list[dict[str, Any]]:
    """AdminService.ListAgents."""
    r = await _admin(target, "ListAgents", admin_pb2.ListAgentsRequest())
    return [agent_to_dict(a) for a in r.agents]


async def drain_agent(target: AdminTarget, host_id: str, undo: bool = False) -> dict[str, Any]:
    """AdminService.DrainAgent: {"agent": {...}, "moving": [...], "staying": [...]}."""
    r = await _admin(target, "DrainAgent", admin_pb2.DrainAgentRequest(host_id=host_id, undo=undo))
    return {"agent": agent_to_dict(r.agent), "moving": list(r.moving), "staying": list(r.staying)}


async def stream_logs(target: AdminTarget, workspace: str, tail_lines: int, follow: bool,
                      on_data: Callable[[bytes], None]) -> None:
    """AdminService.StreamLogs: call `on_data` with each chunk of the worker's log; ends after
    the tail unless `follow` (then runs until cancelled or the control plane goes away)."""
    async with open_bridge() as bridge:
        channel = await bridge.channel(target.address, token=target.token)
        await channel.wait_ready(CONNECT_TIMEOUT, fail_fast=True)
        request = admin_pb2.StreamLogsRequest(workspace=workspace, tail_lines=tail_lines, follow=follow)
        async with channel.server_stream(admin_pb2_grpc.AdminServiceStub, "StreamLogs", request,
                                         timeout=None if follow else CALL_TIMEOUT) as stream:
            async for msg in stream:
                on_data(msg.data)


async def list_edges(target: AdminTarget, connections: bool = False) -> dict[str, Any]:
    """AdminService.ListEdges: {"edges": [{edgeId, publicAddress, adminAddress, version,
    connections, connectedAt}], "connections": [{edgeId, sessionId, workspace, transport,
    clientName, connectedAt}]} (connections only when asked)."""
    r = await _admin(target, "ListEdges", admin_pb2.ListEdgesRequest(connections=connections))
    return {
        "edges": [{"edgeId": e.edge_id, "publicAddress": e.public_address, "adminAddress": e.admin_address,
                   "version": e.version, "connections": e.connections, "connectedAt": e.connected_at}
                  for e in r.edges],
        "connections": [{"edgeId": c.edge_id, "sessionId": c.session_id_prefix, "workspace": c.workspace,
                         "transport": c.transport, "clientName": c.client_name, "connectedAt": c.connected_at}
                        for c in r.connections],
    }
