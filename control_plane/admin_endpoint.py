"""gRPC AdminService: the operator API behind the `mcpfleet` CLI."""

from __future__ import annotations

from control_plane.agents_endpoint import AgentRpcs
from control_plane.coordinator import Coordinator
from control_plane.edges_endpoint import EdgeRpcs
from control_plane.state import WorkspaceView
from control_plane.state_endpoint import StateRpcs
from control_plane.workspace_endpoint import WorkspaceRpcs
from mcpfleet.convert import enum_to_pb, ts_to_pb, worker_to_pb
from mcpfleet.rpc import CallContext, ServiceBinding
from mcpfleet.v1 import admin_pb2, admin_pb2_grpc


def summary_to_pb(v: WorkspaceView) -> admin_pb2.WorkspaceSummary:
    return admin_pb2.WorkspaceSummary(
        name=v.name,
        config="CONFIG_STATE_VALID" if v.config_valid else "CONFIG_STATE_REJECTED",
        config_error=v.config_error,
        version=v.version,
        last_modified=ts_to_pb(v.last_modified),
        placement="PLACEMENT_STATE_PENDING" if v.pending_reason else "PLACEMENT_STATE_PLACED",
        placement_reason=v.pending_reason,
        host=v.host or "",
        port=v.port or 0,
        worker=worker_to_pb(v.worker) if v.worker else None,
        breaker=enum_to_pb("BREAKER_STATE", v.breaker),
    )


class AdminEndpoint(WorkspaceRpcs, StateRpcs, AgentRpcs, EdgeRpcs):
    """Trio servicer for mcpfleet.v1.AdminService."""

    def __init__(self, coordinator: Coordinator) -> None:
        self.coordinator = coordinator

    def binding(self) -> ServiceBinding:
        return ServiceBinding(
            admin_pb2_grpc.add_AdminServiceServicer_to_server, "mcpfleet.v1.AdminService", self
        )

    async def ListWorkspaces(  # noqa: N802 (gRPC name)
        self, request: admin_pb2.ListWorkspacesRequest, ctx: CallContext
    ) -> admin_pb2.ListWorkspacesResponse:
        views = self.coordinator.state.views()
        return admin_pb2.ListWorkspacesResponse(workspaces=[summary_to_pb(v) for v in views])
