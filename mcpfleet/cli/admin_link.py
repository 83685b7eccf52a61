"""The CLI's calls to the control plane's AdminService (the only CLI module that touches gRPC)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from mcpfleet.convert import ts_from_pb
from mcpfleet.rpc import open_bridge
from mcpfleet.v1 import admin_pb2, admin_pb2_grpc, agent_pb2, common_pb2

CONNECT_TIMEOUT = 2.0
CALL_TIMEOUT = 10.0


@dataclass(frozen=True)
class AdminTarget:
    """Where the control plane listens and the admin token, if one is configured."""

    address: str
    token: str | None = None


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
    }


async def list_workspaces(target: AdminTarget) -> list[dict[str, Any]]:
    """AdminService.ListWorkspaces. Raises errors.Unavailable within ~2 s when unreachable."""
    async with open_bridge() as bridge:
        channel = await bridge.channel(target.address, token=target.token)
        await channel.wait_ready(CONNECT_TIMEOUT)
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
        await channel.wait_ready(CONNECT_TIMEOUT)
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
