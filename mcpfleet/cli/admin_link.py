"""The CLI's calls to the control plane's AdminService (the only CLI module that touches gRPC)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mcpfleet.convert import ts_from_pb
from mcpfleet.rpc import open_bridge
from mcpfleet.v1 import admin_pb2, admin_pb2_grpc, common_pb2

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
