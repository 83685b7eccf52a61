"""gRPC RoutingService: edges ask where a workspace runs."""

from __future__ import annotations

from control_plane.coordinator import Coordinator
from mcpfleet.convert import route_to_pb
from mcpfleet.rpc import CallContext, ServiceBinding
from mcpfleet.v1 import routing_pb2, routing_pb2_grpc


class RoutingEndpoint:
    """Trio servicer for mcpfleet.v1.RoutingService."""

    def __init__(self, coordinator: Coordinator) -> None:
        self.coordinator = coordinator

    def binding(self) -> ServiceBinding:
        return ServiceBinding(
            routing_pb2_grpc.add_RoutingServiceServicer_to_server, "mcpfleet.v1.RoutingService", self
        )

    async def Resolve(  # noqa: N802 (gRPC name)
        self, request: routing_pb2.ResolveRequest, ctx: CallContext
    ) -> routing_pb2.ResolveResponse:
        """NOT_FOUND (errors.NotFound) for a workspace that is not configured."""
        route = self.coordinator.state.route(request.workspace)
        return routing_pb2.ResolveResponse(route=route_to_pb(route))
