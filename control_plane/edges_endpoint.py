"""AdminService RPCs about edges and their client connections (`mcpfleet edges list`,
`mcpfleet state show connections`)."""

from __future__ import annotations

from control_plane.coordinator import Coordinator
from mcpfleet.rpc import CallContext
from mcpfleet.v1 import admin_pb2


class EdgeRpcs:
    """Mixin of AdminEndpoint: ListEdges."""

    coordinator: Coordinator

    async def ListEdges(  # noqa: N802 (gRPC name)
        self, request: admin_pb2.ListEdgesRequest, ctx: CallContext
    ) -> admin_pb2.ListEdgesResponse:
        registry = self.coordinator.edges
        edges = [admin_pb2.EdgeSummary(edge_id=e["edgeId"], public_address=e["publicAddress"],
                                       admin_address=e["adminAddress"], version=e["version"],
                                       connections=e["connections"], connected_at=e["connectedAt"])
                 for e in registry.edges_json()]
        conns = [admin_pb2.EdgeConnection(edge_id=c.edge_id, session_id_prefix=c.session, workspace=c.workspace,
                                          transport=c.transport, client_name=c.client_name,
                                          connected_at=c.connected_at)
                 for c in registry.connections()] if request.connections else []
        return admin_pb2.ListEdgesResponse(edges=edges, connections=conns)
